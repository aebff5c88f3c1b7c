import math

import numpy as np
import pytest
from data_preprocessing import (
    covariance,
    demo,
    fit_pca,
    fit_standardizer,
    gradient_descent_least_squares,
    hessian_condition_number,
    least_squares_optimum,
    make_study_data,
    min_max_scale,
    pca_whiten,
    standardize,
    zca_whiten,
    zero_center,
)

from studylog.demo import api as out


@pytest.fixture
def data():
    return make_study_data(300, np.random.default_rng(0))


def test_zero_center_and_standardize_moments(data):
    X, _ = data
    Xc, mean = zero_center(X)
    np.testing.assert_allclose(Xc.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(mean, [sum(X[:, j]) / len(X) for j in range(2)], rtol=1e-12)
    mu, sd = fit_standardizer(X)
    Z = standardize(X, mu, sd)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)
    # Population std (ddof=0), written out.
    col = X[:, 1]
    assert sd[1] == pytest.approx(math.sqrt(sum((v - col.mean()) ** 2 for v in col) / len(col)))


def test_test_data_uses_training_statistics(data):
    X, _ = data
    train, test = X[:200], X[200:]
    mu, sd = fit_standardizer(train)
    Zt = standardize(test, mu, sd)
    np.testing.assert_allclose(Zt, (test - train.mean(axis=0)) / train.std(axis=0))
    # Not re-fitted on the test set, so its mean is near, but not exactly, zero.
    assert np.all(np.abs(Zt.mean(axis=0)) > 1e-6)


def test_constant_feature_does_not_divide_by_zero():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    Z = standardize(X, *fit_standardizer(X))
    assert np.all(np.isfinite(Z)) and np.all(Z[:, 1] == 0)
    S, _, _ = min_max_scale(X)
    assert np.all(S[:, 1] == 0)


def test_min_max_range(data):
    X, _ = data
    S, xmin, xmax = min_max_scale(X)
    np.testing.assert_allclose(S.min(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(S.max(axis=0), 1.0)
    S2, _, _ = min_max_scale(X, -1.0, 1.0)
    np.testing.assert_allclose(S2.min(axis=0), -1.0)
    np.testing.assert_allclose(S2.max(axis=0), 1.0)
    np.testing.assert_allclose(S2, 2 * S - 1, atol=1e-12)


def test_pca_eigenvalues_match_the_2x2_closed_form(data):
    X, _ = data
    _, eigvals, U = fit_pca(X)
    (a, b), (_, c) = covariance(X)
    half_gap = math.sqrt(((a - c) / 2) ** 2 + b**2)
    np.testing.assert_allclose(
        eigvals, [(a + c) / 2 + half_gap, (a + c) / 2 - half_gap], rtol=1e-10
    )
    np.testing.assert_allclose(U.T @ U, np.eye(2), atol=1e-12)


def test_whitening_gives_identity_covariance(data):
    X, _ = data
    for W in (pca_whiten(X, eps=0.0), zca_whiten(X, eps=0.0)):
        np.testing.assert_allclose(covariance(W), np.eye(2), atol=1e-10)
        np.testing.assert_allclose(W.mean(axis=0), 0.0, atol=1e-10)


def test_zca_matrix_is_the_inverse_square_root_from_the_2x2_formula(data):
    # For a 2x2 SPD matrix M, sqrt(M) = (M + sqrt(det M) I) / sqrt(tr M + 2 sqrt(det M)).
    X, _ = data
    M = covariance(X)
    s = math.sqrt(np.linalg.det(M))
    sqrt_m = (M + s * np.eye(2)) / math.sqrt(np.trace(M) + 2 * s)
    np.testing.assert_allclose(sqrt_m @ sqrt_m, M, rtol=1e-10)
    expected = (X - X.mean(axis=0)) @ np.linalg.inv(sqrt_m)
    np.testing.assert_allclose(zca_whiten(X, eps=0.0), expected, rtol=1e-8, atol=1e-10)


def test_standardized_condition_number_matches_correlation_formula(data):
    # With centered, unit-variance features the Hessian is 2 * [[1, r, 0], [r, 1, 0], [0, 0, 1]],
    # eigenvalues 2(1 + r), 2(1 - r), 2: the condition number is (1 + |r|) / (1 - |r|).
    X, _ = data
    Z = standardize(X, *fit_standardizer(X))
    x0, x1 = X[:, 0], X[:, 1]
    r = sum((x0 - x0.mean()) * (x1 - x1.mean())) / math.sqrt(
        sum((x0 - x0.mean()) ** 2) * sum((x1 - x1.mean()) ** 2)
    )
    assert hessian_condition_number(Z) == pytest.approx((1 + abs(r)) / (1 - abs(r)), rel=1e-9)
    assert hessian_condition_number(X) > 1000 * hessian_condition_number(Z)
    assert hessian_condition_number(pca_whiten(X, eps=0.0)) == pytest.approx(1.0, rel=1e-9)


def test_gradient_descent_speed_follows_conditioning(data):
    X, y = data
    best = least_squares_optimum(X, y)
    # Independent optimum: the normal equations.
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    assert best == pytest.approx(float(np.mean((A @ theta - y) ** 2)), rel=1e-9)

    raw, _ = gradient_descent_least_squares(X, y, 50)
    std, _ = gradient_descent_least_squares(standardize(X, *fit_standardizer(X)), y, 50)
    white, _ = gradient_descent_least_squares(pca_whiten(X, eps=0.0), y, 1)
    assert np.all(np.diff(raw) <= 1e-9) and np.all(np.diff(std) <= 1e-9)  # monotone with step 1/L
    assert raw[-1] - best > 1.0  # still far away after 50 steps
    assert std[-1] - best < 1e-3
    # H = 2I after whitening, so one step of size 1/L = 1/2 lands on the optimum.
    assert white[1] == pytest.approx(best, rel=1e-9)


def test_all_positive_inputs_give_same_sign_weight_gradients(data):
    X, _ = data
    assert np.all(X > 0)
    g = np.random.default_rng(1).normal(size=len(X))
    G = g[:, None] * X
    assert np.all(np.sign(G[:, 0]) == np.sign(G[:, 1]))


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    stats = outputs[0]["rows"]
    by_name = {row[0]: row for row in stats}
    assert by_name["standardized"][1:5] == [0.0, 0.0, 1.0, 1.0]
    assert by_name["PCA-whitened"][5] == 0.0
    assert by_name["raw"][2] > 100
    np.testing.assert_allclose(outputs[1]["data"], np.eye(2), atol=1e-6)
    signs = next(o for o in outputs if o["kind"] == "table" and "sign" in o["label"])
    assert signs["rows"][0][1] == 0.0 and 0.35 < signs["rows"][2][1] < 0.65
    (line,) = [o for o in outputs if o["kind"] == "line"]
    assert line["log_y"] is True
    assert line["series"]["raw"][-1] > 1.0 > 1e-3 > line["series"]["standardized"][-1]
    conds = next(o for o in outputs if o.get("label") == "condition number of the Hessian")["rows"]
    assert conds[0][1] > 1e5 and conds[2][1] == pytest.approx(1.0, rel=1e-6)


def test_standardisation_keeps_the_shape_of_the_distribution():
    from data_preprocessing import excess_kurtosis, fit_standardizer, skewness, standardize

    rng = np.random.default_rng(9)
    x = rng.exponential(scale=3.0, size=(200_000, 1))
    z = standardize(x, *fit_standardizer(x))
    assert abs(z.mean()) < 1e-12 and z.std() == pytest.approx(1.0, rel=1e-12)
    # Exponential: skewness 2, excess kurtosis 6 (published moments); unchanged by standardising.
    assert skewness(x)[0] == pytest.approx(2.0, abs=0.05)
    assert excess_kurtosis(x)[0] == pytest.approx(6.0, abs=0.5)
    assert skewness(z)[0] == pytest.approx(skewness(x)[0], rel=1e-9)
    assert excess_kurtosis(z)[0] == pytest.approx(excess_kurtosis(x)[0], rel=1e-9)
    # Independent reference for the moment formulas, in plain Python on a small sample.
    small = [1.0, 2.0, 2.0, 3.0, 9.0]
    m = sum(small) / 5
    m2 = sum((v - m) ** 2 for v in small) / 5
    m3 = sum((v - m) ** 3 for v in small) / 5
    m4 = sum((v - m) ** 4 for v in small) / 5
    arr = np.array(small)[:, None]
    assert skewness(arr)[0] == pytest.approx(m3 / m2**1.5, rel=1e-13)
    assert excess_kurtosis(arr)[0] == pytest.approx(m4 / m2**2 - 3, rel=1e-13)
    # A normal sample has skewness ~0: the statistic itself does not make things skewed.
    assert abs(skewness(rng.standard_normal((200_000, 1)))[0]) < 0.02


def test_demo_shows_the_same_skewness_before_and_after():
    with out.collect() as outputs:
        demo()
    table = next(
        o for o in outputs if o["kind"] == "table" and "not make data normal" in o["label"]
    )
    rows = {r[0]: r for r in table["rows"]}
    assert rows["standardised"][1:3] == [0.0, 1.0]
    assert rows["standardised"][3] == rows["raw"][3] == pytest.approx(2.0, abs=0.1)
    assert rows["log(raw), then standardised"][3] < -1.0  # log overshoots: skewed the other way
