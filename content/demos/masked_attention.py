"""Masked (causal) self-attention: position t may only look at positions 0..t.

Source: Vaswani et al. (2017), Attention Is All You Need, sec. 3.2.3 ("we mask
out (setting to -inf) all values in the input of the softmax which correspond
to illegal connections") and sec. 3.1 (the decoder's masked self-attention).
"""

from __future__ import annotations

import numpy as np
from scaled_dot_product_attention import scaled_dot_product_attention


def causal_mask(length: int) -> np.ndarray:
    """Boolean (length, length) mask, True above the diagonal = "future, blocked".

    Row t is the query at position t; column s is the key at position s; s > t
    is the future. Same convention as a boolean attn_mask in PyTorch and as
    torch.nn.Transformer.generate_square_subsequent_mask (which uses -inf for True).
    """
    return np.triu(np.ones((length, length), dtype=bool), k=1)


def causal_self_attention(
    x: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray, causal: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Single-head self-attention over a sequence, optionally causal.

    Args:
        x: (..., T, E) token vectors.
        w_q, w_k: (E, d_k) projections, used as x @ w (row vectors, as in 밑바닥2).
        w_v: (E, d_v).
        causal: if True, position t attends only to positions <= t.

    Returns:
        output (..., T, d_v) and weights (..., T, T); with causal=True every
        weight above the diagonal is exactly 0.
    """
    T = x.shape[-2]
    mask = causal_mask(T) if causal else None
    return scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v, mask=mask)


def demo() -> None:
    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    tokens = ["<s>", "나는", "고양이를", "정말", "좋아해"]
    T, E, d = len(tokens), 6, 4
    x = rng.standard_normal((T, E))
    w_q, w_k, w_v = (rng.standard_normal((E, d)) / np.sqrt(E) for _ in range(3))

    mask = causal_mask(T)
    out.text(
        "A decoder reads the whole target sentence at once during training, so without a "
        "mask the token at position t could simply look at the answer (position t+1). "
        "The causal mask blocks every key to the right of the query."
    )
    out.array("causal mask (1 = blocked)", mask.astype(int), rows=tokens, cols=tokens)

    scores = (x @ w_q) @ (x @ w_k).T / np.sqrt(d)
    out.table(
        "scaled scores after masking (the softmax input)",
        columns=["query \\ key", *tokens],
        rows=[
            [
                tokens[t],
                *["-inf" if mask[t, s] else round(float(scores[t, s]), 3) for s in range(T)],
            ]
            for t in range(T)
        ],
    )
    output, weights = causal_self_attention(x, w_q, w_k, w_v)
    out.heatmap(
        "causal attention weights (exactly 0 above the diagonal)",
        weights.round(3),
        x_labels=tokens,
        y_labels=tokens,
        x_title="key",
        y_title="query",
    )
    out.value("largest weight above the diagonal", float(weights[mask].max()))

    # Change the last token only and see which outputs move.
    x_changed = x.copy()
    x_changed[-1] = rng.standard_normal(E) * 3
    rows = []
    for causal in (True, False):
        before, _ = causal_self_attention(x, w_q, w_k, w_v, causal=causal)
        after, _ = causal_self_attention(x_changed, w_q, w_k, w_v, causal=causal)
        rows.append(
            [
                "causal" if causal else "no mask",
                *[float(np.abs(after[t] - before[t]).max()) for t in range(T)],
            ]
        )
    out.table(
        f"max |change of output[t]| when only the last token '{tokens[-1]}' changes",
        columns=["attention", *[f"t={t} {tok}" for t, tok in enumerate(tokens)]],
        rows=[[r[0], *[round(v, 6) for v in r[1:]]] for r in rows],
    )
    out.text(
        "With the mask, outputs before the last position are bit-for-bit unchanged: the "
        "prediction at position t depends only on tokens 0..t, which is what lets a GPT "
        "train on every position of a sentence in one pass and still generate left to right."
    )
