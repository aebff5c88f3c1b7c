"""The output API that demos use to show results inline, like a notebook cell.

A demo is a Python file that defines ``demo()``; inside it, call these
functions to report outputs. Anything printed to stdout becomes a ``text``
output too, in order. Every output is a plain JSON-able ``dict`` with a
``kind`` key, so the runner can send it between processes and the CLI and the
app can render it::

    from studylog.demo import api as out

    def demo():
        out.text("A single LSTM step")
        out.value("forget gate mean", 0.73)
        out.array("h_next", h, rows=["sample 0"], cols=["h0", "h1", "h2"])
        out.heatmap("gates over time", g, x_labels=steps, y_labels=["i", "f", "o"])
        out.line("gradient norm", x=T, series={"tanh": a, "relu": b}, log_y=True)
        out.table("shapes", columns=["name", "shape"], rows=[["x", "(2, 3)"]])

Outside the runner (for example in a test) the outputs are kept in memory;
use :func:`collect` to get them. The output format is documented in
``docs/demos.md``.

Large data is reduced here, before it is converted to lists, so that a
1000 x 1000 array never becomes a million Python floats: arrays over
``_caps["array_elements"]`` become a summary (shape, dtype, first values,
min/max/mean), heatmaps are cropped, line plots downsampled, tables cut. The
runner's harness sets the caps from its :class:`~studylog.demo.limits.Limits`.

This module imports only the standard library; NumPy arrays are accepted
(anything with ``tolist()``), but NumPy is never imported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

Output = dict[str, Any]

# Where outputs go. The runner's child harness replaces the sink (to flush
# captured stdout first and to enforce size caps); by default they are kept.
_outputs: list[Output] = []
_sink: Callable[[Output], None] = _outputs.append

# Size caps; the harness overwrites them with the run's limits.
_caps: dict[str, int] = {"array_elements": 10_000, "line_points": 2_000, "table_rows": 500}

_HEAD = 8  # values shown in an array summary


def _emit(output: Output) -> None:
    _sink(output)


def _plain(value: Any) -> Any:
    """Turn NumPy scalars and arrays into JSON-able Python values (NaN/inf kept as floats)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple | range | list):
        return [_plain(v) for v in value]
    return value


def _shape_dtype(data: Any) -> tuple[list[int], str]:
    """Shape and dtype of an array-like (nested lists are measured, dtype ``object``)."""
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return [int(n) for n in data.shape], str(data.dtype)
    shape: list[int] = []
    level = data
    while isinstance(level, list | tuple | range):
        shape.append(len(level))
        level = level[0] if len(level) else None
    return shape, "object"


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape) if shape else 1


def _flat_head(data: Any, n: int) -> list[Any]:
    """The first ``n`` values in row-major order, without copying the whole array."""
    if hasattr(data, "flat"):
        return _plain(data.flat[:n])

    def walk(level: Any) -> Iterator[Any]:
        if isinstance(level, list | tuple | range):
            for item in level:
                yield from walk(item)
        else:
            yield level

    return [_plain(v) for v in islice(walk(data), n)]


def _summary(data: Any, size: int) -> dict[str, Any]:
    """Size, first values and, for numeric NumPy arrays, min/max/mean (NaN propagates)."""
    summary: dict[str, Any] = {"size": size, "head": _flat_head(data, _HEAD)}
    kind = getattr(getattr(data, "dtype", None), "kind", "")
    if size and kind in ("b", "i", "u", "f"):
        summary["min"] = _plain(data.min())
        summary["max"] = _plain(data.max())
        summary["mean"] = float(data.mean())
    return summary


def _finite_range(matrix: list[list[Any]]) -> tuple[float, float]:
    flat = [
        v
        for row in matrix
        for v in row
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ]
    return (min(flat), max(flat)) if flat else (0.0, 0.0)


def text(message: str) -> None:
    """Show a paragraph of text (markdown is not interpreted)."""
    _emit({"kind": "text", "text": str(message)})


def value(label: str, value: Any, unit: str | None = None) -> None:
    """Show one labelled value, e.g. ``value("BLEU", 0.2759)`` or ``value("params", 2560)``."""
    plain = _plain(value)
    if isinstance(plain, float) and not math.isfinite(plain):
        plain = str(plain)
    _emit({"kind": "value", "label": str(label), "value": plain, "unit": unit})


def array(
    label: str,
    data: Any,
    rows: Sequence[str] | None = None,
    cols: Sequence[str] | None = None,
) -> None:
    """Show an array: 0-D as a value, 1-D as a row, 2-D as a table, 3-D as a table per slice.

    An array with more elements than the run's cap (default 10 000) is
    summarised: its ``data`` is ``None`` and ``summary`` holds the size, the
    first values and, for numeric arrays, min, max and mean.

    Args:
        label: what the array is, e.g. ``"h_next (N, H)"``.
        data: a NumPy array or nested lists.
        rows, cols: optional labels for the rows and columns (the last two axes).
    """
    shape, dtype = _shape_dtype(data)
    size = _size(shape)
    output: Output = {
        "kind": "array",
        "label": str(label),
        "shape": shape,
        "dtype": dtype,
        "data": None,
        "rows": [str(r) for r in rows] if rows is not None else None,
        "cols": [str(c) for c in cols] if cols is not None else None,
    }
    if size > _caps["array_elements"]:
        output["summary"] = _summary(data, size)
    else:
        output["data"] = _plain(data)
    _emit(output)


def heatmap(
    label: str,
    data: Any,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
) -> None:
    """Show a 2-D array as coloured cells, e.g. attention weights over tokens.

    A heatmap with more cells than the run's cap is cropped to its top-left
    corner; ``cropped_from`` then holds the original ``[rows, columns]``.
    ``vmin``/``vmax`` are the finite extremes of the cells shown.

    Args:
        data: shape (rows, columns); row i is drawn with ``y_labels[i]``.
            A 1-D array is drawn as one row.
        x_labels, y_labels: tick labels (tokens, time steps, gate names).
        x_title, y_title: axis titles, e.g. ``"source token"``.
    """
    shape, _ = _shape_dtype(data)
    if len(shape) == 1:
        data = [data]
        shape = [1, shape[0]]
    cropped_from = None
    if len(shape) >= 2 and shape[0] * shape[1] > _caps["array_elements"]:
        n_rows, n_cols = shape[0], shape[1]
        keep_cols = min(n_cols, max(1, math.isqrt(_caps["array_elements"])))
        keep_rows = min(n_rows, max(1, _caps["array_elements"] // keep_cols))
        data = [row[:keep_cols] for row in data[:keep_rows]]
        cropped_from = [n_rows, n_cols]
    matrix = _plain(data)
    vmin, vmax = _finite_range(matrix)
    output: Output = {
        "kind": "heatmap",
        "label": str(label),
        "data": matrix,
        "x_labels": [str(x) for x in x_labels] if x_labels is not None else None,
        "y_labels": [str(y) for y in y_labels] if y_labels is not None else None,
        "x_title": x_title,
        "y_title": y_title,
        "vmin": vmin,
        "vmax": vmax,
    }
    if cropped_from is not None:
        output["cropped_from"] = cropped_from
    _emit(output)


def line(
    label: str,
    x: Any,
    series: dict[str, Any],
    x_title: str | None = None,
    y_title: str | None = None,
    log_y: bool = False,
) -> None:
    """Show named series against a shared x axis as a line plot.

    More x values than the run's cap (default 2 000) are downsampled by a
    constant stride; ``downsampled_from`` then holds the original length.

    Args:
        x: the x values, length n.
        series: name -> y values of length n.
        log_y: draw the y axis on a log scale (gradient norms over T).
    """
    n = len(x)
    step = math.ceil(n / _caps["line_points"]) if n > _caps["line_points"] else 1
    output: Output = {
        "kind": "line",
        "label": str(label),
        "x": _plain(x[::step]),
        "series": {str(name): _plain(ys[::step]) for name, ys in series.items()},
        "x_title": x_title,
        "y_title": y_title,
        "log_y": bool(log_y),
    }
    if step > 1:
        output["downsampled_from"] = n
    _emit(output)


def table(label: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Show a table with a header row; cells may be numbers or text.

    More rows than the run's cap (default 500) are cut; ``truncated_rows``
    then holds the original number of rows.
    """
    total = len(rows)
    kept = rows[: _caps["table_rows"]]
    output: Output = {
        "kind": "table",
        "label": str(label),
        "columns": [str(c) for c in columns],
        "rows": [[_plain(cell) for cell in row] for row in kept],
    }
    if total > len(kept):
        output["truncated_rows"] = total
    _emit(output)


@contextmanager
def collect() -> Iterator[list[Output]]:
    """Collect the outputs emitted inside the ``with`` block into a list (for tests)."""
    global _sink
    kept: list[Output] = []
    previous = _sink
    _sink = kept.append
    try:
        yield kept
    finally:
        _sink = previous
