"""The app's one choke point for untrusted text: every strip Textual draws is made inert.

Textual turns each line on screen into a :class:`textual.strip.Strip` and
each strip into terminal sequences with :meth:`Strip.render`, adding its own
style escapes there; cursor moves are added outside strips. Every widget's
text (entries, TODOs, cards, concept pages, notifications, editors) passes
through that method, so cleaning the segments' text in it (with
:func:`studylog.inert.inert`) keeps an escape in a note from retitling the
terminal, writing the clipboard or clearing the screen, whichever widget shows
it, and leaves Textual's own escapes alone.

:func:`install` replaces ``Strip.render`` with the same code plus the
cleaning. Textual is pinned exactly (pyproject), and
``tests/tui/test_inert_render.py`` checks the result on a running app, so a
Textual upgrade that changes ``Strip`` fails a test instead of silently
letting escapes through.
"""

from __future__ import annotations

import textual.content
from rich.color import ColorSystem
from rich.console import Console
from textual.strip import Strip

from studylog.inert import (
    harden_rich_text,
    inert_keeping_width,
    is_inert,
    sequences_removed_first,
)

_installed = False
TEXTUAL_RENDER = Strip.render  # Textual's own, kept for tests that show the difference


def _clean(text: str) -> str:
    # Layout is done: removed sequences leave blanks, so the line keeps its width.
    return text if is_inert(text) else inert_keeping_width(text)


def _render(self: Strip, console: Console) -> str:
    """:meth:`Strip.render` (Textual 8.2.8) with every segment's text cleaned."""
    if self._render_cache is None:
        color_system = console._color_system or ColorSystem.TRUECOLOR
        render = self.render_style
        self._render_cache = "".join(
            [
                (
                    _clean(text)
                    if style is None
                    else render(style, _clean(text), color_system=color_system)
                )
                for text, style, _ in self._segments
            ]
        )
    return self._render_cache


def install() -> None:
    """Make every strip Textual renders inert (idempotent)."""
    global _installed
    if not _installed:
        harden_rich_text()
        # Textual's Content drops BEL as rich's Text does; clean it first too.
        textual.content._strip_control_codes = sequences_removed_first(
            textual.content._strip_control_codes
        )
        Strip.render = _render  # type: ignore[method-assign]
        _installed = True
