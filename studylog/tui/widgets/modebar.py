"""The bar at the top of every main screen: the app's name, the screens with their keys
(the current one highlighted; each is clickable) and the study day."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from studylog.tui.access import studylog_app


class ModeBar(Static):
    """``studylog  F2 Today  F3 Review …  F9 Settings  F1 Help  ^P Palette``; ``current`` is highlighted.

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

    def render(self) -> Content:
        return self.bar(self.size.width)

    def bar(self, width: int | None = None) -> Content:
        """The bar in the longest form that fits ``width`` cells (None: the full form).

        The Settings screen (F9, not a mode: it opens over the current screen) is
        listed after the screens where there is room. Below the full form's width
        the app's name goes first, then Settings and ``^P Palette`` (the key bar
        shows ``^p Palette`` too; F1 lists F9), then the spacing (between the screens,
        then around each), then the titles of the screens not shown (their keys
        stay, and clicks).
        """
        forms = [self._form(name=True, palette=True, gap=" ", titles=True, settings=True)]
        if width is not None:
            forms += [
                self._form(name=False, palette=True, gap=" ", titles=True, settings=True),
                self._form(name=False, palette=False, gap=" ", titles=True, settings=True),
                self._form(name=False, palette=False, gap=" ", titles=True),
                self._form(name=False, palette=False, gap="", titles=True),
                self._form(name=False, palette=False, gap=" ", titles=True, pad=False),
                self._form(name=False, palette=False, gap="", titles=False),
            ]
        for form in forms:
            if width is None or form.cell_length <= width:
                return form
        return forms[-1]

    def _form(
        self,
        *,
        name: bool,
        palette: bool,
        gap: str,
        titles: bool,
        pad: bool = True,
        settings: bool = False,
    ) -> Content:
        parts = ["[bold $text-accent] studylog [/]"] if name else []
        space = " " if pad else ""
        for mode in self.app.MODE_REGISTRY:
            current = mode.name == self.current
            style = "bold reverse $accent" if current else "$text"
            label = f"{mode.key} {mode.title}" if titles or current else mode.key
            parts.append(f"[{style} @click=app.goto('{mode.name}')]{space}{label}{space}[/]")
        if settings:
            parts.append(f"[$text @click=app.settings]{space}F9 Settings{space}[/]")
        tail = "[@click=app.help] F1 Help [/]"
        if palette:
            tail += "[@click=app.command_palette] ^P Palette [/]"
        return Content.from_markup(gap.join(parts) + gap + "  " + tail)
