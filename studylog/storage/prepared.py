"""Core statements compiled once per dialect and run on the connection's DB-API cursor.

The review hot path (next card, answer, undo) runs a handful of fixed
statements per operation. Through ``Connection.execute`` each costs about
0.1-0.2 ms of SQLAlchemy's per-call machinery (cache key, parameter
construction, result metadata, events) against some 20 µs in SQLite itself:
most of an answer. A :class:`Prepared` statement is a SQLAlchemy Core
statement compiled once for each dialect it meets; running it binds the
parameters through the column types' own bind processors, executes the
compiled SQL on the DB-API cursor of the caller's connection, inside the
caller's transaction, and converts result values with the types' result
processors. So the SQL stays SQLAlchemy's, portable to every dialect it
compiles for (the PostgreSQL compilation is checked in a test), and the
values are exactly what ``Connection.execute`` would give.

DB-API errors are re-raised as SQLAlchemy's exceptions
(:meth:`sqlalchemy.exc.DBAPIError.instance`), so a locked database reads the
same to :func:`studylog.storage.engine.transaction` either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


def run_on_cursor(conn: Connection, sql: str, args: Any = ()) -> Any:
    """Execute ``sql`` on a new DB-API cursor of ``conn`` and return the cursor.

    Listeners of SQLAlchemy's ``before_cursor_execute`` event (SQL logging, the
    tests that count statements) still see the statement: it is dispatched when
    the connection or engine has listeners (a flag check otherwise).

    Raises:
        sqlalchemy.exc.DBAPIError: the DB-API error, as SQLAlchemy's class for it
            (``OperationalError`` for a locked database, ``IntegrityError``, ...).
    """
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    if conn._has_events or conn.engine._has_events:  # the engine's connect/begin hooks count
        listeners = conn.dispatch.before_cursor_execute
        if listeners:
            listeners(conn, cursor, sql, args, None, False)
    try:
        cursor.execute(sql, args)
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise DBAPIError.instance(
            sql, args, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    return cursor


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # bind names in order, for a positional paramstyle
    binds: tuple[tuple[str, Processor], ...]
    defaults: dict[str, Any]
    keys: tuple[str, ...]  # result column names
    types: tuple[Any, ...]  # their SQLAlchemy types
    # result processors by the cursor's column type codes (PostgreSQL's numeric
    # processors depend on the type OID the server sends; SQLite sends None)
    results: dict[tuple, tuple[Processor, ...]]

    def processors(self, dialect: Dialect, description: Sequence[Sequence[Any]]) -> tuple:
        codes = tuple(d[1] for d in description)
        found = self.results.get(codes)
        if found is None:
            found = self.results[codes] = tuple(
                t._cached_result_processor(dialect, code)
                for t, code in zip(self.types, codes, strict=True)
            )
        return found


class Prepared:
    """A Core ``statement`` compiled once per dialect (see the module docstring).

    ``column_keys``: for an INSERT or UPDATE whose values come as parameters,
    the columns set (as for ``statement.compile(column_keys=...)``).
    """

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement compiled for ``dialect`` (cached by dialect name and paramstyle)."""
        key = f"{dialect.name}:{dialect.paramstyle}"
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError(
                "a prepared statement cannot hold values rendered at execution time "
                "(expanding IN, literal_execute): bind them as parameters"
            )
        names = list(compiled.binds)
        if dialect.positional:
            names = list(compiled.positiontup or ())
        # The types' processors as SQLAlchemy itself caches and applies them (the
        # underscore API is SQLAlchemy 2.x's; the dependency is bounded below 2.2).
        binds = tuple(
            (name, compiled.binds[name].type._cached_bind_processor(dialect)) for name in names
        )
        # a bind with a value of its own (a literal()) needs no parameter
        defaults = {
            name: bind.value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None
        }
        columns = getattr(compiled, "_result_columns", None) or []
        keys = tuple(c.keyname for c in columns)
        types = tuple(c.type for c in columns)
        return _Compiled(
            compiled.string,
            tuple(names) if dialect.positional else None,
            binds,
            defaults,
            keys,
            types,
            {},
        )

    def _execute(self, conn: Connection, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        c = self.compiled(conn.dialect)
        if c.defaults:  # a parameter given overrides the bind's own value
            params = {**c.defaults, **params}
        # one pass in bind order (positional paramstyles list a name once per use)
        values = [
            params[name] if process is None else process(params[name]) for name, process in c.binds
        ]
        args: Any
        if c.positional is not None:
            args = tuple(values)
        else:
            args = {name: value for (name, _), value in zip(c.binds, values, strict=True)}
        return c, run_on_cursor(conn, c.sql, args)

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows (UPDATE, DELETE)."""
        _, cursor = self._execute(conn, params or {})
        cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> dict | None:
        """The first result row as a dict of column name to value (processed), or None."""
        c, cursor = self._execute(conn, params or {})
        try:
            raw = cursor.fetchone()
            if raw is None:
                return None
            results = c.processors(conn.dialect, cursor.description)
        finally:
            cursor.close()
        return {
            key: (process(value) if process is not None else value)
            for key, process, value in zip(c.keys, results, raw, strict=True)
        }

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """Every result row as a tuple of processed values."""
        c, cursor = self._execute(conn, params or {})
        try:
            raws = cursor.fetchall()
            results = c.processors(conn.dialect, cursor.description) if raws else ()
        finally:
            cursor.close()
        if all(p is None for p in results):
            return [tuple(r) for r in raws]
        return [
            tuple(p(v) if p is not None else v for p, v in zip(results, r, strict=True))
            for r in raws
        ]

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (processed), or None without rows."""
        row = self.first(conn, params)
        return None if row is None else next(iter(row.values()))
