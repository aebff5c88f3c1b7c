"""Content hashes of imported records, so that importing the same thing again adds nothing.

Each importer derives a key per record (an entry's day and text, a card's
kind, front and back, an Anki card id) and stores it in ``import_records``
with the row it became. A key seen before is skipped, even when the user has
since edited or deleted that row: a re-import never brings back what the user
removed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.storage.bulk_insert import insert_rows, raw_connection
from studylog.storage.import_models import ImportRecord

CHUNK = 500  # keys per IN (...) query, well under SQLite's parameter limit

# json.dumps with these options builds a new encoder on every call; one shared
# encoder gives the same text (a test compares) at half the cost per key, and
# keys of text alone (a CSV card's) are joined from the encoder's own string
# function, as the encoder itself would join them.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":")).encode
_ENCODE_STR = json.encoder.encode_basestring


def digest(*parts: object) -> str:
    """SHA-256 hex of ``parts`` as canonical JSON (dates as ISO text; Korean kept as UTF-8)."""
    if all(type(p) is str for p in parts):
        text = "[" + ",".join(map(_ENCODE_STR, parts)) + "]"  # type: ignore[arg-type]
    else:
        text = _ENCODE(parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def known(session: Session, kind: str, keys: Iterable[str]) -> dict[str, int | None]:
    """The keys of ``kind`` already recorded, mapped to the row each became (or None).

    One query per :data:`CHUNK` keys on the session's DB-API connection (the
    ``(kind, key)`` unique index answers each); none at all when nothing of
    ``kind`` was ever imported (a first import of a large file).
    """
    wanted = list(dict.fromkeys(keys))
    found: dict[str, int | None] = {}
    raw = raw_connection(session)
    if not wanted or (
        raw.execute("SELECT 1 FROM import_records WHERE kind = ? LIMIT 1", (kind,)).fetchone()
        is None
    ):
        return found
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = raw.execute(
            f'SELECT "key", target_id FROM import_records WHERE kind = ? AND "key" IN ({marks})',
            (kind, *chunk),
        ).fetchall()
        found.update({key: target for key, target in rows})
    return found


def refs(session: Session, kind: str, target_ids: Sequence[int]) -> dict[int, str]:
    """``target_id -> ref`` for records of ``kind`` (e.g. studylog card -> Anki note GUID)."""
    out: dict[int, str] = {}
    ids = list(target_ids)
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ImportRecord.target_id, ImportRecord.ref).where(
                ImportRecord.kind == kind,
                ImportRecord.target_id.in_(ids[i : i + CHUNK]),
                ImportRecord.ref.is_not(None),
            )
        )
        for target, ref in rows:
            out.setdefault(target, ref)
    return out


def remember(
    session: Session,
    kind: str,
    rows: Iterable[tuple[str, int | None, str | None]],
    *,
    source: str,
    now: datetime,
) -> int:
    """Record ``(key, target_id, ref)`` rows of ``kind``; return how many were written."""
    values = [
        {
            "kind": kind,
            "key": key,
            "target_id": target,
            "ref": ref,
            "source": source[:500],
            "imported_at": now,
        }
        for key, target, ref in rows
    ]
    insert_rows(session, ImportRecord.__table__, values, returning=False)
    return len(values)
