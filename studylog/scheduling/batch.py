"""Whole-collection FSRS-6 in NumPy: pure functions over arrays (no SQL, no database).

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
marks "never". Steps use ``-1`` for ``None``. States and ratings are the
numbers of :class:`~studylog.scheduling.states.CardState` and
:class:`~studylog.scheduling.states.Rating`.

Fuzz is :mod:`studylog.scheduling.fuzz` (deterministic per card and reps).
Reading these arrays from the database and writing them back is
:mod:`studylog.storage.bulk`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import fsrs
import numpy as np

from studylog.scheduling.fuzz import fuzz_units, fuzzed_days
from studylog.scheduling.states import CardState, Rating

DAY_US = 86_400_000_000
NO_TIME = np.iinfo(np.int64).min
NO_STEP = -1
STABILITY_MIN = 0.001
MIN_DIFFICULTY, MAX_DIFFICULTY = 1.0, 10.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FLOAT_DAYS_LIMIT = 100_000 * DAY_US
_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (exact).

    Raises:
        ValueError: for a naive datetime (its zone would be a guess).
    """
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}")
    return (moment - _EPOCH) // _US


def from_us(us: int) -> datetime | None:
    """Integer microseconds since the epoch as an aware UTC datetime (None for NO_TIME)."""
    if us == NO_TIME:
        return None
    return _EPOCH + timedelta(microseconds=int(us))


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
    ratings = tuple(Rating)

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
        bonus=per_rating(
            lambda r: w[15] if r == Rating.HARD else w[16] if r == Rating.EASY else 1.0
        ),
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
    inc = np.where(rating >= Rating.HARD, np.maximum(inc, 1.0), inc)
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
    state: CardState,
    step: int,
    rating: Rating,
    learning: Sequence[timedelta],
    relearning: Sequence[timedelta],
) -> tuple[CardState, int, bool, timedelta]:
    """One answer's effect on state and step, following ``Scheduler.review_card``."""
    graduate = (CardState.REVIEW, NO_STEP, True, timedelta(0))
    if state == CardState.REVIEW:
        if rating == Rating.AGAIN and relearning:
            return CardState.RELEARNING, 0, False, relearning[0]
        return graduate
    steps = learning if state == CardState.LEARNING else relearning
    step = max(step, 0)  # fsrs.Card: a Learning card's step None means 0
    n = len(steps)
    if n == 0 or (step >= n and rating >= Rating.HARD):
        return graduate
    if rating == Rating.AGAIN:
        return state, 0, False, steps[0]
    if rating == Rating.HARD:
        if step == 0:
            return state, 0, False, steps[0] * 1.5 if n == 1 else (steps[0] + steps[1]) / 2.0
        return state, step, False, steps[step]
    if rating == Rating.GOOD and step + 1 < n:
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
    for st in CardState:
        for sp in range(-1, max_step + 1):
            for rating in Rating:
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
            state=np.full(n, CardState.LEARNING, dtype=np.int8),
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
            failed = rating[long_idx] == Rating.AGAIN
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
    if n_rev and (ratings.min() < Rating.AGAIN or ratings.max() > Rating.EASY):
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
        lapses[:m] += (head.state == CardState.REVIEW) & (rating == Rating.AGAIN)
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
