"""Review cards due per study day, for the load balancer: one grouped query, cached per day.

:func:`day_load` counts the Review cards (not suspended) due on each of the
next :data:`~studylog.scheduling.load_balance.BALANCE_DAYS` study days with one
grouped query (quarter-hours of ``due_ms``, mapped onto the study days'
boundaries in NumPy, so day start hour, time zone and DST are exact). The
counts are kept per database and study day; after each answer the caller
moves the answered card from its old due day to its new one
(:func:`record_answer`), as Anki's load balancer does (``add_card`` /
``remove_card``), so the next answer of the same session sees it.

The cache is checked against the newest review row id (one cheap query): a
review added or removed elsewhere (another process, an undo, an import) makes
the next call count again. Writes that move due dates without a review row
(a reschedule, set-due-date) call :func:`forget`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock

import numpy as np
from sqlalchemy.orm import Session

from studylog.scheduling.load_balance import BALANCE_DAYS, DayLoad, EasyDay
from studylog.scheduling.states import CardState
from studylog.storage.bulk import raw_connection
from studylog.studyday import StudyCalendar

QUARTER_HOUR_MS = 900_000


@dataclass
class _Entry:
    load: DayLoad
    last_review_id: int
    boundaries_ms: np.ndarray  # start of today + i, shape (BALANCE_DAYS + 1,)


_cache: dict[str, _Entry] = {}
_lock = Lock()


def _key(session: Session) -> str:
    return str(session.get_bind().url)


def _last_review_id(session: Session) -> int:
    row = session.connection().exec_driver_sql("SELECT max(id) FROM reviews").first()
    return int(row[0]) if row is not None and row[0] is not None else 0


def _boundaries(calendar: StudyCalendar, today: date) -> np.ndarray:
    starts = [calendar.start_of(today + timedelta(days=i)) for i in range(BALANCE_DAYS + 1)]
    return np.array([int(s.timestamp() * 1000) for s in starts], dtype=np.int64)


def count_due(session: Session, boundaries_ms: np.ndarray) -> np.ndarray:
    """Review cards due in each [boundaries[i], boundaries[i+1]) (int64, shape (len - 1,)).

    One query grouped by quarter-hour of ``due_ms`` (every zone's day start is
    a whole quarter-hour), then the quarters are put into days.
    """
    sql = (
        "SELECT due_ms / ? AS q, count(*) FROM cards "
        "WHERE NOT suspended AND state = ? AND due_ms >= ? AND due_ms < ? GROUP BY q"
    )
    rows = (
        raw_connection(session)
        .execute(
            sql,
            (
                QUARTER_HOUR_MS,
                int(CardState.REVIEW),
                int(boundaries_ms[0]),
                int(boundaries_ms[-1]),
            ),
        )
        .fetchall()
    )
    days = boundaries_ms.size - 1
    if not rows:
        return np.zeros(days, dtype=np.int64)
    m = np.array(rows, dtype=np.int64)
    slot = np.searchsorted(boundaries_ms, m[:, 0] * QUARTER_HOUR_MS, side="right") - 1
    return np.bincount(np.clip(slot, 0, days - 1), weights=m[:, 1], minlength=days).astype(np.int64)


def day_load(
    session: Session,
    calendar: StudyCalendar,
    now: datetime,
    easy_days: tuple[EasyDay, ...] = (EasyDay.NORMAL,) * 7,
) -> DayLoad:
    """The due counts from ``now``'s study day on (cached; see the module docstring)."""
    today = calendar.day_of(now)
    key = _key(session)
    last = _last_review_id(session)
    with _lock:
        entry = _cache.get(key)
        if entry is not None and entry.load.today == today and entry.last_review_id == last:
            entry.load.easy_days = easy_days
            return entry.load
    bounds = _boundaries(calendar, today)
    load = DayLoad(today, count_due(session, bounds), easy_days)
    with _lock:
        _cache[key] = _Entry(load, last, bounds)
    return load


def _day_index(entry: _Entry, due_ms: int | None) -> int | None:
    if due_ms is None:
        return None
    return int(np.searchsorted(entry.boundaries_ms, due_ms, side="right")) - 1


def record_answer(
    session: Session,
    review_id: int,
    *,
    old_due_ms: int | None,
    old_review: bool,
    new_due_ms: int | None,
    new_review: bool,
) -> None:
    """Move the answered card in the cached counts (a no-op when nothing is cached).

    ``old_review`` / ``new_review``: the card was / is a Review card (only those
    are counted). ``review_id``: the review row just written, so the cache stays
    valid for the next answer.
    """
    key = _key(session)
    with _lock:
        entry = _cache.get(key)
        if entry is None:
            return
        entry.load.move(
            _day_index(entry, old_due_ms) if old_review else None,
            _day_index(entry, new_due_ms) if new_review else None,
        )
        entry.last_review_id = max(entry.last_review_id, review_id)


def forget(session: Session | None = None) -> None:
    """Drop the cached counts (of ``session``'s database, or all)."""
    with _lock:
        if session is None:
            _cache.clear()
        else:
            _cache.pop(_key(session), None)


__all__ = ["count_due", "day_load", "forget", "record_answer"]
