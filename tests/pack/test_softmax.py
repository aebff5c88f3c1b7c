import math

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from softmax import (
    SoftmaxWithLoss,
    demo,
    entropy,
    log_softmax,
    softmax,
    softmax_backward,
    softmax_jacobian,
    softmax_naive,
)

from studylog.demo import api as out


def scalar_softmax(values):
    """The definition with math.exp, one element at a time."""
    exps = [math.exp(v) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def test_published_example():
    # Wikipedia, "Softmax function", example: [1, 2, 3, 4, 1, 2, 3] ->
    # [0.024, 0.064, 0.175, 0.475, 0.024, 0.064, 0.175].
    y = softmax(np.array([1.0, 2, 3, 4, 1, 2, 3]))
    assert np.round(y, 3).tolist() == [0.024, 0.064, 0.175, 0.475, 0.024, 0.064, 0.175]


def test_matches_the_definition_elementwise():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 5)) * 3
    y = softmax(a)
    for row_a, row_y in zip(a, y, strict=True):
        np.testing.assert_allclose(row_y, scalar_softmax(row_a), rtol=1e-13)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-15)


def test_max_subtraction_fixes_overflow():
    a = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.all(np.isnan(softmax_naive(a)))
    np.testing.assert_allclose(softmax(a), scalar_softmax([0.0, 1.0, 2.0]), rtol=1e-14)
    # Very negative scores: the naive version divides 0 by 0.
    with np.errstate(invalid="ignore", under="ignore"):
        assert np.all(np.isnan(softmax_naive(np.array([-1000.0, -1001.0]))))
    np.testing.assert_allclose(softmax(np.array([-1000.0, -1001.0])), scalar_softmax([0.0, -1.0]))


def test_shift_invariance():
    a = np.array([0.3, -1.2, 2.5, 0.0])
    np.testing.assert_allclose(softmax(a + 123.4), softmax(a), rtol=1e-12)


def test_log_softmax_is_stable():
    a = np.array([0.0, -1000.0])
    ls = log_softmax(a)
    assert np.all(np.isfinite(ls))
    assert ls[1] == pytest.approx(-1000.0, rel=1e-12)
    b = np.array([0.2, 1.3, -0.7])
    np.testing.assert_allclose(log_softmax(b), np.log(scalar_softmax(b)), rtol=1e-13)


def test_jacobian_against_central_differences():
    rng = np.random.default_rng(1)
    a = rng.normal(size=5)
    y = softmax(a)
    numeric = np.zeros((5, 5))
    for k in range(5):
        numeric[k] = numerical_gradient(lambda k=k: float(softmax(a)[k]), a)
    assert relative_error(softmax_jacobian(y), numeric) < 1e-6
    # Rows sum to zero (shift invariance) and J is symmetric.
    np.testing.assert_allclose(softmax_jacobian(y).sum(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(softmax_jacobian(y), softmax_jacobian(y).T)


def test_softmax_backward_gradient_check_random_upstream():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 4))
    dy = rng.normal(size=(3, 4))
    analytic = softmax_backward(softmax(a), dy)
    numeric = numerical_gradient(lambda: float(np.sum(dy * softmax(a))), a)
    assert relative_error(analytic, numeric) < 1e-6
    # Same thing through the explicit Jacobian, row by row.
    for n in range(3):
        np.testing.assert_allclose(
            analytic[n], softmax_jacobian(softmax(a[n])).T @ dy[n], rtol=1e-12, atol=1e-15
        )


def test_softmax_with_loss_value_and_y_minus_t_gradient():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 5))
    labels = np.array([0, 4, 2, 2])
    layer = SoftmaxWithLoss()
    loss = layer.forward(a, labels)
    expected = -sum(math.log(scalar_softmax(a[n])[labels[n]]) for n in range(4)) / 4
    assert loss == pytest.approx(expected, rel=1e-13)

    dout = 0.7
    analytic = layer.backward(dout)
    numeric = numerical_gradient(lambda: dout * SoftmaxWithLoss().forward(a, labels), a)
    assert relative_error(analytic, numeric) < 1e-6
    onehot = np.eye(5)[labels]
    np.testing.assert_allclose(analytic, dout * (softmax(a) - onehot) / 4)

    # One-hot targets give the same loss as integer labels.
    assert SoftmaxWithLoss().forward(a, onehot) == pytest.approx(loss, rel=1e-14)


def test_loss_is_finite_when_a_probability_underflows():
    a = np.array([[0.0, -800.0]])
    loss = SoftmaxWithLoss().forward(a, np.array([1]))
    assert loss == pytest.approx(800.0, rel=1e-12)


def test_temperature_limits_and_entropy():
    a = np.array([2.0, 1.0, 0.1, -1.0])
    np.testing.assert_allclose(softmax(a, 0.01), [1, 0, 0, 0], atol=1e-30)
    np.testing.assert_allclose(softmax(a, 1e6), 0.25, rtol=1e-5)
    temps = np.geomspace(0.05, 50, 30)
    h = entropy(np.stack([softmax(a, t) for t in temps]))
    assert np.all(np.diff(h) > 0)
    assert h[-1] == pytest.approx(math.log(4), rel=1e-3)
    assert entropy(np.array([1.0, 0.0])) == 0.0


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    kinds = [o["kind"] for o in outputs]
    assert {"table", "heatmap", "line", "array", "value"} <= set(kinds)
    table = outputs[0]
    assert table["rows"][0][1:] == ["nan", "nan", "nan"]
    np.testing.assert_allclose(table["rows"][1][1:], scalar_softmax([0, 1, 2]))
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    probs = np.array(heat["data"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert np.all(np.diff(probs[:, 0]) < 0)  # the top class loses mass as T grows
    grad = np.array(outputs[-1]["data"])
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)
    assert grad[0, 0] < 0 and grad[1, 3] < 0  # the true class is pushed up
