"""ViT input: image -> patches -> linear projection, [CLS] token, position embeddings, pooling.

    z_0 = [x_class; x_p^1 E; x_p^2 E; ...; x_p^N E] + E_pos      (Dosovitskiy et al. 2020, eq. 1)

E is a (P*P*C, D) matrix; applying it to every flattened P x P patch is the same as
a convolution with kernel size = stride = P and D output channels, which is how
ViT code implements it (nn.Conv2d(C, D, kernel_size=P, stride=P)).

Source: Dosovitskiy et al. (2020), An Image is Worth 16x16 Words, sec. 3.1, eq. 1
and eq. 4 (y = LN(z_L^0), the [class] token output); appendix D.3 (class token vs
global average pooling).
"""

from __future__ import annotations

import numpy as np


def image_to_patches(images: np.ndarray, patch_size: int) -> np.ndarray:
    """Cut images into non-overlapping P x P patches and flatten each one.

    Args:
        images: (N, C, H, W); H and W must be multiples of P.
        patch_size: P.

    Returns:
        (N, (H/P) * (W/P), C * P * P): patches in row-major order (left to right,
        then top to bottom); each patch flattened in (C, P, P) order, the order of a
        convolution weight of shape (D, C, P, P).
    """
    N, C, H, W = images.shape
    P = patch_size
    if H % P or W % P:
        raise ValueError(f"image size {H}x{W} is not a multiple of the patch size {P}")
    x = images.reshape(N, C, H // P, P, W // P, P)  # split both spatial axes
    x = x.transpose(0, 2, 4, 1, 3, 5)  # (N, rows, cols, C, P, P)
    return x.reshape(N, (H // P) * (W // P), C * P * P)


def patch_embedding(images: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Linear projection of flattened patches: x_p^i E + b.

    Args:
        images: (N, C, H, W).
        weight: (D, C, P, P), a conv weight; flattened it is E^T of eq. 1.
        bias: (D,).

    Returns:
        (N, num_patches, D), equal to conv2d(images, weight, stride=P) flattened
        over the spatial positions.
    """
    D, C, P, _ = weight.shape
    patches = image_to_patches(images, P)  # (N, Np, C*P*P)
    return patches @ weight.reshape(D, C * P * P).T + bias


def embed(
    images: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    cls_token: np.ndarray,
    pos_embedding: np.ndarray,
) -> np.ndarray:
    """z_0 of eq. 1: prepend the learned [CLS] token and add learned position embeddings.

    cls_token (D,), pos_embedding (1 + num_patches, D). Returns (N, 1 + num_patches, D).
    """
    tokens = patch_embedding(images, weight, bias)
    N, _, D = tokens.shape
    cls = np.broadcast_to(cls_token, (N, 1, D))
    return np.concatenate([cls, tokens], axis=1) + pos_embedding


def pool(tokens: np.ndarray, method: str = "cls") -> np.ndarray:
    """Token aggregation: (N, 1 + Np, D) -> (N, D).

    "cls": the output at the [CLS] position (ViT, eq. 4); "mean": global average of the
    patch tokens, the [CLS] position excluded (the GAP variant of ViT appendix D.3).
    """
    if method == "cls":
        return tokens[:, 0]
    if method == "mean":
        return tokens[:, 1:].mean(axis=1)
    raise ValueError(f"unknown pooling {method!r}")


def conv2d_stride_loop(
    images: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int
) -> np.ndarray:
    """Direct convolution (no padding), one output pixel at a time: (N, D, H_out, W_out)."""
    N, C, H, W = images.shape
    D, _, K, _ = weight.shape
    H_out, W_out = (H - K) // stride + 1, (W - K) // stride + 1
    result = np.zeros((N, D, H_out, W_out))
    for n in range(N):
        for d in range(D):
            for r in range(H_out):
                for c in range(W_out):
                    window = images[n, :, r * stride : r * stride + K, c * stride : c * stride + K]
                    result[n, d, r, c] = np.sum(window * weight[d]) + bias[d]
    return result


def projection_params(image_size: int, channels: int, patch: int, dim: int) -> dict[str, int]:
    """Token count and parameter count of the patch projection of a square image."""
    num = (image_size // patch) ** 2
    return {
        "patches": num,
        "tokens": num + 1,
        "patch_dim": patch * patch * channels,
        "params": patch * patch * channels * dim + dim,
    }


def demo() -> None:
    from multi_head_attention import multi_head_attention

    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    # A 9x9 one-channel "image": a bright diagonal stroke and a box.
    img = np.zeros((9, 9))
    img[np.arange(9), np.arange(9)] = 1.0
    img[1:4, 5:8] = 0.5
    images = img[None, None]  # (N=1, C=1, 9, 9)
    P, D = 3, 6
    out.heatmap("input image (1 x 9 x 9), patch size P = 3", img, x_title="x", y_title="y")

    patches = image_to_patches(images, P)
    names = [f"p({r},{c})" for r in range(3) for c in range(3)]
    out.array(
        "flattened patches x_p (9 patches, P*P*C = 9 values each)",
        patches[0],
        rows=names,
        cols=[f"v{j}" for j in range(9)],
    )

    weight = rng.standard_normal((D, 1, P, P)) / 3
    bias = 0.1 * rng.standard_normal(D)
    tokens = patch_embedding(images, weight, bias)
    conv = conv2d_stride_loop(images, weight, bias, stride=P)  # (1, D, 3, 3)
    conv_tokens = conv.reshape(1, D, 9).transpose(0, 2, 1)
    out.array(
        "patch embeddings x_p E + b (9, D = 6)",
        tokens[0].round(3),
        rows=names,
        cols=[f"d{j}" for j in range(D)],
    )
    out.value(
        "max |linear projection - Conv2d(kernel = stride = 3)|",
        float(np.abs(tokens - conv_tokens).max()),
    )

    cls_token = 0.02 * rng.standard_normal(D)
    pos = 0.5 * rng.standard_normal((10, D))
    z0 = embed(images, weight, bias, cls_token, pos)
    out.heatmap(
        "z_0 = [x_class; x_p E] + E_pos (10 tokens x D)",
        z0[0].round(3),
        x_labels=[f"d{j}" for j in range(D)],
        y_labels=["[CLS]", *names],
        x_title="feature",
        y_title="token",
    )

    rows = []
    for name, size, patch, dim in (
        ("ViT-B/16", 224, 16, 768),
        ("ViT-B/32", 224, 32, 768),
        ("ViT-L/16", 224, 16, 1024),
        ("this demo", 9, 3, 6),
    ):
        c = 3 if name != "this demo" else 1
        prm = projection_params(size, c, patch, dim)
        rows.append(
            [
                name,
                f"{size}x{size}x{c}",
                patch,
                prm["patches"],
                prm["tokens"],
                prm["patch_dim"],
                prm["params"],
            ]
        )
    out.table(
        "sequence length and projection size",
        columns=["model", "image", "P", "patches", "tokens (+CLS)", "P*P*C", "proj. params"],
        rows=rows,
    )

    # Aggregation after one self-attention layer.
    ap = {
        "in_proj_weight": rng.standard_normal((3 * D, D)) / np.sqrt(D),
        "in_proj_bias": np.zeros(3 * D),
        "out_proj_weight": rng.standard_normal((D, D)) / np.sqrt(D),
        "out_proj_bias": np.zeros(D),
    }
    z1, w = multi_head_attention(z0, z0, z0, 1, **ap)
    z1 = z0 + z1
    out.heatmap(
        "how the [CLS] query attends over all tokens (one attention layer)",
        w[0, 0, :1].round(3),
        x_labels=["[CLS]", *names],
        y_labels=["[CLS]"],
    )
    out.array(
        "pooled image vector",
        np.stack([pool(z1, "cls")[0], pool(z1, "mean")[0]]).round(3),
        rows=["[CLS] output", "mean of patch tokens"],
        cols=[f"d{j}" for j in range(D)],
    )

    # Shuffle the patches: without position embeddings the model cannot tell.
    perm = np.r_[0, 1 + rng.permutation(9)]
    table_rows = []
    for label, pos_used in (("without E_pos", np.zeros_like(pos)), ("with E_pos", pos)):
        z = embed(images, weight, bias, cls_token, pos_used)
        content = z - pos_used  # [CLS] and patch embeddings before positions are added
        shuffled = content[:, perm] + pos_used  # patches change places, positions stay
        a = z + multi_head_attention(z, z, z, 1, **ap)[0]
        b = shuffled + multi_head_attention(shuffled, shuffled, shuffled, 1, **ap)[0]
        table_rows.append(
            [
                label,
                float(np.abs(pool(a, "cls") - pool(b, "cls")).max()),
                float(np.abs(pool(a, "mean") - pool(b, "mean")).max()),
            ]
        )
    out.table(
        "shuffle the 9 patches: change of the pooled vector",
        columns=["input", "[CLS] pooling", "mean pooling"],
        rows=table_rows,
    )
    out.text(
        "Attention treats the tokens as a set: without position embeddings a shuffled image "
        "gives the same pooled vector (up to rounding). The [CLS] token starts as the same "
        "learned vector for every image and only collects image content through attention; "
        "mean pooling averages the patch outputs instead. ViT uses [CLS]; its appendix D.3 "
        "reports that global average pooling works as well once the learning rate is tuned."
    )
