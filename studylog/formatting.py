"""Anki-style short interval labels for the answer buttons ('1m', '10m', '3d', '2.1mo', '1.2y').

Mirrors Anki's ``rslib/src/scheduler/timespan.rs`` (``answer_button_time``):
the unit is the largest of s, m, h, d, mo, y that the span reaches, with a
year of 365 days and a month of a twelfth of that; seconds, minutes and days
are rounded to whole numbers, hours, months and years to one decimal (halves
away from zero, as Rust's ``f32::round``), and a trailing ``.0`` is dropped.
"""

from __future__ import annotations

import math

SECOND = 1.0
MINUTE = 60.0 * SECOND
HOUR = 60.0 * MINUTE
DAY = 24.0 * HOUR
YEAR = 365.0 * DAY
MONTH = YEAR / 12.0

_UNITS = (
    (MINUTE, SECOND, "s", 0),
    (HOUR, MINUTE, "m", 0),
    (DAY, HOUR, "h", 1),
    (MONTH, DAY, "d", 0),
    (YEAR, MONTH, "mo", 1),
    (math.inf, YEAR, "y", 1),
)


def _round_half_away(x: float, digits: int) -> float:
    scale = 10.0**digits
    return math.copysign(math.floor(abs(x) * scale + 0.5), x) / scale


def format_interval(seconds: float) -> str:
    """A span in seconds as Anki shows it above an answer button.

    Examples (Anki's own tests): 30 -> '30s', 70 -> '1m', 1.1 months -> '1.1mo';
    and 600 -> '10m', 3 days -> '3d', 45 days -> '1.5mo', 365 days -> '1y'.
    """
    span = abs(seconds)
    for limit, unit, suffix, digits in _UNITS:
        if span < limit:
            amount = _round_half_away(seconds / unit, digits)
            text = f"{amount:.{digits}f}" if digits else f"{amount:.0f}"
            if digits and text.endswith(".0"):
                text = text[:-2]
            return f"{text}{suffix}"
    raise AssertionError("unreachable: the last unit has no limit")
