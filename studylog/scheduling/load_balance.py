"""Load balancing and easy days: which day inside the fuzz range a Review card is due on.

Anki 24.11's load balancer (``rslib/src/scheduler/states/load_balancer.rs``):
when fuzz picks a due date inside its range, each day of the range gets a
weight that falls with the number of cards already due that day and, a little,
with the interval itself (so the choice does not drift late), and the day is
drawn at random by weight. Easy days scale the weight by the weekday's
setting: ``normal`` 1, ``reduced`` on or off depending on how full the day
already is compared with the others in the range, ``minimum`` almost 0.
Intervals over 90 days are not balanced (the need is low that far out); they
keep the plain fuzz.

studylog draws the weighted choice from the card's fuzz uniform (card id, reps
after the answer; :func:`studylog.scheduling.fuzz.fuzz_unit`) instead of a
seeded random generator, so the interval shown on an answer button is the
interval the answer gives, given the same due counts.

The weights are those of Anki's ``select_weighted_interval`` since
"Fine-tune load balancer" (ankitects/anki#3864, commit d53f01064c, March 2025;
in 25.05 and later, and in the ``anki`` 26.x package the tests use):
``(1 / cards due) ** 2.15 * (1 / interval) ** 3`` times the easy-day
modifier. Anki 24.11, which issue 13 names, had exponents 2 and 1 (its doc
comment still says so); studylog follows the current Anki, the one learners
migrate from.

Differences from Anki, on purpose:
- a day with no cards due gets weight 1 times its easy-day modifier. Anki
  gives such a day 1 whatever its easy-day setting (``0 => 1.0``, before the
  modifiers), so an empty Minimum day outweighs every Normal day that has a
  card due: in a new or small collection (most days of the range empty) the
  easy days do nothing, and a card whose interval lands on an empty Minimum
  day stays there (``tests/test_load_balance_answers.py``,
  ``test_a_minimum_weekday_is_avoided_when_balancing``, fails under Anki's
  rule). Anki's own comment says a Minimum day should "almost never be an
  option to schedule to";
- the cards counted are the Review cards that are not suspended, over the
  whole collection; Anki counts every card whose ``due`` day falls in the
  window (``get_all_cards_due_in_range``: suspended and buried review cards
  and interday learning cards too) within the answered card's preset;
- siblings are not spread apart (studylog cards have no sibling notes);
- Anki's lower bound from the other answer buttons (``minimum`` of
  ``constrained_fuzz_bounds``) is not applied: studylog's fuzz range is the
  ``fsrs`` package's.

Everything here is pure: due counts come in as arrays, no SQL.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from studylog.scheduling.fuzz import fuzz_range

if TYPE_CHECKING:  # arrays come in from the caller; this module needs no NumPy itself
    import numpy as np

MAX_BALANCED_INTERVAL = 90  # Anki's MAX_LOAD_BALANCE_INTERVAL (days)
# Anki keeps 10 % more days than the longest balanced interval: the fuzz range reaches past it.
BALANCE_DAYS = int(MAX_BALANCED_INTERVAL * 1.1)
# Anki's select_weighted_interval (rslib/src/scheduler/states/load_balancer.rs, since
# ankitects/anki#3864): weight = (1 / cards due) ** 2.15 * (1 / interval) ** 3 * easy-day modifier.
COUNT_EXPONENT = 2.15
INTERVAL_EXPONENT = 3
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class EasyDay(StrEnum):
    """How much review load a weekday takes (Anki's easy days: 100 %, 50 %, 0 %)."""

    NORMAL = "normal"
    REDUCED = "reduced"
    MINIMUM = "minimum"

    @property
    def load(self) -> float:
        """The weight modifier: Minimum is not 0, so if every day is Minimum all stay possible."""
        return {"normal": 1.0, "reduced": 0.5, "minimum": 0.0001}[self.value]


def parse_easy_days(value: object) -> tuple[EasyDay, ...]:
    """Seven :class:`EasyDay` values, Monday first, from a setting's JSON value.

    Accepts a list of 7 names (``["normal", ..., "minimum"]``) or a mapping of
    weekday names (``mon``..``sun``) to names, missing days normal; ``None`` or
    an empty list means all normal (Anki's empty ``easy_days_percentages``).

    Raises:
        ValueError: not 7 days, an unknown weekday or an unknown value (the
            message names it).
    """
    if value is None or value == [] or value == {}:
        return (EasyDay.NORMAL,) * 7
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(
                f"easy_days: unknown weekday {unknown[0]!r} (use {', '.join(WEEKDAYS)})"
            )
        names = [value.get(day, "normal") for day in WEEKDAYS]
    elif isinstance(value, list | tuple):
        if len(value) != 7:
            raise ValueError(f"easy_days: expected 7 days (Monday first), got {len(value)}")
        names = list(value)
    else:
        raise ValueError("easy_days: expected 7 values normal|reduced|minimum, Monday first")
    out = []
    for day, name in zip(WEEKDAYS, names, strict=True):
        try:
            out.append(EasyDay(str(name).lower()))
        except ValueError:
            raise ValueError(
                f"easy_days: {day} = {name!r} is not one of normal, reduced, minimum"
            ) from None
    return tuple(out)


def balanced_day(
    interval_days: int,
    u: float,
    maximum_interval: int,
    due_counts: np.ndarray,
    *,
    today: date,
    easy_days: Sequence[EasyDay] = (EasyDay.NORMAL,) * 7,
) -> int | None:
    """The load-balanced fuzzed interval in days, or None when the plain fuzz applies.

    Anki's ``LoadBalancer::find_interval``: each day of the fuzz range gets the
    weight ``(1 / cards due) ** 2.15 * (1 / interval) ** 3`` (a day with no
    cards due: 1) times its easy-day modifier (Anki's
    ``calculate_easy_days_modifiers``: a Reduced day counts as Normal while its
    cards due, doubled, stay at or under the other days' average, else as
    Minimum), and the day is drawn by weight with ``u`` (inverse CDF). In plain
    Python floats: the range holds a few dozen days at most, where NumPy's
    per-call cost was more than the FSRS step. ``tests/load_balance_numpy.py``
    writes the same formulas as whole-array NumPy, and a test checks both pick
    the same day on random counts, intervals and easy days.

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
    known = due_counts[lo : hi + 1].tolist() if lo < due_counts.size else []
    counts = [float(c) for c in known] + [0.0] * (hi + 1 - lo - len(known))
    first = today.weekday() + lo
    days = [easy_days[(first + i) % 7] for i in range(len(counts))]
    loads = [d.load for d in days]
    if EasyDay.REDUCED in days:
        total = 0.0
        for c in counts:  # float64 sum of whole numbers: exact, in any order
            total += c
        others_load = sum(loads) - EasyDay.REDUCED.load
        reduced_load = EasyDay.REDUCED.load
        for i, d in enumerate(days):
            if d is EasyDay.REDUCED:
                # NumPy's x / 0 is inf or nan here, and a count compared with either is False
                over = others_load != 0 and counts[i] / reduced_load > (total - counts[i]) / (
                    others_load
                )
                loads[i] = EasyDay.MINIMUM.load if over else EasyDay.NORMAL.load
    cdf: list[float] = []
    running = 0.0
    for i, c in enumerate(counts):
        ivl = max(float(lo + i), 1.0)
        weight = 1.0 if c == 0 else (1.0 / c) ** COUNT_EXPONENT * (1.0 / ivl) ** INTERVAL_EXPONENT
        running += weight * loads[i]
        cdf.append(running)
    index = bisect_right(cdf, u * cdf[-1])
    return lo + min(index, len(cdf) - 1)


@dataclass
class DayLoad:
    """Review cards due on each of the next study days, for balancing one day's answers.

    Attributes:
        today: the study day (calendar date) the counts start at.
        counts: int64 Review cards due on ``today + i``, shape (:data:`BALANCE_DAYS`,).
        easy_days: seven :class:`EasyDay`, Monday first.
    """

    today: date
    counts: np.ndarray
    easy_days: tuple[EasyDay, ...] = field(default=(EasyDay.NORMAL,) * 7)

    def interval(self, interval_days: int, u: float, maximum_interval: int) -> int | None:
        """:func:`balanced_day` with these counts (None: use the plain fuzz)."""
        return balanced_day(
            interval_days,
            u,
            maximum_interval,
            self.counts,
            today=self.today,
            easy_days=self.easy_days,
        )

    def move(self, old_day: int | None, new_day: int | None) -> None:
        """A card's due day changed from ``old_day`` to ``new_day`` (offsets from ``today``;
        None or outside the window: not counted)."""
        n = self.counts.size
        if old_day is not None and 0 <= old_day < n and self.counts[old_day] > 0:
            self.counts[old_day] -= 1
        if new_day is not None and 0 <= new_day < n:
            self.counts[new_day] += 1


__all__ = [
    "BALANCE_DAYS",
    "DayLoad",
    "MAX_BALANCED_INTERVAL",
    "WEEKDAYS",
    "EasyDay",
    "balanced_day",
    "parse_easy_days",
]
