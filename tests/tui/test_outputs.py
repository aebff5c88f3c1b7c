"""Output widgets: each kind made by the real output API renders inside the app, at its width.

What is drawn is read back from the widgets' own lines (Textual strips), so
the checks see what a user sees: the text, Korean labels lining up by
terminal cells, heatmap cells in the viridis colours (matplotlib's published
end points), plots exactly as wide as the widget.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from rich.cells import cell_len
from rich.color import Color
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Region

from studylog.demo import api as out
from studylog.demo.runner import RunResult
from studylog.services.demos import DemoRun
from studylog.tui.widgets.outputs import (
    ArrayOutput,
    DemoResultView,
    ErrorOutput,
    HeatmapOutput,
    LineOutput,
    OutputView,
    TableOutput,
    TextOutput,
    ValueOutput,
    output_widget,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
VIRIDIS_LOW = Color.parse("#440154")  # matplotlib viridis(0.0)
VIRIDIS_HIGH = Color.parse("#fde725")  # matplotlib viridis(1.0)


@pytest.fixture(autouse=True)
def terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal as wide as the test app: plotext limits a plot to the terminal's size,
    which a headless test run does not have (it would fall back to 80 columns)."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "80")


def make_outputs() -> list[dict]:
    with out.collect() as outputs:
        out.text("소프트맥스는 점수를 확률로 바꿉니다.")
        out.value("cross-entropy loss", 1.3272277578137197, unit="nats")
        out.array(
            "y = softmax(a)",
            np.array([[0.25, 0.75], [0.5, 0.5]]),
            rows=["가나다라", "n1"],
            cols=["확률0", "k1"],
        )
        out.heatmap(
            "attention weights",
            np.array([[0.0, 1.0], [0.25, 0.5]]),
            x_labels=["나는", "고양이"],
            y_labels=["I", "cat"],
        )
        x = np.linspace(0.0, 1.0, 11)
        out.line("entropy", x=x, series={"H": x * (1 - x)})
        out.table("shapes", columns=["이름", "shape"], rows=[["가중치 W", "(3, 4)"], ["b", "(4,)"]])
    return outputs


class OutputsApp(App):
    def __init__(self, outputs: list[dict], width: int | None = None) -> None:
        super().__init__()
        self.outputs = outputs
        self.width = width

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            for o in self.outputs:
                widget = output_widget(o)
                if self.width:
                    widget.styles.width = self.width
                yield widget


def lines(widget: OutputView | ErrorOutput) -> list[str]:
    """The text of every line the widget draws."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return ["".join(seg.text for seg in strip).rstrip() for strip in strips]


def segments(widget: OutputView):  # noqa: ANN201
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return [seg for strip in strips for seg in strip]


async def test_each_kind_gets_its_widget_and_draws() -> None:
    outputs = make_outputs()
    app = OutputsApp(outputs)
    async with app.run_test(size=(100, 80)) as pilot:
        await pilot.pause()
        widgets = list(app.query(OutputView))
        assert [type(w) for w in widgets] == [
            TextOutput,
            ValueOutput,
            ArrayOutput,
            HeatmapOutput,
            LineOutput,
            TableOutput,
        ]
        for w in widgets:
            assert w.size.height > 0

        text, value, array, heatmap, line, table = widgets
        assert lines(text)[0] == "소프트맥스는 점수를 확률로 바꿉니다."
        assert lines(value)[0] == "cross-entropy loss: 1.32723 nats"

        # The array: both value columns right-aligned at the same terminal cell in every
        # row, whether the row label is Korean (2 cells per syllable) or ASCII.
        drawn = lines(array)
        assert drawn[0].startswith("y = softmax(a)")
        body = [ln for ln in drawn if ln.strip().startswith(("가나다라", "n1"))]
        assert len(body) == 2
        assert "0.2500" in body[0] and "0.7500" in body[0]
        assert "0.5000" in body[1]
        ends = {cell_len(ln) for ln in body}
        assert len(ends) == 1, body
        header = next(ln for ln in drawn if "확률0" in ln)
        assert cell_len(header) == cell_len(body[0])
        col0_end = {
            cell_len(ln[: ln.index(v) + len(v)])
            for ln, v in zip(body, ["0.2500", "0.5000"], strict=True)
        }
        assert len(col0_end) == 1

        # The heatmap: the 0.0 cell in viridis(0) and the 1.0 cell in viridis(1).
        backgrounds = {
            seg.style.bgcolor.get_truecolor()
            for seg in segments(heatmap)
            if seg.style and seg.style.bgcolor and seg.text.strip() in ("0.00", "1.00")
        }
        assert VIRIDIS_LOW.get_truecolor() in backgrounds
        assert VIRIDIS_HIGH.get_truecolor() in backgrounds
        drawn = lines(heatmap)
        assert "나는" in "".join(drawn) and "고양이" in "".join(drawn)

        # The line plot is as wide as its widget (plotext draws to the given width).
        drawn = lines(line)
        assert drawn[0] == "entropy"
        chart = [ln for ln in drawn[1:] if ln]
        assert len(chart) > 5
        assert max(cell_len(ln) for ln in chart) == line.size.width

        drawn = lines(table)
        head = next(ln for ln in drawn if "이름" in ln)
        row = next(ln for ln in drawn if "가중치 W" in ln)
        # Left-aligned text columns start at the same cell in the header and the row.
        assert cell_len(head[: head.index("shape")]) == cell_len(row[: row.index("(3, 4)")])


@pytest.mark.parametrize("width", [50, 90])
async def test_outputs_follow_the_widget_width(width: int) -> None:
    outputs = make_outputs()
    app = OutputsApp(outputs, width=width)
    async with app.run_test(size=(100, 80)) as pilot:
        await pilot.pause()
        for w in app.query(OutputView):
            assert w.size.width == width
            assert max(cell_len(ln) for ln in lines(w)) <= width
        line = app.query_one(LineOutput)
        assert max(cell_len(ln) for ln in lines(line)[1:]) == width


async def test_malformed_and_unknown_outputs_show_a_notice() -> None:
    app = OutputsApp(
        [{"kind": "array", "label": "bad", "shape": [2, 2], "data": 5}, {"kind": "video"}]
    )
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        bad, unknown = app.query(OutputView)
        assert "bad" in "\n".join(lines(bad))
        assert "unknown output kind 'video'" in "\n".join(lines(unknown))


class ResultApp(App):
    def compose(self) -> ComposeResult:
        yield DemoResultView(id="view")


def demo_run(result: RunResult, *, stale: bool = False) -> DemoRun:
    return DemoRun(
        slug="softmax",
        result=result,
        ran_at=NOW,
        cached=True,
        stale=stale,
        stale_reason="code changed" if stale else None,
        python_version="3.11",
        numpy_version="2.0",
    )


async def test_result_view_marks_stale_results_and_shows_errors() -> None:
    app = ResultApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(DemoResultView)
        ok = RunResult(status="ok", duration_ms=83, outputs=make_outputs()[:2])
        await view.show(demo_run(ok, stale=True))
        await pilot.pause()
        status = str(view.query_one("#status").render())
        assert "ok" in status and "83 ms" in status and "stale: code changed" in status
        assert view.has_class("-stale")
        assert [type(w) for w in view.output_views] == [TextOutput, ValueOutput]

        failed = RunResult(
            status="error",
            duration_ms=12,
            outputs=[{"kind": "text", "text": "before the error"}],
            error="ZeroDivisionError: division by zero",
            traceback='Traceback (most recent call last):\n  File "demo.py", line 3\nZeroDivisionError: division by zero\n',
        )
        await view.show(demo_run(failed))
        await pilot.pause()
        assert not view.has_class("-stale")
        assert [type(w) for w in view.output_views] == [TextOutput]
        error = view.query_one(ErrorOutput)
        drawn = "\n".join(lines(error))
        assert "ZeroDivisionError: division by zero" in drawn and 'File "demo.py"' in drawn

        await view.show(None)
        await pilot.pause()
        assert view.output_views == []
        assert "Not run yet" in str(view.query_one("#status").render())
