"""One card at a glance (``app.open_card``): both sides with readable math, its schedule,
and a key to open its concept. Used by search hits and the command palette."""

from __future__ import annotations

import re
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown, Static

from studylog.content.cloze import CLOZE
from studylog.services.cards import CardInfo
from studylog.studyday import StudyCalendar
from studylog.tui.access import studylog_app
from studylog.tui.widgets.entry_editor import preview_markdown
from studylog.tui.widgets.guard import guarded


def card_side(text: str, kind: str, ord_: int | None) -> str:
    """A card side for the Markdown widget; a cloze shows its own deletion in bold."""
    if kind == "cloze":

        def show(m: re.Match[str]) -> str:
            own = ord_ is not None and int(m.group(1)) == ord_
            return f"**{m.group(2)}**" if own else m.group(2)

        text = CLOZE.sub(show, text)
    return preview_markdown(text)


def schedule_line(card: CardInfo, calendar: StudyCalendar) -> str:
    """``deck · new`` or ``deck · due 2026-11-25 · 4 reviews · 1 lapse`` (+ suspended, tags);
    the due date is the study day the due moment falls in."""
    parts = [card.deck]
    if card.is_new:
        parts.append("new")
    else:
        parts.append(f"due {calendar.day_of(card.due).isoformat()}")
        parts.append(f"{card.reps} review{'s' if card.reps != 1 else ''}")
        if card.lapses:
            parts.append(f"{card.lapses} lapse{'s' if card.lapses != 1 else ''}")
    if card.suspended:
        parts.append("suspended")
    if card.tags:
        parts.append(" ".join(f"#{t}" for t in card.tags))
    return " · ".join(parts)


class CardView(ModalScreen[None]):
    """Card ``card``: front, back, schedule; ``c`` opens its concept."""

    app = studylog_app()

    DEFAULT_CSS = """
    CardView { align: center middle; }
    CardView > Vertical {
        width: 100%; max-width: 96; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    CardView .card-meta { color: $text-muted; height: auto; }
    CardView .card-label { color: $text-accent; text-style: bold; height: 1; margin-top: 1; }
    CardView VerticalScroll { height: auto; max-height: 30; }
    CardView Markdown { margin: 0; padding: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="card.close"),
        Binding("c", "concept", "Open concept", id="card.concept"),
    ]

    def __init__(self, card: CardInfo) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        card = self.card
        with Vertical():
            line = schedule_line(card, self.app.calendar)
            yield Static(Text(f"Card {card.id} · {line}"), classes="card-meta")
            with VerticalScroll():
                yield Static("Front", classes="card-label")
                yield Markdown(card_side(card.front, card.kind, card.cloze_ord), open_links=False)
                yield Static("Back", classes="card-label")
                yield Markdown(
                    card_side(card.back, card.kind, card.cloze_ord) or "*(no back)*",
                    open_links=False,
                )
            if card.concept_slug:
                yield Static(
                    Text(f"concept: {card.concept_slug} (c opens it)"), classes="card-meta"
                )
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "concept" and not self.card.concept_slug:
            return False
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_concept(self) -> None:
        slug = self.card.concept_slug
        self.dismiss(None)
        if slug:
            self.app.open_concept(slug)

    @on(Markdown.LinkClicked)
    @guarded
    def _link(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.app.open_link(event.href)
