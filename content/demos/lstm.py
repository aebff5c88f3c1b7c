"""LSTM: one cell with PyTorch's weight layout, its backward pass, and the time loop.

    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh        (N, 4H), rows [i | f | g | o]
    i, f, o = sigmoid(...), g = tanh(...)
    c_next = f * c + i * g
    h_next = o * tanh(c_next)

The layout (W_ih (4H, D), W_hh (4H, H), two biases, gate order i, f, g, o) is
the one of ``torch.nn.LSTM``, so weights can be copied from PyTorch. 밑바닥부터
시작하는 딥러닝 2 (ch. 6.3) stores the transpose, Wx (D, 4H), one bias, and
orders the gates f, g, i, o; :func:`to_book_layout` converts.
Sources: Hochreiter & Schmidhuber (1997); the forget gate of Gers, Schmidhuber
& Cummins (2000); 밑바닥2 6.2 (the equations) and 6.3 (the backward pass).
"""

from __future__ import annotations

import numpy as np
from common import sigmoid

from studylog.demo import api as out

GATES = ("i", "f", "g", "o")  # row blocks of W_ih / W_hh, as in torch.nn.LSTM


def lstm_cell_forward(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One LSTM step; returns (h_next (N, H), c_next (N, H), cache for the backward pass).

    x (N, D), h and c (N, H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,).
    The cache holds the inputs and the gate activations i, f, g, o (each (N, H)).
    """
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i = sigmoid(a[:, :H])  # input gate: how much of the candidate to write
    f = sigmoid(a[:, H : 2 * H])  # forget gate: how much of the old cell to keep
    g = np.tanh(a[:, 2 * H : 3 * H])  # candidate values (새로운 기억 후보)
    o = sigmoid(a[:, 3 * H :])  # output gate: how much of the cell to show
    c_next = f * c + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    cache = {
        "x": x,
        "h": h,
        "c": c,
        "i": i,
        "f": f,
        "g": g,
        "o": o,
        "tanh_c": tanh_c,
        "W_ih": W_ih,
        "W_hh": W_hh,
    }
    return h_next, c_next, cache


def lstm_cell(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step in torch.nn.LSTM layout -> (h_next, c_next), both (N, H).

    x (N, D), h and c (N, H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,);
    rows of the weights ordered [i | f | g | o].
    """
    h_next, c_next, _ = lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh)
    return h_next, c_next


def lstm_cell_backward(
    dh_next: np.ndarray, dc_next: np.ndarray, cache: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Gradients of one LSTM step (the computational graph of 밑바닥2 6.3).

    dh_next, dc_next (N, H) -> dict with dx (N, D), dh, dc (N, H), dW_ih (4H, D),
    dW_hh (4H, H), db_ih, db_hh (4H,).
    """
    i, f, g, o, tanh_c = (cache[k] for k in ("i", "f", "g", "o", "tanh_c"))
    # c_next reaches the loss directly (dc_next) and through h_next = o * tanh(c_next).
    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)
    da = np.concatenate(
        [
            dc * g * i * (1.0 - i),  # d/da_i
            dc * cache["c"] * f * (1.0 - f),  # d/da_f
            dc * i * (1.0 - g**2),  # d/da_g
            dh_next * tanh_c * o * (1.0 - o),  # d/da_o
        ],
        axis=1,
    )
    db = da.sum(axis=0)
    return {
        "dx": da @ cache["W_ih"],
        "dh": da @ cache["W_hh"],
        "dc": dc * f,  # the cell path: only an element-wise product with f
        "dW_ih": da.T @ cache["x"],
        "dW_hh": da.T @ cache["h"],
        "db_ih": db,
        "db_hh": db.copy(),
    }


def init_lstm(
    D: int,
    H: int,
    rng: np.random.Generator,
    dtype: type = np.float64,
    forget_bias: float | None = None,
) -> dict[str, np.ndarray]:
    """Weights drawn like torch.nn.LSTM: uniform(-1/sqrt(H), 1/sqrt(H)) for all four arrays.

    Returns W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,) in ``dtype``. With
    ``forget_bias`` (e.g. 1.0, Jozefowicz, Zaremba & Sutskever 2015; Keras'
    ``unit_forget_bias``) the forget block of b_ih is set to it and that of b_hh to 0,
    so the gate's total bias is exactly ``forget_bias``; PyTorch has no such option.
    """
    k = 1.0 / np.sqrt(H)
    shapes = {"W_ih": (4 * H, D), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,)}
    params = {name: rng.uniform(-k, k, shape).astype(dtype) for name, shape in shapes.items()}
    if forget_bias is not None:
        params["b_ih"][H : 2 * H] = forget_bias
        params["b_hh"][H : 2 * H] = 0.0
    return params


def cell_gradient_at_init(
    T: int, H: int, forget_bias: float | None, seed: int = 0, D: int = 8
) -> np.ndarray:
    """Mean over units of prod_t f_t: how much gradient the cell path keeps over T steps.

    A freshly initialised LSTM (torch-like uniform weights, optional forget bias)
    reads T steps of N(0, 1) inputs (batch 64); returns, for k = 1..T, the mean of
    the product of the last k forget gates, the factor the cell path multiplies
    dc by (shape (T,)). Along the cell nothing else multiplies it.
    """
    rng = np.random.default_rng(seed)
    lstm = TimeLSTM(**init_lstm(D, H, rng, forget_bias=forget_bias))
    lstm.forward(rng.standard_normal((64, T, D)))
    f = np.stack([cache["f"] for cache in lstm.caches], axis=1)  # (N, T, H)
    prods = np.cumprod(f[:, ::-1], axis=1)  # product of the last k gates
    return prods.mean(axis=(0, 2))


def to_book_layout(
    W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert torch layout to 밑바닥2's: (Wx (D, 4H), Wh (H, 4H), b (4H,)), gates [f|g|i|o]."""
    H = W_hh.shape[1]
    order = [1, 2, 0, 3]  # f, g, i, o taken from torch's i, f, g, o

    def blocks(M: np.ndarray) -> np.ndarray:
        return np.concatenate([M[k * H : (k + 1) * H] for k in order], axis=0)

    return blocks(W_ih).T, blocks(W_hh).T, blocks(b_ih + b_hh)


class TimeLSTM:
    """T LSTM steps with shared weights (밑바닥2 6.3.1 "Time LSTM"), torch layout.

    forward: xs (N, T, D), optional h0, c0 (N, H) -> hs (N, T, H). The last state is
    kept in ``self.h`` and ``self.c``; gate activations per step in ``self.caches``.
    backward: dhs (N, T, H), plus optional gradients for the last h and c (for a
    loss or a decoder that reads them) -> dxs (N, T, D); weight gradients go to
    ``self.grads`` and the initial-state gradients to ``self.dh0``, ``self.dc0``.
    """

    def __init__(
        self, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray
    ) -> None:
        self.params = {"W_ih": W_ih, "W_hh": W_hh, "b_ih": b_ih, "b_hh": b_hh}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.caches: list[dict[str, np.ndarray]] = []
        self.h: np.ndarray | None = None
        self.c: np.ndarray | None = None
        self.dh0: np.ndarray | None = None
        self.dc0: np.ndarray | None = None

    def forward(
        self, xs: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None
    ) -> np.ndarray:
        N, T, _ = xs.shape
        H = self.params["W_hh"].shape[1]
        dtype = np.result_type(xs, self.params["W_hh"])
        h = np.zeros((N, H), dtype=dtype) if h0 is None else h0
        c = np.zeros((N, H), dtype=dtype) if c0 is None else c0
        hs = np.empty((N, T, H), dtype=dtype)
        self.caches = []
        for t in range(T):
            h, c, cache = lstm_cell_forward(xs[:, t], h, c, **self.params)
            hs[:, t] = h
            self.caches.append(cache)
        self.h, self.c = h, c
        return hs

    def backward(
        self, dhs: np.ndarray, dh_last: np.ndarray | None = None, dc_last: np.ndarray | None = None
    ) -> np.ndarray:
        N, T, H = dhs.shape
        D = self.params["W_ih"].shape[1]
        dxs = np.empty((N, T, D), dtype=dhs.dtype)
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dh = np.zeros((N, H), dtype=dhs.dtype) if dh_last is None else dh_last
        dc = np.zeros((N, H), dtype=dhs.dtype) if dc_last is None else dc_last
        for t in reversed(range(T)):
            g = lstm_cell_backward(dhs[:, t] + dh, dc, self.caches[t])
            dxs[:, t] = g["dx"]
            dh, dc = g["dh"], g["dc"]
            for k in grads:
                grads[k] += g["d" + k]
        self.grads = grads
        self.dh0, self.dc0 = dh, dc
        return dxs

    def gate_history(self) -> dict[str, np.ndarray]:
        """Gate activations of the last forward pass: name -> (N, T, H), plus the cell state c."""
        hist = {k: np.stack([cache[k] for cache in self.caches], axis=1) for k in GATES}
        c_prev = [cache["c"] for cache in self.caches[1:]] + [self.c]
        hist["c"] = np.stack(c_prev, axis=1)
        return hist


def latch_lstm() -> dict[str, np.ndarray]:
    """Hand-set weights for the demo: H = 2 units, inputs D = 4 (value, write, erase, read).

    Unit 0 is a latch: its input gate opens only on "write", its forget gate
    closes only on "erase", and its output gate opens only on "read", so it holds
    a value privately for as long as needed. Unit 1 is leaky: it always writes
    (i ~ 1), forgets half (f = 0.5) every step and always shows its cell (o ~ 1).
    """
    W_ih = np.zeros((8, 4))
    b = np.zeros(8)
    # rows: i0 i1 | f0 f1 | g0 g1 | o0 o1
    W_ih[0, 1], b[0] = 16.0, -8.0  # i0 = σ(16 write - 8): ~0.0003 or ~0.9997
    b[1] = 8.0  # i1 = σ(8) ≈ 1
    W_ih[2, 2], b[2] = -16.0, 8.0  # f0 = σ(8 - 16 erase)
    b[3] = 0.0  # f1 = σ(0) = 0.5
    W_ih[4, 0] = W_ih[5, 0] = 2.0  # g = tanh(2 value)
    W_ih[6, 3], b[6] = 16.0, -8.0  # o0 = σ(16 read - 8)
    b[7] = 8.0  # o1 ≈ 1
    return {"W_ih": W_ih, "W_hh": np.zeros((8, 2)), "b_ih": b, "b_hh": np.zeros(8)}


def demo() -> None:
    T = 10
    xs = np.zeros((1, T, 4))  # columns: value, write, erase, read
    xs[0, 1] = [0.8, 1, 0, 0]  # write 0.8
    xs[0, 3] = [-0.5, 0, 0, 0]  # a value without "write": a distractor
    xs[0, 4] = [0.0, 0, 0, 1]  # read
    xs[0, 6] = [0.0, 0, 1, 0]  # erase
    xs[0, 7] = [0.0, 0, 0, 1]  # read (after the erase)
    xs[0, 8] = [-0.9, 1, 0, 0]  # write -0.9
    xs[0, 9] = [0.0, 0, 0, 1]  # read
    steps = [f"t{t}" for t in range(T)]
    out.array("inputs xs[0] (T, D)", xs[0], rows=steps, cols=["value", "write", "erase", "read"])

    lstm = TimeLSTM(**latch_lstm())
    hs = lstm.forward(xs)
    hist = lstm.gate_history()
    rows = [hist[k][0, :, u] for k in ("i", "f", "o", "c") for u in (0, 1)]
    out.heatmap(
        "gates and cell state over time (unit 0 = latch, unit 1 = leaky)",
        np.array(rows),
        x_labels=steps,
        y_labels=[f"{k}{u}" for k in ("i", "f", "o", "c") for u in (0, 1)],
        x_title="time step",
        y_title="gate / cell (unit)",
    )
    out.array("h = o * tanh(c)  (T, H)", hs[0], rows=steps, cols=["h0 latch", "h1 leaky"])
    out.text(
        "Unit 0 writes only when 'write' is on (i0 ≈ 1 at t1 and t8), ignores the value "
        "at t3, keeps c0 until 'erase' closes its forget gate (f0 ≈ 0 at t6), and shows "
        "it in h0 only when 'read' opens o0 (t4, t7, t9). Unit 1 always writes and halves "
        "its cell every step, so it forgets within a few steps."
    )

    # The cell path in the backward pass: dc_prev = dc * f, nothing else.
    dhs = np.zeros_like(hs)
    dc_last = np.array([[1.0, 1.0]])
    dc_to_step = np.empty((T, 2))
    dc = dc_last
    for t in reversed(range(T)):  # backward through the cell path only (W_hh = 0 here)
        dc = lstm_cell_backward(dhs[:, t], dc, lstm.caches[t])["dc"]
        dc_to_step[t] = dc[0]
    out.line(
        "∂c_9/∂c_(t-1) along the cell path = f_t · f_(t+1) · … · f_9",
        x=list(range(T)),
        series={"unit 0 (latch)": dc_to_step[:, 0], "unit 1 (leaky, f=0.5)": dc_to_step[:, 1]},
        x_title="step t",
        y_title="gradient",
        log_y=True,
    )
    out.text(
        "The forget gate also gates the gradient. The latch carries gradient back unchanged "
        "from t9 to t7 and cuts it at the erase step t6; the leaky unit loses half per "
        "step (0.5^k): the vanishing gradient of a plain RNN, by design."
    )

    T_init = 20
    zero_bias = cell_gradient_at_init(T_init, 16, None)
    one_bias = cell_gradient_at_init(T_init, 16, 1.0)
    out.table(
        "a freshly initialised LSTM (H = 16): gradient kept along the cell over k steps",
        columns=["k steps", "forget bias ~0 (PyTorch default)", "forget bias 1", "ratio"],
        rows=[
            [
                k,
                f"{zero_bias[k - 1]:.2e}",
                f"{one_bias[k - 1]:.2e}",
                round(float(one_bias[k - 1] / zero_bias[k - 1]), 1),
            ]
            for k in (1, 5, 10, 20)
        ],
    )
    out.text(
        "Before any training the forget gates sit near σ(0) = 0.5, so the cell path halves the "
        "gradient at every step. Starting them at σ(1) ≈ 0.73 (forget bias 1, Jozefowicz et al. "
        f"2015) keeps {one_bias[-1] / zero_bias[-1]:,.0f} times more after 20 steps here (random "
        "weights and inputs spread the gates around their bias; with the gates exactly at their "
        "bias it is 0.731^20 / 0.5^20 ≈ 2,000), so long dependencies can be learned from the start."
    )
