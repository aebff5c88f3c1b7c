"""The bar at the top of every main screen: the app's name, the screens with their keys
(the current one highlighted; each is clickable) and the study day."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from studylog.tui.access import studylog_app


class ModeBar(Static):
    """``studylog  F2 Today  F3 Review …  F1 Help  ^P Commands``; ``current`` is highlighted.

    The screens are the app's one registry (``StudylogApp.MODE_REGISTRY``).
    """

    app = studylog_app()

    DEFAULT_CSS = """
    ModeBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text-muted;
    }
    """

    def __init__(self, current: str | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = current

    def on_mount(self) -> None:
        self.update(self.bar())

    def bar(self) -> Content:
        parts = ["[bold $text-accent] studylog [/]"]
        for mode in self.app.MODE_REGISTRY:
            style = "bold reverse $accent" if mode.name == self.current else "$text"
            parts.append(f"[{style} @click=app.goto('{mode.name}')] {mode.key} {mode.title} [/]")
        parts.append("  [@click=app.help] F1 Help [/][@click=app.command_palette] ^P Commands [/]")
        return Content.from_markup(" ".join(parts))
