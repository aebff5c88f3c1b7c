"""Data preprocessing: zero-centering, standardisation, min-max scaling and PCA/ZCA whitening.

Sources: LeCun, Bottou, Orr & Müller (1998), Efficient BackProp, §4.3
(normalizing the inputs: mean ~0, same covariance, decorrelated); CS231n
notes, "Neural Networks Part 2: Setting up the Data", Data Preprocessing
(mean subtraction, normalization, PCA and whitening; statistics from the
training set only).

All functions take a data matrix X of shape (N, D): N samples (rows), D
features (columns), float64. Statistics are per feature (axis 0). Fit them on
the training set and apply the *same* numbers to validation/test data.
"""

from __future__ import annotations

import numpy as np

from studylog.demo import api as out


def zero_center(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X - mean(X, axis=0). Returns (X_centered (N, D), mean (D,))."""
    mean = X.mean(axis=0)
    return X - mean, mean


def fit_standardizer(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (ddof=0) of the training data, each (D,)."""
    return X.mean(axis=0), X.std(axis=0)


def standardize(X: np.ndarray, mean: np.ndarray, std: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """z = (x - mean) / std per feature; ``eps`` guards a constant feature (std 0)."""
    return (X - mean) / np.maximum(std, eps)


def min_max_scale(
    X: np.ndarray, lo: float = 0.0, hi: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map each feature linearly onto [lo, hi]. Returns (scaled (N, D), xmin (D,), xmax (D,)).

    Sensitive to outliers: one extreme value squeezes all the others together.
    """
    xmin, xmax = X.min(axis=0), X.max(axis=0)
    span = np.where(xmax > xmin, xmax - xmin, 1.0)
    return lo + (X - xmin) / span * (hi - lo), xmin, xmax


def fit_pca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (D,), eigenvalues (D,) descending and eigenvectors (D, D) (columns) of the covariance.

    The covariance is (1/N) Xc^T Xc; its eigenvectors are the principal axes.
    """
    Xc, mean = zero_center(X)
    cov = Xc.T @ Xc / len(X)
    eigvals, eigvecs = np.linalg.eigh(cov)  # ascending for a symmetric matrix
    order = np.argsort(eigvals)[::-1]
    return mean, eigvals[order], eigvecs[:, order]


def pca_whiten(X: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Rotate onto the principal axes and divide each by its standard deviation: covariance -> I.

    x_white = (x - mean) U / sqrt(lambda + eps). ``eps`` keeps near-zero-variance
    directions (mostly noise) from being blown up.
    """
    mean, eigvals, U = fit_pca(X)
    return (X - mean) @ U / np.sqrt(eigvals + eps)


def zca_whiten(X: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """PCA whitening rotated back: x_zca = (x - mean) Sigma^{-1/2}, the whitened data closest to x."""
    mean, eigvals, U = fit_pca(X)
    W = U @ np.diag(1.0 / np.sqrt(eigvals + eps)) @ U.T
    return (X - mean) @ W


def covariance(X: np.ndarray) -> np.ndarray:
    """(1/N) Xc^T Xc, shape (D, D)."""
    Xc, _ = zero_center(X)
    return Xc.T @ Xc / len(X)


def gradient_descent_least_squares(
    X: np.ndarray, y: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit y ~ X w + b by gradient descent on the mean squared error with step 1/L.

    L is the largest eigenvalue of the Hessian H = (2/N) A^T A, A = [X, 1]. The
    error shrinks per step by about (1 - 1/kappa), kappa = cond(H), so the
    conditioning of the inputs decides the speed.

    Returns:
        (losses (steps + 1,), final parameters (D + 1,)).
    """
    A = np.hstack([X, np.ones((len(X), 1))])
    H = 2.0 / len(X) * A.T @ A
    lr = 1.0 / np.linalg.eigvalsh(H)[-1]
    theta = np.zeros(A.shape[1])
    losses = []
    for _ in range(steps + 1):
        r = A @ theta - y
        losses.append(float(np.mean(r**2)))
        theta = theta - lr * (2.0 / len(X) * A.T @ r)
    return np.array(losses), theta


def least_squares_optimum(X: np.ndarray, y: np.ndarray) -> float:
    """The smallest mean squared error of y ~ X w + b (solved directly, for reference)."""
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(np.mean((A @ theta - y) ** 2))


def hessian_condition_number(X: np.ndarray) -> float:
    """cond((2/N) A^T A) with A = [X, 1]: the least-squares problem's conditioning."""
    A = np.hstack([X, np.ones((len(X), 1))])
    ev = np.linalg.eigvalsh(2.0 / len(X) * A.T @ A)
    return float(ev[-1] / ev[0])


def make_study_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Toy data: hours studied (~5 h) and lecture minutes watched (~300 min), correlated; y = score."""
    hours = rng.normal(5.0, 1.5, size=n)
    minutes = 40.0 * hours + rng.normal(100.0, 40.0, size=n)
    X = np.stack([hours, minutes], axis=1)
    y = 6.0 * hours + 0.05 * minutes + 20.0 + rng.normal(0.0, 3.0, size=n)
    return X, y


def skewness(x: np.ndarray) -> np.ndarray:
    """Sample skewness E[(x - mean)^3] / std^3 per column (population moments), shape (D,).

    0 for a normal distribution, 2 for an exponential one; unchanged by any
    positive affine map a x + b (a > 0), so standardising cannot change it.
    """
    c = x - x.mean(axis=0)
    return (c**3).mean(axis=0) / (c**2).mean(axis=0) ** 1.5


def excess_kurtosis(x: np.ndarray) -> np.ndarray:
    """E[(x - mean)^4] / std^4 - 3 per column, shape (D,): 0 for a normal, 6 for an exponential."""
    c = x - x.mean(axis=0)
    return (c**4).mean(axis=0) / (c**2).mean(axis=0) ** 2 - 3.0


def demo() -> None:
    rng = np.random.default_rng(0)
    X, y = make_study_data(200, rng)
    mean, std = fit_standardizer(X)
    versions = {
        "raw": X,
        "zero-centered": zero_center(X)[0],
        "standardized": standardize(X, mean, std),
        "min-max [0, 1]": min_max_scale(X)[0],
        "PCA-whitened": pca_whiten(X),
    }
    rows = []
    for name, Z in versions.items():
        c = covariance(Z)
        corr = c[0, 1] / np.sqrt(c[0, 0] * c[1, 1])
        rows.append(
            [
                name,
                *(np.round(Z.mean(axis=0), 4) + 0.0).tolist(),
                *np.round(Z.std(axis=0), 4).tolist(),
                round(float(corr), 4) + 0.0,
            ]
        )
    out.table(
        "per-feature statistics (feature 0: hours studied, feature 1: lecture minutes)",
        columns=["version", "mean 0", "mean 1", "std 0", "std 1", "corr"],
        rows=rows,
    )
    out.array(
        "covariance after PCA whitening (should be I)", np.round(covariance(pca_whiten(X)), 6) + 0.0
    )

    # Why centering matters for a neuron z = w . x: dL/dw = (dL/dz) x, so if every x > 0
    # all components of one sample's gradient have the sign of dL/dz.
    g = rng.normal(size=len(X))  # some upstream gradients dL/dz
    grads_raw = g[:, None] * X
    grads_centered = g[:, None] * versions["standardized"]
    grads_white = g[:, None] * versions["PCA-whitened"]

    def mixed(G: np.ndarray) -> float:
        return float(np.mean(np.sign(G[:, 0]) != np.sign(G[:, 1])))

    out.table(
        "per-sample gradients dL/dw = (dL/dz) x: how often do the two components differ in sign?",
        columns=["inputs", "mixed-sign gradients"],
        rows=[
            ["raw (all x > 0)", mixed(grads_raw)],
            ["standardized (features still correlated)", mixed(grads_centered)],
            ["PCA-whitened (uncorrelated)", mixed(grads_white)],
        ],
    )
    out.text(
        "With all-positive inputs every per-sample step moves w0 and w1 in the same direction, "
        "so reaching a w with w0 up and w1 down takes a zig-zag."
    )

    steps = 60
    curves, conds = {}, {}
    best = least_squares_optimum(X, y)
    for name in ("raw", "standardized", "PCA-whitened"):
        losses, _ = gradient_descent_least_squares(versions[name], y, steps)
        curves[name] = np.maximum(losses - best, 1e-16)
        conds[name] = hessian_condition_number(versions[name])
    out.line(
        "gradient descent (step 1/L) on least squares: excess loss",
        x=list(range(steps + 1)),
        series=curves,
        x_title="step",
        y_title="loss - optimum (floored at 1e-16)",
        log_y=True,
    )
    out.table(
        "condition number of the Hessian",
        columns=["inputs", "cond(H)", f"excess loss after {steps} steps"],
        rows=[[k, conds[k], float(curves[k][-1])] for k in curves],
    )

    # Standardising is an affine map: the distribution's shape does not change.
    waits = np.random.default_rng(1).exponential(scale=5.0, size=(20_000, 1))  # e.g. minutes waited
    z = standardize(waits, *fit_standardizer(waits))
    logged = standardize(np.log(waits), *fit_standardizer(np.log(waits)))

    def moments(name: str, v: np.ndarray) -> list:
        return [
            name,
            round(float(v.mean()), 3),
            round(float(v.std()), 3),
            round(float(skewness(v)[0]), 3),
            round(float(excess_kurtosis(v)[0]), 3),
        ]

    out.table(
        "standardisation does not make data normal (20,000 exponential samples)",
        columns=["", "mean", "std", "skewness", "excess kurtosis"],
        rows=[
            moments("raw", waits),
            moments("standardised", z),
            ["a normal distribution", 0, 1, 0, 0],
            moments("log(raw), then standardised", logged),
        ],
    )
    out.text(
        "z = (x - mean) / std only moves and rescales: the mean becomes 0 and the std 1, but the "
        "skewness (about 2) and the kurtosis of the exponential are exactly those of the raw data. "
        "표준화 is not 정규분포화. A nonlinear transform changes the shape (log, Box-Cox, a quantile "
        "transform), and not always towards normal: the log of an exponential is skewed the other way."
    )
