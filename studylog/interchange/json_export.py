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
from studylog.interchange.export_format import BY_NAME, FORMAT_VERSION
from studylog.interchange.summary import ProgressFn, no_progress
from studylog.services import settings as settings_service
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


def _records(
    session: Session, name: str, model: type, order: tuple, extra: tuple = (), where: tuple = ()
) -> Iterator[tuple[dict[str, Any], tuple]]:
    """Each row of ``model`` (those matching ``where``) as ``(record of the section's
    stored fields, extra values)``."""
    section = BY_NAME[name]
    keys = [f.name for f in section.by_role("column", "ref")]
    columns = [getattr(model, c) for c in section.columns()]
    n = len(keys)
    query = select(*columns, *extra).where(*where).order_by(*order)
    for row in session.execute(query).yield_per(CHUNK):
        yield dict(zip(keys, row[:n], strict=True)), tuple(row[n:])


def _in_order(name: str, record: dict[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in BY_NAME[name].names}


def _entries(session: Session) -> Iterator[dict]:
    order = (JournalEntry.day, JournalEntry.id)
    for record, _ in _records(session, "entries", JournalEntry, order):
        yield record


def _todos(session: Session) -> Iterator[dict]:
    order = (Todo.origin_day, Todo.position, Todo.id)
    for record, _ in _records(session, "todos", Todo, order):
        yield record


def _concepts(session: Session) -> Iterator[dict]:
    tags = _tags_by(session, concept_tags, "concept_id")
    for record, (cid,) in _records(session, "concepts", Concept, (Concept.slug,), (Concept.id,)):
        record["tags"] = tags.get(cid, [])
        yield _in_order("concepts", record)


def _cards(session: Session) -> Iterator[dict]:
    tags = _tags_by(session, card_tags, "card_id")
    slugs = dict(session.execute(select(Concept.id, Concept.slug)).all())
    for record, (concept_id,) in _records(session, "cards", Card, (Card.id,), (Card.concept_id,)):
        record["tags"] = tags.get(record["id"], [])
        record["concept"] = slugs.get(concept_id)
        yield record


# The review log of existing cards only: a deleted card's reviews stay in the
# collection (revision 0011, as Anki's revlog) for an undo, but an export holds
# no card for them, and an import would have nothing to attach them to.
_LIVE_REVIEWS = (Review.card_id.in_(select(Card.id)),)


def _reviews(session: Session) -> Iterator[dict]:
    """The review rows, oldest first, with valid derived states.

    Rows a whole-collection replay left stale get the states derived from
    their card's history (:func:`studylog.services.review_states.derived_states_in`),
    walked in the export's order next to the rows: the same contents as if the
    rows had been rewritten.
    """
    import numpy as np  # lazy: only an export needs it

    from studylog.services import review_states

    derived = review_states.derived_states_in(session)
    order = (
        np.lexsort((derived.review_ids, derived.times_ms))
        if derived is not None
        else np.zeros(0, dtype=np.int64)
    )
    stale_ids = derived.review_ids[order].tolist() if derived is not None else []
    # times as the text _plain would make of them (a datetime each would cost seconds)
    columns = list(derived.columns(order, iso_times=True).items()) if derived is not None else []
    k = 0
    for record, _ in _records(
        session,
        "reviews",
        Review,
        (Review.reviewed_at_ms, Review.reviewed_at, Review.id),
        where=_LIVE_REVIEWS,
    ):
        if k < len(stale_ids) and record["id"] == stale_ids[k]:
            for name, values in columns:
                record[name] = values[k]
            k += 1
        yield record
    if k != len(stale_ids):  # the walk must meet every stale row (same order)
        raise RuntimeError(f"export met {k} of {len(stale_ids)} stale review rows")


def _suggestions(session: Session) -> Iterator[dict]:
    for record, _ in _records(session, "suggested_cards", SuggestedCard, (SuggestedCard.id,)):
        yield record


def _import_records(session: Session) -> Iterator[dict]:
    for record, _ in _records(session, "import_records", ImportRecord, (ImportRecord.id,)):
        yield record


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
        settings = {
            s.key: s.value
            for s in session.scalars(select(Setting).order_by(Setting.key))
            if settings_service.is_portable(s.key)  # not undo steps, caches, markers
        }
        out.write(f',\n "settings": {json.dumps(settings, ensure_ascii=False)}')
        for name, (rows, model) in SECTIONS.items():
            counted = select(func.count()).select_from(model)
            if model is Review:
                counted = counted.where(*_LIVE_REVIEWS)
            total = session.scalar(counted)
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
