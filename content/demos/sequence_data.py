"""Sequential vs i.i.d. data, the chain rule of probability, teacher forcing and exposure bias.

* i.i.d. data: p(x_1..x_T) = prod_t p(x_t); shuffling changes nothing.
* sequential data: p(x_1..x_T) = prod_t p(x_t | x_1..x_{t-1}) (the chain rule, exact for
  any distribution); shuffling destroys the dependence (the autocorrelation drops to ~0).
* teacher forcing: during training every step is predicted from the TRUE past;
  at generation the model must feed back its OWN predictions, which it never saw
  during training (exposure bias), so errors compound with the horizon.

The running example is the AR(1) process x_t = a x_{t-1} + e_t, e_t ~ N(0, sigma^2),
and a model a_hat fitted by least squares on a short training series. Its k-step
free-running prediction is a_hat^k x_t; the true conditional mean is a^k x_t, so

    E[(x_{t+k} - a_hat^k x_t)^2] = sigma^2 (1 - a^(2k)) / (1 - a^2) + (a^k - a_hat^k)^2 Var(x),
    Var(x) = sigma^2 / (1 - a^2)     (the stationary variance).

Sources: 밑바닥부터 시작하는 딥러닝 2, ch. 5.1 (확률과 언어 모델: the chain rule, the Markov
assumption); Zhang, Lipton, Li & Smola, Dive into Deep Learning, "Working with Sequences"
(§9.1 in the 2023 edition: autoregressive models and k-step-ahead prediction);
Williams & Zipser (1989), A Learning Algorithm for Continually Running Fully Recurrent
Neural Networks (teacher forcing); Bengio, Vinyals, Jaitly & Shazeer (2015), Scheduled
Sampling for Sequence Prediction with Recurrent Neural Networks; Ranzato, Chopra,
Auli & Zaremba (2016), Sequence Level Training with Recurrent Neural Networks (the
term "exposure bias").
"""

from __future__ import annotations

import numpy as np

from studylog.demo import api as out


def autocorrelation(x: np.ndarray, lag: int) -> float:
    """Sample autocorrelation of a 1-D series at ``lag`` >= 1 (mean-centred, biased estimator)."""
    c = x - x.mean()
    return float(np.dot(c[:-lag], c[lag:]) / np.dot(c, c))


def chain_rule_factors(joint: np.ndarray, seq: tuple[int, ...]) -> list[float]:
    """p(x_1), p(x_2 | x_1), ..., p(x_T | x_<T) for ``seq`` under a joint table.

    Args:
        joint: probabilities of every sequence, shape (V,) * T, summing to 1.
        seq: one sequence of T symbols.

    Returns:
        the T conditional probabilities; their product is joint[seq] exactly (up to rounding).
    """
    T = joint.ndim
    factors = []
    for t in range(T):
        # marginal of the first t+1 symbols: sum out the rest
        upto = joint.sum(axis=tuple(range(t + 1, T))) if t + 1 < T else joint
        prev = upto.sum(axis=t)
        factors.append(float(upto[seq[: t + 1]] / (prev[seq[:t]] if t else 1.0)))
    return factors


def simulate_ar1(T: int, a: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """x_t = a x_{t-1} + N(0, sigma^2), started from the stationary distribution; shape (T,)."""
    x = np.empty(T)
    x[0] = rng.normal(scale=sigma / np.sqrt(1 - a * a))
    noise = rng.normal(scale=sigma, size=T)
    for t in range(1, T):
        x[t] = a * x[t - 1] + noise[t]
    return x


def fit_ar1(x: np.ndarray) -> float:
    """Least-squares a_hat = sum x_t x_{t-1} / sum x_{t-1}^2 (teacher forcing: true inputs)."""
    return float(np.dot(x[1:], x[:-1]) / np.dot(x[:-1], x[:-1]))


def teacher_forced_mse(x: np.ndarray, a_hat: float) -> float:
    """Mean squared one-step error when every prediction reads the true previous value."""
    return float(np.mean((x[1:] - a_hat * x[:-1]) ** 2))


def free_running_mse(x: np.ndarray, a_hat: float, horizon: int) -> np.ndarray:
    """MSE of k-step predictions a_hat^k x_t that feed back their own output, k = 1..horizon.

    Every t is a start: the model sees x_t, then only its own predictions. Shape (horizon,).
    """
    T = len(x)
    return np.array([np.mean((x[k:] - a_hat**k * x[: T - k]) ** 2) for k in range(1, horizon + 1)])


def prediction_gap(x: np.ndarray, a: float, a_hat: float, horizon: int) -> np.ndarray:
    """mean_t (a_hat^k x_t - a^k x_t)^2 for k = 1..horizon: the model's k-step prediction vs
    the best possible one (the true conditional mean). Shape (horizon,); no noise term."""
    return np.array([np.mean(((a_hat**k - a**k) * x) ** 2) for k in range(1, horizon + 1)])


def kstep_mse_theory(a: float, a_hat: float, sigma: float, k: int) -> float:
    """The expected k-step free-running MSE of the AR(1) model (formula in the module docstring)."""
    var_x = sigma**2 / (1 - a * a)
    return sigma**2 * (1 - a ** (2 * k)) / (1 - a * a) + (a**k - a_hat**k) ** 2 * var_x


def demo() -> None:
    rng = np.random.default_rng(0)
    a, sigma = 0.9, 1.0
    seq = simulate_ar1(20_000, a, sigma, rng)
    iid = rng.normal(scale=seq.std(), size=seq.size)
    shuffled = rng.permutation(seq)
    out.table(
        "is the order information? lag-1 autocorrelation",
        columns=["data", "in order", "shuffled"],
        rows=[
            [
                "i.i.d. draws (coin flips, photos)",
                round(autocorrelation(iid, 1), 3),
                round(autocorrelation(rng.permutation(iid), 1), 3),
            ],
            [
                f"AR(1) series x_t = {a} x_(t-1) + noise",
                round(autocorrelation(seq, 1), 3),
                round(autocorrelation(shuffled, 1), 3),
            ],
        ],
    )
    out.text(
        "Shuffling i.i.d. data changes nothing; shuffling a sequence destroys what made it a "
        "sequence. The values are the same, only the order differs, and for sequential data "
        "the order is information."
    )

    # The chain rule on a tiny joint distribution over 3 binary symbols.
    joint = np.array([0.20, 0.05, 0.10, 0.15, 0.05, 0.05, 0.10, 0.30]).reshape(2, 2, 2)
    s = (1, 1, 1)
    f = chain_rule_factors(joint, s)
    out.table(
        "chain rule: p(1, 1, 1) = p(x1=1) · p(x2=1 | x1=1) · p(x3=1 | x1=1, x2=1)",
        columns=["factor", "value"],
        rows=[
            ["p(x1 = 1)", round(f[0], 4)],
            ["p(x2 = 1 | x1 = 1)", round(f[1], 4)],
            ["p(x3 = 1 | x1 = 1, x2 = 1)", round(f[2], 4)],
            ["product", round(float(np.prod(f)), 4)],
            ["joint table p(1, 1, 1)", joint[s]],
        ],
    )

    # Teacher forcing vs free running.
    train = simulate_ar1(60, a, sigma, rng)  # a short training series: a_hat is a bit off
    a_hat = fit_ar1(train)
    horizon = 20
    free = free_running_mse(seq, a_hat, horizon)
    free_true = free_running_mse(seq, a, horizon)
    ks = list(range(1, horizon + 1))
    out.value("â fitted with teacher forcing on 60 steps (true a = 0.9)", round(a_hat, 4))
    out.line(
        "prediction error vs steps fed back",
        x=ks,
        series={
            "teacher forcing: one step from the true past (â)": [teacher_forced_mse(seq, a_hat)]
            * horizon,
            "free running with the true a (new noise every step)": free_true,
            "free running with â (own predictions fed back)": free,
        },
        x_title="k (steps ahead)",
        y_title="mean squared error",
    )
    gaps = prediction_gap(seq, a, a_hat, horizon)
    out.table(
        "the model's own error: its k-step prediction minus the best one, a^k x_t",
        columns=[
            "k",
            "free running with â",
            "with the true a",
            "mean (â^k x_t - a^k x_t)²",
            "theory (a^k - â^k)² Var(x)",
        ],
        rows=[
            [
                k,
                round(float(free[k - 1]), 4),
                round(float(free_true[k - 1]), 4),
                f"{gaps[k - 1]:.2e}",
                f"{kstep_mse_theory(a, a_hat, sigma, k) - kstep_mse_theory(a, a, sigma, k):.2e}",
            ]
            for k in (1, 5, 10, 20)
        ],
    )
    out.text(
        "Trained with teacher forcing, the model only ever predicted one step from the true "
        "past, where its error is small and â looks as good as a. At generation it reads its "
        "own outputs. Two things then grow with the horizon: the noise of every future step, "
        "which no model can know (the true a has it too), and the model's own error, which "
        f"feeding back multiplies: here {gaps[9] / gaps[0]:.0f} times larger at k = 10 than at k = 1. "
        "That "
        "mismatch between training on true inputs and running on its own is exposure bias; in "
        "a nonlinear model such as an RNN writing text, one early mistake can lead into states "
        "it never saw in training. Scheduled sampling (Bengio et al. 2015) feeds the model's own "
        "predictions during training, more and more often."
    )
