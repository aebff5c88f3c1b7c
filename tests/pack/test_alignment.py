import math

import numpy as np
import pytest
from alignment import Attention, AttentionWeight, WeightSum, demo
from common import numerical_gradient, relative_error

from studylog.demo import api as out


def reference_attention(hs, h):
    """Weights and context with explicit loops and math.exp (no NumPy reductions)."""
    N, T, H = hs.shape
    a = np.zeros((N, T))
    c = np.zeros((N, H))
    for n in range(N):
        s = [sum(hs[n, t, k] * h[n, k] for k in range(H)) for t in range(T)]
        m = max(s)
        e = [math.exp(v - m) for v in s]
        z = sum(e)
        for t in range(T):
            a[n, t] = e[t] / z
            for k in range(H):
                c[n, k] += a[n, t] * hs[n, t, k]
    return a, c


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    hs = rng.standard_normal((3, 5, 4))
    h = rng.standard_normal((3, 4))
    return hs, h, rng


def test_matches_the_loop_reference(data):
    hs, h, _ = data
    layer = Attention()
    c = layer.forward(hs, h)
    a_ref, c_ref = reference_attention(hs, h)
    np.testing.assert_allclose(layer.attention_weight, a_ref, atol=1e-14)
    np.testing.assert_allclose(c, c_ref, atol=1e-14)


def test_weights_form_a_distribution_and_ignore_a_common_shift(data):
    hs, h, rng = data
    a = AttentionWeight().forward(hs, h)
    assert np.all(a > 0)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    # adding the same vector v to every encoder state adds v·h to every score: weights unchanged
    v = rng.standard_normal(4)
    np.testing.assert_allclose(AttentionWeight().forward(hs + v, h), a, atol=1e-14)
    # ... and the context moves by exactly v
    np.testing.assert_allclose(
        Attention().forward(hs + v, h), Attention().forward(hs, h) + v, atol=1e-13
    )


def test_identical_encoder_states_give_uniform_weights():
    hs = np.tile(np.array([1.0, -2.0, 0.5]), (1, 4, 1))
    layer = Attention()
    c = layer.forward(hs, np.array([[3.0, 1.0, -1.0]]))
    np.testing.assert_allclose(layer.attention_weight, 0.25)
    np.testing.assert_allclose(c[0], [1.0, -2.0, 0.5])


def test_attention_weight_backward(data):
    hs, h, rng = data
    da = rng.standard_normal((3, 5))
    layer = AttentionWeight()
    layer.forward(hs, h)
    dhs, dh = layer.backward(da)

    def loss():
        return float(np.sum(AttentionWeight().forward(hs, h) * da))

    assert relative_error(dhs, numerical_gradient(loss, hs)) < 1e-6
    assert relative_error(dh, numerical_gradient(loss, h)) < 1e-6


def test_weight_sum_backward(data):
    hs, _, rng = data
    a = rng.random((3, 5))
    dc = rng.standard_normal((3, 4))
    layer = WeightSum()
    layer.forward(hs, a)
    dhs, da = layer.backward(dc)

    def loss():
        return float(np.sum(WeightSum().forward(hs, a) * dc))

    assert relative_error(dhs, numerical_gradient(loss, hs)) < 1e-6
    assert relative_error(da, numerical_gradient(loss, a)) < 1e-6


def test_attention_backward(data):
    hs, h, rng = data
    dc = rng.standard_normal((3, 4))
    layer = Attention()
    layer.forward(hs, h)
    dhs, dh = layer.backward(dc)

    def loss():
        return float(np.sum(Attention().forward(hs, h) * dc))

    assert relative_error(dhs, numerical_gradient(loss, hs)) < 1e-6
    assert relative_error(dh, numerical_gradient(loss, h)) < 1e-6


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    w = np.array(heat["data"])
    assert heat["x_labels"] == ["나", "는", "고양이", "로소", "이다"]
    assert heat["y_labels"] == ["I", "am", "a", "cat"]
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert list(w.argmax(axis=1)[[0, 1, 3]]) == [0, 4, 2]  # I-나, am-이다, cat-고양이
    np.testing.assert_allclose(w[2], 0.2)  # "a": no counterpart
    # 'cat': score 3 on 고양이, 0 elsewhere -> e^3 / (e^3 + 4)
    assert w[3, 2] == pytest.approx(math.exp(3) / (math.exp(3) + 4))
    sharp = [o for o in outputs if o["kind"] == "table"][-1]["rows"]
    peaks = [r[1] for r in sharp]
    assert peaks == sorted(peaks) and peaks[-1] > 0.999


def test_book_style_hadamard_then_sum_equals_the_layers():
    # 밑바닥2 ch08/attention_layer.py, written out: scores = sum(hs * h[:, None, :], axis=2)
    # (a Hadamard product with h broadcast along T, then a sum over H), and
    # c = sum(hs * a[:, :, None], axis=1). Softmax by the definition exp / sum exp.

    rng = np.random.default_rng(21)
    N, T, H = 3, 5, 4
    hs, h = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    scores = np.sum(hs * h.reshape(N, 1, H), axis=2)
    e = np.exp(scores)
    a_book = e / e.sum(axis=1, keepdims=True)
    c_book = np.sum(hs * a_book.reshape(N, T, 1), axis=1)
    a = AttentionWeight().forward(hs, h)
    np.testing.assert_allclose(a, a_book, rtol=1e-13)
    np.testing.assert_allclose(WeightSum().forward(hs, a), c_book, rtol=1e-13)
    # and the Hadamard-then-sum is the dot product, one (N, T) entry by hand
    assert scores[1, 2] == pytest.approx(sum(hs[1, 2, k] * h[1, k] for k in range(H)), rel=1e-14)
