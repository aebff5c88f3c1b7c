"""2-D convolution (합성곱) in PyTorch's layout: forward, backward and the output size.

    out[n, f, i, j] = bias[f] + sum_{c, k, l} weight[f, c, k, l] * xpad[n, c, i*S + k, j*S + l]

x (N, C, H, W), weight (F, C, KH, KW), bias (F,), out (N, F, OH, OW) with
OH = floor((H + 2P - KH) / S) + 1 (and the same for W). Like ``torch.nn.functional.conv2d``
(and every deep-learning "convolution") this is a cross-correlation: the kernel is not
flipped. Sources: 밑바닥부터 시작하는 딥러닝 1, ch. 7.2 (합성곱 계층: padding, stride, eq. 7.1
for the output size, 3-D data) and 7.4 (im2col); Goodfellow, Bengio & Courville (2016),
Deep Learning, ch. 9.1-9.2 (eq. 9.6, cross-correlation; sparse interactions and
parameter sharing); Dumoulin & Visin (2016), A guide to convolution arithmetic for deep
learning, relationship 6; PyTorch documentation, torch.nn.Conv2d (shape formula).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from studylog.demo import api as out


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2 or any(not isinstance(p, int | np.integer) for p in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """floor((size + 2 padding - kernel) / stride) + 1 (밑바닥1 eq. 7.1; PyTorch's Conv2d formula).

    Raises:
        ValueError: if the kernel does not fit in the padded input (the result would be < 1).
    """
    if stride < 1 or padding < 0:
        raise ValueError(f"stride must be >= 1 and padding >= 0, got {stride} and {padding}")
    if size + 2 * padding < kernel:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size + 2 * padding}")
    return (size + 2 * padding - kernel) // stride + 1


def _windows(
    x: np.ndarray, kh: int, kw: int, stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """All receptive fields, (N, C, OH, OW, KH, KW): a view, nothing is copied but the padding."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """2-D convolution (cross-correlation) as ``torch.nn.functional.conv2d``.

    Args:
        x: input, (N, C, H, W) float.
        weight: filters, (F, C, KH, KW): F output channels, each with one KH x KW kernel
            per input channel; the same weights slide over every position (weight sharing).
        bias: optional (F,), added to every position of output channel f.
        stride: step between receptive fields (int or (SH, SW)).
        padding: zeros added on each side of H and W (int or (PH, PW)).

    Returns:
        (N, F, OH, OW) with OH = floor((H + 2 PH - KH) / SH) + 1 and OW likewise.

    Raises:
        ValueError: if x is not 4-D, the channel counts differ, or the kernel does not fit.
    """
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"x must be (N, C, H, W) and weight (F, C, KH, KW), got {x.shape} and {weight.shape}"
        )
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but weight expects {weight.shape[1]}")
    s, p = _pair(stride, "stride"), _pair(padding, "padding")
    F, _, kh, kw = weight.shape
    conv_output_size(x.shape[2], kh, s[0], p[0])  # raises if it does not fit
    conv_output_size(x.shape[3], kw, s[1], p[1])
    win = _windows(x, kh, kw, s, p)
    y = np.einsum("ncijkl,fckl->nfij", win, weight, optimize=True)
    if bias is not None:
        y = y + bias[None, :, None, None]
    return y


def conv2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a scalar loss through :func:`conv2d`: (dx, dweight, dbias).

    Args:
        dout: dL/d out, (N, F, OH, OW).
        x, weight, stride, padding: as in the forward call.

    Returns:
        dx (N, C, H, W): every output position sends dout * weight back to the inputs of its
        receptive field (overlapping fields add up); dweight (F, C, KH, KW): the sum over all
        positions and samples of dout * input window, because the weights are shared;
        dbias (F,): dout summed over N, OH and OW.
    """
    s, p = _pair(stride, "stride"), _pair(padding, "padding")
    F, C, kh, kw = weight.shape
    N, _, H, W = x.shape
    win = _windows(x, kh, kw, s, p)
    OH, OW = win.shape[2], win.shape[3]
    dweight = np.einsum("ncijkl,nfij->fckl", win, dout, optimize=True)
    dbias = dout.sum(axis=(0, 2, 3))
    dwin = np.einsum("nfij,fckl->ncijkl", dout, weight, optimize=True)
    dxp = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]), dtype=np.result_type(dout, weight))
    for k in range(kh):  # scatter-add each kernel offset back (col2im, 밑바닥1 7.4.3)
        for l in range(kw):
            dxp[:, :, k : k + s[0] * OH : s[0], l : l + s[1] * OW : s[1]] += dwin[..., k, l]
    dx = dxp[:, :, p[0] : p[0] + H, p[1] : p[1] + W]
    return dx, dweight, dbias


def param_count(
    in_channels: int, out_channels: int, kernel: int | tuple[int, int], bias: bool = True
) -> int:
    """Parameters of a Conv2d layer: F * C * KH * KW weights plus F biases."""
    kh, kw = _pair(kernel, "kernel")
    return out_channels * in_channels * kh * kw + (out_channels if bias else 0)


def demo() -> None:
    out.text(
        "Output size: OH = floor((H + 2P - K) / S) + 1. The same formula gives every "
        "shape in a CNN; the rows below are published architectures."
    )
    cases = [
        ("LeNet-5 C1", 32, 5, 1, 0),
        ("'same' padding, 3x3", 32, 3, 1, 1),
        ("stride 2 halves", 32, 3, 2, 1),
        ("AlexNet conv1", 227, 11, 4, 0),
        ("ResNet stem (7x7, s2, p3)", 224, 7, 2, 3),
        ("ViT patch embedding (16x16, s16)", 224, 16, 16, 0),
    ]
    out.table(
        "conv output sizes",
        columns=["layer", "H", "K", "S", "P", "OH"],
        rows=[[name, h, k, s, p, conv_output_size(h, k, s, p)] for name, h, k, s, p in cases],
    )

    # A vertical-edge detector: the same 3x3 kernel slides over the whole image.
    img = np.zeros((1, 1, 8, 8))
    img[0, 0, 2:6, 2:6] = 1.0  # a bright square
    sobel_x = np.array(
        [[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]]]
    )  # (F=1, C=1, 3, 3)
    edges = conv2d(img, sobel_x, padding=1)
    cols = [str(j) for j in range(8)]
    out.heatmap(
        "input image (1, 1, 8, 8): a bright square", img[0, 0], x_labels=cols, y_labels=cols
    )
    out.heatmap(
        "conv2d with a Sobel x-kernel, padding 1: +4 on the left edge, -4 on the right",
        edges[0, 0],
        x_labels=cols,
        y_labels=cols,
    )
    shifted = conv2d(np.roll(img, 1, axis=3), sobel_x, padding=1)
    same = bool(np.allclose(shifted[0, 0, :, 1:], edges[0, 0, :, :-1]))
    out.value("shift the image one pixel right: the output shifts one pixel right too", same)

    C, F, K, H = 3, 8, 5, 32
    conv_params = param_count(C, F, K)
    dense_params = (C * H * H) * (F * H * H) + F * H * H
    out.table(
        f"weight sharing: {C}x{H}x{H} in, {F}x{H}x{H} out (5x5 kernel, padding 2)",
        columns=["layer", "parameters", "formula"],
        rows=[
            ["Conv2d", conv_params, "F·C·K·K + F = 8·3·25 + 8"],
            [
                "a dense layer with the same in/out sizes",
                dense_params,
                "(3·32·32)·(8·32·32) + 8·32·32",
            ],
            ["ratio", round(dense_params / conv_params), ""],
        ],
    )
    out.text(
        "Each output value sees only a 5x5x3 window (sparse connections), and all 32x32 "
        "positions share the same 8 filters (weight sharing). Shifting the input shifts the "
        "output (translation equivariance). Unlike the convolution of signal processing, the "
        "kernel is not flipped: deep-learning libraries compute a cross-correlation."
    )
