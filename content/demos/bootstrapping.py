"""The bootstrap: resample the data with replacement to estimate a statistic's spread.

Sources: Efron (1979), Bootstrap Methods: Another Look at the Jackknife, Ann.
Statist. 7(1); Efron & Tibshirani (1993), An Introduction to the Bootstrap,
ch. 6 (the bootstrap estimate of standard error) and ch. 13 (percentile
confidence intervals); Breiman (1996), Bagging Predictors (bootstrap samples
to train an ensemble).

Given a sample x of size n and a statistic s(x):
    1. draw B resamples x*_b of size n from x *with replacement*;
    2. compute the replicates s(x*_b);
    3. SE_boot = std of the replicates (ddof=1);
       percentile interval = the alpha/2 and 1-alpha/2 quantiles of the replicates.
For the mean, as B -> infinity SE_boot tends to sigma_hat / sqrt(n) with the
plug-in sigma_hat^2 = (1/n) sum (x_i - mean)^2, i.e. s/sqrt(n) * sqrt((n-1)/n).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from studylog.demo import api as out

Statistic = Callable[..., np.ndarray]


def bootstrap_replicates(
    x: np.ndarray,
    statistic: Statistic = np.mean,
    n_resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The statistic on ``n_resamples`` resamples drawn with replacement.

    Args:
        x: the sample, shape (n,).
        statistic: a NumPy reduction taking ``axis=`` (``np.mean``, ``np.median``, ``np.std``).
        n_resamples: B.
        rng: the random generator (seeded ``default_rng(0)`` if omitted).

    Returns:
        the B replicates, shape (B,), float64.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    x = np.asarray(x, dtype=np.float64)
    idx = rng.integers(0, len(x), size=(n_resamples, len(x)))  # row b = indices of resample b
    return np.asarray(statistic(x[idx], axis=1), dtype=np.float64)


def bootstrap_se(replicates: np.ndarray) -> float:
    """Bootstrap standard error: the sample standard deviation (ddof=1) of the replicates."""
    return float(np.std(replicates, ddof=1))


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile confidence interval: the (1-level)/2 and (1+level)/2 quantiles of the replicates."""
    alpha = 1.0 - level
    lo, hi = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def standard_error_of_mean(x: np.ndarray) -> float:
    """The textbook s / sqrt(n) with the unbiased s (ddof=1)."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.std(x, ddof=1) / math.sqrt(len(x)))


def ideal_bootstrap_se_of_mean(x: np.ndarray) -> float:
    """The B -> infinity limit of the bootstrap SE of the mean: plug-in sigma_hat / sqrt(n) (ddof=0)."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.std(x, ddof=0) / math.sqrt(len(x)))


def distinct_fraction(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Fraction of the n original points present in each resample (expected 1 - (1 - 1/n)^n -> 0.632).

    The left-out ~36.8% are the "out-of-bag" points that bagging uses for validation.
    """
    idx = rng.integers(0, n, size=(n_resamples, n))
    present = np.zeros((n_resamples, n), dtype=bool)
    present[np.arange(n_resamples)[:, None], idx] = True
    return present.mean(axis=1)


def demo() -> None:
    rng = np.random.default_rng(0)
    n = 30
    # A skewed sample (e.g. response times in seconds), where the normal theory is shaky.
    x = rng.lognormal(mean=0.0, sigma=0.8, size=n)
    out.array("sample x (first 10 of n = 30, seconds)", np.round(x[:10], 3))

    B = 4000
    means = bootstrap_replicates(x, np.mean, B, rng)
    medians = bootstrap_replicates(x, np.median, B, rng)
    se = standard_error_of_mean(x)
    z = 1.959963984540054  # the 97.5% quantile of N(0, 1)
    out.table(
        f"bootstrap with B = {B} resamples vs normal theory",
        columns=["statistic", "estimate", "SE", "95% CI low", "95% CI high"],
        rows=[
            [
                "mean (s/sqrt(n), normal CI)",
                float(x.mean()),
                se,
                x.mean() - z * se,
                x.mean() + z * se,
            ],
            [
                "mean (bootstrap, percentile CI)",
                float(x.mean()),
                bootstrap_se(means),
                *percentile_interval(means),
            ],
            [
                "median (bootstrap, percentile CI)",
                float(np.median(x)),
                bootstrap_se(medians),
                *percentile_interval(medians),
            ],
        ],
    )
    out.text(
        "The median has no simple SE formula; the bootstrap gives one the same way as for the mean. "
        "For the skewed sample the bootstrap interval of the mean is not symmetric around the estimate."
    )

    sizes = [10, 20, 50, 100, 200, 500, 1000, 2000, 4000]
    out.line(
        "bootstrap SE of the mean vs number of resamples B",
        x=sizes,
        series={
            "bootstrap SE": [bootstrap_se(means[:b]) for b in sizes],
            "s/sqrt(n)": [se] * len(sizes),
            "limit sigma_hat/sqrt(n)": [ideal_bootstrap_se_of_mean(x)] * len(sizes),
        },
        x_title="B",
        y_title="SE (seconds)",
    )

    counts, edges = np.histogram(means, bins=12)
    out.line(
        "distribution of the bootstrap means (histogram)",
        x=np.round((edges[:-1] + edges[1:]) / 2, 3),
        series={"count": counts},
        x_title="mean of a resample (seconds)",
        y_title="resamples",
    )

    frac = distinct_fraction(n, 2000, rng)
    out.value("distinct original points per resample (average)", float(frac.mean()))
    out.value("expected 1 - (1 - 1/n)^n", 1 - (1 - 1 / n) ** n)
    out.text("Each resample leaves out about 1/e = 36.8% of the points: bagging's out-of-bag set.")
