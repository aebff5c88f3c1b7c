"""Load balancing for a whole-collection reschedule: many cards' due days at once, in NumPy.

When new parameters or a new desired retention give every Review card a new
interval, Anki (``rslib/src/scheduler/fsrs/rescheduler.rs``, used by the deck
options' "Reschedule cards on change" while load balancing is on) picks each
card's day inside its fuzz range the way an answer does: days with fewer
cards due weigh more, easy days weigh less, and after each card the day's
count moves from the card's old due day to its new one, so later cards see
the earlier ones.

:func:`balanced_intervals` does the same with the answer path's weights
(:func:`studylog.scheduling.load_balance.balanced_day`: ``(1 / cards due) **
2.15 * (1 / interval) ** 3`` times the easy-day modifier, each card's fuzz
uniform drawn by inverse CDF, intervals over 90 days keep the plain fuzz)
and one difference on purpose: the counts move after each *chunk* of
:data:`CHUNK` cards instead of after each card, so that the choice is whole
arrays (a (chunk, range) matrix) instead of a Python loop of ~30 µs a card,
which on 100,000 cards would have been most of issue 13's one-second budget.
A chunk's cards do not see each other's choices; with 64 cards over a range
of up to ~20 days that leaves a few cards a day unbalanced against each
other, and every chunk sees all earlier ones.

Days are study days: a candidate interval ``k`` means the due time
``last review + k days``, placed on the study day whose [start, next start)
holds it (``day_starts_ms``), so a day start hour and a time zone with DST
count as the queue counts them. Days before today are never chosen (Anki:
``before_days.max(days_elapsed)``): a card whose whole range lies before
today keeps its plain fuzz.

Pure: NumPy arrays in, NumPy arrays out, no SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from studylog.scheduling.fuzz import fuzz_ranges
from studylog.scheduling.load_balance import (
    COUNT_EXPONENT,
    INTERVAL_EXPONENT,
    MAX_BALANCED_INTERVAL,
    EasyDay,
)

CHUNK = 64
"""Cards chosen against the same counts before the counts move (see the module docstring)."""

DAY_MS = 86_400_000


def balanced_intervals(
    interval_days: np.ndarray,
    plain_days: np.ndarray,
    u: np.ndarray,
    last_review_ms: np.ndarray,
    old_due_ms: np.ndarray,
    counted: np.ndarray,
    *,
    maximum_interval: int,
    day_starts_ms: np.ndarray,
    due_counts: np.ndarray,
    weekday_today: int,
    easy_days: Sequence[EasyDay] = (EasyDay.NORMAL,) * 7,
) -> np.ndarray:
    """The load-balanced interval of each rescheduled Review card, in whole days.

    Args:
        interval_days: int64 (n,) each card's new unfuzzed interval (days since its last
            review; :func:`studylog.scheduling.batch.next_interval_days`).
        plain_days: int64 (n,) the plain fuzzed interval (what the card gets when it is
            not balanced: an interval under 2.5 or over 90 days, or a range before today).
        u: float64 (n,) each card's fuzz uniform in [0, 1)
            (:func:`studylog.scheduling.fuzz.fuzz_units`).
        last_review_ms: int64 (n,) the last review, epoch ms (UTC).
        old_due_ms: int64 (n,) the due time before the reschedule, epoch ms.
        counted: bool (n,) whether the card is in ``due_counts`` (not suspended).
        maximum_interval: the longest interval, days.
        day_starts_ms: int64 (W + 1,) the starts of today's and the next W study days,
            epoch ms, increasing.
        due_counts: int64 (W,) Review cards due on each of those days before the
            reschedule (not suspended; index 0 = today). Not modified.
        weekday_today: today's weekday, 0 = Monday.
        easy_days: seven :class:`EasyDay`, Monday first.
    Returns:
        int64 (n,) intervals in days: inside the fuzz range where balanced, else
        ``plain_days``. Cards are balanced in the order given.
    """
    n = interval_days.size
    out = plain_days.astype(np.int64).copy()
    if n == 0:
        return out
    counts = due_counts.astype(np.float64).copy()
    width = counts.size
    lo_f, hi_f = fuzz_ranges(interval_days, maximum_interval)
    lo, hi = lo_f.astype(np.int64), hi_f.astype(np.int64)
    balanced = (
        (interval_days >= 2.5)
        & (interval_days <= MAX_BALANCED_INTERVAL)
        & (lo <= MAX_BALANCED_INTERVAL)
    )
    old_slot = _slot(old_due_ms, day_starts_ms, width)
    old_slot[~counted] = -1
    # The cards that are not balanced move first, all at once: the balanced ones see them.
    fixed = np.flatnonzero(~balanced)
    _move(
        counts,
        old_slot[fixed],
        _slot(last_review_ms[fixed] + out[fixed] * DAY_MS, day_starts_ms, width),
        counted[fixed],
    )
    loads = np.array([d.load for d in easy_days], dtype=np.float64)
    reduced = np.array([d is EasyDay.REDUCED for d in easy_days])
    todo = np.flatnonzero(balanced)
    for start in range(0, todo.size, CHUNK):
        idx = todo[start : start + CHUNK]
        span = int((hi[idx] - lo[idx]).max()) + 1
        k = lo[idx, None] + np.arange(span)[None, :]  # candidate intervals (chunk, span)
        slot = _slot(last_review_ms[idx, None] + k * DAY_MS, day_starts_ms, width)
        valid = (k <= hi[idx, None]) & (slot >= 0)
        if not valid.any():
            continue
        known = (slot >= 0) & (slot < width)
        c = np.where(known, counts[np.clip(slot, 0, width - 1)], 0.0)
        c = np.where(valid, c, 0.0)
        weekday = np.where(slot >= 0, (weekday_today + slot) % 7, 0)
        load = loads[weekday]
        if reduced.any():
            load = _reduced_rule(load, c, valid, reduced[weekday])
        with np.errstate(divide="ignore"):
            weight = np.where(
                c == 0,
                1.0,
                (1.0 / c) ** COUNT_EXPONENT * (1.0 / np.maximum(k, 1)) ** INTERVAL_EXPONENT,
            )
        weight = np.where(valid, weight * load, 0.0)
        cdf = np.cumsum(weight, axis=1)
        total = cdf[:, -1]
        ok = total > 0
        pick = (cdf <= (u[idx] * total)[:, None]).sum(axis=1)  # bisect_right
        pick = np.minimum(pick, span - 1)
        # never a column past the range or before today: the last valid one then
        last_valid = span - 1 - np.argmax(valid[:, ::-1], axis=1)
        pick = np.where(valid[np.arange(idx.size), pick], pick, last_valid)
        chosen = k[np.arange(idx.size), pick]
        chosen_idx = idx[ok]
        out[chosen_idx] = chosen[ok]
        new_slot = slot[np.arange(idx.size), pick][ok]
        _move(counts, old_slot[chosen_idx], new_slot, counted[chosen_idx])
    return out


def _slot(moment_ms: np.ndarray, day_starts_ms: np.ndarray, width: int) -> np.ndarray:
    """The study day (0 = today) of each time; -1 before today, ``width`` or more after."""
    slot = np.searchsorted(day_starts_ms, moment_ms, side="right") - 1
    return np.where(moment_ms < day_starts_ms[0], -1, slot)


def _move(counts: np.ndarray, old: np.ndarray, new: np.ndarray, counted: np.ndarray) -> None:
    """Move counted cards from their old day to their new one (days outside: not counted)."""
    width = counts.size
    old_in = counted & (old >= 0) & (old < width)
    np.subtract.at(counts, old[old_in], 1.0)
    np.maximum(counts, 0.0, out=counts)
    new_in = counted & (new >= 0) & (new < width)
    np.add.at(counts, new[new_in], 1.0)


def _reduced_rule(
    load: np.ndarray, c: np.ndarray, valid: np.ndarray, is_reduced: np.ndarray
) -> np.ndarray:
    """Anki's easy-day modifier of a Reduced day: Normal while its cards due, doubled, stay
    at or under the other days' average over the range, else Minimum (as ``balanced_day``)."""
    load = np.where(valid, load, 0.0)
    total = c.sum(axis=1, keepdims=True)
    others_load = load.sum(axis=1, keepdims=True) - EasyDay.REDUCED.load
    with np.errstate(divide="ignore", invalid="ignore"):
        over = (others_load != 0) & (c / EasyDay.REDUCED.load > (total - c) / others_load)
    swapped = np.where(over, EasyDay.MINIMUM.load, EasyDay.NORMAL.load)
    return np.where(is_reduced & valid, swapped, load)
