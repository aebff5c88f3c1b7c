"""Rich renderables for demo outputs and results, shared by the CLI and the app.

Every function here is pure: it takes output dicts (docs/demos.md) and
returns rich renderables, with no I/O. The CLI prints them with a rich
Console; the app puts them in ``Static`` widgets. Cell widths come from rich,
so Korean (double-width) labels line up.

* ``text``: plain text (``stream`` ``stderr`` yellow, ``process``/``note`` dim).
* ``value``: ``label: value unit``.
* ``array``: 0-D as a value, 1-D and 2-D as a table with row and column
  labels and right-aligned numbers in one format per array, 3-D as a table
  per leading index; large arrays elided with ``…``; summaries as one line.
* ``heatmap``: coloured background cells (a viridis-like scale) with the
  values when they fit, axis labels and titles, and a colour-scale legend.
* ``line``: a plotext chart (``plotext.build()`` turned into rich Text).
* ``table``: a rich Table.

Public API: :func:`render_result`, :func:`render_outputs`,
:func:`render_output`, :func:`status_line`, :func:`format_numbers`,
:func:`heat_color`, :data:`PLOT_HEIGHT`.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.cells import chop_cells
from rich.color import Color
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

Output = Mapping[str, Any]

PLOT_HEIGHT = 15  # rows of a line plot
MAX_ROWS = 20  # array rows shown before eliding the middle
MAX_SLICES = 4  # 3-D arrays: leading indices shown
MAX_HEATMAP_ROWS = 40
ELLIPSIS = "…"
_PLOT_LOCK = threading.Lock()  # plotext keeps its figure in module state
_PLOT_COLORS = ("blue+", "orange+", "green+", "red+", "magenta+", "cyan+", "yellow+", "gray+")
# One marker per series as well, so the series stay apart without colour (a monochrome
# terminal, a screenshot in print, colour blindness); the legend shows the marker.
_PLOT_MARKERS = ("hd", "x", "•", "+", "o", "*", "#", "@")

# Viridis (matplotlib's colormap) sampled at t = 0, 0.1, ..., 1; between the
# samples the colour is interpolated linearly.
_VIRIDIS = (
    (0.267004, 0.004874, 0.329415),
    (0.282327, 0.140926, 0.457517),
    (0.253935, 0.265254, 0.529983),
    (0.206756, 0.371758, 0.553117),
    (0.163625, 0.471133, 0.558148),
    (0.127568, 0.566949, 0.550556),
    (0.134692, 0.658636, 0.517649),
    (0.266941, 0.748751, 0.440573),
    (0.477504, 0.821444, 0.318195),
    (0.741388, 0.873449, 0.149561),
    (0.993248, 0.906157, 0.143936),
)


# --- numbers ------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _non_finite(value: Any) -> str | None:
    """``"nan"``/``"inf"``/``"-inf"`` for non-finite floats (also as strings from strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str) and value in ("NaN", "nan", "Infinity", "inf", "-Infinity", "-inf"):
        return {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(value, value)
    return None


def format_numbers(values: Sequence[Any], digits: int = 4) -> list[str]:
    """Format a column of cells with one shared format, so decimal points line up.

    Integers print as integers. Floats print with ``digits`` decimals when
    every finite magnitude is in [1e-3, 1e5) (or zero), otherwise in
    scientific notation with ``digits - 1`` decimals, as NumPy switches.
    NaN and infinities print as ``nan``/``inf``; other cells with ``str``.

    >>> format_numbers([1.0, 0.25, -3.5])
    ['1.0000', '0.2500', '-3.5000']
    >>> format_numbers([1e-6, 2.0])
    ['1.000e-06', '2.000e+00']
    """
    floats = [abs(v) for v in values if isinstance(v, float) and math.isfinite(v) and v != 0.0]
    scientific = bool(floats) and (max(floats) >= 1e5 or min(floats) < 1e-3)
    out = []
    for v in values:
        special = _non_finite(v)
        if special is not None:
            out.append(special)
        elif isinstance(v, bool) or v is None:
            out.append(str(v))
        elif isinstance(v, int):
            out.append(str(v))
        elif isinstance(v, float):
            out.append(f"{v:.{digits - 1}e}" if scientific else f"{v:.{digits}f}")
        else:
            out.append(str(v))
    return out


def _format_one(value: Any) -> str:
    special = _non_finite(value)
    if special is not None:
        return special
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- colours ------------------------------------------------------------------


def heat_color(t: float) -> Color:
    """The viridis-like colour at ``t`` in [0, 1] (clipped): dark purple -> yellow."""
    t = min(1.0, max(0.0, t)) if math.isfinite(t) else 0.0
    pos = t * (len(_VIRIDIS) - 1)
    i = min(int(pos), len(_VIRIDIS) - 2)
    f = pos - i
    rgb = [a + (b - a) * f for a, b in zip(_VIRIDIS[i], _VIRIDIS[i + 1], strict=True)]
    return Color.from_rgb(*(round(255 * c) for c in rgb))


def _text_on(color: Color) -> Color:
    r, g, b = color.get_truecolor()
    luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
    return Color.from_rgb(0, 0, 0) if luminance > 0.45 else Color.from_rgb(255, 255, 255)


def _scale(value: Any, vmin: float, vmax: float) -> float | None:
    if not _is_number(value) or not math.isfinite(value):
        return None
    if vmax <= vmin:
        return 0.5
    return (value - vmin) / (vmax - vmin)


# --- outputs ------------------------------------------------------------------


def _title(label: str, detail: str | None = None) -> Text:
    text = Text(label, style="bold")
    if detail:
        text.append(f"  {detail}", style="dim")
    return text


def _render_text(output: Output) -> RenderableType:
    stream = output.get("stream")
    style = {"stderr": "yellow", "process": "dim", "note": "dim italic"}.get(stream or "", "")
    text = str(output.get("text", ""))
    if stream:
        text = text.rstrip("\n")  # print() adds one; the layout separates outputs
    return Text(text, style=style)


def _render_value(output: Output) -> RenderableType:
    text = Text(str(output.get("label", "")), style="bold")
    text.append(": ")
    text.append(_format_one(output.get("value")))
    if output.get("unit"):
        text.append(f" {output['unit']}", style="dim")
    return text


def _elide(n: int, keep: int) -> list[int | None]:
    """Indices to show out of ``n``: all, or the first and last halves of ``keep`` with None between."""
    if n <= keep:
        return list(range(n))
    head = (keep + 1) // 2
    tail = keep - head
    return [*range(head), None, *range(n - tail, n)]


def _fit_columns(widths: list[int], budget: int) -> int:
    """How many columns of these widths (plus rich's padding) fit in ``budget`` cells."""
    used = 0
    for count, w in enumerate(widths):
        used += w + 3  # padding on both sides and the (blank) divider
        if used > budget:
            return max(1, count)
    return len(widths)


def _matrix_table(
    matrix: list[list[Any]],
    rows: Sequence[str] | None,
    cols: Sequence[str] | None,
    width: int,
    title: str | None = None,
) -> Table:
    n_rows = len(matrix)
    n_cols = max((len(r) for r in matrix), default=0)
    flat = [v for row in matrix for v in row]
    cells = iter(format_numbers(flat))
    formatted = [[next(cells) for _ in row] for row in matrix]
    row_labels = (
        list(rows) if rows is not None and len(rows) == n_rows else [str(i) for i in range(n_rows)]
    )
    col_labels = (
        list(cols) if cols is not None and len(cols) == n_cols else [str(j) for j in range(n_cols)]
    )
    label_width = max((Text(r).cell_len for r in row_labels), default=1)
    col_widths = [
        max([Text(col_labels[j]).cell_len, *(len(r[j]) for r in formatted if j < len(r))])
        for j in range(n_cols)
    ]
    # Room for the row labels and for an elision column.
    fit = _fit_columns(sorted(col_widths, reverse=True), width - label_width - 3 - 4)
    col_idx = _elide(n_cols, fit if fit < n_cols else n_cols)
    row_idx = _elide(n_rows, MAX_ROWS)
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title=title,
        title_justify="left",
        title_style="dim",
        header_style="bold cyan",
    )
    table.add_column("", style="bold cyan", justify="right", no_wrap=True)
    for j in col_idx:
        table.add_column(ELLIPSIS if j is None else col_labels[j], justify="right", no_wrap=True)
    for i in row_idx:
        if i is None:
            table.add_row(ELLIPSIS, *(ELLIPSIS for _ in col_idx))
            continue
        line = formatted[i]
        table.add_row(
            row_labels[i],
            *(ELLIPSIS if j is None else (line[j] if j < len(line) else "") for j in col_idx),
        )
    return table


def _summary_text(output: Output) -> Text:
    summary = output.get("summary") or {}
    shape = tuple(output.get("shape") or ())
    text = Text(f"{summary.get('size', '?')} values, first: ")
    head = summary.get("head") or []
    text.append(", ".join(format_numbers(head)) + (f", {ELLIPSIS}" if head else ""))
    stats = [f"{k} {_format_one(summary[k])}" for k in ("min", "max", "mean") if k in summary]
    if stats:
        text.append("\n" + "   ".join(stats), style="dim")
    text.append(f"\n(too large to show: shape {shape})", style="dim italic")
    return text


def _render_array(output: Output, width: int) -> RenderableType:
    shape = list(output.get("shape") or [])
    detail = f"shape {tuple(shape)} {output.get('dtype', '')}".strip()
    title = _title(str(output.get("label", "")), detail)
    data = output.get("data")
    if output.get("summary") is not None or data is None:
        return Group(title, _summary_text(output))
    rows, cols = output.get("rows"), output.get("cols")
    if not isinstance(data, list):  # 0-D
        return Group(title, Text(format_numbers([data])[0]))
    ndim = len(shape) if shape else 1
    if ndim == 1:
        if rows is not None and len(rows) == len(data) and cols is None:
            return Group(title, _matrix_table([[v] for v in data], rows, None, width))
        return Group(
            title, _matrix_table([data], rows if rows and len(rows) == 1 else [""], cols, width)
        )
    if ndim == 2:
        return Group(title, _matrix_table(data, rows, cols, width))
    if ndim == 3:
        parts: list[RenderableType] = [title]
        for k in _elide(len(data), MAX_SLICES):
            if k is None:
                parts.append(Text(ELLIPSIS, style="dim"))
                continue
            parts.append(_matrix_table(data[k], rows, cols, width, title=f"[{k}, :, :]"))
        return Group(*parts)
    flat: list[Any] = data
    while flat and isinstance(flat[0], list):
        flat = [v for sub in flat for v in sub]
    return Group(
        title, _summary_text({"shape": shape, "summary": {"size": len(flat), "head": flat[:8]}})
    )


def _render_heatmap(output: Output, width: int) -> RenderableType:
    matrix = [list(r) if isinstance(r, list) else [r] for r in (output.get("data") or [])]
    n_rows = len(matrix)
    n_cols = max((len(r) for r in matrix), default=0)
    vmin = output.get("vmin")
    vmax = output.get("vmax")
    if not (_is_number(vmin) and _is_number(vmax)):
        finite = [v for r in matrix for v in r if _is_number(v) and math.isfinite(v)]
        vmin, vmax = (min(finite), max(finite)) if finite else (0.0, 0.0)
    x_labels = output.get("x_labels")
    y_labels = output.get("y_labels")
    x_labels = (
        list(x_labels) if x_labels and len(x_labels) == n_cols else [str(j) for j in range(n_cols)]
    )
    y_labels = (
        list(y_labels) if y_labels and len(y_labels) == n_rows else [str(i) for i in range(n_rows)]
    )

    values = [
        [f"{v:.2f}" if _is_number(v) and math.isfinite(v) else _format_one(v) for v in r]
        for r in matrix
    ]
    value_width = max((len(s) for r in values for s in r), default=1)
    label_width = max((Text(x).cell_len for x in x_labels), default=1)
    y_width = max(
        [Text(y).cell_len for y in y_labels] + [Text(output.get("y_title") or "").cell_len]
    )
    budget = width - y_width - 2
    # Cells wide enough for the values and the column labels, if they fit;
    # otherwise narrower cells without the numbers.
    cell = max(value_width, min(label_width, 8)) + 2
    show_values = cell * n_cols <= budget
    label_every = 1
    if not show_values:
        cell = min(label_width, 8) + 1
        if cell * n_cols > budget:
            # Two-cell squares; a column label only every few columns.
            cell = 2
            label_every = math.ceil((min(label_width, 8) + 1) / cell)
    shown_cols = max(1, min(n_cols, budget // cell)) if n_cols else 0

    y_col = y_width + 1
    sparse = label_every > 1
    table = Table(
        box=None,
        padding=0,
        show_edge=False,
        show_header=not sparse,
        title=None if sparse else output.get("x_title"),
        title_style="dim",
        header_style="bold cyan",
    )
    table.add_column(
        output.get("y_title") or "",
        justify="right",
        style="bold cyan",
        no_wrap=True,
        width=y_width,
    )
    table.add_column("", width=1)  # a gap (right-justified cells lose trailing spaces)
    for j in range(shown_cols):
        table.add_column(x_labels[j], justify="center", width=cell, no_wrap=True)
    for i, row in enumerate(matrix[:MAX_HEATMAP_ROWS]):
        cells: list[Text] = []
        for j in range(shown_cols):
            v = row[j] if j < len(row) else None
            t = _scale(v, vmin, vmax)
            if t is None:
                cells.append(
                    Text(_format_one(v) if show_values and v is not None else "", style="dim")
                )
                continue
            bg = heat_color(t)
            if show_values:
                cells.append(
                    Text(values[i][j].center(cell), style=Style(bgcolor=bg, color=_text_on(bg)))
                )
            else:
                cells.append(_shade(t, cell, bg))
        table.add_row(Text(y_labels[i]), "", *cells)

    header: list[RenderableType] = []
    if sparse:
        # Narrow cells: one label every `label_every` columns, written across
        # the following cells, in a line of its own above the cells.
        if output.get("x_title"):
            header.append(Text(" " * y_col + str(output["x_title"]), style="dim"))
        line = Text(" " * y_col)
        if output.get("y_title"):
            line = Text(str(output["y_title"]), style="bold cyan")
            line.align("left", y_col)
        for j in range(0, shown_cols, label_every):
            span = min(label_every, shown_cols - j) * cell
            piece = Text(x_labels[j], style="bold cyan")
            piece.truncate(span - 1, overflow="crop")
            piece.align("left", span)
            line.append_text(piece)
        header.append(line)

    notes = []
    if shown_cols < n_cols or n_rows > MAX_HEATMAP_ROWS:
        notes.append(
            f"showing {min(n_rows, MAX_HEATMAP_ROWS)} x {shown_cols} of {n_rows} x {n_cols}"
        )
    if output.get("cropped_from"):
        r, c = output["cropped_from"]
        notes.append(f"cropped from {r} x {c}")
    parts: list[RenderableType] = [
        _title(str(output.get("label", "")), ", ".join(notes) or None),
        *header,
        table,
    ]
    parts.append(_legend(vmin, vmax, width))
    return Group(*parts)


_SHADES = " ░▒▓█"


def _shade(t: float, width: int, color: Color) -> Text:
    """A cell of ``width`` in ``color``, drawn with a shade character in the same colour.

    On a colour terminal the character is invisible (foreground = background);
    without colour (piped output, NO_COLOR) the shades still show the values.
    """
    char = _SHADES[min(len(_SHADES) - 1, int(t * len(_SHADES)))]
    return Text(char * width, style=Style(bgcolor=color, color=color))


def _legend(vmin: float, vmax: float, width: int) -> Text:
    """A colour bar from vmin to vmax, at most ``width`` cells wide."""
    low, high = format_numbers([float(vmin), float(vmax)])
    steps = max(4, min(24, width - len(low) - len(high) - 8))
    text = Text("scale ", style="dim")
    text.append(low + " ")
    for k in range(steps):
        t = k / (steps - 1)
        text.append_text(_shade(t, 1, heat_color(t)))
    text.append(" " + high)
    return text


def _decade_label(k: int) -> str:
    """10^k as a short label: 0.01 .. 1000 in plain digits, else 1e-33 style."""
    return format(10.0**k, "g") if -2 <= k <= 3 else f"1e{k}"


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[list[float], list[str]]:
    """Tick positions and labels for a log axis over [lo, hi] (0 < lo <= hi).

    Powers of ten inside the range, every ``step`` decades so that at most
    ``max_ticks`` remain, labelled ``1e-33`` (or 0.01 .. 1000 plainly), instead of
    plotext's 30-digit decimals. A range spanning less than two powers of ten gets
    three log-spaced ticks labelled with 3 significant digits.
    """
    k_lo, k_hi = math.ceil(math.log10(lo)), math.floor(math.log10(hi))
    if k_hi - k_lo >= 1:
        step = max(1, math.ceil((k_hi - k_lo) / (max_ticks - 1)))
        ks = list(range(k_hi, k_lo - 1, -step))[::-1]
        return [10.0**k for k in ks], [_decade_label(k) for k in ks]
    if lo == hi:
        return [lo], [f"{lo:.3g}"]
    a, b = math.log10(lo), math.log10(hi)
    values = [10 ** (a + (b - a) * i / 2) for i in range(3)]
    return values, [f"{v:.3g}" for v in values]


def _plot_points(x: Sequence[Any], ys: Sequence[Any], log_y: bool) -> tuple[list[Any], list[float]]:
    xs_out, ys_out = [], []
    for xv, yv in zip(x, ys, strict=False):
        if not (_is_number(yv) and math.isfinite(yv)) or (log_y and yv <= 0):
            continue  # plotext cannot draw NaN, inf, or non-positive values on a log axis
        xs_out.append(xv)
        ys_out.append(float(yv))
    return xs_out, ys_out


def _render_line(output: Output, width: int, height: int = PLOT_HEIGHT) -> RenderableType:
    import plotext as plt

    x = list(output.get("x") or [])
    series: Mapping[str, Any] = output.get("series") or {}
    log_y = bool(output.get("log_y"))
    numeric_x = all(_is_number(v) for v in x)
    positions = x if numeric_x else list(range(len(x)))
    notes = []
    if output.get("downsampled_from"):
        notes.append(f"downsampled from {output['downsampled_from']} points")
    with _PLOT_LOCK:
        plt.clear_figure()
        plt.theme("clear")
        # Without this plotext clips the chart to the terminal it finds, which is
        # 80x24 for pipes and the app's worker threads.
        plt.limitsize(False, False)
        plt.plotsize(width, height)
        drawn = 0
        drawn_y: list[float] = []
        for k, (name, ys) in enumerate(series.items()):
            xs, yv = _plot_points(positions, list(ys or []), log_y)
            if xs:
                plt.plot(
                    xs,
                    yv,
                    label=str(name),
                    color=_PLOT_COLORS[k % len(_PLOT_COLORS)],
                    marker=_PLOT_MARKERS[k % len(_PLOT_MARKERS)],
                )
                drawn += 1
                drawn_y += yv
        if not numeric_x and x:
            step = max(1, len(x) // 8)
            plt.xticks(positions[::step], [str(v) for v in x[::step]])
        if log_y and drawn:
            plt.yscale("log")
            plt.yticks(*log_ticks(min(drawn_y), max(drawn_y)))
        if output.get("x_title"):
            plt.xlabel(str(output["x_title"]))
        if output.get("y_title"):
            plt.ylabel(str(output["y_title"]))
        chart = plt.build() if drawn else ""
        plt.clear_figure()
    title = _title(str(output.get("label", "")), ", ".join(notes) or None)
    if not drawn:
        return Group(title, Text("(no finite points to plot)", style="dim"))
    return Group(title, Text.from_ansi(chart.rstrip("\n")))


def _render_table(output: Output) -> RenderableType:
    columns = [str(c) for c in output.get("columns") or []]
    rows = [list(r) for r in output.get("rows") or []]
    n = max([len(columns), *(len(r) for r in rows)], default=0)
    columns += [""] * (n - len(columns))
    by_col = [[r[j] if j < len(r) else "" for r in rows] for j in range(n)]
    formatted = [format_numbers(col) for col in by_col]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold cyan")
    for j, name in enumerate(columns):
        numeric = bool(by_col[j]) and all(_is_number(v) or _non_finite(v) for v in by_col[j])
        table.add_column(name, justify="right" if numeric else "left")
    for i in range(len(rows)):
        table.add_row(*(formatted[j][i] for j in range(n)))
    detail = None
    if output.get("truncated_rows"):
        detail = f"first {len(rows)} of {output['truncated_rows']} rows"
    return Group(_title(str(output.get("label", "")), detail), table)


def render_output(output: Output, *, width: int = 100) -> RenderableType:
    """One output as a renderable ``width`` cells wide at most (plots exactly that wide).

    Malformed outputs (missing keys, ragged data) render as a dim notice
    instead of raising.
    """
    kind = output.get("kind")
    try:
        if kind == "text":
            return _render_text(output)
        if kind == "value":
            return _render_value(output)
        if kind == "array":
            return _render_array(output, width)
        if kind == "heatmap":
            return _render_heatmap(output, width)
        if kind == "line":
            return _render_line(output, width)
        if kind == "table":
            return _render_table(output)
    except Exception as exc:  # noqa: BLE001 - a bad output must not hide the others
        return Text(
            f"[cannot show this {kind} output: {type(exc).__name__}: {exc}]", style="dim red"
        )
    return Text(f"[unknown output kind {kind!r}]", style="dim red")


def render_outputs(outputs: Sequence[Output], *, width: int = 100) -> Group:
    """All outputs in order, separated by blank lines."""
    parts: list[RenderableType] = []
    for k, output in enumerate(outputs):
        if k:
            parts.append(Text(""))
        parts.append(render_output(output, width=width))
    return Group(*parts)


_STATUS_STYLE = {
    "ok": ("✓", "bold green"),
    "error": ("✗", "bold red"),
    "timeout": ("⏱", "bold yellow"),
    "limit": ("⚠", "bold yellow"),
}


def _duration(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def status_line(
    result: Any,
    *,
    cached: bool = False,
    stale: bool = False,
    stale_reason: str | None = None,
    ran_at: datetime | None = None,
) -> Text:
    """``✓ ok · 83 ms`` plus the limit hit and, for cached results, when and whether stale.

    ``result`` is a :class:`~studylog.demo.runner.RunResult` or its JSON dict.
    """
    data = result if isinstance(result, Mapping) else result.to_json()
    status = str(data.get("status"))
    icon, style = _STATUS_STYLE.get(status, ("?", "bold"))
    text = Text(f"{icon} {status}", style=style)
    if status == "limit" and data.get("limit"):
        text.append(f" ({data['limit']})", style=style)
    text.append(f" · {_duration(int(data.get('duration_ms') or 0))}", style="dim")
    if cached:
        when = ran_at.strftime("%Y-%m-%d %H:%M %Z").strip() if ran_at else ""
        text.append(f" · cached {when}".rstrip(), style="dim")
    if stale:
        text.append(f" · stale: {stale_reason or 'code changed'}; run again", style="bold yellow")
    if data.get("truncated"):
        text.append(" · output capped", style="yellow")
    return text


def render_result(
    result: Any,
    *,
    width: int = 100,
    cached: bool = False,
    stale: bool = False,
    stale_reason: str | None = None,
    ran_at: datetime | None = None,
) -> Group:
    """A whole result: the status line, the outputs, then the error and traceback if any.

    ``result`` is a :class:`~studylog.demo.runner.RunResult` or its JSON dict
    (``{"status", "duration_ms", "outputs", "error"?, "traceback"?, "limit"?}``).
    """
    data = result if isinstance(result, Mapping) else result.to_json()
    parts: list[RenderableType] = [
        status_line(data, cached=cached, stale=stale, stale_reason=stale_reason, ran_at=ran_at)
    ]
    outputs = data.get("outputs") or []
    if outputs:
        parts.append(Text(""))
        parts.append(render_outputs(outputs, width=width))
    status = data.get("status")
    if status != "ok":
        parts.append(Text(""))
        if data.get("traceback"):
            # Folded at the width, not word-wrapped: a long path stays on its "File" line.
            lines = str(data["traceback"]).rstrip("\n").splitlines()
            folded = [piece for line in lines for piece in (chop_cells(line, width) or [""])]
            parts.append(Text("\n".join(folded), style="red", no_wrap=True))
        if data.get("error") and (status != "error" or not data.get("traceback")):
            parts.append(
                Text(str(data["error"]), style="bold red" if status == "error" else "yellow")
            )
    return Group(*parts)
