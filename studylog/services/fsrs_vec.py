"""Whole-collection FSRS-6 in NumPy: retrievability of every card, and replaying histories.

The per-card reference is the ``fsrs`` package (py-fsrs 6.x, ``fsrs.Scheduler``);
this module evaluates the same formulas on arrays so that a collection of
100,000 cards is handled in one pass instead of 100,000 Python calls. Factors
that depend on the parameters and the rating only are computed with Python
floats exactly as the package does (bit-identical); the rest follows the
package's operation order with NumPy's pow/exp/log1p, so results agree card by
card to ~1e-14 (tests check 1e-9 with hypothesis). The learning-step state
machine is a lookup table built from the package's own rules.

FSRS-6 (Ye, Su, Cao: "A Stochastic Shortest Path Algorithm for Optimizing
Spaced Repetition Scheduling", KDD 2022, extended as FSRS-6 in the
open-spaced-repetition wiki "The Algorithm"), parameters w[0..20]:

- retrievability  R(t, S) = (1 + F * t / S) ** -w20,  F = 0.9 ** (1 / -w20) - 1,
  t = whole days elapsed (floor), so R(S, S) = 0.9;
- next interval   I = round(S / F * (r_d ** (1 / -w20) - 1)), clipped to [1, max];
- stability after a pass / a lapse / a same-day review and the difficulty
  update: :func:`_recall_stability`, :func:`_forget_stability`,
  :func:`_short_term_stability`, :func:`_next_difficulty`.

Times are ``int64`` microseconds since the Unix epoch (UTC), so that the
package's ``timedelta.days`` (a floor) is reproduced exactly; :data:`NO_TIME`
marks "never". Steps use ``-1`` for ``None``.

Fuzz: the package draws ``random.random()``; studylog instead draws a
deterministic uniform number from (card id, reps) (:func:`fuzz_unit`), as Anki
seeds its fuzz, so that the interval previewed on an answer button is exactly
the interval the answer gives. The fuzz *range* is the package's.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import chain

import fsrs
import numpy as np
from sqlalchemy.orm import Session

from studylog.storage.engine import Database

DAY_US = 86_400_000_000
NO_TIME = np.iinfo(np.int64).min
NO_STEP = -1
LEARNING, REVIEW, RELEARNING = 1, 2, 3
STABILITY_MIN = 0.001
MIN_DIFFICULTY, MAX_DIFFICULTY = 1.0, 10.0
# The settings key of the statistics' per-day cache (studylog.services.stats): it
# holds aggregates of review rows, so whatever rewrites review rows drops it.
STATS_CACHE_KEY = "stats.daily_cache"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FLOAT_DAYS_LIMIT = 100_000 * DAY_US
_US = timedelta(microseconds=1)
_MASK64 = (1 << 64) - 1


def to_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (exact)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}")
    return (moment - _EPOCH) // _US


def from_us(us: int) -> datetime | None:
    """Integer microseconds since the epoch as an aware UTC datetime (None for NO_TIME)."""
    if us == NO_TIME:
        return None
    return _EPOCH + timedelta(microseconds=int(us))


def us_sql(column: str) -> str:
    """SQL for a ``UTCDateTime`` column as integer microseconds since the epoch.

    SQLAlchemy stores SQLite datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff`` text;
    whole seconds go through ``unixepoch`` and the six fraction digits are added
    as an integer, so the value is exact (``julianday`` keeps only milliseconds).
    NULL stays NULL.
    """
    return (
        f"(unixepoch(substr({column}, 1, 19)) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"
    )


@dataclass(frozen=True)
class Params:
    """Everything the FSRS computation needs, as plain numbers.

    Attributes:
        w: the 21 FSRS-6 parameters.
        desired_retention: target recall probability in (0, 1).
        learning_steps: learning steps (timedelta), e.g. (1 min, 10 min).
        relearning_steps: relearning steps (timedelta), e.g. (10 min,).
        maximum_interval: longest interval in days.
        enable_fuzzing: whether Review intervals get fuzz.
    """

    w: tuple[float, ...]
    desired_retention: float = 0.9
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval: int = 36500
    enable_fuzzing: bool = False

    @classmethod
    def from_scheduler(
        cls, scheduler: fsrs.Scheduler, *, enable_fuzzing: bool | None = None
    ) -> Params:
        """The parameters of a package scheduler (fuzzing as given, else the scheduler's)."""
        return cls(
            w=tuple(float(x) for x in scheduler.parameters),
            desired_retention=float(scheduler.desired_retention),
            learning_steps=tuple(scheduler.learning_steps),
            relearning_steps=tuple(scheduler.relearning_steps),
            maximum_interval=int(scheduler.maximum_interval),
            enable_fuzzing=scheduler.enable_fuzzing if enable_fuzzing is None else enable_fuzzing,
        )

    @property
    def decay(self) -> float:
        """The FSRS-6 decay, -w[20] (negative)."""
        return -self.w[20]

    @property
    def factor(self) -> float:
        """F = 0.9 ** (1 / decay) - 1, so that R(t=S) = 0.9."""
        return 0.9 ** (1 / self.decay) - 1


# --- deterministic fuzz ---------------------------------------------------------------

_FUZZ_RANGES = ((2.5, 7.0, 0.15), (7.0, 20.0, 0.1), (20.0, math.inf, 0.05))


def fuzz_unit(card_id: int, reps: int) -> float:
    """A uniform number in [0, 1) determined by (card id, reps after the answer).

    SplitMix64 (Steele et al., OOPSLA 2014) of a mix of both numbers; replaces
    the package's ``random()`` so a card's fuzz is reproducible.
    """
    x = (card_id * 0x9E3779B97F4A7C15 + reps * 0xD1B54A32D192ED03 + 0x94D049BB133111EB) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    x ^= x >> 31
    return (x >> 11) * 2.0**-53


def fuzz_units(card_ids: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """:func:`fuzz_unit` on arrays (int64 -> float64 in [0, 1))."""
    c = card_ids.astype(np.uint64)
    r = reps.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = c * np.uint64(0x9E3779B97F4A7C15) + r * np.uint64(0xD1B54A32D192ED03)
        x = x + np.uint64(0x94D049BB133111EB)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53


def fuzzed_days(interval_days: np.ndarray, u: np.ndarray, maximum_interval: int) -> np.ndarray:
    """The package's ``Scheduler._get_fuzzed_interval`` with ``random()`` replaced by ``u``.

    Args:
        interval_days: int64 whole-day intervals, shape (n,).
        u: float64 uniforms in [0, 1), shape (n,).
    Returns:
        int64 fuzzed intervals; intervals below 2.5 days are unchanged.
    """
    x = interval_days.astype(np.float64)
    delta = np.full_like(x, 1.0)
    for start, end, factor in _FUZZ_RANGES:
        delta += factor * np.maximum(np.minimum(x, end) - start, 0.0)
    lo = np.rint(x - delta)
    hi = np.rint(x + delta)
    lo = np.maximum(2.0, lo)
    hi = np.minimum(hi, float(maximum_interval))
    lo = np.minimum(lo, hi)
    fuzzed = np.minimum(np.rint(u * (hi - lo + 1) + lo), float(maximum_interval))
    return np.where(x < 2.5, interval_days, fuzzed.astype(np.int64))


def fuzzed_day(interval_days: int, u: float, maximum_interval: int) -> int:
    """Scalar :func:`fuzzed_days` (used by the per-card scheduler path)."""
    out = fuzzed_days(np.array([interval_days], dtype=np.int64), np.array([u]), maximum_interval)
    return int(out[0])


# --- the FSRS-6 formulas on arrays ------------------------------------------------------


def retrievability_from_elapsed(
    stability: np.ndarray, elapsed_days: np.ndarray, p: Params
) -> np.ndarray:
    """R = (1 + F * t / S) ** decay for whole elapsed days ``t`` >= 0 (float64).

    Evaluated as exp(decay * log1p(F * t / S)): NumPy's vectorised exp/log
    are ~1.5x faster than its pow, and agree with it to ~2e-16 (relative).
    """
    x = p.factor * elapsed_days / stability
    np.log1p(x, out=x)
    x *= p.decay
    return np.exp(x, out=x)


def retrievability(
    stability: np.ndarray, last_review_us: np.ndarray, now_us: int, p: Params
) -> np.ndarray:
    """Retrievability of many cards at one moment, as ``Scheduler.get_card_retrievability``.

    Args:
        stability: float64 days, NaN for new cards, shape (n,).
        last_review_us: int64 epoch microseconds, :data:`NO_TIME` for new cards.
        now_us: the moment, epoch microseconds.
    Returns:
        float64 in [0, 1], shape (n,); 0 for new cards (as the package).
    """
    stability = np.asarray(stability, dtype=np.float64)
    last = np.asarray(last_review_us, dtype=np.int64)
    if not last.size:
        return np.zeros(0)
    oldest = int(last.min())
    if oldest != NO_TIME and now_us - oldest < _FLOAT_DAYS_LIMIT and not np.isnan(stability.sum()):
        # The common case, all in float64 and in place: epoch µs (< 2**53) convert
        # exactly, and for spans under 100,000 days the correctly rounded
        # quotient cannot cross an integer, so floor() equals timedelta.days.
        x = np.subtract(now_us, last, dtype=np.float64)
        x /= DAY_US
        np.floor(x, out=x)
        np.maximum(x, 0.0, out=x)
        x *= p.factor
        x /= stability
        np.log1p(x, out=x)
        x *= p.decay
        return np.exp(x, out=x)
    known = (last != NO_TIME) & ~np.isnan(stability)
    safe_last = np.where(known, last, now_us)
    elapsed = np.maximum((now_us - safe_last) // DAY_US, 0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = retrievability_from_elapsed(np.where(known, stability, 1.0), elapsed, p)
    return np.where(known, r, 0.0)


@dataclass(frozen=True)
class _Tables:
    """Everything that depends on the parameters and the rating only, per rating 1-4 (index 0 unused).

    Computed with Python floats exactly as the package computes them
    (``math.e ** x``), so these factors are bit-identical to the package's.
    """

    w: tuple[float, ...]
    init_s: np.ndarray
    init_d: np.ndarray
    short_factor: np.ndarray  # e ** (w17 * (r - 3 + w18))
    d_delta: np.ndarray  # -(w6 * (r - 3))
    bonus: np.ndarray  # w15 for Hard, w16 for Easy, else 1
    d_target: float  # initial difficulty of Easy, unclamped (mean reversion target)
    e_w8: float
    forget_short_div: float  # e ** (w17 * w18)


@lru_cache(maxsize=16)
def _tables(w: tuple[float, ...]) -> _Tables:
    ratings = (1, 2, 3, 4)

    def per_rating(f) -> np.ndarray:  # noqa: ANN001
        return np.array([0.0] + [f(r) for r in ratings])

    def init_d(r: int) -> float:
        return min(max(w[4] - (math.e ** (w[5] * (r - 1))) + 1, MIN_DIFFICULTY), MAX_DIFFICULTY)

    return _Tables(
        w=w,
        init_s=per_rating(lambda r: max(w[r - 1], STABILITY_MIN)),
        init_d=per_rating(init_d),
        short_factor=per_rating(lambda r: math.e ** (w[17] * (r - 3 + w[18]))),
        d_delta=per_rating(lambda r: -(w[6] * (r - 3))),
        bonus=per_rating(lambda r: w[15] if r == 2 else w[16] if r == 4 else 1.0),
        d_target=w[4] - (math.e ** (w[5] * 3)) + 1,
        e_w8=math.e ** w[8],
        forget_short_div=math.e ** (w[17] * w[18]),
    )


def _next_difficulty(d: np.ndarray, rating: np.ndarray, t: _Tables) -> np.ndarray:
    """Linear damping towards 10, then mean reversion to D0(Easy) (FSRS-6, w6 and w7)."""
    arg_2 = d + (10.0 - d) * t.d_delta[rating] / 9.0
    return np.clip(t.w[7] * t.d_target + (1 - t.w[7]) * arg_2, MIN_DIFFICULTY, MAX_DIFFICULTY)


def _short_term_stability(s: np.ndarray, rating: np.ndarray, t: _Tables) -> np.ndarray:
    """Same-day review: S * e^(w17 (r - 3 + w18)) * S^-w19, never below S for a pass."""
    inc = t.short_factor[rating] * np.power(s, -t.w[19])
    inc = np.where(rating >= 2, np.maximum(inc, 1.0), inc)
    return np.maximum(s * inc, STABILITY_MIN)


def _forget_stability(d: np.ndarray, s: np.ndarray, r: np.ndarray, t: _Tables) -> np.ndarray:
    """Post-lapse stability: min(w11 D^-w12 ((S+1)^w13 - 1) e^((1-R) w14), S / e^(w17 w18))."""
    w = t.w
    long_term = w[11] * np.power(d, -w[12]) * (np.power(s + 1, w[13]) - 1) * np.exp((1 - r) * w[14])
    return np.maximum(np.minimum(long_term, s / t.forget_short_div), STABILITY_MIN)


def _recall_stability(
    d: np.ndarray, s: np.ndarray, r: np.ndarray, rating: np.ndarray, t: _Tables
) -> np.ndarray:
    """Stability after a pass: S (1 + e^w8 (11 - D) S^-w9 (e^((1-R) w10) - 1) * hard/easy)."""
    w = t.w
    growth = (
        t.e_w8 * (11 - d) * np.power(s, -w[9]) * (np.exp((1 - r) * w[10]) - 1) * t.bonus[rating]
    )
    return np.maximum(s * (1 + growth), STABILITY_MIN)


def next_interval_days(stability: np.ndarray, p: Params) -> np.ndarray:
    """The package's ``Scheduler._next_interval``: whole days in [1, maximum_interval] (int64)."""
    c = p.desired_retention ** (1 / p.decay) - 1
    ivl = np.rint((stability / p.factor) * c)
    return np.minimum(np.maximum(ivl, 1.0), float(p.maximum_interval)).astype(np.int64)


@dataclass(frozen=True)
class _Transitions:
    """The package's learning/relearning state machine as lookup tables.

    Indexed by ``(state * n_steps_index + step + 1) * 5 + rating``: the new
    state, the new step (-1 = None), whether the card goes to Review (its
    interval then comes from its stability) and otherwise the step interval
    in µs. Built once per step configuration with timedelta arithmetic, so
    Hard's 1.5x / mean-of-two intervals round to microseconds as the package's.
    """

    n_step_index: int
    max_step: int
    state: np.ndarray
    step: np.ndarray
    to_review: np.ndarray
    interval_us: np.ndarray


def _outcome(
    state: int,
    step: int,
    rating: int,
    learning: Sequence[timedelta],
    relearning: Sequence[timedelta],
) -> tuple[int, int, bool, timedelta]:
    """One answer's effect on state and step, following ``Scheduler.review_card``."""
    graduate = (REVIEW, NO_STEP, True, timedelta(0))
    if state == REVIEW:
        if rating == 1 and relearning:
            return RELEARNING, 0, False, relearning[0]
        return graduate
    steps = learning if state == LEARNING else relearning
    step = max(step, 0)  # fsrs.Card: a Learning card's step None means 0
    n = len(steps)
    if n == 0 or (step >= n and rating >= 2):
        return graduate
    if rating == 1:
        return state, 0, False, steps[0]
    if rating == 2:
        if step == 0:
            return state, 0, False, steps[0] * 1.5 if n == 1 else (steps[0] + steps[1]) / 2.0
        return state, step, False, steps[step]
    if rating == 3 and step + 1 < n:
        return state, step + 1, False, steps[step + 1]
    return graduate


@lru_cache(maxsize=16)
def _transitions(
    learning: tuple[timedelta, ...], relearning: tuple[timedelta, ...]
) -> _Transitions:
    max_step = max(len(learning), len(relearning))  # steps beyond behave like this one
    n_idx = max_step + 2  # step -1 (None), 0 .. max_step
    size = 4 * n_idx * 5
    state = np.zeros(size, dtype=np.int8)
    step = np.full(size, NO_STEP, dtype=np.int64)
    to_review = np.zeros(size, dtype=bool)
    interval = np.zeros(size, dtype=np.int64)
    for st in (LEARNING, REVIEW, RELEARNING):
        for sp in range(-1, max_step + 1):
            for rating in (1, 2, 3, 4):
                code = (st * n_idx + sp + 1) * 5 + rating
                new_state, new_step, review, ivl = _outcome(st, sp, rating, learning, relearning)
                state[code], step[code], to_review[code] = new_state, new_step, review
                interval[code] = ivl // _US
    return _Transitions(n_idx, max_step, state, step, to_review, interval)


@dataclass
class CardArrays:
    """FSRS state of many cards (all arrays shape (n,)).

    ``state`` int8 (1 Learning, 2 Review, 3 Relearning); ``step`` int64 with -1
    for None; ``stability``/``difficulty`` float64 with NaN for None; ``due`` and
    ``last_review`` int64 epoch µs with :data:`NO_TIME` for None.
    """

    state: np.ndarray
    step: np.ndarray
    stability: np.ndarray
    difficulty: np.ndarray
    due: np.ndarray
    last_review: np.ndarray

    @classmethod
    def new(cls, n: int, due_us: np.ndarray | int = 0) -> CardArrays:
        """``n`` never-reviewed cards (Learning, step 0), due at ``due_us``."""
        return cls(
            state=np.full(n, LEARNING, dtype=np.int8),
            step=np.zeros(n, dtype=np.int64),
            stability=np.full(n, np.nan),
            difficulty=np.full(n, np.nan),
            due=np.broadcast_to(np.asarray(due_us, dtype=np.int64), (n,)).copy(),
            last_review=np.full(n, NO_TIME, dtype=np.int64),
        )

    def take(self, index: np.ndarray | slice) -> CardArrays:
        return CardArrays(*(a[index] for a in self._fields()))

    def _fields(self) -> tuple[np.ndarray, ...]:
        return (self.state, self.step, self.stability, self.difficulty, self.due, self.last_review)


def review_cards(
    cards: CardArrays,
    rating: np.ndarray,
    now_us: np.ndarray | int,
    p: Params,
    *,
    fuzz_u: np.ndarray | None = None,
) -> tuple[CardArrays, np.ndarray]:
    """Answer many cards at once, as ``Scheduler.review_card`` card by card.

    Args:
        cards: the cards before the answer.
        rating: int64 ratings 1-4, shape (n,).
        now_us: the answer times (epoch µs), scalar or shape (n,).
        p: parameters; ``p.enable_fuzzing`` needs ``fuzz_u``.
        fuzz_u: uniforms in [0, 1) for the fuzz (see :func:`fuzz_units`).
    Returns:
        (cards after, elapsed whole days since the previous review: int64, -1 for new cards).
    """
    tab = _tables(tuple(p.w))
    rating = np.asarray(rating, dtype=np.int64)
    n = rating.shape[0]
    t = np.broadcast_to(np.asarray(now_us, dtype=np.int64), (n,))
    state = cards.state
    s_old, d_old = cards.stability, cards.difficulty
    has_last = cards.last_review != NO_TIME
    safe_last = np.where(has_last, cards.last_review, t)
    elapsed = (t - safe_last) // DAY_US  # timedelta.days: floor, may be negative
    is_new = np.isnan(s_old) | np.isnan(d_old)

    # Each formula runs only on the cards it applies to.
    s_new = np.empty(n)
    d_new = np.empty(n)
    new_idx = np.flatnonzero(is_new)
    if new_idx.size:
        s_new[new_idx] = tab.init_s[rating[new_idx]]
        d_new[new_idx] = tab.init_d[rating[new_idx]]
    if new_idx.size < n:
        old_idx = np.flatnonzero(~is_new)
        d_new[old_idx] = _next_difficulty(d_old[old_idx], rating[old_idx], tab)
        same_day = has_last[old_idx] & (elapsed[old_idx] < 1)
        short_idx, long_idx = old_idx[same_day], old_idx[~same_day]
        if short_idx.size:
            s_new[short_idx] = _short_term_stability(s_old[short_idx], rating[short_idx], tab)
        if long_idx.size:
            r_now = retrievability_from_elapsed(
                s_old[long_idx], np.maximum(elapsed[long_idx], 0).astype(np.float64), p
            )
            failed = rating[long_idx] == 1
            f_idx, ok_idx = long_idx[failed], long_idx[~failed]
            s_new[f_idx] = _forget_stability(d_old[f_idx], s_old[f_idx], r_now[failed], tab)
            s_new[ok_idx] = _recall_stability(
                d_old[ok_idx], s_old[ok_idx], r_now[~failed], rating[ok_idx], tab
            )

    # --- state, step and interval: one table lookup per card ------------------------
    tr = _transitions(tuple(p.learning_steps), tuple(p.relearning_steps))
    code = np.clip(cards.step, -1, tr.max_step)
    code += 1 + state.astype(np.int64) * tr.n_step_index
    code *= 5
    code += rating
    new_state, new_step, to_review = tr.state[code], tr.step[code], tr.to_review[code]
    days = next_interval_days(s_new, p)
    if p.enable_fuzzing:
        if fuzz_u is None:
            raise ValueError("fuzzing needs fuzz_u")
        days = np.where(to_review, fuzzed_days(days, fuzz_u, p.maximum_interval), days)
    interval_us = np.where(to_review, days * DAY_US, tr.interval_us[code])

    after = CardArrays(
        state=new_state,
        step=new_step,
        stability=s_new,
        difficulty=d_new,
        due=t + interval_us,
        last_review=t.copy(),
    )
    return after, np.where(has_last, elapsed, -1)


# --- replaying whole histories ----------------------------------------------------------


@dataclass
class Replay:
    """The result of :func:`replay`.

    ``cards``: each card's final state, shape (n_cards,); ``reps`` and
    ``lapses`` (Again on a Review card) per card. ``before``/``after``: the
    state around every review, aligned with the input reviews (n_reviews,);
    None unless the replay recorded them.
    """

    cards: CardArrays
    reps: np.ndarray
    lapses: np.ndarray
    before: CardArrays | None
    after: CardArrays | None


def replay(
    offsets: np.ndarray,
    ratings: np.ndarray,
    times_us: np.ndarray,
    p: Params,
    *,
    card_ids: np.ndarray | None = None,
    initial_due_us: np.ndarray | None = None,
    record: bool = True,
) -> Replay:
    """Replay every card's review history from a new card, as ``Scheduler.reschedule_card``.

    Reviews are grouped by card: card ``i`` owns ``ratings[offsets[i]:offsets[i+1]]``,
    in time order. All cards advance together, one review index at a time (cards
    sorted by history length, so the cards still active at index ``k`` are a
    prefix): the work is O(total reviews) NumPy element operations in
    O(longest history) vectorised steps.

    Args:
        offsets: int64, shape (n_cards + 1,), non-decreasing, offsets[0] == 0.
        ratings: int 1-4, shape (n_reviews,).
        times_us: int64 epoch µs, shape (n_reviews,), non-decreasing within a card.
        p: the parameters (fuzz seeds need ``card_ids``).
        card_ids: int64 ids for the fuzz seed, shape (n_cards,).
        initial_due_us: the due time of each card before its first review.
        record: also return the state before and after every review.
    Returns:
        :class:`Replay`.
    Raises:
        ValueError: for ratings outside 1-4, bad offsets or unsorted times.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.int64)
    times_us = np.asarray(times_us, dtype=np.int64)
    n_cards = offsets.shape[0] - 1
    n_rev = ratings.shape[0]
    if offsets[0] != 0 or offsets[-1] != n_rev or np.any(np.diff(offsets) < 0):
        raise ValueError("offsets must start at 0, end at len(ratings) and not decrease")
    if n_rev and (ratings.min() < 1 or ratings.max() > 4):
        raise ValueError("ratings must be 1-4")
    counts = np.diff(offsets)
    within = np.ones(n_rev, dtype=bool)
    within[offsets[:-1][counts > 0]] = False  # first review of each card
    if np.any(np.diff(times_us)[within[1:]] < 0):
        raise ValueError("review times must not decrease within a card")
    if p.enable_fuzzing and card_ids is None:
        raise ValueError("fuzzing needs card_ids")

    order = np.argsort(-counts, kind="stable")
    sorted_counts = counts[order]
    starts = offsets[:-1][order]
    ids = None if card_ids is None else np.asarray(card_ids, dtype=np.int64)[order]
    due0 = (
        np.zeros(n_cards, dtype=np.int64)
        if initial_due_us is None
        else np.asarray(initial_due_us, dtype=np.int64)
    )
    cur = CardArrays.new(n_cards, due0[order])
    lapses = np.zeros(n_cards, dtype=np.int64)

    before = CardArrays.new(n_rev) if record else None
    after = CardArrays.new(n_rev) if record else None
    max_len = int(sorted_counts[0]) if n_cards else 0
    # active[k] = number of cards with more than k reviews
    active_by_k = n_cards - np.searchsorted(sorted_counts[::-1], np.arange(max_len), side="right")
    for k in range(max_len):
        m = int(active_by_k[k])
        idx = starts[:m] + k
        head = cur.take(slice(0, m))
        rating = ratings[idx]
        fuzz = fuzz_units(ids[:m], np.full(m, k + 1)) if p.enable_fuzzing else None
        new, _ = review_cards(head, rating, times_us[idx], p, fuzz_u=fuzz)
        if record:
            for dst, src in zip(before._fields(), head._fields(), strict=True):
                dst[idx] = src
            for dst, src in zip(after._fields(), new._fields(), strict=True):
                dst[idx] = src
        lapses[:m] += (head.state == REVIEW) & (rating == 1)
        for dst, src in zip(cur._fields(), new._fields(), strict=True):
            dst[:m] = src

    inverse = np.empty_like(order)
    inverse[order] = np.arange(n_cards)
    return Replay(
        cards=cur.take(inverse),
        reps=counts.copy(),
        lapses=lapses[inverse],
        before=before,
        after=after,
    )


def group_by_card(card_col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For reviews sorted by card: (each card's first row index, offsets (n_cards + 1,))."""
    if not card_col.size:
        return np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, card_col[1:] != card_col[:-1]])
    return starts, np.r_[starts, card_col.size].astype(np.int64)


# --- the collection in the database ------------------------------------------------------


def raw_connection(session: Session) -> sqlite3.Connection:
    """The session's sqlite3 connection, inside the session's transaction (for bulk I/O)."""
    return session.connection().connection.driver_connection  # type: ignore[return-value]


def fetch_matrix(session: Session, sql: str, params: Sequence[object] = ()) -> np.ndarray:
    """Run ``sql`` and return its rows as a float64 matrix (n_rows, n_cols).

    Columns must be numbers (use COALESCE for NULLs). Epoch microseconds
    (~1.7e15) are below 2**53, so they survive float64 exactly.
    """
    cursor = raw_connection(session).execute(sql, tuple(params))
    n_cols = len(cursor.description)
    rows = cursor.fetchall()
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=len(rows) * n_cols)
    return flat.reshape(len(rows), n_cols)


def us_to_text(values: np.ndarray) -> list[str | None]:
    """Epoch µs as the text SQLAlchemy stores for a ``UTCDateTime`` (None for NO_TIME)."""
    values = np.asarray(values, dtype=np.int64)
    missing = values == NO_TIME
    text = np.datetime_as_string(np.where(missing, 0, values).astype("datetime64[us]"), unit="us")
    return [
        None if m else s.replace("T", " ")
        for s, m in zip(text.tolist(), missing.tolist(), strict=True)
    ]


@dataclass
class Histories:
    """Every review in the collection, grouped by card (see :func:`replay`).

    ``card_ids`` (n_cards,), ``offsets`` (n_cards + 1,), and per review
    (n_reviews,): ``review_ids``, ``ratings``, ``times_us``.
    """

    card_ids: np.ndarray
    offsets: np.ndarray
    review_ids: np.ndarray
    ratings: np.ndarray
    times_us: np.ndarray


def load_histories(session: Session) -> Histories:
    """All review rows, ordered by (card, time, id), as arrays."""
    m = fetch_matrix(
        session,
        f"SELECT card_id, id, rating, {us_sql('reviewed_at')} FROM reviews "
        "ORDER BY card_id, reviewed_at, id",
    )
    card_col = m[:, 0].astype(np.int64)
    starts, offsets = group_by_card(card_col)
    return Histories(
        card_ids=card_col[starts],
        offsets=offsets,
        review_ids=m[:, 1].astype(np.int64),
        ratings=m[:, 2].astype(np.int64),
        times_us=m[:, 3].astype(np.int64),
    )


@dataclass(frozen=True)
class CollectionRetrievability:
    """Retrievability of every reviewed card at one moment: ``card_ids`` int64 and ``retrievability`` float64, shape (n,)."""

    card_ids: np.ndarray
    retrievability: np.ndarray


def collection_retrievability_in(
    session: Session, p: Params, now_us: int
) -> CollectionRetrievability:
    """See :func:`collection_retrievability` (inside an open session)."""
    m = fetch_matrix(
        session,
        f"SELECT id, stability, {us_sql('last_review')} FROM cards "
        "WHERE last_review IS NOT NULL AND stability IS NOT NULL ORDER BY id",
    )
    ids = m[:, 0].astype(np.int64)
    return CollectionRetrievability(
        ids, retrievability(m[:, 1], m[:, 2].astype(np.int64), now_us, p)
    )


def collection_retrievability(
    db: Database, p: Params, now: datetime | None = None
) -> CollectionRetrievability:
    """The retrievability of every reviewed card (new cards are left out) at ``now``."""
    with db.read() as session:
        return collection_retrievability_in(session, p, to_us(now or datetime.now(UTC)))


@dataclass(frozen=True)
class RescheduleSummary:
    """What a reschedule changed: cards updated, reviews replayed, dues that moved."""

    cards: int
    reviews: int
    due_changed: int
    full_replay: bool


_CARD_UPDATE = (
    "UPDATE cards SET state = ?, step = ?, stability = ?, difficulty = ?, due = ?, "
    "last_review = ?, reps = ?, lapses = ? WHERE id = ?"
)
_REVIEW_UPDATE = (
    "UPDATE reviews SET state_before = ?, step_before = ?, stability_before = ?, "
    "difficulty_before = ?, due_before = ?, last_review_before = ?, state_after = ?, "
    "step_after = ?, stability_after = ?, difficulty_after = ?, due_after = ?, "
    "interval_days = ? WHERE id = ?"
)


def _nullable_step(step: np.ndarray) -> list[int | None]:
    return [None if s < 0 else s for s in step.tolist()]


def _nullable_float(x: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in x.tolist()]


def reschedule_in(session: Session, p: Params, *, full: bool = True) -> RescheduleSummary:
    """Reschedule every card with ``p`` inside the caller's transaction.

    ``full``: replay every card's history from its review rows (needed when the
    parameters or the steps change), as ``Scheduler.reschedule_card`` would,
    and rewrite the cards and the derived columns of the review rows (state,
    stability, difficulty, due before/after). Otherwise (only the desired
    retention, maximum interval or fuzz changed, which leave the memory state
    alone) only the due date of each Review card is recomputed from its
    stability: last_review + next interval.
    """
    raw = raw_connection(session)
    if not full:
        m = fetch_matrix(
            session,
            f"SELECT id, stability, {us_sql('last_review')}, reps, {us_sql('due')} FROM cards "
            "WHERE state = 2 AND last_review IS NOT NULL AND stability IS NOT NULL",
        )
        ids = m[:, 0].astype(np.int64)
        days = next_interval_days(m[:, 1], p)
        if p.enable_fuzzing:
            days = fuzzed_days(days, fuzz_units(ids, m[:, 3].astype(np.int64)), p.maximum_interval)
        due = m[:, 2].astype(np.int64) + days * DAY_US
        moved = due != m[:, 4].astype(np.int64)
        raw.executemany(
            "UPDATE cards SET due = ? WHERE id = ?",
            zip(us_to_text(due[moved]), ids[moved].tolist(), strict=True),
        )
        return RescheduleSummary(
            cards=int(ids.size), reviews=0, due_changed=int(moved.sum()), full_replay=False
        )

    return replay_in(session, p)


def replay_in(
    session: Session, p: Params, card_ids: Sequence[int] | None = None
) -> RescheduleSummary:
    """Replay the whole history of ``card_ids`` (all cards with reviews if None) and write it back.

    Each card's state, reps and lapses become those of its replayed history,
    and every one of its review rows gets the replayed state before and after
    (the facts, rating and time, are untouched). The state before a card's
    first review is a new card due at that review's ``due_before`` (or the
    card's current due when unknown). One transaction: the caller's.
    """
    raw = raw_connection(session)
    join = ""
    if card_ids is not None:
        raw.execute("CREATE TEMP TABLE IF NOT EXISTS replay_ids (id INTEGER PRIMARY KEY)")
        raw.execute("DELETE FROM replay_ids")
        raw.executemany("INSERT INTO replay_ids (id) VALUES (?)", [(int(i),) for i in card_ids])
        join = "JOIN replay_ids t ON t.id = r.card_id "
    m = fetch_matrix(
        session,
        f"SELECT r.card_id, r.id, r.rating, {us_sql('r.reviewed_at')}, "
        f"COALESCE({us_sql('r.due_before')}, {us_sql('c.due')}), {us_sql('c.due')} "
        f"FROM reviews r {join}JOIN cards c ON c.id = r.card_id "
        "ORDER BY r.card_id, r.reviewed_at, r.id",
    )
    if card_ids is not None:
        raw.execute("DELETE FROM replay_ids")
    card_col = m[:, 0].astype(np.int64)
    starts, offsets = group_by_card(card_col)
    ids = card_col[starts]
    review_ids = m[:, 1].astype(np.int64)
    times = m[:, 3].astype(np.int64)
    result = replay(
        offsets,
        m[:, 2].astype(np.int64),
        times,
        p,
        card_ids=ids,
        initial_due_us=m[starts, 4].astype(np.int64),
    )
    write_card_states(raw, ids, result)
    write_review_states(raw, review_ids, times, result)
    raw.execute("DELETE FROM settings WHERE key = ?", (STATS_CACHE_KEY,))
    moved = int(np.sum(m[starts, 5].astype(np.int64) != result.cards.due))
    return RescheduleSummary(
        cards=int(ids.size), reviews=int(review_ids.size), due_changed=moved, full_replay=True
    )


def write_card_states(raw: sqlite3.Connection, card_ids: np.ndarray, result: Replay) -> None:
    """Write each replayed card's final state, reps and lapses (aligned with ``card_ids``)."""
    c = result.cards
    raw.executemany(
        _CARD_UPDATE,
        zip(
            c.state.tolist(),
            _nullable_step(c.step),
            c.stability.tolist(),
            c.difficulty.tolist(),
            us_to_text(c.due),
            us_to_text(c.last_review),
            result.reps.tolist(),
            result.lapses.tolist(),
            card_ids.tolist(),
            strict=True,
        ),
    )


def write_review_states(
    raw: sqlite3.Connection, review_ids: np.ndarray, times_us: np.ndarray, result: Replay
) -> None:
    """Rewrite the derived columns of review rows from a replay (aligned arrays)."""
    b, a = result.before, result.after
    interval = (a.due - times_us) / DAY_US
    raw.executemany(
        _REVIEW_UPDATE,
        zip(
            b.state.tolist(),
            _nullable_step(b.step),
            _nullable_float(b.stability),
            _nullable_float(b.difficulty),
            us_to_text(b.due),
            us_to_text(b.last_review),
            a.state.tolist(),
            _nullable_step(a.step),
            a.stability.tolist(),
            a.difficulty.tolist(),
            us_to_text(a.due),
            interval.tolist(),
            review_ids.tolist(),
            strict=True,
        ),
    )


def reschedule(db: Database, p: Params, *, full: bool = True) -> RescheduleSummary:
    """:func:`reschedule_in` as one write transaction."""
    with db.write() as session:
        return reschedule_in(session, p, full=full)
