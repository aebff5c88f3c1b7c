"""Bulk inserts on the session's DB-API connection, without NumPy.

:func:`insert_rows` is the write function of every importer (cards, reviews,
import records) and of ``studylog db copy``; :func:`raw_connection` gives the
bulk SQL the driver's connection with ``?`` placeholders on either database.
Kept apart from :mod:`studylog.storage.bulk` (the whole-collection arrays), so
that an import that needs no arrays does not load NumPy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnDefault, Table, func, insert, select
from sqlalchemy.orm import Session

from studylog.storage.times import TWINS, to_ms
from studylog.storage.types import MillisecondUTCDateTime, UTCDateTime


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


# The settings key of the statistics' per-day cache (studylog.services.stats): it
# holds aggregates of review rows of existing cards, so whatever rewrites review
# rows, or deletes or restores cards (their reviews stay, revision 0011), drops it.
STATS_CACHE_KEY = "stats.daily_cache"


def drop_stats_cache(session: Session) -> None:
    """Forget the statistics' per-day cache (review rows rewritten, cards deleted or back)."""
    raw_connection(session).execute("DELETE FROM settings WHERE key = ?", (STATS_CACHE_KEY,))


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


class _Memo(dict):
    """``convert`` of each distinct value, computed on first lookup (``memo[value]``)."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, value: Any) -> Any:
        out = self[value] = self._convert(value)
        return out


def _parameters(
    plan: _InsertPlan,
    rows: Sequence[Mapping[str, Any]],
    twins: dict[str, str],
    ids: list[int] | None = None,
) -> list[Any]:
    """The driver-level parameters of ``rows`` for ``plan`` (tuples, or dicts if named);
    ``twins`` maps twin columns to the time columns they are computed from; ``ids``,
    if given, are the rows' ``id`` values (in place of the rows' own).

    Column by column, in C loops where it can (``map`` of ``itemgetter`` and of a
    memo's lookup): converting the same few times once each, not once per row."""
    columns: list[list[Any]] = []
    for name, convert, default in zip(plan.columns, plan.converters, plan.defaults, strict=True):
        if name == "id" and ids is not None:
            values = list(ids)
        elif name in twins:
            # the twin's value: the time's epoch milliseconds (each distinct time once)
            values = list(map(_Memo(to_ms).__getitem__, map(itemgetter(twins[name]), rows)))
        elif default is _REQUIRED:
            try:
                values = list(map(itemgetter(name), rows))
            except KeyError:
                raise KeyError(f"a row without a value for {name!r}") from None
        elif isinstance(default, ColumnDefault):
            values = [r[name] if name in r else default.arg(None) for r in rows]
        else:
            values = [r.get(name, default) for r in rows]
        if convert in (_utc_text, _utc_text_ms):
            # Imports stamp every row with the same few times (now): convert each once.
            values = list(map(_Memo(convert).__getitem__, values))
        elif convert is not None:
            values = list(map(convert, values))
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
            # Above every id ever given, not only the largest left: a deleted card's
            # id must stay free (its reviews are kept, revision 0011).
            top = max(
                session.execute(select(func.max(table.c.id))).scalar() or 0,
                id_floor(session, table.name),
            )
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
        # Never back: the sequence may be past the largest id left (deleted rows).
        raise_id_floor(session, table.name, None)
    return ids


def _sequence(session: Session, table: str) -> str | None:
    """PostgreSQL: the name of ``table``'s id sequence (None: the id has none)."""
    return (
        raw_connection(session)
        .execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
        .fetchone()[0]
    )


def id_floor(session: Session, table: str) -> int:
    """The largest id ``table`` has ever given out as far as the database remembers:
    SQLite's ``sqlite_sequence`` (tables with AUTOINCREMENT: ``cards``), PostgreSQL's
    sequence; 0 when it keeps none. New ids go above it, so the id of a deleted card
    is never given again (its reviews stay, revision 0011)."""
    raw = raw_connection(session)
    if not is_postgres(session):
        if (
            raw.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
            ).fetchone()
            is None
        ):
            return 0
        row = raw.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0
    sequence = _sequence(session, table)
    if sequence is None:
        return 0
    last, called = raw.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
    return int(last) if called else 0


def raise_id_floor(session: Session, table: str, value: int | None) -> None:
    """Move :func:`id_floor` of ``table`` up to ``value`` (and past the table's largest id;
    ``value`` None: only that), never down. SQLite: only for a table with
    AUTOINCREMENT (the others keep no floor)."""
    raw = raw_connection(session)
    if is_postgres(session):
        sequence = _sequence(session, table)
        if sequence is not None:
            raw.execute(
                f"SELECT setval('{sequence}', GREATEST((SELECT max(id) FROM {table}), ?, "
                f"(SELECT CASE WHEN is_called THEN last_value END FROM {sequence})))",
                (value,),
            )
        return
    autoincrement = raw.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? AND sql LIKE ?",
        (table, "%AUTOINCREMENT%"),
    ).fetchone()
    if autoincrement is None or value is None:
        return  # SQLite moves the sequence past inserted ids itself
    updated = raw.execute(
        "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (value, table)
    ).rowcount
    if not updated:
        raw.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, value))


def _copy_rows(session: Session, table: str, plan: _InsertPlan, params: list[Any]) -> None:
    """PostgreSQL: the rows of an INSERT plan through ``COPY ... FROM STDIN`` (one stream
    instead of a statement per row; the table's triggers fire as for INSERT)."""
    cursor = session.connection().connection.driver_connection.cursor()
    columns = ", ".join(plan.columns)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in params:
            copy.write_row(row if plan.positional else tuple(row[c] for c in plan.columns))
