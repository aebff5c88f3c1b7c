"""Journal entries: what the user studied, written in markdown, one or more per study day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Row, func, select

from studylog.errors import InvalidInputError, NotFoundError
from studylog.storage.engine import Database
from studylog.storage.tables import journal_entries
from studylog.studyday import utcnow

if TYPE_CHECKING:
    # The reads are Core selects (``studylog today`` loads no ORM); the model is
    # imported by the functions that write or load one entry.
    from studylog.storage.models import JournalEntry


@dataclass(frozen=True)
class EntryInfo:
    """A journal entry. ``day`` is the study day; times are aware UTC."""

    id: int
    day: date
    body: str
    created_at: datetime
    updated_at: datetime


def _info(entry: JournalEntry | Row) -> EntryInfo:
    # an ORM entry or a Core row of the same columns (attribute access on both)
    return EntryInfo(entry.id, entry.day, entry.body, entry.created_at, entry.updated_at)


def _check(body: str) -> str:
    if not body.strip():
        raise InvalidInputError("the entry is empty")
    return body


def add(db: Database, body: str, day: date, *, now: datetime | None = None) -> EntryInfo:
    """Add an entry to study day ``day``.

    Raises:
        InvalidInputError: if ``body`` is empty or only white space.
    """
    from studylog.storage.models import JournalEntry

    _check(body)
    moment = now or utcnow()
    with db.write() as session:
        entry = JournalEntry(day=day, body=body, created_at=moment, updated_at=moment)
        session.add(entry)
        session.flush()
        return _info(entry)


def edit(db: Database, entry_id: int, body: str, *, now: datetime | None = None) -> EntryInfo:
    """Replace an entry's text. Raises NotFoundError or InvalidInputError."""
    from studylog.storage.models import JournalEntry

    _check(body)
    with db.write() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is None:
            raise NotFoundError(f"no journal entry with id {entry_id}")
        entry.body = body
        entry.updated_at = now or utcnow()
        session.flush()
        return _info(entry)


def delete(db: Database, entry_id: int) -> None:
    """Delete an entry. Raises NotFoundError."""
    from studylog.storage.models import JournalEntry

    with db.write() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is None:
            raise NotFoundError(f"no journal entry with id {entry_id}")
        session.delete(entry)


def get(db: Database, entry_id: int) -> EntryInfo:
    """One entry. Raises NotFoundError."""
    from studylog.storage.models import JournalEntry

    with db.read() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is None:
            raise NotFoundError(f"no journal entry with id {entry_id}")
        return _info(entry)


def on_day(db: Database, day: date) -> list[EntryInfo]:
    """The entries of one study day, oldest first."""
    return between(db, day, day)


def between(db: Database, first: date, last: date) -> list[EntryInfo]:
    """The entries from study day ``first`` to ``last`` inclusive, by day then creation."""
    e = journal_entries.c
    with db.read_connection() as conn:
        rows = conn.execute(
            select(e.id, e.day, e.body, e.created_at, e.updated_at)
            .where(e.day >= first, e.day <= last)
            .order_by(e.day, e.created_at, e.id)
        )
        return [_info(row) for row in rows]


def days_with_entries(db: Database, first: date, last: date) -> dict[date, int]:
    """How many entries each study day in [first, last] has (days without any are left out)."""
    e = journal_entries.c
    with db.read_connection() as conn:
        rows = conn.execute(
            select(e.day, func.count(e.id)).where(e.day >= first, e.day <= last).group_by(e.day)
        )
        return {day: n for day, n in rows}
