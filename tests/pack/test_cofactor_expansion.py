import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from cofactor_expansion import (
    cofactor_matrix,
    cofactor_mul_count,
    demo,
    det_cofactor,
    det_lu,
    hilbert,
    inverse_by_adjugate,
    lu_mul_count,
    minor,
)

from studylog.demo import api as out


def leibniz_det(A):
    """The permutation (Leibniz) formula: sum over permutations of sign * product, independent of cofactors."""
    n = len(A)
    total = 0
    for perm in itertools.permutations(range(n)):
        inversions = sum(1 for i in range(n) for j in range(i + 1, n) if perm[i] > perm[j])
        prod = 1
        for i in range(n):
            prod *= A[i][perm[i]]
        total += -prod if inversions % 2 else prod
    return total


def test_small_known_determinants():
    assert det_cofactor(np.array([[3]])) == 3
    assert det_cofactor(np.array([[1, 2], [3, 4]])) == -2  # ad - bc
    # The worked 3x3 example on Wikipedia's "Determinant" page: -306.
    assert det_cofactor(np.array([[6, 1, 1], [4, -2, 5], [2, 8, 7]])) == -306
    assert det_cofactor(np.eye(5)) == 1.0


def test_hilbert_determinants_exact():
    # Known values: det H_3 = 1/2160, det H_4 = 1/6048000, det H_5 = 1/266716800000.
    assert det_cofactor(hilbert(3)) == Fraction(1, 2160)
    assert det_cofactor(hilbert(4)) == Fraction(1, 6048000)
    assert det_cofactor(hilbert(5)) == Fraction(1, 266716800000)


def test_vandermonde_and_triangular():
    xs = [2, -1, 3, 5, 0]
    V = np.array([[x**j for j in range(5)] for x in xs])
    expected = math.prod(xs[j] - xs[i] for i in range(5) for j in range(i + 1, 5))
    assert det_cofactor(V) == expected
    T = np.triu(np.arange(1, 26).reshape(5, 5))
    assert det_cofactor(T) == math.prod(np.diag(T).tolist())


def test_matches_leibniz_formula_and_numpy_on_random_matrices():
    rng = np.random.default_rng(0)
    for n in range(1, 7):
        A = rng.integers(-5, 6, size=(n, n))
        exact = det_cofactor(A)
        assert exact == leibniz_det(A.tolist())
        assert float(exact) == pytest.approx(np.linalg.det(A), abs=1e-8 * max(1, abs(exact)))
        F = rng.normal(size=(n, n))
        assert det_cofactor(F) == pytest.approx(np.linalg.det(F), rel=1e-10, abs=1e-12)
        assert det_lu(F) == pytest.approx(np.linalg.det(F), rel=1e-10, abs=1e-12)


def test_any_row_gives_the_same_value():
    rng = np.random.default_rng(1)
    A = rng.integers(-4, 5, size=(5, 5))
    values = {det_cofactor(A, row=r) for r in range(5)}
    assert len(values) == 1


def test_determinant_properties():
    rng = np.random.default_rng(2)
    A = rng.integers(-3, 4, size=(4, 4))
    B = rng.integers(-3, 4, size=(4, 4))
    assert det_cofactor(A @ B) == det_cofactor(A) * det_cofactor(B)
    assert det_cofactor(A.T) == det_cofactor(A)
    swapped = A[[1, 0, 2, 3]]
    assert det_cofactor(swapped) == -det_cofactor(A)
    singular = A.copy()
    singular[3] = singular[0] + singular[1]
    assert det_cofactor(singular) == 0
    assert det_lu(singular.astype(float)) == pytest.approx(0.0, abs=1e-9)


def test_minor_and_adjugate_inverse():
    A = np.array([[4, 7, 2], [3, 6, 1], [2, 5, 3]])
    np.testing.assert_array_equal(minor(A, 1, 0), [[7, 2], [5, 3]])
    C = cofactor_matrix(A)
    d = det_cofactor(A)
    # A C^T = det(A) I exactly.
    assert (A.astype(object) @ C.T == d * np.eye(3, dtype=int)).all()
    inv = inverse_by_adjugate(A)
    assert all(isinstance(v, Fraction) for v in inv.flat)
    assert (A.astype(object) @ inv == np.eye(3, dtype=int)).all()
    np.testing.assert_allclose(inv.astype(float), np.linalg.inv(A), rtol=1e-12)
    with pytest.raises(ZeroDivisionError):
        inverse_by_adjugate(np.array([[1, 2], [2, 4]]))


def test_counted_operations_match_closed_forms():
    rng = np.random.default_rng(3)
    for n in range(1, 8):
        ops: Counter = Counter()
        det_cofactor(rng.normal(size=(n, n)), ops=ops)
        # Recurrences M(n) = n M(n-1) + n and A(n) = n A(n-1) + n - 1, solved by hand.
        assert ops["mul"] == cofactor_mul_count(n)
        assert ops["add"] == math.factorial(n) - 1
        lu_ops: Counter = Counter()
        det_lu(rng.normal(size=(n, n)), ops=lu_ops)
        assert lu_ops["mul"] == lu_mul_count(n)
    # sum n!/k! for k = 1..n-1 tends to (e - 1) n!.
    assert cofactor_mul_count(15) / math.factorial(15) == pytest.approx(math.e - 1, rel=1e-10)
    # Elimination: n^3/3 leading term (Trefethen & Bau: 2n^3/3 flops = mults + adds).
    assert lu_mul_count(300) / 300**3 == pytest.approx(1 / 3, rel=1e-4)
    assert [cofactor_mul_count(n) for n in range(1, 6)] == [0, 2, 9, 40, 205]


def test_rejects_non_square():
    with pytest.raises(ValueError):
        det_cofactor(np.ones((2, 3)))


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    values = {o["label"]: o["value"] for o in outputs if o["kind"] == "value"}
    assert values["det A by cofactors (exact integer)"] == -103
    assert values["det A expanded along row 3 instead"] == -103
    assert values["det A by np.linalg.det (LU, float)"] == pytest.approx(-103)
    assert values["det(Hilbert 4x4) by cofactors with Fractions"] == "1/6048000"
    terms = next(o for o in outputs if o["kind"] == "table")
    assert sum(r[-1] for r in terms["rows"]) == -103
    counts = [o for o in outputs if o["kind"] == "table"][1]["rows"]
    for _n, _, counted, formula, _ in counts:
        if counted != "":
            assert counted == formula
    assert counts[-1][3] > 1_000_000 * counts[-1][4]
    (line,) = [o for o in outputs if o["kind"] == "line"]
    assert line["log_y"] and min(min(s) for s in line["series"].values()) > 0


def test_the_minor_is_the_determinant_of_the_submatrix():
    # The card's example: A = [[1, 2, 3], [4, 5, 6], [7, 8, 10]]; 소행렬식 at (1, 1) (0-based
    # (0, 0)) is det [[5, 6], [8, 10]] = 2, a number; at (1, 2) it is det [[4, 6], [7, 10]] = -2.
    A = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 10]], dtype=object)
    assert minor(A, 0, 0).tolist() == [[5, 6], [8, 10]]  # the submatrix
    assert det_cofactor(minor(A, 0, 0)) == 2  # the minor
    assert det_cofactor(minor(A, 0, 1)) == -2
    C = cofactor_matrix(A)
    assert C[0, 0] == 2 and C[0, 1] == 2  # (-1)^(0+1) * (-2)
    # Hand-computed: det A = 1*2 - 2*(-2) + 3*(32 - 35) = -3.
    assert det_cofactor(A) == -3
