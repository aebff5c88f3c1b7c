"""The card browser (F7): Anki's search over every card, sortable columns, card info, edit.

The list is virtual twice over: :class:`BrowseList` renders only the lines on
screen (:class:`~studylog.tui.widgets.rowlist.RowList`), and its rows are read
from the database a page (:data:`PAGE` rows) at a time, in a thread worker,
when a line of a page not yet read comes on screen. A search of 100,000 cards
reads one page and the count, not 100,000 rows.

Keys: ``/`` edit the search (Enter runs it; a malformed search shows the
column of the problem), ``<``/``>`` the sort column, ``r`` reverse it,
``space`` select the card under the cursor, ``a`` select every matching card,
``escape`` clear the selection, ``i`` card info panel, ``e`` edit the card
(front, back, cloze) with a live preview, ``enter`` the card view. Bulk
actions on the selection (or the card under the cursor): see
:mod:`studylog.tui.screens.browse_actions`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, overload

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from studylog.errors import StudylogError
from studylog.services import browse as browse_service
from studylog.services import card_actions
from studylog.services.browse import SORTS, BrowseRow, CardDetail, Page
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.guard import guarded, report
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar
from studylog.tui.widgets.prompts import Confirm, TextPrompt
from studylog.tui.widgets.rowlist import RowList, fit

PAGE = 200  # rows read at a time
WIDE = 100  # from this many columns the card info panel is shown beside the list
HELP = (
    'Search with Anki\'s syntax: words, "phrases", -not, OR, ( ),\n'
    "deck:딥러닝::RNN  tag:attention  concept:lstm  is:due  is:new  is:suspended\n"
    "prop:ivl>=10  prop:r<0.9  prop:d>0.7  rated:7:1  added:3  introduced:30"
)
SORT_TITLES = {
    "added": "added",
    "modified": "modified",
    "due": "due",
    "interval": "ivl",
    "stability": "S",
    "difficulty": "D",
    "retrievability": "R",
    "lapses": "lapses",
    "reviews": "reps",
}


class LazyRows(Sequence[BrowseRow | None]):
    """``total`` rows of which only the pages read so far are held; the rest are None."""

    def __init__(self, total: int = 0) -> None:
        self.total = total
        self.pages: dict[int, list[BrowseRow]] = {}
        self.wanted: set[int] = set()  # pages asked for and not yet here

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> BrowseRow | None: ...
    @overload
    def __getitem__(self, index: slice) -> list[BrowseRow | None]: ...
    def __getitem__(self, index):  # noqa: ANN001, ANN204
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.total))]
        if not 0 <= index < self.total:
            raise IndexError(index)
        page = self.pages.get(index // PAGE)
        if page is None:
            self.wanted.add(index // PAGE)
            return None
        offset = index % PAGE
        return page[offset] if offset < len(page) else None


@dataclass(frozen=True)
class Column:
    key: str  # a BrowseRow attribute or a pseudo column
    title: str
    width: int
    align: str = "left"


# (column, the least list width at which it is shown); the front takes what is left.
_COLUMNS: tuple[tuple[Column, int], ...] = (
    (Column("due", "due", 10), 0),
    (Column("interval", "ivl", 5, "right"), 0),
    (Column("retrievability", "R", 4, "right"), 0),
    (Column("deck", "deck", 14), 70),
    (Column("stability", "S", 6, "right"), 56),
    (Column("difficulty", "D", 4, "right"), 62),
    (Column("lapses", "lap", 3, "right"), 90),
    (Column("reviews", "reps", 4, "right"), 95),
)


def columns_for(width: int) -> list[Column]:
    """The columns shown in a list ``width`` cells wide (front first, flexible)."""
    shown = [c for c, least in _COLUMNS if width >= least]
    fixed = sum(c.width + 1 for c in shown) + 2  # the selection mark
    return [Column("front", "front", max(8, width - fixed)), *shown]


def cell(row: BrowseRow, key: str, today_text: str) -> str:
    """The text of one column of ``row``."""
    if key == "front":
        return " ".join(row.front.split())
    if key == "deck":
        return row.deck
    if key == "due":
        if row.suspended:
            return "(suspended)"
        if row.buried:
            return "(buried)"
        return "new" if row.state == "new" else row.due.date().isoformat()
    if key == "interval":
        return f"{row.interval_days}d" if row.interval_days else "-"
    if key == "stability":
        return f"{row.stability:.1f}" if row.stability is not None else "-"
    if key == "difficulty":
        return f"{(row.difficulty - 1) / 9:.0%}" if row.difficulty is not None else "-"
    if key == "retrievability":
        return f"{row.retrievability:.0%}" if row.retrievability is not None else "-"
    if key == "lapses":
        return str(row.lapses)
    if key == "reviews":
        return str(row.reps)
    return ""


class BrowseList(RowList[BrowseRow | None]):
    """One line per card; rows not read yet show as ``…`` and ask for their page."""

    class PagesWanted(Message):
        """Lines of pages not yet read are on screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(empty=HELP, id=id)
        self.lazy = LazyRows()
        self.selected: set[int] = set()
        self.all_selected = False  # every card of the search (ids are read when acted on)

    def set_lazy(self, rows: LazyRows, *, cursor: int | None = None) -> None:
        """Show ``rows`` (no row is copied: 100,000 cost what 10 do)."""
        self.lazy = rows
        self.set_rows([], cursor=cursor)
        self.rows = rows  # type: ignore[assignment]
        self.virtual_size = self.virtual_size.with_height(len(rows))
        self.set_reactive(RowList.cursor, self._clamp(self.cursor if cursor is None else cursor))
        self._scroll_to_cursor()
        self.refresh()

    def render_row(self, row: BrowseRow | None, index: int, line: int, width: int) -> Text:
        if row is None:
            self.call_later(self.post_message, self.PagesWanted())
            return Text(" …", style=self.style_of("rowlist--muted"))
        mark = "●" if self.all_selected or row.id in self.selected else " "
        text = Text(mark + " ", style=self.style_of("rowlist--accent"))
        for column in columns_for(width):
            value = cell(row, column.key, "")
            style = self.style_of("rowlist--muted") if column.key != "front" else ""
            if column.key == "due" and (row.suspended or row.buried):
                style = self.style_of("rowlist--done")
            text.append_text(fit(Text(value, style=style), column.width, align=column.align))
            text.append(" ")
        return text


def header_text(width: int, sort: str, descending: bool) -> Text:
    """The column titles with the sort column marked ▲ (ascending) or ▼."""
    text = Text("  ", style="bold")
    for column in columns_for(width):
        title = column.title
        if column.key == sort or (column.key == "front" and sort in ("added", "modified")):
            title = (SORT_TITLES[sort] if column.key == "front" else title) + (
                " ▼" if descending else " ▲"
            )
            if column.key == "front":
                title = f"front (by {title})"
        style = "bold reverse" if column.key == sort else "bold"
        text.append_text(fit(Text(title, style=style), column.width, align=column.align))
        text.append(" ")
    return text


def info_text(detail: CardDetail) -> Text:
    """The card info panel: fields, state, memory, the four answers now, every review."""
    c = detail.card
    text = Text()
    text.append(f"Card {c.id}", style="bold")
    text.append(f" · {c.kind} · {c.deck}\n", style="dim")
    text.append("Front ", style="bold")
    text.append(c.front + "\n")
    text.append("Back  ", style="bold")
    text.append((c.back or "-") + "\n")
    if c.tags:
        text.append("Tags  " + " ".join(f"#{t}" for t in c.tags) + "\n", style="dim")
    if c.concept_slug:
        text.append(f"Concept {c.concept_slug}\n", style="dim")
    state = "suspended" if c.suspended else ("buried" if c.buried else c.state)
    text.append(f"\nState {state} · reps {c.reps} · lapses {c.lapses}\n")
    text.append(f"Due {c.due:%Y-%m-%d %H:%M} UTC · interval {c.interval_days}d\n")
    if c.stability is not None and c.difficulty is not None:
        r = f"{c.retrievability:.1%}" if c.retrievability is not None else "-"
        text.append(
            f"Stability {c.stability:.2f}d · difficulty {(c.difficulty - 1) / 9:.0%}"
            f" ({c.difficulty:.2f}) · R {r}\n"
        )
    text.append(
        "Now: " + "  ".join(f"{k} {_days(v)}" for k, v in detail.preview.items()) + "\n",
        style="dim",
    )
    if detail.exercise_id is not None:
        text.append(f"\nAttempts at {detail.exercise_id} ({len(detail.attempts)})\n", style="bold")
        for a in reversed(detail.attempts):
            text.append(
                f"{a.attempted_at:%Y-%m-%d %H:%M} {a.status:<7} "
                f"{a.checks_passed}/{a.checks} checks {a.duration_ms} ms\n"
            )
    text.append(f"\nReviews ({len(detail.reviews)})\n", style="bold")
    for e in reversed(detail.reviews):
        s = f"S {e.stability_after:.1f}" if e.stability_after is not None else ""
        text.append(
            f"{e.reviewed_at:%Y-%m-%d %H:%M} {e.rating_name:<5} → {e.state_after} {s}\n",
        )
    return text


def _days(days: float) -> str:
    if days < 1:
        minutes = days * 1440
        return f"{minutes:.0f}m" if minutes < 60 else f"{minutes / 60:.1f}h"
    return f"{days:.0f}d" if days < 100 else f"{days / 30.4:.1f}mo"


class PageLoaded(Message):
    def __init__(self, seq: int, page: Page, seconds: float) -> None:
        super().__init__()
        self.seq = seq
        self.page = page
        self.seconds = seconds


class LoadFailed(Message):
    def __init__(self, seq: int, error: Exception) -> None:
        super().__init__()
        self.seq = seq
        self.error = error


class InfoLoaded(Message):
    def __init__(self, card_id: int, detail: CardDetail | None, error: Exception | None) -> None:
        super().__init__()
        self.card_id = card_id
        self.detail = detail
        self.error = error


class ActionDone(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ActionFailed(Message):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class BrowseScreen(CollectionScreen):
    """See the module docstring."""

    AUTO_FOCUS = "#browse-input"
    DEFAULT_CSS = """
    BrowseScreen #browse-input { height: 3; margin: 0 0; }
    BrowseScreen #browse-status { height: 1; padding: 0 1; color: $text-muted; }
    BrowseScreen #browse-header { height: 1; background: $panel; }
    BrowseScreen #browse-main { height: 1fr; }
    BrowseScreen #browse-left { width: 1fr; }
    BrowseScreen #browse-list { height: 1fr; }
    BrowseScreen #browse-info {
        width: 44; border-left: solid $panel-lighten-2; padding: 0 1; display: none;
    }
    BrowseScreen.-info #browse-info { display: block; }
    BrowseScreen.-narrow.-info #browse-info { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_input", "Search", key_display="/", id="browse.search"),
        Binding("down", "focus_list", "List", show=False, id="browse.list"),
        Binding(
            "less_than_sign,comma", "sort(-1)", "Sort ←", key_display="<", id="browse.sort_prev"
        ),
        Binding(
            "greater_than_sign,full_stop",
            "sort(1)",
            "Sort →",
            key_display=">",
            id="browse.sort_next",
        ),
        Binding("r", "reverse", "Reverse", id="browse.reverse"),
        Binding("space", "toggle_select", "Select", id="browse.select"),
        Binding("a", "select_all", "Select all", id="browse.select_all"),
        Binding("escape", "clear", "Clear", id="browse.clear"),
        Binding("i", "toggle_info", "Info", id="browse.info"),
        Binding("e", "edit", "Edit", id="browse.edit"),
        Binding("s", "suspend", "Suspend", id="browse.suspend"),
        Binding("b", "bury", "Bury", id="browse.bury"),
        Binding("m", "move", "Move", id="browse.move"),
        Binding("t", "tag", "Tag", id="browse.tag"),
        Binding("T", "untag", "Untag", key_display="T", id="browse.untag"),
        Binding("f", "forget", "Forget", id="browse.forget"),
        Binding("d", "set_due", "Set due", id="browse.set_due"),
        Binding("delete", "delete", "Delete", id="browse.delete"),
        Binding("u", "undo", "Undo", id="browse.undo"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._seq = 0
        self.query_text = ""
        self.sort = "added"
        self.descending = False
        self.total = 0
        self.busy = False
        self.error: str | None = None
        self.last_seconds: float | None = None
        self.info_for: int | None = None
        self._asked: set[int] = set()  # further pages asked for in this search
        self._cursor_after = 0

    def compose(self) -> ComposeResult:
        yield ModeBar("browse")
        yield Input(
            placeholder="deck:딥러닝 is:due  ·  tag:attention -is:suspended  ·  prop:r<0.9",
            id="browse-input",
        )
        yield Static(id="browse-status")
        with Horizontal(id="browse-main"):
            with Vertical(id="browse-left"):
                yield Static(id="browse-header")
                yield BrowseList(id="browse-list")
            with VerticalScroll(id="browse-info"):
                yield Static(id="browse-info-text")
        yield KeyBar()

    @property
    def list(self) -> BrowseList:
        return self.query_one("#browse-list", BrowseList)

    def on_mount(self) -> None:
        # The info panel is shown beside the list when there is room; ``i`` toggles it.
        self.set_class(self.app.size.width < WIDE, "-narrow")
        self.set_class(self.app.size.width >= WIDE, "-info")
        self.load(reset=True)

    def on_resize(self) -> None:
        self._layout(self.size.width)

    def _layout(self, width: int) -> None:
        narrow = width < WIDE
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self.set_class(not narrow, "-info")
        self._header()

    def refresh_collection(self) -> None:
        """Something was written: read the shown pages again (cursor and selection stay),
        and the card info too: the card under the cursor may be the one that changed."""
        self.info_for = None
        self.load(reset=False)

    # --- reading ------------------------------------------------------------------------

    def load(self, *, reset: bool) -> None:
        """Read the search's first page (reset: cursor to the top) in a worker."""
        self._seq += 1
        self.busy = True
        self.error = None
        cursor = 0 if reset else self.list.cursor
        self._cursor_after = cursor
        self._fetch(self._seq, self.query_text, self.sort, self.descending, cursor // PAGE)
        self._status()

    @work(thread=True, group="browse", exit_on_error=False)
    def _fetch(self, seq: int, query: str, sort: str, descending: bool, page: int) -> None:
        start = time.perf_counter()
        try:
            result = browse_service.search(
                self.app.db,
                query,
                sort=sort,
                descending=descending,
                limit=PAGE,
                offset=page * PAGE,
                now=self.app.now(),
            )
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(LoadFailed(seq, error))
            return
        self.post_message(PageLoaded(seq, result, time.perf_counter() - start))

    @on(PageLoaded)
    def _loaded(self, message: PageLoaded) -> None:
        page = message.page
        if message.seq == self._seq:
            # The first page of a search, or the re-read after a change: fresh pages.
            self.busy = False
            self.last_seconds = message.seconds
            self.total = page.total
            rows = LazyRows(page.total)
            rows.pages[page.offset // PAGE] = page.rows
            self._asked = set()
            self.list.set_lazy(rows, cursor=self._cursor_after)
        elif message.seq == -self._seq:  # a further page of the same search
            rows = self.list.lazy
            rows.pages[page.offset // PAGE] = page.rows
            rows.wanted.discard(page.offset // PAGE)
            self.list.refresh()
        else:
            return
        self._status()
        self._header()
        self._show_info_soon()

    @on(BrowseList.PagesWanted)
    def _pages_wanted(self) -> None:
        rows = self.list.lazy
        for page in sorted(rows.wanted):
            if page in rows.pages or page in self._asked:
                continue
            self._asked.add(page)
            self._fetch_more(self._seq, self.query_text, self.sort, self.descending, page)

    @work(thread=True, group="browse-more", exit_on_error=False)
    def _fetch_more(self, seq: int, query: str, sort: str, descending: bool, page: int) -> None:
        try:
            result = browse_service.search(
                self.app.db,
                query,
                sort=sort,
                descending=descending,
                limit=PAGE,
                offset=page * PAGE,
                now=self.app.now(),
            )
        except Exception as error:  # noqa: BLE001
            self.post_message(LoadFailed(seq, error))
            return
        self.post_message(PageLoaded(-seq, result, 0.0))

    @on(LoadFailed)
    def _failed(self, message: LoadFailed) -> None:
        if abs(message.seq) != self._seq:
            return
        self.busy = False
        if isinstance(message.error, StudylogError):
            self.error = str(message.error)
            self._status()
        else:
            report(self, message.error)

    def _status(self) -> None:
        status = Text(" ")
        if self.error:
            status.append(self.error, style="red")
        elif self.busy:
            status.append("searching…", style="dim")
        else:
            status.append(f"{self.total:,} card{'s' if self.total != 1 else ''}", style="bold")
            if self.query_text:
                status.append(f" match {self.query_text!r}")
            chosen = self.list.selected
            if self.list.all_selected:
                status.append(f" · all {self.total:,} selected", style="bold")
            elif chosen:
                status.append(f" · {len(chosen)} selected", style="bold")
            status.append(
                f" · sorted by {self.sort} {'▼' if self.descending else '▲'}", style="dim"
            )
        self.query_one("#browse-status", Static).update(status)

    def _header(self) -> None:
        width = self.list.scrollable_content_region.width or self.list.size.width
        if width:
            self.query_one("#browse-header", Static).update(
                header_text(width, self.sort, self.descending)
            )

    # --- card info --------------------------------------------------------------------

    @on(RowList.Highlighted, "#browse-list")
    def _highlighted(self) -> None:
        self._show_info_soon()

    def _show_info_soon(self) -> None:
        if not self.has_class("-info"):
            return
        row = self.list.current
        if row is None or row.id == self.info_for:
            return
        self.info_for = row.id
        self._read_info(row.id)

    @work(thread=True, exclusive=True, group="browse-info", exit_on_error=False)
    def _read_info(self, card_id: int) -> None:
        try:
            detail = browse_service.card_info(self.app.db, card_id, now=self.app.now())
        except Exception as error:  # noqa: BLE001
            self.post_message(InfoLoaded(card_id, None, error))
            return
        self.post_message(InfoLoaded(card_id, detail, None))

    @on(InfoLoaded)
    def _info(self, message: InfoLoaded) -> None:
        if message.card_id != self.info_for:
            return
        panel = self.query_one("#browse-info-text", Static)
        if message.detail is not None:
            panel.update(info_text(message.detail))
        elif isinstance(message.error, StudylogError):
            panel.update(Text(str(message.error), style="red"))
        elif message.error is not None:
            report(self, message.error)

    # --- keys -------------------------------------------------------------------------

    @on(Input.Submitted, "#browse-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.search(event.value)
        if not self.error:
            self.list.focus()

    def search(self, query: str) -> None:
        """Show the cards matching ``query`` (the selection is cleared)."""
        self.query_text = query.strip()
        self.list.selected.clear()
        self.list.all_selected = False
        self.load(reset=True)

    def action_focus_input(self) -> None:
        self.query_one("#browse-input", Input).focus()

    def action_focus_list(self) -> None:
        self.list.focus()

    def action_sort(self, step: int) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + step) % len(SORTS)]
        self.load(reset=True)
        self._header()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.load(reset=True)
        self._header()

    def action_toggle_select(self) -> None:
        row = self.list.current
        if row is None:
            return
        if self.list.all_selected:
            self.list.all_selected = False
        chosen = self.list.selected
        chosen.symmetric_difference_update({row.id})
        self.list.cursor += 1
        self.list.refresh()
        self._status()

    def action_select_all(self) -> None:
        self.list.all_selected = not self.list.all_selected
        self.list.selected.clear()
        self.list.refresh()
        self._status()

    def action_clear(self) -> None:
        field = self.query_one("#browse-input", Input)
        if self.list.selected or self.list.all_selected:
            self.list.selected.clear()
            self.list.all_selected = False
            self.list.refresh()
            self._status()
        elif field.has_focus and field.value:
            field.value = ""

    def action_toggle_info(self) -> None:
        self.toggle_class("-info")
        self.info_for = None
        self._show_info_soon()
        self.call_after_refresh(self._header)

    @guarded
    def action_edit(self) -> None:
        row = self.list.current
        if row is None:
            return
        from studylog.tui.screens.card_edit import CardEditScreen

        self.app.push_screen(CardEditScreen(row.id), self._edited)

    def _edited(self, saved: bool | None) -> None:
        if saved:
            self.app.collection_changed(None)

    @on(RowList.Selected, "#browse-list")
    @guarded
    def _open(self, event: RowList.Selected) -> None:
        row = self.list.current
        if row is not None:
            self.app.open_card(row.id)

    # --- bulk actions (on the selection, every match with ``a``, else the cursor card) ---

    def target(self) -> dict[str, object] | None:
        """What a bulk action works on: ``{"query": ...}`` or ``{"ids": [...]}``; None: nothing."""
        if self.list.all_selected:
            if self.error:  # the list still shows the last good search: "all" would be ambiguous
                self.app.notify(
                    "The search has an error: fix it (or esc) before acting on all its cards",
                    severity="warning",
                )
                return None
            return {"query": self.query_text}
        if self.list.selected:
            return {"ids": sorted(self.list.selected)}
        row = self.list.current
        return {"ids": [row.id]} if row is not None else None

    def _target_words(self, target: dict[str, object]) -> str:
        if "query" in target:
            return f"all {self.total:,} matching cards"
        ids = target["ids"]
        assert isinstance(ids, list)
        return f"{len(ids)} card{'s' if len(ids) != 1 else ''}"

    def act(self, function_name: str, *args: object, **kwargs: object) -> None:
        """Run ``card_actions.FUNCTION_NAME`` on the target in a worker."""
        target = self.target()
        if target is None:
            return
        self._run_action(function_name, args, {**kwargs, **target})

    @work(thread=True, group="browse-action", exit_on_error=False)
    def _run_action(self, function_name: str, args: tuple[object, ...], kwargs: dict) -> None:
        try:
            function = getattr(card_actions, function_name)
            result = function(self.app.db, *args, now=self.app.now(), **kwargs)
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(ActionFailed(error))
            return
        if result.changed:
            text = f"{result.label} · u undoes"
        else:
            text = f"Nothing to change in {result.matched} card{'s' if result.matched != 1 else ''}"
        self.post_message(ActionDone(text))

    @work(thread=True, group="browse-action", exit_on_error=False)
    def _run_undo(self) -> None:
        try:
            label = card_actions.undo(self.app.db)
        except Exception as error:  # noqa: BLE001
            self.post_message(ActionFailed(error))
            return
        self.post_message(ActionDone(f"Undone: {label}"))

    @on(ActionDone)
    def _action_done(self, message: ActionDone) -> None:
        self.app.notify(message.text, timeout=4)
        self.list.selected.clear()
        self.list.all_selected = False
        self.app.collection_changed(None)  # this screen re-reads too

    @on(ActionFailed)
    def _action_failed(self, message: ActionFailed) -> None:
        report(self, message.error)

    def action_suspend(self) -> None:
        """Suspend, or unsuspend when the card under the cursor is suspended (as Anki's toggle)."""
        row = self.list.current
        self.act("unsuspend" if row is not None and row.suspended else "suspend")

    def action_bury(self) -> None:
        self.act("bury")

    def action_forget(self) -> None:
        self.act("forget")

    def _ask(self, title: str, placeholder: str, then: str) -> None:
        target = self.target()
        if target is None:
            return
        words = self._target_words(target)

        def done(value: str | None) -> None:
            if value:
                self._run_action(then, (value.split() if then.endswith("tags") else value,), target)

        self.app.push_screen(TextPrompt(f"{title} ({words})", placeholder=placeholder), done)

    def action_move(self) -> None:
        self._ask("Move to deck", "딥러닝::RNN", "move")

    def action_tag(self) -> None:
        self._ask("Add tags", "attention 복습", "add_tags")

    def action_untag(self) -> None:
        self._ask("Remove tags", "leech", "remove_tags")

    def action_set_due(self) -> None:
        self._ask("Set due date: days from today (N or N-M)", "0 · 1 · 1-7", "set_due")

    def action_delete(self) -> None:
        target = self.target()
        if target is None:
            return

        def done(yes: bool | None) -> None:
            if yes:
                self._run_action("delete_cards", (), target)

        words = self._target_words(target)
        # As in Anki, the review history stays in the log (counted by no statistic).
        self.app.push_screen(
            Confirm(f"Delete {words}? Their review history stays in the log. (u undoes)"), done
        )

    def action_undo(self) -> None:
        self._run_undo()
