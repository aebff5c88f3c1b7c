"""Rendering of demo outputs: pure functions, checked on a recording rich Console."""

from __future__ import annotations

import numpy as np
import pytest
from rich.cells import cell_len
from rich.color import Color
from rich.console import Console, RenderableType
from rich.text import Text

from studylog.demo import api as out
from studylog.demo.render import (
    format_numbers,
    heat_color,
    render_output,
    render_outputs,
    render_result,
    status_line,
)


def as_text(renderable: RenderableType, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def span(line: str, token: str) -> tuple[int, int]:
    """Display columns [start, end) of ``token`` in ``line`` (double-width aware)."""
    i = line.index(token)
    return cell_len(line[:i]), cell_len(line[: i + len(token)])


def emit(fn, *args, **kwargs) -> dict:
    with out.collect() as outputs:
        fn(*args, **kwargs)
    return outputs[0]


def test_format_numbers_shares_one_format_per_column() -> None:
    assert format_numbers([1.0, 0.25, -3.5]) == ["1.0000", "0.2500", "-3.5000"]
    assert format_numbers([1e-6, 2.0]) == ["1.000e-06", "2.000e+00"]
    assert format_numbers([123456.0, 1.0]) == ["1.235e+05", "1.000e+00"]
    assert format_numbers([0.0, 0.5]) == ["0.0000", "0.5000"]
    assert format_numbers([3, -12]) == ["3", "-12"]
    assert format_numbers([float("nan"), float("inf"), "-Infinity", True, None, "tok"]) == [
        "nan",
        "inf",
        "-inf",
        "True",
        "None",
        "tok",
    ]


def test_heat_color_follows_viridis() -> None:
    # Published endpoints and midpoint of matplotlib's viridis: #440154, #21918c, #fde725.
    assert heat_color(0.0) == Color.from_rgb(0x44, 0x01, 0x54)
    assert heat_color(0.5) == Color.from_rgb(0x21, 0x91, 0x8C)
    assert heat_color(1.0) == Color.from_rgb(0xFD, 0xE7, 0x25)
    assert heat_color(-3.0) == heat_color(0.0) and heat_color(7.0) == heat_color(1.0)
    assert heat_color(float("nan")) == heat_color(0.0)


def test_array_table_aligns_numbers_and_korean_labels() -> None:
    o = emit(
        out.array,
        "W (2, 2)",
        np.array([[1.5, -2.25], [0.125, 10.0]]),
        rows=["가나다", "b"],
        cols=["첫째", "x"],
    )
    lines = as_text(render_output(o)).splitlines()
    assert lines[0] == "W (2, 2)  shape (2, 2) float64"
    header, row0, row1 = lines[1], lines[3], lines[4]
    # Right-aligned: every column ends at the same display column as its header.
    assert span(header, "첫째")[1] == span(row0, "1.5000")[1] == span(row1, "0.1250")[1]
    assert span(header, "x")[1] == span(row0, "-2.2500")[1] == span(row1, "10.0000")[1]
    assert span(row0, "가나다")[1] == span(row1, "b")[1]


def test_large_arrays_are_elided_in_the_middle() -> None:
    o = emit(out.array, "m", np.arange(60 * 30).reshape(60, 30))
    text = as_text(render_output(o, width=80), width=80)
    first_cells = [line.split()[0] for line in text.splitlines()[3:] if line.strip()]
    assert first_cells[:10] == [str(i) for i in range(10)]
    assert first_cells[10] == "…"
    assert first_cells[11:] == [str(i) for i in range(50, 60)]
    assert "1799" in text  # the last element, 60 * 30 - 1
    assert max(cell_len(line) for line in text.splitlines()) <= 80


def test_one_three_and_zero_dimensional_arrays() -> None:
    text = as_text(render_output(emit(out.array, "v", np.array([1, 2, 3]))))
    assert text.splitlines()[1].split() == ["0", "1", "2"]
    assert text.splitlines()[3].split() == ["1", "2", "3"]
    text = as_text(render_output(emit(out.array, "t", np.arange(8).reshape(2, 2, 2))))
    assert "[0, :, :]" in text and "[1, :, :]" in text and "7" in text
    assert as_text(render_output(emit(out.array, "s", np.float64(0.5)))).splitlines()[1] == "0.5000"


def test_summary_shows_shape_first_values_and_statistics() -> None:
    o = emit(out.array, "big", np.arange(20_000.0).reshape(100, 200))
    text = as_text(render_output(o))
    assert "shape (100, 200) float64" in text
    assert "20000 values, first: 0.0000, 1.0000" in text
    assert "mean 9999.5" in text and "max 19999" in text


def test_heatmap_colours_cells_by_value_with_a_legend() -> None:
    o = emit(
        out.heatmap,
        "attention",
        np.array([[0.0, 1.0], [0.5, 0.25]]),
        x_labels=["나는", "고양이"],
        y_labels=["I", "cat"],
        x_title="source",
        y_title="target",
    )
    console = Console(width=60, record=True, color_system="truecolor")
    segments = list(console.render(render_output(o, width=60)))
    backgrounds = {seg.text.strip(): seg.style.bgcolor for seg in segments if seg.style}
    assert backgrounds["0.00"] == heat_color(0.0)
    assert backgrounds["1.00"] == heat_color(1.0)
    assert backgrounds["0.50"] == heat_color(0.5)
    text = as_text(render_output(o, width=60), width=60)
    lines = text.splitlines()
    assert lines[0] == "attention"
    assert "source" in lines[1]
    header = lines[2]
    assert header.split()[:3] == ["target", "나는", "고양이"]
    # Each column label is centred over its cells (Korean labels are 2 cells per character).
    for label, value, row in (("나는", "0.00", 3), ("고양이", "1.00", 3), ("나는", "0.50", 4)):
        a, b = span(header, label)
        c, d = span(lines[row], value)
        assert abs((a + b) - (c + d)) <= 2
    assert lines[-1].startswith("scale 0.0000") and lines[-1].endswith("1.0000")


def test_wide_heatmap_uses_shades_and_sparse_labels_within_the_width() -> None:
    data = np.linspace(0.0, 1.0, 3 * 100).reshape(3, 100)
    data[2, 0] = 2.0  # the largest value, in a column that is shown
    o = emit(out.heatmap, "wide", data, x_labels=[f"t{i}" for i in range(100)])
    text = as_text(render_output(o, width=70), width=70)
    assert "showing 3 x" in text and "of 3 x 100" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 70
    cells_row = text.splitlines()[-2]
    # Without colour the value is still visible as a shade; the last row is the largest.
    assert "█" in cells_row
    assert "t0" in text and "t1 " not in text


def test_line_plot_has_series_axis_titles_and_fixed_width() -> None:
    t = np.arange(1, 21)
    o = emit(
        out.line,
        "gradient norm",
        t,
        {"tanh": 0.5**t, "relu": 2.0**t},
        x_title="T",
        y_title="norm",
        log_y=True,
    )
    text = as_text(render_output(o, width=70), width=70)
    lines = text.splitlines()
    assert lines[0] == "gradient norm"
    assert "tanh" in text and "relu" in text
    assert "norm" in lines[-1] and "T" in lines[-1]
    assert max(cell_len(line) for line in lines[1:]) == 70
    # Readable decade ticks (issue 16): 0.5**20 = 9.5e-7 .. 2**20 = 1.05e6, so 1e-6 .. 1e6
    # in steps of 3 decades, not plotext's long decimals such as 1048576.0 or 0.00000095.
    ticks = [line.split("┤")[0].strip() for line in lines if "┤" in line]
    assert ticks == ["1e6", "1000", "1", "1e-3", "1e-6"]
    assert "1048576" not in text and "0.0000" not in text


def test_log_ticks_are_powers_of_ten_labelled_like_1e_minus_33() -> None:
    from studylog.demo.render import log_ticks

    values, labels = log_ticks(3e-33, 1.3)
    assert labels == ["1e-28", "1e-21", "1e-14", "1e-7", "1"]
    assert values == [1e-28, 1e-21, 1e-14, 1e-07, 1.0]
    assert log_ticks(0.01, 1000)[1] == ["0.01", "0.1", "1", "10", "100", "1000"]
    # less than two powers of ten: three log-spaced ticks with 3 significant digits
    assert log_ticks(0.3, 0.9)[1] == ["0.3", "0.52", "0.9"]
    assert log_ticks(5.0, 5.0) == ([5.0], ["5"])


def test_line_series_differ_by_marker_not_only_by_colour() -> None:
    t = np.arange(10)
    o = emit(out.line, "two series", t, {"a": t + 1.0, "b": 20 - t * 1.0})
    text = as_text(render_output(o, width=60), width=60)  # as_text drops the colours
    legend = [line for line in text.splitlines() if " a" in line or " b" in line]
    assert any("▞▞ a" in line for line in legend) and any("xx b" in line for line in legend)
    assert "x" in text.split("xx b")[1]  # the second series is drawn with x, not only coloured


def test_line_plot_skips_non_finite_points_and_handles_text_x() -> None:
    o = emit(out.line, "tokens", ["a", "b", "c"], {"p": [0.1, float("nan"), 0.3]})
    text = as_text(render_output(o, width=50), width=50)
    assert "a" in text.splitlines()[-1] and "c" in text.splitlines()[-1]
    empty = emit(out.line, "none", [1, 2], {"p": [float("nan"), float("inf")]})
    assert "no finite points" in as_text(render_output(empty))


def test_table_value_and_text() -> None:
    o = emit(out.table, "shapes", ["name", "params"], [["W_x", 2560], ["b", 40.5]])
    lines = as_text(render_output(o)).splitlines()
    assert lines[0] == "shapes"
    assert span(lines[1], "params")[1] == span(lines[3], "2560")[1] == span(lines[4], "40.5000")[1]
    assert as_text(render_output(emit(out.value, "BLEU", 0.2759, unit="x100"))).strip() == (
        "BLEU: 0.2759 x100"
    )
    stderr = render_output({"kind": "text", "text": "warn\n", "stream": "stderr"})
    assert isinstance(stderr, Text) and stderr.plain == "warn" and str(stderr.style) == "yellow"


def test_malformed_and_unknown_outputs_do_not_raise() -> None:
    outputs = [
        {"kind": "array"},
        {"kind": "heatmap", "data": [[1, "x"], [2]]},
        {"kind": "line", "x": None, "series": None},
        {"kind": "table", "columns": ["a"], "rows": [[1, 2, 3]]},
        {"kind": "mystery"},
    ]
    text = as_text(render_outputs(outputs))
    assert "unknown output kind 'mystery'" in text


@pytest.mark.parametrize("width", [40, 60])
def test_nothing_is_wider_than_asked(width: int) -> None:
    rng = np.random.default_rng(0)
    with out.collect() as outputs:
        out.array("a", rng.normal(size=(5, 30)))
        out.array("v", rng.normal(size=50))
        out.heatmap("h", rng.random((4, 30)))
        out.line("l", np.arange(10), {"y": np.arange(10.0)})
    text = as_text(render_outputs(outputs, width=width), width=200)
    assert max(cell_len(line) for line in text.splitlines()) <= width


def test_status_line_for_each_status() -> None:
    def line(data: dict, **kwargs) -> str:
        return status_line(data, **kwargs).plain

    assert line({"status": "ok", "duration_ms": 83}) == "✓ ok · 83 ms"
    assert line({"status": "timeout", "duration_ms": 10_004}) == "⏱ timeout · 10.0 s"
    assert (
        line({"status": "limit", "limit": "memory", "duration_ms": 5}) == "⚠ limit (memory) · 5 ms"
    )
    stale = line({"status": "ok", "duration_ms": 1}, cached=True, stale=True)
    assert "cached" in stale and "stale: code changed" in stale


def test_render_result_shows_outputs_then_the_traceback() -> None:
    result = {
        "status": "error",
        "duration_ms": 30,
        "outputs": [{"kind": "text", "text": "partial\n", "stream": "stdout"}],
        "error": "ValueError: bad",
        "traceback": 'Traceback (most recent call last):\n  File "d.py", line 1\nValueError: bad\n',
    }
    lines = as_text(render_result(result)).splitlines()
    assert lines[0] == "✗ error · 30 ms"
    assert lines.index("partial") < lines.index("Traceback (most recent call last):")
    assert lines[-1] == "ValueError: bad"
    timeout = as_text(
        render_result({"status": "timeout", "duration_ms": 1000, "error": "stopped after 1 s"})
    )
    assert "stopped after 1 s" in timeout


def test_line_plots_use_the_width_asked_for_without_a_terminal(monkeypatch) -> None:
    from rich.console import Console

    from studylog.demo.render import render_output

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    output = {
        "kind": "line",
        "label": "loss",
        "x": list(range(50)),
        "series": {"a": [float(i) for i in range(50)]},
    }
    console = Console(width=140, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_output(output, width=130))
    widest = max(len(line) for line in console.export_text().splitlines())
    assert widest > 100
