"""GRU: one cell with PyTorch's weight layout, its backward pass, and the time loop.

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)          reset gate
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          update gate
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))       candidate
    h' = (1 - z) * n + z * h

W_ih (3H, D) and W_hh (3H, H) stack the blocks [r | z | n] as in
``torch.nn.GRU``; note that r multiplies (W_hn h + b_hn), after the matrix
product. Cho et al. (2014, sec. 2.3) and 밑바닥부터 시작하는 딥러닝 2 (appendix C)
apply r to h before the product, and 밑바닥2 also swaps the roles of z and 1 - z.
"""

from __future__ import annotations

import numpy as np
from common import sigmoid

from studylog.demo import api as out


def gru_cell_forward(
    x: np.ndarray,
    h: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One GRU step -> (h_next (N, H), cache for :func:`gru_cell_backward`).

    x (N, D), h (N, H), W_ih (3H, D), W_hh (3H, H), b_ih and b_hh (3H,); rows [r|z|n].
    """
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih  # the input's contribution to r, z, n
    gh = h @ W_hh.T + b_hh  # the hidden state's contribution (kept apart for n)
    r = sigmoid(gi[:, :H] + gh[:, :H])
    z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    hn = gh[:, 2 * H :]  # W_hn h + b_hn
    n = np.tanh(gi[:, 2 * H :] + r * hn)
    h_next = (1.0 - z) * n + z * h
    cache = {"x": x, "h": h, "r": r, "z": z, "n": n, "hn": hn, "W_ih": W_ih, "W_hh": W_hh}
    return h_next, cache


def gru_cell(
    x: np.ndarray,
    h: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> np.ndarray:
    """One GRU step in torch.nn.GRU layout -> h_next (N, H).

    x (N, D), h (N, H), W_ih (3H, D), W_hh (3H, H), b_ih and b_hh (3H,); rows [r|z|n].
    """
    return gru_cell_forward(x, h, W_ih, W_hh, b_ih, b_hh)[0]


def gru_cell_backward(dh_next: np.ndarray, cache: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of one GRU step: dh_next (N, H) -> dx (N, D), dh (N, H), dW_ih, dW_hh, db_ih, db_hh."""
    h, r, z, n, hn = (cache[k] for k in ("h", "r", "z", "n", "hn"))
    dn = dh_next * (1.0 - z)
    dz = dh_next * (h - n)  # h' = n + z (h - n)
    da_n = dn * (1.0 - n**2)
    da_r = da_n * hn * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)  # r scales the hidden part of n
    return {
        "dx": dgi @ cache["W_ih"],
        "dh": dh_next * z + dgh @ cache["W_hh"],
        "dW_ih": dgi.T @ cache["x"],
        "dW_hh": dgh.T @ h,
        "db_ih": dgi.sum(axis=0),
        "db_hh": dgh.sum(axis=0),
    }


def init_gru(
    D: int, H: int, rng: np.random.Generator, dtype: type = np.float64
) -> dict[str, np.ndarray]:
    """Weights drawn like torch.nn.GRU: uniform(-1/sqrt(H), 1/sqrt(H))."""
    k = 1.0 / np.sqrt(H)
    shapes = {"W_ih": (3 * H, D), "W_hh": (3 * H, H), "b_ih": (3 * H,), "b_hh": (3 * H,)}
    return {name: rng.uniform(-k, k, shape).astype(dtype) for name, shape in shapes.items()}


class TimeGRU:
    """T GRU steps with shared weights; same interface as ``lstm.TimeLSTM`` without c.

    forward: xs (N, T, D), h0 (N, H) or None -> hs (N, T, H).
    backward: dhs (N, T, H), optional dh_last -> dxs; grads in ``self.grads``, ``self.dh0``.
    """

    def __init__(
        self, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray
    ) -> None:
        self.params = {"W_ih": W_ih, "W_hh": W_hh, "b_ih": b_ih, "b_hh": b_hh}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.caches: list[dict[str, np.ndarray]] = []
        self.dh0: np.ndarray | None = None

    def forward(self, xs: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        N, T, _ = xs.shape
        H = self.params["W_hh"].shape[1]
        dtype = np.result_type(xs, self.params["W_hh"])
        h = np.zeros((N, H), dtype=dtype) if h0 is None else h0
        hs = np.empty((N, T, H), dtype=dtype)
        self.caches = []
        for t in range(T):
            h, cache = gru_cell_forward(xs[:, t], h, **self.params)
            hs[:, t] = h
            self.caches.append(cache)
        return hs

    def backward(self, dhs: np.ndarray, dh_last: np.ndarray | None = None) -> np.ndarray:
        N, T, H = dhs.shape
        dxs = np.empty((N, T, self.params["W_ih"].shape[1]), dtype=dhs.dtype)
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dh = np.zeros((N, H), dtype=dhs.dtype) if dh_last is None else dh_last
        for t in reversed(range(T)):
            g = gru_cell_backward(dhs[:, t] + dh, self.caches[t])
            dxs[:, t], dh = g["dx"], g["dh"]
            for k in grads:
                grads[k] += g["d" + k]
        self.grads, self.dh0 = grads, dh
        return dxs


def hand_set_gru() -> dict[str, np.ndarray]:
    """Demo weights: H = 2, inputs D = 3 (value, write, reset).

    Unit 0 copies its state (z ~ 1) except when "write" is on (z ~ 0, take n = tanh(2 value)).
    Unit 1 always updates (z ~ 0) with n = tanh(value + r h1): a squashed running sum
    whose past is dropped from the candidate when "reset" closes r1.
    """
    W_ih, W_hh, b = np.zeros((6, 3)), np.zeros((6, 2)), np.zeros(6)
    # rows: r0 r1 | z0 z1 | n0 n1
    b[0] = 8.0  # r0 ~ 1 (unit 0 has no recurrent term in n, so r0 does nothing)
    W_ih[1, 2], b[1] = -16.0, 8.0  # r1 = σ(8 - 16 reset)
    W_ih[2, 1], b[2] = -16.0, 8.0  # z0 = σ(8 - 16 write): keep unless writing
    b[3] = -8.0  # z1 ~ 0: always take the candidate
    W_ih[4, 0] = 2.0  # n0 = tanh(2 value)
    W_ih[5, 0], W_hh[5, 1] = 1.0, 1.0  # n1 = tanh(value + r1 * h1)
    return {"W_ih": W_ih, "W_hh": W_hh, "b_ih": b, "b_hh": np.zeros(6)}


def demo() -> None:
    T = 10
    xs = np.zeros((1, T, 3))  # value, write, reset
    xs[0, 1] = [0.6, 1, 0]
    xs[0, 2] = [0.3, 0, 0]
    xs[0, 3] = [0.3, 0, 0]
    xs[0, 5] = [0.0, 0, 1]  # reset
    xs[0, 6] = [0.3, 0, 0]
    xs[0, 8] = [-0.5, 1, 0]
    steps = [f"t{t}" for t in range(T)]
    out.array("inputs xs[0] (T, D)", xs[0], rows=steps, cols=["value", "write", "reset"])

    gru = TimeGRU(**hand_set_gru())
    hs = gru.forward(xs)
    r = np.stack([c["r"][0] for c in gru.caches])
    z = np.stack([c["z"][0] for c in gru.caches])
    out.heatmap(
        "reset gate r, update gate z and state h over time",
        np.concatenate([r.T, z.T, hs[0].T]),
        x_labels=steps,
        y_labels=["r0", "r1", "z0", "z1", "h0", "h1"],
        x_title="time step",
        y_title="gate / state (unit)",
    )
    out.text(
        "Unit 0: z0 ≈ 1 copies h0 unchanged (h' = z h) until 'write' drops z0 at t1 and t8. "
        "Unit 1: z1 ≈ 0 always takes the candidate n1 = tanh(value + r1·h1), a running sum; "
        "at t5 'reset' closes r1, so the candidate ignores the past and h1 drops to "
        "tanh(0) = 0."
    )

    D, H = 32, 64
    rows = [
        ["RNN", H * D + H * H + H, "h' = tanh(x W_x + h W_h + b)"],
        ["GRU (torch, 2 biases)", 3 * (H * D + H * H + 2 * H), "gates r, z; no cell"],
        ["LSTM (torch, 2 biases)", 4 * (H * D + H * H + 2 * H), "gates i, f, o; cell c"],
    ]
    out.table(f"parameters for D={D}, H={H}", columns=["layer", "parameters", "state"], rows=rows)
