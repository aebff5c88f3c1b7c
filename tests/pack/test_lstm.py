import math

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from lstm import (
    TimeLSTM,
    demo,
    init_lstm,
    lstm_cell,
    lstm_cell_backward,
    lstm_cell_forward,
    to_book_layout,
)

from studylog.demo import api as out


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def reference_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """torch.nn.LSTM's documented equations, one sample and one unit at a time.

    W_ih = [W_ii | W_if | W_ig | W_io] stacked along rows (each (H, D)), same for
    W_hh and the biases. Only Python floats and math.exp/tanh.
    """
    N, H = h.shape
    D = x.shape[1]

    def pre(block, n, j):
        row = block * H + j
        return (
            sum(W_ih[row, d] * x[n, d] for d in range(D))
            + b_ih[row]
            + sum(W_hh[row, k] * h[n, k] for k in range(H))
            + b_hh[row]
        )

    h_next, c_next = np.zeros((N, H)), np.zeros((N, H))
    for n in range(N):
        for j in range(H):
            i = sig(pre(0, n, j))
            f = sig(pre(1, n, j))
            g = math.tanh(pre(2, n, j))
            o = sig(pre(3, n, j))
            c_next[n, j] = f * c[n, j] + i * g
            h_next[n, j] = o * math.tanh(c_next[n, j])
    return h_next, c_next


@pytest.fixture
def cell_inputs():
    rng = np.random.default_rng(7)
    N, D, H = 3, 4, 5
    p = init_lstm(D, H, rng)
    p = {k: v * 3 for k, v in p.items()}  # larger weights: gates away from 0.5
    x = rng.standard_normal((N, D))
    h = rng.standard_normal((N, H)) * 0.5
    c = rng.standard_normal((N, H))
    return x, h, c, p, rng


def test_cell_matches_torch_documented_equations(cell_inputs):
    x, h, c, p, _ = cell_inputs
    h_next, c_next = lstm_cell(x, h, c, **p)
    h_ref, c_ref = reference_cell(x, h, c, **p)
    np.testing.assert_allclose(h_next, h_ref, atol=1e-13)
    np.testing.assert_allclose(c_next, c_ref, atol=1e-13)


def test_gate_order_is_i_f_g_o(cell_inputs):
    # Saturate one block at a time through its bias and check the effect it must have.
    x, h, c, p, _ = cell_inputs
    H = h.shape[1]
    zero = {k: np.zeros_like(v) for k, v in p.items()}
    b = np.zeros(4 * H)
    b[H : 2 * H] = 50.0  # f = 1; i = 0.5, g = 0, o = 0.5
    _, c_next = lstm_cell(x, h, c, zero["W_ih"], zero["W_hh"], b, zero["b_hh"])
    np.testing.assert_allclose(c_next, c)  # only a forget gate of 1 keeps c unchanged
    b = np.zeros(4 * H)
    b[:H], b[H : 2 * H], b[2 * H : 3 * H] = 50.0, -50.0, 50.0  # i = 1, f = 0, g = 1
    _, c_next = lstm_cell(x, h, c, zero["W_ih"], zero["W_hh"], b, zero["b_hh"])
    np.testing.assert_allclose(c_next, 1.0)
    b[3 * H :] = -50.0  # o = 0 hides the cell
    h_next, _ = lstm_cell(x, h, c, zero["W_ih"], zero["W_hh"], b, zero["b_hh"])
    np.testing.assert_allclose(h_next, 0.0, atol=1e-20)


def test_book_layout_conversion_reproduces_the_book_equations(cell_inputs):
    x, h, c, p, _ = cell_inputs
    Wx, Wh, b = to_book_layout(**p)
    H = h.shape[1]
    # 밑바닥2 6.3: A = x Wx + h Wh + b, slices f, g, i, o.
    A = x @ Wx + h @ Wh + b
    f, g, i, o = (A[:, k * H : (k + 1) * H] for k in range(4))
    f, g, i, o = 1 / (1 + np.exp(-f)), np.tanh(g), 1 / (1 + np.exp(-i)), 1 / (1 + np.exp(-o))
    c_book = f * c + g * i
    h_book = o * np.tanh(c_book)
    h_next, c_next = lstm_cell(x, h, c, **p)
    np.testing.assert_allclose(h_next, h_book, atol=1e-14)
    np.testing.assert_allclose(c_next, c_book, atol=1e-14)


def test_cell_backward_matches_central_differences(cell_inputs):
    x, h, c, p, rng = cell_inputs
    dh = rng.standard_normal(h.shape)
    dc = rng.standard_normal(c.shape)

    def loss():
        h2, c2 = lstm_cell(x, h, c, **p)
        return float(np.sum(h2 * dh) + np.sum(c2 * dc))

    _, _, cache = lstm_cell_forward(x, h, c, **p)
    g = lstm_cell_backward(dh, dc, cache)
    for name, arr in [("dx", x), ("dh", h), ("dc", c)] + [("d" + k, v) for k, v in p.items()]:
        assert relative_error(g[name], numerical_gradient(loss, arr, eps=1e-5)) < 1e-6, name


def test_time_lstm_bptt_matches_central_differences():
    rng = np.random.default_rng(11)
    N, T, D, H = 2, 4, 3, 3
    p = {k: v * 2 for k, v in init_lstm(D, H, rng).items()}
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    c0 = rng.standard_normal((N, H))
    dhs = rng.standard_normal((N, T, H))
    dh_last = rng.standard_normal((N, H))
    dc_last = rng.standard_normal((N, H))

    def loss():
        lstm = TimeLSTM(**p)
        hs = lstm.forward(xs, h0, c0)
        # the last h gets both dhs[:, -1] and dh_last, like an encoder read by a decoder
        return float(np.sum(hs * dhs) + np.sum(lstm.h * dh_last) + np.sum(lstm.c * dc_last))

    def num(arr):
        # eps = 1e-5 balances rounding (~1e-16 |L| / eps) and truncation (~eps^2) errors
        # for this longer computation; 1e-6 leaves ~1e-6 rounding noise on tiny entries.
        return numerical_gradient(loss, arr, eps=1e-5)

    lstm = TimeLSTM(**p)
    lstm.forward(xs, h0, c0)
    dxs = lstm.backward(dhs, dh_last, dc_last)
    assert relative_error(dxs, num(xs)) < 1e-6
    assert relative_error(lstm.dh0, num(h0)) < 1e-6
    assert relative_error(lstm.dc0, num(c0)) < 1e-6
    for k, v in p.items():
        assert relative_error(lstm.grads[k], num(v)) < 1e-6, k


def test_cell_gradient_path_is_only_times_f(cell_inputs):
    x, h, c, p, rng = cell_inputs
    _, _, cache = lstm_cell_forward(x, h, c, **p)
    dc = rng.standard_normal(c.shape)
    g = lstm_cell_backward(np.zeros_like(h), dc, cache)
    np.testing.assert_array_equal(g["dc"], dc * cache["f"])


def test_float32_is_kept(cell_inputs):
    x, h, c, p, _ = cell_inputs
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    h2, c2 = lstm_cell(x.astype(np.float32), h.astype(np.float32), c.astype(np.float32), **p32)
    assert h2.dtype == np.float32 and c2.dtype == np.float32


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    assert heat["y_labels"] == ["i0", "i1", "f0", "f1", "o0", "o1", "c0", "c1"]
    data = np.array(heat["data"])
    assert data.shape == (8, 10)
    i0, f0, o0, c0 = data[0], data[2], data[4], data[6]
    assert i0[1] > 0.99 and i0[3] < 0.01  # writes on "write", ignores the distractor
    assert f0[6] < 0.01 and f0[5] > 0.99  # erase
    assert c0[5] == pytest.approx(math.tanh(1.6), rel=1e-2)  # 0.8 * 2 written at t1, kept
    assert abs(c0[7]) < 1e-2 and c0[9] == pytest.approx(math.tanh(-1.8), rel=1e-2)
    assert o0[4] > 0.99 and o0[5] < 0.01
    h = next(
        np.array(o["data"])
        for o in outputs
        if o["kind"] == "array" and o["label"].startswith("h =")
    )
    assert h[4, 0] == pytest.approx(math.tanh(c0[4]), rel=1e-3)  # read: o ≈ 1
    assert abs(h[5, 0]) < 1e-3  # no read: hidden
    line = next(o for o in outputs if o["kind"] == "line")
    assert line["log_y"]
    f = data[2:4]  # forget gates of both units, from the forward pass
    expected = np.array([np.prod(f[:, t:], axis=1) for t in range(10)])
    got = np.stack(
        [line["series"]["unit 0 (latch)"], line["series"]["unit 1 (leaky, f=0.5)"]], axis=1
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_forget_bias_sets_the_gate_total_bias_exactly():
    rng = np.random.default_rng(3)
    D, H = 3, 4
    p = init_lstm(D, H, rng, forget_bias=1.0)
    np.testing.assert_array_equal(p["b_ih"][H : 2 * H] + p["b_hh"][H : 2 * H], 1.0)
    # the other blocks keep torch's uniform(-1/sqrt(H), 1/sqrt(H)) draws
    assert np.all(np.abs(p["b_ih"][:H]) <= 0.5) and np.any(p["b_ih"][:H] != 0)
    # with zero weights and zero inputs the forget gate is exactly sigma(1)
    zero = {k: (np.zeros_like(v) if k.startswith("W") else v) for k, v in p.items()}
    _, _, cache = lstm_cell_forward(np.zeros((1, D)), np.zeros((1, H)), np.zeros((1, H)), **zero)
    np.testing.assert_allclose(cache["f"], 1 / (1 + math.exp(-1.0)), rtol=0, atol=1e-15)


def test_cell_path_keeps_sigma_of_bias_to_the_k_with_gates_at_their_bias():
    # The text's numbers: 0.5^20 ~ 9.5e-7 and sigma(1)^20 ~ 1.9e-3, about 2,000 times more.
    H, T = 4, 20
    for bias, expected in ((0.0, 0.5**20), (1.0, sig(1.0) ** 20)):
        p = init_lstm(2, H, np.random.default_rng(0), forget_bias=bias)
        p = {k: (np.zeros_like(v) if k.startswith("W") else v) for k, v in p.items()}
        lstm = TimeLSTM(**p)
        lstm.forward(np.zeros((1, T, 2)))
        lstm.backward(np.zeros((1, T, H)), dc_last=np.ones((1, H)))
        # W_hh = 0: the only path from c_T back to c_0 is the cell path
        np.testing.assert_allclose(lstm.dc0, expected, rtol=1e-12)
    assert 0.5**20 == pytest.approx(9.54e-7, rel=1e-3)
    assert sig(1.0) ** 20 == pytest.approx(1.90e-3, rel=1e-2)
    assert sig(1.0) ** 20 / 0.5**20 == pytest.approx(1994, rel=1e-3)


def test_demo_forget_bias_table_matches_a_recomputation():
    from lstm import cell_gradient_at_init

    with out.collect() as outputs:
        demo()
    table = next(o for o in outputs if o["kind"] == "table" and "freshly" in o["label"])
    row20 = next(r for r in table["rows"] if r[0] == 20)
    zero, one = cell_gradient_at_init(20, 16, None), cell_gradient_at_init(20, 16, 1.0)
    assert float(row20[1]) == pytest.approx(zero[-1], rel=1e-2)
    assert float(row20[2]) == pytest.approx(one[-1], rel=1e-2)
    assert one[-1] / zero[-1] > 100  # the measured gain the text reports (about 800x)
    assert 500 < one[-1] / zero[-1] < 1200
