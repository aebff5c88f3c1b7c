import numpy as np
import pytest
from common import numerical_gradient, relative_error
from vanishing_exploding_gradients import (
    bptt_from_last_step,
    clip_grads,
    demo,
    gradient_norm_curve,
    recurrent_weight,
    rnn_forward,
)

from studylog.demo import api as out


def test_recurrent_weight_has_all_singular_values_equal_to_sigma():
    W = recurrent_weight(8, 1.7, np.random.default_rng(3))
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.7, rtol=1e-12)


def test_linear_rnn_gradient_norm_is_exactly_sigma_to_the_k():
    # Without an activation BPTT is k multiplications by an orthogonal matrix times
    # sigma, so the norm is sigma^k exactly (the MatMul-only analysis of 밑바닥2 6.1.3).
    for sigma in (0.8, 1.3):
        curve = gradient_norm_curve(sigma, "linear", T=30)
        np.testing.assert_allclose(curve, sigma ** np.arange(31), rtol=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("sigma", [0.8, 2.0])
def test_norm_never_exceeds_the_sigma_max_bound(activation, sigma):
    curve = gradient_norm_curve(sigma, activation, T=40)
    assert np.all(curve <= sigma ** np.arange(41) * (1 + 1e-9))


def test_vanishing_below_one_exploding_relu_above_one():
    assert gradient_norm_curve(0.8, "tanh")[40] < 1e-8
    assert gradient_norm_curve(0.8, "relu")[40] < 1e-6
    assert gradient_norm_curve(2.0, "relu")[40] > 1e6
    # tanh with sigma_max > 1 saturates instead of exploding
    assert gradient_norm_curve(2.0, "tanh")[40] < 1e2


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_bptt_matches_central_differences(activation):
    rng = np.random.default_rng(5)
    N, T, D, H = 2, 6, 3, 4
    W_h = recurrent_weight(H, 1.2, rng)
    W_x = rng.standard_normal((D, H))
    b = rng.standard_normal(H) * 0.1
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    g = rng.standard_normal((N, H))

    def loss():
        hs, _ = rnn_forward(xs, W_x, W_h, b, activation, h0)
        return float(np.sum(hs[:, -1] * g))

    hs, pre = rnn_forward(xs, W_x, W_h, b, activation, h0)
    dhs, dW_h = bptt_from_last_step(hs, pre, W_h, g, activation)
    assert relative_error(dW_h, numerical_gradient(loss, W_h)) < 1e-6
    assert relative_error(dhs[:, 0], numerical_gradient(loss, h0)) < 1e-6


def test_clip_grads_follows_the_book_formula():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)) * 10, rng.standard_normal(5) * 10]
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    clipped, before = clip_grads(grads, max_norm=2.0)
    assert before == pytest.approx(total)
    after = np.sqrt(sum(np.sum(g**2) for g in clipped))
    assert after == pytest.approx(2.0, rel=1e-6)
    for g, c in zip(grads, clipped, strict=True):
        np.testing.assert_allclose(c, g * 2.0 / (total + 1e-6))  # same direction, same factor
    # below the threshold: unchanged, and the inputs are not modified in place
    small = [np.array([0.3, -0.4])]
    kept, n = clip_grads(small, max_norm=1.0)
    assert n == pytest.approx(0.5)
    np.testing.assert_array_equal(kept[0], small[0])
    assert kept[0] is not small[0]


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    line = next(o for o in outputs if o["kind"] == "line")
    assert line["log_y"] is True
    assert set(line["series"]) == {
        "tanh, σ_max=0.8",
        "tanh, σ_max=2.0",
        "relu, σ_max=0.8",
        "relu, σ_max=2.0",
    }
    assert line["series"]["relu, σ_max=2.0"][-1] > 1e6
    assert line["series"]["tanh, σ_max=0.8"][-1] < 1e-8
    clip = [o for o in outputs if o["kind"] == "table"][-1]
    none, norm_clip, value_clip = clip["rows"]
    assert none[1] > 1e6
    assert norm_clip[1] == pytest.approx(5.0) and norm_clip[2] == pytest.approx(1.0)
    assert value_clip[2] < 0.9  # element-wise clipping turns the direction
