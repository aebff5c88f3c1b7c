import math

import numpy as np
import pytest
from bootstrapping import (
    bootstrap_replicates,
    bootstrap_se,
    demo,
    distinct_fraction,
    ideal_bootstrap_se_of_mean,
    percentile_interval,
    standard_error_of_mean,
)

from studylog.demo import api as out


def test_replicates_are_statistics_of_resamples_drawn_from_the_data():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    reps = bootstrap_replicates(x, np.mean, 500, np.random.default_rng(0))
    assert reps.shape == (500,)
    assert reps.min() >= 1.0 and reps.max() <= 16.0
    # Every replicate is a mean of 5 values from x, so 5 * mean is a sum of 5 data values:
    # an integer here. (A resample *without* replacement would always give exactly 31.)
    np.testing.assert_allclose(5 * reps, np.round(5 * reps), atol=1e-12)
    assert len(np.unique(reps)) > 20


def test_se_of_mean_approaches_the_analytic_value():
    rng = np.random.default_rng(1)
    x = rng.normal(10.0, 3.0, size=50)
    reps = bootstrap_replicates(x, np.mean, 40_000, np.random.default_rng(2))
    se_boot = bootstrap_se(reps)
    # Exact limit: plug-in sigma_hat / sqrt(n), computed here from its definition.
    n = len(x)
    ideal = math.sqrt(sum((v - x.mean()) ** 2 for v in x) / n) / math.sqrt(n)
    assert ideal_bootstrap_se_of_mean(x) == pytest.approx(ideal, rel=1e-12)
    # Monte Carlo error of an SD estimate from B draws is about 1/sqrt(2B) = 0.35%.
    assert se_boot == pytest.approx(ideal, rel=0.015)
    # And s/sqrt(n) differs from that only by sqrt(n/(n-1)) = 1.0102.
    assert se_boot == pytest.approx(standard_error_of_mean(x), rel=0.025)
    assert standard_error_of_mean(x) / ideal == pytest.approx(math.sqrt(n / (n - 1)), rel=1e-12)


def test_se_converges_as_b_grows():
    rng = np.random.default_rng(3)
    x = rng.exponential(size=40)
    ideal = ideal_bootstrap_se_of_mean(x)
    errs = []
    for b in (50, 50_000):
        reps = bootstrap_replicates(x, np.mean, b, np.random.default_rng(4))
        errs.append(abs(bootstrap_se(reps) / ideal - 1))
    assert errs[1] < 0.02 and errs[1] < errs[0]


def test_bootstrap_median_matches_the_exact_binomial_distribution():
    # Efron (1979): for odd n and distinct values, the bootstrap median is <= x_(k)
    # iff at least m = (n+1)/2 of the n draws are <= x_(k), which is Binomial(n, k/n).
    rng = np.random.default_rng(5)
    n = 15
    m = (n + 1) // 2
    x = np.sort(rng.normal(size=n))

    def p_at_most(k):
        p = k / n
        return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(m, n + 1))

    exact = np.array([p_at_most(k) - p_at_most(k - 1) for k in range(1, n + 1)])
    assert exact.sum() == pytest.approx(1.0)

    reps = bootstrap_replicates(x, np.median, 40_000, np.random.default_rng(6))
    observed = np.array([(reps == v).mean() for v in x])
    assert np.max(np.abs(observed - exact)) < 0.01

    exact_mean = float(np.sum(exact * x))
    exact_se = math.sqrt(float(np.sum(exact * (x - exact_mean) ** 2)))
    assert bootstrap_se(reps) == pytest.approx(exact_se, rel=0.02)


def test_percentile_interval_is_the_quantiles():
    reps = np.arange(1, 1001, dtype=float)  # 1..1000
    lo, hi = percentile_interval(reps, 0.9)
    assert lo == pytest.approx(50.95) and hi == pytest.approx(950.05)


def test_percentile_interval_coverage_is_near_nominal():
    # 300 normal samples with known mean 0: about 95% of the intervals should contain it.
    rng = np.random.default_rng(7)
    covered = 0
    trials = 300
    for _ in range(trials):
        x = rng.normal(size=40)
        lo, hi = percentile_interval(bootstrap_replicates(x, np.mean, 500, rng), 0.95)
        covered += lo <= 0.0 <= hi
    assert 0.90 <= covered / trials <= 0.98


def test_distinct_fraction_matches_one_minus_one_minus_one_over_n_to_the_n():
    rng = np.random.default_rng(8)
    for n in (5, 30, 200):
        frac = distinct_fraction(n, 4000, rng)
        assert frac.mean() == pytest.approx(1 - (1 - 1 / n) ** n, abs=0.005)
    assert 1 - (1 - 1 / 200) ** 200 == pytest.approx(1 - 1 / math.e, abs=0.001)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    table = next(o for o in outputs if o["kind"] == "table")
    normal, boot_mean, boot_median = table["rows"]
    assert boot_mean[2] == pytest.approx(normal[2], rel=0.05)
    assert boot_mean[3] < boot_mean[1] < boot_mean[4]
    assert boot_median[3] < boot_median[1] < boot_median[4]
    # Right-skewed data: the upper half of the bootstrap interval is longer.
    assert boot_mean[4] - boot_mean[1] > boot_mean[1] - boot_mean[3]
    lines = [o for o in outputs if o["kind"] == "line"]
    se_curve = lines[0]["series"]
    assert se_curve["bootstrap SE"][-1] == pytest.approx(
        se_curve["limit sigma_hat/sqrt(n)"][0], rel=0.03
    )
    assert sum(lines[1]["series"]["count"]) == 4000
    values = {o["label"]: o["value"] for o in outputs if o["kind"] == "value"}
    assert values["distinct original points per resample (average)"] == pytest.approx(
        values["expected 1 - (1 - 1/n)^n"], abs=0.01
    )
