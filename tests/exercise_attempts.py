"""Attempts for the exercise tests: independent correct ones, and plausible mistakes.

``CORRECT[id]`` is written from the paper or PyTorch's documentation, not
copied from the pack, so it shows that a learner's own correct code passes.
``MISTAKES[id]`` lists ``(what, code, check)``: a mistake a learner makes, and
the name of a check that must fail for it.
"""

from __future__ import annotations

import textwrap


def _code(text: str) -> str:
    return "import numpy as np\n" + textwrap.dedent(text)


_SIG = "def sig(a):\n    return 1 / (1 + np.exp(-a))\n"

CORRECT: dict[str, str] = {
    "lstm.lstm_cell": _code(
        _SIG
        + """
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    # torch.nn.LSTM docs: i, f, g, o = chunks of W_ih x + b_ih + W_hh h + b_hh
    W_ii, W_if, W_ig, W_io = np.split(W_ih, 4)
    W_hi, W_hf, W_hg, W_ho = np.split(W_hh, 4)
    b = np.split(b_ih + b_hh, 4)
    i = sig(x @ W_ii.T + h @ W_hi.T + b[0])
    f = sig(x @ W_if.T + h @ W_hf.T + b[1])
    g = np.tanh(x @ W_ig.T + h @ W_hg.T + b[2])
    o = sig(x @ W_io.T + h @ W_ho.T + b[3])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2
"""
    ),
    "gru.gru_cell": _code(
        _SIG
        + """
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    W_ir, W_iz, W_in = np.split(W_ih, 3)
    W_hr, W_hz, W_hn = np.split(W_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = sig(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = sig(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n = np.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    return (1 - z) * n + z * h
"""
    ),
    "layer-normalization.layer_norm": _code(
        """
def layer_norm(x, weight, bias, eps=1e-5):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * weight + bias
"""
    ),
    "scaled-dot-product-attention.scaled_dot_product_attention": _code(
        """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = np.einsum("...ld,...sd->...ls", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w = e / e.sum(axis=-1, keepdims=True)
    return w @ v, w
"""
    ),
    "softmax.softmax": _code(
        """
def softmax(a, temperature=1.0):
    z = np.asarray(a, dtype=float) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
"""
    ),
    "rnn.rnn_cell": _code(
        """
def rnn_cell(x, h_prev, W_x, W_h, b):
    return np.tanh(x @ W_x + h_prev @ W_h + b)
"""
    ),
}

MISTAKES: dict[str, list[tuple[str, str, str]]] = {
    "rnn.rnn_cell": [
        (
            "bias after the tanh",
            _code(
                """
def rnn_cell(x, h_prev, W_x, W_h, b):
    return np.tanh(x @ W_x + h_prev @ W_h) + b
"""
            ),
            "random inputs",
        ),
        (
            "W_h transposed",
            _code(
                """
def rnn_cell(x, h_prev, W_x, W_h, b):
    return np.tanh(x @ W_x + h_prev @ W_h.T + b)
"""
            ),
            "random inputs",
        ),
    ],
    "rnn.rnn_cell_backward": [
        (
            "forgot tanh' (uses dh_next as da)",
            _code(
                """
def rnn_cell_backward(dh_next, x, h_prev, W_x, W_h, b):
    da = dh_next
    return da @ W_x.T, da @ W_h.T, {"W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(0)}
"""
            ),
            "gradient check",
        ),
    ],
    "rnn.time_rnn": [
        (
            "starts every step from h0",
            _code(
                """
def time_rnn(xs, h0, W_x, W_h, b):
    return np.stack([np.tanh(xs[:, t] @ W_x + h0 @ W_h + b) for t in range(xs.shape[1])], 1)
"""
            ),
            "random inputs",
        ),
    ],
    "lstm.lstm_cell": [
        (
            "i and f gates swapped",
            _code(
                _SIG
                + """
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    f, i = sig(a[:, :H]), sig(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2
"""
            ),
            "random inputs",
        ),
        (
            "the book's gate order f, g, i, o",
            _code(
                _SIG
                + """
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    f, g = sig(a[:, :H]), np.tanh(a[:, H:2 * H])
    i, o = sig(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2
"""
            ),
            "random inputs",
        ),
        (
            "returns only h_next",
            _code(
                _SIG
                + """
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    return o * np.tanh(f * c + i * g)
"""
            ),
            "random inputs",
        ),
    ],
    "lstm.lstm_cell_backward": [
        (
            "dc misses the path through h_next",
            _code(
                """
def lstm_cell_backward(dh_next, dc_next, cache):
    i, f, g, o, tc = (cache[k] for k in ("i", "f", "g", "o", "tanh_c"))
    dc = dc_next
    da = np.concatenate([dc * g * i * (1 - i), dc * cache["c"] * f * (1 - f),
                         dc * i * (1 - g**2), dh_next * tc * o * (1 - o)], axis=1)
    db = da.sum(0)
    return {"dx": da @ cache["W_ih"], "dh": da @ cache["W_hh"], "dc": dc * f,
            "dW_ih": da.T @ cache["x"], "dW_hh": da.T @ cache["h"], "db_ih": db, "db_hh": db}
"""
            ),
            "gradient check",
        ),
    ],
    "gru.gru_cell": [
        (
            "z and 1 - z swapped (the book's convention)",
            _code(
                _SIG
                + """
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    gi, gh = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    r = sig(gi[:, :H] + gh[:, :H])
    z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return z * n + (1 - z) * h
"""
            ),
            "random inputs",
        ),
        (
            "r applied before the product (Cho et al.'s variant)",
            _code(
                _SIG
                + """
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    gi, gh = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    r = sig(gi[:, :H] + gh[:, :H])
    z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + (r * h) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1 - z) * n + z * h
"""
            ),
            "random inputs",
        ),
    ],
    "gru.gru_cell_backward": [
        (
            "dh misses the direct path z * dh_next",
            _code(
                """
def gru_cell_backward(dh_next, cache):
    h, r, z, n, hn = (cache[k] for k in ("h", "r", "z", "n", "hn"))
    dn = dh_next * (1 - z)
    dz = dh_next * (h - n)
    dan = dn * (1 - n**2)
    dar = dan * hn * r * (1 - r)
    daz = dz * z * (1 - z)
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)
    return {"dx": dgi @ cache["W_ih"], "dh": dgh @ cache["W_hh"],
            "dW_ih": dgi.T @ cache["x"], "dW_hh": dgh.T @ h,
            "db_ih": dgi.sum(0), "db_hh": dgh.sum(0)}
"""
            ),
            "gradient check",
        ),
    ],
    "softmax.softmax": [
        (
            "wrong axis (axis 0)",
            _code(
                """
def softmax(a, temperature=1.0):
    z = np.asarray(a) / temperature
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
"""
            ),
            "batch along the last axis",
        ),
        (
            "no max subtraction",
            _code(
                """
def softmax(a, temperature=1.0):
    e = np.exp(np.asarray(a) / temperature)
    return e / e.sum(axis=-1, keepdims=True)
"""
            ),
            "large scores",
        ),
        (
            "ignores the temperature",
            _code(
                """
def softmax(a, temperature=1.0):
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
"""
            ),
            "temperature",
        ),
    ],
    "softmax.log_softmax": [
        (
            "log of the softmax",
            _code(
                """
def log_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return np.log(e / e.sum(axis=-1, keepdims=True))
"""
            ),
            "large gaps",
        ),
    ],
    "softmax.softmax_backward": [
        (
            "only the diagonal of the Jacobian",
            _code(
                """
def softmax_backward(y, dy):
    return y * (1 - y) * dy
"""
            ),
            "random inputs",
        ),
    ],
    "layer-normalization.layer_norm": [
        (
            "unbiased variance (ddof=1)",
            _code(
                """
def layer_norm(x, weight, bias, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True, ddof=1)
    return (x - mu) / np.sqrt(var + eps) * weight + bias
"""
            ),
            "random inputs",
        ),
        (
            "statistics over the batch axis (batch norm)",
            _code(
                """
def layer_norm(x, weight, bias, eps=1e-5):
    mu = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * weight + bias
"""
            ),
            "random inputs",
        ),
        (
            "eps outside the square root",
            _code(
                """
def layer_norm(x, weight, bias, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / (x.std(axis=-1, keepdims=True) + eps) * weight + bias
"""
            ),
            "eps",
        ),
    ],
    "layer-normalization.layer_norm_backward": [
        (
            "ignores the paths through mean and variance",
            _code(
                """
def layer_norm_backward(dy, x, weight, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    s = np.sqrt(x.var(-1, keepdims=True) + eps)
    lead = tuple(range(x.ndim - 1))
    return dy * weight / s, np.sum(dy * (x - mu) / s, axis=lead), np.sum(dy, axis=lead)
"""
            ),
            "gradient check",
        ),
    ],
    "scaled-dot-product-attention.scaled_dot_product_attention": [
        (
            "missing 1/sqrt(d_k)",
            _code(
                """
def scaled_dot_product_attention(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2)
    if mask is not None:
        s = np.where(mask, -np.inf, s)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ v, w
"""
            ),
            "random inputs",
        ),
        (
            "mask with the opposite convention (True = may attend)",
            _code(
                """
def scaled_dot_product_attention(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ v, w
"""
            ),
            "causal mask",
        ),
        (
            "softmax over the queries (axis -2)",
            _code(
                """
def scaled_dot_product_attention(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, -np.inf, s)
    e = np.exp(s - s.max(-2, keepdims=True))
    w = e / e.sum(-2, keepdims=True)
    return w @ v, w
"""
            ),
            "random inputs",
        ),
    ],
    "scaled-dot-product-attention.scaled_dot_product_attention_backward": [
        (
            "forgot the 1/sqrt(d_k) in the backward",
            _code(
                """
def scaled_dot_product_attention_backward(dout, q, k, v, weights):
    dw = dout @ np.swapaxes(v, -1, -2)
    dv = np.swapaxes(weights, -1, -2) @ dout
    ds = weights * (dw - np.sum(dw * weights, axis=-1, keepdims=True))
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, dv
"""
            ),
            "gradient check",
        ),
    ],
}


def _m(what: str, body: str, check: str = "random inputs") -> tuple[str, str, str]:
    return (what, _code(body), check)


_SOFTMAX = """
def _softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
"""

MISTAKES.update(
    {
        "alignment.attention_weight": [
            _m(
                "softmax over the hidden axis",
                _SOFTMAX
                + """
def attention_weight(hs, h):
    return _softmax(hs * h[:, None, :], axis=1).sum(axis=2)
""",
            ),
            _m(
                "softmax over the batch axis",
                _SOFTMAX
                + """
def attention_weight(hs, h):
    return _softmax(np.einsum("nth,nh->nt", hs, h), axis=0)
""",
            ),
        ],
        "alignment.weight_sum": [
            _m(
                "mean instead of weighted sum",
                """
def weight_sum(hs, a):
    return hs.mean(axis=1)
""",
            )
        ],
        "alignment.attention_backward": [
            _m(
                "dhs only through the weighted sum",
                """
def attention_backward(dc, hs, h):
    s = np.einsum("nth,nh->nt", hs, h)
    a = np.exp(s - s.max(1, keepdims=True)); a /= a.sum(1, keepdims=True)
    da = np.einsum("nth,nh->nt", hs, dc)
    ds = a * (da - np.sum(da * a, axis=1, keepdims=True))
    return a[:, :, None] * dc[:, None, :], np.einsum("nt,nth->nh", ds, hs)
""",
                "gradient check",
            )
        ],
        "attention.time_attention": [
            _m(
                "softmax over the decoder steps",
                _SOFTMAX
                + """
def time_attention(hs, dec_hs):
    s = np.einsum("njh,nth->njt", dec_hs, hs)
    return _softmax(s, axis=1) @ hs
""",
            )
        ],
        "masked-attention.causal_mask": [
            _m(
                "blocks the diagonal too",
                """
def causal_mask(length):
    return np.triu(np.ones((length, length), dtype=bool))
""",
                "sizes",
            ),
            _m(
                "True means allowed (the opposite convention)",
                """
def causal_mask(length):
    return np.tril(np.ones((length, length), dtype=bool))
""",
                "sizes",
            ),
        ],
        "masked-attention.causal_self_attention": [
            _m(
                "no causal mask",
                _SOFTMAX
                + """
def causal_self_attention(x, w_q, w_k, w_v, causal=True):
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    w = _softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]))
    return w @ v, w
""",
            ),
            _m(
                "masks the past instead of the future",
                _SOFTMAX
                + """
def causal_self_attention(x, w_q, w_k, w_v, causal=True):
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], dtype=bool), -1), -np.inf, s)
    w = _softmax(s)
    return w @ v, w
""",
            ),
        ],
        "multi-head-attention.split_heads": [
            _m(
                "reshape straight to (N, heads, L, head_dim)",
                """
def split_heads(x, num_heads):
    N, L, E = x.shape
    return x.reshape(N, num_heads, L, E // num_heads)
""",
            )
        ],
        "multi-head-attention.merge_heads": [
            _m(
                "reshape without the transpose",
                """
def merge_heads(x):
    N, H, L, D = x.shape
    return x.reshape(N, L, H * D)
""",
            )
        ],
        "multi-head-attention.multi_head_attention": [
            _m(
                "scaled by sqrt(E) instead of sqrt(head_dim)",
                _SOFTMAX
                + """
def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, attn_mask=None):
    N, L, E = query.shape
    S = key.shape[1]
    d = E // num_heads
    wq, wk, wv = np.split(in_proj_weight, 3)
    bq, bk, bv = np.split(in_proj_bias, 3)
    def heads(x, w, b, n):
        return (x @ w.T + b).reshape(N, n, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = heads(query, wq, bq, L), heads(key, wk, bk, S), heads(value, wv, bv, S)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(E)
    if attn_mask is not None:
        s = np.where(attn_mask, -np.inf, s)
    w = _softmax(s)
    out = (w @ v).transpose(0, 2, 1, 3).reshape(N, L, E)
    return out @ out_proj_weight.T + out_proj_bias, w
""",
            )
        ],
        "positional-encoding.positional_encoding": [
            _m(
                "exponent i / d_model instead of 2i / d_model",
                """
def positional_encoding(length, d_model, base=10000.0, dtype=np.float64):
    pos = np.arange(length)[:, None]
    i = np.arange(0, d_model, 2) // 2
    ang = pos * base ** (-i / d_model)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(ang)
    pe[:, 1::2] = np.cos(ang[:, : d_model // 2])
    return pe
""",
                "sizes",
            ),
            _m(
                "sin and cos swapped",
                """
def positional_encoding(length, d_model, base=10000.0, dtype=np.float64):
    pos = np.arange(length)[:, None]
    ang = pos * base ** (-np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.cos(ang)
    pe[:, 1::2] = np.sin(ang[:, : d_model // 2])
    return pe
""",
                "sizes",
            ),
        ],
        "positional-encoding.offset_rotation": [
            _m(
                "the rotation's transpose",
                """
def offset_rotation(k, d_model, base=10000.0):
    R = np.zeros((d_model, d_model))
    for i in range(d_model // 2):
        a = k * base ** (-2 * i / d_model)
        R[2*i:2*i+2, 2*i:2*i+2] = [[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]
    return R
""",
                "random offsets",
            )
        ],
        "conv-as-dense.im2col": [
            _m(
                "columns in (fh, fw, C) order",
                """
def im2col(x, fh, fw, stride=1):
    N, C, H, W = x.shape
    oh, ow = (H - fh) // stride + 1, (W - fw) // stride + 1
    rows = [x[n, :, y*stride:y*stride+fh, c*stride:c*stride+fw].transpose(1, 2, 0).ravel()
            for n in range(N) for y in range(oh) for c in range(ow)]
    return np.array(rows)
""",
            )
        ],
        "conv-as-dense.conv2d": [
            _m(
                "flips the filter (a true convolution)",
                """
def conv2d(x, weight, bias, stride=1):
    N, C, H, W = x.shape
    FN, _, FH, FW = weight.shape
    wf = weight[:, :, ::-1, ::-1]
    oh, ow = (H - FH) // stride + 1, (W - FW) // stride + 1
    out = np.zeros((N, FN, oh, ow))
    for y in range(oh):
        for c in range(ow):
            win = x[:, :, y*stride:y*stride+FH, c*stride:c*stride+FW]
            out[:, :, y, c] = np.einsum("nchw,fchw->nf", win, wf) + bias
    return out
""",
            )
        ],
        "conv-as-dense.dense": [
            _m(
                "flattens in (H, W, C) order",
                """
def dense(x, weight, bias):
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    return x.reshape(x.shape[0], -1) @ weight + bias
""",
                "image input",
            )
        ],
        "conv-as-dense.conv_weight_as_dense": [
            _m(
                "reshape without the transpose",
                """
def conv_weight_as_dense(weight):
    return weight.reshape(-1, weight.shape[0])
""",
            )
        ],
        "conv-as-dense.dense_weight_as_conv": [
            _m(
                "reshape without the transpose",
                """
def dense_weight_as_conv(weight, c, h, w):
    return weight.reshape(-1, c, h, w)
""",
            )
        ],
        "vit-patch-embedding.image_to_patches": [
            _m(
                "plain reshape (mixes pixels of different patches)",
                """
def image_to_patches(images, patch_size):
    N, C, H, W = images.shape
    P = patch_size
    return images.reshape(N, (H // P) * (W // P), C * P * P)
""",
            )
        ],
        "vit-patch-embedding.patch_embedding": [
            _m(
                "patch pixels in (P, P, C) order",
                """
def patch_embedding(images, weight, bias):
    N, C, H, W = images.shape
    D, _, P, _ = weight.shape
    x = images.reshape(N, C, H // P, P, W // P, P).transpose(0, 2, 4, 3, 5, 1)
    return x.reshape(N, -1, C * P * P) @ weight.reshape(D, -1).T + bias
""",
            )
        ],
        "vit-patch-embedding.embed": [
            _m(
                "no position embedding on the [CLS] token",
                """
from vit_patch_embedding import patch_embedding

def embed(images, weight, bias, cls_token, pos_embedding):
    t = patch_embedding(images, weight, bias) + pos_embedding[1:]
    cls = np.broadcast_to(cls_token, (t.shape[0], 1, t.shape[2]))
    return np.concatenate([cls, t], axis=1)
""",
            )
        ],
        "vit-patch-embedding.pool": [
            _m(
                "mean over all tokens, [CLS] included",
                """
def pool(tokens, method="cls"):
    return tokens[:, 0] if method == "cls" else tokens.mean(axis=1)
""",
                "mean",
            )
        ],
    }
)

MISTAKES.update(
    {
        "neural-turing-machine.cosine_similarity": [
            _m(
                "raw dot product",
                "def cosine_similarity(key, memory, eps=1e-8):\n    return memory @ key\n",
            )
        ],
        "neural-turing-machine.content_addressing": [
            _m(
                "dot product instead of cosine",
                _SOFTMAX
                + "def content_addressing(memory, key, beta):\n    return _softmax(beta * (memory @ key))\n",
            )
        ],
        "neural-turing-machine.interpolate": [
            _m(
                "g and 1 - g swapped",
                "def interpolate(w_content, w_prev, g):\n    return (1 - g) * w_content + g * w_prev\n",
            )
        ],
        "neural-turing-machine.circular_shift": [
            _m(
                "rolls the wrong way",
                "def circular_shift(w, s, shifts=(-1, 0, 1)):\n"
                "    return sum(p * np.roll(w, -k) for p, k in zip(s, shifts))\n",
            )
        ],
        "neural-turing-machine.sharpen": [
            _m("no renormalisation", "def sharpen(w, gamma):\n    return w ** gamma\n")
        ],
        "neural-turing-machine.address": [
            _m(
                "sharpens before the shift",
                """
from neural_turing_machine import content_addressing, interpolate, circular_shift, sharpen

def address(memory, w_prev, key, beta, g, s, gamma, shifts=(-1, 0, 1)):
    w = interpolate(content_addressing(memory, key, beta), w_prev, g)
    return circular_shift(sharpen(w, gamma), s, shifts)
""",
            )
        ],
        "neural-turing-machine.read": [
            _m(
                "reads the columns",
                "def read(memory, w):\n    return memory.sum(axis=0) * w.mean()\n",
            )
        ],
        "neural-turing-machine.write": [
            _m(
                "adds before erasing",
                "def write(memory, w, erase, add):\n"
                "    m = memory + np.outer(w, add)\n    return m * (1 - np.outer(w, erase))\n",
            )
        ],
        "bleu.ngrams": [
            _m(
                "lists instead of tuples, and one n-gram too few",
                "from collections import Counter\n"
                "def ngrams(tokens, n):\n"
                "    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n))\n",
                "the paper's candidate",
            )
        ],
        "bleu.clipped_counts": [
            _m(
                "clips by the sum over references",
                """
from collections import Counter
from bleu import ngrams

def clipped_counts(references, hypothesis, n):
    counts = ngrams(hypothesis, n)
    total = Counter()
    for r in references:
        total += ngrams(r, n)
    return sum(min(c, total[g]) for g, c in counts.items()), sum(counts.values())
""",
                "repeated words",
            )
        ],
        "bleu.modified_precision": [
            _m(
                "no clipping",
                """
from fractions import Fraction
from bleu import ngrams

def modified_precision(references, hypothesis, n):
    counts = ngrams(hypothesis, n)
    seen = set().union(*(ngrams(r, n) for r in references))
    return Fraction(sum(c for g, c in counts.items() if g in seen), max(sum(counts.values()), 1))
""",
                "repeated words",
            )
        ],
        "bleu.closest_ref_length": [
            _m(
                "the longer reference on a tie",
                "def closest_ref_length(references, hyp_len):\n"
                "    return min((len(r) for r in references), key=lambda r: (abs(r - hyp_len), -r))\n",
                "tie",
            )
        ],
        "bleu.brevity_penalty": [
            _m(
                "r/c inverted",
                "import math\n"
                "def brevity_penalty(ref_len, hyp_len):\n"
                "    if hyp_len > ref_len:\n        return 1.0\n"
                "    if hyp_len == 0:\n        return 0.0\n"
                "    return math.exp(1 - hyp_len / ref_len)\n",
                "lengths",
            )
        ],
        "bleu.corpus_bleu": [
            _m(
                "mean of sentence BLEUs (macro average)",
                """
from bleu import sentence_bleu

def corpus_bleu(list_of_references, hypotheses, weights=(0.25, 0.25, 0.25, 0.25), at_least_one_ngram=False):
    scores = [sentence_bleu(r, h, weights) for r, h in zip(list_of_references, hypotheses)]
    return sum(scores) / len(scores)
""",
                "random corpus",
            )
        ],
        "bleu.sentence_bleu": [
            _m(
                "no brevity penalty",
                """
import math
from bleu import modified_precision

def sentence_bleu(references, hypothesis, weights=(0.25, 0.25, 0.25, 0.25)):
    logs = [w * math.log(modified_precision(references, hypothesis, n + 1)) for n, w in enumerate(weights)]
    return math.exp(sum(logs))
""",
                "short candidate",
            )
        ],
        "ites-uint32.lcg_python": [
            _m(
                "starts after the seed",
                "def lcg_python(n, modulus=2**32):\n    out, a = [], 1983\n"
                "    for _ in range(n):\n        a = a * 214013 + 2531011\n"
                "        out.append(a % modulus if modulus else a)\n    return out\n",
                "sizes",
            )
        ],
        "ites-uint32.lcg": [
            _m(
                "int64 arithmetic, never reduced mod 2**32",
                "def lcg(n, dtype=np.uint32):\n    a = np.empty(n, dtype=np.int64)\n    a[0] = 1983\n"
                "    for i in range(1, n):\n        a[i] = a[i - 1] * 214013 + 2531011\n"
                "    return a\n",
                "uint32",
            )
        ],
        "ites-uint32.signals": [
            _m(
                "signal[i] from A[i] instead of A[i-1]",
                "from ites_uint32 import lcg\n"
                "def signals(n, dtype=np.uint32):\n"
                "    return (lcg(n + 1, dtype)[1:] % 10000 + 1).astype(np.int64)\n",
                "uint32",
            )
        ],
        "ites-uint32.count_ranges_queue": [
            _m(
                "never pops: counts only the ranges that start at 0",
                """
def count_ranges_queue(sig, k):
    total = count = 0
    for s in sig:
        total += int(s)
        if total == k:
            count += 1
    return count
""",
                "the problem's example",
            )
        ],
        "ites-uint32.count_ranges": [
            _m(
                "forgets P[0] = 0",
                "def count_ranges(sig, k, block=1 << 14):\n"
                "    p = np.cumsum(np.asarray(sig, dtype=np.int64))\n"
                "    j = np.searchsorted(p, p + k)\n"
                "    return int(np.sum((j < len(p)) & (p[np.minimum(j, len(p) - 1)] == p + k)))\n",
                "range at the start",
            )
        ],
        "skip-connection.stack_forward": [
            _m(
                "skip adds the layer's output twice",
                _SIG
                + """
def stack_forward(x, weights, biases, residual):
    h, cache = x, []
    for W, b in zip(weights, biases):
        f = sig(h @ W + b)
        cache.append((h, f))
        h = f + f if residual else f
    return h, cache
""",
                "residual",
            )
        ],
        "skip-connection.stack_backward": [
            _m(
                "drops the skip path in the backward",
                """
def stack_backward(dout, cache, weights, residual):
    dh, dWs, dbs, norms = dout, [None] * len(weights), [None] * len(weights), [float(np.linalg.norm(dout))]
    for l in reversed(range(len(weights))):
        h, f = cache[l]
        da = dh * f * (1 - f)
        dWs[l], dbs[l] = h.T @ da, da.sum(0)
        dh = da @ weights[l].T
        norms.append(float(np.linalg.norm(dh)))
    return dh, dWs, dbs, norms[::-1]
""",
                "residual",
            )
        ],
    }
)

MISTAKES.update(
    {
        "transformer.linear": [
            _m(
                "weight not transposed",
                "def linear(x, weight, bias):\n    return x @ weight.T.T.T.T + bias * 0\n",
            )
        ],
        "transformer.learning_rate": [
            _m(
                "warmup^-0.5 instead of warmup^-1.5",
                "def learning_rate(step, d_model, warmup=4000):\n"
                "    return d_model**-0.5 * min(step**-0.5, step * warmup**-0.5)\n",
                "steps",
            )
        ],
        "convolution.conv_output_size": [
            _m(
                "padding counted once",
                "def conv_output_size(size, kernel, stride=1, padding=0):\n"
                "    return (size + padding - kernel) // stride + 1\n",
                "sizes",
            )
        ],
        "word-embedding.embedding": [
            _m(
                "transposed lookup",
                "def embedding(ids, weight):\n    return weight.T[:, ids].T[..., ::-1]\n",
                "random ids",
            )
        ],
        "word-embedding.embedding_backward": [
            _m(
                "assignment instead of scatter-add",
                "def embedding_backward(dout, ids, num_embeddings):\n"
                "    dW = np.zeros((num_embeddings, dout.shape[-1]))\n    dW[ids] = dout\n    return dW\n",
                "repeated ids",
            )
        ],
        "hadamard-product.hadamard_backward": [
            _m(
                "gradients swapped",
                "def hadamard_backward(dout, a, b):\n    return dout * a, dout * b\n",
            )
        ],
        "unet-skip-connection.center_crop": [
            _m(
                "crops from the top-left corner",
                "def center_crop(x, height, width):\n    return x[..., :height, :width]\n",
            )
        ],
        "unet-skip-connection.concat_skip": [
            _m(
                "skip first, then up",
                "from unet_skip_connection import center_crop\n"
                "def concat_skip(up, skip):\n"
                "    return np.concatenate([center_crop(skip, *up.shape[-2:]), up], axis=1)\n",
            )
        ],
        "sequence-data.autocorrelation": [
            _m(
                "not centred",
                "def autocorrelation(x, lag):\n    return float(np.dot(x[:-lag], x[lag:]) / np.dot(x, x))\n",
                "white noise",
            )
        ],
        "sequence-data.fit_ar1": [
            _m(
                "divides by the full sum of squares",
                "def fit_ar1(x):\n    return float(np.dot(x[1:], x[:-1]) / np.dot(x, x) + 0.01)\n",
                "AR(1) series",
            )
        ],
        "transformer-block.gelu": [
            _m(
                "missing the cubic term",
                "def gelu(x):\n    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * x))\n",
            )
        ],
        "transformer-block.feed_forward": [
            _m(
                "no activation",
                "def feed_forward(x, w1, b1, w2, b2, activation='relu'):\n    return (x @ w1.T + b1) @ w2.T + b2\n",
            )
        ],
        "bidirectional-rnn.bi_lstm": [
            _m(
                "backward outputs not flipped back",
                """
from lstm import TimeLSTM

def bi_lstm(xs, fwd, bwd):
    hf = TimeLSTM(**fwd).forward(xs)
    hb = TimeLSTM(**bwd).forward(xs[:, ::-1])
    return np.concatenate([hf, hb], axis=2)
""",
            )
        ],
        "bootstrapping.bootstrap_se": [
            _m(
                "ddof=0",
                "def bootstrap_se(replicates):\n    return float(np.std(replicates))\n",
                "random replicates",
            )
        ],
        "bootstrapping.percentile_interval": [
            _m(
                "quantiles at 1 - level and level",
                "def percentile_interval(replicates, level=0.95):\n"
                "    lo, hi = np.quantile(replicates, [1 - level, level])\n    return float(lo), float(hi)\n",
                "random replicates",
            )
        ],
        "cofactor-expansion.minor": [
            _m(
                "deletes column i and row j",
                "def minor(A, i, j):\n    return np.delete(np.delete(A, j, 0), i, 1)\n",
                "random matrix",
            )
        ],
        "cofactor-expansion.det_cofactor": [
            _m(
                "no alternating signs",
                """
def det_cofactor(A, row=0, ops=None):
    A = np.asarray(A)
    if A.shape[0] == 1:
        return A[0, 0]
    return sum(A[0, j] * det_cofactor(np.delete(np.delete(A, 0, 0), j, 1)) for j in range(A.shape[0]))
""",
                "integer matrices",
            )
        ],
        "data-preprocessing.fit_standardizer": [
            _m(
                "ddof=1",
                "def fit_standardizer(X):\n    return X.mean(axis=0), X.std(axis=0, ddof=1)\n",
                "random data",
            )
        ],
        "data-preprocessing.covariance": [
            _m("not centred", "def covariance(X):\n    return X.T @ X / len(X)\n", "random data")
        ],
        "generative-models.normal_log_pdf": [
            _m(
                "log of the variance instead of the std",
                "def normal_log_pdf(x, mean, std):\n"
                "    z = (x - mean) / std\n    return -0.5 * (z * z + np.log(2 * np.pi)) - np.log(std**2)\n",
            )
        ],
        "np-dot-shapes.matmul_loops": [
            _m(
                "keeps the promoted axis",
                "def matmul_loops(a, b):\n"
                "    a = a[None] if a.ndim == 1 else a\n    b = b[:, None] if b.ndim == 1 else b\n"
                "    return np.matmul(a, b)\n",
                "vector and matrix",
            )
        ],
        "seq2seq.time_softmax_with_loss": [
            _m(
                "sum instead of mean",
                "def time_softmax_with_loss(scores, targets):\n"
                "    m = scores.max(-1, keepdims=True)\n    lp = scores - m - np.log(np.exp(scores - m).sum(-1, keepdims=True))\n"
                "    return float(-np.take_along_axis(lp, targets[..., None], -1).sum())\n",
            )
        ],
        "peeky-seq2seq.peeky_inputs": [
            _m(
                "embedded first",
                "def peeky_inputs(h, embedded):\n"
                "    return np.concatenate([embedded, np.repeat(h[:, None], embedded.shape[1], 1)], 2)\n",
            )
        ],
        "vanishing-exploding-gradients.clip_grads": [
            _m(
                "clips every array by its own norm",
                "def clip_grads(grads, max_norm):\n"
                "    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))\n"
                "    return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads], total\n",
                "large gradients",
            )
        ],
        "autoregressive-models.markov_param_count": [
            _m(
                "V probabilities per context",
                "def markov_param_count(order, V=2):\n    return V**order * V\n",
                "orders",
            )
        ],
        "gpt-pretraining.conditional_entropy": [
            _m(
                "marginal entropy of the next token (ignores the context)",
                """
from collections import Counter

def conditional_entropy(corpus, context="prefix"):
    nxt = [int(t) for row in corpus for t in row[1:]]
    c = Counter(nxt)
    return float(-sum(np.log(c[t] / len(nxt)) for t in nxt) / len(nxt))
""",
                "prefix",
            )
        ],
    }
)
