"""Softmax: the overflow-safe forward, its Jacobian, and Softmax-with-Loss whose backward is y - t.

Sources: 밑바닥부터 시작하는 딥러닝 1, 3.5.1-3.5.2 (softmax and the max-subtraction
fix) and appendix A (the Softmax-with-Loss backward); 밑바닥부터 시작하는 딥러닝 2,
1.3.1 (손실 함수, the Softmax with Loss layer; common/layers.py); Bridle (1990) named the function.

    softmax(a)_k = exp(a_k) / sum_i exp(a_i)
                 = exp(a_k - C) / sum_i exp(a_i - C)     for any constant C (use C = max a)

Jacobian: d y_k / d a_j = y_k (delta_kj - y_j), i.e. J = diag(y) - y y^T.
With cross-entropy L = -sum_k t_k log y_k and one-hot t, dL/da = y - t.
"""

from __future__ import annotations

import numpy as np

from studylog.demo import api as out


def softmax_naive(a: np.ndarray) -> np.ndarray:
    """exp(a) / sum exp(a) along the last axis, exactly as written: overflows for a > ~709."""
    e = np.exp(a)
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax(a: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax of ``a / temperature`` along the last axis, shifted by the row maximum.

    Subtracting the maximum changes nothing mathematically (the factor exp(-C)
    cancels) but makes the largest exponent exp(0) = 1, so exp never overflows
    and at least one term of the sum is 1, so it never divides by 0.

    Args:
        a: scores (logits), shape (..., K), float.
        temperature: T > 0. T -> 0 approaches argmax (one-hot), T -> inf uniform.

    Returns:
        probabilities, same shape as ``a``, each row sums to 1.
    """
    z = np.asarray(a) / temperature
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(a: np.ndarray) -> np.ndarray:
    """log softmax(a) = a - logsumexp(a), computed stably (no log of a tiny number)."""
    a = np.asarray(a)
    m = np.max(a, axis=-1, keepdims=True)
    return a - m - np.log(np.sum(np.exp(a - m), axis=-1, keepdims=True))


def softmax_jacobian(y: np.ndarray) -> np.ndarray:
    """J[k, j] = d y_k / d a_j = y_k (delta_kj - y_j) for one probability vector y of shape (K,)."""
    return np.diag(y) - np.outer(y, y)


def softmax_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dL/da from dL/dy without building J: dA = y * (dy - sum(dy * y)), shapes (..., K).

    This is J^T dy row by row (J is symmetric), in O(K) instead of O(K^2).
    """
    return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats along the last axis (0 log 0 = 0)."""
    p = np.asarray(p)
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy over the batch (밑바닥2 common/layers.py).

    forward(a, t): a (N, K) logits; t either (N,) integer labels or (N, K) one-hot.
    Returns the scalar L = -(1/N) sum_n log y[n, t_n].
    backward(dout=1): dL/da = dout * (y - t) / N, shape (N, K).
    """

    def __init__(self) -> None:
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, a: np.ndarray, t: np.ndarray) -> float:
        n, k = a.shape
        t = np.asarray(t)
        onehot = np.eye(k, dtype=a.dtype)[t] if t.ndim == 1 else t.astype(a.dtype)
        self.y, self.t = softmax(a), onehot
        # log_softmax avoids log(0) when a probability underflows.
        return float(-np.sum(onehot * log_softmax(a)) / n)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        assert self.y is not None and self.t is not None, "call forward first"
        n = self.y.shape[0]
        return dout * (self.y - self.t) / n


def demo() -> None:
    a = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = softmax_naive(a)
    out.table(
        "scores [1000, 1001, 1002]: exp(1000) overflows float64 (max ~ exp(709.8))",
        columns=["version", "y0", "y1", "y2"],
        rows=[
            ["naive exp(a)/sum", *[str(v) for v in naive]],
            ["a - max(a)", *softmax(a).tolist()],
        ],
    )
    out.text(
        "Shifting by max(a) turns the scores into [-2, -1, 0]: same probabilities, no overflow."
    )

    logits = np.array([2.0, 1.0, 0.1, -1.0])
    temps = [0.25, 0.5, 1.0, 2.0, 5.0]
    probs = np.stack([softmax(logits, T) for T in temps])
    out.heatmap(
        "softmax(a / T) for a = [2, 1, 0.1, -1]",
        probs,
        x_labels=["a=2", "a=1", "a=0.1", "a=-1"],
        y_labels=[f"T={T}" for T in temps],
        x_title="class",
        y_title="temperature",
    )
    grid = np.linspace(0.05, 5.0, 34)
    out.line(
        "entropy of softmax(a / T) rises from 0 (argmax) to log 4 (uniform)",
        x=np.round(grid, 2),
        series={
            "entropy (nats)": entropy(np.stack([softmax(logits, T) for T in grid])),
            "log 4": np.full(grid.shape, np.log(4.0)),
        },
        x_title="temperature T",
        y_title="nats",
    )

    y = softmax(np.array([2.0, 1.0, 0.1]))
    out.array(
        "Jacobian diag(y) - y y^T for a = [2, 1, 0.1]",
        softmax_jacobian(y),
        rows=["y0", "y1", "y2"],
        cols=["a0", "a1", "a2"],
    )
    out.text("Each row sums to 0: adding the same constant to every score changes nothing.")

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 4))
    labels = np.array([0, 3])
    layer = SoftmaxWithLoss()
    loss = layer.forward(scores, labels)
    out.value("cross-entropy loss (batch of 2)", loss)
    out.array(
        "y = softmax(a)", layer.y, rows=["n0 (t=0)", "n1 (t=3)"], cols=["k0", "k1", "k2", "k3"]
    )
    out.array(
        "dL/da = (y - t) / N",
        layer.backward(),
        rows=["n0 (t=0)", "n1 (t=3)"],
        cols=["k0", "k1", "k2", "k3"],
    )
