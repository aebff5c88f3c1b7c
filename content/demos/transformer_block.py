"""One Transformer encoder block: self-attention, feed-forward, residuals, layer norm.

    post-LN (Vaswani et al. 2017):   x = LN1(x + MHA(x));   x = LN2(x + FFN(x))
    pre-LN  (GPT-2, Xiong et al.):   x = x + MHA(LN1(x));   x = x + FFN(LN2(x))
    FFN(x) = act(x W1^T + b1) W2^T + b2                     (position-wise)

Sources: Vaswani et al. (2017), Attention Is All You Need, sec. 3.1 and 3.3
(eq. 2, FFN); Xiong et al. (2020), On Layer Normalization in the Transformer
Architecture (pre-LN vs post-LN); Radford et al. (2019), GPT-2 (layer norm moved
to the input of each sub-block, plus a final layer norm); Hendrycks & Gimpel
(2016), GELU. Parameter names follow torch.nn.TransformerEncoderLayer's
state_dict (norm_first=False is post-LN, its default).
"""

from __future__ import annotations

import numpy as np
from layer_normalization import layer_norm
from multi_head_attention import init_params as init_attention
from multi_head_attention import multi_head_attention


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (Hendrycks & Gimpel 2016, as in GPT-2 and picoGPT).

    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); differs from the exact
    x * Phi(x) by less than 1e-3 (torch.nn.GELU(approximate="tanh")).
    """
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), the activation of the original Transformer's FFN."""
    return np.maximum(0.0, x)


ACTIVATIONS = {"relu": relu, "gelu": gelu}


def feed_forward(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w2: np.ndarray,
    b2: np.ndarray,
    activation: str = "relu",
) -> np.ndarray:
    """Position-wise FFN (Vaswani et al. 2017, eq. 2): every token goes through the same MLP.

    Args:
        x: (..., E). w1: (F, E), b1: (F,), w2: (E, F), b2: (E,)  (nn.Linear layout, F = 4E
            in the paper: 2048 for E = 512).
    Returns:
        (..., E).
    """
    return ACTIVATIONS[activation](x @ w1.T + b1) @ w2.T + b2


def transformer_block(
    x: np.ndarray,
    params: dict[str, np.ndarray],
    num_heads: int,
    norm_first: bool = False,
    attn_mask: np.ndarray | None = None,
    activation: str = "relu",
    eps: float = 1e-5,
) -> np.ndarray:
    """One encoder block, post-LN (norm_first=False) or pre-LN (norm_first=True).

    Args:
        x: (N, L, E) token vectors (the residual stream).
        params: torch.nn.TransformerEncoderLayer names: "self_attn.in_proj_weight" (3E, E),
            "self_attn.in_proj_bias" (3E,), "self_attn.out_proj.weight" (E, E),
            "self_attn.out_proj.bias" (E,), "linear1.weight" (F, E), "linear1.bias" (F,),
            "linear2.weight" (E, F), "linear2.bias" (E,), "norm1.weight", "norm1.bias",
            "norm2.weight", "norm2.bias" (E,).
        num_heads: attention heads; E must be divisible by it.
        attn_mask: optional boolean (L, L), True = blocked (causal_mask for a decoder/GPT).
        activation: "relu" (original Transformer, PyTorch default) or "gelu" (GPT, BERT).

    Returns:
        (N, L, E).
    """
    p = params

    def attn(h: np.ndarray) -> np.ndarray:
        return multi_head_attention(
            h,
            h,
            h,
            num_heads,
            p["self_attn.in_proj_weight"],
            p["self_attn.in_proj_bias"],
            p["self_attn.out_proj.weight"],
            p["self_attn.out_proj.bias"],
            attn_mask=attn_mask,
        )[0]

    def ffn(h: np.ndarray) -> np.ndarray:
        return feed_forward(
            h,
            p["linear1.weight"],
            p["linear1.bias"],
            p["linear2.weight"],
            p["linear2.bias"],
            activation,
        )

    def norm1(h: np.ndarray) -> np.ndarray:
        return layer_norm(h, p["norm1.weight"], p["norm1.bias"], eps)

    def norm2(h: np.ndarray) -> np.ndarray:
        return layer_norm(h, p["norm2.weight"], p["norm2.bias"], eps)

    if norm_first:  # pre-LN: the residual stream itself is never normalized
        x = x + attn(norm1(x))
        return x + ffn(norm2(x))
    x = norm1(x + attn(x))  # post-LN: normalize after every residual addition
    return norm2(x + ffn(x))


def init_block_params(
    embed_dim: int, ff_dim: int, rng: np.random.Generator, dtype=np.float64
) -> dict[str, np.ndarray]:
    """Random parameters with PyTorch's shapes; Linear layers use its U(-1/sqrt(fan_in), ..) init."""
    E, F = embed_dim, ff_dim
    a = init_attention(E, rng, dtype)
    return {
        "self_attn.in_proj_weight": a["in_proj_weight"],
        "self_attn.in_proj_bias": a["in_proj_bias"],
        "self_attn.out_proj.weight": a["out_proj_weight"],
        "self_attn.out_proj.bias": a["out_proj_bias"],
        "linear1.weight": rng.uniform(-1, 1, (F, E)).astype(dtype) / np.sqrt(E),
        "linear1.bias": rng.uniform(-1, 1, F).astype(dtype) / np.sqrt(E),
        "linear2.weight": rng.uniform(-1, 1, (E, F)).astype(dtype) / np.sqrt(F),
        "linear2.bias": rng.uniform(-1, 1, E).astype(dtype) / np.sqrt(F),
        "norm1.weight": np.ones(E, dtype=dtype),
        "norm1.bias": np.zeros(E, dtype=dtype),
        "norm2.weight": np.ones(E, dtype=dtype),
        "norm2.bias": np.zeros(E, dtype=dtype),
    }


def stack_statistics(
    x: np.ndarray,
    blocks: list[dict[str, np.ndarray]],
    num_heads: int,
    norm_first: bool,
    activation: str = "relu",
) -> dict[str, list[float]]:
    """Run the blocks in sequence and record, after each block l = 1..len(blocks):

    - "std": the mean over tokens of the standard deviation of the token vector,
    - "update": ||x_l - x_{l-1}|| / ||x_{l-1}||, how much the block changed the stream.
    """
    stats: dict[str, list[float]] = {"std": [], "update": []}
    for params in blocks:
        new = transformer_block(x, params, num_heads, norm_first, activation=activation)
        stats["std"].append(float(new.std(axis=-1).mean()))
        stats["update"].append(float(np.linalg.norm(new - x) / np.linalg.norm(x)))
        x = new
    return stats


def demo() -> None:
    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    N, L, E, H, F, depth = 2, 8, 16, 4, 64, 48
    x = rng.standard_normal((N, L, E))
    blocks = [init_block_params(E, F, rng) for _ in range(depth)]
    out.text(
        f"{depth} blocks (as deep as GPT-2 XL), E = {E}, {H} heads, FFN width {F} (4E), GELU, "
        "random PyTorch-style init. The same weights run as post-LN (original Transformer) "
        "and as pre-LN (GPT-2)."
    )
    out.table(
        "one block, two orders",
        columns=["variant", "attention sub-layer", "feed-forward sub-layer"],
        rows=[
            ["post-LN", "x = LN1(x + MHA(x))", "x = LN2(x + FFN(x))"],
            ["pre-LN", "x = x + MHA(LN1(x))", "x = x + FFN(LN2(x))"],
        ],
    )
    post = stack_statistics(x, blocks, H, norm_first=False, activation="gelu")
    pre = stack_statistics(x, blocks, H, norm_first=True, activation="gelu")
    layers = list(range(1, depth + 1))
    out.line(
        "std of the token vectors after each block",
        x=layers,
        series={"post-LN": post["std"], "pre-LN": pre["std"]},
        x_title="block",
        y_title="mean per-token std",
    )
    out.line(
        "relative update ||x_l - x_(l-1)|| / ||x_(l-1)||",
        x=layers,
        series={"post-LN": post["update"], "pre-LN": pre["update"]},
        x_title="block",
        y_title="relative change",
    )
    out.table(
        "after selected blocks",
        columns=["block", "post-LN std", "pre-LN std", "post-LN update", "pre-LN update"],
        rows=[
            [
                b,
                round(post["std"][b - 1], 4),
                round(pre["std"][b - 1], 4),
                round(post["update"][b - 1], 4),
                round(pre["update"][b - 1], 4),
            ]
            for b in (1, 2, 6, 12, 24, 48)
        ],
    )
    out.text(
        "Post-LN ends every block with a layer norm, so each token vector leaves with std 1 "
        "and each block rewrites a fixed share of it. Pre-LN never normalizes the residual "
        "stream: sub-layer outputs keep being added, its scale grows with depth, and each new "
        "block changes it relatively less. That identity path is why pre-LN trains stably "
        "without learning-rate warm-up (Xiong et al. 2020), and why GPT-2 adds one final "
        "layer norm after the last block."
    )

    # Position-wise: the FFN treats every token alike, attention is the only mixing step.
    y = transformer_block(x[:1], blocks[0], H, activation="gelu")
    perm = rng.permutation(L)
    y_perm = transformer_block(x[:1, perm], blocks[0], H, activation="gelu")
    out.value(
        "max |block(x[perm]) - block(x)[perm]| (no mask, no positions)",
        float(np.abs(y_perm - y[:, perm]).max()),
    )
