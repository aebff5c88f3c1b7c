"""A virtual list: rows of a fixed height, only the visible lines are ever rendered.

Years of carried-over TODOs can make a day's list thousands of rows long. A
ListView or OptionList builds (and measures) every row when the list is set;
this widget stores the rows as plain data and renders a row only when its
line is on screen, so setting 5,000 rows costs what setting 5 does.

Rows are drawn by :meth:`RowList.render_row`, which subclasses override. Text
is measured in terminal cells (a Korean syllable takes two), so columns line
up; :func:`fit` cuts or pads a text to a number of cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

T = TypeVar("T")


def fit(text: Text | str, width: int, *, align: str = "left") -> Text:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` terminal cells."""
    out = text.copy() if isinstance(text, Text) else Text(text)
    out.no_wrap = True
    if width <= 0:
        return Text("")
    if out.cell_len > width:
        out.truncate(width, overflow="ellipsis")
    pad = width - out.cell_len
    if pad > 0:
        if align == "right":
            out = Text(" " * pad) + out
        else:
            out.append(" " * pad)
    return out


class _RowListMessage(Message):
    """A message about row ``index`` of a :class:`RowList` (its ``control``)."""

    def __init__(self, rowlist: RowList[Any], index: int | None) -> None:
        super().__init__()
        self.rowlist = rowlist
        self.index = index

    @property
    def control(self) -> RowList[Any]:
        return self.rowlist


class RowList(ScrollView, Generic[T], can_focus=True):
    """A focusable, scrollable list of rows with a cursor; see the module docstring."""

    DEFAULT_CSS = """
    RowList {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    RowList > .rowlist--cursor {
        background: $block-cursor-blurred-background;
    }
    RowList:focus > .rowlist--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    RowList > .rowlist--muted {
        color: $text-muted;
    }
    RowList > .rowlist--accent {
        color: $text-accent;
    }
    RowList > .rowlist--match {
        color: $text-warning;
        text-style: bold;
    }
    RowList > .rowlist--done {
        color: $text-disabled;
        text-style: strike;
    }
    RowList > .rowlist--empty {
        color: $text-muted;
        text-style: italic;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rowlist--cursor",
        "rowlist--muted",
        "rowlist--accent",
        "rowlist--match",
        "rowlist--done",
        "rowlist--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]
    row_height: ClassVar[int] = 1

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(_RowListMessage):
        """The cursor moved to ``index`` (None: the list is empty)."""

        index: int | None

    class Selected(_RowListMessage):
        """Enter (or a click on the cursor row) on row ``index``."""

        index: int

    def __init__(
        self,
        *,
        empty: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.rows: list[T] = []
        self.empty = empty

    # --- data -------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[T], *, cursor: int | None = None) -> None:
        """Replace the rows (O(1) in their number: nothing is rendered here).

        ``cursor`` places the cursor; by default it stays at the same index, clamped.
        Posts no :class:`Highlighted` (only moves by the user do).
        """
        self.rows = list(rows)
        self.virtual_size = Size(self.size.width, len(self.rows) * self.row_height)
        target = self.cursor if cursor is None else cursor
        # No Highlighted message: that is for the user moving the cursor; the code
        # that sets the rows knows what it put under the cursor.
        self.set_reactive(RowList.cursor, self._clamp(target))
        self._scroll_to_cursor()
        self.refresh()

    @property
    def current(self) -> T | None:
        """The row under the cursor, or None when the list is empty."""
        return self.rows[self.cursor] if self.rows else None

    def _clamp(self, index: int) -> int:
        return max(0, min(index, len(self.rows) - 1)) if self.rows else 0

    def validate_cursor(self, index: int) -> int:
        return self._clamp(index)

    def watch_cursor(self, index: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self, index if self.rows else None))

    def _scroll_to_cursor(self) -> None:
        if not self.rows or not self.is_mounted:
            return
        region = Region(0, self.cursor * self.row_height, 1, self.row_height)
        self.scroll_to_region(region, animate=False, force=True, immediate=True)

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) * self.row_height)
        self._scroll_to_cursor()

    # --- keys and mouse ---------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height // self.row_height - 1)

    def action_page_up(self) -> None:
        self.cursor -= self._page()

    def action_page_down(self) -> None:
        self.cursor += self._page()

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        index = (event.y + self.scroll_offset.y) // self.row_height
        if 0 <= index < len(self.rows):
            if index == self.cursor and event.chain >= 2:
                self.post_message(self.Selected(self, index))
            self.cursor = index

    # --- rendering --------------------------------------------------------------------

    def style_of(self, component: str) -> Style:
        """The rich style of one of this widget's component classes (e.g. ``"rowlist--muted"``)."""
        return self.get_component_rich_style(component, partial=True)

    def render_row(self, row: T, index: int, line: int, width: int) -> Text:
        """Line ``line`` (0..row_height-1) of row ``row`` as text at most ``width`` cells wide."""
        return Text(str(row))

    def render_empty(self, line: int, width: int) -> Text:
        """What an empty list shows: the ``empty`` text, one line per text line."""
        lines = self.empty.splitlines()
        if line < len(lines):
            return Text(" " + lines[line], style=self.style_of("rowlist--empty"))
        return Text("")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        line_no = self.scroll_offset.y + y
        if not self.rows:
            text = self.render_empty(line_no, width) if y == line_no else Text("")
            return self._strip(text, width, base)
        index, line = divmod(line_no, self.row_height)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        text = self.render_row(self.rows[index], index, line, width)
        style = base + self.style_of("rowlist--cursor") if index == self.cursor else base
        return self._strip(text, width, style)

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        text = text.copy()
        text.no_wrap = True
        text.end = ""
        text.stylize_before(style)
        segments = [s for s in text.render(self.app.console) if s.text]
        length = sum(cell_len(s.text) for s in segments)
        strip = Strip(segments or [Segment("", style)], length)
        return strip.adjust_cell_length(width, style)
