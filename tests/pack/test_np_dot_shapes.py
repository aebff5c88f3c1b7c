import numpy as np
import pytest
from common import numerical_gradient, relative_error
from np_dot_shapes import MatMul, broadcast_shape, demo, dot_loops, matmul_loops

from studylog.demo import api as out

DOT_CASES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((2, 5, 3), (3, 4)),
    ((2, 5, 3), (2, 3, 4)),
    ((3,), (2, 3, 4)),
    ((2, 2, 3), (3,)),
    ((2, 1, 2, 3), (3, 2)),
    ((), (2, 3)),
]

MATMUL_CASES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((2, 5, 3), (3, 4)),
    ((2, 5, 3), (2, 3, 4)),
    ((3,), (2, 3, 4)),
    ((2, 2, 3), (3,)),
    ((3, 1, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("sa,sb", DOT_CASES)
def test_np_dot_follows_the_written_out_rule(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    expected = dot_loops(a, b)
    got = np.dot(a, b)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa,sb", MATMUL_CASES)
def test_matmul_follows_the_written_out_rule(sa, sb):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    expected = matmul_loops(a, b)
    got = a @ b
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_dot_and_matmul_differ_for_3d_and_matmul_is_the_batch_diagonal_of_dot():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 3, 5))
    d, m = np.dot(a, b), a @ b
    assert d.shape == (4, 2, 4, 5) and m.shape == (4, 2, 5)
    # dot[i, :, j, :] = a[i] @ b[j] for every pair; matmul keeps only i == j.
    for i in range(4):
        for j in range(4):
            np.testing.assert_allclose(d[i, :, j, :], a[i] @ b[j], rtol=1e-12)
        np.testing.assert_allclose(m[i], d[i, :, i, :], rtol=1e-12)


def test_shape_errors():
    a = np.ones((2, 3))
    for f in (np.dot, np.matmul, dot_loops, matmul_loops):
        with pytest.raises(ValueError):
            f(a, a)
    with pytest.raises(ValueError):
        matmul_loops(2.0, a)
    with pytest.raises(ValueError):
        np.matmul(2.0, a)
    np.testing.assert_allclose(np.dot(2.0, a), dot_loops(2.0, a))


def test_broadcast_shape_matches_numpy_on_random_shapes():
    rng = np.random.default_rng(3)
    checked_errors = 0
    for _ in range(300):
        shapes = [
            tuple(int(v) for v in rng.choice([1, 2, 3], size=rng.integers(0, 4))) for _ in range(2)
        ]
        try:
            expected = np.broadcast_shapes(*shapes)
        except ValueError:
            checked_errors += 1
            with pytest.raises(ValueError):
                broadcast_shape(*shapes)
            continue
        assert broadcast_shape(*shapes) == expected
    assert checked_errors > 20
    assert broadcast_shape((8, 1, 6, 1), (7, 1, 5)) == (8, 7, 6, 5)  # NumPy docs' example


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 5, 3)])
def test_matmul_layer_gradient_check(x_shape):
    rng = np.random.default_rng(4)
    W = rng.normal(size=(3, 2))
    x = rng.normal(size=x_shape)
    dout = rng.normal(size=x_shape[:-1] + (2,))
    layer = MatMul(W)
    layer.forward(x)
    dx = layer.backward(dout)

    def loss():
        return float(np.sum(MatMul(W).forward(x) * dout))

    assert dx.shape == x.shape and layer.dW.shape == W.shape
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(layer.dW, numerical_gradient(loss, W)) < 1e-6


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    table = outputs[0]
    rows = {r[0]: r for r in table["rows"]}
    assert rows["3-D . 3-D, same batch"][3:] == ["(2, 5, 2, 4)", "(2, 5, 4)"]
    assert rows["2-D . 1-D (matrix-vector)"][3:] == ["(2,)", "(2,)"]
    assert rows["inner sizes differ"][3:] == ["ValueError", "ValueError"]
    assert rows["scalar . 2-D"][3:] == ["(2, 3)", "ValueError"]
    arrays = [o for o in outputs if o["kind"] == "array"]
    assert arrays[2]["shape"] == [2] and arrays[3]["shape"] == [2, 1]
    bcast = next(o for o in outputs if o["kind"] == "table" and "broadcasting" in o["label"])
    assert ["(4, 3)", "(4,)", "ValueError"] in bcast["rows"]
    assert ["(8, 1, 6, 1)", "(7, 1, 5)", "(8, 7, 6, 5)"] in bcast["rows"]
    shapes = {r[0]: r[2] for r in outputs[-1]["rows"]}
    assert shapes["dW"] == shapes["W"] == "(3, 4)" and shapes["dx"] == shapes["x"]
