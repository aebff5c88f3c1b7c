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

from studylog.storage.bulk import insert_rows
from studylog.storage.import_models import ImportRecord

CHUNK = 500  # keys per IN (...) query, well under SQLite's parameter limit


def digest(*parts: object) -> str:
    """SHA-256 hex of ``parts`` as canonical JSON (dates as ISO text; Korean kept as UTF-8)."""
    text = json.dumps(parts, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def known(session: Session, kind: str, keys: Iterable[str]) -> dict[str, int | None]:
    """The keys of ``kind`` already recorded, mapped to the row each became (or None)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, int | None] = {}
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        rows = session.execute(
            select(ImportRecord.key, ImportRecord.target_id).where(
                ImportRecord.kind == kind, ImportRecord.key.in_(chunk)
            )
        )
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
