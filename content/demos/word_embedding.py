"""Word embeddings: the Embedding layer and word2vec (CBOW / skip-gram with negative sampling).

    Embedding:   W[ids]  ==  onehot(ids) @ W            ids (N,) -> (N, D); W (V, D)
    CBOW:        h = mean_j W_in[context_j]              predict the centre word
    skip-gram:   h = W_in[centre]                        predict each context word
    negative sampling (per target):
                 L = -log σ(h · W_out[target]) - sum_k log σ(-h · W_out[negative_k])

Negatives are drawn from the unigram distribution raised to the power 0.75.
Sources: 밑바닥부터 시작하는 딥러닝 2, ch. 3.1-3.2 (추론 기반 기법, CBOW), 4.1 (Embedding
계층: W[idx], backward with np.add.at), 4.2 (네거티브 샘플링: 이진 분류, sigmoid with loss,
UnigramSampler with power 0.75), 4.3.3 (유추 문제, analogy by vector arithmetic and
cosine similarity); Mikolov, Chen, Corrado & Dean (2013a), Efficient Estimation of Word
Representations in Vector Space (CBOW, skip-gram); Mikolov, Sutskever, Chen, Corrado &
Dean (2013b), Distributed Representations of Words and Phrases and their
Compositionality, eq. 4 (negative sampling) and sec. 2.2 (U(w)^(3/4)).
``embedding(ids, weight)`` has the argument order of ``torch.nn.functional.embedding``.
"""

from __future__ import annotations

import numpy as np
from common import sigmoid

from studylog.demo import api as out

Params = dict[str, np.ndarray]


def embedding(ids: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Row lookup: ids (...) ints, weight (V, D) -> weight[ids], shape (..., D).

    The same as onehot(ids) @ weight, without building the (…, V) one-hot matrix
    (밑바닥2 4.1.1). Raises IndexError for an id outside 0..V-1 (negative ids too).
    """
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= weight.shape[0]):
        raise IndexError(f"ids must be in 0..{weight.shape[0] - 1}")
    return weight[ids]


def embedding_backward(dout: np.ndarray, ids: np.ndarray, num_embeddings: int) -> np.ndarray:
    """Gradient of weight for :func:`embedding`: dout (..., D) scatter-added into (V, D).

    An id that occurs twice must receive both gradients: this is
    ``np.add.at(dW, ids, dout)`` (밑바닥2 4.1.2), not ``dW[ids] = dout``, which keeps only
    the last one. Computed with one ``np.bincount`` over (row, column) cells, which gives
    the same sums several times faster.
    """
    D = dout.shape[-1]
    flat_ids = np.asarray(ids).reshape(-1)
    cells = (flat_ids[:, None] * D + np.arange(D)).reshape(-1)
    sums = np.bincount(cells, weights=dout.reshape(-1), minlength=num_embeddings * D)
    return sums.reshape(num_embeddings, D).astype(dout.dtype, copy=False)


def negative_sampling_loss(
    h: np.ndarray, W_out: np.ndarray, targets: np.ndarray, negatives: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Binary "is this the right word?" loss for one positive and K negatives per row.

    Args:
        h: hidden vectors (N, D).
        W_out: output embeddings (V, D).
        targets: the correct word per row, (N,) ints.
        negatives: K sampled wrong words per row, (N, K) ints.

    Returns:
        (loss, dh (N, D), dW_out (V, D)); the loss is the mean over rows of
        -log σ(h·w_t) - sum_k log σ(-h·w_k) (Mikolov et al. 2013b, eq. 4), in nats.
    """
    words = np.concatenate([targets[:, None], negatives], axis=1)  # (N, 1 + K)
    w = W_out[words]  # (N, 1 + K, D)
    scores = np.einsum("nd,nkd->nk", h, w)
    labels = np.zeros_like(scores)
    labels[:, 0] = 1.0
    # -log σ(s) for the positive, -log σ(-s) for the negatives, written stably with logaddexp
    signed = np.where(labels == 1.0, scores, -scores)
    N = h.shape[0]
    loss = float(np.sum(np.logaddexp(0.0, -signed)) / N)
    dscores = (sigmoid(scores) - labels) / N  # sigmoid with loss backward: y - t (밑바닥2 4.2.3)
    dh = np.einsum("nk,nkd->nd", dscores, w)
    dW_out = embedding_backward(dscores[:, :, None] * h[:, None, :], words, W_out.shape[0])
    return loss, dh, dW_out


def cbow_loss(
    W_in: np.ndarray,
    W_out: np.ndarray,
    contexts: np.ndarray,
    targets: np.ndarray,
    negatives: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray]:
    """CBOW with negative sampling: contexts (N, C) -> h = mean of their W_in rows -> targets (N,).

    Returns (loss, dW_in (V, D), dW_out (V, D)).
    """
    h = embedding(contexts, W_in).mean(axis=1)
    loss, dh, dW_out = negative_sampling_loss(h, W_out, targets, negatives)
    C = contexts.shape[1]
    dW_in = embedding_backward(np.repeat(dh[:, None, :] / C, C, axis=1), contexts, W_in.shape[0])
    return loss, dW_in, dW_out


def skipgram_loss(
    W_in: np.ndarray,
    W_out: np.ndarray,
    centers: np.ndarray,
    contexts: np.ndarray,
    negatives: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Skip-gram with negative sampling: centre (N,) predicts each of its contexts (N, C).

    negatives is (N, C, K): K samples per (centre, context) pair. The loss is the sum over
    the C context positions of the per-row mean (as 밑바닥2's SkipGram adds its C losses).
    Returns (loss, dW_in, dW_out).
    """
    N, C = contexts.shape
    h = np.repeat(embedding(centers, W_in), C, axis=0)  # one row per (centre, context) pair
    loss, dh, dW_out = negative_sampling_loss(
        h, W_out, contexts.reshape(-1), negatives.reshape(N * C, -1)
    )
    # negative_sampling_loss averages over N*C rows; the sum over C of per-row means is C times that
    dh = (C * dh).reshape(N, C, -1).sum(axis=1)
    return C * loss, embedding_backward(dh, centers, W_in.shape[0]), C * dW_out


def unigram_distribution(corpus: np.ndarray, vocab_size: int, power: float = 0.75) -> np.ndarray:
    """P(w) proportional to count(w)^power (power 0.75: Mikolov et al. 2013b; 밑바닥2 4.2.6)."""
    counts = np.bincount(corpus, minlength=vocab_size).astype(np.float64)
    p = counts**power
    return p / p.sum()


def sample_negatives(
    rng: np.random.Generator, probs: np.ndarray, targets: np.ndarray, k: int
) -> np.ndarray:
    """K negatives per target from ``probs``, never the target itself: shape targets.shape + (k,)."""
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0

    def draw(size: tuple[int, ...] | int) -> np.ndarray:  # inverse-CDF sampling
        return np.searchsorted(cdf, rng.random(size), side="right")

    neg = draw(targets.shape + (k,))
    clash = neg == targets[..., None]
    while clash.any():  # redraw the few that hit the positive word
        neg[clash] = draw(int(clash.sum()))
        clash = neg == targets[..., None]
    return neg


def cosine_similarity(vec: np.ndarray, W: np.ndarray) -> np.ndarray:
    """cos(vec, W[i]) for every row i: shape (V,) (밑바닥2 2.3.5)."""
    eps = 1e-12
    return (W @ vec) / (np.linalg.norm(W, axis=1) * np.linalg.norm(vec) + eps)


def most_similar(
    word: str, vocab: list[str], W: np.ndarray, top: int = 3
) -> list[tuple[str, float]]:
    """The ``top`` nearest words by cosine similarity, the word itself left out."""
    sims = cosine_similarity(W[vocab.index(word)], W)
    order = [i for i in np.argsort(-sims) if vocab[i] != word]
    return [(vocab[i], float(sims[i])) for i in order[:top]]


def analogy(a: str, b: str, c: str, vocab: list[str], W: np.ndarray) -> tuple[str, float]:
    """a : b = c : ?  ->  the word closest (cosine) to W[b] - W[a] + W[c], a, b, c excluded."""
    q = W[vocab.index(b)] - W[vocab.index(a)] + W[vocab.index(c)]
    sims = cosine_similarity(q, W)
    for i in np.argsort(-sims):
        if vocab[i] not in (a, b, c):
            return vocab[i], float(sims[i])
    raise ValueError("vocabulary too small for an analogy")


# A tiny corpus with three independent properties per person word: gender, status, age.
PEOPLE = {  # word: (gender, royal, adult)
    "king": ("m", True, True),
    "queen": ("f", True, True),
    "prince": ("m", True, False),
    "princess": ("f", True, False),
    "man": ("m", False, True),
    "woman": ("f", False, True),
    "boy": ("m", False, False),
    "girl": ("f", False, False),
}


def toy_corpus() -> list[list[str]]:
    """Two-word phrases: each person word next to each word of its three properties.

    gender: he / his / him or she / her / hers; status: palace / crown / throne or
    house / hat / street; age: old / works / tall or young / plays / small. Both
    orders ("king crown", "crown king"): 8 people x 9 property words x 2 = 144 phrases.
    """
    sentences = []
    for w, (gender, royal, adult) in PEOPLE.items():
        words = ["he", "his", "him"] if gender == "m" else ["she", "her", "hers"]
        words += ["palace", "crown", "throne"] if royal else ["house", "hat", "street"]
        words += ["old", "works", "tall"] if adult else ["young", "plays", "small"]
        for x in words:
            sentences += [[w, x], [x, w]]
    return sentences


ANALOGIES = [
    ("man", "king", "woman"),
    ("boy", "girl", "prince"),
    ("king", "prince", "queen"),
    ("woman", "girl", "man"),
    ("man", "woman", "boy"),
]
EXPECTED_ANSWERS = ["queen", "princess", "princess", "boy", "girl"]


def contexts_and_targets(corpus: np.ndarray, window: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """All (context (2 window,), centre) pairs of one id sequence (밑바닥2 3.3.1)."""
    T = len(corpus)
    targets = corpus[window : T - window]
    contexts = np.stack(
        [corpus[window + off : T - window + off] for off in range(-window, window + 1) if off != 0],
        axis=1,
    )
    return contexts, targets


def train_word2vec(
    model: str = "cbow", dim: int = 8, epochs: int = 150, lr: float = 0.1, k: int = 5, seed: int = 0
) -> tuple[list[str], Params, list[float]]:
    """Train on :func:`toy_corpus` with Adam; returns (vocab, {"W_in", "W_out"}, loss per epoch).

    Sentences are shuffled every epoch and joined with a padding token "." (so windows may
    cross sentence ends, as in 밑바닥2's PTB corpus). The whole corpus is one batch.
    """
    rng = np.random.default_rng(seed)
    sentences = toy_corpus()
    vocab = sorted({w for s in sentences for w in s} | {"."})
    ids = {w: i for i, w in enumerate(vocab)}
    V = len(vocab)
    params = {"W_in": 0.01 * rng.standard_normal((V, dim)), "W_out": np.zeros((V, dim))}
    m = {n: np.zeros_like(p) for n, p in params.items()}
    v = {n: np.zeros_like(p) for n, p in params.items()}
    losses = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(sentences))
        corpus = np.array([ids[w] for i in order for w in sentences[i] + ["."]])
        probs = unigram_distribution(corpus, V)
        contexts, targets = contexts_and_targets(corpus)
        if model == "cbow":
            neg = sample_negatives(rng, probs, targets, k)
            loss, dW_in, dW_out = cbow_loss(params["W_in"], params["W_out"], contexts, targets, neg)
        else:
            neg = sample_negatives(rng, probs, contexts, k)
            loss, dW_in, dW_out = skipgram_loss(
                params["W_in"], params["W_out"], targets, contexts, neg
            )
        losses.append(loss)
        for n, g in (("W_in", dW_in), ("W_out", dW_out)):  # Adam (Kingma & Ba 2015)
            m[n] = 0.9 * m[n] + 0.1 * g
            v[n] = 0.999 * v[n] + 0.001 * g * g
            params[n] -= (
                lr * (m[n] / (1 - 0.9**epoch)) / (np.sqrt(v[n] / (1 - 0.999**epoch)) + 1e-8)
            )
    return vocab, params, losses


def demo() -> None:
    W = np.arange(12.0).reshape(4, 3)
    ids = np.array([2, 0, 2])
    out.text("The Embedding layer is a row lookup: W[ids] is the same as one-hot(ids) @ W.")
    out.array("W (V=4, D=3)", W)
    out.array("W[[2, 0, 2]]", embedding(ids, W))
    out.array("one-hot([2, 0, 2]) @ W", np.eye(4)[ids] @ W)
    out.array("backward: np.add.at adds row 2 twice", embedding_backward(np.ones((3, 3)), ids, 4))

    vocab, params, losses = train_word2vec("cbow")
    W_in = params["W_in"]
    out.text(
        f"CBOW with negative sampling (K = 5, unigram^0.75), D = 8, trained here on {len(toy_corpus())} "
        "two-word phrases: each of 8 person words next to the words of its gender (he, his, him / "
        "she, her, hers), status (palace, crown, throne / house, hat, street) and age (old, works, "
        "tall / young, plays, small)."
    )
    out.line(
        "negative-sampling loss while training (full batch, Adam)",
        x=list(range(1, len(losses) + 1)),
        series={"CBOW": losses},
        x_title="epoch",
        y_title="loss (nats per target)",
    )
    rows = []
    for word in ("king", "girl", "palace", "she"):
        rows.append([word, ", ".join(f"{w} {s:.2f}" for w, s in most_similar(word, vocab, W_in))])
    out.table(
        "nearest neighbours (cosine similarity of the W_in rows)",
        columns=["word", "top 3"],
        rows=rows,
    )
    rows = []
    for a, b, c in ANALOGIES:
        answer, sim = analogy(a, b, c, vocab, W_in)
        rows.append([f"{a} : {b} = {c} : ?", answer, round(sim, 3)])
    out.table(
        "analogies: the word closest to W[b] - W[a] + W[c]",
        columns=["analogy", "answer", "cosine"],
        rows=rows,
    )
    out.text(
        "Nobody told the model that king, queen, prince and princess share 'royal', or which "
        "words are female: words used in the same contexts get similar vectors (the "
        "distributional hypothesis). Each property brings its own context words, so the "
        "properties become directions that add up, and king - man + woman lands on queen. "
        "Skip-gram is the same code with the roles swapped (the centre word predicts each "
        "context word); it needs about three times the compute here, and the tests train it "
        "to the same analogies."
    )
