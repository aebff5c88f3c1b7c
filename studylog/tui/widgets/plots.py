"""Small charts for the Stats screen: bars per day and a labelled horizontal bar list.

:class:`BarChart` draws one vertical bar per value with eighth-block
resolution (as Textual's Sparkline and plotext do), a y axis marked at 0 and
the maximum, and x labels under the first, middle and last bar. When there
are more values than columns, the most recent ones are kept (the chart is
about "lately"). :func:`hbars` draws named counts as horizontal bars with
their numbers, labels padded by terminal cells so Korean names line up.

Own widgets rather than textual-plotext: they size exactly to their widget,
draw integer counts without plotext's fractional axis ticks, and render the
same in snapshot tests whatever the terminal reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

EIGHTHS = " ▁▂▃▄▅▆▇█"  # lower eighths: vertical bars
LEFT_EIGHTHS = " ▏▎▍▌▋▊▉█"  # left eighths: horizontal bars


def bar_columns(values: Sequence[float], rows: int, vmax: float | None = None) -> list[list[str]]:
    """Each value as a column of ``rows`` characters, top first, in eighths of a row.

    >>> bar_columns([0, 4, 8], rows=1, vmax=8)
    [[' '], ['▄'], ['█']]
    """
    top = vmax if vmax is not None else max(values, default=0)
    out = []
    for v in values:
        eighths = 0 if top <= 0 else round(max(v, 0) / top * rows * 8)
        if v > 0 and eighths == 0:
            eighths = 1  # a day with any activity is never drawn as nothing
        column = []
        for r in range(rows - 1, -1, -1):
            fill = min(max(eighths - r * 8, 0), 8)
            column.append(EIGHTHS[fill])
        out.append(column)
    return out


class BarChart(Widget):
    """Vertical bars of ``values`` with x ``labels`` (one per value) and a title."""

    DEFAULT_CSS = """
    BarChart {
        height: 12;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(
        self,
        title: str = "",
        values: Sequence[float] = (),
        labels: Sequence[str] = (),
        *,
        color: str = "green",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.values = list(values)
        self.labels = list(labels)
        self.color = color

    def set_data(self, title: str, values: Sequence[float], labels: Sequence[str]) -> None:
        self.title = title
        self.values = list(values)
        self.labels = list(labels)
        self.refresh()

    def render(self) -> Text:
        width = max(self.content_size.width, 10)
        rows = max(self.content_size.height - 3, 1)  # title, axis, labels
        values, labels = self.values, self.labels
        vmax = max(values, default=0)
        axis = len(f"{vmax:g}")
        room = width - axis - 2
        if len(values) > room:
            values, labels = values[-room:], labels[-room:]
        n = len(values)
        slot = max(1, room // max(n, 1))
        gap = 1 if slot >= 2 else 0  # separate bars when there is room for it
        bar = slot - gap
        text = Text(no_wrap=True, overflow="crop")
        text.append(self.title + "\n", style="bold")
        columns = bar_columns(values, rows, vmax)
        for r in range(rows):
            mark = f"{vmax:g}" if r == 0 else ("0" if r == rows - 1 else "")
            text.append(mark.rjust(axis) + (" ┤" if mark else " │"), style="dim")
            for col in columns:
                text.append(col[r] * bar, style=self.color)
                text.append(" " * gap)
            text.append("\n")
        text.append(" " * axis + " └" + "─" * ((bar + gap) * n), style="dim")
        text.append("\n")
        text.append(self._x_labels(labels, axis + 2, bar + gap), style="dim")
        return text

    @staticmethod
    def _x_labels(labels: Sequence[str], offset: int, step: int) -> str:
        """The first, middle and last labels under their bars (those that fit)."""
        n = len(labels)
        if not n:
            return ""
        line = [" "] * (offset + step * n + 12)
        placed_until = -1
        for i in sorted({0, n // 2, n - 1}):
            label = labels[i]
            col = offset + step * i
            if i == n - 1:
                col = max(col + step - len(label), 0)  # right-align the last label
            elif i == n // 2:
                col = max(col - len(label) // 2, 0)
            if col <= placed_until + 1:
                continue
            line[col : col + len(label)] = list(label)
            placed_until = col + len(label)
        return "".join(line).rstrip()


def hbars(items: Sequence[tuple[str, float]], width: int, *, color: str = "cyan") -> Text:
    """Named values as horizontal bars: ``label  ████▌   123``, labels padded by cells."""
    text = Text(no_wrap=True, overflow="crop")
    if not items:
        return text
    label_width = max(cell_len(label) for label, _ in items)
    number_width = max(len(f"{v:g}") for _, v in items)
    room = max(width - label_width - number_width - 2, 4)  # label, space, bar, space, number
    top = max((v for _, v in items), default=0)
    for k, (label, value) in enumerate(items):
        if k:
            text.append("\n")
        text.append(label + " " * (label_width - cell_len(label)) + " ")
        eighths = 0 if top <= 0 else round(value / top * room * 8)
        full, part = divmod(eighths, 8)
        text.append("█" * full + (LEFT_EIGHTHS[part] if part else ""), style=color)
        text.append(" " * (room - full - (1 if part else 0) + 1))
        text.append(f"{value:g}".rjust(number_width))
    return text
