"""Widgets that show a demo's outputs inline, like the output area of a notebook cell.

Each output dict (``docs/demos.md``; made by :mod:`studylog.demo.api`) becomes
one widget, chosen by its ``kind``: :class:`TextOutput`, :class:`ValueOutput`,
:class:`ArrayOutput`, :class:`HeatmapOutput`, :class:`LineOutput`,
:class:`TableOutput`. They all draw the pure rich renderables of
:mod:`studylog.demo.render` (the same ones the CLI prints), built for the
widget's own width, so a heatmap or a plotext chart fills the width it is
given and is rebuilt when the terminal is resized. Cell widths come from
rich, so Korean (double-width) labels line up.

:class:`DemoResultView` shows a whole result: the status line (cached, stale,
duration), the outputs, then the error and traceback of a failed run.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from rich.cells import chop_cells
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from studylog.demo import render

Output = Mapping[str, Any]
MIN_WIDTH = 20  # narrower than this, tables and plots are unreadable anyway


class AtWidth:
    """A rich renderable that builds its content for the width it is rendered at.

    Textual measures a widget's height and paints it by rendering at the
    widget's content width; building the output there (instead of once, at a
    guessed width) makes heatmaps and plots exactly as wide as the widget.
    The last few widths are cached because Textual renders the same width
    several times (height, then lines).
    """

    def __init__(self, build: Callable[[int], RenderableType], keep: int = 3) -> None:
        self._build = build
        self._keep = keep
        self._cache: OrderedDict[int, RenderableType] = OrderedDict()
        self._lines: OrderedDict[int, list[list[Segment]]] = OrderedDict()

    def at(self, width: int) -> RenderableType:
        """The renderable for ``width`` cells (at least :data:`MIN_WIDTH`)."""
        width = max(width, MIN_WIDTH)
        found = self._cache.get(width)
        if found is None:
            found = self._build(width)
            self._cache[width] = found
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(width)
        return found

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Textual renders a widget once to measure its height and again to paint it;
        # the segments are kept per width, so tables and plots are laid out once.
        width = max(options.max_width, MIN_WIDTH)
        lines = self._lines.get(width)
        if lines is None:
            lines = console.render_lines(self.at(width), options.update_width(width), pad=False)
            self._lines[width] = lines
            while len(self._lines) > self._keep:
                self._lines.popitem(last=False)
        newline = Segment.line()
        for line in lines:
            yield from line
            yield newline


class OutputView(Widget):
    """One demo output, drawn by :func:`studylog.demo.render.render_output` at the widget's width."""

    DEFAULT_CSS = """
    OutputView {
        height: auto;
        width: 1fr;
        margin: 0 0 1 0;
    }
    """
    kind: ClassVar[str] = ""

    def __init__(self, output: Output, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output = output
        self._renderable = AtWidth(self.build)

    def build(self, width: int) -> RenderableType:
        """The renderable for ``width`` cells; subclasses may draw differently."""
        return render.render_output(self.output, width=width)

    def render(self) -> RenderableType:
        return self._renderable


class TextOutput(OutputView):
    """``text``: a paragraph; ``stderr`` in yellow, process notes dim."""

    kind = "text"


class ValueOutput(OutputView):
    """``value``: ``label: value unit`` on one line."""

    kind = "value"


class ArrayOutput(OutputView):
    """``array``: a labelled table (0-D to 3-D), elided when large, or a summary line."""

    kind = "array"


class HeatmapOutput(OutputView):
    """``heatmap``: coloured cells with axis labels and a colour-scale legend."""

    kind = "heatmap"


class LineOutput(OutputView):
    """``line``: a plotext chart as wide as the widget (one or more named series)."""

    kind = "line"


class TableOutput(OutputView):
    """``table``: a rich table with numeric columns right-aligned."""

    kind = "table"


class UnknownOutput(OutputView):
    """Any other kind: a dim notice (the renderer says what is wrong)."""


OUTPUT_WIDGETS: dict[str, type[OutputView]] = {
    cls.kind: cls
    for cls in (TextOutput, ValueOutput, ArrayOutput, HeatmapOutput, LineOutput, TableOutput)
}


def output_widget(output: Output) -> OutputView:
    """The widget for one output dict, by its ``kind``."""
    cls = OUTPUT_WIDGETS.get(str(output.get("kind")), UnknownOutput)
    return cls(output, classes=f"output -{cls.kind or 'unknown'}")


def _error_renderable(data: Mapping[str, Any], width: int) -> RenderableType:
    """The traceback (folded at the width, as the CLI does) and the one-line error."""
    parts = Text()
    status = data.get("status")
    if data.get("traceback"):
        lines = str(data["traceback"]).rstrip("\n").splitlines()
        folded = [piece for line in lines for piece in (chop_cells(line, width) or [""])]
        parts.append("\n".join(folded), style="red")
    if data.get("error") and (status != "error" or not data.get("traceback")):
        if parts:
            parts.append("\n")
        parts.append(str(data["error"]), style="bold red" if status == "error" else "yellow")
    parts.no_wrap = True
    return parts


class ErrorOutput(Widget):
    """The error and traceback of a run that did not end ``ok``."""

    DEFAULT_CSS = """
    ErrorOutput {
        height: auto;
        width: 1fr;
        margin: 0 0 1 0;
    }
    """

    def __init__(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data = data
        self._renderable = AtWidth(lambda w: _error_renderable(self.data, w))

    def render(self) -> RenderableType:
        return self._renderable


class DemoResultView(Vertical):
    """A demo result: the status line, then every output, then the error if any.

    Call :meth:`show` with a run (a :class:`studylog.services.demos.DemoRun`),
    or with None for "never run". The outputs of the previous run stay until
    the next result arrives, as a notebook keeps a cell's old outputs while
    it runs.
    """

    DEFAULT_CSS = """
    DemoResultView {
        height: auto;
        width: 1fr;
    }
    DemoResultView > #status {
        height: auto;
        margin: 0 0 1 0;
    }
    DemoResultView.-stale > OutputView {
        opacity: 70%;
    }
    """

    def __init__(self, empty_text: str = "Not run yet.", *, run: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty_text = empty_text
        self.run: Any = run

    def compose(self) -> ComposeResult:
        yield Static(self._status(self.run), id="status")
        yield from self._widgets(self.run)

    def _status(self, run: Any) -> Text:
        if run is None:
            return Text(self.empty_text, style="dim")
        return render.status_line(
            run.result,
            cached=run.cached,
            stale=run.stale,
            stale_reason=run.stale_reason,
            ran_at=run.ran_at,
        )

    def _widgets(self, run: Any) -> list[Widget]:
        self.set_class(run is not None and bool(run.stale), "-stale")
        if run is None:
            return []
        data = run.result.to_json()
        widgets: list[Widget] = [output_widget(o) for o in data.get("outputs") or []]
        if data.get("status") != "ok" and (data.get("error") or data.get("traceback")):
            widgets.append(ErrorOutput(data, classes="error"))
        if not widgets:
            widgets.append(Static(Text("(no outputs)", style="dim")))
        return widgets

    async def show(self, run: Any) -> None:
        """Replace what is shown with ``run`` (a DemoRun, or None)."""
        self.run = run
        await self.remove_children([w for w in self.children if w.id != "status"])
        self.query_one("#status", Static).update(self._status(run))
        widgets = self._widgets(run)
        if widgets:
            await self.mount_all(widgets)

    @property
    def output_views(self) -> list[OutputView]:
        """The output widgets now shown, in order."""
        return self.walk_children(OutputView)


def kinds(views: Iterable[OutputView]) -> list[str]:
    """The kinds of ``views`` in order (for tests and summaries)."""
    return [str(v.output.get("kind")) for v in views]
