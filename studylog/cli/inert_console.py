"""A rich render hook that makes the text of every rendered segment inert.

Rich adds its colour and style escapes when it turns segments into the final
string, after a render hook has seen them; cleaning the segments' text (and
the targets of links, which rich writes into an OSC 8 sequence) therefore
removes escapes that came with the data and keeps rich's own.
"""

from __future__ import annotations

from rich.console import (
    Console,
    ConsoleOptions,
    ConsoleRenderable,
    RenderableType,
    RenderHook,
    RenderResult,
)
from rich.segment import Segment

from studylog.inert import inert, inert_keeping_width, is_inert


class InertRenderable:
    """Renders ``inner`` and cleans what it yields."""

    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control:
                yield segment  # rich's own control codes (cursor moves), never data
                continue
            text, style = segment.text, segment.style
            if not is_inert(text):
                text = inert_keeping_width(text)  # laid out already: keep the width
            if style is not None and style.link and not is_inert(style.link):
                style = style.update_link(inert(style.link))
            yield Segment(text, style)


class InertHook(RenderHook):
    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [InertRenderable(r) for r in renderables]  # type: ignore[misc]
