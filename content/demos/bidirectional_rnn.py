"""Bidirectional LSTM: a forward and a backward LSTM, their states concatenated per position.

    hs_fwd = LSTM_f(x_0, ..., x_{T-1})                 hs_fwd[t] summarises x[:t+1]
    hs_bwd = flip(LSTM_b(flip(xs)))                    hs_bwd[t] summarises x[t:]
    out[t] = concat(hs_fwd[t], hs_bwd[t])              (N, T, 2H)

The second flip is the whole point: without it, position t of an LSTM run on
the reversed sequence holds a summary of x[T-1-t:], which belongs to another
word. Source: 밑바닥부터 시작하는 딥러닝 2, 8.4.1 (양방향 RNN) and the
TimeBiLSTM of its common/time_layers.py; Schuster & Paliwal (1997),
Bidirectional Recurrent Neural Networks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from lstm import TimeLSTM, init_lstm

from studylog.demo import api as out


class TimeBiLSTM:
    """Two TimeLSTMs (separate weights), one reading left to right, one right to left.

    forward: xs (N, T, D) -> hs (N, T, 2H), [:, :, :H] forward, [:, :, H:] backward direction.
    backward: dhs (N, T, 2H) -> dxs (N, T, D); weight gradients in ``fwd.grads`` and ``bwd.grads``.
    """

    def __init__(
        self, fwd_params: dict[str, np.ndarray], bwd_params: dict[str, np.ndarray]
    ) -> None:
        self.fwd = TimeLSTM(**fwd_params)
        self.bwd = TimeLSTM(**bwd_params)

    def forward(self, xs: np.ndarray) -> np.ndarray:
        h_f = self.fwd.forward(xs)
        h_b = self.bwd.forward(xs[:, ::-1])[:, ::-1]  # flip back: row t belongs to x_t
        return np.concatenate([h_f, h_b], axis=2)

    def backward(self, dhs: np.ndarray) -> np.ndarray:
        H = dhs.shape[2] // 2
        dxs_f = self.fwd.backward(dhs[:, :, :H])
        dxs_b = self.bwd.backward(dhs[:, ::-1, H:])[:, ::-1]
        return dxs_f + dxs_b  # x_t feeds both directions


def dependency_map(
    forward: Callable[[np.ndarray], np.ndarray],
    backward: Callable[[np.ndarray], np.ndarray],
    xs: np.ndarray,
    H_out: int,
) -> np.ndarray:
    """||d out[0, t] / d xs[0, s]||_F for all (t, s): which inputs each output position can see.

    ``forward(xs) -> out (1, T, H_out)`` and ``backward(dout) -> dxs`` of one model;
    the Jacobian is built row by row with one backward pass per output unit.
    """
    T = xs.shape[1]
    dep = np.zeros((T, T))
    forward(xs)
    for t in range(T):
        for k in range(H_out):
            dout = np.zeros((1, T, H_out))
            dout[0, t, k] = 1.0
            dxs = backward(dout)
            dep[t] += np.sum(dxs[0] ** 2, axis=1)
    return np.sqrt(dep)


def demo() -> None:
    rng = np.random.default_rng(0)
    words = "you say goodbye and i say hello .".split()
    T, D, H = len(words), 4, 3
    vocab = sorted(set(words))
    embed = rng.standard_normal((len(vocab), D))
    xs = embed[[vocab.index(w) for w in words]][None]  # (1, T, D)
    p_f, p_b = init_lstm(D, H, rng), init_lstm(D, H, rng)
    p_f = {k: 3 * v for k, v in p_f.items()}  # larger weights so the dependencies are visible
    p_b = {k: 3 * v for k, v in p_b.items()}

    bi = TimeBiLSTM(p_f, p_b)
    hs = bi.forward(xs)
    out.table(
        "shapes",
        columns=["tensor", "shape"],
        rows=[
            ["xs", str(xs.shape)],
            ["forward states", f"(1, {T}, {H})"],
            ["backward states (flipped back)", f"(1, {T}, {H})"],
            ["concatenated hs", str(hs.shape)],
        ],
    )
    out.array(
        "hs[0]: [forward | backward] per word",
        hs[0],
        rows=words,
        cols=[f"f{j}" for j in range(H)] + [f"b{j}" for j in range(H)],
    )

    fwd_only = TimeLSTM(**p_f)
    bwd_only = TimeLSTM(**p_b)
    dep_fwd = dependency_map(fwd_only.forward, fwd_only.backward, xs, H)
    dep_bwd = dependency_map(
        lambda x: bwd_only.forward(x[:, ::-1])[:, ::-1],
        lambda d: bwd_only.backward(d[:, ::-1])[:, ::-1],
        xs,
        H,
    )
    rev = TimeLSTM(**p_b)  # the same backward LSTM fed the reversed sentence, output NOT flipped
    dep_rev = dependency_map(
        lambda x: rev.forward(x[:, ::-1]),
        lambda d: rev.backward(d)[:, ::-1],
        xs,
        H,
    )
    kw = {
        "x_labels": words,
        "y_labels": words,
        "x_title": "input word s",
        "y_title": "output position t",
    }
    out.heatmap("forward direction: ||∂h_t/∂x_s|| (sees x[:t+1])", dep_fwd, **kw)
    out.heatmap("backward direction, flipped back: ||∂h_t/∂x_s|| (sees x[t:])", dep_bwd, **kw)
    out.heatmap(
        "one LSTM on the reversed sentence, not flipped: position t sees x[T-1-t:]", dep_rev, **kw
    )
    out.text(
        "Reading the reversed sentence with a single LSTM is not the same thing: its t-th "
        "output summarises the last t+1 words, so row 'you' sees only '.', and it has no "
        "left context at all. A bidirectional LSTM flips the backward states back so that "
        "position t holds x[t:] (right context) next to the forward x[:t+1] (left context): "
        "every word's vector sees the whole sentence."
    )
