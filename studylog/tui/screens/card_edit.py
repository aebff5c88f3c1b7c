"""Edit one card from the browser: front and back with a live preview (cloze as reviewed).

The preview shows what Review will show: a basic card's two sides; for a cloze
card, its question (its own deletion hidden as ``[...]``, or its hint) and its
answer (the deletion in bold), updated as you type. ``ctrl+s`` saves (one
transaction; the schedule is kept), ``escape`` leaves without saving. A cloze
card's front must keep a deletion; an empty side is refused with one line.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown, Static, TextArea

from studylog.errors import StudylogError
from studylog.services import cards as card_service
from studylog.services.cards import CardInfo
from studylog.tui.access import studylog_app
from studylog.tui.widgets.card_text import cloze_back, cloze_front
from studylog.tui.widgets.card_view import card_side
from studylog.tui.widgets.guard import report


def preview_markdown(front: str, back: str, kind: str, ord_: int | None) -> str:
    """The markdown of the preview: question, then answer, as Review shows them."""
    if kind == "cloze":
        question = cloze_front(front, ord_)
        answer = cloze_back(front, ord_)
        extra = f"\n\n{card_side(back, kind, ord_)}" if back.strip() else ""
        return f"**Question**\n\n{question}\n\n---\n\n**Answer**\n\n{answer}{extra}"
    return (
        f"**Front**\n\n{card_side(front, kind, ord_)}\n\n---\n\n"
        f"**Back**\n\n{card_side(back, kind, ord_) or '*(empty)*'}"
    )


class _CardRead(Message):
    def __init__(self, card: CardInfo | None, error: Exception | None) -> None:
        super().__init__()
        self.card = card
        self.error = error


class CardEditScreen(ModalScreen[bool]):
    """Edit card ``card_id``; dismissed with True when saved."""

    app = studylog_app()

    DEFAULT_CSS = """
    CardEditScreen { align: center middle; }
    CardEditScreen > Vertical {
        width: 96%; height: 90%; border: round $accent; background: $panel; padding: 0 1;
    }
    CardEditScreen #edit-title { height: 1; color: $text-muted; }
    CardEditScreen #edit-body { height: 1fr; }
    CardEditScreen #edit-fields { width: 1fr; }
    CardEditScreen .edit-label { height: 1; color: $text-accent; text-style: bold; }
    CardEditScreen TextArea { height: 1fr; }
    CardEditScreen #edit-preview { width: 1fr; border-left: solid $panel-lighten-2; }
    CardEditScreen #edit-error { height: auto; color: $text-error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="edit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
    ]

    def __init__(self, card_id: int) -> None:
        super().__init__()
        self.card_id = card_id
        self.card: CardInfo | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Card {self.card_id} · reading…", id="edit-title")
            with Horizontal(id="edit-body"):
                with Vertical(id="edit-fields"):
                    yield Static("Front", classes="edit-label")
                    yield TextArea(id="edit-front", soft_wrap=True)
                    yield Static("Back", classes="edit-label")
                    yield TextArea(id="edit-back", soft_wrap=True)
                with VerticalScroll(id="edit-preview"):
                    yield Markdown(id="edit-preview-text", open_links=False)
            yield Static(id="edit-error")
        yield Footer()

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exit_on_error=False)
    def _read(self) -> None:
        try:
            card = card_service.get(self.app.db, self.card_id)
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(_CardRead(None, error))
            return
        self.post_message(_CardRead(card, None))

    @on(_CardRead)
    def _card_read(self, message: _CardRead) -> None:
        if message.card is None:
            if message.error is not None:
                report(self, message.error)
            self.dismiss(False)
            return
        card = self.card = message.card
        kind = f"cloze c{card.cloze_ord}" if card.kind == "cloze" else card.kind
        self.query_one("#edit-title", Static).update(
            f"Card {card.id} · {kind} · {card.deck} · ctrl+s saves, escape cancels"
        )
        self.query_one("#edit-front", TextArea).load_text(card.front)
        self.query_one("#edit-back", TextArea).load_text(card.back)
        self.query_one("#edit-front", TextArea).focus()
        self._preview()

    @property
    def front(self) -> str:
        return self.query_one("#edit-front", TextArea).text

    @property
    def back(self) -> str:
        return self.query_one("#edit-back", TextArea).text

    @on(TextArea.Changed)
    def _changed(self) -> None:
        self._preview()

    def _preview(self) -> None:
        if self.card is None:
            return
        text = preview_markdown(self.front, self.back, self.card.kind, self.card.cloze_ord)
        self.query_one("#edit-preview-text", Markdown).update(text)

    def action_save(self) -> None:
        if self.card is None:
            return
        try:
            card_service.edit(
                self.app.db, self.card.id, front=self.front, back=self.back, now=self.app.now()
            )
        except StudylogError as error:
            self.query_one("#edit-error", Static).update(str(error))
            return
        self.app.notify(f"Card {self.card.id} saved.", timeout=3)
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
