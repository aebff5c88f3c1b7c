"""The JSON export format, defined once: what the writer writes, the reader checks and the docs show.

Each section of the document (``entries``, ``cards``, ...) is a :class:`Section`
of typed :class:`Field` s. The writer (:mod:`json_export`) selects the stored
fields' columns from these definitions, the reader (:mod:`json_import`) checks
every record against them, and the field tables of ``docs/export-format.md``
are generated from them (``python -m studylog.interchange.export_format
docs/export-format.md`` rewrites the tables; a test fails when they differ).

A field is one of three roles:

- ``column``: the value of the model's column of the same name, copied as it is;
- ``ref``: the id of a row of another section, stored in ``column`` (a review's
  ``card`` is its ``card_id``); an import into a database with data maps it;
- ``derived``: computed on export and resolved on import (a card's ``tags`` and
  its ``concept`` slug).

Columns left out of the format on purpose (caches the database recomputes, such
as the epoch-millisecond copies of times) are listed in ``Section.not_exported``
with the reason, so that a new column must be either exported or named there
(``tests/test_export_format.py``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["int", "float", "str", "bool", "date", "time", "list", "objects"]
Role = Literal["column", "ref", "derived"]

# Bumped when a field changes meaning; new optional fields or sections need no bump.
FORMAT_VERSION = 1

_KIND_DOC: dict[str, str] = {
    "int": "int",
    "float": "number",
    "str": "string",
    "bool": "bool",
    "date": "`YYYY-MM-DD`",
    "time": "ISO 8601 UTC",
    "list": "list of strings",
    "objects": "list of objects",
}


@dataclass(frozen=True)
class Field:
    """One key of a section's records.

    ``kind`` is the JSON type checked on import (``date``: a study day as
    ``YYYY-MM-DD``; ``time``: ISO 8601 with a UTC offset; ``list``: of strings).
    """

    name: str
    kind: Kind
    doc: str
    nullable: bool = False
    role: Role = "column"
    column: str | None = None  # the model's column for a ref (default: the name)

    @property
    def stored_as(self) -> str:
        """The model column that holds this field (for column and ref fields)."""
        return self.column or self.name

    @property
    def spec(self) -> str:
        """The reader's type code: the kind, with ``?`` when null is allowed."""
        return self.kind + ("?" if self.nullable else "")


@dataclass(frozen=True)
class Section:
    """One list of the document: its records' fields and the model they come from."""

    name: str
    table: str
    doc: str
    fields: tuple[Field, ...]
    required: bool = True
    not_exported: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def by_role(self, *roles: Role) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.role in roles)

    def columns(self) -> tuple[str, ...]:
        """The model columns the writer selects: the column and ref fields', in order."""
        return tuple(f.stored_as for f in self.by_role("column", "ref"))

    def copied(self, record: dict) -> dict:
        """The column fields of a checked ``record`` (not its id), keyed by column name."""
        return {f.name: record[f.name] for f in self.by_role("column") if f.name != "id"}


def _f(
    name: str,
    kind: Kind,
    doc: str,
    nullable: bool = False,
    role: Role = "column",
    column: str | None = None,
) -> Field:
    return Field(name, kind, doc, nullable, role, column)


_ID = _f("id", "int", "the row's id; other sections refer to it")
_CREATED = _f("created_at", "time", "when it was made")
_UPDATED = _f("updated_at", "time", "when it was last changed")
_MS_CACHE = "an epoch-ms copy of a time, for indexes; rewritten from the time on import"

SECTIONS: tuple[Section, ...] = (
    Section(
        "entries",
        "journal_entries",
        "journal entries",
        (
            _ID,
            _f("day", "date", "the study day it belongs to"),
            _f("body", "str", "markdown, as written"),
            _CREATED,
            _UPDATED,
        ),
    ),
    Section(
        "todos",
        "todos",
        "TODOs",
        (
            _ID,
            _f("text", "str", "the TODO"),
            _f("origin_day", "date", "the study day it was written on"),
            _f("due_day", "date", "when it is due", nullable=True),
            _f("done_at", "time", "when it was ticked off", nullable=True),
            _f("position", "int", "order within its day"),
            _CREATED,
        ),
    ),
    Section(
        "concepts",
        "concepts",
        "concepts, the pack's and the user's",
        (
            _f("slug", "str", "its name in links and file names; cards refer to it"),
            _f("title", "str", "the title"),
            _f("aliases", "list", "other names that find it"),
            _f("tags", "list", "its tags", role="derived"),
            _f("body", "str", "markdown"),
            _f("sources", "list", "book chapters, papers"),
            _f("related", "list", "slugs of related concepts"),
            _f("demo", "str", "file name in the pack's `demos/`", nullable=True),
            _f("demo_code", "str", "the user's own demo code (imported as untrusted)", True),
            _f(
                "exercises",
                "objects",
                "its exercises (`function`, `title`, `task`, `checks`, `starter`, `line`; "
                "docs/exercises.md), code imported as untrusted",
                True,
            ),
            _f(
                "computed",
                "objects",
                "its computed-card templates (`key`, `title`, `template`, `note`, `line`; "
                "docs/concept-format.md), code imported as untrusted",
                True,
            ),
            _f("origin", "str", "`pack`, `user` or `import`"),
            _f("user_modified", "bool", "the user edited a pack concept"),
            _CREATED,
            _UPDATED,
        ),
        not_exported={
            "id": "concepts are referred to by slug",
            "content_hash": "the pack sync's cache; recomputed by the next sync",
        },
    ),
    Section(
        "cards",
        "cards",
        "cards with their FSRS state",
        (
            _ID,
            _f("front", "str", "markdown"),
            _f("back", "str", "markdown"),
            _f("kind", "str", "`basic`, `cloze`, `exercise` or `computed` (docs/exercises.md)"),
            _f("cloze_ord", "int", "the cloze number of a cloze card", nullable=True),
            _f("deck", "str", "Anki-style `A::B` name"),
            _f("external_id", "str", "its id in the system it came from", nullable=True),
            _f("pack_key", "str", "`slug/key` in its concept file", nullable=True),
            _f("origin", "str", "where it came from (`pack`, `user`, `import`, ...)"),
            _f(
                "state",
                "int",
                "1 Learning, 2 Review, 3 Relearning (new: Learning, no `last_review`)",
            ),
            _f("step", "int", "the (re)learning step it is on", nullable=True),
            _f("stability", "float", "FSRS stability, days", nullable=True),
            _f("difficulty", "float", "FSRS difficulty, 1-10", nullable=True),
            _f("due", "time", "when it is due"),
            _f("last_review", "time", "null for a new card", nullable=True),
            _f("reps", "int", "answers so far"),
            _f("lapses", "int", "times forgotten after it was learned"),
            _f("suspended", "bool", "left out of reviews"),
            _f("buried_until", "date", "left out until this study day", nullable=True),
            _CREATED,
            _UPDATED,
            _f("tags", "list", "its tags", role="derived"),
            _f("concept", "str", "the concept's slug", nullable=True, role="derived"),
        ),
        not_exported={
            "concept_id": "exported as the concept's slug (`concept`)",
            "due_ms": _MS_CACHE,
            "last_review_ms": _MS_CACHE,
        },
    ),
    Section(
        "reviews",
        "reviews",
        "the review log of the exported cards, oldest first (a deleted card's kept history is left out)",
        (
            _ID,
            _f("card", "int", "the card's `id`", role="ref", column="card_id"),
            _f("rating", "int", "1 Again, 2 Hard, 3 Good, 4 Easy"),
            _f("reviewed_at", "time", "when it was answered"),
            _f("duration_ms", "int", "answer time, ms", nullable=True),
            _f("state_before", "int", "the card's state before the answer"),
            _f("step_before", "int", "its step before", nullable=True),
            _f("stability_before", "float", "its stability before, days", nullable=True),
            _f("difficulty_before", "float", "its difficulty before", nullable=True),
            _f("due_before", "time", "its due time before", nullable=True),
            _f("last_review_before", "time", "its last review before", nullable=True),
            _f("state_after", "int", "the card's state after the answer"),
            _f("step_after", "int", "its step after", nullable=True),
            _f("stability_after", "float", "its stability after, days", nullable=True),
            _f("difficulty_after", "float", "its difficulty after", nullable=True),
            _f("due_after", "time", "its due time after", nullable=True),
            _f("interval_days", "float", "the interval the answer gave, days", nullable=True),
        ),
        not_exported={
            "reviewed_at_ms": _MS_CACHE,
            "due_before_ms": _MS_CACHE,
            "last_review_before_ms": _MS_CACHE,
        },
    ),
    Section(
        "suggested_cards",
        "suggested_cards",
        "cards suggested by notes imports, with the user's decision",
        (
            _ID,
            _f("front", "str", "markdown"),
            _f("back", "str", "markdown"),
            _f("kind", "str", "`basic` or `cloze`"),
            _f("deck", "str", "the deck it would go to"),
            _f("tags", "list", "the tags it would get"),
            _f("rule", "str", "the pattern that found it (`colon`, `qa`, `cloze`, ...)"),
            _f("source", "str", "the note's file name"),
            _f("line", "int", "1-based line in the note", nullable=True),
            _f("day", "date", "the note's study day", nullable=True),
            _f("entry", "int", "the entry's `id`", nullable=True, role="ref", column="entry_id"),
            _f("status", "str", "`pending`, `accepted` or `rejected`"),
            _f("content_hash", "str", "SHA-256 of kind, front and back"),
            _f("card", "int", "the card made when accepted", True, role="ref", column="card_id"),
            _CREATED,
            _f("decided_at", "time", "when it was accepted or rejected", nullable=True),
        ),
        required=False,
    ),
    Section(
        "import_records",
        "import_records",
        "what imports added, by content key (so re-imports add nothing)",
        (
            _f("kind", "str", "`note_entry`, `note_todo`, `csv_card` or `anki_card`"),
            _f("key", "str", "a SHA-256 content key, or an Anki card id"),
            _f("target_id", "int", "the entry, TODO or card it became", nullable=True),
            _f("ref", "str", "for Anki cards the note's `GUID#ord`", nullable=True),
            _f("source", "str", "the file name"),
            _f("imported_at", "time", "when"),
        ),
        required=False,
        not_exported={"id": "records are matched by kind and key"},
    ),
)

BY_NAME: dict[str, Section] = {s.name: s for s in SECTIONS}

# --- the docs' tables ----------------------------------------------------------------------

BEGIN = "<!-- fields: generated by studylog/interchange/export_format.py; do not edit -->"
END = "<!-- end of fields -->"


def markdown_tables() -> str:
    """The field tables of every section, as the docs show them (markdown)."""
    parts = []
    for section in SECTIONS:
        optional = "" if section.required else " (optional section)"
        parts.append(f"**{section.name}**{optional}: {section.doc}.\n")
        parts.append("| field | type | what |\n| --- | --- | --- |")
        for f in section.fields:
            kind = _KIND_DOC[f.kind] + (" or null" if f.nullable else "")
            parts.append(f"| `{f.name}` | {kind} | {f.doc} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def with_tables(doc: str) -> str:
    """``doc`` with the text between the markers replaced by :func:`markdown_tables`.

    Raises:
        ValueError: the markers are missing.
    """
    pattern = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)
    if not pattern.search(doc):
        raise ValueError("the field-table markers are missing")
    return pattern.sub(lambda _m: f"{BEGIN}\n{markdown_tables()}{END}", doc, count=1)


if __name__ == "__main__":  # python -m studylog.interchange.export_format docs/export-format.md
    target = Path(sys.argv[1])
    target.write_text(with_tables(target.read_text(encoding="utf-8")), encoding="utf-8")
