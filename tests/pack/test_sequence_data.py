"""Sequence data: the chain rule on an exact joint table, autocorrelation, AR(1) k-step errors
against their closed form, and the demo's numbers."""

import itertools

import numpy as np
import pytest
from sequence_data import (
    autocorrelation,
    chain_rule_factors,
    demo,
    fit_ar1,
    free_running_mse,
    kstep_mse_theory,
    prediction_gap,
    simulate_ar1,
    teacher_forced_mse,
)

from studylog.demo import api as out


def test_chain_rule_factors_multiply_to_the_joint_for_every_sequence():
    rng = np.random.default_rng(0)
    joint = rng.random((3, 2, 4))
    joint /= joint.sum()
    for seq in itertools.product(range(3), range(2), range(4)):
        f = chain_rule_factors(joint, seq)
        assert np.prod(f) == pytest.approx(joint[seq], rel=1e-12)
        assert all(0 < v <= 1 for v in f)
    # first factor is the marginal, by hand
    assert chain_rule_factors(joint, (1, 0, 2))[0] == pytest.approx(joint[1].sum(), rel=1e-12)


def test_the_card_numbers():
    joint = np.array([0.20, 0.05, 0.10, 0.15, 0.05, 0.05, 0.10, 0.30]).reshape(2, 2, 2)
    assert chain_rule_factors(joint, (1, 1, 1)) == pytest.approx([0.5, 0.8, 0.75], rel=1e-12)


def test_autocorrelation_of_ar1_is_a_and_shuffling_removes_it():
    rng = np.random.default_rng(1)
    x = simulate_ar1(100_000, 0.9, 1.0, rng)
    # published property of AR(1): autocorrelation at lag k is a^k; stationary variance 1/(1-a^2)
    assert autocorrelation(x, 1) == pytest.approx(0.9, abs=0.01)
    assert autocorrelation(x, 3) == pytest.approx(0.729, abs=0.015)
    assert x.var() == pytest.approx(1 / (1 - 0.81), rel=0.05)
    assert abs(autocorrelation(rng.permutation(x), 1)) < 0.01
    # independent reference for the estimator: plain Python on a short series
    s = [1.0, 3.0, 2.0, 5.0, 4.0]
    m = sum(s) / 5
    num = sum((s[t] - m) * (s[t + 1] - m) for t in range(4))
    den = sum((v - m) ** 2 for v in s)
    assert autocorrelation(np.array(s), 1) == pytest.approx(num / den, rel=1e-13)


def test_fit_ar1_is_least_squares():
    x = np.array([1.0, 0.5, 0.3, -0.2, 0.1])
    grid = np.linspace(-1, 1, 200_001)
    sse = [np.sum((x[1:] - g * x[:-1]) ** 2) for g in grid[::100]]
    assert fit_ar1(x) == pytest.approx(grid[::100][int(np.argmin(sse))], abs=1e-3)
    assert teacher_forced_mse(x, fit_ar1(x)) <= teacher_forced_mse(x, fit_ar1(x) + 0.01)


def test_free_running_error_follows_the_closed_form():
    rng = np.random.default_rng(2)
    a, a_hat = 0.9, 0.8
    x = simulate_ar1(200_000, a, 1.0, rng)
    measured = free_running_mse(x, a_hat, 10)
    theory = [kstep_mse_theory(a, a_hat, 1.0, k) for k in range(1, 11)]
    np.testing.assert_allclose(measured, theory, rtol=0.03)
    assert kstep_mse_theory(a, a, 1.0, 1) == 1.0  # one step with the true a: just the noise
    gaps = prediction_gap(x, a, a_hat, 10)
    var = x.var()
    np.testing.assert_allclose(gaps, [(a**k - a_hat**k) ** 2 * np.mean(x**2) for k in range(1, 11)])
    assert gaps[4] / gaps[0] == pytest.approx((0.9**5 - 0.8**5) ** 2 / 0.01, rel=1e-9)
    assert gaps[0] == pytest.approx(0.01 * var, rel=0.01)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    ac = next(o for o in outputs if o["kind"] == "table")
    assert ac["rows"][1][1] == pytest.approx(0.9, abs=0.01) and abs(ac["rows"][1][2]) < 0.02
    a_hat = next(o for o in outputs if o["kind"] == "value")["value"]
    assert a_hat == pytest.approx(0.911, abs=5e-4)  # the text's number
    table = [o for o in outputs if o["kind"] == "table"][-1]
    gap = {r[0]: float(r[3]) for r in table["rows"]}
    assert gap[10] / gap[1] == pytest.approx(17, abs=0.6)  # the text: 17 times more at k = 10
    line = next(o for o in outputs if o["kind"] == "line")
    tf = line["series"]["teacher forcing: one step from the true past (â)"]
    free = line["series"]["free running with â (own predictions fed back)"]
    assert free[0] == pytest.approx(tf[0], rel=1e-12) and free[-1] > 5 * tf[0]
