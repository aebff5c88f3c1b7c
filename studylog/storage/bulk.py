"""Bulk reads and writes of the whole collection as NumPy arrays.

The whole-collection FSRS (:mod:`studylog.scheduling.batch`) works on arrays;
this module is the only place that turns rows into those arrays and back.
Times cross this boundary as ``int64`` epoch microseconds (UTC) with
:data:`~studylog.scheduling.batch.NO_TIME` for NULL, steps as ``-1`` for NULL,
stability/difficulty as NaN for NULL.

Everything runs on the session's own DB-API connection, inside the caller's
transaction: a million rows through the ORM would cost seconds in Python
objects alone.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from sqlalchemy.orm import Session

from studylog.scheduling.batch import DAY_US, NO_TIME, CardArrays, group_by_card
from studylog.scheduling.states import CardState

# The settings key of the statistics' per-day cache (studylog.services.stats): it
# holds aggregates of review rows, so whatever rewrites review rows drops it.
STATS_CACHE_KEY = "stats.daily_cache"


def raw_connection(session: Session) -> sqlite3.Connection:
    """The session's sqlite3 connection, inside the session's transaction (for bulk I/O)."""
    return session.connection().connection.driver_connection  # type: ignore[return-value]


def fetch_matrix(session: Session, sql: str, params: Sequence[object] = ()) -> np.ndarray:
    """Run ``sql`` and return its rows as a float64 matrix (n_rows, n_cols).

    Columns must be numbers (use COALESCE for NULLs). Epoch microseconds
    (~1.7e15) are below 2**53, so they survive float64 exactly.
    """
    cursor = raw_connection(session).execute(sql, tuple(params))
    n_cols = len(cursor.description)
    rows = cursor.fetchall()
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=len(rows) * n_cols)
    return flat.reshape(len(rows), n_cols)


def us_sql(column: str) -> str:
    """SQL for a ``UTCDateTime`` column as integer microseconds since the epoch.

    SQLAlchemy stores SQLite datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff`` text;
    whole seconds go through ``unixepoch`` and the six fraction digits are added
    as an integer, so the value is exact (``julianday`` keeps only milliseconds).
    NULL stays NULL.
    """
    return (
        f"(unixepoch(substr({column}, 1, 19)) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"
    )


def us_to_text(values: np.ndarray) -> list[str | None]:
    """Epoch µs as the text SQLAlchemy stores for a ``UTCDateTime`` (None for NO_TIME)."""
    values = np.asarray(values, dtype=np.int64)
    missing = values == NO_TIME
    text = np.datetime_as_string(np.where(missing, 0, values).astype("datetime64[us]"), unit="us")
    return [
        None if m else s.replace("T", " ")
        for s, m in zip(text.tolist(), missing.tolist(), strict=True)
    ]


def drop_stats_cache(session: Session) -> None:
    """Forget the statistics' per-day cache (after review rows were rewritten)."""
    raw_connection(session).execute("DELETE FROM settings WHERE key = ?", (STATS_CACHE_KEY,))


def _nullable_step(step: np.ndarray) -> list[int | None]:
    return [None if s < 0 else s for s in step.tolist()]


def _nullable_float(x: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in x.tolist()]


# --- reads ------------------------------------------------------------------------------


@dataclass
class Histories:
    """Review rows grouped by card, in (card, time, id) order (see ``batch.replay``).

    ``card_ids`` (n_cards,), ``offsets`` (n_cards + 1,), and per review
    (n_reviews,): ``review_ids``, ``ratings``, ``times_us``. ``initial_due_us``
    (n_cards,): each card's due before its first review (the first review's
    ``due_before``, else the card's due), and ``current_due_us`` (n_cards,): the
    card's due now; both only from :func:`load_replay_histories`, else None.
    """

    card_ids: np.ndarray
    offsets: np.ndarray
    review_ids: np.ndarray
    ratings: np.ndarray
    times_us: np.ndarray
    initial_due_us: np.ndarray | None = None
    current_due_us: np.ndarray | None = None


def _histories(m: np.ndarray) -> Histories:
    """Histories from rows (card id, review id, rating, time µs[, due before µs, card due µs])."""
    card_col = m[:, 0].astype(np.int64)
    starts, offsets = group_by_card(card_col)
    with_dues = m.shape[1] > 4
    return Histories(
        card_ids=card_col[starts],
        offsets=offsets,
        review_ids=m[:, 1].astype(np.int64),
        ratings=m[:, 2].astype(np.int64),
        times_us=m[:, 3].astype(np.int64),
        initial_due_us=m[starts, 4].astype(np.int64) if with_dues else None,
        current_due_us=m[starts, 5].astype(np.int64) if with_dues else None,
    )


def load_histories(session: Session) -> Histories:
    """All review rows, ordered by (card, time, id), as arrays."""
    return _histories(
        fetch_matrix(
            session,
            f"SELECT card_id, id, rating, {us_sql('reviewed_at')} FROM reviews "
            "ORDER BY card_id, reviewed_at, id",
        )
    )


def load_replay_histories(session: Session, card_ids: Iterable[int] | None = None) -> Histories:
    """The histories of ``card_ids`` (every card with reviews if None), with the due times.

    The ids go through a temporary table so any number of them costs one join.
    """
    raw = raw_connection(session)
    join = ""
    if card_ids is not None:
        raw.execute("CREATE TEMP TABLE IF NOT EXISTS replay_ids (id INTEGER PRIMARY KEY)")
        raw.execute("DELETE FROM replay_ids")
        raw.executemany("INSERT INTO replay_ids (id) VALUES (?)", [(int(i),) for i in card_ids])
        join = "JOIN replay_ids t ON t.id = r.card_id "
    m = fetch_matrix(
        session,
        f"SELECT r.card_id, r.id, r.rating, {us_sql('r.reviewed_at')}, "
        f"COALESCE({us_sql('r.due_before')}, {us_sql('c.due')}), {us_sql('c.due')} "
        f"FROM reviews r {join}JOIN cards c ON c.id = r.card_id "
        "ORDER BY r.card_id, r.reviewed_at, r.id",
    )
    if card_ids is not None:
        raw.execute("DELETE FROM replay_ids")
    return _histories(m)


@dataclass(frozen=True)
class MemoryStates:
    """Reviewed cards' memory: ``card_ids`` int64, ``stability`` float64 days,
    ``last_review_us`` int64 epoch µs, ``reps`` int64 and ``due_us`` int64, shape (n,)."""

    card_ids: np.ndarray
    stability: np.ndarray
    last_review_us: np.ndarray
    reps: np.ndarray
    due_us: np.ndarray


def load_memory_states(session: Session, *, review_only: bool = False) -> MemoryStates:
    """Every reviewed card (last review and stability known) ordered by id.

    ``review_only``: only cards in the Review state (those whose due comes from
    their stability).
    """
    where = f" AND state = {int(CardState.REVIEW)}" if review_only else ""
    m = fetch_matrix(
        session,
        f"SELECT id, stability, {us_sql('last_review')}, reps, {us_sql('due')} FROM cards "
        f"WHERE last_review IS NOT NULL AND stability IS NOT NULL{where} ORDER BY id",
    )
    return MemoryStates(
        card_ids=m[:, 0].astype(np.int64),
        stability=m[:, 1].copy(),
        last_review_us=m[:, 2].astype(np.int64),
        reps=m[:, 3].astype(np.int64),
        due_us=m[:, 4].astype(np.int64),
    )


# --- writes -----------------------------------------------------------------------------

_CARD_UPDATE = (
    "UPDATE cards SET state = ?, step = ?, stability = ?, difficulty = ?, due = ?, "
    "last_review = ?, reps = ?, lapses = ? WHERE id = ?"
)
_REVIEW_UPDATE = (
    "UPDATE reviews SET state_before = ?, step_before = ?, stability_before = ?, "
    "difficulty_before = ?, due_before = ?, last_review_before = ?, state_after = ?, "
    "step_after = ?, stability_after = ?, difficulty_after = ?, due_after = ?, "
    "interval_days = ? WHERE id = ?"
)


def write_dues(session: Session, card_ids: np.ndarray, due_us: np.ndarray) -> None:
    """Set the due time of each card (aligned int64 arrays, epoch µs)."""
    raw_connection(session).executemany(
        "UPDATE cards SET due = ? WHERE id = ?",
        zip(us_to_text(due_us), np.asarray(card_ids).tolist(), strict=True),
    )


def write_card_states(
    session: Session,
    card_ids: np.ndarray,
    cards: CardArrays,
    reps: np.ndarray,
    lapses: np.ndarray,
) -> None:
    """Write each card's FSRS state, reps and lapses (arrays aligned with ``card_ids``)."""
    raw_connection(session).executemany(
        _CARD_UPDATE,
        zip(
            cards.state.tolist(),
            _nullable_step(cards.step),
            cards.stability.tolist(),
            cards.difficulty.tolist(),
            us_to_text(cards.due),
            us_to_text(cards.last_review),
            reps.tolist(),
            lapses.tolist(),
            card_ids.tolist(),
            strict=True,
        ),
    )


def write_review_states(
    session: Session,
    review_ids: np.ndarray,
    times_us: np.ndarray,
    before: CardArrays,
    after: CardArrays,
) -> None:
    """Rewrite the derived columns of review rows: the state before and after each answer.

    The facts (card, rating, time, duration) are untouched; ``interval_days``
    becomes (due after - review time) in days. Arrays aligned with ``review_ids``.
    """
    interval = (after.due - times_us) / DAY_US
    raw_connection(session).executemany(
        _REVIEW_UPDATE,
        zip(
            before.state.tolist(),
            _nullable_step(before.step),
            _nullable_float(before.stability),
            _nullable_float(before.difficulty),
            us_to_text(before.due),
            us_to_text(before.last_review),
            after.state.tolist(),
            _nullable_step(after.step),
            after.stability.tolist(),
            after.difficulty.tolist(),
            us_to_text(after.due),
            interval.tolist(),
            review_ids.tolist(),
            strict=True,
        ),
    )
