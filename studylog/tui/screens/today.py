"""The Today screen: one study day's entries (editor and preview), TODOs and summary.

Layout (120x40)::

    studylog  F2 Today  F3 Review …                 (mode bar)
    ◀ 2026-11-21 Sat · today ▶     reviews 3 · due 4 · new 20 · streak 5 days
    ┌ Entries ─────────────────────────┐┌ TODO 1/4 · ↪ 2 carried ────┐
    │ 1. 09:12  어텐션 정리            ││ ☐ 8장 다시 읽기            │
    ├ Entry 1 · 09:12 ─────────────────┤│ ✓ softmax 구현             │
    │ (markdown editor)                ││ ☐ LSTM 복습   ↪ 2026-11-19 │
    ├ Preview ─────────────────────────┤│                            │
    │ (rendered, [[links]] clickable)  ││                            │
    └──────────────────────────────────┘└────────────────────────────┘

The day's data is read in a thread worker (a day of a five-year journal with
thousands of carried-over TODOs reads in tens of milliseconds, which must not
freeze typing); results come back as a :class:`DayLoaded` message. Once a day
is shown, the day before and the day after are read ahead into the app's
:class:`~studylog.tui.changes.ReadCache`, so ``[`` and ``]`` show them at once.
Writes are single short transactions made on the spot; the lists are updated in
place and the app is told (``collection_changed``), which drops every read made
before the write. A change made elsewhere (another screen, the CLI in another
process) re-reads the shown day, keeping the cursors and the text being written.

An entry being written is never lost: moving to another entry or day, leaving
the editor (Escape), switching screens or quitting saves it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import ScreenSuspend
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Markdown, Static, TextArea

from studylog.errors import InvalidInputError
from studylog.linebreaks import note_parser
from studylog.services import journal
from studylog.services import today as today_service
from studylog.services import todos as todo_service
from studylog.services.journal import EntryInfo
from studylog.services.today import DaySummary
from studylog.services.todos import TodoInfo
from studylog.studyday import parse_day
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.entry_editor import (
    EntryEditor,
    EntryList,
    first_line,
    linked_names,
    preview_markdown,
)
from studylog.tui.widgets.guard import guarded, report
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar
from studylog.tui.widgets.prompts import Confirm, Picker, TextPrompt
from studylog.tui.widgets.rowlist import RowList
from studylog.tui.widgets.todo_list import TodoList

DAY_KEYS = Binding.Group("Prev/next day")  # one footer item: "[] Prev/next day"
PREVIEW_DELAY = 0.25  # seconds of no typing before the preview re-renders

EMPTY_PREVIEW = """\
*Nothing written for this day yet.*

Press **n** to start an entry (or Tab to the editor). Markdown works;
link a concept with `[[softmax]]` or `[[어텐션|label]]` (clickable here),
write math as `$\\alpha_t = \\mathrm{softmax}(e_t)$`; **ctrl+s** saves.
"""


def relative_day(day: date, today: date) -> str:
    """``today``, ``yesterday``, ``tomorrow``, ``3 days ago`` or ``in 2 days``."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == -1:
        return "yesterday"
    if delta == 1:
        return "tomorrow"
    return f"{-delta} days ago" if delta < 0 else f"in {delta} days"


def display_order(todos: list[TodoInfo], day: date) -> list[TodoInfo]:
    """The day's own TODOs first (in list order), then carried-over ones, newest origin first.

    The service returns carried items first, oldest first; after years of
    journaling that can be thousands of rows above what the user planned for
    the day, so the screen shows the day's own list on top.
    """
    own = [t for t in todos if t.origin_day >= day]
    carried = [t for t in todos if t.origin_day < day]
    carried.sort(key=lambda t: t.origin_day, reverse=True)  # stable: keeps list order per day
    return own + carried


def summary_text(summary: DaySummary, *, short: bool = False) -> Text:
    """``reviews 3 · due 4 · new 20 · streak 5 days`` with the numbers in bold;
    ``short``: ``rev 3 · due 4 · new 20 · streak 5d`` (fits beside the day at 80 columns).

    On the current study day ``due`` and ``new`` are what Review shows (the daily
    limits applied, learning cards included in ``due``); on other days every card due
    then and every new card."""
    text = Text()
    queue = summary.queue
    due = summary.due if queue is None else queue.learning + queue.review
    new = summary.new_cards if queue is None else queue.new
    for i, (label, value) in enumerate(
        (
            ("rev" if short else "reviews", summary.reviews_done),
            ("due", due),
            ("new", new),
            ("streak", summary.streak),
        )
    ):
        if i:
            text.append(" · ", style="dim")
        text.append(f"{label} ")
        text.append(str(value), style="bold")
    if short:
        text.append("d")
    else:
        text.append(" day" if summary.streak == 1 else " days")
    return text


class SummaryLine(Static):
    """The day's counts, right of the day: the long form when it fits, else the short one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.summary: DaySummary | None = None
        self.problem: Text | None = None

    def show(self, summary: DaySummary | None, problem: Text | None = None) -> None:
        self.summary, self.problem = summary, problem
        self.refresh()

    def render(self) -> Text:
        if self.problem is not None or self.summary is None:
            return self.problem or Text()
        text = summary_text(self.summary)
        if 0 < self.size.width < text.cell_len:
            text = summary_text(self.summary, short=True)
        return text


class DayLoaded(Message):
    """A worker read study day ``summary.day`` (in the app's read ``generation``)."""

    def __init__(self, generation: int, summary: DaySummary) -> None:
        super().__init__()
        self.generation = generation
        self.summary = summary


class DayFailed(Message):
    """Reading a day failed (for example a locked or unreadable database)."""

    def __init__(self, generation: int, day: date, error: Exception) -> None:
        super().__init__()
        self.generation = generation
        self.day = day
        self.error = error


class TodayScreen(CollectionScreen):
    """See the module docstring."""

    AUTO_FOCUS = "#entries"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left_square_bracket",
            "prev_day",
            "Prev day",
            key_display="[",
            id="today.prev",
            group=DAY_KEYS,
        ),
        Binding(
            "right_square_bracket",
            "next_day",
            "Next day",
            key_display="]",
            id="today.next",
            group=DAY_KEYS,
        ),
        Binding("t", "go_today", "Back to today", id="today.today"),
        Binding("g", "go_to_day", "Go to date", id="today.goto", show=False),
        Binding("n", "new_entry", "New entry", id="today.new_entry"),
        Binding("a", "add_todo", "Add TODO", id="today.add_todo"),
        Binding("l", "links", "Open [[link]]", id="today.links", show=False),
    ]

    def __init__(self, day: date | None = None) -> None:
        super().__init__()
        self.day: date | None = day
        self.summary: DaySummary | None = None
        self.loaded = False  # the data of self.day is on screen (tests and benchmarks wait on it)
        self.entry_id: int | None = None  # the entry in the editor; None: a new draft
        self.saved_text = ""  # the editor's entry as stored, to tell unsaved changes
        self._shown: tuple[date | None, int | None] | None = None  # (day, entry) in the editor
        self._reading: set[tuple[int, date]] = set()  # (generation, day) being read
        self._want_entry: int | None = None
        self._want_todo: int | None = None
        self._want_focus = False
        self._ready = False  # composed and mounted: widgets can be queried
        self._preview_timer: Timer | None = None

    # --- building ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ModeBar("today")
        with Horizontal(id="daybar"):
            yield Static(Text("◀"), id="prev-day")
            yield Static(id="day-label")
            yield Static(Text("▶"), id="next-day")
            yield SummaryLine(id="day-summary")
        with Horizontal(id="today-main"):
            with Vertical(id="journal"):
                yield EntryList(zone=self.app.calendar.zone, id="entries")
                yield EntryEditor(id="editor")
                with VerticalScroll(id="preview"):
                    yield Markdown(
                        EMPTY_PREVIEW, id="preview-md", open_links=False, parser_factory=note_parser
                    )
            yield TodoList(id="todos")
        yield KeyBar()

    def on_mount(self) -> None:
        self._ready = True
        self.query_one("#entries").border_title = "Entries"
        self.query_one("#preview").border_title = "Preview"
        self.query_one("#todos").border_title = "TODO"
        self.query_one("#editor").border_title = "New entry"
        self.show_day(
            self.day or self.app.today(),
            entry_id=self._want_entry,
            todo_id=self._want_todo,
            focus=self._want_focus,
        )

    @property
    def entries(self) -> EntryList:
        return self.query_one("#entries", EntryList)

    @property
    def todo_list(self) -> TodoList:
        return self.query_one("#todos", TodoList)

    @property
    def editor(self) -> EntryEditor:
        return self.query_one("#editor", EntryEditor)

    # --- days -------------------------------------------------------------------------

    def show_day(
        self,
        day: date,
        *,
        entry_id: int | None = None,
        todo_id: int | None = None,
        focus: bool = False,
    ) -> None:
        """Show study day ``day``, optionally with an entry or a TODO under the cursor
        (``focus``: and focused, as when a search hit is opened)."""
        if not self._ready:  # asked before the screen was built: on_mount shows it
            self.day = day
            self._want_entry, self._want_todo, self._want_focus = entry_id, todo_id, focus
            return
        if self.day is not None and self.day != day:
            self.flush_draft()
        self.day = day
        self._want_entry, self._want_todo = entry_id, todo_id
        self._want_focus = focus
        self.loaded = False
        self._update_day_label()
        cached = self.app.reads.get(("day", day))
        if cached is not None:
            self._apply(cached)
        else:
            self._read_day(day)

    def refresh_collection(self) -> None:
        """Re-read the shown day after a change made elsewhere, keeping the cursors."""
        self.refresh_day()

    def refresh_day(self) -> None:
        """Re-read the shown day, keeping the cursors (the reads ahead are already gone:
        every change starts a new read generation)."""
        if self.day is None or not self._ready:
            return
        if not self.loaded:  # a day is on its way: read it again, wanted cursors and all
            self._read_day(self.day)
            return
        current = self.todo_list.current
        # The entry: whatever the editor holds when the data arrives (see _show_summary).
        self.show_day(self.day, todo_id=current.id if current is not None else None)

    def _read_day(self, day: date) -> None:
        key = (self.app.reads.generation, day)
        if key not in self._reading:
            self._reading.add(key)
            self._fetch(*key)

    @work(thread=True, group="today-day", exit_on_error=False)
    def _fetch(self, generation: int, day: date) -> None:
        app = self.app
        try:
            summary = today_service.summary(app.db, day, app.calendar, now=app.now())
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(DayFailed(generation, day, error))
            return
        self.post_message(DayLoaded(generation, summary))

    @on(DayFailed)
    def _failed(self, message: DayFailed) -> None:
        self._reading.discard((message.generation, message.day))
        if message.generation != self.app.reads.generation:
            return
        if message.day == self.day:
            self.query_one(SummaryLine).show(None, Text("could not read this day", "red"))
            report(self, message.error)

    @on(DayLoaded)
    def _loaded(self, message: DayLoaded) -> None:
        summary = message.summary
        self._reading.discard((message.generation, summary.day))
        if not self.app.reads.put(message.generation, ("day", summary.day), summary):
            # Read before a write: out of date. The shown day is read again.
            if summary.day == self.day and not self.loaded:
                self._read_day(summary.day)
            return
        if summary.day == self.day and not self.loaded:
            self._apply(summary)

    def _apply(self, summary: DaySummary) -> None:
        with self.app.batch_update():  # one repaint for the whole day
            self._show_summary(summary)
        self.loaded = True
        # Read the neighbours ahead: [ and ] then show them without waiting.
        for neighbour in (summary.day - timedelta(days=1), summary.day + timedelta(days=1)):
            if ("day", neighbour) not in self.app.reads:
                self._read_day(neighbour)

    def _show_summary(self, summary: DaySummary) -> None:
        self.summary = summary
        self.query_one(SummaryLine).show(summary)
        # Entries: the wanted one, else the one in the editor, else the first.
        wanted = self._want_entry if self._want_entry is not None else self.entry_id
        ids = [e.id for e in summary.entries]
        self.entries.set_rows(summary.entries, cursor=ids.index(wanted) if wanted in ids else 0)
        self.entries.border_title = f"Entries ({len(ids)})" if ids else "Entries"
        keep_draft = self._want_entry is None and self._shown == (summary.day, None)
        if not keep_draft:  # a new entry being written on this day stays in the editor
            current = self.entries.current
            if (
                current is not None
                and self._shown == (summary.day, current.id)
                and not self.dirty
                and current.body != self.saved_text
            ):
                self._load_entry(current)  # edited elsewhere (the CLI): show the new text
            else:
                self._show_entry(current)
        rows = display_order(summary.todos, summary.day)
        wanted_todo = self._want_todo
        todo_ids = [t.id for t in rows]
        self.todo_list.day = summary.day
        self.todo_list.set_rows(
            rows, cursor=todo_ids.index(wanted_todo) if wanted_todo in todo_ids else 0
        )
        self._update_todo_title()
        if self._want_focus:
            if wanted_todo is not None and wanted_todo in todo_ids:
                self.todo_list.focus()
            elif wanted is not None and wanted in ids:
                self.entries.focus()
        self._want_entry = self._want_todo = None
        self._want_focus = False

    def _update_day_label(self) -> None:
        assert self.day is not None
        today = self.app.today()
        label = Text()
        label.append(f" {self.day.isoformat()} {self.day.strftime('%a')} ", style="bold")
        label.append(f"· {relative_day(self.day, today)} ", style="dim")
        self.query_one("#day-label", Static).update(label, layout=False)  # fixed width
        self.app.sub_title = self.day.isoformat()

    def _update_todo_title(self) -> None:
        done, total, carried = self.todo_list.counts()
        title = f"TODO {done}/{total}" if total else "TODO"
        if carried:
            title += f" · ↪ {carried} carried"
        self.todo_list.border_title = title

    @guarded
    def action_prev_day(self) -> None:
        if self.day is not None:
            self.show_day(self.day - timedelta(days=1))

    @guarded
    def action_next_day(self) -> None:
        if self.day is not None:
            self.show_day(self.day + timedelta(days=1))

    @guarded
    def action_go_today(self) -> None:
        today = self.app.today()
        if self.day == today and self.loaded:
            self.refresh_day()  # already there: read it again (the CLI may have written)
        else:
            self.show_day(today)

    def action_go_to_day(self) -> None:
        def chosen(text: str | None) -> None:
            if text:
                try:
                    self.show_day(parse_day(text, self.app.today()))
                except InvalidInputError as error:
                    report(self, error)

        self.app.push_screen(
            TextPrompt(
                "Go to study day",
                placeholder="YYYY-MM-DD, today, yesterday",
                hint="enter: go · esc: cancel",
            ),
            chosen,
        )

    def on_click(self, event) -> None:  # noqa: ANN001 - events.Click
        widget = event.widget
        if widget is not None and widget.id == "prev-day":
            self.action_prev_day()
        elif widget is not None and widget.id == "next-day":
            self.action_next_day()

    # --- entries ----------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """True when the editor holds text that is not stored."""
        return self.editor.text != self.saved_text

    @on(RowList.Highlighted, "#entries")
    @guarded
    def _entry_highlighted(self, _event: RowList.Highlighted) -> None:
        self._show_entry(self.entries.current)

    def _show_entry(self, entry: EntryInfo | None) -> None:
        """Put ``entry`` (None: a new draft) in the editor, saving what was there first."""
        if (self.day, entry.id if entry is not None else None) == self._shown:
            return
        self.flush_draft()
        self._load_entry(entry)

    def _load_entry(self, entry: EntryInfo | None) -> None:
        editor = self.editor
        self.entry_id = entry.id if entry is not None else None
        self.saved_text = entry.body if entry is not None else ""
        self._shown = (self.day, self.entry_id)
        editor.load_text(self.saved_text)
        self._update_editor_title()
        self._render_preview()

    def _update_editor_title(self) -> None:
        editor = self.editor
        if self.entry_id is None:
            editor.border_title = f"New entry · {self.day.isoformat() if self.day else ''}"
        else:
            ids = [e.id for e in self.entries.rows]
            number = ids.index(self.entry_id) + 1 if self.entry_id in ids else "?"
            editor.border_title = f"Entry {number}"
        editor.border_subtitle = "● unsaved · ctrl+s saves" if self.dirty else ""

    @on(TextArea.Changed, "#editor")
    def _typed(self, _event: TextArea.Changed) -> None:
        self._update_editor_title()
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self._render_preview)

    def _render_preview(self) -> None:
        text = self.editor.text
        markdown = preview_markdown(text) if text.strip() else EMPTY_PREVIEW
        self.query_one("#preview-md", Markdown).update(markdown)

    def save_entry(self, *, quiet: bool = False) -> EntryInfo | None:
        """Store the editor's text (a new entry, or the edited one). Raises StudylogError."""
        text = self.editor.text
        if not text.strip():
            if self.entry_id is not None:
                raise InvalidInputError("the entry is empty (d on the entry list deletes it)")
            if not quiet:
                self.notify("Nothing to save yet.", severity="warning", timeout=3)
            return None
        assert self.day is not None
        now = self.app.now()
        db = self.app.db
        added = self.entry_id is None
        if added:
            entry = journal.add(db, text, self.day, now=now)
        else:
            entry = journal.edit(db, self.entry_id, text, now=now)
        self.app.collection_changed(self)
        self.entry_id = entry.id
        self.saved_text = text
        self._shown = (entry.day, entry.id)
        if entry.day == self.day:
            others = [e for e in self.entries.rows if e.id != entry.id]
            self._set_entries([*others, entry], select=entry.id)
        self._update_editor_title()
        self._render_preview()
        if added:  # a day's first entry can start or join the streak: read the summary again
            self.refresh_day()
        self.notify(f"Saved entry of {entry.day.isoformat()}.", timeout=2 if not quiet else 3)
        return entry

    def flush_draft(self) -> None:
        """Save unsaved text before the editor shows something else (errors are shown)."""
        try:
            if self._ready and self.dirty and self.editor.text.strip():
                self.save_entry(quiet=True)
        except Exception as error:  # noqa: BLE001 - the UI edge
            report(self, error)

    def _set_entries(self, rows: list[EntryInfo], *, select: int | None) -> None:
        """Show ``rows`` (the day's entries after a write here: no read needed)."""
        rows = sorted(rows, key=lambda e: (e.created_at, e.id))  # as journal.on_day orders
        ids = [e.id for e in rows]
        self.entries.set_rows(rows, cursor=ids.index(select) if select in ids else 0)
        self.entries.border_title = f"Entries ({len(ids)})" if ids else "Entries"

    @guarded
    def action_save_entry(self) -> None:
        self.save_entry()

    @guarded
    def action_new_entry(self) -> None:
        self.flush_draft()
        self._load_entry(None)
        self.editor.focus()

    @guarded
    def action_edit_entry(self) -> None:
        entry = self.entries.current
        if entry is not None and self._shown != (self.day, entry.id):
            self.flush_draft()
            self._load_entry(entry)
        self.editor.focus()

    @on(RowList.Selected, "#entries")
    def _entry_selected(self, _event: RowList.Selected) -> None:
        self.action_edit_entry()

    @guarded
    def action_leave_editor(self) -> None:
        self.flush_draft()
        self.entries.focus()

    def action_delete_entry(self) -> None:
        entry = self.entries.current
        if entry is None:
            self.notify("No entry to delete.", severity="warning", timeout=3)
            return

        @guarded
        def confirmed(screen: TodayScreen, yes: bool | None) -> None:
            if not yes:
                return
            journal.delete(screen.app.db, entry.id)
            screen.app.collection_changed(screen)
            screen._set_entries([e for e in screen.entries.rows if e.id != entry.id], select=None)
            if screen.entry_id == entry.id:  # the editor showed it: show what is left
                screen._load_entry(screen.entries.current)
            screen.refresh_day()  # the day's last entry can end the streak
            screen.notify("Entry deleted.", timeout=3)

        preview = first_line(entry.body)[:40]
        self.app.push_screen(
            Confirm(f"Delete entry {self.entries.cursor + 1} of {entry.day} ({preview!r})?"),
            lambda yes: confirmed(self, yes),
        )

    @on(ScreenSuspend)
    def _suspended(self) -> None:
        if isinstance(self.app.screen, ModalScreen):
            return  # a dialog over this screen: the editor keeps its text as it is
        self.flush_draft()

    # --- links ------------------------------------------------------------------------

    @on(Markdown.LinkClicked)
    @guarded
    def _link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.app.open_link(event.href)

    @guarded
    def action_links(self) -> None:
        names = linked_names(self.editor.text)
        if not names:
            self.notify("This entry links no concept ([[name]]).", timeout=3)
            return
        if len(names) == 1:
            self._open_name(names[0])
            return
        self.app.push_screen(
            Picker("Open a linked concept", [(n, n) for n in names]),
            lambda name: self._open_name(name) if name else None,
        )

    def _open_name(self, name: str) -> None:
        self.app.open_concept_named(name)

    # --- TODOs ------------------------------------------------------------------------

    def action_add_todo(self) -> None:
        day = self.day

        @guarded
        def added(screen: TodayScreen, text: str | None) -> None:
            if not text or day is None:
                return
            todo = todo_service.add(
                screen.app.db,
                text,
                day,
                now=screen.app.now(),
            )
            screen.app.collection_changed(screen)
            if day != screen.day:
                return
            todo_list = screen.todo_list
            own = sum(1 for t in todo_list.rows if t.origin_day >= day)
            rows = list(todo_list.rows)
            rows.insert(own, todo)
            todo_list.set_rows(rows, cursor=own)
            screen._update_todo_title()
            todo_list.focus()

        assert day is not None
        self.app.push_screen(
            TextPrompt(f"New TODO for {day.isoformat()}", placeholder="e.g. 8장 어텐션 다시 읽기"),
            lambda text: added(self, text),
        )

    @guarded
    def action_toggle_todo(self) -> None:
        todo = self.todo_list.current
        if todo is None or self.day is None:
            return
        app = self.app
        result = todo_service.toggle(app.db, todo.id, now=app.now())
        self.app.collection_changed(self)
        end = app.calendar.end_of(self.day)
        if result.done_at is not None and result.done_at >= end:
            # Done today, seen from an earlier day: on that day it was still open.
            self.notify(f"Marked done on {app.today().isoformat()}.", timeout=3)
            result = replace(result, done_at=None)
        self.todo_list.replace_row(result)
        self._update_todo_title()

    def action_edit_todo(self) -> None:
        todo = self.todo_list.current
        if todo is None:
            return

        @guarded
        def edited(screen: TodayScreen, text: str | None) -> None:
            if text is None or text == todo.text:
                return
            result = todo_service.edit(screen.app.db, todo.id, text=text)
            screen.app.collection_changed(screen)
            screen.todo_list.replace_row(result)

        self.app.push_screen(
            TextPrompt("Edit TODO", value=todo.text), lambda text: edited(self, text)
        )

    def action_delete_todo(self) -> None:
        todo = self.todo_list.current
        if todo is None:
            return

        @guarded
        def confirmed(screen: TodayScreen, yes: bool | None) -> None:
            if not yes:
                return
            todo_service.delete(screen.app.db, todo.id)
            screen.app.collection_changed(screen)
            screen.todo_list.remove_row(todo.id)
            screen._update_todo_title()

        self.app.push_screen(
            Confirm(f"Delete the TODO {todo.text!r}?"), lambda yes: confirmed(self, yes)
        )

    @guarded
    def action_move_todo(self, offset: int) -> None:
        todo = self.todo_list.current
        if todo is None:
            return
        todo_service.move(self.app.db, todo.id, offset)
        self.app.collection_changed(self)
        self.todo_list.move_row(todo.id, offset)
