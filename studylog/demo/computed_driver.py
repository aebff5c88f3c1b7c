"""The child side of a computed (predict-the-output) card: run its template once.

Runs inside the demo sandbox (:func:`studylog.demo.runner.run_code`), started by
:mod:`studylog.services.computed` with the template next to it as
``_computed_template.py`` (docs/concept-format.md, "Computed cards"). The
template's ``card(rng)`` returns a dict; this driver checks its shape and emits
one ``{"kind": "computed", "question", "answer", "tol", "explain", "params"}``
output with plain JSON values (NumPy integers and floats turned into Python
ones, tuples into lists). A template that raises or returns something else
ends the run with an error the app shows instead of the card.

Only the standard library and NumPy are imported here (in the child).
"""

from __future__ import annotations

import importlib
import math
from numbers import Integral, Real
from typing import Any

from studylog.demo import api

TEMPLATE_MODULE = "_computed_template"
MAX_QUESTION = 2000


class TemplateError(Exception):
    """The template's ``card(rng)`` did not return what the format asks for."""


def plain(value: Any, where: str = "answer") -> Any:
    """A number or a (nested) sequence of numbers as JSON: ints, floats and lists.

    Raises:
        TemplateError: anything else (strings, NaN, infinities, empty sequences).
    """
    if hasattr(value, "tolist") and not isinstance(value, int | float):
        value = value.tolist()
    if isinstance(value, bool):
        raise TemplateError(f"{where}: a bool is not an answer (use 0 or 1)")
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        if not math.isfinite(number):
            raise TemplateError(f"{where}: {number} is not a finite number")
        return number
    if isinstance(value, tuple | list):
        if not value:
            raise TemplateError(f"{where}: an empty sequence")
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TemplateError(f"{where}: expected a number or a sequence of numbers, got {value!r:.60}")


def _params(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TemplateError("params: expected a dict")
    out: dict[str, Any] = {}
    for key, item in value.items():
        try:
            out[str(key)] = plain(item, f"params[{key!r}]")
        except TemplateError:
            out[str(key)] = str(item)[:200]
    return out


def main(config: dict[str, Any]) -> None:
    """Call the template's ``card(rng)`` with ``numpy.random.default_rng(config["seed"])``."""
    import numpy as np

    template = importlib.import_module(TEMPLATE_MODULE)
    make = getattr(template, "card", None)
    if not callable(make):
        raise TemplateError("the template defines no function card(rng)")
    made = make(np.random.default_rng(int(config["seed"])))
    if not isinstance(made, dict):
        raise TemplateError(f"card(rng) must return a dict, not {type(made).__name__}")
    question = made.get("question")
    if not isinstance(question, str) or not question.strip():
        raise TemplateError("card(rng) must return a non-empty 'question' (a string)")
    if "answer" not in made:
        raise TemplateError("card(rng) must return an 'answer'")
    tol = made.get("tol", 0.005)
    if isinstance(tol, bool) or not isinstance(tol, Real) or not 0 <= float(tol) < math.inf:
        raise TemplateError("'tol' must be a number >= 0")
    explain = made.get("explain", "")
    if not isinstance(explain, str):
        raise TemplateError("'explain' must be a string")
    api._emit(
        {
            "kind": "computed",
            "question": question[:MAX_QUESTION],
            "answer": plain(made["answer"]),
            "tol": float(tol),
            "explain": explain[:MAX_QUESTION],
            "params": _params(made.get("params")),
        }
    )
