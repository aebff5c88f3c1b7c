"""Multi-head attention in NumPy, with the parameter layout of torch.nn.MultiheadAttention.

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O
    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)

Source: Vaswani et al. (2017), Attention Is All You Need, sec. 3.2.2. The
layout follows PyTorch (batch_first=True): one packed in_proj_weight of shape
(3E, E) whose rows are [W_q; W_k; W_v], applied as x @ W.T + b, and head i
owning features i*head_dim:(i+1)*head_dim of each projection.
"""

from __future__ import annotations

import numpy as np
from scaled_dot_product_attention import scaled_dot_product_attention


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(N, L, E) -> (N, heads, L, head_dim): cut the feature axis into heads.

    The reshape gives (N, L, heads, head_dim) (head i gets features
    i*head_dim:(i+1)*head_dim); the transpose puts heads next to the batch axis
    so that every head runs as an independent attention.
    """
    N, L, E = x.shape
    return x.reshape(N, L, num_heads, E // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(N, heads, L, head_dim) -> (N, L, E): the Concat(head_1, ..., head_h) of the paper."""
    N, H, L, D = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, L, H * D)


def multi_head_attention(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    num_heads: int,
    in_proj_weight: np.ndarray,
    in_proj_bias: np.ndarray,
    out_proj_weight: np.ndarray,
    out_proj_bias: np.ndarray,
    attn_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention (Vaswani et al. 2017, sec. 3.2.2), PyTorch layout, batch first.

    Args:
        query: (N, L, E) target sequence.
        key, value: (N, S, E) source sequence (the same array as query for self-attention).
        num_heads: h; E must be divisible by h, head_dim = E // h.
        in_proj_weight: (3E, E), rows [W_q; W_k; W_v], used as x @ W_q.T.
        in_proj_bias: (3E,), [b_q; b_k; b_v].
        out_proj_weight: (E, E), W^O used as concat @ W_o.T.
        out_proj_bias: (E,).
        attn_mask: optional boolean (L, S); True means query i may not attend to key j.

    Returns:
        output: (N, L, E).
        weights: (N, heads, L, S), the attention weights of every head (PyTorch
            would average them over heads unless average_attn_weights=False).
    """
    E = query.shape[-1]
    if E % num_heads != 0:
        raise ValueError(f"embed dim {E} is not divisible by num_heads {num_heads}")
    w_q, w_k, w_v = in_proj_weight[:E], in_proj_weight[E : 2 * E], in_proj_weight[2 * E :]
    b_q, b_k, b_v = in_proj_bias[:E], in_proj_bias[E : 2 * E], in_proj_bias[2 * E :]

    q = query @ w_q.T + b_q  # (N, L, E): all heads' queries at once
    k = key @ w_k.T + b_k  # (N, S, E)
    v = value @ w_v.T + b_v  # (N, S, E)

    # Each head attends in its own head_dim-sized subspace; scaling uses sqrt(head_dim).
    heads, weights = scaled_dot_product_attention(
        split_heads(q, num_heads),
        split_heads(k, num_heads),
        split_heads(v, num_heads),
        mask=attn_mask,
    )  # heads: (N, h, L, head_dim), weights: (N, h, L, S)
    concat = merge_heads(heads)  # (N, L, E)
    return concat @ out_proj_weight.T + out_proj_bias, weights


def init_params(
    embed_dim: int, rng: np.random.Generator, dtype=np.float64
) -> dict[str, np.ndarray]:
    """Random parameters with PyTorch's shapes and weight init (Xavier-uniform in_proj).

    PyTorch starts both biases at zero; here they are small and random so that
    a wrong bias slice would show up in the outputs.
    """
    E = embed_dim
    bound_in = np.sqrt(6.0 / (E + 3 * E))  # xavier_uniform_ on the packed (3E, E) matrix
    bound_out = 1.0 / np.sqrt(E)
    return {
        "in_proj_weight": rng.uniform(-bound_in, bound_in, (3 * E, E)).astype(dtype),
        "in_proj_bias": (0.1 * rng.standard_normal(3 * E)).astype(dtype),
        "out_proj_weight": rng.uniform(-bound_out, bound_out, (E, E)).astype(dtype),
        "out_proj_bias": (0.1 * rng.standard_normal(E)).astype(dtype),
    }


def two_relation_heads(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Inputs and weights for the demo: 4 tokens, E = 8, 2 heads that attend for different reasons.

    x (1, 4, 8) = [one-hot position (4) | role (4): subject, object, adverb, verb] for
    "나는 고양이를 정말 좋아해". Head 0 (features 0-3 of Q and K) compares positions, with
    W_q shifting position t to t-1 (a previous-token head); head 1 (features 4-7) compares
    roles, with W_q sending verb -> object and adverb -> verb. A gain of 8 (a score of
    8 / sqrt(4) = 4) makes the softmax sharp. W_v and W_o are random (init_params); all biases are zero.
    """
    E, hd = 8, 4
    x = np.zeros((1, 4, E))
    x[0, np.arange(4), np.arange(4)] = 1.0  # positions 0..3
    x[0, np.arange(4), 4 + np.arange(4)] = (
        1.0  # roles: 나는 subject, 고양이를 object, 정말 adverb, 좋아해 verb
    )
    p = init_params(E, rng)
    W_q = np.zeros((E, E))
    W_k = np.zeros((E, E))
    for t in range(1, 4):
        W_q[t - 1, t] = 8.0  # head 0: query of position t points at key position t - 1
    W_k[:hd, :hd] = np.eye(hd)
    W_q[hd + 1, hd + 3] = 8.0  # head 1: a verb's query looks for an object ...
    W_q[hd + 3, hd + 2] = 8.0  # ... and an adverb's query for a verb
    W_k[hd:, hd:] = np.eye(hd)
    p["in_proj_weight"][:E] = W_q  # rows are output features: head 0 owns rows 0-3, head 1 rows 4-7
    p["in_proj_weight"][E : 2 * E] = W_k
    p["in_proj_bias"][:] = 0.0
    p["out_proj_bias"][:] = 0.0
    return x, p


def demo() -> None:
    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    tokens = ["나는", "고양이를", "정말", "좋아해"]
    N, L, E, H = 1, len(tokens), 8, 2
    hd = E // H
    x, p = two_relation_heads(rng)

    output, weights = multi_head_attention(x, x, x, H, **p)
    out.text(
        "Each token vector has two kinds of features: features 0-3 say where it is (a one-hot "
        "position), features 4-7 what role it plays (subject, object, adverb, verb). Head 0's "
        "W_q and W_k read only the position features, and its W_q maps position t to t-1: it "
        "attends to the previous token. Head 1's read only the role features, and its W_q maps "
        "'verb' to 'object' and 'adverb' to 'verb': 좋아해 looks at its object 고양이를, 정말 at the "
        "verb it modifies. Same tokens, different projections, different relations. Trained "
        "models grow heads like these on their own (Clark et al. 2019 found previous-token heads "
        "and direct-object heads in BERT); here they are set by hand so the reason is visible."
    )

    q = x @ p["in_proj_weight"][:E].T + p["in_proj_bias"][:E]
    out.text(
        f"Self-attention over {L} tokens, E = {E}, h = {H} heads, head_dim = E / h = {hd}. "
        "One (3E, E) matrix holds W_q, W_k, W_v stacked; each head takes its own slice of "
        "the projected features."
    )
    out.table(
        "shapes through multi-head attention",
        columns=["step", "shape"],
        rows=[
            ["input x", str((N, L, E))],
            ["Q = x W_q^T + b_q (likewise K, V)", str(q.shape)],
            ["reshape to (batch, seq, heads, head_dim)", str((N, L, H, hd))],
            ["transpose to (batch, heads, seq, head_dim)", str(split_heads(q, H).shape)],
            ["weights per head softmax(Q_i K_i^T / sqrt(head_dim))", str(weights.shape)],
            ["heads = weights @ V_i", str((N, H, L, hd))],
            ["concat back to (batch, seq, E)", str((N, L, E))],
            ["output = concat W_o^T + b_o", str(output.shape)],
        ],
    )
    out.array(
        "Q for token 0, split into heads (row = head)",
        q[0, 0].reshape(H, hd).round(3),
        rows=[f"head {i}" for i in range(H)],
        cols=[f"f{j}" for j in range(hd)],
    )
    for i in range(H):
        out.heatmap(
            f"head {i} attention weights",
            weights[0, i].round(3),
            x_labels=tokens,
            y_labels=tokens,
            x_title="key",
            y_title="query",
        )
    out.array("output (L, E)", output[0].round(3), rows=tokens, cols=[f"e{j}" for j in range(E)])

    # Concat then W_o equals the sum over heads of head_i @ (its column block of W_o)^T.
    heads, _ = scaled_dot_product_attention(
        split_heads(q, H),
        split_heads(x @ p["in_proj_weight"][E : 2 * E].T + p["in_proj_bias"][E : 2 * E], H),
        split_heads(x @ p["in_proj_weight"][2 * E :].T + p["in_proj_bias"][2 * E :], H),
    )
    per_head = [heads[0, i] @ p["out_proj_weight"][:, i * hd : (i + 1) * hd].T for i in range(H)]
    summed = sum(per_head) + p["out_proj_bias"]
    out.value(
        "max |concat W_o^T - sum_i head_i W_o[:, block_i]^T|",
        float(np.abs(summed - output[0]).max()),
    )
    out.text(
        "So W_o mixes the heads: each head writes into the output through its own column block "
        "of W_o, and the output is the sum of those contributions."
    )
    out.table(
        "parameters for E = 8 (the same for any number of heads h that divides E)",
        columns=["matrix", "shape", "count"],
        rows=[
            ["in_proj_weight", "(3E, E)", 3 * E * E],
            ["in_proj_bias", "(3E,)", 3 * E],
            ["out_proj_weight", "(E, E)", E * E],
            ["out_proj_bias", "(E,)", E],
            ["total", "4E^2 + 4E", 4 * E * E + 4 * E],
        ],
    )
