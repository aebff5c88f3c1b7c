"""Exercises: the pack's references pass their own checks, real mistakes fail with a message,
and runaway or hostile attempts end as timeout or error (real sandboxed child processes)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from studylog.content.concept_file import ConceptFormatError, parse_concept
from studylog.demo.limits import Limits
from studylog.services import exercises
from tests.exercise_attempts import CORRECT, MISTAKES

pytestmark = pytest.mark.both_backends

ALL = exercises.catalog()
IDS = [e.id for e in ALL]
FIRST_LAYER_IDS = {
    "rnn.rnn_cell",
    "lstm.lstm_cell",
    "gru.gru_cell",
    "softmax.softmax",
    "layer-normalization.layer_norm",
    "scaled-dot-product-attention.scaled_dot_product_attention",
}


def reference_attempt(exercise: exercises.Exercise) -> str:
    """An attempt that is the pack's reference itself (imported, not copied)."""
    if "def reference" in exercise.checks:
        return f"from _exercise_checks import reference as {exercise.function}\n"
    module, _, func = exercise.reference.rpartition(".")
    return f"from {module} import {func} as {exercise.function}\n"


def test_catalog_ids_are_slug_dot_function() -> None:
    assert FIRST_LAYER_IDS <= set(IDS)
    assert len(IDS) == len(set(IDS))
    for e in ALL:
        assert e.id == f"{e.slug}.{e.function}"
        assert re.fullmatch(r"[a-z0-9-]+\.[A-Za-z_][A-Za-z0-9_]*", e.id)


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_passes_and_every_exercise_has_a_failing_mistake(exercise_id: str) -> None:
    exercise = exercises.get(exercise_id)
    result = exercises.check(exercise, reference_attempt(exercise))
    assert result.status == "pass", [c.to_json() for c in result.checks]
    assert result.checks and all(c.passed for c in result.checks)
    assert exercise_id in MISTAKES, "every exercise needs at least one plausible mistake"
    for what, code, failing in MISTAKES[exercise_id]:
        outcome = exercises.check(exercise, code)
        assert outcome.status == "fail", (what, outcome.to_json())
        named = {c.name: c for c in outcome.checks}
        assert failing in named, (what, list(named))
        check = named[failing]
        assert not check.passed, (what, check)
        # The message names the input shapes and the size of the error (or the mismatch).
        assert re.search(r"with \w+ (\(\d+(, \d+)*,?\)|-?[\d.]+|'|len)", check.message), check
        assert re.search(
            r"error [\d.e+-]+|error inf|shape|expected|missing|unexpected|differ", check.message
        ), check


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_an_independent_correct_implementation_passes(exercise_id: str) -> None:
    result = exercises.check(exercises.get(exercise_id), CORRECT[exercise_id])
    assert result.status == "pass", result.to_json()


def test_starter_has_the_pack_signature_and_fails_every_check() -> None:
    exercise = exercises.get("lstm.lstm_cell")
    text = exercises.starter(exercise)
    assert "def lstm_cell(" in text and "W_ih: np.ndarray" in text
    assert "raise NotImplementedError" in text
    assert "(N, H)" in text  # the docstring with the shapes
    result = exercises.check(exercise, text)
    assert result.status == "fail"
    assert all(not c.passed and "NotImplementedError" in c.message for c in result.checks)
    # A starter built from a wrapper in the checks is renamed to the exercise's function.
    rnn = exercises.starter(exercises.get("rnn.rnn_cell"))
    assert "def rnn_cell(" in rnn and "def reference(" not in rnn
    compile(rnn, "starter.py", "exec")


def test_wrong_return_structure_is_named() -> None:
    exercise = exercises.get("scaled-dot-product-attention.scaled_dot_product_attention")
    code = textwrap.dedent(
        """
        import numpy as np
        from scaled_dot_product_attention import scaled_dot_product_attention as ref

        def scaled_dot_product_attention(q, k, v, mask=None):
            return ref(q, k, v, mask)[0]
        """
    )
    result = exercises.check(exercise, code)
    assert result.status == "fail"
    first = result.checks[0]
    assert "expected a tuple of 2" in first.message and "q (4, 8)" in first.message


def test_float32_result_is_held_to_float64_accuracy() -> None:
    exercise = exercises.get("softmax.softmax")
    code = textwrap.dedent(
        """
        import numpy as np

        def softmax(a, temperature=1.0):
            z = (np.asarray(a) / temperature).astype(np.float32)
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        """
    )
    result = exercises.check(exercise, code)
    assert result.status == "fail"
    failed = [c for c in result.checks if not c.passed]
    err = float(re.search(r"largest error ([\d.e+-]+)", failed[0].message).group(1))
    assert 1e-9 < err < 1e-5  # float32 rounding: well above the tolerance


FAST = Limits(timeout_s=3.0, memory_bytes=512 << 20)


def test_an_endless_loop_ends_as_timeout() -> None:
    code = "def softmax(a, temperature=1.0):\n    while True:\n        pass\n"
    result = exercises.check(exercises.get("softmax.softmax"), code, limits=FAST)
    assert result.status == "timeout"
    assert result.to_json()["status"] == "timeout"


@pytest.mark.parametrize(
    "code",
    [
        "import os\nos._exit(0)\n",  # leaves before any result
        "import sys\ndef softmax(a, temperature=1.0):\n    sys.exit(3)\n",
        "def softmax(a, temperature=1.0):\n    raise KeyboardInterrupt\n",
        "def softmax(a, temperature=1.0):\n    x = bytearray(2 << 30)\n",  # over the memory limit
        "def softmax(:\n",  # a syntax error
        "x = 1\n",  # no such function
    ],
)
def test_hostile_or_broken_attempts_end_as_error(code: str) -> None:
    result = exercises.check(exercises.get("softmax.softmax"), code, limits=FAST)
    assert result.status == "error", result.to_json()
    assert result.error


def test_an_attempt_cannot_change_the_reference_it_is_compared_with() -> None:
    # The attempt replaces the pack's softmax and scribbles on its inputs; the
    # reference values were computed before it was imported, on copies.
    code = textwrap.dedent(
        """
        import numpy as np
        import softmax as pack
        pack.softmax = lambda a, temperature=1.0: np.zeros_like(a)

        def softmax(a, temperature=1.0):
            a[...] = 0
            return np.zeros_like(a)
        """
    )
    result = exercises.check(exercises.get("softmax.softmax"), code)
    assert result.status == "fail"


def test_result_json_has_the_documented_keys() -> None:
    exercise = exercises.get("softmax.softmax")
    data = exercises.check(exercise, reference_attempt(exercise)).to_json()
    assert set(data) == {"status", "duration_ms", "checks"}
    assert data["status"] == "pass" and isinstance(data["duration_ms"], int)
    assert all(set(c) == {"name", "passed", "message"} for c in data["checks"])
    json.dumps(data)


# --- the format -------------------------------------------------------------------

_HEAD = "---\nslug: t\ntitle: T\ndemo: softmax.py\n---\n\n# T\n\n## Cards\n\n"


def test_parse_exercise_container() -> None:
    text = _HEAD + textwrap.dedent(
        """
        ::: exercise softmax 소프트맥스 Softmax
        Write it (소프트맥스).

        ```python checks
        def cases(rng):
            yield "one", dict(a=rng.standard_normal(3))
        ```

        ```python starter
        def softmax(a):
            raise NotImplementedError
        ```
        :::
        """
    )
    parsed = parse_concept(text, "t.md")
    assert parsed.cards == []
    (spec,) = parsed.exercises
    assert spec.function == "softmax" and spec.title == "소프트맥스 Softmax"
    assert spec.task == "Write it (소프트맥스)."
    assert "def cases(rng):" in spec.checks and "starter" not in spec.task
    assert spec.starter.startswith("def softmax(a):")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("::: exercise\ntask\n:::\n", "needs a function name"),
        ("::: exercise 9bad Title\ntask\n:::\n", "needs a function name"),
        ("::: exercise f\ntask\n```python checks\nx=1\n```\n:::\n", "needs a title"),
        ("::: exercise f Title\njust a task\n:::\n", "needs a ```python checks``` block"),
        ("::: exercise f Title\n```python checks\nx=1\n```\n:::\n", "needs a task"),
    ],
)
def test_malformed_exercises_name_file_and_line(body: str, message: str) -> None:
    with pytest.raises(ConceptFormatError, match=rf"^t\.md:11: .*{re.escape(message)}"):
        parse_concept(_HEAD + body, "t.md")


# --- the CLI ------------------------------------------------------------------------


def test_cli_list_show_start_check(run_cli, tmp_path: Path) -> None:
    listed = run_cli("exercise", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert {
        "id": "lstm.lstm_cell",
        "concept": "lstm",
        "title": rows[IDS.index("lstm.lstm_cell")]["title"],
    } in rows
    assert all(set(r) == {"id", "concept", "title"} for r in rows)

    shown = run_cli("exercise", "show", "layer-normalization.layer_norm")
    assert shown.exit_code == 0 and "def layer_norm(" in shown.output

    out = tmp_path / "ln.py"
    started = run_cli("exercise", "start", "layer-normalization.layer_norm", "--out", str(out))
    assert started.exit_code == 0 and "raise NotImplementedError" in out.read_text()
    again = run_cli("exercise", "start", "layer-normalization.layer_norm", "--out", str(out))
    assert again.exit_code == 1 and "exists already" in again.output

    failed = run_cli("exercise", "check", "layer-normalization.layer_norm", str(out), "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.output)["status"] == "fail"

    out.write_text(CORRECT["layer-normalization.layer_norm"], encoding="utf-8")
    passed = run_cli("exercise", "check", "layer-normalization.layer_norm", str(out))
    assert passed.exit_code == 0, passed.output
    assert "layer-normalization.layer_norm: pass" in passed.output


def test_cli_bad_input_is_one_line(run_cli, tmp_path: Path) -> None:
    missing = run_cli("exercise", "show", "nope.nothing")
    assert missing.exit_code == 1 and "no exercise 'nope.nothing'" in missing.output
    assert "Traceback" not in missing.output
    binary = tmp_path / "b.py"
    binary.write_bytes(b"\xff\xfe\x00")
    bad = run_cli("exercise", "check", "softmax.softmax", str(binary))
    assert bad.exit_code == 1 and "not UTF-8" in bad.output
    gone = run_cli("exercise", "check", "softmax.softmax", str(tmp_path / "none.py"))
    assert gone.exit_code == 1 and "cannot read" in gone.output


# --- attempts -------------------------------------------------------------------------


def test_attempts_are_stored_and_start_gives_back_the_last(run_cli, tmp_path: Path, db) -> None:
    exercise_id = "layer-normalization.layer_norm"
    out = tmp_path / "ln.py"
    assert run_cli("exercise", "start", exercise_id, "--out", str(out)).exit_code == 0
    assert run_cli("exercise", "check", exercise_id, str(out)).exit_code == 1
    out.write_text(CORRECT[exercise_id], encoding="utf-8")
    assert run_cli("exercise", "check", exercise_id, str(out)).exit_code == 0

    listed = json.loads(run_cli("exercise", "history", exercise_id, "--json").output)
    assert [a["status"] for a in listed] == ["fail", "pass"]
    assert all(a["checks"] and a["duration_ms"] > 0 for a in listed)
    stored = exercises.attempts(db, exercise_id)
    assert stored[-1].code == CORRECT[exercise_id]
    assert stored[0].result.checks[0].passed is False

    again = run_cli("exercise", "start", exercise_id)
    assert again.output == CORRECT[exercise_id]  # the last attempt, not the starter
    fresh = run_cli("exercise", "start", exercise_id, "--starter")
    assert "raise NotImplementedError" in fresh.output
    assert exercises.attempts(db, "softmax.softmax") == []


def test_proposed_grade_follows_the_outcome() -> None:
    assert exercises.proposed_grade(["pass"]) == 3  # Good at the first run
    assert exercises.proposed_grade(["fail", "error", "pass"]) == 2  # Hard after failed runs
    assert exercises.proposed_grade(["pass", "fail"]) == 1  # Again while failing
    assert exercises.proposed_grade([]) == 1
