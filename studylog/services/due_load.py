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
(a reschedule, set-due-date, forget) call :func:`forget`.

A study session (:class:`studylog.services.review.ReviewSession`) keeps its
own :class:`CountedLoad` instead (:func:`count_load`): counted once per study
day, moved after each of its answers and undos, counted again only when
``PRAGMA data_version`` says another connection wrote; so an answer costs no
extra query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock

import numpy as np
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from studylog.scheduling.load_balance import BALANCE_DAYS, DayLoad, EasyDay
from studylog.scheduling.states import CardState
from studylog.studyday import StudyCalendar, ensure_utc

QUARTER_HOUR_MS = 900_000


@dataclass
class CountedLoad:
    """A :class:`DayLoad` and the study days' boundaries it was counted on.

    Attributes:
        load: the counts from ``load.today`` on.
        boundaries_ms: int64 epoch ms of the start of ``today + i``, shape (BALANCE_DAYS + 1,).
    """

    load: DayLoad
    boundaries_ms: np.ndarray

    def day_index(self, due_ms: int | None) -> int | None:
        """The study day offset (0 = today) of a due time in epoch ms, None for None."""
        if due_ms is None:
            return None
        return int(np.searchsorted(self.boundaries_ms, due_ms, side="right")) - 1

    def moved(
        self, old_due: datetime | None, old_review: bool, new_due: datetime | None, new_review: bool
    ) -> None:
        """A card's due moved (``*_review``: it was / is a Review card, the only ones counted)."""
        self.load.move(
            self.day_index(_ms(old_due)) if old_review else None,
            self.day_index(_ms(new_due)) if new_review else None,
        )


@dataclass
class _Entry:
    counted: CountedLoad
    last_review_id: int

    @property
    def load(self) -> DayLoad:
        return self.counted.load


_cache: dict[str, _Entry] = {}
_lock = Lock()


def _conn(session: Session | Connection) -> Connection:
    return session if isinstance(session, Connection) else session.connection()


def _key(session: Session | Connection) -> str:
    return str(_conn(session).engine.url)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(ensure_utc(moment).timestamp() * 1000)


def _last_review_id(session: Session | Connection) -> int:
    row = _conn(session).exec_driver_sql("SELECT max(id) FROM reviews").first()
    return int(row[0]) if row is not None and row[0] is not None else 0


def day_starts_ms(calendar: StudyCalendar, today: date) -> np.ndarray:
    """The starts of ``today`` and the next :data:`BALANCE_DAYS` study days, epoch ms
    (int64, shape (BALANCE_DAYS + 1,)): the day boundaries the counts use."""
    starts = [calendar.start_of(today + timedelta(days=i)) for i in range(BALANCE_DAYS + 1)]
    return np.array([int(s.timestamp() * 1000) for s in starts], dtype=np.int64)


def count_due(session: Session | Connection, boundaries_ms: np.ndarray) -> np.ndarray:
    """Review cards due in each [boundaries[i], boundaries[i+1]) (int64, shape (len - 1,)).

    One query grouped by quarter-hour (every zone's day start is a whole
    quarter-hour), then the quarters are put into days in NumPy. On SQLite the
    query reads only the covering index ``ix_cards_deck`` (deck, suspended,
    state, last_review, due, buried_until): the quarter comes from the ``due``
    text, so no table row is read (``due_ms`` sits after the cards' text in
    each row, behind any overflow pages). PostgreSQL groups ``due_ms``.
    """
    conn = _conn(session)
    days = boundaries_ms.size - 1
    lo, hi = int(boundaries_ms[0]), int(boundaries_ms[-1])
    if conn.dialect.name == "sqlite":
        quarters_ms = _sqlite_quarters(conn, lo, hi)
    else:
        quarters_ms = _quarters(conn, lo, hi)
    if quarters_ms is None:
        return np.zeros(days, dtype=np.int64)
    start_ms, counts = quarters_ms
    slot = np.searchsorted(boundaries_ms, start_ms, side="right") - 1
    return np.bincount(np.clip(slot, 0, days - 1), weights=counts, minlength=days).astype(np.int64)


def count_due_times(due_ms: np.ndarray, boundaries_ms: np.ndarray) -> np.ndarray:
    """:func:`count_due` of due times already in memory: how many of ``due_ms`` (int64
    epoch ms of the Review cards that are not suspended) fall in each
    [boundaries[i], boundaries[i+1]) (int64, shape (len - 1,))."""
    days = boundaries_ms.size - 1
    inside = due_ms[(due_ms >= boundaries_ms[0]) & (due_ms < boundaries_ms[-1])]
    slot = np.searchsorted(boundaries_ms, inside, side="right") - 1
    return np.bincount(slot, minlength=days).astype(np.int64)


def _quarters(conn: Connection, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(start ms, count) of each quarter-hour with Review cards due in [lo, hi) ms."""
    rows = conn.execute(
        text(
            "SELECT due_ms / :quarter AS q, count(*) FROM cards "
            "WHERE NOT suspended AND state = :state AND due_ms >= :lo AND due_ms < :hi GROUP BY q"
        ),
        {"quarter": QUARTER_HOUR_MS, "state": int(CardState.REVIEW), "lo": lo, "hi": hi},
    ).fetchall()
    if not rows:
        return None
    m = np.array([tuple(r) for r in rows], dtype=np.int64)
    return m[:, 0] * QUARTER_HOUR_MS, m[:, 1]


def _sqlite_quarters(conn: Connection, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_quarters` from the covering index: ``due`` is the text SQLAlchemy stores
    (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), which sorts as the time does."""
    bounds = np.array([lo, hi], dtype="datetime64[ms]")
    lo_text, hi_text = (str(t).replace("T", " ") for t in bounds.astype("datetime64[us]"))
    rows = conn.connection.driver_connection.execute(
        "SELECT substr(due, 1, 13) AS hour, CAST(substr(due, 15, 2) AS INTEGER) / 15 AS q, "
        "count(*) FROM cards INDEXED BY ix_cards_deck "
        "WHERE suspended = 0 AND state = ? AND due >= ? AND due < ? GROUP BY hour, q",
        (int(CardState.REVIEW), lo_text, hi_text),
    ).fetchall()
    if not rows:
        return None
    hours = np.array([h.replace(" ", "T") for h, _, _ in rows], dtype="datetime64[h]")
    quarters = np.array([q for _, q, _ in rows], dtype=np.int64)
    start_ms = hours.astype("datetime64[ms]").astype(np.int64) + quarters * QUARTER_HOUR_MS
    return start_ms, np.array([n for _, _, n in rows], dtype=np.int64)


def count_load(
    session: Session | Connection,
    calendar: StudyCalendar,
    now: datetime,
    easy_days: tuple[EasyDay, ...] = (EasyDay.NORMAL,) * 7,
) -> CountedLoad:
    """The due counts from ``now``'s study day on, counted now (one grouped query; no cache)."""
    today = calendar.day_of(now)
    bounds = day_starts_ms(calendar, today)
    return CountedLoad(DayLoad(today, count_due(session, bounds), easy_days), bounds)


def day_load(
    session: Session | Connection,
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
    counted = count_load(session, calendar, now, easy_days)
    with _lock:
        _cache[key] = _Entry(counted, last)
    return counted.load


def record_answer(
    session: Session | Connection,
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
            entry.counted.day_index(old_due_ms) if old_review else None,
            entry.counted.day_index(new_due_ms) if new_review else None,
        )
        entry.last_review_id = max(entry.last_review_id, review_id)


def forget(session: Session | Connection | None = None) -> None:
    """Drop the cached counts (of ``session``'s database, or all)."""
    with _lock:
        if session is None:
            _cache.clear()
        else:
            _cache.pop(_key(session), None)


__all__ = ["CountedLoad", "count_due", "count_load", "day_load", "forget", "record_answer"]
