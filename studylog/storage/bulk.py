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
from collections.abc import Callable, Iterable, Sequence
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
    ``UTCDateTime`` (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    values = np.asarray(values_ms, dtype=np.int64)
    missing = values == NO_TIME
    as_ms = np.where(missing, 0, values).astype("datetime64[ms]")
    text = np.datetime_as_string(as_ms.astype("datetime64[us]"), unit="us")
    return [
        None if m else s.replace("T", " ")
        for s, m in zip(text.tolist(), missing.tolist(), strict=True)
    ]


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
    return ms_to_text(ms), [None if v == NO_TIME else v for v in ms.tolist()]


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
    m = fetch_matrix(
        session,
        "SELECT r.card_id, r.id, r.rating, r.reviewed_at_ms, "
        "COALESCE(r.due_before_ms, c.due_ms), c.due_ms "
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
    plan: _InsertPlan, rows: Sequence[dict[str, Any]], twins: dict[str, str]
) -> list[Any]:
    """The driver-level parameters of ``rows`` for ``plan`` (tuples, or dicts if named);
    ``twins`` maps twin columns to the time columns they are computed from."""
    columns: list[list[Any]] = []
    for name, convert, default in zip(plan.columns, plan.converters, plan.defaults, strict=True):
        if name in twins:
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
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, returning: bool = True
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
    rows = [dict(r) for r in rows]
    ids: list[int] = []
    if returning and rows:
        missing = [r for r in rows if "id" not in r]
        if missing:
            top = session.execute(select(func.max(table.c.id))).scalar() or 0
            taken = {int(r["id"]) for r in rows if "id" in r}
            next_id = max([top, *taken]) + 1
            for r in missing:
                r["id"] = next_id
                next_id += 1
        ids = [int(r["id"]) for r in rows]
    if not rows:
        return ids
    # Rows with an id and rows without one (returning=False) are separate statements.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(("id",) if "id" in r else (), []).append(r)
    # The integer twins of the time columns given (with_ms's rule, set column-wise).
    twins = {t: c for c, t in TWINS.get(table.name, {}).items() if c in rows[0]}
    keys = tuple(k for k in rows[0] if k != "id" and k not in twins) + tuple(twins)
    conn = session.connection()
    postgres = is_postgres(session)
    for with_id, group in groups.items():
        plan = _insert_plan(session, table, with_id + keys)
        for i in range(0, len(group), INSERT_BATCH):
            params = _parameters(plan, group[i : i + INSERT_BATCH], twins)
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
_REVIEW_UPDATE = (
    "UPDATE reviews SET state_before = ?, step_before = ?, stability_before = ?, "
    "difficulty_before = ?, due_before = ?, due_before_ms = ?, last_review_before = ?, "
    "last_review_before_ms = ?, state_after = ?, step_after = ?, stability_after = ?, "
    "difficulty_after = ?, due_after = ?, interval_days = ? WHERE id = ?"
)


def write_dues(session: Session, card_ids: np.ndarray, due_us: np.ndarray) -> None:
    """Set the due time of each card (aligned int64 arrays, epoch µs; stored to the ms)."""
    text, twin = _times(due_us)
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
    becomes (due after - review time) in days. Arrays aligned with ``review_ids``.
    """
    interval = (after.due - times_us) / DAY_US
    due_before, due_before_ms = _times(before.due)
    last_before, last_before_ms = _times(before.last_review)
    raw_connection(session).executemany(
        _REVIEW_UPDATE,
        zip(
            before.state.tolist(),
            _nullable_step(before.step),
            _nullable_float(before.stability),
            _nullable_float(before.difficulty),
            due_before,
            due_before_ms,
            last_before,
            last_before_ms,
            after.state.tolist(),
            _nullable_step(after.step),
            after.stability.tolist(),
            after.difficulty.tolist(),
            _times(after.due)[0],
            interval.tolist(),
            review_ids.tolist(),
            strict=True,
        ),
    )
