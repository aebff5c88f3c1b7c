"""Deterministic interval fuzz, shared by per-card scheduling and the batch path.

The ``fsrs`` package fuzzes a Review interval with ``random.random()``
(``Scheduler._get_fuzzed_interval``). studylog draws the uniform number from
(card id, reps after the answer) instead, as Anki seeds its fuzz with the card
id and reps, so the interval previewed on an answer button is exactly the
interval the answer gives, and a replay of the history reproduces it. The fuzz
*range* is the package's: +-15 % of the part of the interval in [2.5, 7) days,
+-10 % of the part in [7, 20), +-5 % beyond, plus one day; intervals under 2.5
days are never fuzzed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the array versions import NumPy when called: the per-card path needs none
    import numpy as np

_FUZZ_RANGES = ((2.5, 7.0, 0.15), (7.0, 20.0, 0.1), (20.0, math.inf, 0.05))
_MASK64 = (1 << 64) - 1


def fuzz_unit(card_id: int, reps: int) -> float:
    """A uniform number in [0, 1) determined by (card id, reps after the answer).

    SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
    generators", OOPSLA 2014) of a mix of both numbers; it replaces the
    package's ``random()`` so a card's fuzz is reproducible.
    """
    x = (card_id * 0x9E3779B97F4A7C15 + reps * 0xD1B54A32D192ED03 + 0x94D049BB133111EB) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    x ^= x >> 31
    return (x >> 11) * 2.0**-53


def fuzz_units(card_ids: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """:func:`fuzz_unit` on arrays: int64 card ids and reps, shape (n,) -> float64 in [0, 1)."""
    import numpy as np

    c = card_ids.astype(np.uint64)
    r = reps.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = c * np.uint64(0x9E3779B97F4A7C15) + r * np.uint64(0xD1B54A32D192ED03)
        x = x + np.uint64(0x94D049BB133111EB)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53


def fuzz_ranges(interval_days: np.ndarray, maximum_interval: int) -> tuple[np.ndarray, np.ndarray]:
    """The package's fuzz range of each interval: (lowest, highest) whole days, inclusive.

    Args:
        interval_days: int64 whole-day intervals, shape (n,) (only those >= 2.5 are fuzzed).
        maximum_interval: the longest interval in days.
    Returns:
        Two float64 arrays of shape (n,): ``lo <= hi``, ``lo >= 2``, ``hi <= maximum_interval``.
    """
    import numpy as np

    x = interval_days.astype(np.float64)
    delta = np.full_like(x, 1.0)
    for start, end, factor in _FUZZ_RANGES:
        delta += factor * np.maximum(np.minimum(x, end) - start, 0.0)
    lo = np.rint(x - delta)
    hi = np.rint(x + delta)
    lo = np.maximum(2.0, lo)
    hi = np.minimum(hi, float(maximum_interval))
    lo = np.minimum(lo, hi)
    return lo, hi


def _range(interval_days: int, maximum_interval: int) -> tuple[float, float]:
    # fuzz_ranges for one interval in Python floats: NumPy's per-call cost on a
    # one-element array was most of an answer's fuzz. The same double operations;
    # round() rounds half to even as np.rint does.
    x = float(interval_days)
    delta = 1.0
    for start, end, factor in _FUZZ_RANGES:
        delta += factor * max(min(x, end) - start, 0.0)
    lo = max(2.0, float(round(x - delta)))
    hi = min(float(round(x + delta)), float(maximum_interval))
    return min(lo, hi), hi


def fuzz_range(interval_days: int, maximum_interval: int) -> tuple[int, int]:
    """Scalar :func:`fuzz_ranges`: (lowest, highest) fuzzed interval in days, inclusive."""
    lo, hi = _range(interval_days, maximum_interval)
    return int(lo), int(hi)


def fuzzed_days(interval_days: np.ndarray, u: np.ndarray, maximum_interval: int) -> np.ndarray:
    """The package's ``Scheduler._get_fuzzed_interval`` with ``random()`` replaced by ``u``.

    Args:
        interval_days: int64 whole-day intervals, shape (n,).
        u: float64 uniforms in [0, 1), shape (n,).
        maximum_interval: the longest interval in days.
    Returns:
        int64 fuzzed intervals in days; intervals below 2.5 days are unchanged.
    """
    import numpy as np

    x = interval_days.astype(np.float64)
    lo, hi = fuzz_ranges(interval_days, maximum_interval)
    fuzzed = np.minimum(np.rint(u * (hi - lo + 1) + lo), float(maximum_interval))
    return np.where(x < 2.5, interval_days, fuzzed.astype(np.int64))


def fuzzed_day(interval_days: int, u: float, maximum_interval: int) -> int:
    """Scalar :func:`fuzzed_days` for one card (the per-card scheduler's path), in days."""
    if float(interval_days) < 2.5:
        return int(interval_days)
    lo, hi = _range(interval_days, maximum_interval)
    return int(min(float(round(u * (hi - lo + 1) + lo)), float(maximum_interval)))
