"""The determinant by cofactor (Laplace) expansion, and why nobody computes it that way.

Sources: Strang, Introduction to Linear Algebra, §5.2 (permutations and
cofactors: det A = a_i1 C_i1 + ... + a_in C_in, C_ij = (-1)^(i+j) det M_ij)
and §5.3 (A^-1 = C^T / det A); Trefethen & Bau, Numerical Linear Algebra,
Lecture 20 (Gaussian elimination / LU costs ~ (2/3) n^3 flops).

Operation counts (multiplications; the sign (-1)^(i+j) is a sign flip, not a
multiplication). Expanding an n x n determinant costs n products a_1j * det(M_1j)
plus n determinants of size n-1:
    M(1) = 0,  M(n) = n M(n-1) + n   =>  M(n) = sum_{k=1}^{n-1} n!/k!  ~ (e - 1) n!
    A(1) = 0,  A(n) = n A(n-1) + n-1 =>  A(n) = n! - 1 additions
Gaussian elimination (LU) needs n(n-1)/2 divisions, (n-1)n(2n-1)/6 multiplications
for the row updates and n-1 to multiply the pivots: (n^3 - n)/3 + n - 1 in all.
"""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np

from studylog.demo import api as out


def minor(A: np.ndarray, i: int, j: int) -> np.ndarray:
    """The submatrix M_ij: A without row i and column j, shape (n-1, n-1), same dtype.

    Works for object arrays (Python ints, Fractions). Its determinant det M_ij is the
    minor (소행렬식) and (-1)^(i+j) det M_ij the cofactor (여인수).
    """
    return np.delete(np.delete(A, i, axis=0), j, axis=1)


def det_cofactor(A: np.ndarray, row: int = 0, ops: Counter | None = None):
    """det A by cofactor expansion along ``row`` (then recursively along the first row).

    Uses only +, - and *, so an integer or ``Fraction`` (object) array gives the
    exact determinant.

    Args:
        A: shape (n, n), any numeric dtype or ``object`` holding Fractions.
        row: which row to expand along at the top level (the value is the same for any row).
        ops: if given, counts ``"mul"`` and ``"add"`` operations performed.

    Returns:
        the determinant, a scalar of A's element type.
    """
    A = np.asarray(A)
    n = A.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"need a square matrix, got shape {A.shape}")
    if n == 0:
        return 1
    if n == 1:
        return A[0, 0]
    total = None
    for j in range(n):
        term = A[row, j] * det_cofactor(minor(A, row, j), 0, ops)
        if ops is not None:
            ops["mul"] += 1
        if total is None:
            total = term if (row + j) % 2 == 0 else -term
        else:
            total = total + term if (row + j) % 2 == 0 else total - term
            if ops is not None:
                ops["add"] += 1
    return total


def cofactor_matrix(A: np.ndarray) -> np.ndarray:
    """C with C_ij = (-1)^(i+j) det M_ij, shape (n, n), dtype object (exact for ints/Fractions)."""
    n = A.shape[0]
    C = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(n):
            C[i, j] = (-1) ** (i + j) * det_cofactor(minor(A, i, j))
    return C


def inverse_by_adjugate(A: np.ndarray) -> np.ndarray:
    """A^-1 = C^T / det A (Strang §5.3), exact when A holds ints or Fractions; dtype object."""
    d = det_cofactor(A)
    if d == 0:
        raise ZeroDivisionError("singular matrix: det A = 0")
    return cofactor_matrix(A).T * Fraction(1, 1) / d


def det_lu(A: np.ndarray, ops: Counter | None = None) -> float:
    """det A by Gaussian elimination with partial pivoting: product of the pivots times (-1)^swaps.

    Args:
        A: shape (n, n), converted to float64.
        ops: if given, counts ``"mul"`` (multiplications and divisions) and ``"add"``.
    """
    U = np.array(A, dtype=np.float64)
    n = U.shape[0]
    sign = 1.0
    for k in range(n - 1):
        p = k + int(np.argmax(np.abs(U[k:, k])))  # the largest pivot keeps rounding errors small
        if U[p, k] == 0.0:
            return 0.0
        if p != k:
            U[[k, p]] = U[[p, k]]
            sign = -sign
        factors = U[k + 1 :, k] / U[k, k]
        U[k + 1 :, k + 1 :] -= np.outer(factors, U[k, k + 1 :])
        U[k + 1 :, k] = 0.0
        if ops is not None:
            m = n - k - 1
            ops["mul"] += m + m * m  # m divisions, m*m multiplications
            ops["add"] += m * m
    if ops is not None:
        ops["mul"] += n - 1  # the product of the n pivots
    return sign * float(np.prod(np.diag(U)))


def cofactor_mul_count(n: int) -> int:
    """M(n) = sum_{k=1}^{n-1} n!/k!, the multiplications of a full cofactor expansion."""
    return sum(math.factorial(n) // math.factorial(k) for k in range(1, n))


def lu_mul_count(n: int) -> int:
    """(n^3 - n)/3 + n - 1 multiplications and divisions for the determinant by elimination."""
    return (n**3 - n) // 3 + n - 1


def hilbert(n: int) -> np.ndarray:
    """The n x n Hilbert matrix H_ij = 1/(i + j + 1) as exact Fractions (dtype object)."""
    return np.array([[Fraction(1, i + j + 1) for j in range(n)] for i in range(n)], dtype=object)


def demo() -> None:
    A = np.array([[2, -1, 0, 3], [1, 4, -2, 0], [0, 5, 1, -1], [3, 0, 2, 1]])
    out.array("A (4 x 4, integers)", A)
    rows = []
    for j in range(4):
        m = int(det_cofactor(minor(A, 0, j)))
        c = (-1) ** j * m
        rows.append(
            [f"j={j + 1}", int(A[0, j]), m, "+" if j % 2 == 0 else "-", c, int(A[0, j]) * c]
        )
    out.table(
        "expansion along row 1: det A = sum_j a_1j C_1j,  C_1j = (-1)^(1+j) det M_1j",
        columns=["term", "a_1j", "det M_1j", "sign", "C_1j", "a_1j C_1j"],
        rows=rows,
    )
    out.value("det A by cofactors (exact integer)", int(det_cofactor(A)))
    out.value("det A by np.linalg.det (LU, float)", float(np.linalg.det(A)))
    out.value("det A expanded along row 3 instead", int(det_cofactor(A, row=2)))

    H = hilbert(4)
    out.value("det(Hilbert 4x4) by cofactors with Fractions", str(det_cofactor(H)))
    out.value("det(Hilbert 4x4) by np.linalg.det", float(np.linalg.det(H.astype(float))))
    out.text(
        "Cofactor expansion never divides, so with exact numbers it gives the exact answer 1/6048000."
    )

    table_rows = []
    for n in range(1, 13):
        measured = ""
        if n <= 6:
            ops: Counter = Counter()
            det_cofactor(np.random.default_rng(0).normal(size=(n, n)), ops=ops)
            measured = ops["mul"]
        table_rows.append([n, math.factorial(n), measured, cofactor_mul_count(n), lu_mul_count(n)])
    out.table(
        "multiplications for one n x n determinant",
        columns=["n", "n!", "cofactor (counted)", "cofactor (formula)", "LU (formula)"],
        rows=table_rows,
    )
    ns = list(range(2, 21))
    out.line(
        "multiplications: cofactor expansion ~ (e-1) n! vs elimination ~ n^3/3",
        x=ns,
        series={
            "cofactor": [cofactor_mul_count(n) for n in ns],
            "LU": [lu_mul_count(n) for n in ns],
        },
        x_title="n",
        y_title="multiplications",
        log_y=True,
    )
    years = cofactor_mul_count(20) / 1e9 / (3600 * 24 * 365)
    out.value("n = 20 by cofactors at 10^9 multiplications per second", round(years), unit="years")
    out.value("n = 20 by elimination", lu_mul_count(20), unit="multiplications")
