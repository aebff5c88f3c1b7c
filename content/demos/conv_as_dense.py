"""A convolution whose kernel covers the whole input is a dense (fully connected) layer.

A (C, H, W) input and FN filters of shape (C, H, W) give an output of shape
(FN, 1, 1): each filter takes one dot product with the whole input, exactly like
one column of an Affine layer's weight. For 4x4x16 -> 10 both have 4*4*16*10 =
2,560 weights (2,570 with the 10 biases).

Sources: 밑바닥부터 시작하는 딥러닝 1, ch. 7.2-7.4 (합성곱 계층, im2col) and ch. 5.6 (Affine
계층); Long, Shelhamer & Darrell (2015), Fully Convolutional Networks for Semantic
Segmentation, sec. 3.1 ("convolutionalization" of fully connected layers);
Sermanet et al. (2014), OverFeat, sec. 3.5.
"""

from __future__ import annotations

import numpy as np


def im2col(x: np.ndarray, fh: int, fw: int, stride: int = 1) -> np.ndarray:
    """Unfold every filter-sized window of x (N, C, H, W) into one row (no padding).

    Returns (N * out_h * out_w, C * fh * fw), rows ordered (n, out_y, out_x) and
    columns in (C, fh, fw) order, as in 밑바닥1 ch. 7.4.3 (e.g. (1, 3, 7, 7) with a 5x5
    filter gives (9, 75)).
    """
    N, C, H, W = x.shape
    out_h, out_w = (H - fh) // stride + 1, (W - fw) // stride + 1
    cols = np.zeros((N, out_h, out_w, C, fh, fw), dtype=x.dtype)
    for y in range(out_h):
        for xx in range(out_w):
            cols[:, y, xx] = x[:, :, y * stride : y * stride + fh, xx * stride : xx * stride + fw]
    return cols.reshape(N * out_h * out_w, C * fh * fw)


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1) -> np.ndarray:
    """Convolution (cross-correlation) via im2col: x (N, C, H, W), weight (FN, C, FH, FW),
    bias (FN,) -> (N, FN, out_h, out_w)."""
    N, _, H, W = x.shape
    FN, _, FH, FW = weight.shape
    out_h, out_w = (H - FH) // stride + 1, (W - FW) // stride + 1
    col = im2col(x, FH, FW, stride)  # (N*out_h*out_w, C*FH*FW)
    out = col @ weight.reshape(FN, -1).T + bias  # one dot product per window and filter
    return out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)


def dense(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Affine layer of 밑바닥1 (ch. 5.6.2): x (N, ...) is flattened to (N, D); weight (D, out)."""
    return x.reshape(x.shape[0], -1) @ weight + bias


def conv_weight_as_dense(weight: np.ndarray) -> np.ndarray:
    """(FN, C, H, W) filters -> the (C*H*W, FN) weight of the equivalent dense layer.

    The flatten order (C, H, W) must match how the dense layer flattens its input
    (x.reshape(N, -1) on NCHW data).
    """
    return weight.reshape(weight.shape[0], -1).T


def dense_weight_as_conv(weight: np.ndarray, c: int, h: int, w: int) -> np.ndarray:
    """(C*H*W, FN) dense weight -> (FN, C, H, W) filters: "convolutionalize" an FC layer."""
    return weight.T.reshape(-1, c, h, w)


def param_count(*arrays: np.ndarray) -> int:
    """Total number of entries of the given parameter arrays."""
    return int(sum(a.size for a in arrays))


def demo() -> None:
    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    C, H, W, FN = 16, 4, 4, 10
    x = rng.standard_normal((2, C, H, W))
    weight = rng.standard_normal((FN, C, H, W)) / np.sqrt(C * H * W)
    bias = 0.1 * rng.standard_normal(FN)

    conv_out = conv2d(x, weight, bias)  # (2, 10, 1, 1)
    dense_out = dense(x, conv_weight_as_dense(weight), bias)  # (2, 10)
    out.text(
        "A 4x4x16 input and 10 filters of size 4x4x16: each filter fits exactly once, so the "
        "output is 1x1x10, one dot product of the whole input per filter, like a dense layer."
    )
    out.table(
        "shapes",
        columns=["layer", "input", "weight", "output"],
        rows=[
            ["conv (kernel = input size)", str(x.shape), str(weight.shape), str(conv_out.shape)],
            [
                "dense (Affine)",
                str((2, C * H * W)),
                str(conv_weight_as_dense(weight).shape),
                str(dense_out.shape),
            ],
        ],
    )
    classes = [f"c{k}" for k in range(FN)]
    out.array(
        "conv output (reshaped to (N, 10))",
        conv_out.reshape(2, FN).round(4),
        rows=["x0", "x1"],
        cols=classes,
    )
    out.array("dense output", dense_out.round(4), rows=["x0", "x1"], cols=classes)
    out.value("max |conv - dense|", float(np.abs(conv_out.reshape(2, FN) - dense_out).max()))
    out.table(
        "parameters of a 4x4x16 -> 10 layer",
        columns=["", "conv", "dense", "formula"],
        rows=[
            [
                "weights",
                param_count(weight),
                param_count(conv_weight_as_dense(weight)),
                "4*4*16*10",
            ],
            ["biases", param_count(bias), param_count(bias), "10"],
            [
                "total",
                param_count(weight, bias),
                param_count(conv_weight_as_dense(weight), bias),
                "2560 + 10",
            ],
        ],
    )

    # The payoff: the same filters slide over a larger input.
    big = rng.standard_normal((1, C, 6, 6))
    score_map = conv2d(big, weight, bias)  # (1, 10, 3, 3)
    crops = np.array(
        [
            [
                dense(big[:, :, i : i + 4, j : j + 4], conv_weight_as_dense(weight), bias)[0]
                for j in range(3)
            ]
            for i in range(3)
        ]
    )  # (3, 3, 10)
    out.heatmap(
        "6x6x16 input: the 'dense' layer as a conv gives a 3x3 map of scores (class c0)",
        score_map[0, 0].round(3),
        x_labels=["x0", "x1", "x2"],
        y_labels=["y0", "y1", "y2"],
        x_title="window position",
        y_title="window position",
    )
    out.value(
        "max |score map - dense applied to each 4x4 crop|",
        float(np.abs(score_map[0].transpose(1, 2, 0) - crops).max()),
    )
    out.text(
        "Written as a convolution, the classifier accepts a larger input and evaluates all "
        "nine 4x4 windows in one pass, sharing the computation: the fully convolutional "
        "trick of OverFeat and FCN."
    )
