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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import ColumnDefault, Table, func, insert, select
from sqlalchemy.orm import Session

from studylog.scheduling.batch import DAY_US, NO_TIME, CardArrays, group_by_card
from studylog.scheduling.states import CardState
from studylog.storage.times import TWINS, to_ms
from studylog.storage.types import MillisecondUTCDateTime, UTCDateTime

# The settings key of the statistics' per-day cache (studylog.services.stats): it
# holds aggregates of review rows, so whatever rewrites review rows drops it.
STATS_CACHE_KEY = "stats.daily_cache"


class _PostgresDriver:
    """psycopg's connection with sqlite3's calling convention (``?`` placeholders,
    ``execute`` returning a cursor, ``executemany``), so the bulk SQL, written in
    the SQL both databases speak, runs on either."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        cursor = self._connection.cursor()
        if params:
            cursor.execute(self._sql(sql), tuple(params))
        else:
            cursor.execute(sql)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> Any:
        cursor = self._connection.cursor()
        cursor.executemany(self._sql(sql), list(rows))
        return cursor


def raw_connection(session: Session) -> Any:
    """The session's DB-API connection, inside the session's transaction (for bulk I/O).

    On SQLite the :class:`sqlite3.Connection` itself; on PostgreSQL psycopg's
    connection behind the same ``execute``/``executemany`` calls with ``?``
    placeholders (:class:`_PostgresDriver`).
    """
    driver = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "sqlite":
        return driver
    return _PostgresDriver(driver)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def date_param(session: Session, day: Any) -> Any:
    """A study day as a bulk SQL parameter: SQLite stores dates as ISO text."""
    return day.isoformat() if not is_postgres(session) else day


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


def fetch_columns(
    session: Session,
    columns: Sequence[tuple[str, type]],
    rest: str,
    params: Sequence[object] = (),
) -> list[np.ndarray]:
    """Run ``SELECT <columns> <rest>`` and return each column as one NumPy array.

    ``columns`` are (SQL expression, ``np.int64`` or ``np.float64``); no value
    may be NULL (use COALESCE). Each column leaves SQLite as one text of
    comma-separated numbers (``group_concat`` over the rows in the order of
    ``rest``) that NumPy parses in C: a million rows cost no Python objects,
    about a third of the time of ``fetchall``. Floats are printed with 17
    significant digits, so they come back exactly.
    """
    inner = ", ".join(f"{expr} AS c{i}" for i, (expr, _) in enumerate(columns))
    if is_postgres(session):  # no group_concat: psycopg hands the rows over as they are
        rows = raw_connection(session).execute(f"SELECT {inner} {rest}", params).fetchall()
        if not rows:
            return [np.zeros(0, dtype=dtype) for _, dtype in columns]
        if any(v is None for r in rows for v in r):
            raise ValueError("a NULL in a column (use COALESCE)")
        return [np.array([r[i] for r in rows], dtype=dtype) for i, (_, dtype) in enumerate(columns)]
    outer = ", ".join(
        f"group_concat(printf('%!.17g', c{i}))" if dtype is np.float64 else f"group_concat(c{i})"
        for i, (_, dtype) in enumerate(columns)
    )
    row = (
        raw_connection(session)
        .execute(f"SELECT count(*), {outer} FROM (SELECT {inner} {rest})", tuple(params))
        .fetchone()
    )
    n = row[0]
    out = []
    for text, (_, dtype) in zip(row[1:], columns, strict=True):
        values = np.fromstring(text, dtype=dtype, sep=",") if n else np.zeros(0, dtype=dtype)
        if values.size != n:
            raise ValueError(f"column of {values.size} values for {n} rows (a NULL?)")
        out.append(values)
    return out


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
    twin = ms.astype(object)
    twin[ms == NO_TIME] = None
    return ms_to_text(ms), twin.tolist()


def drop_stats_cache(session: Session) -> None:
    """Forget the statistics' per-day cache (after review rows were rewritten)."""
    raw_connection(session).execute("DELETE FROM settings WHERE key = ?", (STATS_CACHE_KEY,))


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
    """All review rows, ordered by (card, time, id), as arrays."""
    return _histories(
        fetch_matrix(
            session,
            # the (card_id, reviewed_at) index gives the order; the twin gives the number
            "SELECT card_id, id, rating, reviewed_at_ms FROM reviews "
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
    # One text per column (fetch_columns): a million rows without a Python tuple each.
    card_col, review_ids, ratings, times_ms, initial_ms, due_ms = fetch_columns(
        session,
        [
            ("r.card_id", np.int64),
            ("r.id", np.int64),
            ("r.rating", np.int64),
            ("r.reviewed_at_ms", np.int64),
            ("COALESCE(r.due_before_ms, c.due_ms)", np.int64),
            ("c.due_ms", np.int64),
        ],
        f"FROM reviews r {join}JOIN cards c ON c.id = r.card_id "
        "ORDER BY r.card_id, r.reviewed_at, r.id",
    )
    if card_ids is not None:
        raw.execute("DELETE FROM replay_ids")
    starts, offsets = group_by_card(card_col)
    return Histories(
        card_ids=card_col[starts],
        offsets=offsets,
        review_ids=review_ids,
        ratings=ratings,
        times_us=times_ms * 1000,
        initial_due_us=initial_ms[starts] * 1000,
        current_due_us=due_ms[starts] * 1000,
    )


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


def memory_states_of(states: MemoryStates, card_ids: np.ndarray) -> MemoryStates:
    """The rows of ``states`` whose card id is in ``card_ids`` (int64, any order), in id order."""
    keep = np.isin(states.card_ids, card_ids)
    return MemoryStates(
        card_ids=states.card_ids[keep],
        stability=states.stability[keep],
        last_review_us=states.last_review_us[keep],
        reps=states.reps[keep],
        due_us=states.due_us[keep],
    )


# --- writes -----------------------------------------------------------------------------

INSERT_BATCH = 5000  # rows per executemany
_REQUIRED = object()  # a column without a default that a row left out


@dataclass(frozen=True)
class _InsertPlan:
    """One compiled INSERT for a table and a set of columns, with each column's converter."""

    sql: str
    columns: tuple[str, ...]  # in the order of the statement's parameters
    converters: tuple[Callable[[Any], Any] | None, ...]
    defaults: tuple[Any, ...]  # a value, a callable(None), or _REQUIRED
    positional: bool


_PLANS: dict[tuple[str, str, tuple[str, ...]], _InsertPlan] = {}


def _insert_plan(session: Session, table: Table, keys: tuple[str, ...]) -> _InsertPlan:
    """The INSERT of ``keys`` (plus the columns with a Python-side default) into ``table``.

    Compiled once per dialect, table and keys, for any dialect: the column
    types' own bind processors (``dialect_impl(...).bind_processor``) convert
    the values, as SQLAlchemy's executemany would, but once per value in a
    plain loop instead of through its per-row parameter machinery (which was
    most of a bulk import's time).
    """
    dialect = session.get_bind().dialect
    cache_key = (dialect.name, table.name, keys)
    plan = _PLANS.get(cache_key)
    if plan is not None:
        return plan
    unknown = [k for k in keys if k not in table.c]
    if unknown:
        raise KeyError(f"{table.name} has no column(s) {', '.join(unknown)}")
    names = list(keys) + [
        c.name
        for c in table.c
        if c.name not in keys and c.default is not None and c.default.is_scalar
    ]
    names += [
        c.name
        for c in table.c
        if c.name not in names and c.default is not None and c.default.is_callable
    ]
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    order = tuple(compiled.positiontup or ()) if compiled.positional else tuple(names)
    if set(order) != set(names):
        raise RuntimeError(f"unexpected parameters {order} for an INSERT of {names}")
    defaults = []
    for name in order:
        default = table.c[name].default
        if name in keys or default is None:
            defaults.append(_REQUIRED)
        elif default.is_scalar:
            defaults.append(default.arg)
        else:
            defaults.append(default)
    plan = _InsertPlan(
        sql=str(compiled),
        columns=order,
        converters=tuple(_converter(table.c[n].type, dialect) for n in order),
        defaults=tuple(defaults),
        positional=bool(compiled.positional),
    )
    _PLANS[cache_key] = plan
    return plan


_SQLITE_TEXT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format


def _converter(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The bind processor of ``column_type``, or for studylog's UTC times on SQLite an
    equivalent that does the three steps (to UTC, floor to the ms, SQLAlchemy's
    ``YYYY-MM-DD HH:MM:SS.ffffff`` text) in one C call (``isoformat``), a third of
    the cost; a test checks they agree."""
    if dialect.name == "sqlite" and type(column_type) in (UTCDateTime, MillisecondUTCDateTime):
        return _utc_text_ms if isinstance(column_type, MillisecondUTCDateTime) else _utc_text
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: studylog stores aware UTC times only")
    return value.astimezone(UTC) if value.utcoffset() else value


def _utc_text(value: datetime | None) -> str | None:
    """An aware time as SQLite text of ``UTCDateTime`` (naive UTC, microseconds)."""
    if value is None:
        return None
    return _aware_utc(value).isoformat(" ", "microseconds")[:26]


def _utc_text_ms(value: datetime | None) -> str | None:
    """As :func:`_utc_text` for ``MillisecondUTCDateTime`` (floored to the ms)."""
    if value is None:
        return None
    return _aware_utc(value).isoformat(" ", "milliseconds")[:23] + "000"


def _parameters(
    plan: _InsertPlan,
    rows: Sequence[Mapping[str, Any]],
    twins: dict[str, str],
    ids: list[int] | None = None,
) -> list[Any]:
    """The driver-level parameters of ``rows`` for ``plan`` (tuples, or dicts if named);
    ``twins`` maps twin columns to the time columns they are computed from; ``ids``,
    if given, are the rows' ``id`` values (in place of the rows' own)."""
    columns: list[list[Any]] = []
    for name, convert, default in zip(plan.columns, plan.converters, plan.defaults, strict=True):
        if name == "id" and ids is not None:
            values = list(ids)
        elif name in twins:
            source = twins[name]
            values = [to_ms(r[source]) for r in rows]
        elif default is _REQUIRED:
            try:
                values = [r[name] for r in rows]
            except KeyError:
                raise KeyError(f"a row without a value for {name!r}") from None
        elif isinstance(default, ColumnDefault):
            values = [r[name] if name in r else default.arg(None) for r in rows]
        else:
            values = [r.get(name, default) for r in rows]
        if convert in (_utc_text, _utc_text_ms):
            # Imports stamp every row with the same few times (now): convert each once.
            memo: dict[Any, Any] = {}
            values = [memo[v] if v in memo else memo.setdefault(v, convert(v)) for v in values]
        elif convert is not None:
            values = [convert(v) for v in values]
        columns.append(values)
    if plan.positional:
        return list(zip(*columns, strict=True))
    return [dict(zip(plan.columns, row, strict=True)) for row in zip(*columns, strict=True)]


def insert_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, returning: bool = True
) -> list[int]:
    """Insert ``rows`` (dicts of column values) into ``table``; return their ids in order.

    The write function for bulk inserts of cards and reviews: each row's time
    columns get their integer twins (:func:`studylog.storage.times.with_ms`).
    Rows without an ``id`` get the next free ids, assigned here (the caller
    holds the write transaction, so nobody else can take them), which lets
    the rows go in as plain ``executemany`` batches: SQLite does not promise
    the order of ``RETURNING`` rows, and one INSERT per row was the cost.
    Core, not the ORM: an ORM bulk insert leaves out None values so that
    column defaults apply, and a restore must write them as they are.
    Columns a row leaves out take their Python-side default (as Core's
    executemany does); a column without one must be in every row (KeyError).
    The statement is compiled once (:func:`_insert_plan`) and the values
    converted by the column types, so the rows stored are those Core would
    store. ``returning=False`` assigns no ids (returns an empty list).
    """
    ids: list[int] = []
    if not rows:
        return ids
    # Groups of (rows, their ids or None): rows with an id (given, or assigned here
    # when returning) and rows without one (returning=False) are separate statements.
    # The ids travel next to the rows: copying every row's dict to add one was a
    # tenth of a CSV import.
    groups: dict[tuple[str, ...], tuple[list[Mapping[str, Any]], list[int] | None]] = {}
    if returning:
        if all("id" in r for r in rows):
            ids = [int(r["id"]) for r in rows]
        else:
            top = session.execute(select(func.max(table.c.id))).scalar() or 0
            taken = [int(r["id"]) for r in rows if "id" in r]
            next_id = max([top, *taken]) + 1
            for r in rows:
                if "id" in r:
                    ids.append(int(r["id"]))
                else:
                    ids.append(next_id)
                    next_id += 1
        groups[("id",)] = (list(rows), ids)
    else:
        for r in rows:
            with_id = ("id",) if "id" in r else ()
            groups.setdefault(with_id, ([], None))[0].append(r)
    # The integer twins of the time columns given (with_ms's rule, set column-wise).
    twins = {t: c for c, t in TWINS.get(table.name, {}).items() if c in rows[0]}
    keys = tuple(k for k in rows[0] if k != "id" and k not in twins) + tuple(twins)
    conn = session.connection()
    postgres = is_postgres(session)
    for with_id, (group, group_ids) in groups.items():
        plan = _insert_plan(session, table, with_id + keys)
        for i in range(0, len(group), INSERT_BATCH):
            chunk_ids = None if group_ids is None else group_ids[i : i + INSERT_BATCH]
            params = _parameters(plan, group[i : i + INSERT_BATCH], twins, chunk_ids)
            if postgres:
                _copy_rows(session, table.name, plan, params)
            else:
                conn.exec_driver_sql(plan.sql, params)
    if ("id",) in groups and is_postgres(session) and "id" in table.c:
        # Ids given here bypass the table's sequence: move it past them, or the next
        # insert that lets PostgreSQL choose would take one of them.
        raw_connection(session).execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT max(id) FROM {table.name}))"
        )
    return ids


def _copy_rows(session: Session, table: str, plan: _InsertPlan, params: list[Any]) -> None:
    """PostgreSQL: the rows of an INSERT plan through ``COPY ... FROM STDIN`` (one stream
    instead of a statement per row; the table's triggers fire as for INSERT)."""
    cursor = session.connection().connection.driver_connection.cursor()
    columns = ", ".join(plan.columns)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in params:
            copy.write_row(row if plan.positional else tuple(row[c] for c in plan.columns))


_CARD_UPDATE = (
    "UPDATE cards SET state = ?, step = ?, stability = ?, difficulty = ?, due = ?, due_ms = ?, "
    "last_review = ?, last_review_ms = ?, reps = ?, lapses = ? WHERE id = ?"
)
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
def card_indexes_rebuilt(session: Session, rows: int) -> Iterator[None]:
    """Drop the indexes of ``cards`` around a bulk update of ``rows`` rows, then build them again.

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
    for name, _ in found:
        raw.execute(f'DROP INDEX "{name}"')
    yield
    for _, sql in found:
        raw.execute(sql)


def write_dues(session: Session, card_ids: np.ndarray, due_us: np.ndarray) -> None:
    """Set the due time of each card (aligned int64 arrays, epoch µs; stored to the ms)."""
    text, twin = _times(due_us)
    with card_indexes_rebuilt(session, len(text)):
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
) -> None:
    """Write each card's FSRS state, reps and lapses (arrays aligned with ``card_ids``)."""
    due, due_ms = _times(cards.due)
    last, last_ms = _times(cards.last_review)
    with card_indexes_rebuilt(session, len(due)):
        raw_connection(session).executemany(
            _CARD_UPDATE,
            zip(
                cards.state.tolist(),
                _nullable_step(cards.step),
                cards.stability.tolist(),
                cards.difficulty.tolist(),
                due,
                due_ms,
                last,
                last_ms,
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

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The snapshot as named arrays (for ``np.savez``)."""
        c = self.cards
        return {
            "card_ids": self.card_ids,
            "state": c.state,
            "step": c.step,
            "stability": c.stability,
            "difficulty": c.difficulty,
            "due": c.due,
            "last_review": c.last_review,
            "reps": self.reps,
            "lapses": self.lapses,
        }

    @classmethod
    def from_arrays(cls, a: Any) -> CardSnapshot:
        """The inverse of :meth:`to_arrays` (any mapping of the same names)."""
        cards = CardArrays(
            a["state"], a["step"], a["stability"], a["difficulty"], a["due"], a["last_review"]
        )
        return cls(a["card_ids"], cards, a["reps"], a["lapses"])


def load_card_snapshot(session: Session) -> CardSnapshot:
    """Every card's scheduling columns (one SELECT, ordered by id)."""
    m = fetch_matrix(
        session,
        "SELECT id, state, COALESCE(step, -1), COALESCE(stability, -1), COALESCE(difficulty, -1), "
        "COALESCE(due_ms, -1), "
        "COALESCE(last_review_ms, -1), reps, lapses FROM cards ORDER BY id",
    )

    def times(column: np.ndarray) -> np.ndarray:
        return np.where(column < 0, NO_TIME, column.astype(np.int64) * 1000)

    cards = CardArrays(
        state=m[:, 1].astype(np.int8),
        step=m[:, 2].astype(np.int64),
        stability=np.where(m[:, 3] < 0, np.nan, m[:, 3]),
        difficulty=np.where(m[:, 4] < 0, np.nan, m[:, 4]),
        due=times(m[:, 5]),
        last_review=times(m[:, 6]),
    )
    return CardSnapshot(
        m[:, 0].astype(np.int64), cards, m[:, 7].astype(np.int64), m[:, 8].astype(np.int64)
    )


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
