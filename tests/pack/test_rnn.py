import math

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from rnn import RNNCell, TimeRNN, demo, init_rnn

from studylog.demo import api as out


def reference_rnn(xs, h0, W_x, W_h, b):
    """The RNN equation written with scalar loops and math.tanh (no matrix products)."""
    N, T, D = xs.shape
    H = W_h.shape[0]
    hs = np.zeros((N, T, H))
    for n in range(N):
        h = [float(v) for v in h0[n]]
        for t in range(T):
            new = []
            for j in range(H):
                a = b[j]
                a += sum(xs[n, t, d] * W_x[d, j] for d in range(D))
                a += sum(h[k] * W_h[k, j] for k in range(H))
                new.append(math.tanh(a))
            h = new
            hs[n, t] = h
    return hs


@pytest.fixture
def setup():
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 5, 3, 4
    p = init_rnn(D, H, rng)
    p["b"] = rng.standard_normal(H) * 0.1
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    return p, xs, h0, rng


def test_forward_matches_scalar_loop_reference(setup):
    p, xs, h0, _ = setup
    hs = TimeRNN(**p).forward(xs, h0)
    np.testing.assert_allclose(hs, reference_rnn(xs, h0, p["W_x"], p["W_h"], p["b"]), atol=1e-12)


def test_time_rnn_with_one_step_equals_the_cell(setup):
    p, xs, h0, _ = setup
    hs = TimeRNN(**p).forward(xs[:, :1], h0)
    np.testing.assert_allclose(hs[:, 0], RNNCell(**p).forward(xs[:, 0], h0))


def test_causal_h_t_does_not_depend_on_later_inputs(setup):
    p, xs, h0, rng = setup
    hs = TimeRNN(**p).forward(xs, h0)
    xs2 = xs.copy()
    xs2[:, 3:] = rng.standard_normal(xs2[:, 3:].shape)
    hs2 = TimeRNN(**p).forward(xs2, h0)
    np.testing.assert_array_equal(hs[:, :3], hs2[:, :3])
    assert not np.allclose(hs[:, 3:], hs2[:, 3:])


def test_bptt_gradients_match_central_differences(setup):
    p, xs, h0, rng = setup
    dhs = rng.standard_normal((xs.shape[0], xs.shape[1], p["W_h"].shape[0]))
    rnn = TimeRNN(**p)

    def loss():
        return float(np.sum(TimeRNN(**p).forward(xs, h0) * dhs))

    rnn.forward(xs, h0)
    dxs = rnn.backward(dhs)
    for name in ("W_x", "W_h", "b"):
        assert relative_error(rnn.grads[name], numerical_gradient(loss, p[name])) < 1e-6, name
    assert relative_error(dxs, numerical_gradient(loss, xs)) < 1e-6
    assert relative_error(rnn.dh0, numerical_gradient(loss, h0)) < 1e-6


def test_cell_backward_matches_central_differences(setup):
    p, xs, h0, rng = setup
    x = xs[:, 0].copy()
    dh = rng.standard_normal(h0.shape)
    cell = RNNCell(**p)
    cell.forward(x, h0)
    dx, dh_prev, g = cell.backward(dh)

    def loss():
        return float(np.sum(RNNCell(**p).forward(x, h0) * dh))

    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(dh_prev, numerical_gradient(loss, h0)) < 1e-6
    assert relative_error(g["W_h"], numerical_gradient(loss, p["W_h"])) < 1e-6


def test_float32_stays_float32(setup):
    p, xs, h0, _ = setup
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    hs = TimeRNN(**p32).forward(xs.astype(np.float32), h0.astype(np.float32))
    assert hs.dtype == np.float32


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    kinds = [o["kind"] for o in outputs]
    assert kinds.count("array") == 3 and "line" in kinds and "table" in kinds
    arrays = {o["label"]: np.array(o["data"]) for o in outputs if o["kind"] == "array"}
    many = next(v for k, v in arrays.items() if k.startswith("many-to-many"))
    one = next(v for k, v in arrays.items() if k.startswith("many-to-one"))
    assert many.shape == (6, 2) and one.shape == (1, 2)
    np.testing.assert_allclose(one[0], many[-1])
    hs = next(v for k, v in arrays.items() if k.startswith("hidden"))
    assert np.all(np.abs(hs) < 1)
    grad_line = next(o for o in outputs if o["kind"] == "line" and "|dL/dx_t|" in o["series"])
    norms = grad_line["series"]["|dL/dx_t|"]
    assert len(norms) == 6 and all(n > 0 for n in norms)


def test_pair_task_targets_by_hand():
    from rnn import pair_task

    xs, ys = pair_task(3, 6, np.random.default_rng(0))
    for n in range(3):
        x = xs[n, :, 0]
        assert ys[n, :2].tolist() == [0.0, 0.0]
        assert ys[n, 2:].tolist() == [x[t - 1] * x[t - 2] for t in range(2, 6)]


def test_the_trained_rnn_solves_the_pair_task_and_a_random_one_does_not():
    # The demo's claims: the trained RNN is right on every step of 500 new sequences; a random
    # RNN with the best least-squares readout stays near chance (50%).
    from rnn import pair_accuracy, readout_only_accuracy, train_pair_rnn

    params, losses = train_pair_rnn()
    assert losses[0] == pytest.approx(1.0, abs=0.05)  # zero readout: MSE = mean(y^2) = 1
    assert losses[-1] < 1e-3
    assert pair_accuracy(params) == 1.0
    assert 0.45 < readout_only_accuracy(init_rnn(1, 8, np.random.default_rng(0))) < 0.6
    # and the readout alone fitted on the *trained* recurrent weights is also perfect
    assert readout_only_accuracy(params) == 1.0


def test_pair_rnn_gradients_match_numerical_differences():
    # train_pair_rnn's loss and BPTT, checked on one batch through TimeRNN's backward
    from rnn import pair_task

    rng = np.random.default_rng(4)
    p = init_rnn(1, 5, rng)
    w_out = rng.normal(size=5)
    xs, ys = pair_task(4, 7, rng)

    def loss():
        hs = TimeRNN(**p).forward(xs)
        return float(np.mean((hs @ w_out - ys)[:, 2:] ** 2))

    rnn = TimeRNN(**p)
    hs = rnn.forward(xs)
    err = (hs @ w_out - ys)[:, 2:]
    dy = np.zeros(ys.shape)
    dy[:, 2:] = 2 * err / err.size
    rnn.backward(dy[..., None] * w_out)
    for k in ("W_x", "W_h", "b"):
        assert relative_error(rnn.grads[k], numerical_gradient(loss, p[k])) < 1e-6, k
