import math

import numpy as np
import pytest
from common import numerical_gradient
from generative_models import (
    GMM,
    TRUE_MODEL,
    demo,
    fit_gaussian,
    fit_gmm,
    log_likelihood,
    log_pdf,
    m_step,
    responsibilities,
    sample,
)

from studylog.demo import api as out


def scalar_mixture_pdf(x, gmm):
    """sum_k pi_k N(x | mu_k, sigma_k^2) with math.exp, one point at a time."""
    total = 0.0
    for w, m, s in zip(gmm.weights, gmm.means, gmm.stds, strict=True):
        total += w * math.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    return total


def test_log_pdf_matches_the_formula_pointwise():
    xs = np.array([-10.0, 0.0, 60.0, 120.0, 250.0])
    got = log_pdf(xs, TRUE_MODEL)
    for x, g in zip(xs, got, strict=True):
        assert g == pytest.approx(math.log(scalar_mixture_pdf(x, TRUE_MODEL)), rel=1e-12)


def test_log_pdf_survives_far_tails():
    # exp(-0.5 * 100^2) underflows to 0, log-sum-exp does not.
    g = GMM(np.array([0.5, 0.5]), np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    v = log_pdf(np.array([100.0]), g)[0]
    assert np.isfinite(v)
    assert v == pytest.approx(-0.5 * 99**2 - 0.5 * math.log(2 * math.pi) + math.log(0.5), rel=1e-6)


def test_density_integrates_to_one():
    grid = np.linspace(-200.0, 500.0, 70001)
    p = np.exp(log_pdf(grid, TRUE_MODEL))
    assert np.sum(p) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-6)


def test_responsibilities_are_bayes_rule():
    x = np.array([100.0, 40.0])
    gamma = responsibilities(x, TRUE_MODEL)
    np.testing.assert_allclose(gamma.sum(axis=1), 1.0, rtol=1e-14)
    w, m, s = TRUE_MODEL.weights, TRUE_MODEL.means, TRUE_MODEL.stds
    joint = [w[k] * math.exp(-0.5 * ((100.0 - m[k]) / s[k]) ** 2) / s[k] for k in range(2)]
    assert gamma[0, 0] == pytest.approx(joint[0] / sum(joint), rel=1e-12)


def test_single_component_em_is_the_closed_form_mle():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=500)
    g = m_step(x, np.ones((500, 1)))
    assert g.means[0] == pytest.approx(sum(x) / 500, rel=1e-12)
    assert g.stds[0] == pytest.approx(
        math.sqrt(sum((v - x.mean()) ** 2 for v in x) / 500), rel=1e-12
    )
    assert g.weights[0] == 1.0
    mle = fit_gaussian(x)
    assert mle.means[0] == pytest.approx(g.means[0]) and mle.stds[0] == pytest.approx(g.stds[0])


def test_em_never_decreases_the_log_likelihood():
    rng = np.random.default_rng(1)
    x = sample(TRUE_MODEL, 300, rng)
    init = GMM(np.array([0.2, 0.3, 0.5]), np.array([0.0, 100.0, 200.0]), np.full(3, 50.0))
    _, history = fit_gmm(x, init, n_iter=150, tol=0.0)
    assert len(history) == 151
    assert np.all(np.diff(history) >= -1e-9)
    assert history[-1] > history[0] + 50


def test_em_recovers_the_true_parameters_from_many_samples():
    rng = np.random.default_rng(2)
    x = sample(TRUE_MODEL, 20_000, rng)
    init = GMM(np.array([0.5, 0.5]), np.array([50.0, 150.0]), np.full(2, 60.0))
    g, _ = fit_gmm(x, init, n_iter=500)
    np.testing.assert_allclose(g.weights, TRUE_MODEL.weights, atol=0.01)
    np.testing.assert_allclose(g.means, TRUE_MODEL.means, atol=1.5)
    np.testing.assert_allclose(g.stds, TRUE_MODEL.stds, atol=1.5)


def test_em_fixed_point_is_a_stationary_point_of_the_likelihood():
    # At convergence the gradient of ln p(X) w.r.t. the means and log-stds is ~0,
    # checked by central differences on the log-likelihood, not by EM's own formulas.
    rng = np.random.default_rng(3)
    x = sample(TRUE_MODEL, 400, rng)
    init = GMM(np.array([0.5, 0.5]), np.array([50.0, 150.0]), np.full(2, 60.0))
    g, _ = fit_gmm(x, init, n_iter=2000, tol=0.0)
    means, log_stds = g.means.copy(), np.log(g.stds)

    def ll():
        return log_likelihood(x, GMM(g.weights, means, np.exp(log_stds)))

    scale = len(x)
    assert np.max(np.abs(numerical_gradient(ll, means, eps=1e-4))) / scale < 1e-6
    assert np.max(np.abs(numerical_gradient(ll, log_stds, eps=1e-5))) / scale < 1e-6


def test_samples_have_the_mixture_moments():
    rng = np.random.default_rng(4)
    n = 200_000
    s = sample(TRUE_MODEL, n, rng)
    w, m, sd = TRUE_MODEL.weights, TRUE_MODEL.means, TRUE_MODEL.stds
    mean = float(np.sum(w * m))
    var = float(np.sum(w * (sd**2 + m**2)) - mean**2)
    assert s.mean() == pytest.approx(mean, abs=4 * math.sqrt(var / n))
    assert s.var() == pytest.approx(var, rel=0.01)
    # Fraction below the midpoint between the modes ~ pi_0 * Phi(3) + pi_1 * Phi(-1.5).

    def phi(z):
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    expected = w[0] * phi((120 - m[0]) / sd[0]) + w[1] * phi((120 - m[1]) / sd[1])
    assert np.mean(s < 120) == pytest.approx(expected, abs=0.005)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    lines = [o for o in outputs if o["kind"] == "line"]
    ll = lines[0]["series"]["ln p(X)"]
    assert np.all(np.diff(ll) >= -1e-9)
    density = lines[1]
    assert len(density["x"]) == len(density["series"]["data (histogram)"]) == 19
    dx = density["x"][1] - density["x"][0]
    assert sum(density["series"]["data (histogram)"]) * dx == pytest.approx(1.0, abs=0.01)
    tables = {o["label"]: o for o in outputs if o["kind"] == "table"}
    params = tables["fitted parameters (one entry per component)"]["rows"][1]
    np.testing.assert_allclose([float(v) for v in params[2].split(",")], [60, 180], atol=6)
    ll_rows = {
        r[0]: r for r in tables["average log-likelihood per point (higher is better)"]["rows"]
    }
    assert ll_rows["GMM K=2"][2] > ll_rows["single Gaussian"][2] + 0.2
    samples = next(t for label, t in tables.items() if label.startswith("data vs"))
    data_row, gmm_row, gauss_row = samples["rows"]
    assert abs(gmm_row[4] - data_row[4]) < 0.03 < abs(gauss_row[4] - data_row[4])
    assert gauss_row[3] > 0.03 > gmm_row[3]
