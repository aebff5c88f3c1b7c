"""Scaled dot-product attention, forward and backward, in NumPy.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Source: Vaswani et al. (2017), Attention Is All You Need, section 3.2.1, eq. 1
and footnote 4 (why divide by sqrt(d_k)); 밑바닥부터 시작하는 딥러닝 2, ch. 8.1
(the same weighted sum, without the scaling, in the seq2seq attention layer).
"""

from __future__ import annotations

import numpy as np
from common import softmax


def scaled_dot_product_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """softmax(Q K^T / sqrt(d_k)) V  (Vaswani et al. 2017, eq. 1).

    Args:
        q: queries, shape (..., L, d_k).
        k: keys, shape (..., S, d_k).
        v: values, shape (..., S, d_v).
        mask: optional boolean array broadcastable to (..., L, S); True means
            "blocked": query i may not look at key j, the convention of a
            boolean ``attn_mask`` in ``torch.nn.MultiheadAttention`` (and of its
            ``key_padding_mask``). ``torch.nn.functional.scaled_dot_product_attention``
            uses the opposite one: there True means "may attend", so pass it
            ``~mask``. Blocked scores become -inf, so their weights are exactly 0.
            A row with every key blocked has no valid softmax: here, as in
            ``nn.MultiheadAttention``, its weights and output are NaN, while
            ``F.scaled_dot_product_attention`` (PyTorch >= 2.5) returns zeros
            for such a row.

    Returns:
        output: shape (..., L, d_v), each row a weighted average of value rows.
        weights: shape (..., L, S), the attention weights; each row sums to 1.
    """
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)  # (..., L, S)
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def scaled_dot_product_attention_backward(
    dout: np.ndarray,
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a scalar loss with respect to q, k and v.

    Args:
        dout: dLoss/d output, shape (..., L, d_v).
        q, k, v: the forward inputs.
        weights: the attention weights returned by the forward pass (..., L, S).
            Masked positions have weight 0, so no gradient flows to them.

    Returns:
        dq (..., L, d_k), dk (..., S, d_k), dv (..., S, d_v).
    """
    d_k = q.shape[-1]
    # out = W V  ->  dW = dout V^T,  dV = W^T dout  (the MatMul layer, 밑바닥 2 ch. 1.3)
    dweights = dout @ np.swapaxes(v, -1, -2)
    dv = np.swapaxes(weights, -1, -2) @ dout
    # Softmax backward, row by row: dS = W * (dW - sum(dW * W))
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    dscores = dscores / np.sqrt(d_k)
    dq = dscores @ k
    dk = np.swapaxes(dscores, -1, -2) @ q
    return dq, dk, dv


def softmax_jacobian_norm(p: np.ndarray) -> np.ndarray:
    """Frobenius norm of the softmax Jacobian diag(p) - p p^T for each row of p.

    It measures how much gradient can pass back through the softmax: it is
    largest for a uniform p and goes to 0 when p becomes one-hot (saturation).
    p has shape (..., S); the result has shape (...).
    """
    jac = p[..., :, None] * np.eye(p.shape[-1]) - p[..., :, None] * p[..., None, :]
    return np.sqrt(np.sum(jac**2, axis=(-2, -1)))


def saturation_stats(
    d_k: int, n_keys: int = 8, n_samples: int = 400, seed: int = 0
) -> dict[str, float]:
    """Softmax saturation for random q, k with independent N(0, 1) components.

    q . k then has mean 0 and variance d_k (Vaswani et al. 2017, footnote 4),
    so unscaled scores spread out as d_k grows and softmax turns one-hot.

    Returns:
        the standard deviation of the raw scores q . k, and, with and without
        the 1/sqrt(d_k) scaling, the mean largest weight and the mean Frobenius
        norm of the softmax Jacobian over ``n_samples`` queries.
    """
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, 1, d_k))
    k = rng.standard_normal((n_samples, n_keys, d_k))
    raw = (q @ np.swapaxes(k, -1, -2))[:, 0, :]  # (n_samples, n_keys)
    p_raw = softmax(raw)
    p_scaled = softmax(raw / np.sqrt(d_k))
    return {
        "score_std": float(raw.std()),
        "max_weight_raw": float(p_raw.max(axis=-1).mean()),
        "max_weight_scaled": float(p_scaled.max(axis=-1).mean()),
        "grad_norm_raw": float(softmax_jacobian_norm(p_raw).mean()),
        "grad_norm_scaled": float(softmax_jacobian_norm(p_scaled).mean()),
    }


def demo() -> None:
    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    tokens = ["나는", "고양이를", "좋아해"]
    d_k, d_v = 4, 3
    q = rng.standard_normal((3, d_k)).round(1)
    k = rng.standard_normal((3, d_k)).round(1)
    v = rng.standard_normal((3, d_v)).round(1)
    dims = [f"d{i}" for i in range(d_k)]
    out.text("Three tokens, each with a query, a key (d_k = 4) and a value (d_v = 3).")
    out.array("Q (L, d_k)", q, rows=tokens, cols=dims)
    out.array("K (S, d_k)", k, rows=tokens, cols=dims)
    out.array("V (S, d_v)", v, rows=tokens, cols=[f"v{i}" for i in range(d_v)])

    scores = q @ k.T
    out.array(
        "Q K^T: raw scores (query row, key column)", scores.round(3), rows=tokens, cols=tokens
    )
    out.array(
        f"Q K^T / sqrt(d_k) = Q K^T / {np.sqrt(d_k):g}",
        (scores / np.sqrt(d_k)).round(3),
        rows=tokens,
        cols=tokens,
    )
    output, weights = scaled_dot_product_attention(q, k, v)
    out.heatmap(
        "attention weights softmax(Q K^T / sqrt(d_k))",
        weights.round(3),
        x_labels=tokens,
        y_labels=tokens,
        x_title="key",
        y_title="query",
    )
    out.array(
        "output = weights @ V (L, d_v)",
        output.round(3),
        rows=tokens,
        cols=[f"v{i}" for i in range(d_v)],
    )

    out.text(
        "Why divide by sqrt(d_k)? With N(0, 1) entries, q . k is a sum of d_k terms, so its "
        "standard deviation is sqrt(d_k). Large scores push softmax to one-hot, and then its "
        "Jacobian diag(p) - p p^T (the gradient that reaches Q and K) is close to zero. "
        "8 keys, 400 random queries per row (means):"
    )
    sizes = [4, 16, 64, 256, 1024]
    stats = [saturation_stats(d, n_keys=8, n_samples=400, seed=0) for d in sizes]
    out.table(
        "softmax saturation: unscaled vs scaled scores",
        columns=["d_k", "std(q.k)", "max weight raw", "max weight scaled", "|J| raw", "|J| scaled"],
        rows=[
            [
                d,
                round(s["score_std"], 2),
                round(s["max_weight_raw"], 3),
                round(s["max_weight_scaled"], 3),
                round(s["grad_norm_raw"], 4),
                round(s["grad_norm_scaled"], 4),
            ]
            for d, s in zip(sizes, stats, strict=True)
        ],
    )
    out.line(
        "mean softmax Jacobian norm vs d_k",
        x=sizes,
        series={
            "raw q.k": [s["grad_norm_raw"] for s in stats],
            "q.k / sqrt(d_k)": [s["grad_norm_scaled"] for s in stats],
        },
        x_title="d_k",
        y_title="|diag(p) - p p^T|_F",
        log_y=True,
    )
    out.text(
        "With scaling, the score spread, the largest weight and the gradient stay the same "
        "for every d_k; without it, softmax saturates and the gradient shrinks."
    )
