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
use :func:`collect` to get them.

This module imports only the standard library; NumPy arrays are accepted
(anything with ``tolist()``), but NumPy is never imported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

Output = dict[str, Any]

# Where outputs go. The runner's child harness replaces the sink (to flush
# captured stdout first and to enforce size caps); by default they are kept.
_outputs: list[Output] = []
_sink: Callable[[Output], None] = _outputs.append


def _emit(output: Output) -> None:
    _sink(output)


def _plain(value: Any) -> Any:
    """Turn NumPy scalars and arrays into JSON-able Python values (NaN/inf kept as floats)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _shape_dtype(data: Any) -> tuple[list[int], str]:
    """Shape and dtype of an array-like (nested lists are measured, dtype ``object``)."""
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return [int(n) for n in data.shape], str(data.dtype)
    shape: list[int] = []
    level = data
    while isinstance(level, list | tuple):
        shape.append(len(level))
        level = level[0] if level else None
    return shape, "object"


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
    """Show a 0-, 1- or 2-D array (larger arrays are summarised by the runner).

    Args:
        label: what the array is, e.g. ``"h_next (N, H)"``.
        data: a NumPy array or nested lists.
        rows, cols: optional labels for the rows and columns.
    """
    shape, dtype = _shape_dtype(data)
    _emit(
        {
            "kind": "array",
            "label": str(label),
            "shape": shape,
            "dtype": dtype,
            "data": _plain(data),
            "rows": list(rows) if rows is not None else None,
            "cols": list(cols) if cols is not None else None,
        }
    )


def heatmap(
    label: str,
    data: Any,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
) -> None:
    """Show a 2-D array as coloured cells, e.g. attention weights over tokens.

    Args:
        data: shape (rows, columns); row i is drawn with ``y_labels[i]``.
        x_labels, y_labels: tick labels (tokens, time steps, gate names).
        x_title, y_title: axis titles, e.g. ``"source token"``.
    """
    matrix = _plain(data)
    flat = [v for row in matrix for v in row if isinstance(v, int | float) and math.isfinite(v)]
    _emit(
        {
            "kind": "heatmap",
            "label": str(label),
            "data": matrix,
            "x_labels": [str(x) for x in x_labels] if x_labels is not None else None,
            "y_labels": [str(y) for y in y_labels] if y_labels is not None else None,
            "x_title": x_title,
            "y_title": y_title,
            "vmin": min(flat) if flat else 0.0,
            "vmax": max(flat) if flat else 0.0,
        }
    )


def line(
    label: str,
    x: Any,
    series: dict[str, Any],
    x_title: str | None = None,
    y_title: str | None = None,
    log_y: bool = False,
) -> None:
    """Show named series against a shared x axis as a line plot.

    Args:
        x: the x values, length n.
        series: name -> y values of length n.
        log_y: draw the y axis on a log scale (gradient norms over T).
    """
    _emit(
        {
            "kind": "line",
            "label": str(label),
            "x": _plain(x),
            "series": {str(name): _plain(ys) for name, ys in series.items()},
            "x_title": x_title,
            "y_title": y_title,
            "log_y": bool(log_y),
        }
    )


def table(label: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Show a table with a header row; cells may be numbers or text."""
    _emit(
        {
            "kind": "table",
            "label": str(label),
            "columns": [str(c) for c in columns],
            "rows": [[_plain(cell) for cell in row] for row in rows],
        }
    )


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
