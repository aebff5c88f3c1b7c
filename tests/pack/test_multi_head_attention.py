"""Multi-head attention against a per-head loop written from the paper, PyTorch layout."""

import math
from pathlib import Path

import numpy as np
import pytest
from multi_head_attention import demo, init_params, merge_heads, multi_head_attention, split_heads

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def paper_multi_head(query, key, value, h, w_in, b_in, w_out, b_out, mask=None):
    """Vaswani et al. (2017) sec. 3.2.2, one batch item, one head, one query at a time.

    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V), MultiHead = Concat(head_1..head_h) W^O.
    PyTorch stores the projections as (out, in) rows, so W_i^Q (E, d_k) is the transpose
    of rows i*d_k:(i+1)*d_k of the query block of in_proj_weight.
    """
    N, L, E = query.shape
    S = key.shape[1]
    d_k = E // h
    outputs = np.zeros((N, L, E))
    weights = np.zeros((N, h, L, S))
    for n in range(N):
        heads = []
        for i in range(h):
            rows = slice(i * d_k, (i + 1) * d_k)
            W_Q = w_in[0:E][rows].T  # (E, d_k)
            W_K = w_in[E : 2 * E][rows].T
            W_V = w_in[2 * E : 3 * E][rows].T
            Q = query[n] @ W_Q + b_in[0:E][rows]
            K = key[n] @ W_K + b_in[E : 2 * E][rows]
            V = value[n] @ W_V + b_in[2 * E : 3 * E][rows]
            head = np.zeros((L, d_k))
            for t in range(L):
                scores = [float(Q[t] @ K[s]) / math.sqrt(d_k) for s in range(S)]
                allowed = [s for s in range(S) if mask is None or not mask[t, s]]
                top = max(scores[s] for s in allowed)
                exps = {s: math.exp(scores[s] - top) for s in allowed}
                total = sum(exps.values())
                for s in allowed:
                    weights[n, i, t, s] = exps[s] / total
                    head[t] += weights[n, i, t, s] * V[s]
            heads.append(head)
        concat = np.concatenate(heads, axis=1)  # (L, h * d_k)
        W_O = w_out.T  # (E, E) so that concat @ W_O
        outputs[n] = concat @ W_O + b_out
    return outputs, weights


@pytest.mark.parametrize("num_heads", [1, 2, 4])
def test_matches_paper_per_head_loop(num_heads):
    rng = np.random.default_rng(0)
    N, L, E = 2, 3, 8
    x = rng.normal(size=(N, L, E))
    p = init_params(E, rng)
    got, w = multi_head_attention(x, x, x, num_heads, **p)
    ref, ref_w = paper_multi_head(
        x,
        x,
        x,
        num_heads,
        p["in_proj_weight"],
        p["in_proj_bias"],
        p["out_proj_weight"],
        p["out_proj_bias"],
    )
    assert got.shape == (N, L, E) and w.shape == (N, num_heads, L, L)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13)


def test_cross_attention_with_mask_matches_loop():
    rng = np.random.default_rng(1)
    N, L, S, E, h = 2, 3, 5, 6, 3
    query, key, value = (
        rng.normal(size=(N, L, E)),
        rng.normal(size=(N, S, E)),
        rng.normal(size=(N, S, E)),
    )
    p = init_params(E, rng)
    mask = rng.random((L, S)) < 0.5
    mask[:, 1] = False
    got, w = multi_head_attention(query, key, value, h, **p, attn_mask=mask)
    ref, ref_w = paper_multi_head(
        query,
        key,
        value,
        h,
        p["in_proj_weight"],
        p["in_proj_bias"],
        p["out_proj_weight"],
        p["out_proj_bias"],
        mask,
    )
    np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    assert np.all(w[:, :, mask] == 0.0)


def test_one_head_identity_projection_is_plain_attention():
    # W_q = W_k = W_v = W_o = I and zero biases: MultiHead(x, x, x) = softmax(x x^T / sqrt(E)) x.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 4, 3))
    eye = np.eye(3)
    got, w = multi_head_attention(
        x, x, x, 1, np.vstack([eye, eye, eye]), np.zeros(9), eye, np.zeros(3)
    )
    s = x[0] @ x[0].T / math.sqrt(3)
    ref_w = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(w[0, 0], ref_w, rtol=1e-13)
    np.testing.assert_allclose(got[0], ref_w @ x[0], rtol=1e-13)


def test_zero_value_projection_leaves_output_bias():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4))
    p = init_params(4, rng)
    p["in_proj_weight"][8:] = 0.0
    p["in_proj_bias"][8:] = 0.0
    got, _ = multi_head_attention(x, x, x, 2, **p)
    np.testing.assert_array_equal(got, np.broadcast_to(p["out_proj_bias"], got.shape))


def test_scaling_uses_head_dim_not_embed_dim():
    # One head of width 2 inside E = 4: scores divided by sqrt(2); hand-computed weights.
    x = np.array([[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]])
    w_in = np.vstack([np.eye(4), np.eye(4), np.eye(4)])
    got_w = multi_head_attention(x, x, x, 2, w_in, np.zeros(12), np.eye(4), np.zeros(4))[1]
    a = 1.0 / math.sqrt(2)  # head 0 sees features 0, 1: q0.k0 = 1, q0.k1 = 0
    expected = np.exp([a, 0.0]) / np.exp([a, 0.0]).sum()
    np.testing.assert_allclose(got_w[0, 0, 0], expected, rtol=1e-14)
    # head 1 sees features 2, 3, which are all zero: uniform weights.
    np.testing.assert_allclose(got_w[0, 1], 0.5, rtol=1e-14)


def test_permuting_heads_consistently_changes_nothing():
    # Swapping head 0 and head 1 in W_q, W_k, W_v rows and in W_o columns is the same model.
    rng = np.random.default_rng(4)
    E, h = 6, 2
    d = E // h
    x = rng.normal(size=(1, 4, E))
    p = init_params(E, rng)
    perm = np.r_[d : 2 * d, 0:d]
    swapped = dict(p)
    swapped["in_proj_weight"] = np.vstack(
        [p["in_proj_weight"][b * E : (b + 1) * E][perm] for b in range(3)]
    )
    swapped["in_proj_bias"] = np.concatenate(
        [p["in_proj_bias"][b * E : (b + 1) * E][perm] for b in range(3)]
    )
    swapped["out_proj_weight"] = p["out_proj_weight"][:, perm]
    a, wa = multi_head_attention(x, x, x, h, **p)
    b, wb = multi_head_attention(x, x, x, h, **swapped)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(wa[:, ::-1], wb, rtol=1e-12, atol=1e-15)


def test_split_and_merge_heads_layout():
    x = np.arange(2 * 3 * 6).reshape(2, 3, 6)
    s = split_heads(x, 3)
    assert s.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(s[1, 2, 0], x[1, 0, 4:6])  # head 2 = features 4:6
    np.testing.assert_array_equal(merge_heads(s), x)


def test_rejects_indivisible_heads():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 2, 6))
    with pytest.raises(ValueError):
        multi_head_attention(x, x, x, 4, **init_params(6, rng))


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heatmaps = [o for o in outputs if o["kind"] == "heatmap"]
    assert len(heatmaps) == 2
    for hm in heatmaps:
        np.testing.assert_allclose(np.sum(hm["data"], axis=1), 1.0, atol=3e-3)
    shapes = next(o for o in outputs if o.get("label", "").startswith("shapes"))
    assert ["reshape to (batch, seq, heads, head_dim)", "(1, 4, 2, 4)"] in shapes["rows"]
    diff = next(o for o in outputs if o["kind"] == "value")
    assert diff["value"] < 1e-12
    params = next(o for o in outputs if o.get("label", "").startswith("parameters"))
    assert params["rows"][-1][-1] == 4 * 64 + 4 * 8


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/multi-head-attention.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "multi-head-attention"
    assert concept.demo == "multi_head_attention.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)


def test_demo_heads_attend_for_their_stated_reasons():
    from multi_head_attention import two_relation_heads

    x, p = two_relation_heads(np.random.default_rng(0))
    _, w = multi_head_attention(x, x, x, 2, **p)
    # head 0: previous token; score 8 / sqrt(4) = 4 on one key, 0 on three: e^4 / (e^4 + 3)
    sharp = math.exp(4) / (math.exp(4) + 3)
    for t in (1, 2, 3):
        assert w[0, 0, t, t - 1] == pytest.approx(sharp, rel=1e-12)
    np.testing.assert_allclose(w[0, 0, 0], 0.25)  # no previous token: uniform
    # head 1: 좋아해 (verb, 3) -> 고양이를 (object, 1); 정말 (adverb, 2) -> 좋아해 (verb, 3)
    assert w[0, 1, 3, 1] == pytest.approx(sharp, rel=1e-12)
    assert w[0, 1, 2, 3] == pytest.approx(sharp, rel=1e-12)
    np.testing.assert_allclose(w[0, 1, :2], 0.25)  # subject and object ask for nothing
