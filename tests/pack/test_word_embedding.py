"""word2vec pieces checked against one-hot products, np.add.at, the loss written per row with
math, numerical gradients, and the trained vectors' neighbours and analogies."""

import math

import numpy as np
import pytest
from common import numerical_gradient, relative_error, richardson_gradient
from word_embedding import (
    ANALOGIES,
    EXPECTED_ANSWERS,
    PEOPLE,
    analogy,
    cbow_loss,
    contexts_and_targets,
    cosine_similarity,
    demo,
    embedding,
    embedding_backward,
    most_similar,
    negative_sampling_loss,
    sample_negatives,
    skipgram_loss,
    train_word2vec,
    unigram_distribution,
)

from studylog.demo import api as out


def test_embedding_is_a_one_hot_product_and_its_backward_is_add_at():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(7, 4))
    ids = np.array([[3, 1, 3], [0, 6, 3]])
    np.testing.assert_array_equal(embedding(ids, W), np.eye(7)[ids] @ W)
    dout = rng.normal(size=(2, 3, 4))
    ref = np.zeros((7, 4))
    np.add.at(ref, ids, dout)  # 밑바닥2 4.1's way
    np.testing.assert_allclose(embedding_backward(dout, ids, 7), ref, rtol=1e-14)
    np.testing.assert_allclose(
        embedding_backward(dout, ids, 7)[3], dout[0, 0] + dout[0, 2] + dout[1, 2]
    )
    with pytest.raises(IndexError):
        embedding(np.array([7]), W)
    with pytest.raises(IndexError):
        embedding(np.array([-1]), W)


def sig(v):
    return 1 / (1 + math.exp(-v))


def test_negative_sampling_loss_matches_the_formula_row_by_row():
    rng = np.random.default_rng(1)
    h, W_out = rng.normal(size=(3, 4)), rng.normal(size=(6, 4))
    targets, negatives = np.array([0, 2, 5]), np.array([[1, 3], [4, 4], [0, 1]])
    loss, _, _ = negative_sampling_loss(h, W_out, targets, negatives)
    ref = 0.0
    for n in range(3):
        ref -= math.log(sig(float(h[n] @ W_out[targets[n]])))
        for k in negatives[n]:
            ref -= math.log(sig(-float(h[n] @ W_out[k])))
    assert loss == pytest.approx(ref / 3, rel=1e-13)


def test_negative_sampling_gradients():
    rng = np.random.default_rng(2)
    h, W_out = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    targets, negatives = (
        np.array([0, 2, 4, 2]),
        np.array([[1, 3, 3], [4, 0, 1], [0, 1, 2], [4, 4, 0]]),
    )

    def loss():
        return negative_sampling_loss(h, W_out, targets, negatives)[0]

    _, dh, dW = negative_sampling_loss(h, W_out, targets, negatives)
    assert relative_error(dh, numerical_gradient(loss, h)) < 1e-7
    assert relative_error(dW, numerical_gradient(loss, W_out)) < 1e-7


@pytest.mark.parametrize("which", ["cbow", "skipgram"])
def test_cbow_and_skipgram_gradients(which):
    rng = np.random.default_rng(3)
    V, D, N, C, K = 9, 4, 5, 4, 3
    W_in, W_out = rng.normal(size=(V, D)), rng.normal(size=(V, D))
    contexts, centres = rng.integers(0, V, (N, C)), rng.integers(0, V, N)
    if which == "cbow":
        neg = rng.integers(0, V, (N, K))

        def f():
            return cbow_loss(W_in, W_out, contexts, centres, neg)[0]

        _, dW_in, dW_out = cbow_loss(W_in, W_out, contexts, centres, neg)
    else:
        neg = rng.integers(0, V, (N, C, K))

        def f():
            return skipgram_loss(W_in, W_out, centres, contexts, neg)[0]

        _, dW_in, dW_out = skipgram_loss(W_in, W_out, centres, contexts, neg)
    assert relative_error(dW_in, richardson_gradient(f, W_in)) < 1e-8
    assert relative_error(dW_out, richardson_gradient(f, W_out)) < 1e-8


def test_skipgram_is_the_sum_of_one_loss_per_context_and_cbow_averages_contexts():
    rng = np.random.default_rng(4)
    W_in, W_out = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    centres, contexts = np.array([0, 1]), np.array([[2, 3], [4, 5]])
    neg = rng.integers(0, 6, (2, 2, 2))
    total = sum(
        negative_sampling_loss(W_in[centres], W_out, contexts[:, j], neg[:, j])[0] for j in range(2)
    )
    assert skipgram_loss(W_in, W_out, centres, contexts, neg)[0] == pytest.approx(total, rel=1e-13)
    h = (W_in[2] + W_in[3]) / 2
    ref = negative_sampling_loss(h[None], W_out, np.array([0]), neg[:1, 0])[0]
    assert cbow_loss(W_in, W_out, contexts[:1], np.array([0]), neg[:1, 0])[0] == pytest.approx(
        ref, rel=1e-13
    )


def test_unigram_power_and_negative_samples():
    p = unigram_distribution(np.array([0, 1, 1, 1, 1, 1, 1, 1, 1]), 3)
    # counts 1, 8, 0: 1^0.75 = 1, 8^0.75 = 4.7568..., normalised (밑바닥2 4.2.6)
    np.testing.assert_allclose(p, np.array([1.0, 8**0.75, 0.0]) / (1 + 8**0.75), rtol=1e-14)
    rng = np.random.default_rng(5)
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    targets = rng.integers(0, 4, 50_000)
    neg = sample_negatives(rng, probs, targets, 3)
    assert neg.shape == (50_000, 3) and not np.any(neg == targets[:, None])
    # among rows whose target is 3, negatives follow probs renormalised without word 3
    freq = np.bincount(neg[targets == 3].ravel(), minlength=4) / neg[targets == 3].size
    np.testing.assert_allclose(freq, [1 / 6, 2 / 6, 3 / 6, 0.0], atol=0.01)


def test_windows_and_cosine():
    ctx, tgt = contexts_and_targets(np.arange(7), window=2)
    assert tgt.tolist() == [2, 3, 4] and ctx.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [2, 3, 5, 6]]
    W = np.array([[1.0, 0.0], [1.0, 1.0], [-2.0, 0.0]])
    np.testing.assert_allclose(
        cosine_similarity(np.array([1.0, 0.0]), W), [1.0, 1 / math.sqrt(2), -1.0]
    )


def shares_two(a: str, b: str) -> bool:
    return sum(x == y for x, y in zip(PEOPLE[a], PEOPLE[b], strict=True)) == 2


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_trained_vectors_solve_the_analogies(model):
    vocab, params, losses = train_word2vec(model)
    W = params["W_in"]
    # W_out starts at 0, so every score is 0 and each of the K + 1 = 6 terms costs ln 2;
    # skip-gram adds one such loss per context position (4 with window 2).
    per_target = 6 * math.log(2)
    assert losses[0] == pytest.approx(per_target * (1 if model == "cbow" else 4), rel=1e-12)
    assert losses[-1] < 0.6 * losses[0]
    assert [analogy(a, b, c, vocab, W)[0] for a, b, c in ANALOGIES] == EXPECTED_ANSWERS
    for word in ("king", "girl"):  # the 3 nearest people share two of the three properties
        assert all(shares_two(word, w) for w, _ in most_similar(word, vocab, W))


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    tables = {o["label"]: o for o in outputs if o["kind"] == "table"}
    answers = [r[1] for r in tables["analogies: the word closest to W[b] - W[a] + W[c]"]["rows"]]
    assert answers == EXPECTED_ANSWERS
    neigh = {
        r[0]: r[1]
        for r in tables["nearest neighbours (cosine similarity of the W_in rows)"]["rows"]
    }
    assert {w.split()[0] for w in neigh["king"].split(", ")} == {"queen", "prince", "man"}
    assert {w.split()[0] for w in neigh["palace"].split(", ")} >= {"throne", "crown"}
    added = next(o for o in outputs if o["kind"] == "array" and o["label"].startswith("backward"))
    assert added["data"][2] == [2.0, 2.0, 2.0] and added["data"][1] == [0.0, 0.0, 0.0]
