import math

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from gru import TimeGRU, demo, gru_cell, gru_cell_backward, gru_cell_forward, init_gru

from studylog.demo import api as out


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def reference_cell(x, h, W_ih, W_hh, b_ih, b_hh, reset_after=True):
    """torch.nn.GRU's documented equations with scalar loops.

    reset_after=False is the Cho et al. (2014) variant, n = tanh(W_in x + b_in + W_hn (r*h) + b_hn),
    used to show that the test tells the two apart.
    """
    N, H = h.shape
    D = x.shape[1]

    def lin_x(block, n, j):
        row = block * H + j
        return sum(W_ih[row, d] * x[n, d] for d in range(D)) + b_ih[row]

    def lin_h(block, n, j, hv):
        row = block * H + j
        return sum(W_hh[row, k] * hv[k] for k in range(H)) + b_hh[row]

    out_ = np.zeros((N, H))
    for n in range(N):
        r = [sig(lin_x(0, n, j) + lin_h(0, n, j, h[n])) for j in range(H)]
        z = [sig(lin_x(1, n, j) + lin_h(1, n, j, h[n])) for j in range(H)]
        for j in range(H):
            if reset_after:
                cand = math.tanh(lin_x(2, n, j) + r[j] * lin_h(2, n, j, h[n]))
            else:
                rh = [r[k] * h[n, k] for k in range(H)]
                cand = math.tanh(lin_x(2, n, j) + lin_h(2, n, j, rh))
            out_[n, j] = (1 - z[j]) * cand + z[j] * h[n, j]
    return out_


@pytest.fixture
def inputs():
    rng = np.random.default_rng(3)
    N, D, H = 3, 4, 5
    p = {k: v * 3 for k, v in init_gru(D, H, rng).items()}
    x = rng.standard_normal((N, D))
    h = rng.standard_normal((N, H)) * 0.5
    return x, h, p, rng


def test_cell_matches_torch_documented_equations(inputs):
    x, h, p, _ = inputs
    np.testing.assert_allclose(gru_cell(x, h, **p), reference_cell(x, h, **p), atol=1e-13)


def test_reset_is_applied_after_the_matrix_product(inputs):
    x, h, p, _ = inputs
    cho = reference_cell(x, h, **p, reset_after=False)
    assert np.max(np.abs(gru_cell(x, h, **p) - cho)) > 1e-3


def test_update_gate_one_copies_h_and_reset_zero_drops_it(inputs):
    x, h, p, _ = inputs
    H = h.shape[1]
    b = p["b_ih"].copy()
    b[H : 2 * H] = 60.0  # z = 1
    np.testing.assert_allclose(gru_cell(x, h, p["W_ih"], p["W_hh"], b, p["b_hh"]), h)
    b = p["b_ih"].copy()
    b[:H], b[H : 2 * H] = -60.0, -60.0  # r = 0, z = 0: h' = tanh(W_in x + b_in)
    expected = np.tanh(x @ p["W_ih"][2 * H :].T + p["b_ih"][2 * H :])
    got = gru_cell(x, h, p["W_ih"], p["W_hh"], b, p["b_hh"])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    got_other_h = gru_cell(x, h * 0 + 3.0, p["W_ih"], p["W_hh"], b, p["b_hh"])
    np.testing.assert_allclose(got_other_h, expected, atol=1e-12)


def test_cell_backward_matches_central_differences(inputs):
    x, h, p, rng = inputs
    dh = rng.standard_normal(h.shape)

    def loss():
        return float(np.sum(gru_cell(x, h, **p) * dh))

    _, cache = gru_cell_forward(x, h, **p)
    g = gru_cell_backward(dh, cache)
    for name, arr in [("dx", x), ("dh", h)] + [("d" + k, v) for k, v in p.items()]:
        assert relative_error(g[name], numerical_gradient(loss, arr, eps=1e-5)) < 1e-6, name


def test_time_gru_bptt_matches_central_differences():
    rng = np.random.default_rng(4)
    N, T, D, H = 2, 4, 3, 3
    p = {k: v * 2 for k, v in init_gru(D, H, rng).items()}
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    dhs = rng.standard_normal((N, T, H))
    dh_last = rng.standard_normal((N, H))

    def loss():
        hs = TimeGRU(**p).forward(xs, h0)
        return float(np.sum(hs * dhs) + np.sum(hs[:, -1] * dh_last))

    def num(arr):
        return numerical_gradient(loss, arr, eps=1e-5)

    gru = TimeGRU(**p)
    gru.forward(xs, h0)
    dxs = gru.backward(dhs, dh_last)
    assert relative_error(dxs, num(xs)) < 1e-6
    assert relative_error(gru.dh0, num(h0)) < 1e-6
    for k, v in p.items():
        assert relative_error(gru.grads[k], num(v)) < 1e-6, k


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    assert heat["y_labels"] == ["r0", "r1", "z0", "z1", "h0", "h1"]
    d = np.array(heat["data"])
    assert d.shape == (6, 10)
    r1, z0, h0, h1 = d[1], d[2], d[4], d[5]
    assert z0[1] < 0.01 and z0[8] < 0.01 and z0[2] > 0.99
    assert h0[5] == pytest.approx(math.tanh(1.2), rel=1e-2)  # written at t1, copied since
    assert h0[9] == pytest.approx(math.tanh(-1.0), rel=1e-2)
    assert r1[5] < 0.01 and abs(h1[5]) < 1e-2  # reset drops the running sum
    assert h1[3] > h1[2] > h1[1] > 0  # accumulates while r1 is open
    table = next(o for o in outputs if o["kind"] == "table")
    params = {row[0].split()[0]: row[1] for row in table["rows"]}
    assert params["LSTM"] / params["GRU"] == pytest.approx(4 / 3)
