"""Small helpers shared by the pack's demos: activations and a numerical gradient.

Demos import this module by name (``from common import softmax``); the runner
puts the pack's demo folder on ``sys.path``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-x)), computed without overflow for large |x|."""
    x = np.asarray(x)
    out = np.empty_like(x, dtype=np.result_type(x, np.float64) if x.dtype.kind != "f" else x.dtype)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``, shifted by the maximum so exp never overflows.

    Source: 밑바닥부터 시작하는 딥러닝 1, ch. 3.5.2 (the overflow fix).
    """
    x = np.asarray(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to ``x`` (changed in place).

    ``f`` takes no arguments and reads ``x`` itself, so the same helper checks
    gradients of inputs and of weights. Float64 ``x`` is required for
    relative errors near 1e-7 to 1e-9.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + eps
        plus = f()
        x[idx] = old - eps
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
        it.iternext()
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, tiny): the usual gradient-check measure."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom))


def richardson_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Central differences at ``eps`` and ``2 eps`` combined by Richardson extrapolation.

    (4 g(eps) - g(2 eps)) / 3 cancels the eps^2 error term, so eps can be 1e-3 and the
    rounding noise (~1e-16 |L| / eps) stays near 1e-13: whole seq2seq models have
    gradient entries of 1e-6 that a plain eps = 1e-6 check cannot resolve to 1e-6.
    """
    return (4 * numerical_gradient(f, x, eps=eps) - numerical_gradient(f, x, eps=2 * eps)) / 3
