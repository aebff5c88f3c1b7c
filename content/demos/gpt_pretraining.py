"""GPT-style pre-training (next-token prediction) and fine-tuning, with a tiny causal model.

The model is one causal multi-head self-attention layer with a residual connection:

    x = W_te[tokens] + W_pe[positions]                    (B, T, E)
    a = MultiHead causal attention of x (2 heads, no W_o)  (position t sees 0..t)
    logits = (x + a) W_out + b_out                        (B, T, V)

Pre-training objective (Radford et al. 2018, eq. 1): maximise sum_t log P(u_t | u_<t),
i.e. the cross-entropy between the logits at position t and the token at t + 1 (the
targets are the inputs shifted left by one). Fine-tuning here keeps the weights and
the objective and simply continues training on a small task dataset written as text
("<s> 할머니께서 = 사람"), the way instruction/supervised fine-tuning of today's GPT
models works. (GPT-1 itself put a new linear classifier on the last token, eqs. 3-4,
and kept the language-modelling loss as an auxiliary term, eq. 5; predicting a label
token with W_out is close to that classifier, with the label tokens' columns of W_out
playing W_y.)

Sources: Radford et al. (2018), Improving Language Understanding by Generative
Pre-Training, sec. 3.1 (eqs. 1-2), 3.2 (eqs. 3-5) and 3.3; 밑바닥부터 시작하는 딥러닝 2,
ch. 5.4-5.5 (RNNLM: the same next-word objective, Time Softmax with Loss) and 7.1
(generation). The model trains from scratch inside demo() in about 0.2 s; nothing
is pre-loaded.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from common import softmax
from masked_attention import causal_mask
from multi_head_attention import merge_heads, split_heads
from scaled_dot_product_attention import (
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)

VOCAB = [
    "<s>",
    ".",
    "=",
    "할머니께서",
    "선생님께서",
    "고양이는",
    "강아지는",
    "사과를",
    "물을",
    "책을",
    "먹는다",
    "마신다",
    "읽는다",
    "드신다",
    "읽으신다",
    "사람",
    "동물",
]
TOKEN = {w: i for i, w in enumerate(VOCAB)}
# Subject honorification (주체 높임): an honoured subject (…께서) takes the -시- verb form.
HONORIFIC = {"할머니께서": True, "선생님께서": True, "고양이는": False, "강아지는": False}
VERB = {
    ("사과를", False): "먹는다",
    ("물을", False): "마신다",
    ("책을", False): "읽는다",
    ("사과를", True): "드신다",
    ("물을", True): "드신다",
    ("책을", True): "읽으신다",
}
OBJECTS = ["사과를", "물을", "책을"]
HEADS = 2
PRETRAIN_STEPS, PRETRAIN_LR = 150, 0.03
FINETUNE_STEPS, FINETUNE_LR = 60, 0.02


def encode(words: list[str]) -> list[int]:
    return [TOKEN[w] for w in words]


def decode(ids) -> list[str]:
    return [VOCAB[int(i)] for i in ids]


def sentence(subject: str, obj: str) -> list[str]:
    return ["<s>", subject, obj, VERB[(obj, HONORIFIC[subject])], "."]


def pretraining_corpus() -> np.ndarray:
    """All 12 sentences "<s> S O V ." of the toy language, (12, 5) token ids.

    The verb depends on the object (먹는다 / 마신다 / 읽는다) *and* on the subject two
    tokens back (할머니께서 ... 드신다), so predicting it needs more than the last token.
    """
    return np.array([encode(sentence(s, o)) for s in HONORIFIC for o in OBJECTS])


def task_example(subject: str) -> list[int]:
    """One line of the fine-tuning task: "<s> S = 사람" or "<s> S = 동물"."""
    return encode(["<s>", subject, "=", "사람" if HONORIFIC[subject] else "동물"])


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """The fine-tuning task (person or animal?): two labelled lines, two held-out lines.

    Returns (train, held_out), each (2, 4) token ids. The held-out subjects
    (선생님께서, 강아지는) never appear in the task data, only in pre-training text.
    """
    train = np.array([task_example("할머니께서"), task_example("고양이는")])
    held_out = np.array([task_example("선생님께서"), task_example("강아지는")])
    return train, held_out


def conditional_entropy(corpus: np.ndarray, context: str = "prefix") -> float:
    """The lowest mean next-token loss (nats) any model can reach on ``corpus``.

    Counts, over all predicted positions, how often each next token follows each
    context: the whole prefix ("prefix", what a causal Transformer can see) or only
    the current token ("last", the best a bigram model can do). Returns the mean
    of -log P(next | context) under those empirical probabilities.
    """
    pairs = []
    for row in corpus:
        for t in range(len(row) - 1):
            ctx = tuple(row[: t + 1]) if context == "prefix" else (row[t],)
            pairs.append((ctx, int(row[t + 1])))
    joint = Counter(pairs)
    ctx_count = Counter(c for c, _ in pairs)
    return float(-sum(np.log(joint[p] / ctx_count[p[0]]) for p in pairs) / len(pairs))


def init_params(
    vocab_size: int, max_len: int, dim: int, rng: np.random.Generator, dtype=np.float64
) -> dict[str, np.ndarray]:
    """Small random weights (std 0.1 embeddings, 1/sqrt(dim) projections, zero output bias)."""
    s = 1.0 / np.sqrt(dim)
    return {
        "wte": (0.1 * rng.standard_normal((vocab_size, dim))).astype(dtype),
        "wpe": (0.1 * rng.standard_normal((max_len, dim))).astype(dtype),
        "w_q": (s * rng.standard_normal((dim, dim))).astype(dtype),
        "w_k": (s * rng.standard_normal((dim, dim))).astype(dtype),
        "w_v": (s * rng.standard_normal((dim, dim))).astype(dtype),
        "w_out": (s * rng.standard_normal((dim, vocab_size))).astype(dtype),
        "b_out": np.zeros(vocab_size, dtype=dtype),
    }


def forward(
    params: dict[str, np.ndarray], tokens: np.ndarray, num_heads: int = HEADS
) -> tuple[np.ndarray, dict]:
    """tokens (B, T) int -> logits (B, T, V); logits[:, t] predict the token at t + 1."""
    T = tokens.shape[1]
    x = params["wte"][tokens] + params["wpe"][:T]
    q, k, v = (split_heads(x @ params[w], num_heads) for w in ("w_q", "w_k", "w_v"))
    a, att = scaled_dot_product_attention(q, k, v, mask=causal_mask(T))  # (B, H, T, E/H)
    h = x + merge_heads(a)  # residual connection
    logits = h @ params["w_out"] + params["b_out"]
    return logits, {"tokens": tokens, "x": x, "q": q, "k": k, "v": v, "att": att, "h": h}


def flat(a: np.ndarray) -> np.ndarray:
    """(B, T, D) -> (B*T, D), so one matrix product sums over batch and time."""
    return a.reshape(-1, a.shape[-1])


def next_token_loss(
    params: dict[str, np.ndarray],
    tokens: np.ndarray,
    loss_mask: np.ndarray | None = None,
    with_grads: bool = True,
    num_heads: int = HEADS,
) -> tuple[float, dict[str, np.ndarray] | None]:
    """Mean cross-entropy of predicting tokens[:, 1:] from tokens[:, :-1] (shifted targets).

    Args:
        tokens: (B, T) ids; the model reads tokens[:, :-1] and must predict tokens[:, 1:].
        loss_mask: optional (B, T - 1) weights of the predicted positions (1 = counted);
            used only to *measure* the task loss at the label position.

    Returns:
        the loss in nats per counted token, and the gradients of every parameter.
    """
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits, c = forward(params, inputs, num_heads)
    B, T, V = logits.shape
    weights = np.ones((B, T)) if loss_mask is None else loss_mask.astype(np.float64)
    # log-softmax computed directly (not log(softmax)) so tiny probabilities keep their digits
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = log_probs[np.arange(B)[:, None], np.arange(T)[None, :], targets]
    loss = float(-np.sum(weights * picked) / weights.sum())
    if not with_grads:
        return loss, None

    # Softmax with cross-entropy: dlogits = (p - onehot) / count   (밑바닥1 ch. 5.6.3)
    dlogits = np.exp(log_probs)  # the softmax probabilities
    dlogits[np.arange(B)[:, None], np.arange(T)[None, :], targets] -= 1.0
    dlogits *= weights[..., None] / weights.sum()
    grads = {
        "w_out": flat(c["h"]).T @ flat(dlogits),
        "b_out": dlogits.sum(axis=(0, 1)),
    }
    dh = dlogits @ params["w_out"].T
    H = c["q"].shape[1]
    dq, dk, dv = (
        merge_heads(d)
        for d in scaled_dot_product_attention_backward(
            split_heads(dh, H), c["q"], c["k"], c["v"], c["att"]
        )
    )
    grads["w_q"] = flat(c["x"]).T @ flat(dq)  # x is (B, T, E): sum over batch and time
    grads["w_k"] = flat(c["x"]).T @ flat(dk)
    grads["w_v"] = flat(c["x"]).T @ flat(dv)
    dx = dh + dq @ params["w_q"].T + dk @ params["w_k"].T + dv @ params["w_v"].T
    grads["wte"] = np.zeros_like(params["wte"])
    np.add.at(grads["wte"], c["tokens"], dx)  # embedding backward: scatter-add by token id
    grads["wpe"] = np.zeros_like(params["wpe"])
    grads["wpe"][:T] = dx.sum(axis=0)
    return loss, grads


def train(
    params: dict[str, np.ndarray],
    tokens: np.ndarray,
    steps: int,
    lr: float,
    eval_fn=None,
) -> list[float]:
    """Full-batch Adam (Kingma & Ba 2015) on next_token_loss; params change in place.

    Returns the training loss before each step (and, if eval_fn is given, calls it
    after each step so the caller can record other curves).
    """
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = {k: np.zeros_like(v) for k, v in params.items()}
    s = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    for step in range(1, steps + 1):
        loss, grads = next_token_loss(params, tokens)
        losses.append(loss)
        for k in params:
            m[k] = b1 * m[k] + (1 - b1) * grads[k]
            s[k] = b2 * s[k] + (1 - b2) * grads[k] ** 2
            m_hat, s_hat = m[k] / (1 - b1**step), s[k] / (1 - b2**step)
            params[k] -= lr * m_hat / (np.sqrt(s_hat) + eps)
        if eval_fn is not None:
            eval_fn()
    return losses


def pretrain(
    seed: int, steps: int = PRETRAIN_STEPS, lr: float = PRETRAIN_LR
) -> tuple[dict[str, np.ndarray], float]:
    """Pre-train the demo's model from ``init_params(..., default_rng(seed))``.

    Returns (params, final mean next-token loss on the corpus in nats). A run is
    "stuck" when that loss stays above the whole-prefix floor (0.621) by more than
    0.05: seeds 0-99 give 9 such runs (17, 24, 30, 33, 71, 72, 89, 90, 96).
    """
    corpus = pretraining_corpus()
    params = init_params(len(VOCAB), 6, 16, np.random.default_rng(seed))
    train(params, corpus, steps, lr)
    return params, next_token_loss(params, corpus, with_grads=False)[0]


def label_loss_and_accuracy(
    params: dict[str, np.ndarray], tokens: np.ndarray
) -> tuple[float, float]:
    """Task metrics: next-token loss at the label (last) position only, and greedy accuracy."""
    mask = np.zeros((tokens.shape[0], tokens.shape[1] - 1))
    mask[:, -1] = 1.0
    loss, _ = next_token_loss(params, tokens, mask, with_grads=False)
    logits, _ = forward(params, tokens[:, :-1])
    accuracy = float(np.mean(logits[:, -1].argmax(axis=-1) == tokens[:, -1]))
    return loss, accuracy


def generate(
    params: dict[str, np.ndarray], prompt: list[str], max_new: int, stop: str = "."
) -> list[str]:
    """Greedy decoding: append the most likely next token until ``stop`` (밑바닥2 ch. 7.1)."""
    ids = encode(prompt)
    for _ in range(max_new):
        logits, _ = forward(params, np.array([ids]))
        ids.append(int(logits[0, -1].argmax()))
        if VOCAB[ids[-1]] == stop:
            break
    return decode(ids)


def demo() -> None:
    from studylog.demo import api as out

    corpus = pretraining_corpus()
    task_train, task_held = task_data()
    params = init_params(len(VOCAB), 6, 16, np.random.default_rng(0))

    out.text(
        f"A toy language of {len(corpus)} sentences '<s> S O V .' ({len(VOCAB)} tokens). The verb "
        "depends on the object and, through subject honorification (주체 높임), on the subject "
        "two tokens earlier: 고양이는 물을 마신다, but 할머니께서 물을 드신다."
    )
    sent = corpus[4]
    out.table(
        "next-token prediction: the targets are the inputs shifted by one",
        columns=["position t", "input u_t", "target u_(t+1)"],
        rows=[[t, VOCAB[sent[t]], VOCAB[sent[t + 1]]] for t in range(len(sent) - 1)],
    )

    # --- Pre-training: the only objective is "predict the next token".
    floor, bigram = conditional_entropy(corpus, "prefix"), conditional_entropy(corpus, "last")
    init_loss, _ = next_token_loss(params, corpus, with_grads=False)
    curve = train(params, corpus, PRETRAIN_STEPS, PRETRAIN_LR)
    pre_loss, _ = next_token_loss(params, corpus, with_grads=False)
    out.line(
        "pre-training loss (nats per token)",
        x=list(range(len(curve))),
        series={
            "train loss": curve,
            "best with the whole prefix": [floor] * len(curve),
            "best with the last token only (bigram)": [bigram] * len(curve),
        },
        x_title="Adam step (full batch)",
        y_title="cross-entropy",
    )
    out.table(
        "pre-training loss",
        columns=["", "nats per token"],
        rows=[
            [f"at init (ln V = {np.log(len(VOCAB)):.3f})", round(init_loss, 4)],
            [f"after {PRETRAIN_STEPS} steps", round(pre_loss, 4)],
            ["best possible, whole prefix: (ln 4 + ln 3) / 4", round(floor, 4)],
            ["best possible, last token only: (ln 4 + ln 3 + ln 2) / 4", round(bigram, 4)],
        ],
    )
    verbs = ["먹는다", "마신다", "드신다", "읽는다", "읽으신다"]
    prompts = [["<s>", "고양이는", "물을"], ["<s>", "할머니께서", "물을"]]
    probs = [softmax(forward(params, np.array([encode(pr)]))[0][0, -1]) for pr in prompts]
    out.array(
        "P(next token) after pre-training",
        np.array([p[encode(verbs)] for p in probs]).round(3),
        rows=[" ".join(pr[1:]) for pr in prompts],
        cols=verbs,
    )
    out.value(
        "greedy generation from '<s> 선생님께서 책을'",
        " ".join(generate(params, ["<s>", "선생님께서", "책을"], 3)),
    )
    subjects = list(HONORIFIC)
    emb = params["wte"][encode(subjects)]
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    out.heatmap(
        "cosine similarity of the subject embeddings after pre-training",
        (emb @ emb.T).round(2),
        x_labels=subjects,
        y_labels=subjects,
    )

    # --- Fine-tuning: the same weights and the same loss, on two labelled lines.
    scratch = init_params(len(VOCAB), 6, 16, np.random.default_rng(0))  # same init, no pre-training
    models = {"pre-trained": params, "from scratch": scratch}
    before = {name: label_loss_and_accuracy(p, task_held) for name, p in models.items()}
    curves: dict[str, list[float]] = {}
    for name, p in models.items():
        held: list[float] = []
        train(
            p,
            task_train,
            FINETUNE_STEPS,
            FINETUNE_LR,
            eval_fn=lambda p=p, held=held: held.append(label_loss_and_accuracy(p, task_held)[0]),
        )
        curves[f"{name}: held-out label loss"] = held
    after = {name: label_loss_and_accuracy(p, task_held) for name, p in models.items()}
    out.text(
        "Fine-tuning data, two lines: '<s> 할머니께서 = 사람' and '<s> 고양이는 = 동물'. Held out: "
        "'<s> 선생님께서 = ?' and '<s> 강아지는 = ?', subjects that never appear with a label."
    )
    out.line(
        "fine-tuning: loss of the label token on the held-out lines",
        x=list(range(1, FINETUNE_STEPS + 1)),
        series=curves,
        x_title="Adam step",
        y_title="cross-entropy",
        log_y=True,
    )
    pre_after, _ = next_token_loss(params, corpus, with_grads=False)
    out.table(
        "before vs after fine-tuning",
        columns=["", "before", "after"],
        rows=[
            [
                "pre-trained: held-out label loss",
                round(before["pre-trained"][0], 3),
                round(after["pre-trained"][0], 4),
            ],
            ["pre-trained: held-out accuracy", before["pre-trained"][1], after["pre-trained"][1]],
            [
                "from scratch: held-out label loss",
                round(before["from scratch"][0], 3),
                round(after["from scratch"][0], 4),
            ],
            [
                "from scratch: held-out accuracy",
                before["from scratch"][1],
                after["from scratch"][1],
            ],
            [
                "pre-trained: loss on the pre-training corpus",
                round(pre_loss, 3),
                round(pre_after, 3),
            ],
        ],
    )
    out.text(
        "Nothing about the model or the loss changed for fine-tuning: it kept predicting the "
        "next token, now on '<s> S = label' lines. Pre-training had placed 선생님께서 next to "
        "할머니께서 (both take -시- verbs) and 강아지는 next to 고양이는, so two labelled lines were "
        "enough to label the unseen subjects; the same model trained from scratch on those two "
        "lines can only guess. The price is forgetting: the two task lines taught it that '=' "
        f"follows every subject, so its loss on the pre-training sentences rose from {pre_loss:.2f} "
        f"to {pre_after:.1f}. Real fine-tuning limits this with small learning rates, few steps "
        "and a mix of general text."
    )
