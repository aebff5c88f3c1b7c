"""Scaled dot-product attention: a loop reference, gradient checks, the sqrt(d_k) argument."""

import math
from pathlib import Path

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from scaled_dot_product_attention import (
    demo,
    saturation_stats,
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
    softmax_jacobian_norm,
)

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def loop_attention(q, k, v, mask=None):
    """Eq. 1 of Vaswani et al. written out one query and one key at a time."""
    L, d_k = q.shape
    S, d_v = v.shape
    weights = np.zeros((L, S))
    output = np.zeros((L, d_v))
    for i in range(L):
        scores = []
        for j in range(S):
            s = sum(q[i, t] * k[j, t] for t in range(d_k)) / math.sqrt(d_k)
            scores.append(None if mask is not None and mask[i, j] else s)
        top = max(s for s in scores if s is not None)
        exps = [0.0 if s is None else math.exp(s - top) for s in scores]
        total = sum(exps)
        for j in range(S):
            weights[i, j] = exps[j] / total
            output[i] += weights[i, j] * v[j]
    return output, weights


def test_matches_loop_reference_with_and_without_mask():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(4, 5)), rng.normal(size=(6, 5)), rng.normal(size=(6, 3))
    mask = rng.random((4, 6)) < 0.4
    mask[:, 0] = False  # every query keeps at least one key
    for m in (None, mask):
        got_out, got_w = scaled_dot_product_attention(q, k, v, m)
        ref_out, ref_w = loop_attention(q, k, v, m)
        np.testing.assert_allclose(got_w, ref_w, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got_out, ref_out, rtol=1e-12, atol=1e-14)
    _, w = scaled_dot_product_attention(q, k, v, mask)
    assert np.all(w[mask] == 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-14)


def test_batched_leading_dims_match_per_item():
    rng = np.random.default_rng(2)
    q, k, v = (
        rng.normal(size=(2, 3, 4, 8)),
        rng.normal(size=(2, 3, 5, 8)),
        rng.normal(size=(2, 3, 5, 2)),
    )
    got, w = scaled_dot_product_attention(q, k, v)
    assert got.shape == (2, 3, 4, 2) and w.shape == (2, 3, 4, 5)
    for a in range(2):
        for b in range(3):
            ref, _ = loop_attention(q[a, b], k[a, b], v[a, b])
            np.testing.assert_allclose(got[a, b], ref, rtol=1e-12, atol=1e-14)


def test_hand_computed_case():
    # Two keys; query (2, 0) with d_k = 4: scores (2*1)/2 = 1 and 0 -> weights e/(e+1), 1/(e+1).
    q = np.array([[2.0, 0.0, 0.0, 0.0]])
    k = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    v = np.array([[10.0], [0.0]])
    output, weights = scaled_dot_product_attention(q, k, v)
    e = math.e
    np.testing.assert_allclose(weights, [[e / (e + 1), 1 / (e + 1)]], rtol=1e-14)
    np.testing.assert_allclose(output, [[10 * e / (e + 1)]], rtol=1e-14)


@pytest.mark.parametrize("use_mask", [False, True])
def test_backward_matches_numerical_gradient(use_mask):
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
    mask = None
    if use_mask:
        mask = rng.random((2, 3, 5)) < 0.5
        mask[..., 2] = False
    dout = rng.normal(size=(2, 3, 3))

    def loss():
        return float(np.sum(scaled_dot_product_attention(q, k, v, mask)[0] * dout))

    _, w = scaled_dot_product_attention(q, k, v, mask)
    dq, dk, dv = scaled_dot_product_attention_backward(dout, q, k, v, w)
    for analytic, param in ((dq, q), (dk, k), (dv, v)):
        assert relative_error(analytic, numerical_gradient(loss, param)) < 1e-6


def test_dot_product_variance_is_d_k():
    # Footnote 4 of the paper: q . k for N(0, 1) components has mean 0 and variance d_k.
    rng = np.random.default_rng(4)
    for d_k in (16, 256):
        q, k = rng.normal(size=(20000, d_k)), rng.normal(size=(20000, d_k))
        dots = np.sum(q * k, axis=1)
        assert abs(dots.mean()) < 0.05 * math.sqrt(d_k)
        assert dots.var() == pytest.approx(d_k, rel=0.05)
        assert (dots / math.sqrt(d_k)).var() == pytest.approx(1.0, rel=0.05)


def test_softmax_jacobian_norm_known_values():
    # Uniform over S: J = I/S - 11^T/S^2, |J|_F^2 = S(1/S - 1/S^2)^2 + S(S-1)/S^4 = (S-1)/S^2.
    for S in (2, 8):
        p = np.full(S, 1.0 / S)
        assert softmax_jacobian_norm(p) == pytest.approx(math.sqrt((S - 1) / S**2), rel=1e-12)
    assert softmax_jacobian_norm(np.array([1.0, 0.0, 0.0])) == 0.0
    # Against an explicit Jacobian of softmax by central differences.
    x = np.array([0.3, -1.2, 2.0, 0.1])
    p = np.exp(x) / np.exp(x).sum()
    jac = np.zeros((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-6
        plus, minus = np.exp(x + e), np.exp(x - e)
        jac[:, j] = (plus / plus.sum() - minus / minus.sum()) / 2e-6
    assert softmax_jacobian_norm(p) == pytest.approx(np.linalg.norm(jac), rel=1e-8)


def test_saturation_without_scaling_and_none_with_it():
    small, big = saturation_stats(4), saturation_stats(1024)
    assert big["score_std"] == pytest.approx(32.0, rel=0.1)
    assert big["max_weight_raw"] > 0.95 > small["max_weight_raw"]
    assert big["grad_norm_raw"] < 0.2 * small["grad_norm_raw"]
    assert big["max_weight_scaled"] == pytest.approx(small["max_weight_scaled"], abs=0.05)
    assert big["grad_norm_scaled"] == pytest.approx(small["grad_norm_scaled"], rel=0.05)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    kinds = [o["kind"] for o in outputs]
    assert {"array", "heatmap", "table", "line", "text"} <= set(kinds)
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    np.testing.assert_allclose(np.sum(heat["data"], axis=1), 1.0, atol=2e-3)
    table = next(o for o in outputs if o["kind"] == "table")
    rows = table["rows"]
    assert [r[0] for r in rows] == [4, 16, 64, 256, 1024]
    raw_max = [r[2] for r in rows]
    assert raw_max == sorted(raw_max) and raw_max[-1] > 0.95
    assert max(r[3] for r in rows) < 0.45  # scaled max weight stays far from one-hot
    line = next(o for o in outputs if o["kind"] == "line")
    raw = line["series"]["raw q.k"]
    assert raw[-1] < raw[0] / 5


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/scaled-dot-product-attention.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "scaled-dot-product-attention"
    assert concept.demo == "scaled_dot_product_attention.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)


def test_a_fully_blocked_row_is_nan_like_nn_multiheadattention():
    # nn.MultiheadAttention: softmax over a row of -inf only is NaN (0/0); the other rows
    # are unaffected. (F.scaled_dot_product_attention would return zeros for that row.)
    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=(4, 2))
    mask = np.zeros((3, 4), dtype=bool)
    mask[1] = True
    with np.errstate(invalid="ignore"):
        out_, w = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(np.isnan(w[1])) and np.all(np.isnan(out_[1]))
    ref_out, ref_w = scaled_dot_product_attention(q[[0, 2]], k, v)
    np.testing.assert_allclose(w[[0, 2]], ref_w, rtol=1e-15)
    np.testing.assert_allclose(out_[[0, 2]], ref_out, rtol=1e-15)
