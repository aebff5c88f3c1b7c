"""seq2seq with attention (밑바닥부터 시작하는 딥러닝 2, 8.2-8.3), trained to reverse digit strings.

    Encoder: ids (N, T) -> Embedding -> TimeLSTM -> hs (N, T, H)   all states are kept
    Decoder: ids (N, T') -> Embedding -> TimeLSTM (h0 = hs[:, -1]) -> dec_hs (N, T', H)
             c_t = Attention(hs, dec_hs[:, t])            (context per step, see alignment.py)
             scores = Affine([c ; dec_hs])                (N, T', V)

Like the book's AttentionSeq2seq (ch08/attention_seq2seq.py): the attention layer
sits between the decoder's LSTM and its Affine layer, and the Affine layer reads
the context concatenated with the LSTM output. LSTMs use the torch layout of
lstm.py. Bahdanau, Cho & Bengio (2015) and Luong, Pham & Manning (2015) are the
papers. The weights in attention_seq2seq.npz were trained by
scripts/train_attention.py (NumPy, Adam); demo() only loads them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from alignment import Attention
from lstm import TimeLSTM, init_lstm, lstm_cell
from seq2seq import Params, TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss, gather, sub_params

from studylog.demo import api as out

CHARS = list("0123456789_")  # "_" is the start token of the decoder
START = CHARS.index("_")
LENGTH = 8  # digits per string
WEIGHTS = Path(__file__).with_name("attention_seq2seq.npz")
HELD_OUT_SEED = 2024  # the fixed held-out set; training never uses these strings


def make_reversal_data(
    n: int, rng: np.random.Generator, length: int = LENGTH
) -> tuple[np.ndarray, np.ndarray]:
    """n random digit strings and their reversals, as ids.

    Returns xs (n, length) source digits and ts (n, length + 1) = [START, reversed
    digits]: the decoder reads ts[:, :-1] and predicts ts[:, 1:] (teacher forcing).
    """
    xs = rng.integers(0, 10, size=(n, length))
    ts = np.concatenate([np.full((n, 1), START), xs[:, ::-1]], axis=1)
    return xs, ts


def held_out_set(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The fixed evaluation set: ``make_reversal_data`` with seed HELD_OUT_SEED."""
    return make_reversal_data(n, np.random.default_rng(HELD_OUT_SEED))


def decode(ids: np.ndarray) -> str:
    return "".join(CHARS[i] for i in ids)


class TimeAttention:
    """One Attention layer per decoder step: hs (N, T, H), dec_hs (N, T', H) -> cs (N, T', H).

    ``attention_weights`` (N, T', T) keeps the weights of the last forward pass.
    """

    def forward(self, hs: np.ndarray, dec_hs: np.ndarray) -> np.ndarray:
        self.layers = [Attention() for _ in range(dec_hs.shape[1])]
        cs = np.stack(
            [layer.forward(hs, dec_hs[:, t]) for t, layer in enumerate(self.layers)], axis=1
        )
        self.attention_weights = np.stack([layer.attention_weight for layer in self.layers], axis=1)
        return cs

    def backward(self, dcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """dcs (N, T', H) -> (dhs (N, T, H) summed over steps, ddec_hs (N, T', H))."""
        dhs = 0.0
        ddec = np.empty_like(dcs)
        for t, layer in enumerate(self.layers):
            dh_enc, ddec[:, t] = layer.backward(dcs[:, t])
            dhs = dhs + dh_enc  # every step reads all encoder states
        return dhs, ddec


class AttentionEncoder:
    """ids (N, T) -> hs (N, T, H), all hidden states (not only the last)."""

    def __init__(self, p: Params) -> None:
        self.embed = TimeEmbedding(p["embed.W"])
        self.lstm = TimeLSTM(p["lstm.W_ih"], p["lstm.W_hh"], p["lstm.b_ih"], p["lstm.b_hh"])

    def forward(self, ids: np.ndarray) -> np.ndarray:
        return self.lstm.forward(self.embed.forward(ids))

    def backward(self, dhs: np.ndarray) -> None:
        self.embed.backward(self.lstm.backward(dhs))

    def layers(self) -> dict[str, object]:
        return {"embed": self.embed, "lstm": self.lstm}


class AttentionDecoder:
    """ids (N, T') and encoder states hs (N, T, H) -> scores (N, T', V); backward returns dhs."""

    def __init__(self, p: Params) -> None:
        self.embed = TimeEmbedding(p["embed.W"])
        self.lstm = TimeLSTM(p["lstm.W_ih"], p["lstm.W_hh"], p["lstm.b_ih"], p["lstm.b_hh"])
        self.attention = TimeAttention()
        self.affine = TimeAffine(p["affine.W"], p["affine.b"])

    def forward(self, ids: np.ndarray, hs: np.ndarray) -> np.ndarray:
        dec_hs = self.lstm.forward(self.embed.forward(ids), h0=hs[:, -1])
        cs = self.attention.forward(hs, dec_hs)
        return self.affine.forward(np.concatenate([cs, dec_hs], axis=2))

    def backward(self, dscores: np.ndarray) -> np.ndarray:
        H = self.lstm.params["W_hh"].shape[1]
        dout = self.affine.backward(dscores)
        dhs, ddec_hs = self.attention.backward(dout[:, :, :H])
        ddec_hs = ddec_hs + dout[:, :, H:]  # the LSTM output feeds attention and Affine
        self.embed.backward(self.lstm.backward(ddec_hs))
        dhs = dhs.copy()
        dhs[:, -1] += self.lstm.dh0  # hs[:, -1] was also the decoder's initial state
        return dhs

    def generate(self, hs: np.ndarray, start_id: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Greedy decoding -> (ids (N, length), attention weights (N, length, T))."""
        N = hs.shape[0]
        h, c = hs[:, -1], np.zeros_like(hs[:, -1])
        ids = np.full(N, start_id)
        out_ids = np.empty((N, length), dtype=np.int64)
        weights = np.empty((N, length, hs.shape[1]))
        attention = Attention()
        for t in range(length):
            h, c = lstm_cell(self.embed.params["W"][ids], h, c, **self.lstm.params)
            ctx = attention.forward(hs, h)
            weights[:, t] = attention.attention_weight
            scores = (
                np.concatenate([ctx, h], axis=1) @ self.affine.params["W"] + self.affine.params["b"]
            )
            ids = np.argmax(scores, axis=1)
            out_ids[:, t] = ids
        return out_ids, weights

    def layers(self) -> dict[str, object]:
        return {"embed": self.embed, "lstm": self.lstm, "affine": self.affine}


def init_attention_seq2seq(
    V: int, D: int, H: int, rng: np.random.Generator, dtype: type = np.float64
) -> Params:
    """Flat dict of all weights: enc.embed.W (V, D), enc.lstm.*, dec.embed.W, dec.lstm.*,
    dec.affine.W (2H, V), dec.affine.b (V,)."""
    p: Params = {}
    for part in ("enc", "dec"):
        p[f"{part}.embed.W"] = (rng.standard_normal((V, D)) * 0.1).astype(dtype)
        for k, v in init_lstm(D, H, rng, dtype).items():
            p[f"{part}.lstm.{k}"] = v
    p["dec.affine.W"] = (rng.standard_normal((2 * H, V)) / np.sqrt(2 * H)).astype(dtype)
    p["dec.affine.b"] = np.zeros(V, dtype=dtype)
    return p


class AttentionSeq2seq:
    """Encoder + attention decoder + loss (밑바닥2 8.2.3).

    forward(xs (N, T), ts (N, T'+1)) -> mean cross-entropy of predicting ts[:, 1:]
    from ts[:, :-1]; backward() fills ``self.grads`` (same keys as ``params``).
    """

    def __init__(self, params: Params) -> None:
        self.params = params
        self.encoder = AttentionEncoder(sub_params(params, "enc"))
        self.decoder = AttentionDecoder(sub_params(params, "dec"))
        self.loss_layer = TimeSoftmaxWithLoss()

    def forward(self, xs: np.ndarray, ts: np.ndarray) -> float:
        hs = self.encoder.forward(xs)
        return self.loss_layer.forward(self.decoder.forward(ts[:, :-1], hs), ts[:, 1:])

    def backward(self) -> None:
        self.encoder.backward(self.decoder.backward(self.loss_layer.backward()))
        self.grads = gather("enc", self.encoder.layers(), "grads") | gather(
            "dec", self.decoder.layers(), "grads"
        )

    def generate(self, xs: np.ndarray, start_id: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        return self.decoder.generate(self.encoder.forward(xs), start_id, length)


def find_weights() -> Path:
    """attention_seq2seq.npz next to this file, else in a folder on sys.path.

    The fallback matters when the demo runs from a copy of its source (imported
    concepts run from a temporary folder, with the pack's demo folder on sys.path).
    """
    for folder in [WEIGHTS.parent, *map(Path, sys.path)]:
        candidate = folder / WEIGHTS.name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{WEIGHTS.name} not found; run scripts/train_attention.py")


def load_model(path: Path | None = None) -> AttentionSeq2seq:
    """The trained model; weights are stored as float32 and computed in float64."""
    with np.load(path or find_weights()) as f:
        params = {k: f[k].astype(np.float64) for k in f.files}
    return AttentionSeq2seq(params)


def exact_match_accuracy(model, xs: np.ndarray, ts: np.ndarray) -> float:  # noqa: ANN001
    """Fraction of sequences whose greedy output equals the target exactly.

    ``model`` is an AttentionSeq2seq (generate returns ids and weights) or a plain
    seq2seq.Seq2seq (generate returns ids only).
    """
    pred = model.generate(xs, START, ts.shape[1] - 1)
    pred = pred[0] if isinstance(pred, tuple) else pred
    return float(np.mean(np.all(pred == ts[:, 1:], axis=1)))


def demo() -> None:
    model = load_model()
    xs, ts = held_out_set()
    pred, weights = model.generate(xs, START, LENGTH)
    H = model.params["enc.lstm.W_hh"].shape[1]
    n_params = sum(v.size for v in model.params.values())
    out.text(
        f"An attention seq2seq (LSTM, H={H}, {n_params:,} parameters) trained with NumPy "
        "to reverse 8-digit strings; these are its greedy outputs on held-out strings "
        "(the weights are loaded, not trained here)."
    )
    out.table(
        "translations",
        columns=["source", "output", "correct"],
        rows=[
            [decode(xs[i]), decode(pred[i]), bool(np.all(pred[i] == ts[i, 1:]))] for i in range(5)
        ],
    )
    acc = float(np.mean(np.all(pred == ts[:, 1:], axis=1)))
    out.value(f"exact-match accuracy on {len(xs)} held-out strings", acc)
    out.value("per-digit accuracy", float(np.mean(pred == ts[:, 1:])))

    i = 0
    out.heatmap(
        f"attention weights while reversing '{decode(xs[i])}'",
        weights[i],
        x_labels=[f"{ch}" for ch in decode(xs[i])],
        y_labels=[f"{ch}" for ch in decode(pred[i])],
        x_title="source digit (encoder position)",
        y_title="output digit (decoder step)",
    )
    expected = LENGTH - 1 - np.arange(LENGTH)
    hit = float(np.mean(weights.argmax(axis=2) == expected))
    out.value("output steps whose largest weight is on the mirrored source position", hit)
    out.text(
        "Nobody told the model where to look: the anti-diagonal (output step t attends to "
        "source position T-1-t) is the alignment it learned from the loss alone."
    )
