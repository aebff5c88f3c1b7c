"""U-Net skip connections: copy, crop and concatenate along channels, against residual addition.

    U-Net:   y = conv([up(d) ; crop(e)])     channels C_d + C_e, spatial sizes must match
    ResNet:  y = x + F(x)                    shapes must match exactly, channels unchanged

Sources: Ronneberger, Fischer & Brox (2015), U-Net: Convolutional Networks for
Biomedical Image Segmentation, MICCAI, sec. 2 and Fig. 1 (3x3 unpadded convolutions,
2x2 max pooling, 2x2 up-convolution halving the channels, "copy and crop",
concatenation, a final 1x1 convolution; a 572x572 input gives a 388x388 map);
He, Zhang, Ren & Sun (2016), Deep Residual Learning for Image Recognition, eq. 1.
Layout (N, C, H, W) as in PyTorch (``torch.cat([up, skip], dim=1)``).
"""

from __future__ import annotations

import numpy as np
from convolution import conv2d

from studylog.demo import api as out


def center_crop(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """The central (height, width) window of x (N, C, H, W): U-Net's "crop" of the copied map.

    Raises:
        ValueError: if the window is larger than x or the margins cannot be split evenly.
    """
    H, W = x.shape[-2:]
    if height > H or width > W or (H - height) % 2 or (W - width) % 2:
        raise ValueError(f"cannot center-crop {H}x{W} to {height}x{width}")
    top, left = (H - height) // 2, (W - width) // 2
    return x[..., top : top + height, left : left + width]


def concat_skip(up: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """U-Net's skip: crop ``skip`` (N, C_e, H_e, W_e) to up's size and stack it after ``up``.

    up (N, C_d, H, W) -> (N, C_d + C_e, H, W); the channel axis is 1, as in
    ``torch.cat([up, crop(skip)], dim=1)``.

    Raises:
        ValueError: if the batch sizes differ or skip is smaller than up.
    """
    if up.shape[0] != skip.shape[0]:
        raise ValueError(f"batch sizes differ: {up.shape[0]} and {skip.shape[0]}")
    return np.concatenate([up, center_crop(skip, *up.shape[-2:])], axis=1)


def concat_skip_backward(
    dout: np.ndarray, up_channels: int, skip_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of :func:`concat_skip`: dout (N, C_d + C_e, H, W) -> (d_up, d_skip).

    Concatenation backward is slicing: the first C_d channels go to ``up``, the rest to
    the skip, unchanged. The skip's cropped-away border gets gradient 0.
    """
    d_up = dout[:, :up_channels]
    d_skip = np.zeros(skip_shape, dtype=dout.dtype)
    H, W = dout.shape[-2:]
    top, left = (skip_shape[-2] - H) // 2, (skip_shape[-1] - W) // 2
    d_skip[..., top : top + H, left : left + W] = dout[:, up_channels:]
    return d_up, d_skip


def residual_add(x: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """ResNet's skip, x + F(x); the two must have exactly the same shape (no broadcasting)."""
    if x.shape != fx.shape:
        raise ValueError(f"residual addition needs equal shapes, got {x.shape} and {fx.shape}")
    return x + fx


def max_pool2(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling with stride 2: (N, C, H, W) -> (N, C, H/2, W/2) (H, W even)."""
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def upsample2(x: np.ndarray) -> np.ndarray:
    """Nearest-neighbour upsampling by 2 (a fixed stand-in for U-Net's learned 2x2 up-conv)."""
    return x.repeat(2, axis=2).repeat(2, axis=3)


def unet_shapes(size: int = 572, depth: int = 4, base: int = 64, classes: int = 2) -> list[list]:
    """Feature-map sizes of the original U-Net (Fig. 1), stage by stage.

    Each level: two 3x3 unpadded convolutions (-2 pixels each), then 2x2 max pooling
    (/2). Going up: a 2x2 up-convolution (x2 size, half the channels), the copied
    encoder map center-cropped to that size and concatenated (channels add up), and two
    3x3 convolutions. Returns rows [stage, channels, height = width].
    """
    rows, skips = [], []
    s, c = size, 1
    rows.append(["input", c, s])
    for level in range(depth + 1):
        c = base * 2**level
        s -= 4
        rows.append([f"down {level}: 2 x conv3x3", c, s])
        if level < depth:
            skips.append((c, s))
            s //= 2
            rows.append([f"down {level}: max pool 2x2", c, s])
    for level in reversed(range(depth)):
        c_skip, s_skip = skips[level]
        s, c = s * 2, c // 2
        rows.append([f"up {level}: up-conv 2x2", c, s])
        rows.append([f"up {level}: crop copy {s_skip} -> {s}, concat", c + c_skip, s])
        s, c = s - 4, c_skip
        rows.append([f"up {level}: 2 x conv3x3", c, s])
    rows.append(["output: conv1x1", classes, s])
    return rows


def fit_readout(features: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares 1x1 convolution from features (1, C, H, W) to a map (H, W).

    Returns (weight (1, C, 1, 1), bias (1,)): the best per-pixel linear readout, fitted in
    closed form (a stand-in for training the decoder's last layer).
    """
    C = features.shape[1]
    A = np.concatenate([features[0].reshape(C, -1).T, np.ones((target.size, 1))], axis=1)
    coef, *_ = np.linalg.lstsq(A, target.reshape(-1), rcond=None)
    return coef[:C].reshape(1, C, 1, 1), coef[C:]


def toy_mask(size: int = 16) -> np.ndarray:
    """A 'segmentation' target with detail finer than the pooled grid: a thin diagonal band."""
    i, j = np.indices((size, size))
    return ((np.abs(i - j) <= 1) | ((i - 11) ** 2 + (j - 4) ** 2 <= 5)).astype(float)


def demo() -> None:
    out.table(
        "the original U-Net (Ronneberger et al. 2015, Fig. 1): channels and size per stage",
        columns=["stage", "channels", "height = width"],
        rows=unet_shapes(),
    )
    out.text(
        "At every 'concat' the channels add up (e.g. 64 up-sampled + 64 copied = 128), and the "
        "copied map must first be cropped, because unpadded 3x3 convolutions shrank the encoder "
        "maps more than the decoder's. A residual addition could not do this: it needs equal "
        "shapes and keeps the channel count."
    )

    # Why copy? Pooling throws away where exactly things were; the skip brings it back.
    target = toy_mask()
    x = target[None, None]  # the encoder's full-resolution feature (here: the image itself)
    coarse = upsample2(upsample2(max_pool2(max_pool2(x))))  # what reaches the decoder without skips
    rows = []
    preds = {}
    for name, feats in (
        ("decoder input only (no skip)", coarse),
        ("concat [decoder ; skip] (U-Net)", concat_skip(coarse, x)),
    ):
        w, b = fit_readout(feats, target)
        pred = conv2d(feats, w, b)[0, 0] > 0.5
        preds[name] = pred
        rows.append(
            [name, feats.shape[1], f"{np.mean(pred == target):.1%}", int(np.sum(pred != target))]
        )
    out.table(
        "a 16x16 mask through two 2x2 poolings and back, then the best 1x1 readout",
        columns=["decoder sees", "channels", "pixel accuracy", "wrong pixels"],
        rows=rows,
    )
    labels = [str(j) for j in range(16)]
    out.heatmap("target mask", target, x_labels=labels, y_labels=labels)
    out.heatmap(
        "prediction without the skip: blocks of 4x4",
        preds["decoder input only (no skip)"].astype(float),
        x_labels=labels,
        y_labels=labels,
    )

    # Addition is a special case of concatenation: a fixed 1x1 conv with weights [I | I].
    rng = np.random.default_rng(0)
    u, e = rng.normal(size=(1, 3, 4, 4)), rng.normal(size=(1, 3, 4, 4))
    ident = np.concatenate([np.eye(3), np.eye(3)], axis=1)[:, :, None, None]  # (3, 6, 1, 1)
    same = bool(np.allclose(conv2d(concat_skip(u, e), ident), residual_add(u, e)))
    out.value("conv1x1 with weights [I | I] after concat equals u + e", same)
    out.text(
        "After a concatenation the next convolution learns how to weigh decoder and encoder "
        "channels; addition fixes those weights to [I | I]. Backward, both pass the gradient "
        "straight through: addition copies it to both inputs, concatenation splits it by channel."
    )
