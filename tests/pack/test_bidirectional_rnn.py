import numpy as np
import pytest
from bidirectional_rnn import TimeBiLSTM, demo, dependency_map
from common import numerical_gradient, relative_error
from lstm import TimeLSTM, init_lstm, lstm_cell

from studylog.demo import api as out


def run_cells(xs_seq, p):
    """Final h of an LSTM over the given steps, with lstm_cell in a plain loop (no TimeLSTM)."""
    N = xs_seq.shape[0]
    H = p["W_hh"].shape[1]
    h = c = np.zeros((N, H))
    for t in range(xs_seq.shape[1]):
        h, c = lstm_cell(xs_seq[:, t], h, c, **p)
    return h


@pytest.fixture
def setup():
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 6, 3, 4
    p_f = {k: 2 * v for k, v in init_lstm(D, H, rng).items()}
    p_b = {k: 2 * v for k, v in init_lstm(D, H, rng).items()}
    xs = rng.standard_normal((N, T, D))
    return p_f, p_b, xs, rng


def test_output_is_forward_and_backward_states_concatenated(setup):
    p_f, p_b, xs, _ = setup
    hs = TimeBiLSTM(p_f, p_b).forward(xs)
    assert hs.shape == (2, 6, 8)
    T = xs.shape[1]
    for t in range(T):
        # forward half at t: an LSTM that has read x[:t+1]
        np.testing.assert_allclose(hs[:, t, :4], run_cells(xs[:, : t + 1], p_f), atol=1e-14)
        # backward half at t: an LSTM that has read x[t:] from right to left
        np.testing.assert_allclose(hs[:, t, 4:], run_cells(xs[:, t:][:, ::-1], p_b), atol=1e-14)


def test_backward_half_at_t_ignores_inputs_before_t(setup):
    p_f, p_b, xs, rng = setup
    hs = TimeBiLSTM(p_f, p_b).forward(xs)
    xs2 = xs.copy()
    xs2[:, :3] = rng.standard_normal(xs2[:, :3].shape)  # change x_0..x_2 only
    hs2 = TimeBiLSTM(p_f, p_b).forward(xs2)
    np.testing.assert_array_equal(
        hs[:, 3:, 4:], hs2[:, 3:, 4:]
    )  # backward half at t >= 3 unchanged
    assert not np.allclose(hs[:, :3, 4:], hs2[:, :3, 4:])
    assert not np.allclose(hs[:, 3:, :4], hs2[:, 3:, :4])  # the forward half sees the change


def test_reversed_input_without_flip_is_misaligned(setup):
    _, p_b, xs, _ = setup
    bi_bwd = TimeBiLSTM(p_b, p_b).forward(xs)[:, :, 4:]
    rev = TimeLSTM(**p_b).forward(xs[:, ::-1])
    assert not np.allclose(rev, bi_bwd)  # position t holds another word's summary
    np.testing.assert_allclose(rev[:, ::-1], bi_bwd)  # flipping back aligns it


def test_backward_pass_matches_central_differences(setup):
    p_f, p_b, xs, rng = setup
    dhs = rng.standard_normal((2, 6, 8))

    def loss():
        return float(np.sum(TimeBiLSTM(p_f, p_b).forward(xs) * dhs))

    def num(arr):
        return numerical_gradient(loss, arr, eps=1e-5)

    bi = TimeBiLSTM(p_f, p_b)
    bi.forward(xs)
    dxs = bi.backward(dhs)
    assert relative_error(dxs, num(xs)) < 1e-6
    for k in p_f:
        assert relative_error(bi.fwd.grads[k], num(p_f[k])) < 1e-6, k
        assert relative_error(bi.bwd.grads[k], num(p_b[k])) < 1e-6, k


def test_dependency_map_matches_finite_differences(setup):
    p_f, _, xs, _ = setup
    x1 = xs[:1].copy()
    lstm = TimeLSTM(**p_f)
    dep = dependency_map(lstm.forward, lstm.backward, x1, 4)
    # Jacobian block d h_t / d x_s by central differences, one input coordinate at a time
    T, D = x1.shape[1], x1.shape[2]
    jac = np.zeros((T, 4, T, D))
    for s in range(T):
        for d in range(D):
            e = np.zeros_like(x1)
            e[0, s, d] = 1e-6
            jac[:, :, s, d] = (
                TimeLSTM(**p_f).forward(x1 + e)[0] - TimeLSTM(**p_f).forward(x1 - e)[0]
            ) / 2e-6
    ref = np.sqrt(np.sum(jac**2, axis=(1, 3)))
    np.testing.assert_allclose(dep, ref, atol=1e-8)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heats = [np.array(o["data"]) for o in outputs if o["kind"] == "heatmap"]
    assert len(heats) == 3
    fwd, bwd, rev = heats
    T = 8
    tril = np.tril(np.ones((T, T), dtype=bool))
    assert np.all(fwd[~tril] == 0) and np.all(fwd[tril] > 0)
    assert np.all(bwd[tril & ~np.eye(T, dtype=bool)] == 0) and np.all(
        bwd[~tril | np.eye(T, dtype=bool)] > 0
    )
    np.testing.assert_allclose(rev, bwd[::-1])  # same weights, rows in the wrong order
    hs = next(np.array(o["data"]) for o in outputs if o["kind"] == "array")
    assert hs.shape == (8, 6)
