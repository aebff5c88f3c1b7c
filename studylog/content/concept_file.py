"""Parse a concept file: YAML front matter, the explanation, and the ``## Cards`` section.

The format is documented in ``docs/concept-format.md``. Parsing uses
markdown-it-py with the ``front_matter`` and ``container`` plugins, and takes
the exact markdown source of each card from the tokens' line maps.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from functools import cache
from typing import Any, TypeVar

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from studylog.content.cloze import cloze_ords
from studylog.errors import InvalidInputError

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FUNCTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONTAINER_KINDS = ("card", "cloze", "exercise", "computed")


class ConceptFormatError(InvalidInputError):
    """A concept file that does not follow the format; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class CardSpec:
    """One card of a concept file.

    ``key`` is the stable id from ``::: card KEY``; a cloze container with
    deletions c1..cN gives N specs with ``cloze_ord`` 1..N.
    """

    key: str
    kind: str  # "basic" or "cloze"
    front: str
    back: str
    cloze_ord: int | None = None
    line: int = 0

    @property
    def pack_key_suffix(self) -> str:
        return self.key if self.cloze_ord is None else f"{self.key}/c{self.cloze_ord}"


_Spec = TypeVar("_Spec")


def _spec_from_json(
    cls: type[_Spec], data: dict[str, Any], optional: tuple[str, ...] = ()
) -> _Spec:
    """A spec dataclass from its :meth:`to_json` form (as stored in the concepts table).

    Text fields without a default (and not ``optional``) are required (KeyError when
    absent); an absent or null ``line`` is 0, an absent text field with a default
    takes it (``None`` stays None for a field whose default is None).
    """
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = data.get(f.name)
        if f.name == "line":
            values[f.name] = int(value or 0)
        elif f.default is MISSING and f.name not in optional:
            values[f.name] = str(data[f.name])
        elif value is None:
            values[f.name] = "" if f.default is MISSING else f.default
        else:
            values[f.name] = str(value)
    return cls(**values)


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise of a concept file (``::: exercise FUNCTION Title``), see docs/exercises.md.

    Attributes:
        function: the function the learner writes (a Python identifier); the
            exercise's id is ``SLUG.FUNCTION``.
        title: the rest of the container's first line.
        task: the markdown of the task (the container without its code blocks).
        checks: the source of the ```` ```python checks ```` block (run in the sandbox).
        starter: the source of an optional ```` ```python starter ```` block, or
            None (the starter is then built from the reference's signature).
        line: the 1-based line of the ``::: exercise`` line.
    """

    function: str
    title: str
    task: str
    checks: str
    starter: str | None = None
    line: int = 0

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExerciseSpec:
        return _spec_from_json(cls, data)

    def to_markdown(self) -> str:
        """The exercise written back in the concept file format (``::: exercise ...``)."""
        parts = [f"::: exercise {self.function} {self.title}", self.task.strip(), ""]
        parts.append(_fence("python checks", self.checks))
        if self.starter is not None:
            parts += ["", _fence("python starter", self.starter)]
        parts.append(":::")
        return "\n".join(parts)


@dataclass(frozen=True)
class ComputedSpec:
    """One predict-the-output card template (``::: computed KEY``), see docs/concept-format.md.

    Attributes:
        key: the card's stable key in the file (lowercase, digits, dashes).
        title: the rest of the container's first line (may be empty).
        template: the source of the ```` ```python template ```` block, a module
            defining ``card(rng)`` (run in the sandbox at review time).
        note: markdown outside the block, shown on the back after checking.
        line: the 1-based line of the ``::: computed`` line.
    """

    key: str
    title: str
    template: str
    note: str = ""
    line: int = 0

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComputedSpec:
        return _spec_from_json(cls, data, optional=("title",))

    def to_markdown(self) -> str:
        """The template written back in the concept file format (``::: computed KEY``)."""
        head = f"::: computed {self.key} {self.title}".rstrip()
        parts = [head]
        if self.note.strip():
            parts += [self.note.strip(), ""]
        parts += [_fence("python template", self.template), ":::"]
        return "\n".join(parts)


def _fence(info: str, code: str) -> str:
    """A fenced code block long enough not to be closed by backticks inside ``code``."""
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{code.rstrip()}\n{ticks}"


@dataclass(frozen=True)
class ConceptFile:
    """A parsed concept file. ``content_hash`` is the SHA-256 of the file's text."""

    slug: str
    title: str
    body: str
    aliases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    demo: str | None = None
    cards: list[CardSpec] = field(default_factory=list)
    content_hash: str = ""
    exercises: list[ExerciseSpec] = field(default_factory=list)
    computed: list[ComputedSpec] = field(default_factory=list)


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").use(front_matter_plugin)
    # One container rule takes both "::: card KEY" and "::: cloze KEY"; the
    # kind is read back from the token's info string.
    md.use(
        container_plugin,
        name="card",
        validate=lambda params, *_: params.strip().split(" ", 1)[0] in CONTAINER_KINDS,
    )
    return md


def _as_list(value: object, name: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    raise ConceptFormatError(f"{where}:1: front matter '{name}' must be a list of strings")


def _slice(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start:end]).strip("\n").strip()


MAX_FRONT_MATTER = 64 * 1024  # characters of YAML front matter


def load_front_matter(text: str, path: str) -> dict:
    """The YAML front matter ``text`` as a mapping (empty front matter: ``{}``).

    Loaded with ``yaml.safe_load``: tags such as ``!!python/object`` are
    refused, not run. Anything but a mapping, invalid YAML, nesting deep
    enough to exhaust the parser's recursion, or more than
    :data:`MAX_FRONT_MATTER` characters is one error naming the file and line.

    Raises:
        ConceptFormatError: ``path:line: ...``.
    """
    if len(text) > MAX_FRONT_MATTER:
        raise ConceptFormatError(
            f"{path}:1: front matter is longer than {MAX_FRONT_MATTER:,} characters"
        )
    try:
        meta = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConceptFormatError(
            f"{path}:{line}: invalid YAML in front matter ({problem})"
        ) from None
    except RecursionError:
        raise ConceptFormatError(f"{path}:2: front matter nests too deeply") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ConceptFormatError(f"{path}:1: front matter must be a mapping of keys to values")
    return meta


def parse_concept(text: str, path: str = "<concept>") -> ConceptFile:
    """Parse the text of a concept file.

    Args:
        text: the file's content (UTF-8 decoded).
        path: shown in error messages.

    Raises:
        ConceptFormatError: with ``path:line:`` for any problem of the format.
    """
    tokens = _parser().parse(text)
    lines = text.splitlines()
    if not tokens or tokens[0].type != "front_matter":
        raise ConceptFormatError(f"{path}:1: missing front matter (a '---' block at the top)")
    meta = load_front_matter(tokens[0].content, path)
    slug = str(meta.get("slug", "")).strip()
    if not SLUG.match(slug):
        raise ConceptFormatError(
            f"{path}:1: 'slug' is missing or not lowercase letters, digits and dashes"
        )
    title = str(meta.get("title", "")).strip()
    if not title:
        raise ConceptFormatError(f"{path}:1: 'title' is missing")
    body_start = tokens[0].map[1] if tokens[0].map else 0

    cards_start, section_end = _cards_section(tokens)
    cards_end = len(lines) if section_end is None else section_end
    if cards_start is None:
        body = _slice(lines, body_start, len(lines))
        cards: list[CardSpec] = []
        exercises: list[ExerciseSpec] = []
        computed: list[ComputedSpec] = []
    else:
        body = (
            _slice(lines, body_start, cards_start)
            + ("\n\n" + _slice(lines, cards_end, len(lines)) if cards_end < len(lines) else "")
        ).strip()
        cards, exercises, computed = _parse_cards(tokens, lines, path, cards_start, cards_end)

    demo = meta.get("demo")
    return ConceptFile(
        slug=slug,
        title=title,
        body=body,
        aliases=_as_list(meta.get("aliases"), "aliases", path),
        tags=_as_list(meta.get("tags"), "tags", path),
        sources=_as_list(meta.get("sources"), "sources", path),
        related=_as_list(meta.get("related"), "related", path),
        demo=str(demo) if demo else None,
        cards=cards,
        exercises=exercises,
        computed=computed,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _cards_section(tokens: list[Token]) -> tuple[int | None, int | None]:
    """Line range [start, end) of the ``## Cards`` section (to the next h1/h2 or the end)."""
    start = None
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open" or tok.level != 0 or tok.tag not in ("h1", "h2"):
            continue
        if tok.map is None:
            continue
        if start is not None:
            return start, tok.map[0]
        title = tokens[i + 1].content.strip().lower()
        if tok.tag == "h2" and title == "cards":
            start = tok.map[0]
    return start, None  # the section runs to the end of the file


def _parse_cards(
    tokens: list[Token], lines: list[str], path: str, start: int, end: int
) -> tuple[list[CardSpec], list[ExerciseSpec], list[ComputedSpec]]:
    cards: list[CardSpec] = []
    exercises: list[ExerciseSpec] = []
    computed: list[ComputedSpec] = []
    seen: set[str] = set()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.map is None or not (start <= tok.map[0] < end) or tok.nesting != 1:
            i += 1
            continue
        if tok.type != "container_card_open":
            i += 1
            continue
        line_no = tok.map[0] + 1
        params = tok.info.strip().split()
        kind = params[0]
        key = params[1] if len(params) > 1 else ""
        if kind == "exercise":
            close = _matching_close(tokens, i)
            exercise = _parse_exercise(tokens[i + 1 : close], lines, tok.map, params, path, line_no)
            if exercise.function in seen:
                raise ConceptFormatError(
                    f"{path}:{line_no}: duplicate exercise '{exercise.function}'"
                )
            seen.add(exercise.function)
            exercises.append(exercise)
            i = close + 1
            continue
        if not KEY.match(key):
            raise ConceptFormatError(
                f"{path}:{line_no}: a {kind} needs a key: '::: {kind} some-key' "
                "(lowercase letters, digits and dashes)"
            )
        if key in seen:
            raise ConceptFormatError(f"{path}:{line_no}: duplicate card key '{key}'")
        seen.add(key)
        close = _matching_close(tokens, i)
        if kind == "computed":
            computed.append(
                _parse_computed(tokens[i + 1 : close], lines, tok.map, params, path, line_no)
            )
            i = close + 1
            continue
        front, back = _split_front_back(tokens[i + 1 : close], lines, tok.map)
        if kind == "card":
            if not front or not back:
                raise ConceptFormatError(
                    f"{path}:{line_no}: card '{key}' needs a front and a back separated by '---'"
                )
            cards.append(CardSpec(key=key, kind="basic", front=front, back=back, line=line_no))
        else:
            ords = cloze_ords(front)
            if not ords:
                raise ConceptFormatError(
                    f"{path}:{line_no}: cloze '{key}' has no deletion like {{{{c1::text}}}}"
                )
            for n in ords:
                cards.append(
                    CardSpec(
                        key=key, kind="cloze", front=front, back=back, cloze_ord=n, line=line_no
                    )
                )
        i = close + 1
    return cards, exercises, computed


def _parse_computed(
    inner: list[Token],
    lines: list[str],
    outer: list[int],
    params: list[str],
    path: str,
    line_no: int,
) -> ComputedSpec:
    """``::: computed KEY Title``: one ```` ```python template ```` block and an optional note."""
    key = params[1]
    content_start, content_end = outer[0] + 1, outer[1]
    if content_end > content_start and lines[content_end - 1].strip().startswith(":::"):
        content_end -= 1
    template: str | None = None
    skip: set[int] = set()
    for tok in inner:
        if tok.type != "fence" or tok.map is None:
            continue
        info = tok.info.strip().split()
        if len(info) >= 2 and info[0] == "python" and info[1] == "template":
            if template is not None:
                raise ConceptFormatError(
                    f"{path}:{tok.map[0] + 1}: computed card '{key}' has two template blocks"
                )
            template = tok.content
            skip.update(range(tok.map[0], tok.map[1]))
    if template is None or not template.strip():
        raise ConceptFormatError(
            f"{path}:{line_no}: computed card '{key}' needs a ```python template``` block"
        )
    note = "\n".join(lines[n] for n in range(content_start, content_end) if n not in skip)
    return ComputedSpec(
        key=key,
        title=" ".join(params[2:]).strip(),
        template=template,
        note=note.strip(),
        line=line_no,
    )


def _parse_exercise(
    inner: list[Token],
    lines: list[str],
    outer: list[int],
    params: list[str],
    path: str,
    line_no: int,
) -> ExerciseSpec:
    """``::: exercise FUNCTION Title``: the task, its ``python checks`` and ``python starter`` blocks."""
    function = params[1] if len(params) > 1 else ""
    if not FUNCTION.match(function):
        raise ConceptFormatError(
            f"{path}:{line_no}: an exercise needs a function name: "
            "'::: exercise function_name Title'"
        )
    title = " ".join(params[2:]).strip()
    if not title:
        raise ConceptFormatError(f"{path}:{line_no}: exercise '{function}' needs a title")
    content_start, content_end = outer[0] + 1, outer[1]
    if content_end > content_start and lines[content_end - 1].strip().startswith(":::"):
        content_end -= 1
    blocks: dict[str, str] = {}
    skip: set[int] = set()
    for tok in inner:
        if tok.type != "fence" or tok.map is None:
            continue
        info = tok.info.strip().split()
        if len(info) >= 2 and info[0] == "python" and info[1] in ("checks", "starter"):
            if info[1] in blocks:
                raise ConceptFormatError(
                    f"{path}:{tok.map[0] + 1}: exercise '{function}' has two '{info[1]}' blocks"
                )
            blocks[info[1]] = tok.content
            skip.update(range(tok.map[0], tok.map[1]))
    if "checks" not in blocks:
        raise ConceptFormatError(
            f"{path}:{line_no}: exercise '{function}' needs a ```python checks``` block"
        )
    task_lines = [lines[n] for n in range(content_start, content_end) if n not in skip]
    task = "\n".join(task_lines).strip()
    if not task:
        raise ConceptFormatError(f"{path}:{line_no}: exercise '{function}' needs a task")
    return ExerciseSpec(
        function=function,
        title=title,
        task=task,
        checks=blocks["checks"],
        starter=blocks.get("starter"),
        line=line_no,
    )


def _matching_close(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(tokens)):
        depth += tokens[j].nesting if tokens[j].type.startswith("container_card") else 0
        if depth == 0:
            return j
    return len(tokens) - 1


def _split_front_back(inner: list[Token], lines: list[str], outer: list[int]) -> tuple[str, str]:
    """Split a container's content at its first top-level ``---`` (hr or setext underline)."""
    content_start, content_end = outer[0] + 1, outer[1]
    if content_end > content_start and lines[content_end - 1].strip().startswith(":::"):
        content_end -= 1
    for tok in inner:
        if tok.level != 1 or tok.map is None:
            continue
        if tok.type == "hr":
            return (
                _slice(lines, content_start, tok.map[0]),
                _slice(lines, tok.map[1], content_end),
            )
        if tok.type == "heading_open" and tok.markup == "-":
            # "question\n---" parses as a setext heading: the question is its text.
            question_end = tok.map[1] - 1
            return (
                _slice(lines, content_start, question_end),
                _slice(lines, tok.map[1], content_end),
            )
    return _slice(lines, content_start, content_end), ""
