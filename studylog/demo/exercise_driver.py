"""The child side of an exercise check: run the learner's function against the reference.

Runs inside the demo sandbox (:func:`studylog.demo.runner.run_code`), started by
:mod:`studylog.services.exercises` with three modules next to each other:

* ``_exercise_checks.py``: the exercise's ``python checks`` block (docs/exercises.md):
  ``cases(rng)`` yields ``(check_name, kwargs)``; optional ``HINTS``, ``TOL``,
  ``REFERENCE``, ``reference(...)``, ``gradient_checks(rng, fn)``, ``GRAD_TOL``;
* ``attempt.py``: the learner's code, imported *after* every reference value
  has been computed (on copies of the inputs), so that nothing the attempt
  does to the reference module or to its arguments changes what it is
  compared with;
* the reference module (a pack demo such as ``lstm.py``) on ``sys.path``.

Each check becomes one ``{"kind": "check", "name", "passed", "message"}``
output, then one ``{"kind": "exercise", "status", "learner_ms"}`` output
ends the run. The messages name the input shapes and the largest error, so a
learner can debug. This is self-assessment, not an exam: the learner's code
runs in the same process and could fake its result; the sandbox keeps it
from reaching anything outside.

Only the standard library and NumPy are imported here (in the child).
"""

from __future__ import annotations

import copy
import importlib
import math
import time
import traceback
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from numbers import Number
from typing import Any

from studylog.demo import api

CHECKS_MODULE = "_exercise_checks"
ATTEMPT_MODULE = "attempt"
DEFAULT_TOL = 1e-9
DEFAULT_GRAD_TOL = 1e-6
MAX_MESSAGE = 600


def emit_check(name: str, passed: bool, message: str) -> None:
    api._emit({"kind": "check", "name": name, "passed": bool(passed), "message": message})


def describe(value: Any) -> str:
    """``(3, 4) float64`` for an array, ``int 7`` for a number, ``tuple of 2`` ..."""
    if isinstance(value, type):
        return value.__name__
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{tuple(int(n) for n in value.shape)} {value.dtype}"
    if isinstance(value, bool):
        return f"bool {value}"
    if isinstance(value, Number):
        return f"{type(value).__name__} {value}"
    if isinstance(value, tuple | list):
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, dict):
        return f"dict with keys {sorted(map(str, value))[:8]}"
    if isinstance(value, str):
        return f"str of {len(value)}"
    return type(value).__name__


def shapes_of(kwargs: dict[str, Any]) -> str:
    """``x (3, 4), h (3, 5), num_heads 2``: what a failing message names."""
    parts = []
    for name, value in kwargs.items():
        if isinstance(value, type):  # a dtype such as np.uint32 (its .shape is a descriptor)
            parts.append(f"{name} {value.__name__}")
        elif hasattr(value, "shape"):
            parts.append(f"{name} {tuple(int(n) for n in value.shape)}")
        elif isinstance(value, bool | int | float | str) or value is None:
            parts.append(f"{name} {value!r}"[:60])
        elif isinstance(value, tuple | list):
            parts.append(f"{name} len {len(value)}")
        elif isinstance(value, dict):
            parts.append(f"{name} dict")
    return ", ".join(parts)


class Mismatch(Exception):
    """The learner's value differs in structure (not just in numbers) from the reference."""


def compare(got: Any, expected: Any, where: str = "result") -> float:
    """The largest error between ``got`` and ``expected``, same structure required.

    Arrays: same shape, then max |got - expected| / max(1, max |expected|)
    (absolute below 1, relative above). NaN must match NaN, inf the same inf.
    Numbers: the same measure; ints and bools exactly. Tuples, lists and dicts
    element by element.

    Raises:
        Mismatch: different types, lengths, keys or shapes (one line).
    """
    import numpy as np

    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Mismatch(f"{where}: expected a dict, got {describe(got)}")
        missing = [k for k in expected if k not in got]
        if missing:
            raise Mismatch(f"{where}: missing keys {missing[:6]}")
        extra = [k for k in got if k not in expected]
        if extra and not isinstance(expected, Counter):
            raise Mismatch(f"{where}: unexpected keys {extra[:6]}")
        if extra:  # a Counter: a key with a nonzero count that should not be there
            wrong = [k for k in extra if got[k]]
            if wrong:
                raise Mismatch(f"{where}: unexpected keys {wrong[:6]}")
        return max((compare(got[k], v, f"{where}[{k!r}]") for k, v in expected.items()), default=0)
    if isinstance(expected, tuple | list):
        if not isinstance(got, tuple | list):
            raise Mismatch(f"{where}: expected a {describe(expected)}, got {describe(got)}")
        if len(got) != len(expected):
            raise Mismatch(f"{where}: expected a {describe(expected)}, got {describe(got)}")
        return max(
            (
                compare(g, e, f"{where}[{n}]")
                for n, (g, e) in enumerate(zip(got, expected, strict=True))
            ),
            default=0.0,
        )
    if isinstance(expected, str):
        if got != expected:
            raise Mismatch(f"{where}: expected {expected!r}, got {got!r}"[:200])
        return 0.0
    if expected is None:
        if got is not None:
            raise Mismatch(f"{where}: expected None, got {describe(got)}")
        return 0.0
    if isinstance(expected, bool | int | np.integer | np.bool_) and not isinstance(
        expected, Fraction
    ):
        if isinstance(got, float) or (hasattr(got, "dtype") and got.dtype.kind == "f"):
            raise Mismatch(f"{where}: expected an integer {expected}, got {describe(got)}")
        try:
            exact = bool(got == expected)
        except Exception:  # noqa: BLE001 - any odd object is a mismatch
            exact = False
        if hasattr(got, "shape") and getattr(got, "shape", ()) != ():
            raise Mismatch(f"{where}: expected an integer, got {describe(got)}")
        return 0.0 if exact else math.inf
    if isinstance(expected, Number | Fraction) or hasattr(expected, "shape"):
        if isinstance(got, dict | tuple | list | str) or got is None:
            raise Mismatch(f"{where}: expected {describe(expected)}, got {describe(got)}")
        try:
            g = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch(f"{where}: expected {describe(expected)}, got {describe(got)}") from None
        e = np.asarray(expected, dtype=np.float64)
        if g.shape != e.shape:
            raise Mismatch(f"{where}: shape {g.shape}, expected {e.shape}")
        if getattr(expected, "dtype", None) is not None and expected.dtype.kind in "iub":
            # Integers (int64 beyond 2**53 included) must be equal, not close.
            try:
                equal = np.array_equal(np.asarray(got), expected)
            except (TypeError, ValueError):
                equal = False
            if not equal:
                wrong = int(np.sum(np.asarray(got) != expected)) if g.shape == e.shape else 0
                raise Mismatch(
                    f"{where}: {wrong} of {e.size} integer values differ from the expected ones"
                )
            return 0.0
        if g.size == 0:
            return 0.0
        same_nan = np.isnan(g) == np.isnan(e)
        if not same_nan.all():
            return math.inf
        finite = np.isfinite(e)
        if not np.array_equal(g[~finite & ~np.isnan(e)], e[~finite & ~np.isnan(e)]):
            return math.inf
        if not np.isfinite(g[finite]).all():
            return math.inf
        if not finite.any():
            return 0.0
        diff = float(np.max(np.abs(g[finite] - e[finite])))
        scale = max(1.0, float(np.max(np.abs(e[finite]))))
        return diff / scale
    # Counter, Fraction-like, anything else: equality.
    try:
        return 0.0 if got == expected else math.inf
    except Exception:  # noqa: BLE001
        return math.inf


def relative_error(got: Any, numeric: Any) -> float:
    """max |got - numeric| / max(max |numeric|, 1e-8): the error relative to the gradient's scale.

    Central differences (eps 1e-6) are accurate to about 1e-9 of the scale, so
    a correct backward stays far below :data:`DEFAULT_GRAD_TOL`; measuring
    against the largest entry (not entry by entry, as in cs231n's check) keeps
    near-zero entries from giving a large ratio out of rounding noise alone.
    """
    import numpy as np

    a = np.asarray(got, dtype=np.float64)
    b = np.asarray(numeric, dtype=np.float64)
    if a.shape != b.shape:
        raise Mismatch(f"shape {a.shape}, expected {b.shape}")
    if a.size == 0:
        return 0.0
    if not np.isfinite(a).all():
        return math.inf
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-8))


def _one_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _attempt_frame(exc: BaseException) -> str:
    """`` (attempt.py line 12)``: where in the learner's code an exception came from."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(f"{ATTEMPT_MODULE}.py"):
            line = frame.lineno
    return f" (attempt.py line {line})" if line else ""


def _reference(checks: Any, default: str) -> Callable[..., Any]:
    if callable(getattr(checks, "reference", None)):
        return checks.reference
    target = getattr(checks, "REFERENCE", None) or default
    module_name, _, func = target.rpartition(".")
    return getattr(importlib.import_module(module_name), func)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class _Group:
    """The cases of one named check: the worst one is what the message reports."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cases = 0
        self.worst_error = -1.0
        self.worst_label = ""
        self.failure: str | None = None

    def fail(self, message: str) -> None:
        if self.failure is None:
            self.failure = message

    def error(self, err: float, label: str) -> None:
        self.cases += 1
        if err > self.worst_error or (math.isnan(err) and self.worst_error >= 0):
            self.worst_error = err
            self.worst_label = label


def _fmt(err: float) -> str:
    return "inf" if math.isinf(err) else f"{err:.3g}"


def main(config: dict[str, Any]) -> None:
    """Run the checks; ``config``: ``function``, ``reference`` (module.function), ``seed``."""
    import numpy as np

    checks = importlib.import_module(CHECKS_MODULE)
    tol = float(getattr(checks, "TOL", DEFAULT_TOL))
    grad_tol = float(getattr(checks, "GRAD_TOL", DEFAULT_GRAD_TOL))
    hints: dict[str, str] = dict(getattr(checks, "HINTS", {}) or {})
    reference = _reference(checks, config["reference"])
    rng = np.random.default_rng(int(config["seed"]))
    cases = list(checks.cases(rng))
    expected = [reference(**copy.deepcopy(kwargs)) for _, kwargs in cases]

    learner_s = 0.0
    try:
        started = time.perf_counter()
        attempt = importlib.import_module(ATTEMPT_MODULE)
        learner_s += time.perf_counter() - started
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken attempt is the learner's error
        emit_check("import", False, _clip(f"attempt.py does not run: {_one_line(exc)}"))
        api._emit({"kind": "exercise", "status": "error", "learner_ms": learner_s * 1000})
        return
    fn = getattr(attempt, config["function"], None)
    if not callable(fn):
        emit_check("import", False, f"attempt.py defines no function {config['function']}()")
        api._emit({"kind": "exercise", "status": "error", "learner_ms": learner_s * 1000})
        return

    groups: dict[str, _Group] = {}
    for (name, kwargs), want in zip(cases, expected, strict=True):
        group = groups.setdefault(name, _Group(name))
        label = shapes_of(kwargs)
        started = time.perf_counter()
        try:
            got = fn(**copy.deepcopy(kwargs))
        except MemoryError:
            raise  # over the memory limit: the run ends as an error, like a crash
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            learner_s += time.perf_counter() - started
            group.fail(f"with {label}: raised {_one_line(exc)}{_attempt_frame(exc)}")
            continue
        learner_s += time.perf_counter() - started
        try:
            err = compare(got, want)
        except Mismatch as exc:
            group.fail(f"with {label}: {exc}")
            continue
        group.error(err, label)

    if callable(getattr(checks, "gradient_checks", None)):
        started = time.perf_counter()
        try:
            for name, label, got_grads, numeric in checks.gradient_checks(rng, fn):
                group = groups.setdefault(name, _Group(name))
                for key, want in numeric.items():
                    if key not in got_grads:
                        group.fail(f"with {label}: no gradient {key!r} returned")
                        continue
                    try:
                        err = relative_error(got_grads[key], want)
                    except Mismatch as exc:
                        group.fail(f"with {label}: {key}: {exc}")
                        continue
                    shape = tuple(int(n) for n in np.shape(want))
                    group.error(err, f"{label}: the gradient {key} {shape}")
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - the attempt raised inside the check
            group = groups.setdefault("gradient check", _Group("gradient check"))
            group.fail(f"raised {_one_line(exc)}{_attempt_frame(exc)}")
        learner_s += time.perf_counter() - started
        grad_names = {n for n, g in groups.items() if n.startswith("gradient")}
    else:
        grad_names = set()

    all_passed = True
    for name, group in groups.items():
        limit = grad_tol if name in grad_names else tol
        hint = hints.get(name)
        if group.failure is not None:
            passed, message = False, group.failure
        elif not (group.worst_error <= limit):
            passed = False
            measure = "relative error" if name in grad_names else "largest error"
            message = (
                f"with {group.worst_label}: {measure} {_fmt(group.worst_error)} "
                f"(must be <= {limit:g})"
            )
        else:
            passed = True
            message = f"{group.cases} case(s), largest error {_fmt(max(group.worst_error, 0))}"
        if not passed and hint and "NotImplementedError" not in message:
            message += f". Hint: {hint}"
        all_passed &= passed
        emit_check(name, passed, _clip(message))
    api._emit(
        {
            "kind": "exercise",
            "status": "pass" if all_passed else "fail",
            "learner_ms": round(learner_s * 1000, 3),
        }
    )
