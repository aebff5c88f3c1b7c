"""Suggested cards: the definitions found in imported notes, one at a time, to accept or reject.

Each suggestion is shown in the passage of the note it came from (its own
lines marked, with the file's line numbers), with its front and back in
editors, its deck and the concept it names (``forget 게이트`` → lstm, from the
concept's aliases; :func:`studylog.services.suggestions.concept_named`).
``a`` accepts (with the edits; ``ctrl+s`` from an editor), ``r`` rejects,
``s`` skips (it stays pending and comes round again), ``p`` goes back one.

As in Anki's "Check" of imported notes, nothing is scheduled without the
user's consent: an accepted suggestion becomes a new card, due now. Reads and
writes run in thread workers; after a decision the app's one change signal
tells the other screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Static, TextArea

from studylog.errors import NotFoundError
from studylog.services import concepts as concept_service
from studylog.services import suggestions
from studylog.services.cards import CardInfo
from studylog.services.suggestions import SuggestionContext
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.guard import guarded, report
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar


@dataclass
class Draft:
    """What the user typed for one suggestion (kept while skipping to others)."""

    front: str
    back: str
    deck: str
    concept: str


class QueueRead(Message):
    """A worker read the pending suggestions (``total`` pending in all)."""

    def __init__(self, items: list[SuggestionContext], total: int) -> None:
        super().__init__()
        self.items, self.total = items, total


class QueueFailed(Message):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class Decided(Message):
    """A worker accepted (``cards`` made) or rejected suggestion ``suggestion_id``."""

    def __init__(
        self,
        suggestion_id: int,
        cards: list[CardInfo] | None,
        concept: str | None = None,
        error: Exception | None = None,
    ) -> None:
        super().__init__()
        self.suggestion_id, self.cards, self.concept, self.error = (
            suggestion_id,
            cards,
            concept,
            error,
        )


def passage_text(item: SuggestionContext) -> Text:
    """The note's lines around the suggestion, numbered, its own lines marked."""
    out = Text(no_wrap=False)
    if not item.lines:
        out.append("(the note's text has changed since the import: the passage is not shown)")
        return out
    width = len(str((item.first_line or 0) + len(item.lines)))
    for i, line in enumerate(item.lines):
        number = "" if item.first_line is None else str(item.first_line + i)
        marked = i in item.marked
        out.append(f"{number:>{width}} ", style="dim")
        out.append("▌ " if marked else "  ", style="bold")
        out.append(line, style="bold" if marked else "dim")
        if i < len(item.lines) - 1:
            out.append("\n")
    return out


class SuggestedScreen(CollectionScreen):
    """See the module docstring."""

    DEFAULT_CSS = """
    SuggestedScreen #sg-title { height: 1; padding: 0 1; background: $boost; }
    SuggestedScreen #sg-passage {
        height: auto; max-height: 9;
        border: round $panel-lighten-2; border-title-color: $text-muted; padding: 0 1;
    }
    SuggestedScreen #sg-passage:focus { border: round $accent; }
    SuggestedScreen #sg-front { height: 4; }
    SuggestedScreen #sg-back { height: 1fr; min-height: 4; }
    SuggestedScreen #sg-front, SuggestedScreen #sg-back {
        border: round $panel-lighten-2; border-title-color: $text-muted;
    }
    SuggestedScreen #sg-front:focus, SuggestedScreen #sg-back:focus { border: round $accent; }
    SuggestedScreen #sg-fields { height: 1; padding: 0 1; }
    SuggestedScreen #sg-fields Label { width: auto; padding: 0 1 0 0; }
    SuggestedScreen #sg-deck { width: 1fr; margin: 0 2 0 0; }
    SuggestedScreen #sg-concept { width: 1fr; }
    SuggestedScreen #sg-empty { height: 1fr; padding: 1 2; }
    SuggestedScreen.-empty #sg-passage, SuggestedScreen.-empty #sg-front,
    SuggestedScreen.-empty #sg-back, SuggestedScreen.-empty #sg-fields { display: none; }
    SuggestedScreen #sg-empty { display: none; }
    SuggestedScreen.-empty #sg-empty { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept", id="suggested.accept"),
        Binding(
            "ctrl+s", "accept", "Accept (with edits)", id="suggested.accept_edited", show=False
        ),
        Binding("r", "reject", "Reject", id="suggested.reject"),
        Binding("s", "skip", "Skip", id="suggested.skip"),
        Binding("p", "previous", "Previous", id="suggested.previous"),
        Binding("e", "edit", "Edit", id="suggested.edit"),
        Binding("escape", "back", "Back", id="suggested.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[SuggestionContext] = []
        self.total = 0
        self.index = 0
        self.loaded = False  # the first read is on screen (tests wait on it)
        self.busy = False  # a decision is being written
        self.drafts: dict[int, Draft] = {}
        self._shown: int | None = None  # the suggestion id in the editors

    def compose(self) -> ComposeResult:
        yield ModeBar()
        yield Static("Suggested cards", id="sg-title")
        with VerticalScroll(id="sg-passage", can_focus=True):
            yield Static(id="sg-lines")
        yield TextArea(id="sg-front", soft_wrap=True, tab_behavior="focus")
        yield TextArea(id="sg-back", soft_wrap=True, tab_behavior="focus")
        with Horizontal(id="sg-fields"):
            yield Label("Deck")
            yield Input(id="sg-deck", compact=True, placeholder="Default")
            yield Label("Concept")
            yield Input(id="sg-concept", compact=True, placeholder="none (slug, title or alias)")
        yield Static("Loading the suggested cards…", id="sg-empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#sg-front").border_title = "Front"
        self.query_one("#sg-back").border_title = "Back"
        self.query_one("#sg-passage").focus()
        self.add_class("-empty")
        self._read()

    # --- reading --------------------------------------------------------------------

    def refresh_collection(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="suggested-read", exit_on_error=False)
    def _read(self) -> None:
        try:
            items, total = suggestions.in_context(self.app.db)
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(QueueFailed(error))
            return
        self.post_message(QueueRead(items, total))

    @on(QueueFailed)
    def _failed(self, message: QueueFailed) -> None:
        self.query_one("#sg-empty", Static).update("Could not read the suggested cards.")
        report(self, message.error)

    @on(QueueRead)
    def _queue_read(self, message: QueueRead) -> None:
        current = self.current
        self.items, self.total = message.items, message.total
        ids = [item.suggestion.id for item in self.items]
        if current is not None and current.suggestion.id in ids:
            self.index = ids.index(current.suggestion.id)
        else:
            self.index = min(self.index, max(0, len(self.items) - 1))
        self.loaded = True
        self._show()

    @property
    def current(self) -> SuggestionContext | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    # --- showing --------------------------------------------------------------------

    def _show(self) -> None:
        item = self.current
        empty = self.query_one("#sg-empty", Static)
        if item is None:
            self._shown = None
            self.add_class("-empty")
            self.query_one("#sg-title", Static).update(Text("Suggested cards", style="bold"))
            empty.update(
                "No suggested cards waiting.\n\n"
                "Importing study notes (studylog import notes/) finds definition-style lines\n"
                "(term : definition, Q/A, {{c1::cloze}}) and proposes them here."
            )
            self.query_one("#sg-passage").focus()
            return
        self.remove_class("-empty")
        s = item.suggestion
        title = Text("Suggested cards  ", style="bold")
        title.append(f"{self.index + 1} of {self.total}")
        if s.day is not None:
            title.append(f"  ·  {s.day.isoformat()}", style="dim")
        if s.kind != "basic":
            title.append(f"  ·  {s.kind}", style="dim")
        self.query_one("#sg-title", Static).update(title)
        passage = self.query_one("#sg-passage", VerticalScroll)
        passage.border_title = s.source or "In the note"
        self.query_one("#sg-lines", Static).update(passage_text(item))
        if self._shown != s.id:  # another suggestion: its draft or its own text
            draft = self.drafts.get(s.id) or Draft(s.front, s.back, s.deck, item.concept or "")
            self.query_one("#sg-front", TextArea).load_text(draft.front)
            self.query_one("#sg-back", TextArea).load_text(draft.back)
            self.query_one("#sg-deck", Input).value = draft.deck
            self.query_one("#sg-concept", Input).value = draft.concept
            self._shown = s.id

    def _draft(self) -> Draft:
        return Draft(
            self.query_one("#sg-front", TextArea).text,
            self.query_one("#sg-back", TextArea).text,
            self.query_one("#sg-deck", Input).value,
            self.query_one("#sg-concept", Input).value,
        )

    def _keep_draft(self) -> None:
        item = self.current
        if item is not None and self._shown == item.suggestion.id:
            self.drafts[item.suggestion.id] = self._draft()

    def _move(self, offset: int) -> None:
        if not self.items:
            return
        self._keep_draft()
        self.index = (self.index + offset) % len(self.items)
        self._show()

    # --- actions ----------------------------------------------------------------------

    @guarded
    def action_skip(self) -> None:
        """Leave this one pending and show the next (it comes round again)."""
        self._move(1)

    @guarded
    def action_previous(self) -> None:
        self._move(-1)

    @guarded
    def action_edit(self) -> None:
        if self.current is not None:
            self.query_one("#sg-front", TextArea).focus()

    @guarded
    def action_back(self) -> None:
        """From an editor: back to the queue; from the queue: close the screen."""
        passage = self.query_one("#sg-passage")
        if self.focused is not None and self.focused is not passage and self.current is not None:
            passage.focus()
            return
        self._keep_draft()
        self.dismiss(None)

    @guarded
    def action_accept(self) -> None:
        """Make a card of the suggestion shown, with the edits, deck and concept given."""
        item = self.current
        if item is None or self.busy:
            return
        draft = self._draft()
        s = item.suggestion
        self.busy = True
        self._accept(
            s.id,
            front=None if draft.front == s.front else draft.front,
            back=None if draft.back == s.back else draft.back,
            deck=draft.deck.strip() or None,
            concept=draft.concept.strip(),
        )

    @work(thread=True, group="suggested-write", exit_on_error=False)
    def _accept(
        self,
        suggestion_id: int,
        *,
        front: str | None,
        back: str | None,
        deck: str | None,
        concept: str,
    ) -> None:
        app = self.app
        try:
            slug = None
            if concept:
                slug = concept_service.resolve(app.db, concept)
                if slug is None:
                    raise NotFoundError(
                        f"no concept called {concept!r} (give a slug, a title or an alias,"
                        " or leave it empty)"
                    )
            made = suggestions.accept(
                app.db,
                [suggestion_id],
                front=front,
                back=back,
                deck=deck,
                concept_slug=slug,
                now=app.now(),
            )
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(Decided(suggestion_id, None, error=error))
            return
        self.post_message(Decided(suggestion_id, made, concept=slug))

    @guarded
    def action_reject(self) -> None:
        item = self.current
        if item is None or self.busy:
            return
        self.busy = True
        self._reject(item.suggestion.id)

    @work(thread=True, group="suggested-write", exit_on_error=False)
    def _reject(self, suggestion_id: int) -> None:
        try:
            suggestions.reject(self.app.db, [suggestion_id], now=self.app.now())
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(Decided(suggestion_id, None, error=error))
            return
        self.post_message(Decided(suggestion_id, None))

    @on(Decided)
    def _decided(self, message: Decided) -> None:
        self.busy = False
        if message.error is not None:
            report(self, message.error)
            return
        if message.cards:
            ids = ", ".join(str(c.id) for c in message.cards)
            first = message.cards[0]
            where = f"{first.deck}" + (f", concept {message.concept}" if message.concept else "")
            noun = "Card" if len(message.cards) == 1 else "Cards"
            self.notify(f"{noun} {ids} added ({where}).", timeout=3)
        else:
            self.notify("Rejected: it will not be suggested again.", timeout=3)
        self.drafts.pop(message.suggestion_id, None)
        ids_now = [item.suggestion.id for item in self.items]
        if message.suggestion_id in ids_now:
            at = ids_now.index(message.suggestion_id)
            del self.items[at]
            self.total = max(0, self.total - 1)
            if at < self.index:
                self.index -= 1
            self.index = min(self.index, max(0, len(self.items) - 1))
        self._shown = None
        self._show()
        self.query_one("#sg-passage").focus()
        self.app.collection_changed(self)
