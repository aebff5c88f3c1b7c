"""Causal attention: exact zeros above the diagonal, and no information from the future."""

import math
from pathlib import Path

import numpy as np
from common import numerical_gradient
from masked_attention import causal_mask, causal_self_attention, demo

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def weights_setup(seed=0, T=6, E=5, d=4, batch=()):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*batch, T, E))
    ws = [rng.normal(size=(E, d)) for _ in range(3)]
    return rng, x, ws


def test_mask_layout():
    m = causal_mask(4)
    expected = np.array([[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(m, expected)
    assert causal_mask(1).tolist() == [[False]]


def test_weights_above_diagonal_are_exactly_zero():
    _, x, (wq, wk, wv) = weights_setup(batch=(3,))
    _, w = causal_self_attention(x, wq, wk, wv)
    upper = np.triu_indices(6, k=1)
    for b in range(3):
        assert np.all(w[b][upper] == 0.0)
        assert np.all(w[b][np.tril_indices(6)] > 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-14)
    assert np.all(w[:, 0, 0] == 1.0)  # the first token can only look at itself


def test_position_t_equals_plain_attention_over_the_prefix():
    # Independent reference: query t attends, without any mask, to x[0..t] only.
    _, x, (wq, wk, wv) = weights_setup(seed=1)
    got, _ = causal_self_attention(x, wq, wk, wv)
    d = wq.shape[1]
    for t in range(x.shape[0]):
        prefix = x[: t + 1]
        scores = [float((x[t] @ wq) @ (prefix[s] @ wk)) / math.sqrt(d) for s in range(t + 1)]
        top = max(scores)
        a = np.array([math.exp(s - top) for s in scores])
        a /= a.sum()
        np.testing.assert_allclose(got[t], a @ (prefix @ wv), rtol=1e-12, atol=1e-14)


def test_outputs_do_not_change_when_future_tokens_change():
    rng, x, (wq, wk, wv) = weights_setup(seed=2)
    base, _ = causal_self_attention(x, wq, wk, wv)
    T = x.shape[0]
    for t in range(T - 1):
        changed = x.copy()
        changed[t + 1 :] = rng.normal(size=changed[t + 1 :].shape) * 10
        new, _ = causal_self_attention(changed, wq, wk, wv)
        np.testing.assert_array_equal(new[: t + 1], base[: t + 1])
        assert np.abs(new[t + 1] - base[t + 1]).max() > 1e-3
    # Without the mask the same change reaches every position.
    changed = x.copy()
    changed[-1] += 5.0
    a, _ = causal_self_attention(x, wq, wk, wv, causal=False)
    b, _ = causal_self_attention(changed, wq, wk, wv, causal=False)
    assert np.all(np.abs(a - b).max(axis=-1) > 1e-6)


def test_no_gradient_flows_from_past_outputs_to_future_inputs():
    rng, x, (wq, wk, wv) = weights_setup(seed=3, T=5)
    for t in range(5):
        g = rng.normal(size=wv.shape[1])

        def loss(t=t, g=g):
            return float(causal_self_attention(x, wq, wk, wv)[0][t] @ g)

        grad = numerical_gradient(loss, x)
        assert np.all(grad[t + 1 :] == 0.0)
        assert np.abs(grad[: t + 1]).max() > 1e-6


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    data = np.array(heat["data"])
    assert np.all(data[np.triu_indices(len(data), k=1)] == 0.0)
    assert next(o for o in outputs if o["kind"] == "value")["value"] == 0.0
    change = next(o for o in outputs if o.get("label", "").startswith("max |change"))
    causal_row, plain_row = change["rows"]
    assert causal_row[1:-1] == [0.0] * (len(causal_row) - 2) and causal_row[-1] > 0
    assert all(v > 0 for v in plain_row[1:])
    scores = next(o for o in outputs if o.get("label", "").startswith("scaled scores"))
    assert scores["rows"][0][2:] == ["-inf"] * 4


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/masked-attention.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "masked-attention"
    assert concept.demo == "masked_attention.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)


def test_the_diagonal_is_allowed_and_the_may_attend_mask_is_the_complement():
    # F.scaled_dot_product_attention's boolean mask (True = may attend) is tril(ones),
    # diagonal included; nn.MultiheadAttention's (True = blocked) is its complement.
    T = 5
    blocked = causal_mask(T)
    may_attend = np.array([[s <= t for s in range(T)] for t in range(T)])
    np.testing.assert_array_equal(~blocked, may_attend)
    assert not blocked.diagonal().any()
    assert int(may_attend.sum()) == T * (T + 1) // 2 == 15
    # With the diagonal allowed, a query can put weight on its own key.
    _, x, (wq, wk, wv) = weights_setup(T=T)
    _, w = causal_self_attention(x, wq, wk, wv)
    assert np.all(w.diagonal() > 0.0)
    # Passing the other library's convention inverts the mask: query 0 would see only the future.
    from scaled_dot_product_attention import scaled_dot_product_attention

    with np.errstate(invalid="ignore"):
        _, w_wrong = scaled_dot_product_attention(x @ wq, x @ wk, x @ wv, mask=may_attend)
    assert w_wrong[0, 0] == 0.0 and np.all(w_wrong[0, 1:] > 0)
    assert np.all(np.isnan(w_wrong[-1]))  # the last query has every key blocked
