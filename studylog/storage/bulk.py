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

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
from sqlalchemy.orm import Session

from studylog.scheduling.batch import DAY_US, NO_TIME, CardArrays, group_by_card
from studylog.scheduling.states import CardState
from studylog.storage.bulk_insert import (  # noqa: F401 - the bulk API, re-exported
    STATS_CACHE_KEY,
    date_param,
    drop_stats_cache,
    insert_rows,
    is_postgres,
    raw_connection,
)
from studylog.storage.columns import (  # noqa: F401 - the bulk API, re-exported
    fetch_columns,
    fetch_matrix,
    scan_reviews,
)


def ms_to_text(values_ms: np.ndarray) -> list[str | None]:
    """Epoch ms (int64, :data:`NO_TIME` for NULL) as the text SQLAlchemy stores for a
    ``UTCDateTime`` (``YYYY-MM-DD HH:MM:SS.ffffff``).

    Vectorised: the digits are computed as NumPy arrays into one ASCII buffer
    (:func:`_ascii_times`), so a million times cost about 0.2 s instead of a
    second of per-item Python; times outside years 1970-9999 go through
    ``np.datetime_as_string``. A test compares both with ``datetime``.
    """
    values = np.asarray(values_ms, dtype=np.int64)
    missing = values == NO_TIME
    present = np.where(missing, 0, values)
    if present.size and (present.min() < 0 or present.max() >= _YEAR_10000_MS):
        text = np.char.replace(
            np.datetime_as_string(present.astype("datetime64[ms]").astype("datetime64[us]")),
            "T",
            " ",
        )
    else:
        text = _ascii_times(present).astype("U26")
    out = text.astype(object)
    out[missing] = None
    return out.tolist()


_YEAR_10000_MS = 253402300800000  # 10000-01-01T00:00:00Z in epoch ms


def ms_to_iso(values_ms: np.ndarray) -> list[str | None]:
    """Epoch ms (int64, :data:`NO_TIME` for NULL) as ``datetime.isoformat()`` of the aware
    UTC datetime: ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, without the fraction when it is
    zero (as ``isoformat`` leaves it out). Vectorised like :func:`ms_to_text`; years
    1970-9999 only.

    Raises:
        ValueError: a time outside years 1970-9999.
    """
    values = np.asarray(values_ms, dtype=np.int64)
    missing = values == NO_TIME
    present = np.where(missing, 0, values)
    if present.size and (present.min() < 0 or present.max() >= _YEAR_10000_MS):
        raise ValueError("a time outside years 1970-9999")
    text = _ascii_times(present).view(np.uint8).reshape(-1, 26)
    # One line per time in one ASCII buffer, split once by Python (NumPy's own
    # bytes -> str casts cost five times as much for a million times).
    out = np.empty((present.size, 33), dtype=np.uint8)
    out[:, :26] = text
    out[:, 10] = ord("T")
    out[:, 26:32] = np.frombuffer(b"+00:00", dtype=np.uint8)
    out[:, 32] = ord("\n")
    whole = present % 1000 == 0
    out[whole, 19:25] = out[whole, 26:32]  # no fraction: the zone right after the seconds
    out[whole, 25:32] = 0  # dropped below
    strings: list[str | None] = (
        out.tobytes().decode("ascii").replace("\0", "").split("\n")[:-1]  # type: ignore[assignment]
    )
    for i in np.flatnonzero(missing).tolist():
        strings[i] = None
    return strings


def _ascii_times(ms: np.ndarray) -> np.ndarray:
    """Epoch ms in [0, year 10000) as ``S26`` bytes ``YYYY-MM-DD HH:MM:SS.fff000`` (UTC).

    The calendar fields come from NumPy's datetime64 casts, the digits from
    repeated ``divmod`` by 10, written into a (26, n) buffer: a few dozen
    vector operations instead of a ``strftime`` per time.
    """
    day_number = ms // 86_400_000
    days = day_number.astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    in_day = (ms - day_number * 86_400_000).astype(np.int32)
    fields = (
        (years.astype(np.int32) + 1970, 4),
        ((months - years.astype("datetime64[M]")).astype(np.int32) + 1, 2),
        ((days - months.astype("datetime64[D]")).astype(np.int32) + 1, 2),
        (in_day // 3_600_000, 2),
        (in_day // 60_000 % 60, 2),
        (in_day // 1000 % 60, 2),
        (in_day % 1000, 3),
    )
    out = np.empty((26, ms.size), dtype=np.uint8)
    out[[4, 7]] = ord("-")
    out[10] = ord(" ")
    out[[13, 16]] = ord(":")
    out[19] = ord(".")
    out[23:] = ord("0")
    column = 0
    for value, width in fields:
        for k in range(width - 1, -1, -1):
            value, digit = np.divmod(value, 10)
            out[column + k] = digit + ord("0")
        column += width + 1
    return np.ascontiguousarray(out.T).view("S26").reshape(-1)


def _ms_of_us(values_us: np.ndarray) -> np.ndarray:
    """Epoch µs (batch math) floored to epoch ms; :data:`NO_TIME` stays."""
    values = np.asarray(values_us, dtype=np.int64)
    return np.where(values == NO_TIME, NO_TIME, values // 1000)


def _us_of_ms(column: np.ndarray) -> np.ndarray:
    """A float64 column of epoch ms (never NULL: COALESCE first) as int64 epoch µs."""
    return column.astype(np.int64) * 1000


def _times(values_us: np.ndarray) -> tuple[list[str | None], list[int | None]]:
    """(text, twin) column values for times given in µs, both to the millisecond."""
    ms = _ms_of_us(values_us)
    return ms_to_text(ms), _nullable_ms(ms)


def _nullable_step(step: np.ndarray) -> list[int | None]:
    """Steps (int64, -1 for NULL) as column values."""
    out = step.astype(object)
    out[step < 0] = None
    return out.tolist()


def _nullable_float(x: np.ndarray) -> list[float | None]:
    """Floats (NaN for NULL) as column values."""
    out = x.astype(object)
    out[np.isnan(x)] = None
    return out.tolist()


# --- the state and step columns of review rows, packed ---------------------------------

_CODE = 64  # steps are far below this (a handful of learning steps); small codes print fast
_STATE_CODE_SQL = (
    f"((CAST(r.state_before AS BIGINT) * {_CODE} + COALESCE(r.step_before, -1) + 1) * 4 + r.state_after) "
    f"* {_CODE} + COALESCE(r.step_after, -1) + 1"
)


def state_codes(before: CardArrays, after: CardArrays) -> np.ndarray:
    """State and step before and after each review packed in one int64 (as :data:`_STATE_CODE_SQL`).

    Raises:
        ValueError: a step index of 63 or more (it would not fit).
    """
    if before.step.size and max(int(before.step.max()), int(after.step.max())) >= _CODE - 1:
        raise ValueError("a learning step index too large to pack")
    code = before.state.astype(np.int64) * _CODE + before.step + 1
    code = code * 4 + after.state
    return code * _CODE + after.step + 1


def write_state_codes(session: Session, review_ids: np.ndarray, codes: np.ndarray) -> None:
    """Set state and step before and after of review rows from :func:`state_codes`' packing."""
    codes = np.asarray(codes, dtype=np.int64)
    step_after = codes % _CODE - 1
    rest = codes // _CODE
    state_after = rest % 4
    rest //= 4
    step_before = rest % _CODE - 1
    state_before = rest // _CODE
    raw_connection(session).executemany(
        "UPDATE reviews SET state_before = ?, step_before = ?, state_after = ?, step_after = ? "
        "WHERE id = ?",
        zip(
            state_before.tolist(),
            _nullable_step(step_before),
            state_after.tolist(),
            _nullable_step(step_after),
            np.asarray(review_ids, dtype=np.int64).tolist(),
            strict=True,
        ),
    )


# --- reads ------------------------------------------------------------------------------


@dataclass
class Histories:
    """Review rows grouped by card, in (card, time, id) order (see ``batch.replay``).

    ``card_ids`` (n_cards,), ``offsets`` (n_cards + 1,), and per review
    (n_reviews,): ``review_ids``, ``ratings``, ``times_us``. ``initial_due_us``
    (n_cards,): each card's due before its first review (the first review's
    ``due_before``, else the card's due), and ``current_due_us`` (n_cards,): the
    card's due now; both only from :func:`load_replay_histories`, else None.
    ``state_codes`` (n_reviews,): the stored state and step before and after
    (:func:`state_codes`), when asked for.
    """

    card_ids: np.ndarray
    offsets: np.ndarray
    review_ids: np.ndarray
    ratings: np.ndarray
    times_us: np.ndarray
    initial_due_us: np.ndarray | None = None
    current_due_us: np.ndarray | None = None
    state_codes: np.ndarray | None = None


def _histories(m: np.ndarray) -> Histories:
    """Histories from rows (card id, review id, rating, time ms[, due before ms, card due ms])."""
    card_col = m[:, 0].astype(np.int64)
    starts, offsets = group_by_card(card_col)
    with_dues = m.shape[1] > 4
    return Histories(
        card_ids=card_col[starts],
        offsets=offsets,
        review_ids=m[:, 1].astype(np.int64),
        ratings=m[:, 2].astype(np.int64),
        times_us=_us_of_ms(m[:, 3]),
        initial_due_us=_us_of_ms(m[starts, 4]) if with_dues else None,
        current_due_us=_us_of_ms(m[starts, 5]) if with_dues else None,
    )


def load_histories(session: Session) -> Histories:
    """All review rows, ordered by (card, time, id), as arrays: deleted cards' too (the
    benchmarks' raw read; the replay reads :func:`load_replay_histories`, which joins
    ``cards``)."""
    return _histories(
        fetch_matrix(
            session,
            # the (card_id, reviewed_at) index gives the order; the twin gives the number
            "SELECT card_id, id, rating, reviewed_at_ms FROM reviews "
            "ORDER BY card_id, reviewed_at, id",
        )
    )


def load_replay_histories(
    session: Session,
    card_ids: Iterable[int] | None = None,
    *,
    with_state_codes: bool = False,
    current: CardSnapshot | None = None,
) -> Histories:
    """The histories of ``card_ids`` (every card with reviews if None), with the due times.

    Ordered by (card, time in ms, id). ``with_state_codes``: also each row's
    stored state and step before and after, packed by :func:`state_codes`
    (``Histories.state_codes``). ``current``: every card as stored now, read in
    this transaction (:func:`load_card_snapshot`), so the whole collection's
    read does not read the cards again.
    """
    # The state codes ride in the rating's column (rating + 8 * code): one more column
    # would cost another group_concat over a million rows.
    rating_sql = f"r.rating + 8 * ({_STATE_CODE_SQL})" if with_state_codes else "r.rating"
    if card_ids is None:
        card_col, review_ids, ratings, times_ms, initial_ms, due_ms = _scan_histories(
            session, rating_sql, current
        )
    else:
        card_col, review_ids, ratings, times_ms, initial_ms, due_ms = _seek_histories(
            session, card_ids, rating_sql
        )
    starts, offsets = group_by_card(card_col)
    codes = None
    if with_state_codes:
        codes, ratings = ratings // 8, ratings % 8
    return Histories(
        state_codes=codes,
        card_ids=card_col[starts],
        offsets=offsets,
        review_ids=review_ids,
        ratings=ratings,
        times_us=times_ms * 1000,
        initial_due_us=initial_ms[starts] * 1000,
        current_due_us=due_ms[starts] * 1000,
    )


_NO_DUE_MS = -(2**62)
"""``due_before_ms`` NULL in :func:`_scan_histories`' read (no real time is near it)."""


def _scan_histories(
    session: Session, rating_sql: str, current: CardSnapshot | None
) -> list[np.ndarray]:
    """Every existing card's reviews in (card, time, id) order (:func:`scan_reviews`).

    Returns (card id, review id, rating column, time ms, due before ms or the
    card's due, the card's due ms), aligned int64 arrays.
    """
    cards = None if current is None else [current.card_ids, _ms_of_us(current.cards.due)]
    scan = scan_reviews(
        session,
        [(rating_sql, np.int64), (f"COALESCE(r.due_before_ms, {_NO_DUE_MS})", np.int64)],
        [("c.due_ms", np.int64)],
        cards=cards,
    )
    ratings, before = scan.columns
    card_due = scan.cards[1][scan.card_index]
    initial = np.where(before == _NO_DUE_MS, card_due, before)
    return [scan.card_ids, scan.review_ids, ratings, scan.times_ms, initial, card_due]


def _seek_histories(session: Session, card_ids: Iterable[int], rating_sql: str) -> list[np.ndarray]:
    """The reviews of ``card_ids``, as :func:`_scan_histories`, each card's sought in its index.

    The ids go through a temporary table so any number of them costs one join.
    """
    raw = raw_connection(session)
    raw.execute("CREATE TEMP TABLE IF NOT EXISTS replay_ids (id INTEGER PRIMARY KEY)")
    raw.execute("DELETE FROM replay_ids")
    raw.executemany("INSERT INTO replay_ids (id) VALUES (?)", [(int(i),) for i in card_ids])
    source = (
        "FROM reviews r JOIN replay_ids t ON t.id = r.card_id JOIN cards c ON c.id = r.card_id "
        if is_postgres(session)
        # CROSS JOIN fixes SQLite's loop order: each card's reviews are sought in
        # ix_reviews_card_time; with JOIN it scanned that whole index (1,000,000
        # entries: 50 ms for one card's card info)
        else "FROM replay_ids t CROSS JOIN reviews r ON r.card_id = t.id "
        "CROSS JOIN cards c ON c.id = r.card_id "
    )
    # One text per column (fetch_columns): a million rows without a Python tuple each.
    columns = fetch_columns(
        session,
        [
            ("r.card_id", np.int64),
            ("r.id", np.int64),
            (rating_sql, np.int64),
            ("r.reviewed_at_ms", np.int64),
            ("COALESCE(r.due_before_ms, c.due_ms)", np.int64),
            ("c.due_ms", np.int64),
        ],
        f"{source}ORDER BY r.card_id, r.reviewed_at_ms, r.id",
    )
    raw.execute("DELETE FROM replay_ids")
    return columns


@dataclass(frozen=True)
class MemoryStates:
    """Reviewed cards' memory: ``card_ids`` int64, ``stability`` float64 days,
    ``last_review_us`` int64 epoch µs, ``reps`` int64 and ``due_us`` int64, shape (n,)."""

    card_ids: np.ndarray
    stability: np.ndarray
    last_review_us: np.ndarray
    reps: np.ndarray
    due_us: np.ndarray


def suspended_card_ids(session: Session) -> np.ndarray:
    """The ids of the suspended cards (int64, ascending)."""
    (ids,) = fetch_columns(session, [("id", np.int64)], "FROM cards WHERE suspended ORDER BY id")
    return ids


def load_memory_states(session: Session, *, review_only: bool = False) -> MemoryStates:
    """Every reviewed card (last review and stability known) ordered by id.

    ``review_only``: only cards in the Review state (those whose due comes from
    their stability).
    """
    where = f" AND state = {int(CardState.REVIEW)}" if review_only else ""
    m = fetch_matrix(
        session,
        "SELECT id, stability, last_review_ms, reps, due_ms FROM cards "
        f"WHERE last_review_ms IS NOT NULL AND stability IS NOT NULL{where} ORDER BY id",
    )
    return MemoryStates(
        card_ids=m[:, 0].astype(np.int64),
        stability=m[:, 1].copy(),
        last_review_us=_us_of_ms(m[:, 2]),
        reps=m[:, 3].astype(np.int64),
        due_us=_us_of_ms(m[:, 4]),
    )


def snapshot_memory_states(snapshot: CardSnapshot, *, review_only: bool = False) -> MemoryStates:
    """:func:`load_memory_states` of cards already read (:func:`load_card_snapshot`),
    without a query: the same rows, the same values."""
    c = snapshot.cards
    keep = (c.last_review != NO_TIME) & ~np.isnan(c.stability)
    if review_only:
        keep &= c.state == int(CardState.REVIEW)
    every = MemoryStates(snapshot.card_ids, c.stability, c.last_review, snapshot.reps, c.due)
    return _rows_of(every, keep)


def memory_states_of(states: MemoryStates, card_ids: np.ndarray) -> MemoryStates:
    """The rows of ``states`` whose card id is in ``card_ids`` (int64, any order), in id order."""
    return _rows_of(states, np.isin(states.card_ids, card_ids))


def _rows_of(states: MemoryStates, keep: np.ndarray) -> MemoryStates:
    """The rows of ``states`` where the bool mask ``keep`` is True."""
    return MemoryStates(*(getattr(states, f.name)[keep] for f in fields(MemoryStates)))


# --- writes -----------------------------------------------------------------------------

_CARD_GROUPS = (
    ("state",),
    ("step",),
    ("stability",),
    ("difficulty",),
    ("due", "due_ms"),
    ("last_review", "last_review_ms"),
    ("reps",),
    ("lapses",),
)
"""The scheduling columns of a card that :func:`write_card_states` writes, a time's
text and its millisecond twin together."""
# The derived columns of a review row, in the order of write_review_states' parameters.
_REVIEW_DERIVED = (
    "state_before",
    "step_before",
    "stability_before",
    "difficulty_before",
    "due_before",
    "due_before_ms",
    "last_review_before",
    "last_review_before_ms",
    "state_after",
    "step_after",
    "stability_after",
    "difficulty_after",
    "due_after",
    "interval_days",
)
_REVIEW_UPDATE = f"UPDATE reviews SET {', '.join(f'{c} = ?' for c in _REVIEW_DERIVED)} WHERE id = ?"
# SQLite: the same with numbered parameters, and only where a value differs, so a row
# whose state the replay leaves as it was is not written again (no page, no WAL frame).
# The texts of the times are compared last: their integer twins and interval_days
# settle almost every row before them.
_REVIEW_UPDATE_CHANGED = (
    "UPDATE reviews SET "
    + ", ".join(f"{c} = ?{i}" for i, c in enumerate(_REVIEW_DERIVED, 1))
    + f" WHERE id = ?{len(_REVIEW_DERIVED) + 1} AND ("
    + " OR ".join(
        f"{c} IS NOT ?{i}"
        for i, c in sorted(
            enumerate(_REVIEW_DERIVED, 1), key=lambda ic: ic[1] in ("due_before", "due_after")
        )
        if c != "last_review_before"  # its twin last_review_before_ms is compared
    )
    + ")"
)


REBUILD_INDEXES_FROM = 20_000
"""Rows of ``cards`` updated at once from which its indexes are dropped and built again."""


@contextmanager
def card_indexes_rebuilt(
    session: Session, rows: int, columns: Iterable[str] | None = None
) -> Iterator[None]:
    """Drop the indexes of ``cards`` around a bulk update of ``rows`` rows, then build them again.

    ``columns``: the columns the update writes; only the indexes that name one
    of them are dropped (the others do not move: building ``ix_cards_external_id``
    and ``ix_cards_concept_id`` again for a reschedule was 0.1 s of 100,000
    cards for nothing). None: every index.

    Updating the due and last-review columns of most cards one by one moves
    every card's entries in the queue indexes (``ix_cards_due``,
    ``ix_cards_deck``): about 20 µs a row. Building the indexes again after
    the update costs a third of that (measured on 100,000 cards:
    ``benchmarks/bench_reschedule.py``). Inside the caller's transaction, so
    a failure rolls the indexes back with the rows; below
    :data:`REBUILD_INDEXES_FROM` rows nothing is dropped.
    """
    if rows < REBUILD_INDEXES_FROM or is_postgres(session):
        yield
        return
    raw = raw_connection(session)
    found = raw.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = 'cards' AND sql IS NOT NULL"
    ).fetchall()
    if columns is not None:
        names = "|".join(re.escape(c) for c in columns)
        pattern = re.compile(rf"\b({names})\b", re.IGNORECASE)
        found = [(name, sql) for name, sql in found if pattern.search(sql.split("(", 1)[1])]
    found = [(name, sql) for name, sql in found if not _small_partial(raw, sql)]
    for name, _ in found:
        raw.execute(f'DROP INDEX "{name}"')
    yield
    for _, sql in found:
        raw.execute(sql)


def _small_partial(raw: Any, sql: str) -> bool:
    """Whether ``sql`` creates a partial index holding fewer than
    :data:`REBUILD_INDEXES_FROM` rows (``ix_cards_no_text``: the cards without
    text). Updating its few entries in place is cheaper than building it again,
    which scans the whole table (20 ms of 100,000 cards)."""
    match = re.search(r"\)\s+WHERE\s+(.+)$", sql, re.IGNORECASE | re.DOTALL)
    if match is None:
        return False
    (count,) = raw.execute(f"SELECT count(*) FROM cards WHERE {match.group(1)}").fetchone()
    return int(count) < REBUILD_INDEXES_FROM


def write_dues(session: Session, card_ids: np.ndarray, due_us: np.ndarray) -> None:
    """Set the due time of each card (aligned int64 arrays, epoch µs; stored to the ms)."""
    text, twin = _times(due_us)
    with card_indexes_rebuilt(session, len(text), ("due", "due_ms")):
        raw_connection(session).executemany(
            "UPDATE cards SET due = ?, due_ms = ? WHERE id = ?",
            zip(text, twin, np.asarray(card_ids).tolist(), strict=True),
        )


def write_card_states(
    session: Session,
    card_ids: np.ndarray,
    cards: CardArrays,
    reps: np.ndarray,
    lapses: np.ndarray,
    *,
    current: CardSnapshot | None = None,
) -> None:
    """Write each card's FSRS state, reps and lapses (arrays aligned with ``card_ids``).

    ``current``: the cards as stored now (:func:`load_card_snapshot`, read in
    this transaction). Then only the cards where a column differs are written,
    and only the columns that differ in one of them: after new parameters the
    replay changes stability, difficulty and due but leaves state, step, last
    review, reps and lapses alone, so those are neither bound nor written, and
    the indexes that name only them are not rebuilt (100,000 cards: 0.9 ->
    0.6 s). Times are compared at the stored millisecond. Cards missing
    from ``current`` are written whole.
    """
    card_ids = np.asarray(card_ids, dtype=np.int64)
    values = _card_columns(cards, reps, lapses)
    rows = np.ones(card_ids.size, dtype=bool)
    groups = _CARD_GROUPS
    if current is not None and current.card_ids.size and card_ids.size:
        at = np.minimum(np.searchsorted(current.card_ids, card_ids), current.card_ids.size - 1)
        unknown = current.card_ids[at] != card_ids
        before = _card_columns(current.cards, current.reps, current.lapses)
        differs = {name: _differ(new, before[name][at]) | unknown for name, new in values.items()}
        rows = np.logical_or.reduce(list(differs.values()))
        groups = tuple(g for g in _CARD_GROUPS if differs[g[0]][rows].any())
    if not rows.any() or not groups:
        return
    columns: list[list[Any]] = []
    for group in groups:
        column = values[group[0]][rows]
        if group[0] in ("due", "last_review"):
            columns.extend([ms_to_text(column), _nullable_ms(column)])
        elif group[0] == "step":
            columns.append(_nullable_step(column))
        elif column.dtype.kind == "f":
            columns.append(_nullable_float(column))
        else:
            columns.append(column.tolist())
    names = [name for group in groups for name in group]
    sql = f"UPDATE cards SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?"
    with card_indexes_rebuilt(session, int(rows.sum()), names):
        raw_connection(session).executemany(
            sql, zip(*columns, card_ids[rows].tolist(), strict=True)
        )


def _card_columns(cards: CardArrays, reps: np.ndarray, lapses: np.ndarray) -> dict[str, np.ndarray]:
    """The values :func:`write_card_states` compares and writes, by the first column of
    each :data:`_CARD_GROUPS` entry (times as the stored epoch ms)."""
    return {
        "state": np.asarray(cards.state, dtype=np.int64),
        "step": np.asarray(cards.step, dtype=np.int64),
        "stability": np.asarray(cards.stability, dtype=np.float64),
        "difficulty": np.asarray(cards.difficulty, dtype=np.float64),
        "due": _ms_of_us(cards.due),
        "last_review": _ms_of_us(cards.last_review),
        "reps": np.asarray(reps, dtype=np.int64),
        "lapses": np.asarray(lapses, dtype=np.int64),
    }


def _differ(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Element-wise "not the same value" (two NaNs, two NULLs, are the same)."""
    if new.dtype.kind == "f":
        return ~((new == old) | (np.isnan(new) & np.isnan(old)))
    return new != old


def _nullable_ms(ms: np.ndarray) -> list[int | None]:
    """Epoch ms (int64, :data:`NO_TIME` for NULL) as column values."""
    twin = ms.astype(object)
    twin[ms == NO_TIME] = None
    return twin.tolist()


def write_review_states(
    session: Session,
    review_ids: np.ndarray,
    times_us: np.ndarray,
    before: CardArrays,
    after: CardArrays,
) -> None:
    """Rewrite the derived columns of review rows: the state before and after each answer.

    The facts (card, rating, time, duration) are untouched; ``interval_days``
    becomes (due after - review time) in days. Arrays aligned with
    ``review_ids``. The rows are written in id order (the table's order, so
    consecutive updates touch the same pages) and, on SQLite, only the rows
    where some value differs from the stored one are written
    (:data:`_REVIEW_UPDATE_CHANGED`).
    """
    order = np.argsort(review_ids, kind="stable")
    interval = ((after.due - times_us) / DAY_US)[order]
    due_after_text, due_before_text = _due_texts(before.due, after.due)
    due_before_ms = _ms_of_us(before.due)[order].astype(object)
    due_before_ms[before.due[order] == NO_TIME] = None
    last_before, last_before_ms = _times(before.last_review[order])
    sqlite = not is_postgres(session)
    raw_connection(session).executemany(
        _REVIEW_UPDATE_CHANGED if sqlite else _REVIEW_UPDATE,
        zip(
            before.state[order].tolist(),
            _nullable_step(before.step[order]),
            _nullable_float(before.stability[order]),
            _nullable_float(before.difficulty[order]),
            due_before_text[order].tolist(),
            due_before_ms.tolist(),
            last_before,
            last_before_ms,
            after.state[order].tolist(),
            _nullable_step(after.step[order]),
            after.stability[order].tolist(),
            after.difficulty[order].tolist(),
            due_after_text[order].tolist(),
            interval.tolist(),
            review_ids[order].tolist(),
            strict=True,
        ),
    )


def _due_texts(before_us: np.ndarray, after_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The texts of the due times after and before each answer, as object arrays.

    In the replay's (card, time) order a review's due before is almost always
    the previous review's due after: those texts are the same string objects,
    so only the first reviews of the cards (and any other that differs) are
    formatted a second time.
    """
    after_ms, before_ms = _ms_of_us(after_us), _ms_of_us(before_us)
    after_text = np.array(ms_to_text(after_ms), dtype=object)
    before_text = np.empty(before_ms.size, dtype=object)
    same = np.zeros(before_ms.size, dtype=bool)
    same[1:] = before_ms[1:] == after_ms[:-1]  # the text is a function of the ms
    before_text[1:][same[1:]] = after_text[:-1][same[1:]]
    before_text[~same] = ms_to_text(before_ms[~same])
    return after_text, before_text


# --- card snapshots (the undo of a reschedule) ------------------------------------------


@dataclass(frozen=True)
class CardSnapshot:
    """The scheduling columns of every card, for putting them back exactly.

    ``card_ids`` int64 ordered by id; ``cards`` their FSRS state (µs times,
    :data:`NO_TIME`, -1 and NaN for NULL); ``reps``, ``lapses`` int64.
    """

    card_ids: np.ndarray
    cards: CardArrays
    reps: np.ndarray
    lapses: np.ndarray

    ARRAYS: ClassVar[tuple[str, ...]] = (
        "card_ids", "state", "step", "stability", "difficulty", "due", "last_review", "reps",
        "lapses",
    )  # fmt: skip
    """The names :meth:`to_arrays` gives and :meth:`from_arrays` reads."""

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The snapshot as named arrays (for ``np.savez``), each in the smallest dtype that
        holds it exactly (51 bytes a card instead of 65): :meth:`from_arrays` widens them."""
        c = self.cards
        return {
            "card_ids": self.card_ids,
            "state": c.state.astype(np.int8),
            "step": _narrowed(c.step, np.int16),  # -1 or a learning step's index
            "stability": c.stability,
            "difficulty": c.difficulty,
            "due": c.due,
            "last_review": c.last_review,
            "reps": _narrowed(self.reps, np.int32),
            "lapses": _narrowed(self.lapses, np.int32),
        }

    @classmethod
    def from_arrays(cls, a: Any) -> CardSnapshot:
        """The inverse of :meth:`to_arrays` (any mapping of the same names, any integer dtypes)."""
        cards = CardArrays(
            a["state"].astype(np.int8),
            a["step"].astype(np.int64),
            a["stability"].astype(np.float64),
            a["difficulty"].astype(np.float64),
            a["due"].astype(np.int64),
            a["last_review"].astype(np.int64),
        )
        ints = (a[k].astype(np.int64) for k in ("card_ids", "reps", "lapses"))
        card_ids, reps, lapses = ints
        return cls(card_ids, cards, reps, lapses)


def _narrowed(values: np.ndarray, dtype: type[np.integer]) -> np.ndarray:
    """``values`` as ``dtype`` when every value fits (else as they are)."""
    info = np.iinfo(dtype)
    if values.size and (values.min() < info.min or values.max() > info.max):
        return values
    return values.astype(dtype)


def load_card_snapshot(session: Session) -> CardSnapshot:
    """Every card's scheduling columns (ordered by id).

    The integer columns come as one text each (:func:`fetch_columns`); the two
    floats as rows (printing them with 17 digits in SQLite is slower than the
    tuples): 0.16 s instead of 0.22 s for 100,000 cards.
    """
    ids, state, step, due_ms, last_ms, reps, lapses = fetch_columns(
        session,
        [
            ("id", np.int64),
            ("state", np.int64),
            ("COALESCE(step, -1)", np.int64),
            ("COALESCE(due_ms, -1)", np.int64),
            ("COALESCE(last_review_ms, -1)", np.int64),
            ("reps", np.int64),
            ("lapses", np.int64),
        ],
        "FROM cards ORDER BY id",
    )
    floats = fetch_matrix(
        session,
        "SELECT COALESCE(stability, -1), COALESCE(difficulty, -1) FROM cards ORDER BY id",
    )

    def times(column: np.ndarray) -> np.ndarray:
        return np.where(column < 0, NO_TIME, column * 1000)

    cards = CardArrays(
        state=state.astype(np.int8),
        step=step,
        stability=np.where(floats[:, 0] < 0, np.nan, floats[:, 0]),
        difficulty=np.where(floats[:, 1] < 0, np.nan, floats[:, 1]),
        due=times(due_ms),
        last_review=times(last_ms),
    )
    return CardSnapshot(ids, cards, reps, lapses)


def write_card_snapshot(session: Session, snapshot: CardSnapshot) -> None:
    """Put every card of ``snapshot`` back as it was (cards deleted since are skipped)."""
    write_card_states(session, snapshot.card_ids, snapshot.cards, snapshot.reps, snapshot.lapses)


def write_memory_states(
    session: Session, card_ids: np.ndarray, stability: np.ndarray, difficulty: np.ndarray
) -> None:
    """Set only stability and difficulty (Anki's memory state) of each card; due dates stay."""
    raw_connection(session).executemany(
        "UPDATE cards SET stability = ?, difficulty = ? WHERE id = ?",
        zip(
            _nullable_float(stability),
            _nullable_float(difficulty),
            card_ids.tolist(),
            strict=True,
        ),
    )
