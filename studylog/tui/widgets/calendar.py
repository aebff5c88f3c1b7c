"""A GitHub-style year of study days: one column per week, one coloured square per day.

Rows are the weekdays Monday to Sunday, columns the weeks ending with the
current one, so today sits in the last column. A day's shade grows with its
number of reviews, in four levels split at the quartiles of the active days
(as GitHub's contribution graph); a day with a journal entry but no review
gets the first level, so every study day shows. Squares are coloured spaces
(one cell each, with a one-cell gap): no block characters, whose width is
"ambiguous" in East Asian fonts and would break the grid on some Korean
terminals. Clicking a day opens it in Today (``app.open_day``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

from studylog.tui.access import studylog_app

WEEKS = 52  # 358-364 days: inside the 365 days of review counts
LABEL_WIDTH = 4  # "Mon "
CELL = 2  # a square and a gap
# GitHub's dark-theme greens, from no activity to most.
LEVEL_COLORS = ("#2d333b", "#0e4429", "#006d32", "#26a641", "#39d353")
DAY_NAMES = ("Mon", "", "Wed", "", "Fri", "", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class DayActivity:
    """What happened on one study day."""

    reviews: int = 0
    entries: int = 0

    @property
    def active(self) -> bool:
        return self.reviews > 0 or self.entries > 0


def thresholds(counts: list[int]) -> list[float]:
    """Review counts splitting the active days into four levels (the quartiles).

    >>> thresholds([1, 2, 3, 4, 5, 6, 7, 8])
    [2.75, 4.5, 6.25]
    """
    values = sorted(c for c in counts if c > 0)
    if not values:
        return [1.0, 1.0, 1.0]
    out = []
    for q in (0.25, 0.5, 0.75):
        # Linear interpolation between order statistics (NumPy's default percentile).
        pos = q * (len(values) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(values) - 1)
        out.append(values[lo] + (values[hi] - values[lo]) * (pos - lo))
    return out


def level(activity: DayActivity, cuts: list[float]) -> int:
    """0 (nothing) to 4: 1-4 by review-count quartile; an entry alone counts as 1."""
    if activity.reviews <= 0:
        return 1 if activity.entries else 0
    return 1 + min(bisect_right(cuts, activity.reviews - 1e-9), 3)


def grid_start(today: date, weeks: int = WEEKS) -> date:
    """The Monday of the first column: ``weeks`` columns end with today's week."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1)


class YearHeatmap(Widget):
    """Study days of the last year as a grid of coloured squares."""

    app = studylog_app()

    DEFAULT_CSS = """
    YearHeatmap {
        height: 10;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(
        self,
        days: Mapping[date, DayActivity] | None = None,
        today: date | None = None,
        *,
        weeks: int = WEEKS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.days: dict[date, DayActivity] = dict(days or {})
        self.today = today or date.today()
        self.weeks = weeks

    def set_data(self, days: Mapping[date, DayActivity], today: date) -> None:
        """Show new data (ends with ``today``'s week)."""
        self.days = dict(days)
        self.today = today
        self.refresh(layout=True)

    def shown_weeks(self) -> int:
        """The weeks that fit the widget's width (at most :attr:`weeks`), ending with today's."""
        width = self.content_size.width
        if width <= 0:
            return self.weeks
        return max(1, min(self.weeks, (width - LABEL_WIDTH) // CELL))

    def day_at(self, x: int, y: int) -> date | None:
        """The day drawn at content offset (x, y), if any (row 0 holds the month names)."""
        weeks = self.shown_weeks()
        if y < 1 or y > 7 or x < LABEL_WIDTH:
            return None
        week, within = divmod(x - LABEL_WIDTH, CELL)
        if within != 0 or week >= weeks:
            return None
        day = grid_start(self.today, weeks) + timedelta(weeks=week, days=y - 1)
        return day if day <= self.today else None

    def render(self) -> Text:
        weeks = self.shown_weeks()
        start = grid_start(self.today, weeks)
        cuts = thresholds([a.reviews for a in self.days.values()])
        text = Text(no_wrap=True, overflow="crop")
        # Month names above the first week whose Monday is in that month.
        header = [" "] * (LABEL_WIDTH + CELL * weeks)
        previous = None
        for week in range(weeks):
            month = (start + timedelta(weeks=week)).month
            if month != previous:
                name = MONTHS[month - 1]
                col = LABEL_WIDTH + CELL * week
                room = header[max(col - 1, 0) : col + len(name)]
                if col + len(name) <= len(header) and all(c == " " for c in room):
                    header[col : col + len(name)] = list(name)
            previous = month
        text.append("".join(header).rstrip() + "\n", style="dim")
        for weekday in range(7):
            text.append(DAY_NAMES[weekday].ljust(LABEL_WIDTH), style="dim")
            for week in range(weeks):
                day = start + timedelta(weeks=week, days=weekday)
                if day > self.today:
                    text.append("  ")
                    continue
                lvl = level(self.days.get(day, DayActivity()), cuts)
                square = Style(bgcolor=LEVEL_COLORS[lvl])
                if day == self.today:
                    square += Style(underline=True)
                text.append(" ", style=square)
                text.append(" ")
            text.append("\n")
        active = sum(1 for d, a in self.days.items() if a.active and start <= d <= self.today)
        text.append(" " * LABEL_WIDTH + "less ", style="dim")
        for color in LEVEL_COLORS:
            text.append(" ", style=Style(bgcolor=color))
            text.append(" ")
        text.append("more", style="dim")
        text.append(f"    {active} study days in {weeks} weeks", style="dim")
        return text

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        day = self.day_at(offset.x, offset.y)
        if day is not None:
            self.app.call_next(self.app.open_day, day)
