"""A vanilla RNN: one cell, and the time loop that reuses the same weights (TimeRNN).

    h_t = tanh(x_t W_x + h_{t-1} W_h + b)

Layout as in 밑바닥부터 시작하는 딥러닝 2 (ch. 5.3): row vectors, x (N, D) times
W_x (D, H). Backward is backpropagation through time (BPTT, ch. 5.2.3): walk
the steps in reverse, add the gradient coming from the output at step t to the
one coming from step t+1, and sum the weight gradients over all steps because
every step uses the same W_x, W_h, b.
"""

from __future__ import annotations

import numpy as np

from studylog.demo import api as out


class RNNCell:
    """One RNN step (밑바닥2 5.2): h_next = tanh(x W_x + h_prev W_h + b).

    Shapes: x (N, D), h_prev (N, H), W_x (D, H), W_h (H, H), b (H,).
    """

    def __init__(self, W_x: np.ndarray, W_h: np.ndarray, b: np.ndarray) -> None:
        self.W_x, self.W_h, self.b = W_x, W_h, b
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def forward(self, x: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        """x (N, D), h_prev (N, H) -> h_next (N, H), values in (-1, 1)."""
        h_next = np.tanh(x @ self.W_x + h_prev @ self.W_h + self.b)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """dh_next (N, H) -> (dx (N, D), dh_prev (N, H), {"W_x", "W_h", "b"} grads).

        tanh'(a) = 1 - tanh(a)^2, so the cached output is enough.
        """
        assert self.cache is not None, "call forward first"
        x, h_prev, h_next = self.cache
        da = dh_next * (1.0 - h_next**2)
        grads = {"W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
        return da @ self.W_x.T, da @ self.W_h.T, grads


class TimeRNN:
    """T RNN steps with one shared set of weights (밑바닥2 5.3.2, "Time RNN").

    forward: xs (N, T, D), h0 (N, H) or None (zeros) -> hs (N, T, H).
    backward: dhs (N, T, H) -> dxs (N, T, D); weight gradients in ``self.grads``
    and the gradient of the initial state in ``self.dh0``.
    """

    def __init__(self, W_x: np.ndarray, W_h: np.ndarray, b: np.ndarray) -> None:
        self.params = {"W_x": W_x, "W_h": W_h, "b": b}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.cells: list[RNNCell] = []
        self.dh0: np.ndarray | None = None

    def forward(self, xs: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        N, T, _ = xs.shape
        H = self.params["W_h"].shape[0]
        h = np.zeros((N, H), dtype=xs.dtype) if h0 is None else h0
        hs = np.empty((N, T, H), dtype=np.result_type(xs, self.params["W_h"]))
        self.cells = []
        for t in range(T):
            cell = RNNCell(self.params["W_x"], self.params["W_h"], self.params["b"])
            h = cell.forward(xs[:, t, :], h)
            hs[:, t, :] = h
            self.cells.append(cell)
        return hs

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        N, T, H = dhs.shape
        D = self.params["W_x"].shape[0]
        dxs = np.empty((N, T, D), dtype=dhs.dtype)
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dh = np.zeros((N, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            # h_t feeds both the output at t and the next step: the two gradients add.
            dx, dh, g = self.cells[t].backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for k in grads:
                grads[k] += g[k]  # shared weights: sum over time
        self.grads = grads
        self.dh0 = dh
        return dxs


def init_rnn(
    D: int, H: int, rng: np.random.Generator, dtype: type = np.float64
) -> dict[str, np.ndarray]:
    """Xavier initial values (std 1/sqrt(fan_in), as in 밑바닥2's RNNLM) and a zero bias."""
    return {
        "W_x": (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype),
        "W_h": (rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype),
        "b": np.zeros(H, dtype=dtype),
    }


def pair_task(N: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random +-1 inputs xs (N, T, 1) and targets ys (N, T): y_t = x_(t-1) * x_(t-2), 0 for t < 2.

    The target is +1 when the two previous inputs were equal and -1 when they differed
    (XOR in +-1 form). Solving it needs memory (two past inputs, none of them x_t) and a
    nonlinear combination of them, so a linear readout of a random RNN cannot do it.
    """
    xs = rng.choice([-1.0, 1.0], size=(N, T, 1))
    ys = np.zeros((N, T))
    ys[:, 2:] = xs[:, 1 : T - 1, 0] * xs[:, : T - 2, 0]
    return xs, ys


def train_pair_rnn(
    H: int = 8, T: int = 12, iters: int = 300, lr: float = 0.03, seed: int = 0
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Train an RNN plus a linear readout y_t = h_t @ w_out + b_out on :func:`pair_task`.

    Mean squared error over the steps t >= 2, BPTT through :class:`TimeRNN`, Adam
    (Kingma & Ba 2015), a fresh batch of 64 sequences per iteration. Returns the
    parameters {"W_x", "W_h", "b", "w_out" (H,), "b_out" ()} and the loss per iteration.
    """
    rng = np.random.default_rng(seed)
    params = init_rnn(1, H, rng)
    params["w_out"] = np.zeros(H)
    params["b_out"] = np.zeros(())
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    for it in range(1, iters + 1):
        xs, ys = pair_task(64, T, rng)
        rnn = TimeRNN(params["W_x"], params["W_h"], params["b"])
        hs = rnn.forward(xs)
        err = (hs @ params["w_out"] + params["b_out"] - ys)[:, 2:]  # (N, T - 2)
        losses.append(float(np.mean(err**2)))
        dy = np.zeros(ys.shape)
        dy[:, 2:] = 2 * err / err.size
        dhs = dy[..., None] * params["w_out"]
        rnn.backward(dhs)
        grads = dict(rnn.grads, w_out=np.einsum("nt,nth->h", dy, hs), b_out=np.array(dy.sum()))
        for k in params:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            params[k] -= lr * (m[k] / (1 - 0.9**it)) / (np.sqrt(v[k] / (1 - 0.999**it)) + 1e-8)
    return params, losses


def pair_predict(params: dict[str, np.ndarray], xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(readout y (N, T), hidden states hs (N, T, H)) of a trained pair-task RNN."""
    hs = TimeRNN(params["W_x"], params["W_h"], params["b"]).forward(xs)
    return hs @ params["w_out"] + params["b_out"], hs


def demo() -> None:
    memory_demo()
    shapes_demo()


def memory_demo() -> None:
    """A trained behaviour: the RNN learns to remember two inputs and compare them."""
    params, losses = train_pair_rnn()
    out.text(
        "Task: read a stream of +1/-1 and output, at every step, +1 if the two previous inputs "
        "were equal and -1 if they differed: y_t = x_(t-1) · x_(t-2). The current input says "
        "nothing about the answer, so the network has to keep the last two inputs in its hidden "
        "state and combine them. An 8-unit RNN with a linear readout, trained here with BPTT and "
        "Adam on 300 batches of 64 random sequences."
    )
    out.line(
        "training loss (mean squared error)",
        x=list(range(1, len(losses) + 1)),
        series={"MSE": losses},
        x_title="iteration",
        y_title="MSE",
    )
    xs, ys = pair_task(1, 12, np.random.default_rng(123))
    y, hs = pair_predict(params, xs)
    steps = [f"t{t}" for t in range(12)]
    out.table(
        "a new sequence: input, target x_(t-1)·x_(t-2), and the trained RNN's output",
        columns=["step", "x_t", "target", "RNN output", "sign right"],
        rows=[
            [
                steps[t],
                int(xs[0, t, 0]),
                int(ys[0, t]) if t >= 2 else "-",
                round(float(y[0, t]), 3),
                bool(np.sign(y[0, t]) == ys[0, t]) if t >= 2 else "-",
            ]
            for t in range(12)
        ],
    )
    out.table(
        "sign accuracy on 500 new sequences (t >= 2; chance is 50%)",
        columns=["network", "accuracy"],
        rows=[
            ["trained RNN", pair_accuracy(params)],
            [
                "untrained RNN + the best linear readout",
                readout_only_accuracy(init_rnn(1, 8, np.random.default_rng(0))),
            ],
        ],
    )
    out.heatmap(
        "hidden states h_t of the trained RNN on that sequence",
        hs[0].T,
        x_labels=steps,
        y_labels=[f"h{j}" for j in range(8)],
        x_title="time step",
        y_title="unit",
    )
    out.text(
        "The same weights W_x, W_h are applied at every step, and training shaped them into a "
        "memory: the hidden state carries the previous two inputs, and the tanh units compare them. "
        "A random network with a trained readout stays near chance: its state does hold the recent "
        "inputs, but not their product, which needs learned recurrent weights."
    )


def pair_accuracy(params: dict[str, np.ndarray]) -> float:
    """Sign accuracy of a trained pair-task RNN on 500 fresh sequences (seed 7), t >= 2."""
    xs, ys = pair_task(500, 12, np.random.default_rng(7))
    pred, _ = pair_predict(params, xs)
    return float(np.mean(np.sign(pred[:, 2:]) == ys[:, 2:]))


def readout_only_accuracy(params: dict[str, np.ndarray]) -> float:
    """Sign accuracy on the pair task of an RNN whose recurrent weights are left as given and whose
    linear readout is fitted by least squares (the same 500 sequences as :func:`pair_accuracy`)."""
    xs, ys = pair_task(500, 12, np.random.default_rng(7))
    H = params["W_h"].shape[0]
    hs = TimeRNN(params["W_x"], params["W_h"], params["b"]).forward(xs)[:, 2:].reshape(-1, H)
    A = np.concatenate([hs, np.ones((len(hs), 1))], axis=1)
    coef, *_ = np.linalg.lstsq(A, ys[:, 2:].reshape(-1), rcond=None)
    return float(np.mean(np.sign(A @ coef) == ys[:, 2:].reshape(-1)))


def shapes_demo() -> None:
    rng = np.random.default_rng(0)
    N, T, D, H, O = 1, 6, 3, 4, 2
    p = init_rnn(D, H, rng)
    W_out = rng.standard_normal((H, O)) / np.sqrt(H)  # a shared output layer

    xs = rng.standard_normal((N, T, D))
    rnn = TimeRNN(**p)
    hs = rnn.forward(xs)
    steps = [f"t={t}" for t in range(T)]

    out.text(
        "One set of weights (W_x, W_h, b) is reused at every step: the same cell is "
        "unrolled T times. Parameter count does not grow with T."
    )
    out.table(
        "shapes",
        columns=["tensor", "shape", "meaning"],
        rows=[
            ["xs", str(xs.shape), "(N, T, D) batch, time, input features"],
            ["W_x", str(p["W_x"].shape), "(D, H) input -> hidden"],
            ["W_h", str(p["W_h"].shape), "(H, H) hidden -> hidden, shared over time"],
            ["hs", str(hs.shape), "(N, T, H) one hidden state per step"],
        ],
    )
    out.array("hidden states hs[0] (T, H)", hs[0], rows=steps, cols=[f"h{j}" for j in range(H)])

    # Many-to-many: an output at every step (e.g. language model, POS tagging).
    y_many = hs @ W_out
    out.array(
        "many-to-many: y = hs @ W_out, shape (N, T, O)",
        y_many[0],
        rows=steps,
        cols=[f"y{k}" for k in range(O)],
    )
    # Many-to-one: only the last state is read (e.g. sentence classification).
    y_one = hs[:, -1, :] @ W_out
    out.array(
        "many-to-one: y = hs[:, -1] @ W_out, shape (N, O)",
        y_one,
        rows=["sample 0"],
        cols=[f"y{k}" for k in range(O)],
    )
    out.text(
        "The many-to-one output equals the last row of the many-to-many output: the "
        "difference is only which hidden states the loss reads."
    )

    # BPTT with a loss on the last step only: which inputs receive gradient?
    dhs = np.zeros_like(hs)
    dhs[:, -1, :] = W_out.sum(axis=1)  # d(sum y_one)/d h_T
    dxs = rnn.backward(dhs)
    out.line(
        "many-to-one: |dL/dx_t| (L reads only h_T; gradient reaches every step via W_h)",
        x=list(range(T)),
        series={"|dL/dx_t|": np.linalg.norm(dxs[0], axis=1)},
        x_title="step t",
        y_title="gradient norm",
    )
    out.value("|dL/dW_h| (summed over all T steps)", float(np.linalg.norm(rnn.grads["W_h"])))
