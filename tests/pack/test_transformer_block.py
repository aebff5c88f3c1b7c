"""Transformer block: a per-token loop reference for post-LN and pre-LN, and invariants."""

import math
import statistics
from pathlib import Path

import numpy as np
import pytest
from masked_attention import causal_mask
from transformer_block import (
    demo,
    feed_forward,
    gelu,
    init_block_params,
    stack_statistics,
    transformer_block,
)

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def ref_layer_norm(v, w, b, eps=1e-5):
    mu = statistics.fmean(v)
    sd = math.sqrt(statistics.pvariance(v, mu) + eps)
    return np.array([(v[j] - mu) / sd * w[j] + b[j] for j in range(len(v))])


def ref_self_attention(xs, p, h):
    """MultiHead(X, X, X) of Vaswani et al. 3.2.2, one head and one query at a time."""
    L, E = xs.shape
    d = E // h
    W, B = p["self_attn.in_proj_weight"], p["self_attn.in_proj_bias"]
    outs = np.zeros((L, E))
    for t in range(L):
        concat = []
        for i in range(h):
            r = slice(i * d, (i + 1) * d)
            q = W[0:E][r] @ xs[t] + B[0:E][r]
            ks = [W[E : 2 * E][r] @ xs[s] + B[E : 2 * E][r] for s in range(L)]
            vs = [W[2 * E :][r] @ xs[s] + B[2 * E :][r] for s in range(L)]
            scores = [float(q @ k) / math.sqrt(d) for k in ks]
            m = max(scores)
            e = [math.exp(sc - m) for sc in scores]
            concat.append(sum(e[s] / sum(e) * vs[s] for s in range(L)))
        outs[t] = (
            p["self_attn.out_proj.weight"] @ np.concatenate(concat) + p["self_attn.out_proj.bias"]
        )
    return outs


def ref_ffn(v, p, act):
    hidden = p["linear1.weight"] @ v + p["linear1.bias"]
    if act == "relu":
        hidden = np.array([max(0.0, a) for a in hidden])
    else:  # exact GELU x * Phi(x); the block uses the tanh approximation (checked to 1e-3)
        hidden = np.array([a * 0.5 * (1 + math.erf(a / math.sqrt(2))) for a in hidden])
    return p["linear2.weight"] @ hidden + p["linear2.bias"]


def ref_block(xs, p, h, norm_first, act):
    n1 = lambda v: ref_layer_norm(v, p["norm1.weight"], p["norm1.bias"])  # noqa: E731
    n2 = lambda v: ref_layer_norm(v, p["norm2.weight"], p["norm2.bias"])  # noqa: E731
    if norm_first:
        xs = xs + ref_self_attention(np.array([n1(v) for v in xs]), p, h)
        return np.array([v + ref_ffn(n2(v), p, act) for v in xs])
    xs = np.array([n1(v) for v in xs + ref_self_attention(xs, p, h)])
    return np.array([n2(v + ref_ffn(v, p, act)) for v in xs])


def random_params(seed, E=8, F=16):
    rng = np.random.default_rng(seed)
    p = init_block_params(E, F, rng)
    p["norm1.weight"] = 1 + 0.2 * rng.normal(size=E)
    p["norm1.bias"] = 0.1 * rng.normal(size=E)
    p["norm2.weight"] = 1 + 0.2 * rng.normal(size=E)
    p["norm2.bias"] = 0.1 * rng.normal(size=E)
    return rng, p


@pytest.mark.parametrize("norm_first", [False, True])
def test_relu_block_matches_reference(norm_first):
    rng, p = random_params(0)
    x = rng.normal(size=(2, 5, 8))
    got = transformer_block(x, p, 2, norm_first=norm_first, activation="relu")
    for n in range(2):
        np.testing.assert_allclose(
            got[n], ref_block(x[n], p, 2, norm_first, "relu"), rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("norm_first", [False, True])
def test_gelu_block_close_to_exact_gelu_reference(norm_first):
    rng, p = random_params(1)
    x = rng.normal(size=(1, 4, 8))
    got = transformer_block(x, p, 4, norm_first=norm_first, activation="gelu")
    ref = ref_block(x[0], p, 4, norm_first, "gelu")
    # Only the GELU approximation differs (< 1e-3 per unit), so outputs agree to ~1e-3.
    np.testing.assert_allclose(got[0], ref, atol=3e-3)
    assert np.abs(got[0] - ref).max() > 0  # and they are not the same function


def test_gelu_known_values():
    exact = np.array([a * 0.5 * (1 + math.erf(a / math.sqrt(2))) for a in np.linspace(-6, 6, 241)])
    assert np.abs(gelu(np.linspace(-6, 6, 241)) - exact).max() < 1e-3
    assert gelu(np.array(1.0)) == pytest.approx(0.8411919906082768, abs=1e-12)  # tanh form
    assert gelu(np.array(0.0)) == 0.0


def test_post_ln_output_is_normalized_per_token():
    rng = np.random.default_rng(2)
    p = init_block_params(8, 32, rng)
    y = transformer_block(rng.normal(size=(3, 6, 8)) * 7, p, 2, norm_first=False)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=-1), 1.0, atol=1e-4)


def test_pre_ln_with_silent_sublayers_is_identity():
    rng = np.random.default_rng(3)
    p = init_block_params(8, 32, rng)
    for name in (
        "self_attn.out_proj.weight",
        "self_attn.out_proj.bias",
        "linear2.weight",
        "linear2.bias",
    ):
        p[name] = np.zeros_like(p[name])
    x = rng.normal(size=(2, 5, 8))
    np.testing.assert_array_equal(transformer_block(x, p, 2, norm_first=True), x)
    # Post-LN cannot be the identity: it still normalizes.
    y = transformer_block(x, p, 2, norm_first=False)
    assert np.abs(y - x).max() > 0.1


def test_ffn_is_position_wise_and_block_is_permutation_equivariant():
    rng = np.random.default_rng(4)
    p = init_block_params(8, 16, rng)
    x = rng.normal(size=(1, 6, 8))
    ff = feed_forward(
        x, p["linear1.weight"], p["linear1.bias"], p["linear2.weight"], p["linear2.bias"]
    )
    np.testing.assert_allclose(
        ff[0, 3],
        feed_forward(
            x[0, 3], p["linear1.weight"], p["linear1.bias"], p["linear2.weight"], p["linear2.bias"]
        ),
        rtol=1e-13,
    )
    perm = rng.permutation(6)
    for norm_first in (False, True):
        y = transformer_block(x, p, 2, norm_first)
        np.testing.assert_allclose(
            transformer_block(x[:, perm], p, 2, norm_first), y[:, perm], rtol=1e-12, atol=1e-13
        )


def test_causal_mask_keeps_the_past_independent_of_the_future():
    rng = np.random.default_rng(5)
    p = init_block_params(8, 16, rng)
    x = rng.normal(size=(1, 6, 8))
    changed = x.copy()
    changed[0, 4:] = rng.normal(size=(2, 8)) * 5
    for norm_first in (False, True):
        a = transformer_block(x, p, 2, norm_first, attn_mask=causal_mask(6))
        b = transformer_block(changed, p, 2, norm_first, attn_mask=causal_mask(6))
        np.testing.assert_array_equal(a[0, :4], b[0, :4])
        assert np.abs(a[0, 4:] - b[0, 4:]).max() > 1e-3


def test_stack_statistics_pre_ln_grows_post_ln_stays():
    rng = np.random.default_rng(0)
    blocks = [init_block_params(16, 64, rng) for _ in range(24)]
    x = rng.normal(size=(2, 8, 16))
    post = stack_statistics(x, blocks, 4, norm_first=False)
    pre = stack_statistics(x, blocks, 4, norm_first=True)
    np.testing.assert_allclose(post["std"], 1.0, atol=1e-4)
    assert pre["std"][-1] > 1.5 * pre["std"][0]
    assert np.mean(pre["update"][-6:]) < 0.7 * np.mean(pre["update"][:6])


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    lines = [o for o in outputs if o["kind"] == "line"]
    assert len(lines) == 2 and len(lines[0]["x"]) == 48
    std = lines[0]["series"]
    assert max(abs(v - 1) for v in std["post-LN"]) < 1e-4
    assert std["pre-LN"][-1] > 2.5
    upd = lines[1]["series"]["pre-LN"]
    assert upd[-1] < 0.5 * upd[0]
    table = next(o for o in outputs if o.get("label") == "after selected blocks")
    assert [r[0] for r in table["rows"]] == [1, 2, 6, 12, 24, 48]
    assert next(o for o in outputs if o["kind"] == "value")["value"] < 1e-12


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/transformer-block.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "transformer-block"
    assert concept.demo == "transformer_block.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)
