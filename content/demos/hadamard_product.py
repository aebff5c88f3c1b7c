"""The Hadamard (element-wise) product against the dot product and the matrix product.

    (A ⊙ B)_ij = A_ij B_ij                    same shapes in, same shape out
    a · b      = sum_i a_i b_i = sum(a ⊙ b)   a number
    (A @ B)_ij = sum_k A_ik B_kj = sum(A[i, :] ⊙ B[:, j])

Sources: Horn & Johnson, Topics in Matrix Analysis (1991), ch. 5 (the Hadamard
product, the Schur product theorem); 밑바닥부터 시작하는 딥러닝 2, ch. 6.2.3 (⊙ in the
LSTM's output gate, "아다마르 곱") and ch08/attention_layer.py (attention scores as
sum(hs * h, axis=2)). In NumPy the Hadamard product is ``*`` (``np.multiply``),
in PyTorch ``*`` (``torch.mul``); ``@`` is the matrix product in both.
"""

from __future__ import annotations

import numpy as np

from studylog.demo import api as out


def hadamard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ⊙ b, element by element; a and b must have the same shape (any number of axes).

    Raises:
        ValueError: if the shapes differ. (NumPy's ``a * b`` would broadcast instead;
        the Hadamard product of linear algebra is defined for equal shapes only.)
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"Hadamard product needs equal shapes, got {a.shape} and {b.shape}")
    return a * b


def hadamard_backward(
    dout: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of y = a ⊙ b: (da, db) = (dout ⊙ b, dout ⊙ a), each the shape of a.

    The Jacobian dy/da is diag(b), so no matrix product is needed backward either:
    this is the "×" node of 밑바닥1 ch. 5.3.2 applied element by element.
    """
    return dout * b, dout * a


def dot_via_hadamard(a: np.ndarray, b: np.ndarray) -> float:
    """The dot product of two (n,) vectors as the sum of their Hadamard product."""
    return float(np.sum(hadamard(a, b)))


def matmul_via_hadamard(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A (m, k) @ B (k, n) -> (m, n), entry (i, j) as sum(A[i, :] ⊙ B[:, j]).

    Broadcasting A[:, :, None] (m, k, 1) against B[None, :, :] (1, k, n) forms all the
    products at once, (m, k, n); summing over k leaves the matrix product.
    """
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"matmul needs (m, k) and (k, n), got {A.shape} and {B.shape}")
    return np.sum(A[:, :, None] * B[None, :, :], axis=1)


def frobenius_inner(A: np.ndarray, B: np.ndarray) -> float:
    """<A, B>_F = sum(A ⊙ B) = trace(A^T B) for equal-shaped matrices."""
    return float(np.sum(hadamard(A, B)))


def demo() -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([4.0, 5.0, 6.0])
    out.text("Three products of the same two vectors a = [1, 2, 3] and b = [4, 5, 6]:")
    out.table(
        "element-wise vs dot vs outer",
        columns=["product", "NumPy", "result", "shape"],
        rows=[
            ["Hadamard a ⊙ b (아다마르 곱)", "a * b", str(hadamard(a, b).tolist()), "(3,)"],
            ["dot a · b (내적) = sum(a ⊙ b)", "a @ b", str(dot_via_hadamard(a, b)), "()"],
            ["outer a bᵀ", "np.outer(a, b)", str(np.outer(a, b).tolist()), "(3, 3)"],
        ],
    )

    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]])
    B = np.array([[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    out.array("A (2, 3)", A)
    out.array("B (2, 3)", B)
    out.array("A ⊙ B (2, 3): same shape in and out", hadamard(A, B))
    out.array("A @ Bᵀ (2, 2): each entry is sum(row of A ⊙ row of B)", matmul_via_hadamard(A, B.T))
    out.text(
        "A ⊙ B needs equal shapes and multiplies 6 pairs; A @ B would need (2, 3) @ (3, n). "
        "Every matrix-product entry is a Hadamard product followed by a sum, which is why "
        "밑바닥2 can compute attention scores as np.sum(hs * h, axis=2)."
    )

    # Where it appears: the LSTM cell update c_t = f ⊙ c_prev + i ⊙ g.
    c_prev = np.array([0.9, -0.4, 0.7, 0.2])
    f = np.array([1.0, 0.5, 0.0, 0.9])
    i = np.array([0.0, 0.5, 1.0, 0.1])
    g = np.array([0.3, 0.8, -0.6, 0.5])
    c = hadamard(f, c_prev) + hadamard(i, g)
    out.table(
        "LSTM cell update c_t = f ⊙ c_(t-1) + i ⊙ g, unit by unit",
        columns=["unit", "c_(t-1)", "forget f", "input i", "candidate g", "c_t", "what happened"],
        rows=[
            [u, c_prev[u], f[u], i[u], g[u], round(float(c[u]), 4), what]
            for u, what in enumerate(["kept", "half kept, half new", "replaced", "mostly kept"])
        ],
    )
    dc = np.ones(4)
    _, dc_prev = hadamard_backward(dc, f, c_prev)  # y = f ⊙ c_prev: the gradient of c_prev
    out.array("backward: dL/dc_(t-1) = dL/dc_t ⊙ f (a gradient of 1 per unit)", dc_prev)
    out.text(
        "Each unit is gated on its own: unit 0 keeps its memory and its gradient, unit 2 "
        "forgets both. A matrix product would mix the units; the Hadamard product never does."
    )
