"""Exercises: write a function of the concept pack yourself, checked against the pack's reference.

An exercise lives in a concept file (``::: exercise FUNCTION Title``, see
docs/exercises.md); its id is ``SLUG.FUNCTION`` (``lstm.lstm_cell``). The
reference is the function of that name in the concept's demo module (or what
the checks block names). Checking runs the learner's code in the demo
sandbox (:func:`studylog.demo.runner.run_code`) next to the checks and the
reference (:mod:`studylog.demo.exercise_driver`), so a loop, a crash or a
hostile attempt ends as ``timeout`` or ``error`` and never reaches the app.
"""

from __future__ import annotations

import ast
import secrets
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from studylog.content.concept_file import ConceptFile, ExerciseSpec, parse_concept
from studylog.demo.limits import Limits
from studylog.demo.runner import (
    Ahead,
    RunResult,
    driver_script,
    prestart,
    prestart_key,
    run_code,
    run_prestarted,
)
from studylog.errors import InvalidInputError, NotFoundError
from studylog.paths import content_dir
from studylog.storage.engine import Database
from studylog.studyday import utcnow

STATUSES = ("pass", "fail", "error", "timeout")
# Wall-clock limit of one check run: generous for a slow but correct attempt
# (long sequences in Python loops), short enough that a loop is noticed soon.
CHECK_TIMEOUT_S = 10.0
MAX_ATTEMPT_CHARS = 200_000


@dataclass(frozen=True)
class Exercise:
    """One exercise, resolved: what to show, what to run, and against which reference.

    Attributes:
        id: ``SLUG.FUNCTION``.
        slug: the concept's slug; ``concept`` its title.
        function: the function the learner writes.
        title, task: from the concept file (task is markdown).
        checks: the checks block's source.
        reference: ``module.function`` of the reference (``lstm.lstm_cell``).
        demo_dir: the folder of the reference module (put on the child's sys.path).
        starter_override: the concept file's ``python starter`` block, if any.
        origin: ``pack`` (or ``user``/``import`` for the learner's own concepts).
        files: more modules written next to the attempt, ``(name, source)``: the
            concept's own demo code when it has some (it is then the reference).
        trusted: whether it may run without approval (see :func:`resolve`).
        trust_hash: sha256 of what runs besides the attempt (checks and the
            concept's own demo code), the hash an approval records.
    """

    id: str
    slug: str
    concept: str
    function: str
    title: str
    task: str
    checks: str
    reference: str
    demo_dir: Path
    starter_override: str | None = None
    origin: str = "pack"
    line: int = 0
    files: tuple[tuple[str, str], ...] = ()
    trusted: bool = True
    trust_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "concept": self.slug, "title": self.title}


@dataclass
class Check:
    """One named check and its outcome; ``message`` names shapes and the largest error."""

    name: str
    passed: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "message": self.message}


@dataclass
class CheckResult:
    """The outcome of checking one attempt.

    Attributes:
        status: ``pass`` (every check passed), ``fail`` (some check failed),
            ``error`` (the attempt does not import, has no such function, or
            its process died), ``timeout`` (wall-clock or CPU limit).
        duration_ms: wall-clock milliseconds of the whole run (process included).
        checks: every check in order.
        learner_ms: milliseconds spent inside the learner's code (import and
            calls), as the child measured them; None when it did not report.
        error: one line for ``error``/``timeout``.
        seed: the seed of the random inputs (to reproduce a run).
    """

    status: str
    duration_ms: int
    checks: list[Check] = field(default_factory=list)
    learner_ms: float | None = None
    error: str | None = None
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "duration_ms": self.duration_ms,
            "checks": [c.to_json() for c in self.checks],
        }
        if self.error is not None:
            data["error"] = self.error
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            status=str(data["status"]),
            duration_ms=int(data.get("duration_ms", 0)),
            checks=[
                Check(str(c["name"]), bool(c["passed"]), str(c["message"]))
                for c in data.get("checks", [])
            ],
            error=data.get("error"),
        )


def pack_demos_dir() -> Path:
    return content_dir() / "demos"


def exercises_of(concept: ConceptFile, demo_dir: Path, *, origin: str = "pack") -> list[Exercise]:
    """The exercises of one parsed concept file, resolved against its demo module."""
    stem = Path(concept.demo).stem if concept.demo else None
    found = []
    for spec in concept.exercises:
        found.append(_resolve(concept, spec, stem, demo_dir, origin))
    return found


def _resolve(
    concept: ConceptFile, spec: ExerciseSpec, stem: str | None, demo_dir: Path, origin: str
) -> Exercise:
    reference = _declared_reference(spec.checks)
    if reference is None:
        if stem is None and not _defines(spec.checks, "reference"):
            raise InvalidInputError(
                f"{concept.slug}:{spec.line}: exercise '{spec.function}' has no reference: "
                "the concept has no demo and the checks set no REFERENCE"
            )
        reference = f"{stem}.{spec.function}"
    return Exercise(
        id=f"{concept.slug}.{spec.function}",
        slug=concept.slug,
        concept=concept.title,
        function=spec.function,
        title=spec.title,
        task=spec.task,
        checks=spec.checks,
        reference=reference,
        demo_dir=demo_dir,
        starter_override=spec.starter,
        origin=origin,
        line=spec.line,
    )


def _declared_reference(checks: str) -> str | None:
    """``REFERENCE = "module.function"`` in the checks block, read without running it."""
    try:
        tree = ast.parse(checks)
    except SyntaxError:
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "REFERENCE" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def _defines(source: str, name: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body)


def _pack_files() -> list[Path]:
    return sorted((content_dir() / "concepts").glob("*.md"))


@lru_cache(maxsize=4)
def _pack_catalog(stamp: tuple[tuple[str, int, int], ...]) -> tuple[Exercise, ...]:
    demo_dir = pack_demos_dir()
    found: list[Exercise] = []
    for name, _, _ in stamp:
        path = content_dir() / "concepts" / name
        text = path.read_text(encoding="utf-8")
        if "::: exercise" not in text:
            continue  # most of the parse is skipped for concepts without exercises
        found.extend(exercises_of(parse_concept(text, str(path)), demo_dir))
    return tuple(found)


def catalog() -> list[Exercise]:
    """Every exercise of the built-in pack, by concept file then order in the file.

    Parsed once per process while the files stay the same (size and mtime).
    """
    stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in _pack_files())
    return list(_pack_catalog(stamp))


def get(exercise_id: str) -> Exercise:
    """The exercise ``SLUG.FUNCTION``.

    Raises:
        NotFoundError: no such exercise (the message lists how to see them).
    """
    for exercise in catalog():
        if exercise.id == exercise_id:
            return exercise
    raise NotFoundError(
        f"no exercise {exercise_id!r} (see `studylog exercise list`; ids are SLUG.FUNCTION)"
    )


def for_concept(slug: str) -> list[Exercise]:
    return [e for e in catalog() if e.slug == slug]


# --- exercises of the collection (cards, the learner's own concepts) ---------------


def card_exercise_id(kind: str, pack_key: str | None) -> str | None:
    """``SLUG.FUNCTION`` of an exercise card (kind ``exercise``, ``pack_key``
    ``SLUG/exercise:FUNCTION``, see services/concepts.py), else None."""
    from studylog.services.concepts import EXERCISE_KEY_PREFIX, EXERCISE_KIND

    if kind != EXERCISE_KIND or not pack_key:
        return None
    slug, _, rest = pack_key.partition("/")
    if not rest.startswith(EXERCISE_KEY_PREFIX):
        return None
    return f"{slug}.{rest.removeprefix(EXERCISE_KEY_PREFIX)}"


def trust_hash_of(checks: str, files: tuple[tuple[str, str], ...]) -> str:
    """sha256 over the checks block and the extra modules: what an approval covers."""
    from studylog.demo import cache as hashing

    text = checks + "".join(f"\0{name}\0{code}" for name, code in files)
    return hashing.trust_hash(text)


def _module_name(slug: str, demo: str | None) -> str:
    return Path(demo).stem if demo else slug.replace("-", "_")


def of_concept_row(session: Any, concept: Any) -> list[Exercise]:
    """The exercises of a stored concept (``storage.models.Concept``), resolved.

    The reference is the concept's own demo code when it has some (written
    next to the attempt as ``MODULE.py``, shadowing the pack's module of that
    name), else the pack's demo module. Exercises of an imported concept are
    trusted only once approved (the same approvals as demos, by hash).
    """
    from studylog.services.concepts import specs_of
    from studylog.storage.demo_models import TrustedCode

    specs, _ = specs_of(concept)
    if not specs:
        return []
    files: tuple[tuple[str, str], ...] = ()
    demo = concept.demo
    if concept.demo_code and concept.demo_code.strip():
        module = _module_name(concept.slug, concept.demo)
        files = ((f"{module}.py", concept.demo_code),)
        demo = f"{module}.py"
    parsed = ConceptFile(slug=concept.slug, title=concept.title, body="", demo=demo)
    found = []
    for spec in specs:
        exercise = _resolve(parsed, spec, Path(demo).stem if demo else None, pack_demos_dir(), "")
        digest = trust_hash_of(spec.checks, files)
        trusted = concept.origin != "import" or session.get(TrustedCode, digest) is not None
        found.append(
            _replace(
                exercise, origin=concept.origin, files=files, trusted=trusted, trust_hash=digest
            )
        )
    return found


def _replace(exercise: Exercise, **changes: Any) -> Exercise:
    from dataclasses import replace

    return replace(exercise, **changes)


def resolve(db: Database, exercise_id: str) -> Exercise:
    """The exercise ``SLUG.FUNCTION`` of the collection (the pack's, an edited copy's,
    the learner's own or an imported concept's).

    Raises:
        NotFoundError: no such concept or no such exercise in it.
    """
    from sqlalchemy import select

    from studylog.storage.models import Concept

    slug, _, function = exercise_id.partition(".")
    with db.read() as session:
        concept = session.scalar(select(Concept).where(Concept.slug == slug))
        found = of_concept_row(session, concept) if concept is not None else []
    for exercise in found:
        if exercise.function == function:
            return exercise
    raise NotFoundError(
        f"no exercise {exercise_id!r} (see `studylog exercise list`; ids are SLUG.FUNCTION)"
    )


def of_concept(db: Database, slug: str) -> list[Exercise]:
    """The exercises of concept ``slug`` in the collection (none for an unknown slug)."""
    from sqlalchemy import select

    from studylog.storage.models import Concept

    with db.read() as session:
        concept = session.scalar(select(Concept).where(Concept.slug == slug))
        return of_concept_row(session, concept) if concept is not None else []


def find(db: Database, exercise_id: str) -> Exercise:
    """The exercise ``SLUG.FUNCTION`` of the collection, else of the pack's files.

    The collection's version first: a pack concept the learner edited (its
    exercises as edited), their own concepts, imported ones (trusted only once
    approved). Raises NotFoundError.
    """
    try:
        return resolve(db, exercise_id)
    except NotFoundError:
        return get(exercise_id)


def of_collection(db: Database) -> list[Exercise]:
    """Every exercise of the collection's concepts (pack, the learner's own, imported)."""
    from sqlalchemy import select

    from studylog.storage.models import Concept

    with db.read() as session:
        rows = session.scalars(select(Concept).order_by(Concept.slug))
        return [e for concept in rows for e in of_concept_row(session, concept)]


class UntrustedExerciseError(InvalidInputError):
    """The exercise belongs to an imported concept and its checks are not approved yet."""


def approve(db: Database, exercise: Exercise, *, now: datetime | None = None) -> None:
    """Record that the learner read and approved this exercise's checks (by hash)."""
    from studylog.storage.demo_models import TrustedCode

    with db.write() as session:
        if session.get(TrustedCode, exercise.trust_hash) is None:
            session.add(TrustedCode(code_hash=exercise.trust_hash, approved_at=now or utcnow()))


# --- the starter ----------------------------------------------------------------


def _function_source(source: str, name: str, rename: str) -> tuple[str, list[str]] | None:
    """The def line(s) and docstring of ``name`` in ``source`` + the helper imports used."""
    tree = ast.parse(source)
    lines = source.splitlines()
    helpers = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "common":
            helpers.append(", ".join(alias.name for alias in node.names))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            body = node.body
            first = body[0]
            has_doc = (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            )
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            end = first.end_lineno if has_doc else first.lineno - 1
            head = lines[start:end]
            text = "\n".join(head)
            text = text.replace(f"def {name}(", f"def {rename}(", 1)
            indent = " " * (first.col_offset)
            return text + f"\n{indent}raise NotImplementedError\n", helpers
    return None


def starter(exercise: Exercise) -> str:
    """The starter file: the reference's signature and docstring, body ``raise NotImplementedError``.

    Raises:
        InvalidInputError: the reference's source cannot be found.
    """
    if exercise.starter_override is not None:
        return exercise.starter_override
    header = (
        f'"""Exercise {exercise.id}: {exercise.title}.\n\n'
        f"Check it with: studylog exercise check {exercise.id} THIS_FILE\n"
        '"""\n\nfrom __future__ import annotations\n\nimport numpy as np\n'
    )
    found = None
    if _defines(exercise.checks, "reference"):
        found = _function_source(exercise.checks, "reference", exercise.function)
    else:
        module, _, func = exercise.reference.rpartition(".")
        path = exercise.demo_dir / f"{module}.py"
        own = dict(exercise.files).get(f"{module}.py")
        if own is not None:
            found = _function_source(own, func, exercise.function)
        elif path.is_file():
            found = _function_source(path.read_text(encoding="utf-8"), func, exercise.function)
    if found is None:
        raise InvalidInputError(f"{exercise.id}: the reference {exercise.reference} is not found")
    body, helpers = found
    imports = ""
    if helpers:
        imports = (
            "# The pack's helpers may be used (they are on the path when checked):\n"
            + "".join(f"# from common import {h}\n" for h in helpers)
        )
    return f"{header}{imports}\n\n{body}"


# --- checking --------------------------------------------------------------------


def check(
    exercise: Exercise,
    code: str,
    *,
    limits: Limits | None = None,
    seed: int | None = None,
    hidden: list[Path] | None = None,
    ahead: bool = False,
) -> CheckResult:
    """Check the learner's ``code`` (a module defining ``exercise.function``) in the sandbox.

    The run takes the child :func:`prepare` started for this exercise, if any
    (the same sandbox, NumPy already imported), else starts one.

    Args:
        exercise: from :func:`get`.
        code: the learner's module source (UTF-8 text).
        limits: the run's limits (default: :data:`CHECK_TIMEOUT_S` wall clock,
            the demo memory limit).
        seed: the random inputs' seed (fresh when None, reported in the result).
        hidden: folders the code must never see (the data folder).
        ahead: start the child for the next check afterwards (:func:`prepare`; the app
            does, a one-off CLI check does not).

    Returns:
        The :class:`CheckResult`; never raises for what the code does.

    Raises:
        InvalidInputError: the code is not text or is larger than 200,000 characters.
        UntrustedExerciseError: an imported concept's exercise not approved yet.
    """
    if not exercise.trusted:
        raise UntrustedExerciseError(
            f"the exercise {exercise.id} came with an imported concept and its checks have "
            f"not been approved; read them and approve: studylog concept approve {exercise.slug}"
        )
    if len(code) > MAX_ATTEMPT_CHARS:
        raise InvalidInputError(
            f"the attempt is {len(code):,} characters; at most {MAX_ATTEMPT_CHARS:,}"
        )
    if "\x00" in code:
        raise InvalidInputError("the attempt contains a NUL character; it must be Python text")
    seed = secrets.randbits(32) if seed is None else seed
    config = {"function": exercise.function, "reference": exercise.reference, "seed": seed}
    runner = driver_script("exercise_driver", config)
    limits = limits or Limits(timeout_s=CHECK_TIMEOUT_S)
    paths, hidden = [exercise.demo_dir], list(hidden or [])
    files = {**dict(exercise.files), "_exercise_checks.py": exercise.checks, "attempt.py": code}
    child = _ahead.take(prestart_key(RUN_NAME, limits, paths, hidden))
    if child is not None:
        result = run_prestarted(child, runner, files)
    else:
        result = run_code(
            runner, name=RUN_NAME, limits=limits, paths=paths, files=files, hidden=hidden
        )
    if ahead:  # the learner is likely to check again after fixing the code
        prepare(exercise, limits=limits, hidden=hidden)
    outcome = interpret(result)
    outcome.seed = seed
    return outcome


RUN_NAME = "_exercise_run.py"
PRELOAD = ("numpy", "studylog.demo.exercise_driver")  # what a child started ahead imports
_ahead = Ahead()  # the child for the next check (see studylog.demo.runner.Ahead)


def prepare(
    exercise: Exercise, *, limits: Limits | None = None, hidden: list[Path] | None = None
) -> None:
    """Start, in the background, the sandboxed child the next :func:`check` of
    ``exercise`` will use (while the learner writes the code); a no-op for an
    exercise that may not run yet."""
    if not exercise.trusted:
        return
    limits = limits or Limits(timeout_s=CHECK_TIMEOUT_S)
    paths, hidden = [exercise.demo_dir], list(hidden or [])
    _ahead.start(
        prestart_key(RUN_NAME, limits, paths, hidden),
        lambda: prestart(name=RUN_NAME, limits=limits, paths=paths, hidden=hidden, preload=PRELOAD),
    )


def interpret(result: RunResult) -> CheckResult:
    """Turn the sandbox run into a :class:`CheckResult` (the status mapping is documented)."""
    checks = [
        Check(str(o.get("name", "?")), bool(o.get("passed")), str(o.get("message", "")))
        for o in result.outputs
        if o.get("kind") == "check"
    ]
    final = next((o for o in reversed(result.outputs) if o.get("kind") == "exercise"), None)
    learner_ms = final.get("learner_ms") if final else None
    if result.status == "timeout" or (result.status == "limit" and result.limit == "cpu"):
        return CheckResult("timeout", result.duration_ms, checks, learner_ms, result.error)
    if result.status != "ok" or final is None:
        error = result.error or "the check ended without a result"
        if result.traceback and "attempt.py" in result.traceback:
            error += f" ({_last_attempt_line(result.traceback)})"
        return CheckResult("error", result.duration_ms, checks, learner_ms, error)
    status = str(final.get("status"))
    if status not in STATUSES:
        status = "error"
    error = None
    if status == "error":
        error = next((c.message for c in checks if not c.passed), "the attempt could not run")
    return CheckResult(status, result.duration_ms, checks, learner_ms, error)


def _last_attempt_line(tb: str) -> str:
    lines = [ln.strip() for ln in tb.splitlines() if "attempt.py" in ln]
    return textwrap.shorten(lines[-1], 120) if lines else ""


# --- attempts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One stored attempt: ``attempted_at`` aware UTC, ``duration_ms`` of the check."""

    id: int
    exercise_id: str
    code: str
    status: str
    duration_ms: int
    attempted_at: datetime
    result: CheckResult

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "exercise_id": self.exercise_id,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "attempted_at": self.attempted_at.isoformat(),
            "checks": [c.to_json() for c in self.result.checks],
        }


def record(
    db: Database, exercise: Exercise, code: str, result: CheckResult, *, now: datetime | None = None
) -> Attempt:
    """Store one checked attempt (one short transaction, after the check has run)."""
    from studylog.storage.exercise_models import ExerciseAttempt

    when = now or utcnow()
    with db.write() as session:
        row = ExerciseAttempt(
            exercise_id=exercise.id,
            code=code,
            status=result.status,
            duration_ms=result.duration_ms,
            result=result.to_json(),
            attempted_at=when,
        )
        session.add(row)
        session.flush()
        return _as_attempt(row)


def _as_attempt(row: Any) -> Attempt:
    return Attempt(
        id=row.id,
        exercise_id=row.exercise_id,
        code=row.code,
        status=row.status,
        duration_ms=row.duration_ms,
        attempted_at=row.attempted_at,
        result=CheckResult.from_json(row.result),
    )


def attempts(db: Database, exercise_id: str) -> list[Attempt]:
    """Every stored attempt at ``exercise_id``, oldest first."""
    from sqlalchemy import select

    from studylog.storage.exercise_models import ExerciseAttempt

    with db.read() as session:
        rows = session.scalars(
            select(ExerciseAttempt)
            .where(ExerciseAttempt.exercise_id == exercise_id)
            .order_by(ExerciseAttempt.attempted_at, ExerciseAttempt.id)
        )
        return [_as_attempt(r) for r in rows]


def last_attempt(db: Database, exercise_id: str) -> Attempt | None:
    found = attempts(db, exercise_id)
    return found[-1] if found else None


def proposed_grade(history: list[str]) -> int:
    """The grade an exercise review proposes from its statuses this session, oldest first.

    All checks passing at the first run: Good (3); passing after failed runs:
    Hard (2); not passing (yet): Again (1). FSRS ratings as in Anki.
    """
    if not history or history[-1] != "pass":
        return 1
    return 3 if len(history) == 1 else 2
