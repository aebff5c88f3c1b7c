"""The Transformer encoder-decoder (Vaswani et al. 2017), forward and backward, in NumPy.

    encoder layer:  h = LN(x + SelfAttn(x));            out = LN(h + FFN(h))
    decoder layer:  a = LN(y + MaskedSelfAttn(y));      b = LN(a + CrossAttn(a, memory))
                    out = LN(b + FFN(b))
    model:          memory = Encoder(E_src[src] * sqrt(d) + PE)
                    logits = Decoder(E_tgt[tgt_in] * sqrt(d) + PE, memory) @ W_out.T + b_out

Post-LN residual sub-layers as in the paper (sec. 3.1, "LayerNorm(x + Sublayer(x))"),
sinusoidal positions (sec. 3.5), embeddings scaled by sqrt(d_model) (sec. 3.4), the
decoder's self-attention masked causally (sec. 3.2.3) and its cross-attention reading
the encoder output as keys and values (sec. 3.2.3, "encoder-decoder attention").
Parameter names and layouts follow ``torch.nn.Transformer``'s state_dict
(``encoder.layers.0.self_attn.in_proj_weight`` (3E, E), ``linear1.weight`` (F, E), ...,
``decoder.layers.0.multihead_attn`` for the cross-attention, ``norm1..norm3``), without
PyTorch's optional final ``encoder.norm`` / ``decoder.norm`` (the paper has none).
The toy task, Korean SOV sentences to English SVO ones, and scripts/train_transformer.py
(which wrote transformer_toy.npz) are below.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from layer_normalization import layer_norm, layer_norm_backward
from masked_attention import causal_mask
from multi_head_attention import merge_heads, split_heads
from positional_encoding import positional_encoding
from scaled_dot_product_attention import (
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from softmax import log_softmax

from studylog.demo import api as out

Params = dict[str, np.ndarray]
WEIGHTS = Path(__file__).with_name("transformer_toy.npz")


# ---------------------------------------------------------------- building blocks


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1])


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x (..., in) @ weight.T + bias -> (..., out); weight (out, in) as torch.nn.Linear."""
    return x @ weight.T + bias


def linear_backward(
    dy: np.ndarray, x: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx (..., in), dweight (out, in), dbias (out,)) of :func:`linear`."""
    return dy @ weight, _flat(dy).T @ _flat(x), _flat(dy).sum(axis=0)


def attention_forward(
    query: np.ndarray,
    memory: np.ndarray,
    p: Params,
    name: str,
    num_heads: int,
    mask: np.ndarray | None,
) -> tuple[np.ndarray, dict]:
    """Multi-head attention of ``query`` (N, L, E) over ``memory`` (N, S, E), PyTorch layout.

    ``p[name + ".in_proj_weight"]`` (3E, E) holds [W_q; W_k; W_v]; ``out_proj`` is (E, E).
    Returns (output (N, L, E), cache); cache["weights"] is (N, heads, L, S).
    The same computation as multi_head_attention.multi_head_attention, keeping what
    the backward pass needs.
    """
    E = query.shape[-1]
    W, b = p[name + ".in_proj_weight"], p[name + ".in_proj_bias"]
    q = linear(query, W[:E], b[:E])
    k = linear(memory, W[E : 2 * E], b[E : 2 * E])
    v = linear(memory, W[2 * E :], b[2 * E :])
    qh, kh, vh = (split_heads(t, num_heads) for t in (q, k, v))
    heads, weights = scaled_dot_product_attention(qh, kh, vh, mask=mask)
    concat = merge_heads(heads)
    y = linear(concat, p[name + ".out_proj.weight"], p[name + ".out_proj.bias"])
    cache = {
        "query": query,
        "memory": memory,
        "qh": qh,
        "kh": kh,
        "vh": vh,
        "weights": weights,
        "concat": concat,
    }
    return y, cache


def attention_backward(
    dy: np.ndarray, cache: dict, p: Params, name: str
) -> tuple[np.ndarray, np.ndarray, Params]:
    """(d query (N, L, E), d memory (N, S, E), parameter gradients) of :func:`attention_forward`."""
    E = dy.shape[-1]
    heads = cache["qh"].shape[1]
    W = p[name + ".in_proj_weight"]
    dconcat, dWo, dbo = linear_backward(dy, cache["concat"], p[name + ".out_proj.weight"])
    dqh, dkh, dvh = scaled_dot_product_attention_backward(
        split_heads(dconcat, heads), cache["qh"], cache["kh"], cache["vh"], cache["weights"]
    )
    dq, dk, dv = merge_heads(dqh), merge_heads(dkh), merge_heads(dvh)
    dquery, dWq, dbq = linear_backward(dq, cache["query"], W[:E])
    dmem_k, dWk, dbk = linear_backward(dk, cache["memory"], W[E : 2 * E])
    dmem_v, dWv, dbv = linear_backward(dv, cache["memory"], W[2 * E :])
    grads = {
        name + ".in_proj_weight": np.concatenate([dWq, dWk, dWv]),
        name + ".in_proj_bias": np.concatenate([dbq, dbk, dbv]),
        name + ".out_proj.weight": dWo,
        name + ".out_proj.bias": dbo,
    }
    return dquery, dmem_k + dmem_v, grads


def cross_attention(
    query: np.ndarray,
    memory: np.ndarray,
    in_proj_weight: np.ndarray,
    in_proj_bias: np.ndarray,
    out_proj_weight: np.ndarray,
    out_proj_bias: np.ndarray,
    num_heads: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Encoder-decoder attention (sec. 3.2.3): queries from the decoder, keys and values from
    the encoder output, in torch.nn.MultiheadAttention's layout.

    Args:
        query: decoder states (N, T, E).
        memory: encoder output (N, S, E), used as both key and value.
        in_proj_weight: (3E, E), rows [W_q; W_k; W_v]; in_proj_bias (3E,).
        out_proj_weight: (E, E); out_proj_bias (E,).
        num_heads: h, with E divisible by h.

    Returns:
        (output (N, T, E), weights (N, h, T, S)): row t of a head's weights says which source
        positions output step t reads, the alignment. No mask: every step may read the whole
        source.
    """
    p = {
        "x.in_proj_weight": in_proj_weight,
        "x.in_proj_bias": in_proj_bias,
        "x.out_proj.weight": out_proj_weight,
        "x.out_proj.bias": out_proj_bias,
    }
    y, cache = attention_forward(query, memory, p, "x", num_heads, None)
    return y, cache["weights"]


def learning_rate(step: int, d_model: int, warmup: int = 4000) -> float:
    """The paper's schedule (sec. 5.3, eq. 3): d_model^-0.5 * min(step^-0.5, step * warmup^-1.5).

    Linear warm-up for ``warmup`` steps (peak d_model^-0.5 * warmup^-0.5 at step = warmup),
    then decay as 1 / sqrt(step). ``step`` counts from 1.
    """
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def _add_norm(
    x: np.ndarray, sub: np.ndarray, p: Params, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Post-LN residual: LN(x + sub); returns (output, the pre-norm sum for the backward pass)."""
    s = x + sub
    return layer_norm(s, p[name + ".weight"], p[name + ".bias"]), s


def _add_norm_backward(
    dy: np.ndarray, s: np.ndarray, p: Params, name: str, grads: Params
) -> np.ndarray:
    ds, dw, db = layer_norm_backward(dy, s, p[name + ".weight"])
    grads[name + ".weight"], grads[name + ".bias"] = dw, db
    return ds  # flows to both x and the sub-layer (the residual copies it)


def _ffn_forward(x: np.ndarray, p: Params, name: str) -> tuple[np.ndarray, tuple]:
    pre = linear(x, p[name + "linear1.weight"], p[name + "linear1.bias"])
    hid = np.maximum(pre, 0.0)  # ReLU (the paper's FFN, eq. 2)
    return linear(hid, p[name + "linear2.weight"], p[name + "linear2.bias"]), (x, pre, hid)


def _ffn_backward(dy: np.ndarray, cache: tuple, p: Params, name: str, grads: Params) -> np.ndarray:
    x, pre, hid = cache
    dhid, grads[name + "linear2.weight"], grads[name + "linear2.bias"] = linear_backward(
        dy, hid, p[name + "linear2.weight"]
    )
    dpre = dhid * (pre > 0)
    dx, grads[name + "linear1.weight"], grads[name + "linear1.bias"] = linear_backward(
        dpre, x, p[name + "linear1.weight"]
    )
    return dx


def encoder_layer(x: np.ndarray, p: Params, name: str, num_heads: int) -> tuple[np.ndarray, dict]:
    """One post-LN encoder layer: x (N, S, E) -> (N, S, E), and its cache.

    h = norm1(x + self_attn(x, x)), out = norm2(h + FFN(h)); no mask (every source token
    sees every other). ``name`` is e.g. "encoder.layers.0.".
    """
    a, c_attn = attention_forward(x, x, p, name + "self_attn", num_heads, None)
    h, s1 = _add_norm(x, a, p, name + "norm1")
    f, c_ffn = _ffn_forward(h, p, name)
    y, s2 = _add_norm(h, f, p, name + "norm2")
    return y, {"attn": c_attn, "s1": s1, "ffn": c_ffn, "s2": s2}


def encoder_layer_backward(
    dy: np.ndarray, cache: dict, p: Params, name: str, grads: Params
) -> np.ndarray:
    ds2 = _add_norm_backward(dy, cache["s2"], p, name + "norm2", grads)
    dh = ds2 + _ffn_backward(ds2, cache["ffn"], p, name, grads)
    ds1 = _add_norm_backward(dh, cache["s1"], p, name + "norm1", grads)
    dq, dkv, g = attention_backward(ds1, cache["attn"], p, name + "self_attn")
    grads.update(g)
    return ds1 + dq + dkv  # the residual, then the query and key/value paths of self-attention


def decoder_layer(
    y: np.ndarray, memory: np.ndarray, p: Params, name: str, num_heads: int
) -> tuple[np.ndarray, dict]:
    """One post-LN decoder layer: y (N, T, E), memory (N, S, E) -> (N, T, E), and its cache.

    a = norm1(y + masked self_attn(y)), b = norm2(a + cross-attention(a over memory)),
    out = norm3(b + FFN(b)). cache["cross"]["weights"] (N, heads, T, S) is the alignment.
    """
    T = y.shape[1]
    sa, c_self = attention_forward(y, y, p, name + "self_attn", num_heads, causal_mask(T))
    a, s1 = _add_norm(y, sa, p, name + "norm1")
    ca, c_cross = attention_forward(a, memory, p, name + "multihead_attn", num_heads, None)
    b, s2 = _add_norm(a, ca, p, name + "norm2")
    f, c_ffn = _ffn_forward(b, p, name)
    o, s3 = _add_norm(b, f, p, name + "norm3")
    return o, {"self": c_self, "s1": s1, "cross": c_cross, "s2": s2, "ffn": c_ffn, "s3": s3}


def decoder_layer_backward(
    do: np.ndarray, cache: dict, p: Params, name: str, grads: Params
) -> tuple[np.ndarray, np.ndarray]:
    """(d y, d memory) of :func:`decoder_layer`; parameter gradients go into ``grads``."""
    ds3 = _add_norm_backward(do, cache["s3"], p, name + "norm3", grads)
    db = ds3 + _ffn_backward(ds3, cache["ffn"], p, name, grads)
    ds2 = _add_norm_backward(db, cache["s2"], p, name + "norm2", grads)
    dq, dmemory, g = attention_backward(ds2, cache["cross"], p, name + "multihead_attn")
    grads.update(g)
    da = ds2 + dq
    ds1 = _add_norm_backward(da, cache["s1"], p, name + "norm1", grads)
    dq, dkv, g = attention_backward(ds1, cache["self"], p, name + "self_attn")
    grads.update(g)
    return ds1 + dq + dkv, dmemory


# ---------------------------------------------------------------- the model


def init_transformer(
    src_vocab: int,
    tgt_vocab: int,
    d_model: int,
    num_heads: int,
    d_ff: int,
    layers: int,
    rng: np.random.Generator,
    max_len: int = 16,
) -> Params:
    """Parameters with torch.nn.Transformer's names and shapes (Xavier-uniform matrices, zero biases,
    LayerNorm weight 1 and bias 0), plus embeddings (std d^-1/2) and the output projection."""
    E = d_model

    def xavier(rows: int, cols: int) -> np.ndarray:
        bound = np.sqrt(6.0 / (rows + cols))
        return rng.uniform(-bound, bound, (rows, cols))

    p: Params = {
        "src_embed.weight": rng.normal(scale=E**-0.5, size=(src_vocab, E)),
        "tgt_embed.weight": rng.normal(scale=E**-0.5, size=(tgt_vocab, E)),
        "generator.weight": xavier(tgt_vocab, E),
        "generator.bias": np.zeros(tgt_vocab),
    }

    def attn(prefix: str) -> None:
        p[prefix + ".in_proj_weight"] = xavier(3 * E, E)
        p[prefix + ".in_proj_bias"] = np.zeros(3 * E)
        p[prefix + ".out_proj.weight"] = xavier(E, E)
        p[prefix + ".out_proj.bias"] = np.zeros(E)

    def block(prefix: str, norms: int) -> None:
        p[prefix + "linear1.weight"], p[prefix + "linear1.bias"] = xavier(d_ff, E), np.zeros(d_ff)
        p[prefix + "linear2.weight"], p[prefix + "linear2.bias"] = xavier(E, d_ff), np.zeros(E)
        for k in range(1, norms + 1):
            p[f"{prefix}norm{k}.weight"], p[f"{prefix}norm{k}.bias"] = np.ones(E), np.zeros(E)

    for i in range(layers):
        attn(f"encoder.layers.{i}.self_attn")
        block(f"encoder.layers.{i}.", 2)
        attn(f"decoder.layers.{i}.self_attn")
        attn(f"decoder.layers.{i}.multihead_attn")
        block(f"decoder.layers.{i}.", 3)
    return p


def _layer_count(p: Params) -> int:
    return len({k.split(".")[2] for k in p if k.startswith("encoder.layers.")})


def _embed(ids: np.ndarray, W: np.ndarray) -> np.ndarray:
    E = W.shape[1]
    return W[ids] * np.sqrt(E) + positional_encoding(ids.shape[1], E)


def transformer_forward(
    p: Params, src: np.ndarray, tgt_in: np.ndarray, num_heads: int
) -> tuple[np.ndarray, dict]:
    """src (N, S) and decoder input tgt_in (N, T) ids -> logits (N, T, V_tgt), cache.

    cache["dec"][-1]["cross"]["weights"] is the last decoder layer's cross-attention
    (N, heads, T, S): which source position each output step reads.
    """
    L = _layer_count(p)
    x = _embed(src, p["src_embed.weight"])
    enc_caches = []
    for i in range(L):
        x, c = encoder_layer(x, p, f"encoder.layers.{i}.", num_heads)
        enc_caches.append(c)
    memory = x
    y = _embed(tgt_in, p["tgt_embed.weight"])
    dec_caches = []
    for i in range(L):
        y, c = decoder_layer(y, memory, p, f"decoder.layers.{i}.", num_heads)
        dec_caches.append(c)
    logits = linear(y, p["generator.weight"], p["generator.bias"])
    return logits, {
        "src": src,
        "tgt_in": tgt_in,
        "enc": enc_caches,
        "dec": dec_caches,
        "y": y,
        "memory": memory,
    }


def transformer_loss(
    p: Params, src: np.ndarray, tgt: np.ndarray, num_heads: int, with_grads: bool = True
) -> tuple[float, Params | None]:
    """Mean cross-entropy of predicting tgt[:, 1:] from src and tgt[:, :-1] (teacher forcing).

    Returns (loss in nats per target token, gradients of every parameter or None).
    """
    tgt_in, targets = tgt[:, :-1], tgt[:, 1:]
    logits, c = transformer_forward(p, src, tgt_in, num_heads)
    logp = log_softmax(logits)
    N, T, _ = logits.shape
    loss = float(-np.mean(np.take_along_axis(logp, targets[..., None], axis=-1)))
    if not with_grads:
        return loss, None
    dlogits = np.exp(logp)
    np.put_along_axis(
        dlogits, targets[..., None], np.take_along_axis(dlogits, targets[..., None], -1) - 1.0, -1
    )
    dlogits /= N * T
    grads: Params = {}
    dy, grads["generator.weight"], grads["generator.bias"] = linear_backward(
        dlogits, c["y"], p["generator.weight"]
    )
    L = _layer_count(p)
    dmemory = np.zeros_like(c["memory"])
    for i in reversed(range(L)):
        dy, dm = decoder_layer_backward(dy, c["dec"][i], p, f"decoder.layers.{i}.", grads)
        dmemory += dm  # every decoder layer reads the same encoder output
    dx = dmemory
    for i in reversed(range(L)):
        dx = encoder_layer_backward(dx, c["enc"][i], p, f"encoder.layers.{i}.", grads)
    for ids, dE, key in ((c["src"], dx, "src_embed.weight"), (c["tgt_in"], dy, "tgt_embed.weight")):
        g = np.zeros_like(p[key])
        np.add.at(g, ids, dE * np.sqrt(p[key].shape[1]))
        grads[key] = g
    return loss, grads


def greedy_decode(
    p: Params, src: np.ndarray, bos: int, eos: int, max_len: int, num_heads: int
) -> tuple[np.ndarray, np.ndarray]:
    """Generate left to right, feeding back the argmax (the decoder re-reads its whole prefix).

    Returns (ids (N, max_len), cross-attention of the last layer (N, heads, max_len, S)) for the
    final, longest prefix; positions after ``eos`` are filled with ``eos``.
    """
    N = src.shape[0]
    ids = np.full((N, 1), bos)
    for _ in range(max_len):
        logits, c = transformer_forward(p, src, ids, num_heads)
        nxt = logits[:, -1].argmax(axis=-1)
        nxt = np.where(ids[:, -1] == eos, eos, nxt)
        ids = np.concatenate([ids, nxt[:, None]], axis=1)
    return ids[:, 1:], c["dec"][-1]["cross"]["weights"]


# ---------------------------------------------------------------- the toy translation task

TIMES = {"어제": ("yesterday", "past"), "오늘": ("today", "present")}
SUBJECTS = {"나는": "I", "너는": "you", "그는": "he", "그녀는": "she"}
OBJECTS = {"사과를": "apples", "책을": "books", "물을": "water", "빵을": "bread"}
VERBS = {  # Korean (present, past) -> English (base, 3rd person singular, past)
    "먹다": (("먹는다", "먹었다"), ("eat", "eats", "ate")),
    "읽다": (("읽는다", "읽었다"), ("read", "reads", "read")),
    "마시다": (("마신다", "마셨다"), ("drink", "drinks", "drank")),
    "사다": (("산다", "샀다"), ("buy", "buys", "bought")),
}
SRC_VOCAB = (
    ["<pad>"]
    + list(TIMES)
    + list(SUBJECTS)
    + list(OBJECTS)
    + [f for ko, _ in VERBS.values() for f in ko]
)
TGT_VOCAB = (
    ["<s>", "</s>"]
    + list(SUBJECTS.values())
    + list(OBJECTS.values())
    + sorted({f for _, en in VERBS.values() for f in en})
    + [t for t, _ in TIMES.values()]
)
BOS, EOS = 0, 1
HEADS = 2
HELD_OUT_EVERY = 5  # every 5th sentence of the full list is never trained on


def translate_words(time: str, subject: str, obj: str, verb: str) -> tuple[list[str], list[str]]:
    """Korean "time S O V" and its English "S V O time": the verb's form depends on the tense
    (from the Korean verb ending) and, in the present, on the subject (he/she eats)."""
    tense = TIMES[time][1]
    ko_forms, en_forms = VERBS[verb]
    ko = [time, subject, obj, ko_forms[0] if tense == "present" else ko_forms[1]]
    en_subject = SUBJECTS[subject]
    if tense == "past":
        en_verb = en_forms[2]
    else:
        en_verb = en_forms[1] if en_subject in ("he", "she") else en_forms[0]
    return ko, [en_subject, en_verb, OBJECTS[obj], TIMES[time][0]]


def toy_dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All 128 sentence pairs as ids: (src_train, tgt_train, src_held_out, tgt_held_out).

    src (n, 4); tgt (n, 6) = [<s>, S, V, O, time, </s>]. Every 5th pair is held out.
    """
    src, tgt = [], []
    for time in TIMES:
        for subject in SUBJECTS:
            for obj in OBJECTS:
                for verb in VERBS:
                    ko, en = translate_words(time, subject, obj, verb)
                    src.append([SRC_VOCAB.index(w) for w in ko])
                    tgt.append([BOS] + [TGT_VOCAB.index(w) for w in en] + [EOS])
    src_a, tgt_a = np.array(src), np.array(tgt)
    held = np.arange(len(src_a)) % HELD_OUT_EVERY == 0
    return src_a[~held], tgt_a[~held], src_a[held], tgt_a[held]


def find_weights() -> Path:
    """transformer_toy.npz next to this file, else in a folder on sys.path (as attention.py)."""
    for folder in [WEIGHTS.parent, *map(Path, sys.path)]:
        if (folder / WEIGHTS.name).is_file():
            return folder / WEIGHTS.name
    raise FileNotFoundError(f"{WEIGHTS.name} not found; run scripts/train_transformer.py")


def load_params(path: Path | None = None) -> Params:
    """The trained weights (stored as float32), as float64."""
    with np.load(path or find_weights()) as f:
        return {k: f[k].astype(np.float64) for k in f.files}


def demo() -> None:
    p = load_params()
    _, _, src, tgt = toy_dataset()
    pred, _ = greedy_decode(p, src, BOS, EOS, tgt.shape[1] - 1, HEADS)
    n_params = sum(v.size for v in p.values())
    E = p["src_embed.weight"].shape[1]
    out.text(
        f"A Transformer with 1 encoder and 1 decoder layer (d_model = {E}, {HEADS} heads, "
        f"{n_params:,} parameters), trained by scripts/train_transformer.py to translate toy "
        "Korean (time S O V) into English (S V O time). Greedy outputs on held-out sentences "
        "it never saw in training:"
    )
    words = lambda ids, vocab: " ".join(vocab[i] for i in ids if vocab[i] not in ("<s>", "</s>"))  # noqa: E731
    correct = np.all(pred == tgt[:, 1:], axis=1)
    out.table(
        "translations",
        columns=["Korean", "model", "correct"],
        rows=[
            [words(src[i], SRC_VOCAB), words(pred[i], TGT_VOCAB), bool(correct[i])]
            for i in range(0, len(src), 4)
        ],
    )
    out.value(f"exact-match accuracy on {len(src)} held-out sentences", float(correct.mean()))

    i = 3
    _, cache = transformer_forward(p, src[i : i + 1], tgt[i : i + 1, :-1], HEADS)
    cross = cache["dec"][-1]["cross"]["weights"][0]  # (heads, T, S)
    src_words = [SRC_VOCAB[j] for j in src[i]]
    out_words = [TGT_VOCAB[j] for j in tgt[i, 1:]]
    out.heatmap(
        "cross-attention (encoder-decoder attention), mean of the heads",
        cross.mean(axis=0),
        x_labels=src_words,
        y_labels=[f"→ {w}" for w in out_words],
        x_title="source token (key)",
        y_title="predicting",
    )
    for h in range(cross.shape[0]):
        out.heatmap(
            f"cross-attention, head {h}",
            cross[h],
            x_labels=src_words,
            y_labels=[f"→ {w}" for w in out_words],
        )
    align = alignment_accuracy(p, src, tgt)
    out.value(
        "decoder steps whose strongest cross-attention (some head) is on the aligned source word",
        round(align, 3),
    )
    out.text(
        "The decoder predicts the English subject, verb, object and time word in that order, and "
        "the cross-attention reads the Korean words out of order to do it: the subject at source "
        "position 1, then the verb at the end (position 3), the object (2) and finally the time "
        "word at the start (0). Word order is reversed partly, as in SOV to SVO translation; "
        "nobody labelled the alignment, it comes from the loss."
    )


ALIGNED_SOURCE = {1: 1, 2: 3, 3: 2, 4: 0}  # predicting step t (1 = subject, ...) -> source position


def alignment_accuracy(p: Params, src: np.ndarray, tgt: np.ndarray) -> float:
    """Fraction of (sentence, step) pairs whose largest cross-attention weight, in at least one
    head, is on the aligned source word (steps predicting S, V, O, time; decoder inputs t-1)."""
    _, cache = transformer_forward(p, src, tgt[:, :-1], HEADS)
    w = cache["dec"][-1]["cross"]["weights"]  # (N, heads, T, S); row t predicts tgt[:, t + 1]
    hits = [np.any(w[:, :, t - 1].argmax(axis=-1) == s, axis=1) for t, s in ALIGNED_SOURCE.items()]
    return float(np.mean(hits))
