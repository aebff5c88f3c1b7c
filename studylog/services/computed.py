"""Computed (predict-the-output) cards: the question is made at review time by running a template.

A template lives in a concept file (``::: computed KEY Title``, docs/concept-format.md) and
becomes a card of kind ``computed`` (``pack_key`` ``SLUG/KEY``). At review time its
``card(rng)`` runs in the demo sandbox (:mod:`studylog.demo.computed_driver`) with a fresh
seed: fresh sizes and values each time ("x is (2, 5, 16) and there are 4 heads: the shape of
the per-head weights?"). The learner types the answer; :func:`check_answer` compares it
(shapes and integers exactly, floats within the template's stated tolerance) and
:func:`proposed_grade` proposes Good or Again. A template that fails to run gives its error
(:attr:`Generation.error`), which the app shows instead of the card.

Templates of an imported concept run only once approved (the same approvals as demos, by
sha256 of the code, :func:`approve`).
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from studylog.demo.limits import Limits
from studylog.demo.runner import (
    Ahead,
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

# A template is a small snippet: a second is plenty (a loop ends quickly as a timeout).
GENERATE_TIMEOUT_S = 5.0
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Template:
    """One computed-card template, resolved.

    Attributes:
        id: ``SLUG/KEY`` (the card's ``pack_key``).
        slug, key, title, note: from the concept file (``note`` markdown, shown after checking).
        template: the ``python template`` block's source (defines ``card(rng)``).
        demo_dir: the pack's demo folder (on the child's sys.path: templates may import
            the pack's modules and ``common``).
        files: more modules next to the template (the concept's own demo code).
        trusted: whether it may run without approval; ``trust_hash`` what an approval records.
    """

    id: str
    slug: str
    key: str
    title: str
    template: str
    note: str = ""
    origin: str = "pack"
    demo_dir: Path = field(default_factory=lambda: content_dir() / "demos")
    files: tuple[tuple[str, str], ...] = ()
    trusted: bool = True
    trust_hash: str = ""


@dataclass(frozen=True)
class Generated:
    """A question made by a template: ``answer`` a number or (nested) list of numbers;
    floats are right within ``tol`` (absolute), integers exactly."""

    question: str
    answer: Any
    tol: float
    explain: str
    params: dict[str, Any]
    seed: int

    @property
    def expected_text(self) -> str:
        """The answer as the learner would type it: ``(2, 4, 5, 5)``, ``0.66``, ``(32, 32, 8); 608``."""
        return format_answer(self.answer, self.tol)


@dataclass(frozen=True)
class Generation:
    """The outcome of running a template once: ``generated`` or ``error`` (one line)."""

    generated: Generated | None
    error: str | None
    duration_ms: int
    traceback: str | None = None


@dataclass(frozen=True)
class AnswerCheck:
    """A typed answer against the expected one."""

    correct: bool
    expected: str
    message: str


def format_answer(answer: Any, tol: float = 0.005, *, top: bool = True) -> str:
    """``(2, 4)`` for a shape, ``608`` for an int, a float to the tolerance's decimals,
    parts of a top-level list of several answers joined by ``; ``."""
    if isinstance(answer, list):
        parts = [format_answer(a, tol, top=False) for a in answer]
        if top and any(isinstance(a, list) for a in answer):
            return "; ".join(parts)
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if isinstance(answer, int):
        return str(answer)
    decimals = 2 if tol <= 0 else max(0, min(12, math.ceil(-math.log10(tol * 2)) if tol < 1 else 0))
    return f"{answer:.{decimals}f}"


def flatten(answer: Any) -> list[int | float]:
    """The numbers of an answer in order (a shape and a count: four numbers)."""
    if isinstance(answer, list):
        return [x for a in answer for x in flatten(a)]
    return [answer]


def parse_numbers(text: str) -> list[float]:
    """Every number in ``text`` in order: ``"(2, 4, 5)"``, ``"2x4x5"``, ``"2 4 5"`` -> [2, 4, 5]."""
    return [float(m) for m in NUMBER.findall(text.replace("×", " "))]


def check_answer(generated: Generated, typed: str) -> AnswerCheck:
    """Compare the learner's typed answer with the template's.

    The numbers of the typed text are compared in order with the answer's: as
    many of them, integers equal, floats within ``tol``. Brackets, commas,
    ``x``/``×`` and words around the numbers do not matter.
    """
    expected = generated.expected_text
    want = flatten(generated.answer)
    got = parse_numbers(typed)
    if not got:
        return AnswerCheck(False, expected, "no number in the answer")
    if len(got) != len(want):
        return AnswerCheck(
            False, expected, f"{len(got)} number(s) given, the answer has {len(want)}"
        )
    for n, (g, w) in enumerate(zip(got, want, strict=True)):
        if isinstance(w, int):
            if g != w:
                return AnswerCheck(False, expected, f"number {n + 1}: {g:g}, not {w}")
        elif not abs(g - w) <= generated.tol:
            return AnswerCheck(
                False, expected, f"number {n + 1}: {g:g}, not {w:.6g} (within {generated.tol:g})"
            )
    return AnswerCheck(True, expected, "correct")


def proposed_grade(check: AnswerCheck) -> int:
    """Good (3) for a right answer, Again (1) for a wrong one (FSRS ratings as in Anki)."""
    return 3 if check.correct else 1


# --- templates of the collection --------------------------------------------------


def card_template_id(kind: str, pack_key: str | None) -> str | None:
    """``SLUG/KEY`` of a computed card, else None."""
    from studylog.services.concepts import COMPUTED_KIND

    if kind != COMPUTED_KIND or not pack_key or "/" not in pack_key:
        return None
    return pack_key


def trust_hash_of(template: str, files: tuple[tuple[str, str], ...]) -> str:
    """sha256 over the template and the extra modules: what an approval covers."""
    from studylog.demo import cache as hashing

    return hashing.trust_hash(template + "".join(f"\0{n}\0{c}" for n, c in files))


def of_concept_row(session: Any, concept: Any) -> list[Template]:
    """The templates of a stored concept, resolved (trusted unless imported and not approved)."""
    from studylog.services.concepts import specs_of
    from studylog.storage.demo_models import TrustedCode

    _, specs = specs_of(concept)
    files: tuple[tuple[str, str], ...] = ()
    if concept.demo_code and concept.demo_code.strip():
        module = Path(concept.demo).stem if concept.demo else concept.slug.replace("-", "_")
        files = ((f"{module}.py", concept.demo_code),)
    found = []
    for spec in specs:
        digest = trust_hash_of(spec.template, files)
        trusted = concept.origin != "import" or session.get(TrustedCode, digest) is not None
        found.append(
            Template(
                id=f"{concept.slug}/{spec.key}",
                slug=concept.slug,
                key=spec.key,
                title=spec.title,
                template=spec.template,
                note=spec.note,
                origin=concept.origin,
                files=files,
                trusted=trusted,
                trust_hash=digest,
            )
        )
    return found


def of_concept(db: Database, slug: str) -> list[Template]:
    """The templates of concept ``slug`` (none for an unknown slug)."""
    from sqlalchemy import select

    from studylog.storage.models import Concept

    with db.read() as session:
        concept = session.scalar(select(Concept).where(Concept.slug == slug))
        return of_concept_row(session, concept) if concept is not None else []


def resolve(db: Database, template_id: str) -> Template:
    """The template ``SLUG/KEY``. Raises NotFoundError."""
    slug, _, key = template_id.partition("/")
    for template in of_concept(db, slug):
        if template.key == key:
            return template
    raise NotFoundError(f"no computed card template {template_id!r} (ids are SLUG/KEY)")


def pack_templates() -> list[Template]:
    """Every template of the built-in pack, read from its files (for tests and benchmarks)."""
    from studylog.content.concept_file import parse_concept

    found = []
    for path in sorted((content_dir() / "concepts").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if "::: computed" not in text:
            continue
        parsed = parse_concept(text, str(path))
        for spec in parsed.computed:
            found.append(
                Template(
                    id=f"{parsed.slug}/{spec.key}",
                    slug=parsed.slug,
                    key=spec.key,
                    title=spec.title,
                    template=spec.template,
                    note=spec.note,
                    trust_hash=trust_hash_of(spec.template, ()),
                )
            )
    return found


class UntrustedTemplateError(InvalidInputError):
    """The template came with an imported concept and has not been approved."""


def approve(db: Database, template: Template, *, now: datetime | None = None) -> None:
    """Record that the learner read and approved this template's code (by hash)."""
    from studylog.storage.demo_models import TrustedCode

    with db.write() as session:
        if session.get(TrustedCode, template.trust_hash) is None:
            session.add(TrustedCode(code_hash=template.trust_hash, approved_at=now or utcnow()))


# --- running ------------------------------------------------------------------------

RUN_NAME = "_computed_run.py"
PRELOAD = ("numpy", "studylog.demo.computed_driver")  # what a child started ahead imports


_ahead = Ahead()  # the child for the next computed card (see runner.Ahead)


def generate(
    template: Template,
    *,
    seed: int | None = None,
    limits: Limits | None = None,
    hidden: list[Path] | None = None,
) -> Generation:
    """Run ``template`` once in the sandbox with a fresh (or the given) seed.

    Returns a :class:`Generation` with the question and answer, or with the
    error (a template that raises, loops, or returns the wrong shape of dict);
    never raises for what the template does. The run takes the child started
    ahead for these sandbox arguments, if one waits, and starts the one for the
    next card (:class:`studylog.demo.runner.Ahead`): a card then waits only for
    its template, not for a Python start and the NumPy import.

    Raises:
        UntrustedTemplateError: an imported concept's template not approved yet.
    """
    if not template.trusted:
        raise UntrustedTemplateError(
            f"the computed card {template.id} came with an imported concept and its template "
            f"has not been approved; read and approve it: studylog concept approve {template.slug}"
        )
    seed = secrets.randbits(32) if seed is None else seed
    runner = driver_script("computed_driver", {"seed": seed})
    limits = limits or Limits(timeout_s=GENERATE_TIMEOUT_S)
    paths, hidden = [template.demo_dir], list(hidden or [])
    files = {**dict(template.files), "_computed_template.py": template.template}
    key = prestart_key(RUN_NAME, limits, paths, hidden)
    child = _ahead.take(key)
    if child is not None:
        result = run_prestarted(child, runner, files)
    else:
        result = run_code(
            runner, name=RUN_NAME, limits=limits, paths=paths, files=files, hidden=hidden
        )
    _ahead.start(
        key,
        lambda: prestart(name=RUN_NAME, limits=limits, paths=paths, hidden=hidden, preload=PRELOAD),
    )
    made = next((o for o in result.outputs if o.get("kind") == "computed"), None)
    if result.status != "ok" or made is None:
        error = result.error or "the template produced no card"
        error = error.replace("studylog.demo.computed_driver.TemplateError: ", "")
        if result.status == "timeout":
            error = f"the template did not finish ({error})"
        return Generation(None, error, result.duration_ms, result.traceback)
    generated = Generated(
        question=str(made["question"]),
        answer=made["answer"],
        tol=float(made.get("tol", 0.005)),
        explain=str(made.get("explain", "")),
        params=dict(made.get("params") or {}),
        seed=seed,
    )
    return Generation(generated, None, result.duration_ms)


def with_trust(template: Template, trusted: bool) -> Template:
    return replace(template, trusted=trusted)
