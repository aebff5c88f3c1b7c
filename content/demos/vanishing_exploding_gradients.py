"""Vanishing and exploding gradients in BPTT, and gradient clipping.

Backpropagating from h_T to h_{T-k} multiplies the gradient k times by
diag(act'(a_t)) W_h^T (밑바닥부터 시작하는 딥러닝 2, 6.1.3):

    dL/dh_{t-1} = (dL/dh_t * act'(a_t)) @ W_h.T

For tanh and ReLU |act'| <= 1, so ||dL/dh_{T-k}|| <= sigma_max(W_h)^k ||dL/dh_T||:
sigma_max < 1 guarantees vanishing; sigma_max > 1 is necessary for exploding but
not sufficient (Pascanu, Mikolov & Bengio 2013, sec. 2.1). Exploding gradients
are handled by clipping the global norm (밑바닥2 6.1.4; Pascanu et al. 2013,
Algorithm 1); vanishing ones need a different architecture (LSTM, GRU).
"""

from __future__ import annotations

import numpy as np

from studylog.demo import api as out


def _act(name: str, a: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(a)
    if name == "relu":
        return np.maximum(a, 0.0)
    if name == "linear":  # only MatMul, as in the experiment of 밑바닥2 6.1.3
        return a
    raise ValueError(f"unknown activation {name!r}")


def _act_grad(name: str, a: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return 1.0 - np.tanh(a) ** 2
    if name == "relu":
        return (a > 0).astype(a.dtype)
    return np.ones_like(a)


def recurrent_weight(H: int, sigma_max: float, rng: np.random.Generator) -> np.ndarray:
    """An (H, H) matrix whose singular values all equal ``sigma_max``.

    A random orthogonal matrix (QR of a Gaussian) times sigma_max: it stretches
    every direction by exactly sigma_max, so the linear case is easy to predict.
    """
    Q, R = np.linalg.qr(rng.standard_normal((H, H)))
    Q *= np.sign(np.diag(R))  # make the decomposition unique (uniform over orthogonal matrices)
    return sigma_max * Q


def rnn_forward(
    xs: np.ndarray,
    W_x: np.ndarray,
    W_h: np.ndarray,
    b: np.ndarray,
    activation: str = "tanh",
    h0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """h_t = act(x_t W_x + h_{t-1} W_h + b), from h0 (N, H) or zeros.

    xs (N, T, D) -> (hs (N, T+1, H) with hs[:, 0] = h_0, pre-activations a (N, T, H)).
    """
    N, T, _ = xs.shape
    H = W_h.shape[0]
    hs = np.zeros((N, T + 1, H), dtype=np.result_type(xs, W_h))
    if h0 is not None:
        hs[:, 0] = h0
    pre = np.empty((N, T, H), dtype=hs.dtype)
    for t in range(T):
        pre[:, t] = xs[:, t] @ W_x + hs[:, t] @ W_h + b
        hs[:, t + 1] = _act(activation, pre[:, t])
    return hs, pre


def bptt_from_last_step(
    hs: np.ndarray, pre: np.ndarray, W_h: np.ndarray, dh_T: np.ndarray, activation: str = "tanh"
) -> tuple[np.ndarray, np.ndarray]:
    """Backpropagate dL/dh_T (N, H) to every earlier state, for a loss that reads only h_T.

    Returns (dhs (N, T+1, H) where dhs[:, t] = dL/dh_t, dW_h (H, H) summed over steps).
    """
    N, T, H = pre.shape
    dhs = np.zeros((N, T + 1, H), dtype=np.result_type(dh_T, W_h))
    dhs[:, T] = dh_T
    dW_h = np.zeros_like(W_h)
    for t in reversed(range(T)):
        da = dhs[:, t + 1] * _act_grad(activation, pre[:, t])
        dW_h += hs[:, t].T @ da
        dhs[:, t] = da @ W_h.T
    return dhs, dW_h


def gradient_norm_curve(
    sigma_max: float,
    activation: str,
    T: int = 40,
    N: int = 32,
    H: int = 16,
    D: int = 4,
    seed: int = 0,
) -> np.ndarray:
    """RMS over the batch of ||dL/dh_{T-k}|| for k = 0..T, with ||dL/dh_T|| = 1 per sample.

    Returns shape (T+1,); entry k is the gradient norm after k steps of BPTT.
    """
    rng = np.random.default_rng(seed)
    W_h = recurrent_weight(H, sigma_max, rng)
    W_x = rng.standard_normal((D, H)) / np.sqrt(D)
    xs = rng.standard_normal((N, T, D))
    hs, pre = rnn_forward(xs, W_x, W_h, np.zeros(H), activation)
    g = rng.standard_normal((N, H))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    dhs, _ = bptt_from_last_step(hs, pre, W_h, g, activation)
    norms = np.sqrt(np.mean(np.sum(dhs**2, axis=2), axis=0))  # (T+1,), index t
    return norms[::-1]  # index k = T - t


def clip_grads(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """Gradient clipping by the global norm (밑바닥2 6.1.4; Pascanu et al. 2013, Algorithm 1).

    if ||g|| >= max_norm: g <- (max_norm / ||g||) g, where ||g|| is the L2 norm of all
    arrays together. Returns (new arrays, the norm before clipping). All arrays are
    scaled by the same factor, so the update direction is kept.
    """
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    rate = max_norm / (total + 1e-6)  # 1e-6 as in the book, avoids 0/0
    if rate < 1.0:
        return [g * rate for g in grads], total
    return [g.copy() for g in grads], total


def demo() -> None:
    T = 40
    curves = {
        f"{act}, σ_max={s}": gradient_norm_curve(s, act, T=T)
        for act in ("tanh", "relu")
        for s in (0.8, 2.0)
    }
    out.text(
        "An RNN with 16 units, W_h = σ_max × (random orthogonal matrix), so every singular "
        "value is σ_max. We backpropagate a unit gradient from h_T and measure how much is "
        "left k steps back (RMS over 32 sequences)."
    )
    out.line(
        "||dL/dh_(T-k)|| after k steps of BPTT",
        x=list(range(T + 1)),
        series=curves,
        x_title="k (steps back)",
        y_title="gradient norm",
        log_y=True,
    )
    rows = []
    for name, c in curves.items():
        s = float(name.split("=")[1])
        rows.append([name, float(c[10]), float(c[T]), float(s**T)])
    out.table(
        f"norm after 10 and {T} steps vs the bound σ_max^k (|act'| ≤ 1)",
        columns=["RNN", "k=10", f"k={T}", f"σ_max^{T}"],
        rows=rows,
    )
    out.text(
        "σ_max < 1: both activations vanish, as the bound guarantees. σ_max > 1: ReLU "
        "explodes (its derivative is exactly 1 on active units), but tanh does not: the "
        "larger the state, the more units saturate, and tanh' ≈ 0 cancels the stretching. "
        "σ_max > 1 is necessary, not sufficient, for exploding gradients."
    )

    # Clipping an exploding gradient: one BPTT run of the ReLU RNN with σ_max = 2.
    rng = np.random.default_rng(0)
    H, D, N = 16, 4, 32
    W_h = recurrent_weight(H, 2.0, rng)
    W_x = rng.standard_normal((D, H)) / np.sqrt(D)
    hs, pre = rnn_forward(rng.standard_normal((N, T, D)), W_x, W_h, np.zeros(H), "relu")
    dhs, dW_h = bptt_from_last_step(hs, pre, W_h, rng.standard_normal((N, H)), "relu")
    max_norm = 5.0
    (clipped,), before = clip_grads([dW_h], max_norm)
    value_clipped = np.clip(dW_h, -max_norm / H, max_norm / H)  # element-wise, for contrast

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    out.table(
        f"clipping dW_h of the exploding ReLU RNN (threshold {max_norm})",
        columns=["method", "||dW_h||", "cosine with original"],
        rows=[
            ["no clipping", before, 1.0],
            [
                "clip global norm (밑바닥2 6.1.4)",
                float(np.linalg.norm(clipped)),
                cos(clipped, dW_h),
            ],
            [
                "clip each element (np.clip)",
                float(np.linalg.norm(value_clipped)),
                cos(value_clipped, dW_h),
            ],
        ],
    )
    out.text(
        "Norm clipping rescales the whole gradient: same direction, bounded step. "
        "Clipping elements one by one bounds the step too, but turns its direction."
    )
