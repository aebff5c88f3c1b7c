import importlib.util
from pathlib import Path

import numpy as np
import pytest
from alignment import Attention
from attention import (
    LENGTH,
    START,
    WEIGHTS,
    AttentionSeq2seq,
    TimeAttention,
    decode,
    demo,
    exact_match_accuracy,
    held_out_set,
    init_attention_seq2seq,
    load_model,
    make_reversal_data,
)
from common import numerical_gradient, relative_error, richardson_gradient
from seq2seq import TimeSoftmaxWithLoss

from studylog.demo import api as out

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_attention.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_attention", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained():
    return load_model()


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    p = init_attention_seq2seq(V=5, D=3, H=4, rng=rng)
    p = {k: v * (10 if "embed" in k else 2) for k, v in p.items()}
    xs = rng.integers(0, 5, size=(2, 4))
    ts = rng.integers(0, 5, size=(2, 4))
    return p, xs, ts, rng


# --- the model's forward/backward (the one the training script optimises) ---------------


def test_time_attention_is_one_attention_layer_per_step(tiny):
    _, _, _, rng = tiny
    hs, dec = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 3, 4))
    layer = TimeAttention()
    cs = layer.forward(hs, dec)
    for t in range(3):
        single = Attention()
        np.testing.assert_allclose(cs[:, t], single.forward(hs, dec[:, t]))
        np.testing.assert_allclose(layer.attention_weights[:, t], single.attention_weight)
    dcs = rng.standard_normal(cs.shape)
    dhs, ddec = layer.backward(dcs)

    def loss():
        return float(np.sum(TimeAttention().forward(hs, dec) * dcs))

    assert relative_error(dhs, numerical_gradient(loss, hs)) < 1e-6
    assert relative_error(ddec, numerical_gradient(loss, dec)) < 1e-6


def test_decoder_backward_gives_encoder_state_gradients(tiny):
    p, xs, ts, rng = tiny
    model = AttentionSeq2seq(p)
    hs = rng.standard_normal((2, 4, 4)) * 0.5
    loss_layer = TimeSoftmaxWithLoss()
    loss_layer.forward(model.decoder.forward(ts[:, :-1], hs), ts[:, 1:])
    dhs = model.decoder.backward(loss_layer.backward())

    def loss():
        dec = AttentionSeq2seq(p).decoder
        return TimeSoftmaxWithLoss().forward(dec.forward(ts[:, :-1], hs), ts[:, 1:])

    assert relative_error(dhs, richardson_gradient(loss, hs)) < 1e-6


def test_full_model_gradients_match_central_differences(tiny):
    p, xs, ts, _ = tiny
    model = AttentionSeq2seq(p)
    model.forward(xs, ts)
    model.backward()
    assert set(model.grads) == set(p)

    def loss():
        return AttentionSeq2seq(p).forward(xs, ts)

    for name, arr in p.items():
        assert relative_error(model.grads[name], richardson_gradient(loss, arr)) < 1e-6, name


def test_generation_matches_teacher_forced_forward(tiny):
    p, xs, _, _ = tiny
    model = AttentionSeq2seq(p)
    gen, weights = model.generate(xs, START % 5, 5)
    dec_in = np.concatenate([np.full((2, 1), START % 5), gen[:, :-1]], axis=1)
    hs = model.encoder.forward(xs)
    scores = model.decoder.forward(dec_in, hs)
    np.testing.assert_array_equal(scores.argmax(axis=2), gen)
    np.testing.assert_allclose(weights, model.decoder.attention.attention_weights, atol=1e-13)


# --- the data --------------------------------------------------------------------------


def test_reversal_data_and_held_out_set_are_fixed():
    xs, ts = make_reversal_data(4, np.random.default_rng(0))
    assert xs.shape == (4, LENGTH) and ts.shape == (4, LENGTH + 1)
    assert np.all(ts[:, 0] == START)
    assert decode(ts[0, 1:]) == decode(xs[0])[::-1]
    a, _ = held_out_set()
    b, _ = held_out_set()
    np.testing.assert_array_equal(a, b)
    assert len({tuple(x) for x in a.tolist()}) == 100


# --- the shipped weights ---------------------------------------------------------------


def test_weights_file_is_small_and_matches_the_architecture():
    assert WEIGHTS.stat().st_size < 1_000_000
    with np.load(WEIGHTS) as f:
        stored = {k: f[k] for k in f.files}
    expected = init_attention_seq2seq(11, 16, 64, np.random.default_rng(0))
    assert {k: v.shape for k, v in stored.items()} == {k: v.shape for k, v in expected.items()}
    assert all(v.dtype == np.float32 for v in stored.values())


def test_weights_are_found_on_sys_path_when_the_demo_runs_from_a_copy(monkeypatch, tmp_path):
    import attention

    monkeypatch.setattr(
        attention, "WEIGHTS", tmp_path / "copy" / WEIGHTS.name
    )  # as from a temp dir
    monkeypatch.syspath_prepend(str(WEIGHTS.parent))
    assert attention.find_weights() == WEIGHTS.parent / WEIGHTS.name
    monkeypatch.setattr("sys.path", [str(tmp_path)])
    with pytest.raises(FileNotFoundError):
        attention.find_weights()


def test_trained_model_reverses_held_out_strings(trained):
    xs, ts = held_out_set()
    assert exact_match_accuracy(trained, xs, ts) > 0.95
    # and strings from an unrelated generator, 1000 of them
    xs2, ts2 = make_reversal_data(1000, np.random.default_rng(987654))
    pred, _ = trained.generate(xs2, START, LENGTH)
    assert np.mean(np.all(pred == ts2[:, 1:], axis=1)) > 0.95
    assert [decode(r) for r in pred[:2]] == [decode(x)[::-1] for x in xs2[:2]]


def test_attention_map_is_the_anti_diagonal(trained):
    xs, _ = held_out_set()
    _, weights = trained.generate(xs, START, LENGTH)
    np.testing.assert_allclose(weights.sum(axis=2), 1.0)
    mirrored = LENGTH - 1 - np.arange(LENGTH)
    hits = weights.argmax(axis=2) == mirrored  # (100, 8)
    assert hits[0].sum() >= 7  # the demo's example: most steps look at the mirrored digit
    assert hits.mean() > 0.9
    # on average most of the weight sits on the mirrored position
    assert weights[:, np.arange(LENGTH), mirrored].mean() > 0.6


# --- the training script ---------------------------------------------------------------


def test_adam_first_step_is_lr_times_sign():
    # With m_hat = g and v_hat = g^2 at t = 1, Adam's first step is lr * g / (|g| + eps).
    adam = load_script().Adam(lr=0.1)
    p = {"w": np.array([1.0, -2.0, 3.0])}
    g = np.array([0.5, -1e-3, 20.0])
    adam.update(p, {"w": g})
    np.testing.assert_allclose(p["w"], [0.9, -1.9, 2.9], atol=1e-6)


def test_adam_minimises_a_quadratic():
    adam = load_script().Adam(lr=0.05)
    p = {"w": np.array([3.0, -4.0])}
    for _ in range(500):
        adam.update(p, {"w": 2 * (p["w"] - np.array([1.0, 2.0]))})
    np.testing.assert_allclose(p["w"], [1.0, 2.0], atol=1e-2)


def test_training_batches_never_contain_excluded_strings():
    training_batch = load_script().training_batch
    full, _ = make_reversal_data(10, np.random.default_rng(5))
    exclude = {tuple(full[0].tolist()), tuple(full[3].tolist())}
    xs, ts = training_batch(10, np.random.default_rng(5), exclude)
    assert len(xs) == 8 and not {tuple(x) for x in xs.tolist()} & exclude
    np.testing.assert_array_equal(ts[:, 1:], xs[:, ::-1])


def test_training_script_reduces_the_loss_on_a_small_model():
    train = load_script().train
    params, losses = train(iters=100, batch=32, embed=4, hidden=16, lr=2e-2, log=False)
    assert params["enc.lstm.W_hh"].shape == (64, 16)
    assert np.mean(losses[:5]) == pytest.approx(np.log(11), rel=0.02)  # chance level at the start
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:5])


# --- the demo --------------------------------------------------------------------------


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    values = {o["label"]: o["value"] for o in outputs if o["kind"] == "value"}
    assert values["exact-match accuracy on 100 held-out strings"] > 0.95
    assert values["output steps whose largest weight is on the mirrored source position"] > 0.9
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    w = np.array(heat["data"])
    assert w.shape == (LENGTH, LENGTH)
    assert "".join(heat["y_labels"]) == "".join(heat["x_labels"])[::-1]
    table = next(o for o in outputs if o["kind"] == "table")
    assert all(row[1] == row[0][::-1] for row in table["rows"])
