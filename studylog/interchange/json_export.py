"""Export everything stored as one JSON document (format: ``docs/export-format.md``).

The document is written row by row, so a collection with a million reviews
does not have to fit in memory as Python objects twice. It is written to a
temporary file beside the destination and renamed at the end: an interrupted
export never leaves a half-written file under the real name.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studylog import __version__
from studylog.errors import InvalidInputError
from studylog.interchange.summary import ProgressFn, no_progress
from studylog.storage.engine import Database
from studylog.storage.import_models import ImportRecord, SuggestedCard
from studylog.storage.models import (
    Card,
    Concept,
    JournalEntry,
    Review,
    Setting,
    Tag,
    Todo,
    card_tags,
    concept_tags,
)
from studylog.studyday import utcnow

FORMAT_VERSION = 1
CHUNK = 5000


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _tags_by(session: Session, table, key: str) -> dict[int, list[str]]:  # noqa: ANN001
    out: dict[int, list[str]] = {}
    rows = session.execute(select(table.c[key], Tag.name).join(Tag, Tag.id == table.c.tag_id))
    for owner, name in rows:
        out.setdefault(owner, []).append(name)
    for names in out.values():
        names.sort()
    return out


def _entries(session: Session) -> Iterator[dict]:
    for e in session.scalars(select(JournalEntry).order_by(JournalEntry.day, JournalEntry.id)):
        yield {
            "id": e.id,
            "day": e.day,
            "body": e.body,
            "created_at": e.created_at,
            "updated_at": e.updated_at,
        }


def _todos(session: Session) -> Iterator[dict]:
    for t in session.scalars(select(Todo).order_by(Todo.origin_day, Todo.position, Todo.id)):
        yield {
            "id": t.id,
            "text": t.text,
            "origin_day": t.origin_day,
            "due_day": t.due_day,
            "done_at": t.done_at,
            "position": t.position,
            "created_at": t.created_at,
        }


def _concepts(session: Session) -> Iterator[dict]:
    tags = _tags_by(session, concept_tags, "concept_id")
    for c in session.scalars(select(Concept).order_by(Concept.slug)):
        yield {
            "slug": c.slug,
            "title": c.title,
            "aliases": c.aliases,
            "tags": tags.get(c.id, []),
            "body": c.body,
            "sources": c.sources,
            "related": c.related,
            "demo": c.demo,
            "demo_code": c.demo_code,
            "origin": c.origin,
            "user_modified": c.user_modified,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }


CARD_FIELDS = (
    "id", "front", "back", "kind", "cloze_ord", "deck", "external_id", "pack_key", "origin",
    "state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses",
    "suspended", "buried_until", "created_at", "updated_at",
)  # fmt: skip


def _cards(session: Session) -> Iterator[dict]:
    tags = _tags_by(session, card_tags, "card_id")
    slugs = dict(session.execute(select(Concept.id, Concept.slug)).all())
    columns = [getattr(Card, name) for name in CARD_FIELDS] + [Card.concept_id]
    for row in session.execute(select(*columns).order_by(Card.id)).yield_per(CHUNK):
        record = dict(zip(CARD_FIELDS, row[:-1], strict=True))
        record["tags"] = tags.get(record["id"], [])
        record["concept"] = slugs.get(row[-1])
        yield record


REVIEW_FIELDS = (
    "id", "card_id", "rating", "reviewed_at", "duration_ms",
    "state_before", "step_before", "stability_before", "difficulty_before", "due_before",
    "last_review_before", "state_after", "step_after", "stability_after", "difficulty_after",
    "due_after", "interval_days",
)  # fmt: skip


def _reviews(session: Session) -> Iterator[dict]:
    columns = [getattr(Review, name) for name in REVIEW_FIELDS]
    query = select(*columns).order_by(Review.reviewed_at, Review.id)
    for row in session.execute(query).yield_per(CHUNK):
        record = dict(zip(REVIEW_FIELDS, row, strict=True))
        record["card"] = record.pop("card_id")
        yield record


SUGGESTION_FIELDS = (
    "id", "front", "back", "kind", "deck", "tags", "rule", "source", "line", "day",
    "entry_id", "status", "content_hash", "card_id", "created_at", "decided_at",
)  # fmt: skip


def _suggestions(session: Session) -> Iterator[dict]:
    columns = [getattr(SuggestedCard, name) for name in SUGGESTION_FIELDS]
    for row in session.execute(select(*columns).order_by(SuggestedCard.id)):
        record = dict(zip(SUGGESTION_FIELDS, row, strict=True))
        record["entry"] = record.pop("entry_id")
        record["card"] = record.pop("card_id")
        yield record


RECORD_FIELDS = ("kind", "key", "target_id", "ref", "source", "imported_at")


def _import_records(session: Session) -> Iterator[dict]:
    columns = [getattr(ImportRecord, name) for name in RECORD_FIELDS]
    query = select(*columns).order_by(ImportRecord.id)
    for row in session.execute(query).yield_per(CHUNK):
        yield dict(zip(RECORD_FIELDS, row, strict=True))


def _write_list(
    out: IO[str],
    name: str,
    rows: Iterable[dict],
    first: bool,
    progress: ProgressFn = no_progress,
    total: int | None = None,
) -> int:
    out.write(("" if first else ",\n") + f' "{name}": [')
    n = 0
    for row in rows:
        out.write(
            ("\n  " if n == 0 else ",\n  ")
            + json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False)
        )
        n += 1
        if n % 1000 == 0:
            progress(f"exporting {name}", n, total)
    out.write("\n ]" if n else "]")
    progress(f"exporting {name}", n, total)
    return n


SECTIONS = {
    "entries": (_entries, JournalEntry),
    "todos": (_todos, Todo),
    "concepts": (_concepts, Concept),
    "cards": (_cards, Card),
    "reviews": (_reviews, Review),
    "suggested_cards": (_suggestions, SuggestedCard),
    "import_records": (_import_records, ImportRecord),
}


def write_json(db: Database, out: IO[str], progress: ProgressFn = no_progress) -> dict[str, int]:
    """Write the whole collection as JSON to ``out``; return the count per section."""
    counts: dict[str, int] = {}
    with db.read() as session:
        out.write("{\n")
        header = {
            "format": "studylog-export",
            "format_version": FORMAT_VERSION,
            "studylog_version": __version__,
            "exported_at": utcnow().isoformat(),
        }
        out.write(",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in header.items()))
        settings = {s.key: s.value for s in session.scalars(select(Setting).order_by(Setting.key))}
        out.write(f',\n "settings": {json.dumps(settings, ensure_ascii=False)}')
        for name, (rows, model) in SECTIONS.items():
            total = session.scalar(select(func.count()).select_from(model))
            counts[name] = _write_list(out, name, rows(session), False, progress, total)
        out.write("\n}\n")
    return counts


def export_json(db: Database, dest: Path, progress: ProgressFn = no_progress) -> dict[str, int]:
    """Export to the file ``dest`` atomically; return the count per section.

    Raises:
        InvalidInputError: if the destination folder does not exist or cannot be written.
    """
    folder = dest.resolve().parent
    if not folder.is_dir():
        raise InvalidInputError(f"cannot write {dest}: the folder {folder} does not exist")
    try:
        handle, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=folder)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {dest}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            counts = write_json(db, out, progress)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return counts
