import itertools
import math

import numpy as np
import pytest
from autoregressive_models import (
    binary_entropy,
    demo,
    fit_markov,
    fit_phase_model,
    latent_filter,
    markov_param_count,
    markov_predict,
    nll,
    phase_model,
    phase_oracle_nll,
    sample_sequence,
    sample_with_phases,
)

from studylog.demo import api as out


def brute_force_joint(seq, model):
    """p(x_1..x_T) by summing over every hidden path z_1..z_T (K^T of them)."""
    pi0, A, B = model
    K = len(pi0)
    total = 0.0
    for path in itertools.product(range(K), repeat=len(seq)):
        p = pi0[path[0]] * B[path[0], seq[0]]
        for t in range(1, len(seq)):
            p *= A[path[t - 1], path[t]] * B[path[t], seq[t]]
        total += p
    return total


def random_model(rng, K=3, V=2):
    def stochastic(shape):
        m = rng.random(shape) + 0.1
        return m / m.sum(axis=-1, keepdims=True)

    return stochastic(K), stochastic((K, K)), stochastic((K, V))


def test_latent_filter_predictions_multiply_to_the_exact_joint():
    # Chain rule: prod_t p(x_t | x_<t) = p(x_1..x_T), checked against brute-force path sums.
    rng = np.random.default_rng(0)
    for model in (random_model(rng), phase_model(0.1)):
        seq = rng.integers(0, 2, size=7)
        pred, states = latent_filter(seq, model)
        assert np.prod(pred[np.arange(7), seq]) == pytest.approx(
            brute_force_joint(seq, model), rel=1e-12
        )
        np.testing.assert_allclose(pred.sum(axis=1), 1.0, rtol=1e-13)
        np.testing.assert_allclose(states.sum(axis=1), 1.0, rtol=1e-13)


def test_latent_state_is_the_posterior_over_the_phase():
    # One 'a' means phase 0 or 1, so the next phase is 1 or 2. A second 'a' rules out 2
    # (it emits 'b'): the phases were 0, 1 and the next is 2, which emits 'b'.
    model = phase_model(0.0)
    seq = np.array([0, 0, 1, 1, 0])
    pred, states = latent_filter(seq, model)
    np.testing.assert_allclose(states[0], 0.25)
    np.testing.assert_allclose(states[1], [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(states[2], [0, 0, 1, 0])
    np.testing.assert_allclose(pred[2:, 1], [1, 1, 0])


def test_fit_markov_is_counting():
    seq = np.array([0, 0, 1, 0, 0, 0, 1])
    t1 = fit_markov(seq, 1, alpha=0.0)
    # Pairs: 00, 01, 10, 00, 00, 01 -> after 0: three 0s, two 1s; after 1: one 0.
    np.testing.assert_allclose(t1, [[3 / 5, 2 / 5], [1.0, 0.0]])
    t2 = fit_markov(seq, 2, alpha=0.0)
    # Triples: 001, 010, 100, 000, 001 -> context (0, 0): next 1, 0, 1.
    np.testing.assert_allclose(t2[0, 0], [1 / 3, 2 / 3])
    np.testing.assert_allclose(fit_markov(seq, 0, alpha=0.0), [5 / 7, 2 / 7])
    np.testing.assert_allclose(t2[1, 1], [0.5, 0.5])  # context (1, 1) never seen: uniform
    assert fit_markov(seq, 3).shape == (2, 2, 2, 2)


def test_markov_predict_uses_the_right_context():
    seq = np.array([0, 1, 1, 0])
    table = np.zeros((2, 2, 2))
    table[0, 1] = [0.1, 0.9]  # context (x_{t-2}, x_{t-1}) = (0, 1)
    table[1, 1] = [0.7, 0.3]
    pred = markov_predict(seq, table, 2)
    assert np.isnan(pred[:2]).all()
    np.testing.assert_allclose(pred[2], [0.1, 0.9])
    np.testing.assert_allclose(pred[3], [0.7, 0.3])


def test_first_order_markov_learns_nothing_on_aabb_but_the_latent_model_is_exact():
    rng = np.random.default_rng(1)
    model = phase_model(0.0)
    train, test = sample_sequence(4000, model, rng), sample_sequence(1000, model, rng)
    assert "".join("ab"[s] for s in test[:8]) in {"aabbaabb", "abbaabba", "bbaabbaa", "baabbaab"}
    m1 = nll(markov_predict(test, fit_markov(train, 1), 1), test, 8)
    m2 = nll(markov_predict(test, fit_markov(train, 2), 2), test, 8)
    latent = nll(latent_filter(test, model)[0], test, 8)
    assert m1 == pytest.approx(math.log(2), abs=1e-3)  # a coin flip
    assert m2 < 1e-3  # two steps back decides it (only the add-0.5 smoothing is left)
    assert latent == 0.0


def test_with_noise_the_latent_model_beats_every_fixed_window():
    rng = np.random.default_rng(2)
    eps = 0.05
    model = phase_model(eps)
    train, test = sample_sequence(20_000, model, rng), sample_sequence(20_000, model, rng)
    latent = nll(latent_filter(test, model)[0], test, 8)
    for order in range(1, 7):
        m = nll(markov_predict(test, fit_markov(train, order), order), test, 8)
        assert latent < m - 0.01
    # Once the phase is known the only uncertainty is the flip: H(eps) nats per symbol.
    assert latent == pytest.approx(binary_entropy(eps), abs=0.01)
    assert binary_entropy(eps) == pytest.approx(-(0.05 * math.log(0.05) + 0.95 * math.log(0.95)))


def test_sampler_follows_the_model():
    rng = np.random.default_rng(3)
    model = random_model(rng, K=3, V=3)
    seq = sample_sequence(60_000, model, rng)
    # Stationary symbol frequencies: the stationary phase distribution times B.
    pi0, A, B = model
    evals, evecs = np.linalg.eig(A.T)
    stat = np.real(evecs[:, np.argmin(np.abs(evals - 1))])
    stat /= stat.sum()
    freq = np.bincount(seq, minlength=3) / len(seq)
    np.testing.assert_allclose(freq, stat @ B, atol=0.01)


def test_parameter_counts():
    assert [markov_param_count(k) for k in range(5)] == [1, 2, 4, 8, 16]
    assert markov_param_count(2, V=10) == 900


def test_fit_phase_model_is_the_maximum_likelihood_eps():
    # Independent reference: the exact log-likelihood of the whole text under phase_model(eps),
    # from the chain rule (the filter's predictions multiply to p(x), tested above), maximised
    # over a fine grid of eps.
    rng = np.random.default_rng(4)
    seq = sample_sequence(600, phase_model(0.1), rng)
    _, eps_hat = fit_phase_model(seq)
    grid = np.linspace(0.05, 0.2, 1501)
    loglik = [
        np.sum(np.log(latent_filter(seq, phase_model(e))[0][np.arange(600), seq])) for e in grid
    ]
    assert eps_hat == pytest.approx(grid[int(np.argmax(loglik))], abs=1e-4)
    # A clean text gives eps -> 0 (clipped at 1e-9).
    assert fit_phase_model(sample_sequence(200, phase_model(0.0), rng))[1] == 1e-9


def test_the_oracle_is_h_eps_on_average_and_below_it_with_fewer_flips():
    rng = np.random.default_rng(6)
    seq, z = sample_with_phases(200_000, phase_model(0.05), rng)
    assert phase_oracle_nll(seq, z, 0.05, 0) == pytest.approx(binary_entropy(0.05), abs=2e-3)
    # A text with exactly 4 flips in 100 scores -(0.04 ln 0.05 + 0.96 ln 0.95), below H(0.05).
    z = np.arange(100) % 4
    x = (z >= 2).astype(int)
    x[[3, 30, 60, 90]] ^= 1
    expected = -(0.04 * math.log(0.05) + 0.96 * math.log(0.95))
    assert phase_oracle_nll(x, z, 0.05, 0) == pytest.approx(expected, rel=1e-12)
    assert expected < binary_entropy(0.05)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    table = next(o for o in outputs if o["kind"] == "table")
    rows = {(r[0], r[1]): r[3] for r in table["rows"]}
    latent = "latent (4-state belief, eps fitted)"
    assert rows[("Markov, order 1", 0.0)] == pytest.approx(math.log(2), abs=1e-3)
    assert rows[(latent, 0.0)] < 1e-8
    noisy_markov = [
        v for (name, eps), v in rows.items() if name.startswith("Markov") and eps == 0.05
    ]
    oracle = next(
        v for (name, _), v in rows.items() if name.startswith("told the true phase (this")
    )
    # The text's claims: within 0.001 of the told-the-phase model, every order >= 0.048 above,
    # and on this test text that model scores below the expected H(0.05) = 0.199.
    assert abs(rows[(latent, 0.05)] - oracle) < 1e-3
    assert min(noisy_markov) - rows[(latent, 0.05)] > 0.048
    assert oracle == pytest.approx(0.183, abs=5e-4) and oracle < binary_entropy(0.05)
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    states = np.array(heat["data"])
    assert states.shape == (4, 12)
    np.testing.assert_allclose(states[:, 0], 0.25)
    assert np.all(states[:, 2:].max(axis=0) == 1.0)  # certain after two symbols
    line = next(o for o in outputs if o["kind"] == "line")
    np.testing.assert_allclose(
        line["series"]["latent"][1:], line["series"]["actual x_t is 'a'"][1:]
    )
    np.testing.assert_allclose(line["series"]["Markov order 1"], 0.5, atol=0.01)
