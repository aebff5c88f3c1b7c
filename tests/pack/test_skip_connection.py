"""Skip connections: gradient checks, and the gradient norm with and without the identity path."""

from pathlib import Path

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from skip_connection import demo, gradient_norms, init_stack, stack_backward, stack_forward

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


@pytest.mark.parametrize("residual", [False, True])
def test_backward_matches_numerical_gradient(residual):
    rng = np.random.default_rng(0)
    # Two layers with unit-variance weights keep every gradient entry well above the
    # ~1e-10 rounding noise of central differences; the 30-layer chain test below
    # checks deep stacks.
    weights = [rng.normal(size=(5, 5)) for _ in range(2)]
    biases = [rng.normal(size=5) * 0.5 for _ in range(2)]
    x = rng.normal(size=(3, 5))
    dout = rng.normal(size=(3, 5))

    def loss():
        return float(np.sum(stack_forward(x, weights, biases, residual)[0] * dout))

    _, cache = stack_forward(x, weights, biases, residual)
    dx, dWs, dbs, _ = stack_backward(dout, cache, weights, residual)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    for layer in range(2):
        assert relative_error(dWs[layer], numerical_gradient(loss, weights[layer])) < 1e-6
        assert relative_error(dbs[layer], numerical_gradient(loss, biases[layer])) < 1e-6


def jacobian_chain_norms(x, weights, biases, residual, g):
    """Independent reference: chain per-layer Jacobians found by central differences."""

    def layer(h, W, b):
        f = 1.0 / (1.0 + np.exp(-(h @ W + b)))
        return h + f if residual else f

    hs = [x]
    for W, b in zip(weights, biases, strict=True):
        hs.append(layer(hs[-1], W, b))
    norms = [np.linalg.norm(g)]
    for h, W, b in zip(reversed(hs[:-1]), reversed(weights), reversed(biases), strict=True):
        D = h.size
        J = np.zeros((D, D))  # J[j, i] = d out_j / d in_i
        for i in range(D):
            e = np.zeros(D)
            e[i] = 1e-6
            J[:, i] = (layer(h + e, W, b) - layer(h - e, W, b)) / 2e-6
        g = g @ J
        norms.append(np.linalg.norm(g))
    return norms[::-1]


@pytest.mark.parametrize("residual", [False, True])
def test_gradient_norms_match_jacobian_chain(residual):
    rng = np.random.default_rng(1)
    weights, biases = init_stack(30, 6, rng)
    x = rng.normal(size=6)
    g = rng.normal(size=6)
    _, cache = stack_forward(x[None], weights, biases, residual)
    got = stack_backward(g[None], cache, weights, residual)[3]
    ref = jacobian_chain_norms(x, weights, biases, residual, g)
    np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_residual_keeps_gradient_norm_plain_loses_it():
    norms = gradient_norms(depth=50, width=16, batch=8, seed=0)
    plain, res = norms["plain"], norms["residual"]
    assert len(plain) == len(res) == 51
    assert plain[-1] == pytest.approx(1.0) and res[-1] == pytest.approx(1.0)
    assert plain[0] < 1e-20  # vanished
    assert 0.5 < min(res) and max(res) < 2.0  # kept within a factor of 2 at every layer
    # Plain: sigmoid' <= 1/4, and here every single layer shrinks the gradient.
    assert all(a < b for a, b in zip(plain[:-1], plain[1:], strict=True))
    for seed in (1, 2, 3):
        other = gradient_norms(depth=50, width=16, batch=8, seed=seed)
        assert other["plain"][0] < 1e-15 < 0.5 < other["residual"][0]


def test_zero_branch_weights_pass_the_gradient_exactly():
    rng = np.random.default_rng(2)
    weights = [np.zeros((4, 4)) for _ in range(10)]
    biases = [rng.normal(size=4) for _ in range(10)]
    x, dout = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    _, cache = stack_forward(x, weights, biases, residual=True)
    np.testing.assert_array_equal(stack_backward(dout, cache, weights, True)[0], dout)
    _, cache = stack_forward(x, weights, biases, residual=False)
    np.testing.assert_array_equal(stack_backward(dout, cache, weights, False)[0], 0.0)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    line = next(o for o in outputs if o["kind"] == "line")
    assert line["log_y"] is True and len(line["x"]) == 51
    plain = line["series"]["plain h = F(h)"]
    residual = line["series"]["residual h = h + F(h)"]
    assert plain[0] < 1e-20 and residual[0] > 0.5
    table = next(o for o in outputs if o.get("label") == "gradient norm at selected layers")
    assert table["rows"][0] == [50, 1.0, 1.0]
    shrink = next(o for o in outputs if o["kind"] == "value")["value"]
    assert 0.1 < shrink < 0.3
    zero = next(o for o in outputs if o.get("label", "").startswith("10 layers with W = 0"))
    assert zero["rows"][0][1] == 0.0 and zero["rows"][1][2] is True


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/skip-connection.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "skip-connection"
    assert concept.demo == "skip_connection.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)
