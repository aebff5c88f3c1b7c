"""Peeky seq2seq: the encoder's h is given to every decoder step, not only to the first.

    hs_rep   = h repeated over T                            (N, T, H)
    lstm_in  = concat(hs_rep, Embedding(ids))               (N, T, H + D)
    lstm_out = LSTM(lstm_in, initial h = h)                  (N, T, H)
    scores   = Affine(concat(hs_rep, lstm_out))              (N, T, V)

밑바닥부터 시작하는 딥러닝 2, 7.4.2 (엿보기, Peeky) and ch07/peeky_seq2seq.py
(concatenation order h first, as there). Backward: h receives gradient from the
LSTM's initial state and from all 2T copies, which are summed. The idea of feeding
the context to every step is also in Cho et al. (2014), sec. 2.2.
"""

from __future__ import annotations

import numpy as np
from lstm import TimeLSTM, init_lstm, lstm_cell
from seq2seq import (
    Decoder,
    Encoder,
    Params,
    TimeAffine,
    TimeEmbedding,
    TimeSoftmaxWithLoss,
    gather,
    init_seq2seq,
    sub_params,
)

from studylog.demo import api as out


class PeekyDecoder:
    """ids (N, T) and h (N, H) -> scores (N, T, V); backward returns dh (N, H).

    Weights: embed.W (V, D), lstm.W_ih (4H, H + D), lstm.W_hh (4H, H), lstm biases,
    affine.W (2H, V), affine.b (V,). Columns/rows [:H] of W_ih and affine.W read h.
    """

    def __init__(self, p: Params) -> None:
        self.embed = TimeEmbedding(p["embed.W"])
        self.lstm = TimeLSTM(p["lstm.W_ih"], p["lstm.W_hh"], p["lstm.b_ih"], p["lstm.b_hh"])
        self.affine = TimeAffine(p["affine.W"], p["affine.b"])

    def forward(self, ids: np.ndarray, h: np.ndarray) -> np.ndarray:
        N, T = ids.shape
        self.H = h.shape[1]
        hs = np.repeat(h[:, None, :], T, axis=1)
        lstm_out = self.lstm.forward(np.concatenate([hs, self.embed.forward(ids)], axis=2), h0=h)
        return self.affine.forward(np.concatenate([hs, lstm_out], axis=2))

    def backward(self, dscores: np.ndarray) -> np.ndarray:
        H = self.H
        d_aff = self.affine.backward(dscores)
        d_lstm_in = self.lstm.backward(d_aff[:, :, H:])
        self.embed.backward(d_lstm_in[:, :, H:])
        # h was used T times in the Affine input, T times in the LSTM input, and as h0.
        return self.lstm.dh0 + d_aff[:, :, :H].sum(axis=1) + d_lstm_in[:, :, :H].sum(axis=1)

    def generate(self, h: np.ndarray, start_id: int, length: int) -> np.ndarray:
        """Greedy decoding with h peeked at every step. h (N, H) -> ids (N, length)."""
        N = h.shape[0]
        peek, state, c = h, h, np.zeros_like(h)
        ids = np.full(N, start_id)
        result = np.empty((N, length), dtype=np.int64)
        for t in range(length):
            x = np.concatenate([peek, self.embed.params["W"][ids]], axis=1)
            state, c = lstm_cell(x, state, c, **self.lstm.params)
            scores = (
                np.concatenate([peek, state], axis=1) @ self.affine.params["W"]
                + self.affine.params["b"]
            )
            ids = np.argmax(scores, axis=1)
            result[:, t] = ids
        return result

    def layers(self) -> dict[str, object]:
        return {"embed": self.embed, "lstm": self.lstm, "affine": self.affine}


def init_peeky_seq2seq(
    V: int, D: int, H: int, rng: np.random.Generator, dtype: type = np.float64
) -> Params:
    """Like :func:`seq2seq.init_seq2seq`, with the decoder's LSTM input H + D and Affine input 2H."""
    p = init_seq2seq(V, D, H, rng, dtype)
    for k, v in init_lstm(H + D, H, rng, dtype).items():
        p[f"dec.lstm.{k}"] = v
    p["dec.affine.W"] = (rng.standard_normal((2 * H, V)) / np.sqrt(2 * H)).astype(dtype)
    return p


class PeekySeq2seq:
    """Encoder (unchanged) + PeekyDecoder + loss; same interface as :class:`seq2seq.Seq2seq`."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.encoder = Encoder(sub_params(params, "enc"))
        self.decoder = PeekyDecoder(sub_params(params, "dec"))
        self.loss_layer = TimeSoftmaxWithLoss()

    def forward(self, xs: np.ndarray, ts: np.ndarray) -> float:
        h = self.encoder.forward(xs)
        return self.loss_layer.forward(self.decoder.forward(ts[:, :-1], h), ts[:, 1:])

    def backward(self) -> None:
        self.encoder.backward(self.decoder.backward(self.loss_layer.backward()))
        self.grads = gather("enc", self.encoder.layers(), "grads") | gather(
            "dec", self.decoder.layers(), "grads"
        )

    def generate(self, xs: np.ndarray, start_id: int, length: int) -> np.ndarray:
        return self.decoder.generate(self.encoder.forward(xs), start_id, length)


def _score_sensitivity(
    decoder: Decoder | PeekyDecoder, ids: np.ndarray, h: np.ndarray
) -> np.ndarray:
    """||∂ scores[0, t] / ∂h||_F for every decoder step t (one backward pass per score)."""
    scores = decoder.forward(ids, h)
    T, V = scores.shape[1], scores.shape[2]
    sens = np.zeros(T)
    for t in range(T):
        for v in range(V):
            d = np.zeros_like(scores)
            d[0, t, v] = 1.0
            sens[t] += np.sum(decoder.backward(d) ** 2)
    return np.sqrt(sens)


def demo() -> None:
    V, D, H = 13, 16, 128  # the addition task of 밑바닥2 7.2.4 / 7.4
    plain = init_seq2seq(V, D, H, np.random.default_rng(0))
    peeky = init_peeky_seq2seq(V, D, H, np.random.default_rng(0))
    count = {
        name: sum(v.size for k, v in p.items() if k.startswith("dec."))
        for name, p in [("seq2seq", plain), ("peeky", peeky)]
    }
    out.table(
        f"decoder inputs and parameters (V={V}, D={D}, H={H})",
        columns=["", "seq2seq", "peeky seq2seq"],
        rows=[
            ["LSTM input per step", f"embedding (D={D})", f"[h ; embedding] (H+D={H + D})"],
            ["Affine input per step", f"LSTM output (H={H})", f"[h ; LSTM output] (2H={2 * H})"],
            ["h used", "as initial state only", "initial state + every step, twice"],
            ["decoder parameters", count["seq2seq"], count["peeky"]],
        ],
    )

    # A small untrained pair to show how directly h reaches each step's scores.
    rng = np.random.default_rng(0)
    Vs, Ds, Hs, T = 6, 4, 5, 12
    p_plain = sub_params(init_seq2seq(Vs, Ds, Hs, rng), "dec")
    p_peeky = sub_params(init_peeky_seq2seq(Vs, Ds, Hs, rng), "dec")
    ids = rng.integers(0, Vs, size=(1, T))
    h = np.tanh(rng.standard_normal((1, Hs)))
    s_plain = _score_sensitivity(Decoder(p_plain), ids, h)
    s_peeky = _score_sensitivity(PeekyDecoder(p_peeky), ids, h)
    out.line(
        "||∂ scores_t / ∂h|| at decoder step t (untrained decoders)",
        x=list(range(T)),
        series={"seq2seq": s_plain, "peeky": s_peeky},
        x_title="decoder step t",
        y_title="Jacobian norm",
        log_y=True,
    )
    out.value("seq2seq: ratio step 11 / step 0", float(s_plain[-1] / s_plain[0]))
    out.value("peeky: ratio step 11 / step 0", float(s_peeky[-1] / s_peeky[0]))
    out.text(
        "In plain seq2seq, h reaches step t only through t LSTM steps, so its influence "
        "fades along the output. Peeky concatenates h to every step's LSTM and Affine input: "
        "a direct path that does not fade. The price is more decoder parameters; with the "
        "peek weights at zero it is exactly plain seq2seq."
    )
