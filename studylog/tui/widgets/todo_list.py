"""The study day's TODO list: a virtual list (hundreds of carried-over items stay fast).

Each row: a check mark, the text (cut to the width in terminal cells, so
Korean lines up), and for carried-over items their origin day ("↪ 2026-11-19")
in a right-aligned column. The keys act on the row under the cursor; the
screen does the work (the actions are ``screen.*``), this widget only shows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from studylog.services.todos import TodoInfo
from studylog.tui.widgets.rowlist import RowList, fit

ORIGIN_WIDTH = 12  # "↪ 2026-11-19"
SHORT_ORIGIN_WIDTH = 7  # "↪ 11-19": at 80 columns the list is too narrow for the full date
FULL_ORIGIN_FROM = 36  # the list's width (cells) from which the full date is shown


def origin_label(todo: TodoInfo, *, short: bool = False, day: date | None = None) -> str:
    """``↪ YYYY-MM-DD`` for a carried-over TODO, else empty.

    ``short``: ``↪ MM-DD``, or ``↪ YYYY`` when the origin is in another year than
    ``day`` (the day shown), so a short label is never read as the wrong date.
    """
    if not todo.carried:
        return ""
    origin = todo.origin_day
    if not short:
        return f"↪ {origin.isoformat()}"
    if day is not None and origin.year != day.year:
        return f"↪ {origin.year}"
    return f"↪ {origin:%m-%d}"


class TodoList(RowList[TodoInfo]):
    """The TODO rows of one study day (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,x", "screen.toggle_todo", "Done/undo", id="today.todo.toggle"),
        Binding("e", "screen.edit_todo", "Edit", id="today.todo.edit"),
        Binding("d,delete", "screen.delete_todo", "Delete", id="today.todo.delete"),
        Binding(
            "shift+up,K",
            "screen.move_todo(-1)",
            "Move up",
            key_display="⇧↑/K",
            id="today.todo.up",
        ),
        Binding(
            "shift+down,J",
            "screen.move_todo(1)",
            "Move down",
            key_display="⇧↓/J",
            id="today.todo.down",
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(empty="No TODOs for this day.\nPress a to add one.", id=id)
        self.day: date | None = None  # the study day shown (the screen sets it)

    def render_row(self, row: TodoInfo, index: int, line: int, width: int) -> Text:
        mark = Text("✓ ", style=self.style_of("rowlist--accent")) if row.done else Text("☐ ")
        body = Text(row.text, style=self.style_of("rowlist--done") if row.done else "")
        if row.due_day is not None and not row.done:
            body.append(f" · due {row.due_day.isoformat()}", style=self.style_of("rowlist--muted"))
        short = width < FULL_ORIGIN_FROM
        origin = origin_label(row, short=short, day=self.day)
        column = SHORT_ORIGIN_WIDTH if short else ORIGIN_WIDTH
        right = column + 1 if origin and width >= 20 else 0
        text = Text(" ") + mark + fit(body, max(1, width - 3 - right))
        if right:
            text.append(" ")
            muted = Text(origin, style=self.style_of("rowlist--muted"))
            text.append_text(fit(muted, column, align="right"))
        return text

    # --- local updates (no reload: a toggle on a 5,000-row day costs what it costs on 5) --

    def index_of(self, todo_id: int) -> int | None:
        for i, todo in enumerate(self.rows):
            if todo.id == todo_id:
                return i
        return None

    def replace_row(self, todo: TodoInfo) -> None:
        """Show the new state of a TODO (it keeps its place and its carried flag)."""
        index = self.index_of(todo.id)
        if index is not None:
            old = self.rows[index]
            self.rows[index] = replace(todo, carried=old.carried)
            self.refresh()

    def remove_row(self, todo_id: int) -> None:
        index = self.index_of(todo_id)
        if index is not None:
            rows = self.rows[:index] + self.rows[index + 1 :]
            self.set_rows(rows, cursor=min(index, len(rows) - 1))

    def move_row(self, todo_id: int, offset: int) -> None:
        """Move a row among the rows of its own origin day, as ``todos.move`` does in the DB."""
        index = self.index_of(todo_id)
        if index is None:
            return
        origin = self.rows[index].origin_day
        block = [i for i, t in enumerate(self.rows) if t.origin_day == origin]
        position = block.index(index)
        target = block[max(0, min(len(block) - 1, position + offset))]
        rows = list(self.rows)
        rows.insert(target, rows.pop(index))
        self.set_rows(rows, cursor=target)

    def counts(self) -> tuple[int, int, int]:
        """(done, total, carried) of the rows shown."""
        done = sum(1 for t in self.rows if t.done)
        carried = sum(1 for t in self.rows if t.carried)
        return done, len(self.rows), carried
