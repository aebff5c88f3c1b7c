"""Hadamard product: checked against loops over the definition, numerical gradients and hand values."""

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from hadamard_product import (
    demo,
    dot_via_hadamard,
    frobenius_inner,
    hadamard,
    hadamard_backward,
    matmul_via_hadamard,
)

from studylog.demo import api as out


def test_definition_element_by_element():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    C = hadamard(A, B)
    assert C.shape == (3, 4, 2)
    for idx in np.ndindex(A.shape):
        assert C[idx] == A[idx] * B[idx]


def test_hand_values_of_the_card():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    assert hadamard(a, b).tolist() == [4.0, 10.0, 18.0]
    assert dot_via_hadamard(a, b) == 32.0 == float(a @ b)


def test_unequal_shapes_raise_although_numpy_would_broadcast():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(3,\)"):
        hadamard(np.ones((2, 3)), np.ones(3))
    assert (np.ones((2, 3)) * np.ones(3)).shape == (2, 3)  # what * alone would do


def test_matmul_entries_are_sums_of_hadamard_products():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(4, 5)), rng.normal(size=(5, 3))
    ref = np.array([[sum(A[i, k] * B[k, j] for k in range(5)) for j in range(3)] for i in range(4)])
    np.testing.assert_allclose(matmul_via_hadamard(A, B), ref, rtol=1e-13)
    np.testing.assert_allclose(matmul_via_hadamard(A, B), A @ B, rtol=1e-13)
    with pytest.raises(ValueError):
        matmul_via_hadamard(A, A)


def test_frobenius_inner_is_the_trace_and_diag_identity():
    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert frobenius_inner(A, B) == pytest.approx(np.trace(A.T @ B), rel=1e-13)
    a, b = rng.normal(size=5), rng.normal(size=5)
    np.testing.assert_allclose(np.diag(a) @ b, hadamard(a, b), rtol=1e-15)
    # algebra: commutative, distributes over +, the all-ones array is the identity
    C = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(hadamard(A, B), hadamard(B, A))
    np.testing.assert_allclose(hadamard(A, B + C), hadamard(A, B) + hadamard(A, C), rtol=1e-13)
    np.testing.assert_array_equal(hadamard(A, np.ones_like(A)), A)


def test_backward_matches_numerical_gradient():
    rng = np.random.default_rng(3)
    a, b, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def loss():
        return float(np.sum(w * hadamard(a, b)))

    da, db = hadamard_backward(w, a, b)
    assert relative_error(da, numerical_gradient(loss, a)) < 1e-8
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-8


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    table = next(o for o in outputs if o["kind"] == "table" and o["label"].startswith("LSTM"))
    c = [row[5] for row in table["rows"]]
    # c = f * c_prev + i * g, by hand: 0.9, 0.5*-0.4 + 0.5*0.8, -0.6, 0.9*0.2 + 0.1*0.5
    assert c == pytest.approx([0.9, 0.2, -0.6, 0.23], abs=1e-12)
    grad = next(o for o in outputs if o["kind"] == "array" and o["label"].startswith("backward"))
    assert grad["data"] == [1.0, 0.5, 0.0, 0.9]  # dL/dc_prev = 1 * f
    mm = next(o for o in outputs if o["kind"] == "array" and o["label"].startswith("A @ B"))
    assert mm["data"] == [[2.0, 3.0], [3.0, 4.0]]
