import numpy as np
import pytest
from common import relative_error, richardson_gradient
from lstm import lstm_cell
from peeky_seq2seq import PeekyDecoder, PeekySeq2seq, demo, init_peeky_seq2seq
from seq2seq import Decoder, TimeSoftmaxWithLoss, gather, sub_params

from studylog.demo import api as out

V, D, H = 5, 3, 4


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    p = init_peeky_seq2seq(V, D, H, rng)
    # O(1) embeddings and x2 weights: no gradient entry small enough to drown in rounding noise
    p = {k: v * (30 if "embed" in k else 2) for k, v in p.items()}
    xs = rng.integers(0, V, size=(2, 4))
    ts = rng.integers(0, V, size=(2, 5))
    return p, xs, ts, rng


def test_shapes_of_the_peeky_weights(tiny):
    p, *_ = tiny
    assert p["dec.lstm.W_ih"].shape == (4 * H, H + D)
    assert p["dec.affine.W"].shape == (2 * H, V)
    assert p["enc.lstm.W_ih"].shape == (4 * H, D)  # the encoder is unchanged


def test_forward_matches_a_step_by_step_reference(tiny):
    p, _, ts, rng = tiny
    h = rng.standard_normal((2, H)) * 0.5
    dec = sub_params(p, "dec")
    scores = PeekyDecoder(dec).forward(ts, h)
    state, c = h, np.zeros_like(h)
    lstm_w = [dec[f"lstm.{k}"] for k in ("W_ih", "W_hh", "b_ih", "b_hh")]
    for t in range(ts.shape[1]):
        x = np.concatenate([h, dec["embed.W"][ts[:, t]]], axis=1)  # h peeks into the LSTM input
        state, c = lstm_cell(x, state, c, *lstm_w)
        expected = np.concatenate([h, state], axis=1) @ dec["affine.W"] + dec["affine.b"]
        np.testing.assert_allclose(scores[:, t], expected, atol=1e-13)


def test_zero_peek_weights_give_plain_seq2seq_decoder(tiny):
    p, _, ts, rng = tiny
    h = rng.standard_normal((2, H)) * 0.5
    dec = {k: v.copy() for k, v in sub_params(p, "dec").items()}
    dec["lstm.W_ih"][:, :H] = 0.0
    dec["affine.W"][:H] = 0.0
    plain = dict(dec)
    plain["lstm.W_ih"] = dec["lstm.W_ih"][:, H:]
    plain["affine.W"] = dec["affine.W"][H:]
    np.testing.assert_allclose(
        PeekyDecoder(dec).forward(ts, h), Decoder(plain).forward(ts, h), atol=1e-14
    )


def test_peeky_decoder_backward_matches_central_differences(tiny):
    p, _, ts, rng = tiny
    h = rng.standard_normal((2, H)) * 0.5
    dec_p = sub_params(p, "dec")
    dec = PeekyDecoder(dec_p)
    loss_layer = TimeSoftmaxWithLoss()
    loss_layer.forward(dec.forward(ts[:, :-1], h), ts[:, 1:])
    dh = dec.backward(loss_layer.backward())
    grads = gather("dec", dec.layers(), "grads")

    def loss():
        return TimeSoftmaxWithLoss().forward(PeekyDecoder(dec_p).forward(ts[:, :-1], h), ts[:, 1:])

    assert relative_error(dh, richardson_gradient(loss, h)) < 1e-6
    for name, g in grads.items():
        assert relative_error(g, richardson_gradient(loss, p[name])) < 1e-6, name


def test_full_model_gradients_match_central_differences(tiny):
    p, xs, ts, _ = tiny
    model = PeekySeq2seq(p)
    model.forward(xs, ts)
    model.backward()
    assert set(model.grads) == set(p)

    def loss():
        return PeekySeq2seq(p).forward(xs, ts)

    for name, arr in p.items():
        assert relative_error(model.grads[name], richardson_gradient(loss, arr)) < 1e-6, name


def test_greedy_generation_agrees_with_teacher_forced_argmax(tiny):
    p, xs, _, _ = tiny
    model = PeekySeq2seq(p)
    gen = model.generate(xs, start_id=1, length=6)
    dec_in = np.concatenate([np.ones((2, 1), dtype=int), gen[:, :-1]], axis=1)
    scores = model.decoder.forward(dec_in, model.encoder.forward(xs))
    np.testing.assert_array_equal(scores.argmax(axis=2), gen)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    table = next(o for o in outputs if o["kind"] == "table")
    n_plain, n_peeky = table["rows"][-1][1:]
    H_, D_, V_ = 128, 16, 13
    # exactly the extra columns of W_ih (4H x H) and the extra rows of the Affine W (H x V)
    assert n_peeky - n_plain == 4 * H_ * H_ + H_ * V_
    assert n_plain == V_ * D_ + 4 * H_ * (D_ + H_ + 2) + H_ * V_ + V_
    line = next(o for o in outputs if o["kind"] == "line")
    plain, peeky = np.array(line["series"]["seq2seq"]), np.array(line["series"]["peeky"])
    assert plain[-1] < 0.1 * plain[0]  # fades through the LSTM steps
    assert peeky[-1] > 0.5 * peeky[0]  # the direct path keeps it
