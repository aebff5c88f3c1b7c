"""Layer normalization over the last axis, forward and backward, and a contrast with batch norm.

    y = (x - mean) / sqrt(var + eps) * weight + bias     (statistics per sample)

Source: Ba, Kiros & Hinton (2016), Layer Normalization, eqs. 3-4 (statistics
over the hidden units of one example); the layout and the biased variance follow
torch.nn.LayerNorm. Batch norm for contrast: Ioffe & Szegedy (2015), Algorithm 1;
밑바닥부터 시작하는 딥러닝 1, ch. 6.3.
"""

from __future__ import annotations

import numpy as np


def layer_norm(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """Normalize each vector x[..., :] to mean 0, variance 1, then scale and shift.

    Args:
        x: (..., D); every leading index (sample, token) is normalized on its own.
        weight, bias: (D,), the learned gain gamma and shift beta.
        eps: added to the variance (1e-5 as in torch.nn.LayerNorm).

    Returns:
        (..., D), same dtype as x. The variance is the biased one (divide by D).
    """
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)  # biased: mean((x - mean)^2)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return x_hat * weight + bias


def layer_norm_backward(
    dy: np.ndarray, x: np.ndarray, weight: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a scalar loss through layer_norm.

    Args:
        dy: dLoss/dy, shape (..., D).
        x, weight, eps: as in the forward pass (statistics are recomputed).

    Returns:
        dx (..., D), dweight (D,), dbias (D,).

    With x_hat = (x - mean) / sigma and g = dy * weight, the three paths (through
    x directly, through the mean, through the variance) combine to
        dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sigma
    where the means run over the last axis.
    """
    mean = x.mean(axis=-1, keepdims=True)
    sigma = np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - mean) / sigma
    lead = tuple(range(x.ndim - 1))
    dweight = np.sum(dy * x_hat, axis=lead)
    dbias = np.sum(dy, axis=lead)
    g = dy * weight
    dx = (
        g - g.mean(axis=-1, keepdims=True) - x_hat * np.mean(g * x_hat, axis=-1, keepdims=True)
    ) / sigma
    return dx, dweight, dbias


def batch_norm_train(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """Batch norm in training mode on (N, D): statistics per feature over the batch axis.

    Ioffe & Szegedy (2015), Algorithm 1. Shown only for contrast with layer_norm.
    """
    mean = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def demo() -> None:
    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    N, D = 4, 6
    # Samples on very different scales, as token vectors often are.
    scales = np.array([[0.5], [1.0], [3.0], [10.0]])
    x = rng.standard_normal((N, D)) * scales + rng.standard_normal((N, 1)) * 2
    w, b = np.ones(D), np.zeros(D)
    samples = [f"sample {i}" for i in range(N)]
    feats = [f"f{j}" for j in range(D)]
    out.array("x (N, D): 4 samples with different scales", x.round(3), rows=samples, cols=feats)

    y_ln = layer_norm(x, w, b)
    y_bn = batch_norm_train(x, w, b)
    out.heatmap(
        "layer norm output (each ROW normalized)",
        y_ln.round(3),
        x_labels=feats,
        y_labels=samples,
        x_title="feature",
        y_title="sample",
    )
    out.heatmap(
        "batch norm output (each COLUMN normalized)",
        y_bn.round(3),
        x_labels=feats,
        y_labels=samples,
        x_title="feature",
        y_title="sample",
    )
    stats_ln = np.stack([y_ln.mean(axis=1), y_ln.std(axis=1)]).round(6) + 0.0  # + 0.0: no -0.0
    stats_bn = np.stack([y_bn.mean(axis=0), y_bn.std(axis=0)]).round(6) + 0.0
    out.array(
        "layer norm: mean and std of each sample (row)",
        stats_ln,
        rows=["mean", "std"],
        cols=samples,
    )
    out.array(
        "batch norm: mean and std of each feature (column)",
        stats_bn,
        rows=["mean", "std"],
        cols=feats,
    )
    out.text(
        f"Sample 0 has a small spread (std {x[0].std():.3f}), so eps = 1e-5 in sqrt(var + eps) "
        f"is not negligible and its std after layer norm is {y_ln[0].std():.5f}, not 1."
    )

    # Change sample 3 only and see whether sample 0's output moves.
    x2 = x.copy()
    x2[3] = rng.standard_normal(D) * 50
    out.table(
        "does sample 0's output depend on the other samples in the batch?",
        columns=["method", "max |change of sample 0 output|", "same output at batch size 1?"],
        rows=[
            [
                "layer norm",
                float(np.abs(layer_norm(x2, w, b)[0] - y_ln[0]).max()),
                bool(np.allclose(layer_norm(x[:1], w, b), y_ln[:1])),
            ],
            [
                "batch norm (train)",
                round(float(np.abs(batch_norm_train(x2, w, b)[0] - y_bn[0]).max()), 4),
                bool(np.allclose(batch_norm_train(x[:1], w, b), y_bn[:1])),
            ],
        ],
    )
    out.text(
        "Layer norm uses only the sample's own features, so it behaves the same at batch "
        "size 1, at test time and for every token of a variable-length sequence; batch norm "
        "needs batch statistics (and running averages at test time). With batch size 1 batch "
        "norm outputs all zeros (each feature minus its own value)."
    )

    dy = rng.standard_normal((N, D))
    dx, dw, db = layer_norm_backward(dy, x, w)
    out.array("dx from layer_norm_backward (rows sum to 0)", dx.round(4), rows=samples, cols=feats)
    out.value("max |row sum of dx|", float(np.abs(dx.sum(axis=1)).max()))
    out.text(
        "Each row of dx sums to zero: adding a constant to a sample's features cannot change "
        "its normalized output, so the gradient has no component along (1, 1, ..., 1)."
    )
