"""Workload simulation: fsrs-rs's review simulator, day by day on arrays, with existing cards.

fsrs-rs's ``simulate`` (``src/simulation.rs``, ``simulate_inner``) plays a
collection forward: each day the cards due are answered (remembered with
probability R, then Again or a rating drawn from the learner's own button
use), relearning and learning steps add their cost, new cards are introduced
up to the daily limit, and each card gets its next interval for the desired
retention. ``fsrs-rs-python`` (0.9.3) only simulates a deck of new cards, but
Anki's workload estimate starts from the learner's existing cards
(``rslib/src/scheduler/fsrs/simulator.rs``), so this module runs the same
rules on NumPy arrays, one day at a time, with existing cards. It is checked
against fsrs-rs's own ``simulate`` (tests/test_fsrs_simulate.py).

The rules, as fsrs-rs's:

- on each day, review cards are answered before new cards; a card whose
  review would exceed the review limit moves to the next day, the hardest
  first (fsrs-rs orders reviews by its priority function; Anki passes the
  deck's review order, studylog's is by due date);
- a review: R = (1 + F t / S)^-w20 with t = due - last review (an overdue
  existing card is scored at its due date, as fsrs-rs does); forgotten with
  probability 1 - R (Again: post-lapse stability, then the relearning steps),
  otherwise Hard/Good/Easy with the learner's probabilities;
- same-day steps (learning after a first answer, relearning after a lapse):
  ratings follow a Markov chain estimated from the learner's same-day answers,
  until the last step is passed (``step_count`` consecutive passes) or Easy,
  at most 5 steps; each applies FSRS-6's short-term stability;
- cost (seconds) of every answer from the learner's mean answer time per
  state and rating; memorised cards on a day = sum of R over every learned
  card (1 for a card answered that day);
- next interval = round(S / F ((r_d)^(1/-w20) - 1)), clipped to [1, max].

:func:`extract_config` is fsrs-rs's ``extract_simulator_config``: rating
probabilities, step transitions and answer costs from the review log, each
smoothed towards fsrs-rs's defaults with weight n / (50 + n).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from studylog.scheduling.training import EntryKind, ReviewHistory

S_MIN, S_MAX = 0.001, 36500.0
D_MIN, D_MAX = 1.0, 10.0
MAX_STEPS = 5  # fsrs-rs: at most 5 same-day steps
LEARNING, REVIEW, RELEARNING = 0, 1, 2  # rows of the cost and transition tables
_MAX_TAKEN_MS = 1_200_000  # fsrs-rs ignores answer times of 20 minutes or more

# fsrs-rs's SimulatorConfig::default()
DEFAULT_FIRST_RATING_PROB = (0.24, 0.094, 0.495, 0.171)
DEFAULT_REVIEW_RATING_PROB = (0.224, 0.631, 0.145)
DEFAULT_LEARNING_TRANSITIONS = (
    (0.3686, 0.0628, 0.5108, 0.0577),
    (0.0442, 0.4553, 0.4457, 0.0549),
    (0.0519, 0.047, 0.8462, 0.055),
)
DEFAULT_RELEARNING_TRANSITIONS = (
    (0.2157, 0.0643, 0.6595, 0.0604),
    (0.05, 0.4638, 0.4475, 0.0387),
    (0.1057, 0.1434, 0.7266, 0.0244),
)
DEFAULT_COSTS = (
    (19.58, 18.79, 13.78, 10.71),
    (19.38, 17.59, 12.38, 8.94),
    (16.44, 15.25, 12.32, 8.03),
)


@dataclass(frozen=True)
class SimulatorConfig:
    """The learner's habits and the limits the simulation runs with.

    Attributes:
        first_rating_prob: P(Again, Hard, Good, Easy) of a new card's first answer.
        review_rating_prob: P(Hard, Good, Easy) of a remembered review.
        learning_transitions, relearning_transitions: (3, 4): P(next rating | rating
            1-3) of the next same-day step.
        costs: (3, 4) seconds per answer by state (learning, review, relearning) and rating.
        learning_steps, relearning_steps: same-day steps to pass.
        learn_limit: new cards per day; review_limit: reviews per day.
        new_ignores_review_limit: new cards do not count against the review limit.
        max_interval: days.
        suspend_after_lapses: a card stops being reviewed at this many lapses (None: never).
    """

    first_rating_prob: tuple[float, ...] = DEFAULT_FIRST_RATING_PROB
    review_rating_prob: tuple[float, ...] = DEFAULT_REVIEW_RATING_PROB
    learning_transitions: tuple[tuple[float, ...], ...] = DEFAULT_LEARNING_TRANSITIONS
    relearning_transitions: tuple[tuple[float, ...], ...] = DEFAULT_RELEARNING_TRANSITIONS
    costs: tuple[tuple[float, ...], ...] = DEFAULT_COSTS
    learning_steps: int = 2
    relearning_steps: int = 1
    learn_limit: int = 20
    review_limit: int = 9999
    new_ignores_review_limit: bool = True
    max_interval: int = 36500
    suspend_after_lapses: int | None = None


def _lerp(value: np.ndarray, default: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return weight * value + (1 - weight) * default


def _transitions(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """fsrs-rs ``calculate_transitions``: Markov matrix (4x4) of same-day ratings, Laplace 1."""
    counts = np.zeros((4, 4))
    for seq in sequences:
        for a, b in zip(seq[:-1], seq[1:], strict=True):
            counts[a - 1, b - 1] += 1
    raw = counts.copy()
    counts += 1.0
    return counts / counts.sum(axis=1, keepdims=True), raw


def extract_config(
    history: ReviewHistory, duration_ms: np.ndarray, next_day_at_ms: int, **limits: object
) -> SimulatorConfig:
    """The learner's rating probabilities, step transitions and answer costs (fsrs-rs's
    ``extract_simulator_config`` with ``smooth = true``), plus ``limits`` as given.

    Only answers with a known time under 20 minutes count. Answers of a card on
    one study day form a same-day sequence; its first answer's kind and rating
    give the button use, and sequences starting with a learning answer (or
    with Again on a review card) give the learning (relearning) transitions.
    """
    taken = np.nan_to_num(np.asarray(duration_ms, dtype=np.float64), nan=0.0)
    ok = (taken > 0) & (taken < _MAX_TAKEN_MS) & (history.ratings > 0)
    kinds = np.where(
        np.isin(history.kinds, (EntryKind.MANUAL, EntryKind.RESCHEDULED, EntryKind.RESET)),
        EntryKind.MANUAL,
        np.where(history.kinds == EntryKind.CRAM, EntryKind.FILTERED, history.kinds),
    )
    if not len(history):
        return replace(SimulatorConfig(), **limits)  # type: ignore[arg-type]
    h = history.take(np.flatnonzero(ok))
    kind, taken = kinds[ok], taken[ok]

    # mean answer time per (state, rating), smoothed towards the defaults
    costs = np.zeros((3, 4))
    counts = np.zeros((3, 4))
    for state in range(3):
        for rating in range(1, 5):
            sel = (kind == state) & (h.ratings == rating)
            n = int(sel.sum())
            if n:
                costs[state, rating - 1] = float(np.floor(taken[sel].sum() / n)) / 1000.0
                counts[state, rating - 1] = n
    costs = np.round(_lerp(costs, np.array(DEFAULT_COSTS), counts / (50 + counts)), 2)

    # same-day sequences per card (fsrs-rs: (id secs - cutoff) / 86400, truncated)
    real_day = np.trunc((h.times_ms // 1000 - next_day_at_ms // 1000) / 86400).astype(np.int64)
    order = np.lexsort((h.review_ids, h.times_ms, real_day, h.card_ids))
    card, day = h.card_ids[order], real_day[order]
    ratings, kind = h.ratings[order], kind[order]
    if card.size:
        starts = np.flatnonzero(np.r_[True, (card[1:] != card[:-1]) | (day[1:] != day[:-1])])
    else:
        starts = np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], card.size].astype(np.int64) if card.size else starts
    first_state = kind[starts] + 1
    first_rating = ratings[starts]

    def usage(state: int) -> np.ndarray:
        sel = first_state == state
        return np.bincount(first_rating[sel], minlength=5)[1:5].astype(np.float64)

    learn = usage(1)
    if not learn.any():
        learn = np.ones(4)
    review = usage(2)
    if not review[1:].any():
        review = np.r_[review[0], 1.0, 1.0, 1.0]
    first_prob = _lerp(
        learn / learn.sum(), np.array(DEFAULT_FIRST_RATING_PROB), learn.sum() / (50 + learn.sum())
    )
    rest = review[1:]
    review_prob = _lerp(
        rest / rest.sum(), np.array(DEFAULT_REVIEW_RATING_PROB), rest.sum() / (50 + rest.sum())
    )

    seqs_learn = [
        ratings[s:e].tolist() for s, e, st in zip(starts, ends, first_state, strict=True) if st == 1
    ]
    seqs_relearn = [
        ratings[s:e].tolist()
        for s, e, st, r in zip(starts, ends, first_state, first_rating, strict=True)
        if st == 2 and r == 1
    ]

    def smoothed(seqs: list[list[int]], default: tuple[tuple[float, ...], ...]) -> tuple:
        matrix, raw = _transitions(seqs)
        out = []
        for row in range(3):
            total = raw[row].sum() + 4.0  # fsrs-rs counts the smoothed totals
            w = total / (50 + total)
            out.append(tuple(_lerp(matrix[row], np.array(default[row]), w).tolist()))
        return tuple(out)

    return replace(
        SimulatorConfig(
            first_rating_prob=tuple(first_prob.tolist()),
            review_rating_prob=tuple(review_prob.tolist()),
            learning_transitions=smoothed(seqs_learn, DEFAULT_LEARNING_TRANSITIONS),
            relearning_transitions=smoothed(seqs_relearn, DEFAULT_RELEARNING_TRANSITIONS),
            costs=tuple(tuple(r) for r in costs.tolist()),
        ),
        **limits,  # type: ignore[arg-type]
    )


# --- FSRS-6 on arrays (fsrs-rs simulation.rs's formulas) ------------------------------------


def _bound(x: np.ndarray, low: float, high: float) -> np.ndarray:
    # np.clip costs more than the arithmetic on the small daily arrays
    return np.minimum(np.maximum(x, low), high)


class _Model:
    def __init__(self, w: tuple[float, ...]) -> None:
        self.w = np.asarray(w, dtype=np.float64)
        self.decay = -self.w[20]
        self.factor = 0.9 ** (1 / self.decay) - 1
        w8 = self.w
        self.e_w8 = np.exp(w8[8])
        self.forget_div = np.exp(w8[17] * w8[18])
        self.d_target = w8[4] - np.exp(w8[5] * 3) + 1
        ratings = np.arange(5, dtype=np.float64)
        self.short_factor = np.exp(w8[17] * (ratings - 3.0 + w8[18]))  # by rating 0-4
        self.d_delta = -w8[6] * (ratings - 3.0)
        self.bonus = np.where(ratings == 2, w8[15], np.where(ratings == 4, w8[16], 1.0))

    def retention(self, t: np.ndarray, s: np.ndarray) -> np.ndarray:
        x = self.factor * t / s
        np.log1p(x, out=x)
        x *= self.decay
        return np.exp(x, out=x)

    def interval(self, s: np.ndarray, r: float) -> np.ndarray:
        return s / self.factor * (r ** (1 / self.decay) - 1)

    def init_d(self, rating: np.ndarray) -> np.ndarray:
        w = self.w
        return w[4] - np.exp(w[5] * (rating - 1)) + 1

    def next_d(self, d: np.ndarray, rating: np.ndarray) -> np.ndarray:
        w7 = self.w[7]
        new_d = d + (10.0 - d) / 9.0 * self.d_delta[rating]
        return _bound(w7 * self.d_target + (1 - w7) * new_d, D_MIN, D_MAX)

    def success(self, s, r, d, rating):  # noqa: ANN001, ANN201
        w = self.w
        inc = self.e_w8 * (11.0 - d) * s ** (-w[9]) * (np.exp((1.0 - r) * w[10]) - 1.0)
        return _bound(s * (inc * self.bonus[rating] + 1.0), S_MIN, S_MAX)

    def failure(self, s, r, d):  # noqa: ANN001, ANN201
        w = self.w
        new_s = w[11] * d ** (-w[12]) * ((s + 1.0) ** w[13] - 1.0) * np.exp((1.0 - r) * w[14])
        return _bound(np.minimum(new_s, s / self.forget_div), S_MIN, S_MAX)

    def short_term(self, s, rating):  # noqa: ANN001, ANN201
        sinc = self.short_factor[rating] * s ** (-self.w[19])
        return _bound(s * np.where(rating >= 3, np.maximum(sinc, 1.0), sinc), S_MIN, S_MAX)


def _cdf(probs: np.ndarray) -> np.ndarray:
    """Cumulative weights along the last axis, normalised (for :func:`_draw`)."""
    p = np.asarray(probs, dtype=np.float64)
    c = np.cumsum(p, axis=-1)
    return c / c[..., -1:]


def _draw(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """Draws of 1..k: one per row of ``cdf`` (n, k), or n draws from one ``cdf`` (k,) as (n,)."""
    u = rng.random(cdf.shape[0] if cdf.ndim == 2 else 1)
    if cdf.ndim == 1:
        raise ValueError("use _draw_n for a single distribution")
    return (u[:, None] >= cdf[:, :-1]).sum(axis=1) + 1


def _draw_n(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """n draws of 1..k from one distribution (``cdf`` of shape (k,))."""
    return np.searchsorted(cdf[:-1], rng.random(n), side="right") + 1


def _steps(
    model: _Model,
    rng: np.random.Generator,
    s: np.ndarray,
    d: np.ndarray,
    rating: np.ndarray,
    transitions_cdf: np.ndarray,
    costs: np.ndarray,
    step_count: int,
    first_counted: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """fsrs-rs ``memory_state_short_term`` for many cards: the same-day steps.

    ``transitions_cdf``: (3, 4) cumulative P(next rating | rating 1-3).
    """
    s, d, rating = s.copy(), d.copy(), rating.copy()
    cost = costs[rating - 1] if first_counted else np.zeros(s.shape)
    consecutive = np.zeros(s.shape, dtype=np.int64)
    limit = np.where(rating > 2, max(step_count - 1, 0), step_count)
    for _ in range(MAX_STEPS):
        idx = np.flatnonzero((consecutive < limit) & (rating < 4))
        if not idx.size:
            break
        nxt = _draw(rng, transitions_cdf[rating[idx] - 1])
        s[idx] = model.short_term(s[idx], nxt)
        d[idx] = model.next_d(d[idx], nxt)
        cost[idx] += costs[nxt - 1]
        c = consecutive[idx]
        consecutive[idx] = np.where(nxt > 2, c + 1, np.where(nxt == 1, 0, c))
        rating[idx] = nxt
    return _bound(s, S_MIN, S_MAX), _bound(d, D_MIN, D_MAX), cost


@dataclass(frozen=True)
class ExistingCards:
    """Cards already learned, relative to today (day 0).

    Attributes:
        stability: days; difficulty: 1-10 (float64, shape (n,)).
        last_day: the day of the last review (<= 0).
        due_day: the day the card is due (may be < 0: overdue).
        lapses: int64.
    """

    stability: np.ndarray
    difficulty: np.ndarray
    last_day: np.ndarray
    due_day: np.ndarray
    lapses: np.ndarray

    @classmethod
    def empty(cls) -> ExistingCards:
        z = np.zeros(0)
        return cls(z, z, z, z, np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.stability.shape[0])


@dataclass(frozen=True)
class Simulation:
    """Per day (shape (days,)): reviews, new cards, cost in seconds, sum of R, reviews passed."""

    reviews: np.ndarray
    learned: np.ndarray
    cost_s: np.ndarray
    memorized: np.ndarray
    correct: np.ndarray
    retention: float = field(default=0.9)

    @property
    def minutes(self) -> np.ndarray:
        return self.cost_s / 60.0


def simulate(
    params: tuple[float, ...],
    desired_retention: float,
    config: SimulatorConfig,
    *,
    days: int,
    new_cards: int,
    existing: ExistingCards | None = None,
    seed: int = 42,
    track_memorized: bool = True,
) -> Simulation:
    """Play the collection forward ``days`` days (see the module docstring).

    Args:
        params: the 21 FSRS-6 parameters.
        desired_retention: in (0, 1).
        config: habits and limits (:func:`extract_config`).
        days: days to simulate (>= 1).
        new_cards: cards not yet learned, introduced ``config.learn_limit`` a day.
        existing: learned cards (due days relative to today).
        seed: the random seed (results are reproducible).
        track_memorized: compute memorised cards every day (else only on the last).
    Returns:
        :class:`Simulation`.

    Cost: O(cards) a day: a scan for the cards due, and the memorised count.
    """
    model = _Model(params)
    rng = np.random.default_rng(seed)
    ex = existing if existing is not None else ExistingCards.empty()
    keep = ex.stability > 1e-9
    n_old = int(keep.sum())
    n_new = new_cards if config.learn_limit > 0 else 0
    s = np.r_[ex.stability[keep], np.full(n_new, np.nan)]
    d = np.r_[ex.difficulty[keep], np.full(n_new, np.nan)]
    last = np.r_[ex.last_day[keep].astype(np.float64), np.full(n_new, -np.inf)]
    due = np.r_[ex.due_day[keep].astype(np.float64), np.full(n_new, np.inf)]
    lapses = np.r_[ex.lapses[keep], np.zeros(n_new, dtype=np.int64)].astype(np.int64)
    max_lapses = config.suspend_after_lapses if config.suspend_after_lapses is not None else 1 << 62
    first_cdf = _cdf(config.first_rating_prob)
    review_cdf = _cdf(config.review_rating_prob)
    learn_tr = _cdf(config.learning_transitions)
    relearn_tr = _cdf(config.relearning_transitions)
    costs = np.asarray(config.costs)

    out_reviews = np.zeros(days, dtype=np.int64)
    out_learned = np.zeros(days, dtype=np.int64)
    out_cost = np.zeros(days)
    out_mem = np.zeros(days)
    out_correct = np.zeros(days, dtype=np.int64)

    # the study day each card is due (fsrs-rs: `due as usize`, so overdue ones today);
    # a scan of this int array per day is cheaper than keeping buckets in Python
    due_day = np.full(due.shape, np.iinfo(np.int64).max, dtype=np.int64)
    due_day[:n_old] = np.maximum(np.floor(due[:n_old]), 0)
    next_new = n_old  # new cards are introduced in order
    limit = max(config.learn_limit, 1)
    for day in range(days):
        # reviews first, easiest (lowest difficulty) first, as fsrs-rs's default priority
        todays = np.flatnonzero(due_day == day)
        todays = todays[lapses[todays] < max_lapses]
        if todays.size > config.review_limit:
            order = todays[np.argsort((d[todays] * 100).astype(np.int64), kind="stable")]
            todays, later = order[: config.review_limit], order[config.review_limit :]
            due[later] = day + 1.0
            due_day[later] = day + 1
        if todays.size:
            i = todays
            r = model.retention(due[i] - last[i], s[i])
            forget = rng.random(i.size) >= r
            rating = np.where(forget, 1, _draw_n(rng, review_cdf, i.size) + 1)
            new_s = model.success(s[i], r, d[i], rating)
            new_d = model.next_d(d[i], rating)
            cost = costs[REVIEW][rating - 1]
            f = np.flatnonzero(forget)
            if f.size:
                fs = model.failure(s[i][f], r[f], d[i][f])
                fd = model.next_d(d[i][f], np.ones(f.size, dtype=np.int64))
                fs, fd, fc = _steps(
                    model,
                    rng,
                    fs,
                    fd,
                    np.ones(f.size, dtype=np.int64),
                    relearn_tr,
                    costs[RELEARNING],
                    config.relearning_steps,
                    first_counted=False,
                )
                new_s[f], new_d[f] = fs, fd
                cost = cost.copy()
                cost[f] += fc
            lapses[i] += forget
            out_reviews[day] = i.size
            out_correct[day] = int((~forget).sum())
            out_cost[day] += float(cost.sum())
            s[i], d[i] = new_s, new_d
            ivl = _bound(np.rint(model.interval(new_s, desired_retention)), 1, config.max_interval)
            last[i] = day
            due[i] = day + ivl
            due_day[i] = day + ivl.astype(np.int64)
        # new cards: in order, those whose turn has come, within today's allowance
        allowance = config.learn_limit
        if not config.new_ignores_review_limit:
            allowance = min(allowance, config.review_limit - int(out_reviews[day]))
        available = n_old + min((day + 1) * limit, n_new)
        take = max(min(allowance, available - next_new), 0)
        if take:
            fresh = np.arange(next_new, next_new + take, dtype=np.int64)
            next_new += take
            first = _draw_n(rng, first_cdf, take)
            fs = model.w[first - 1].copy()
            fd = _bound(model.init_d(first), D_MIN, D_MAX)
            fs, fd, fc = _steps(
                model,
                rng,
                fs,
                fd,
                first,
                learn_tr,
                costs[LEARNING],
                config.learning_steps,
                first_counted=True,
            )
            s[fresh], d[fresh] = fs, fd
            out_learned[day] = take
            out_cost[day] += float(fc.sum())
            ivl = _bound(np.rint(model.interval(fs, desired_retention)), 1, config.max_interval)
            last[fresh] = day
            due[fresh] = day + ivl
            due_day[fresh] = day + ivl.astype(np.int64)
        # memorised: sum of R of every learned card today
        if track_memorized or day == days - 1:
            out_mem[day] = float(model.retention(day - last[:next_new], s[:next_new]).sum())
    return Simulation(out_reviews, out_learned, out_cost, out_mem, out_correct, desired_retention)


OPTIMAL_RETENTION_RANGE = (0.70, 0.95)  # fsrs-rs searches it; Anki clamps its answer to it


def _fsrs_rs_inputs(
    params: tuple[float, ...],
    config: SimulatorConfig,
    *,
    days: int,
    new_cards: int,
    existing: ExistingCards,
    desired_retention: float,
) -> tuple[object, list[object]]:
    """fsrs-rs's SimulatorConfig and cards for the same simulation, built as Anki builds
    them (``simulate_request_to_config``: new cards as cards with stability 1e-8)."""
    import fsrs_rs_python as fsrs_rs

    w = list(params)
    cards = []
    keep = np.flatnonzero(existing.stability > 1e-9)
    for i in keep.tolist():
        card = fsrs_rs.Card()
        card.id = i
        card.stability = float(existing.stability[i])
        card.difficulty = float(existing.difficulty[i])
        card.last_date = float(existing.last_day[i])
        card.due = float(existing.due_day[i])
        card.interval = float(max(existing.due_day[i] - existing.last_day[i], 1))
        card.lapses = int(existing.lapses[i])
        card.desired_retention = desired_retention
        card.parameters = w
        cards.append(card)
    limit = max(config.learn_limit, 1)
    for i in range(new_cards if config.learn_limit > 0 else 0):
        card = fsrs_rs.Card()
        card.id = -i - 1
        card.stability = 1e-8  # not filtered out by fsrs-rs; a new card
        card.due = float(i // limit)
        card.desired_retention = desired_retention
        card.parameters = w
        cards.append(card)
    rs = fsrs_rs.default_simulator_config()
    rs.deck_size = max(len(cards), 1)
    rs.learn_span = days
    rs.max_cost_perday = 3.0e38  # no time limit per day (Anki: f32::MAX)
    rs.max_ivl = float(config.max_interval)
    rs.first_rating_prob = list(config.first_rating_prob)
    rs.review_rating_prob = list(config.review_rating_prob)
    rs.learning_step_transitions = [list(r) for r in config.learning_transitions]
    rs.relearning_step_transitions = [list(r) for r in config.relearning_transitions]
    rs.state_rating_costs = [list(r) for r in config.costs]
    rs.learning_step_count = config.learning_steps
    rs.relearning_step_count = config.relearning_steps
    rs.learn_limit = config.learn_limit
    rs.review_limit = config.review_limit
    rs.new_cards_ignore_review_limit = config.new_ignores_review_limit
    rs.suspend_after_lapses = config.suspend_after_lapses
    return rs, cards


def optimal_retention(
    params: tuple[float, ...],
    config: SimulatorConfig,
    *,
    days: int,
    new_cards: int,
    existing: ExistingCards | None = None,
) -> float:
    """fsrs-rs's optimal retention for this collection, clamped to 0.70-0.95 (as Anki).

    fsrs-rs simulates the same collection at candidate retentions (Brent's
    method over 0.70-0.95, 16 runs each for a year) and returns the one with
    the least time spent per memorised card at the end (its default target:
    total cost / memorised cards on the last day).
    """
    import fsrs_rs_python as fsrs_rs

    rs, cards = _fsrs_rs_inputs(
        params,
        config,
        days=days,
        new_cards=new_cards,
        existing=existing if existing is not None else ExistingCards.empty(),
        desired_retention=0.9,
    )
    low, high = OPTIMAL_RETENTION_RANGE
    if not cards:
        return 0.9
    value = fsrs_rs.optimal_retention(rs, list(params), cards)
    return float(min(max(value, low), high))
