"""np.dot, @ (np.matmul) and broadcasting: which shapes go in and which come out.

Sources: 밑바닥부터 시작하는 딥러닝 2, 1.1.3-1.1.5 (broadcasting, inner and
matrix products, checking shapes) and 1.3.4.5 (the MatMul node: dx = dout W^T,
dW = x^T dout); NumPy reference for numpy.dot, numpy.matmul and
"Broadcasting"; PEP 465 (the @ operator).

The rules, written out as loops below so they can be checked against NumPy:

* ``np.dot(a, b)``: 1-D . 1-D is the inner product (a scalar); otherwise it sums
  over the LAST axis of a and the SECOND-TO-LAST axis of b (the only axis if b
  is 1-D), and *all* other axes of both are kept:
  shape = a.shape[:-1] + b.shape[:-2] + b.shape[-1:].
* ``a @ b``: the last two axes are matrices, the axes before them are a
  *batch* that is broadcast; a 1-D operand is treated as a row (left) or column
  (right) vector and that axis is removed again. Scalars are not allowed.
* Broadcasting (element-wise ops): align shapes on the right; each pair of
  sizes must be equal or one of them 1; missing leading axes count as 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from studylog.demo import api as out


def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The broadcast result shape by the rule (right-aligned, sizes equal or 1); ValueError otherwise."""
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            raise ValueError(
                f"shapes {shapes} do not broadcast: sizes {sorted(sizes)} on axis {axis}"
            )
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def dot_loops(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """np.dot by explicit loops: every index of a (but its last) x every index of b (but its contracted one)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    k_axis = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[k_axis]:
        raise ValueError(f"dot: a.shape[-1]={a.shape[-1]} != b.shape[{k_axis}]={b.shape[k_axis]}")
    b_rest = b.shape[:k_axis] + b.shape[k_axis + 1 :]
    result = np.zeros(a.shape[:-1] + b_rest)
    for ia in itertools.product(*(range(n) for n in a.shape[:-1])):
        for ib in itertools.product(*(range(n) for n in b_rest)):
            total = 0.0
            for k in range(a.shape[-1]):
                b_index = ib[:k_axis] + (k,) + ib[k_axis:]
                total += a[ia + (k,)] * b[b_index]
            result[ia + ib] = total
    return float(result) if result.ndim == 0 else result


def matmul_loops(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """a @ b by explicit loops: promote 1-D operands, broadcast the batch axes, multiply matrices."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: scalars are not allowed, use *")
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    a2 = a[None, :] if a_vec else a  # (n,) -> (1, n): a row vector
    b2 = b[:, None] if b_vec else b  # (n,) -> (n, 1): a column vector
    (m, k), (k2, p) = a2.shape[-2:], b2.shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: inner sizes differ ({k} vs {k2})")
    batch = broadcast_shape(a2.shape[:-2], b2.shape[:-2])
    A = np.broadcast_to(a2, batch + (m, k))
    B = np.broadcast_to(b2, batch + (k, p))
    result = np.zeros(batch + (m, p))
    for idx in itertools.product(*(range(n) for n in batch)):
        for i in range(m):
            for j in range(p):
                result[idx + (i, j)] = sum(A[idx + (i, t)] * B[idx + (t, j)] for t in range(k))
    if a_vec:
        result = result[..., 0, :]
    if b_vec:
        result = result[..., 0]
    return float(result) if result.ndim == 0 else result


class MatMul:
    """The MatMul node of 밑바닥2 (1.3.4.5): y = x @ W with x (N, D), W (D, H), y (N, H).

    backward(dout (N, H)) -> dx = dout @ W^T (N, D), and stores dW = x^T @ dout (D, H).
    The transposes are the only ones that make the shapes match, which is a good way
    to remember them. For x of shape (N, T, D) the batch axes are flattened first.
    """

    def __init__(self, W: np.ndarray) -> None:
        self.W = W
        self.x: np.ndarray | None = None
        self.dW = np.zeros_like(W)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.W

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.x is not None, "call forward first"
        D, H = self.W.shape
        self.dW = self.x.reshape(-1, D).T @ dout.reshape(-1, H)  # sum over all batch axes
        return dout @ self.W.T


def _shape_or_error(f, a: np.ndarray, b: np.ndarray) -> str:
    try:
        return str(np.shape(f(a, b)))
    except ValueError:
        return "ValueError"


DOT_VS_MATMUL = [
    ("1-D . 1-D (inner product)", (3,), (3,)),
    ("2-D . 1-D (matrix-vector)", (2, 3), (3,)),
    ("1-D . 2-D (vector-matrix)", (3,), (3, 4)),
    ("2-D . 2-D (matrix product)", (2, 3), (3, 4)),
    ("3-D . 2-D (N,T,D) x (D,H)", (2, 5, 3), (3, 4)),
    ("3-D . 3-D, same batch", (2, 5, 3), (2, 3, 4)),
    ("4-D @ 3-D, broadcast batch", (6, 1, 5, 3), (2, 3, 4)),
    ("inner sizes differ", (2, 3), (2, 3)),
    ("scalar . 2-D", (), (2, 3)),
]

BROADCASTING = [
    ((4, 3), (3,)),
    ((4, 3), (4,)),
    ((4, 1), (3,)),
    ((3, 1), (1, 4)),
    ((2, 5, 4), (2, 1, 4)),
    ((2, 5, 4), (5, 1)),
    ((8, 1, 6, 1), (7, 1, 5)),
]


def demo() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for name, sa, sb in DOT_VS_MATMUL:
        a, b = rng.normal(size=sa), rng.normal(size=sb)
        rows.append(
            [
                name,
                str(sa),
                str(sb),
                _shape_or_error(np.dot, a, b),
                _shape_or_error(np.matmul, a, b),
            ]
        )
    out.table(
        "np.dot(a, b) vs a @ b: result shapes",
        columns=["case", "a", "b", "np.dot", "a @ b"],
        rows=rows,
    )
    out.text(
        "They agree up to 2-D and for (N,T,D) @ (D,H). For two 3-D arrays dot pairs every matrix of a "
        "with every matrix of b, (2,5,3).(2,3,4) -> (2,5,2,4), while @ multiplies them batch by batch -> (2,5,4). "
        "np.dot accepts a scalar (it just multiplies); @ refuses it."
    )

    A = np.arange(6.0).reshape(2, 3)
    v = np.array([1.0, 0.0, -1.0])
    out.array("A (2, 3)", A)
    out.array("v (3,): neither a row nor a column vector", v)
    out.array("A @ v -> shape (2,), still 1-D", A @ v)
    out.array("A @ v[:, None] -> shape (2, 1), a column", A @ v[:, None])

    brows = []
    for sa, sb in BROADCASTING:
        try:
            res = str(np.broadcast_shapes(sa, sb))
        except ValueError:
            res = "ValueError"
        brows.append([str(sa), str(sb), res])
    out.table(
        "broadcasting: align on the right, sizes must be equal or 1",
        columns=["a", "b", "a + b"],
        rows=brows,
    )

    # 밑바닥2 ch. 8's attention weight: (N, T, H) hidden states * (N, 1, H) decoder state.
    hs = rng.normal(size=(2, 4, 3))
    h = rng.normal(size=(2, 3))
    scores = (hs * h.reshape(2, 1, 3)).sum(axis=2)
    out.array(
        "attention scores (hs * h[:, None, :]).sum(axis=2), shape (N, T) = (2, 4)",
        np.round(scores, 3),
    )

    layer = MatMul(rng.normal(size=(3, 4)))
    x = rng.normal(size=(2, 5, 3))
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    out.table(
        "MatMul backward: the transposes that make the shapes fit",
        columns=["array", "formula", "shape"],
        rows=[
            ["x", "input", str(x.shape)],
            ["W", "weight", str(layer.W.shape)],
            ["y", "x @ W", str(y.shape)],
            ["dx", "dout @ W.T", str(dx.shape)],
            ["dW", "x.reshape(-1, D).T @ dout.reshape(-1, H)", str(layer.dW.shape)],
        ],
    )
