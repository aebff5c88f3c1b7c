"""Load balancing written as whole-array NumPy: the reference for ``balanced_day``.

The same formulas as :func:`studylog.scheduling.load_balance.balanced_day`, from
Anki's ``rslib/src/scheduler/states/load_balancer.rs`` (``interval_to_weekday``,
``calculate_easy_days_modifiers``, ``select_weighted_interval``), written the
other way (arrays, ``np.cumsum``, ``np.searchsorted``) so that a test comparing
the two checks the plain-float code against an independent transcription.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from studylog.scheduling.fuzz import fuzz_range
from studylog.scheduling.load_balance import (
    COUNT_EXPONENT,
    INTERVAL_EXPONENT,
    MAX_BALANCED_INTERVAL,
    EasyDay,
)


def weekdays_of(today: date, intervals: np.ndarray) -> np.ndarray:
    """Monday=0 weekday of the study day ``intervals`` days after ``today`` (int64, shape (n,)).

    Anki's ``interval_to_weekday``: the local weekday at which that study day
    starts, which is the calendar date of ``today + interval`` for any day
    start hour.
    """
    return (today.weekday() + intervals.astype(np.int64)) % 7


def easy_day_modifiers(
    easy_days: Sequence[EasyDay], weekdays: np.ndarray, review_counts: np.ndarray
) -> np.ndarray:
    """Anki's ``calculate_easy_days_modifiers``: float64 weight modifiers, shape (n,).

    Normal and Minimum days keep their load; a Reduced day counts as Normal
    while its cards due, doubled, stay at or under the other days' average
    (their total over their loads' sum), else as Minimum.
    """
    loads = np.array([easy_days[int(w)].load for w in weekdays], dtype=np.float64)
    counts = review_counts.astype(np.float64)
    reduced = np.array([easy_days[int(w)] is EasyDay.REDUCED for w in weekdays], dtype=bool)
    if reduced.any():
        others_total = counts.sum() - counts
        others_load = loads.sum() - EasyDay.REDUCED.load
        with np.errstate(divide="ignore", invalid="ignore"):
            threshold = others_total / others_load
        over = counts / EasyDay.REDUCED.load > threshold
        loads = np.where(reduced, np.where(over, EasyDay.MINIMUM.load, EasyDay.NORMAL.load), loads)
    return loads


def day_weights(
    intervals: np.ndarray, review_counts: np.ndarray, modifiers: np.ndarray
) -> np.ndarray:
    """Anki's ``select_weighted_interval`` weights, float64 shape (n,).

    ``(1 / cards due) ** 2.15 * (1 / interval) ** 3 * easy-day modifier``; a day
    with no cards due gets ``1 * modifier`` (Anki: 1 whatever the modifier; see
    the module docstring for why not).
    """
    counts = review_counts.astype(np.float64)
    ivl = np.maximum(intervals.astype(np.float64), 1.0)
    with np.errstate(divide="ignore"):
        busy = (1.0 / counts) ** COUNT_EXPONENT * (1.0 / ivl) ** INTERVAL_EXPONENT
    return np.where(counts == 0, 1.0, busy) * modifiers


def pick(weights: np.ndarray, u: float) -> int:
    """The index drawn by weight with the uniform ``u`` in [0, 1) (inverse CDF)."""
    cdf = np.cumsum(weights)
    index = int(np.searchsorted(cdf, u * cdf[-1], side="right"))
    return min(index, weights.size - 1)


def balanced_interval(
    interval_days: int,
    u: float,
    maximum_interval: int,
    due_counts: np.ndarray,
    *,
    today: date,
    easy_days: Sequence[EasyDay] = (EasyDay.NORMAL,) * 7,
) -> int | None:
    """The load-balanced fuzzed interval in days, or None when the plain fuzz applies.

    Args:
        interval_days: the scheduler's (unfuzzed) interval, whole days.
        u: the card's fuzz uniform in [0, 1) (:func:`studylog.scheduling.fuzz.fuzz_unit`).
        maximum_interval: the longest interval, days.
        due_counts: int64 Review cards due on each study day from today
            (index 0 = today), at least :data:`BALANCE_DAYS` long; shorter means 0.
        today: the study day (its calendar date) the answer is given on.
        easy_days: seven :class:`EasyDay`, Monday first.
    Returns:
        A whole number of days inside :func:`studylog.scheduling.fuzz.fuzz_range`,
        or None for an interval under 2.5 days (never fuzzed) or over 90 days
        (not balanced, as Anki).
    """
    if interval_days < 2.5 or interval_days > MAX_BALANCED_INTERVAL:
        return None
    lo, hi = fuzz_range(interval_days, maximum_interval)
    if lo > MAX_BALANCED_INTERVAL:
        return None
    days = np.arange(lo, hi + 1, dtype=np.int64)
    counts = np.zeros(days.size, dtype=np.int64)
    known = days < due_counts.size
    counts[known] = due_counts[days[known]]
    modifiers = easy_day_modifiers(easy_days, weekdays_of(today, days), counts)
    return int(days[pick(day_weights(days, counts, modifiers), u)])
