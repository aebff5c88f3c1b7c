"""The deck list (F8): Anki's ``::`` tree with today's new / learning / due counts.

The counts are the daily limits applied as Anki's v3 scheduler does
(:mod:`studylog.scheduling.decks`): what studying each deck shows. Read in a
thread worker (:class:`DecksLoaded`); every write (rename, move, delete, undo)
is one card action and one "collection changed".

Keys: ``enter`` study the deck under the cursor (the review screen, this deck
only), ``c`` custom study (review ahead, forgotten cards, every card of the
deck rescheduled or as a preview, a search, extra new cards today), ``r``
rename, ``m`` move its cards to another deck, ``delete`` delete the deck (its
cards go to Default; ``D`` deletes them too), ``u`` undo.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from studylog.errors import StudylogError
from studylog.services import card_actions, custom_study
from studylog.services import decks as deck_service
from studylog.services.decks import DeckList, DeckRow
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.guard import guarded, report
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar
from studylog.tui.widgets.prompts import Confirm, Picker, TextPrompt
from studylog.tui.widgets.rowlist import RowList, fit

# Each count column: a space, then up to six digits (100000 cards must not run into the
# due count beside it, as it did at width 6 with no gap).
COUNT_WIDTH = 7
CUSTOM_CHOICES = (
    ("ahead", "Review ahead: cards due in the next N days"),
    ("forgotten", "Review forgotten cards: answered Again in the last N days"),
    ("deck", "Study every card of this deck (answers reschedule)"),
    ("preview", "Preview every card of this deck (nothing is written)"),
    ("search", "Study a search: deck:, tag:, any (answers reschedule)"),
    ("search-preview", "Preview a search (nothing is written)"),
    ("extra", "Extra new cards today"),
)


class DecksLoaded(Message):
    """A worker read the deck list."""

    def __init__(self, listing: DeckList) -> None:
        super().__init__()
        self.listing = listing


class DeckTable(RowList[DeckRow]):
    """The decks, indented by level, with new (blue), learning (red) and due (green)."""

    def render_row(self, row: DeckRow, index: int, line: int, width: int) -> Text:
        counts = 4 * COUNT_WIDTH
        name = Text(" " + "  " * (row.level - 1))
        name.append(row.short, style="bold" if row.level == 1 else "")
        text = fit(name, max(width - counts, 4))
        for value, style in (
            (row.new, "blue"),
            (row.learning, "red"),
            (row.review, "green"),
            (row.total, "dim"),
        ):
            shown = Text(str(value), style=style if value or style == "dim" else "dim")
            text.append(" ")
            text.append_text(fit(shown, COUNT_WIDTH - 1, align="right"))
        return text

    @staticmethod
    def heading(width: int) -> Text:
        counts = 4 * COUNT_WIDTH
        text = fit(Text(" deck", style="bold"), max(width - counts, 4))
        for title in ("new", "learn", "due", "cards"):
            text.append(" ")
            text.append_text(fit(Text(title, style="bold"), COUNT_WIDTH - 1, align="right"))
        return text


class DecksScreen(CollectionScreen):
    """See the module docstring."""

    DEFAULT_CSS = """
    DecksScreen #decks-header, DecksScreen #decks-columns {
        height: 1;
        padding: 0 1;
    }
    DecksScreen #decks-header { background: $panel; }
    DecksScreen DeckTable { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "study", "Study deck", id="decks.study"),
        Binding("c", "custom_study", "Custom study", id="decks.custom"),
        Binding("r", "rename", "Rename", id="decks.rename"),
        Binding("m", "move_cards", "Move cards", id="decks.move"),
        Binding("delete", "delete(False)", "Delete", id="decks.delete"),
        Binding("D", "delete(True)", "Delete with cards", id="decks.delete_cards", show=False),
        Binding("u", "undo", "Undo", id="decks.undo"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.listing: DeckList | None = None

    def compose(self) -> ComposeResult:
        yield ModeBar("decks")
        yield Static("Decks", id="decks-header")
        yield Static("", id="decks-columns")
        yield DeckTable(
            empty="No decks yet: a card's deck is made with it (studylog card add ... --deck).",
            id="deck-table",
        )
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(DeckTable).focus()
        self.refresh_collection()

    def on_resize(self) -> None:
        self._columns()

    def _columns(self) -> None:
        width = self.query_one(DeckTable).scrollable_content_region.width or self.size.width - 2
        self.query_one("#decks-columns", Static).update(DeckTable.heading(width))

    def refresh_collection(self) -> None:
        self._read()

    @work(thread=True, group="decks-read", exclusive=True, exit_on_error=False)
    def _read(self) -> None:
        try:
            listing = deck_service.list_decks(self.app.db, now=self.app.now())
        except StudylogError as error:
            self.app.call_from_thread(report, self.app, error)
            return
        self.post_message(DecksLoaded(listing))

    @on(DecksLoaded)
    def _loaded(self, message: DecksLoaded) -> None:
        self.listing = message.listing
        table = self.query_one(DeckTable)
        name = table.current.name if table.current is not None else None
        rows = message.listing.decks
        cursor = next((i for i, r in enumerate(rows) if r.name == name), None)
        table.set_rows(rows, cursor=cursor)
        header = Text("Decks  ", style="bold")
        header.append("today, everything: ", style="dim")
        header.append(f"{message.listing.new} new", style="bold blue")
        header.append("  ")
        header.append(f"{message.listing.learning} learning", style="bold red")
        header.append("  ")
        header.append(f"{message.listing.review} due", style="bold green")
        self.query_one("#decks-header", Static).update(header)
        self._columns()

    # --- actions ----------------------------------------------------------------------

    def _current(self) -> DeckRow | None:
        row = self.query_one(DeckTable).current
        if row is None:
            self.notify("No deck here yet.", severity="warning")
        return row

    @on(DeckTable.Selected)
    def _selected(self, event: DeckTable.Selected) -> None:
        event.stop()
        self.action_study()

    @guarded
    def action_study(self) -> None:
        row = self._current()
        if row is not None:
            self.app.open_review(deck=row.name)

    def action_custom_study(self) -> None:
        row = self._current()
        if row is None:
            return

        def chosen(kind: str | None) -> None:
            if kind is not None:
                self._custom(kind, row)

        self.app.push_screen(Picker(f"Custom study: {row.name}", CUSTOM_CHOICES), chosen)

    def _custom(self, kind: str, row: DeckRow) -> None:
        asks = {
            "ahead": ("Review ahead: how many days?", "1"),
            "forgotten": ("Forgotten in the last how many days?", "1"),
            "extra": ("How many more new cards today?", "10"),
            "search": ("Study the cards of this search:", custom_study.deck_term(row.name)),
            "search-preview": (
                "Preview the cards of this search:",
                custom_study.deck_term(row.name),
            ),
        }
        if kind in ("deck", "preview"):
            self._start(kind, row, "")
            return
        title, value = asks[kind]

        def answered(text: str | None) -> None:
            if text:
                self._start(kind, row, text)

        self.app.push_screen(TextPrompt(title, value=value), answered)

    @guarded
    def _start(self, kind: str, row: DeckRow, text: str) -> None:
        deck = row.name
        if kind in ("ahead", "forgotten", "extra"):
            try:
                number = int(text)
            except ValueError:
                self.notify(f"not a number: {text!r}", severity="error")
                return
            if kind == "extra":
                total = custom_study.extend_new(self.app.db, number, deck=deck, now=self.app.now())
                self.notify(f"New cards today in {deck}: up to {total}.", timeout=4)
                self.app.collection_changed(None)  # this list too: its new counts grew
                self.app.open_review(deck=deck)
                return
            make = custom_study.review_ahead if kind == "ahead" else custom_study.forgotten
            study = make(number, deck=deck)
        elif kind in ("deck", "preview"):
            study = custom_study.whole_deck(deck, reschedule=kind == "deck")
        else:
            study = custom_study.search(text, reschedule=kind == "search")
        self.app.open_review(custom=study)

    def action_rename(self) -> None:
        row = self._current()
        if row is None:
            return

        def answered(name: str | None) -> None:
            if name and name != row.name:
                self._write(lambda: deck_service.rename(self.app.db, row.name, name))

        self.app.push_screen(
            TextPrompt(
                f"Rename deck {row.name} (its subdecks follow; A::B puts it under A):",
                value=row.name,
            ),
            answered,
        )

    def action_move_cards(self) -> None:
        row = self._current()
        if row is None:
            return

        def answered(name: str | None) -> None:
            if name:
                self._write(lambda: deck_service.move_cards(self.app.db, row.name, name))

        self.app.push_screen(
            TextPrompt(
                f"Move the {row.total} card(s) of {row.name} to deck:", placeholder="Default"
            ),
            answered,
        )

    def action_delete(self, with_cards: bool) -> None:
        row = self._current()
        if row is None:
            return
        if with_cards:
            question = (
                f"Delete deck {row.name} and its {row.total} card(s) with their review history?"
            )
        else:
            question = (
                f"Delete deck {row.name}? Its {row.total} card(s) move to Default "
                "(D deletes the cards too)."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._write(
                    lambda: deck_service.delete(self.app.db, row.name, delete_cards=with_cards)
                )

        self.app.push_screen(Confirm(question), answered)

    def action_undo(self) -> None:
        self._write(lambda: card_actions.undo(self.app.db), label=True)

    @guarded
    def _write(self, write: Any, *, label: bool = False) -> None:
        done = write()
        text = f"Undid: {done}" if label else done.label
        self.notify(text, timeout=4)
        self.app.collection_changed(self)
        self.refresh_collection()
