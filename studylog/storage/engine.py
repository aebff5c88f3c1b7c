"""The SQLAlchemy engine with studylog's SQLite settings, and short read/write sessions.

Every SQLite connection gets WAL with ``synchronous=FULL`` (Anki's durability:
an acknowledged commit survives power loss), ``foreign_keys=ON`` and a 10 s
``busy_timeout``. Write transactions begin ``IMMEDIATE`` so that a CLI write
while the app holds the database waits for the lock instead of failing
half-way with "database is locked"; reads begin ``DEFERRED`` so they never
block a writer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from studylog.errors import DatabaseError

BUSY_TIMEOUT_MS = 10_000
_WRITE = "studylog_write"


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own
    # transaction handling would send a plain deferred BEGIN).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL, as Anki: in WAL mode NORMAL may lose the last commits on power loss
    # (the WAL is not synced at each commit); FULL syncs it, so an answer that
    # was acknowledged survives. https://sqlite.org/pragma.html#pragma_synchronous
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()


def _on_begin(conn) -> None:  # noqa: ANN001 - SQLAlchemy Connection
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
    # On the DB-API cursor: exec_driver_sql's machinery cost more than the BEGIN
    # itself on the review hot path (one transaction per next card, answer, undo).
    sql = f"BEGIN {mode}"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, (), exc, sqlite3.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the PRAGMAs and BEGIN modes above.

    Raises:
        DatabaseError: if the URL is not SQLite or its folder cannot be created.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise DatabaseError(f"only SQLite databases are supported, not {parsed.drivername!r}")
    if (
        parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"cannot create the database folder {folder}: {exc.strerror}"
            ) from None
    # ensure_ascii=False keeps Korean aliases readable in the file and searchable
    # through the FTS index, which sees the JSON text.
    engine = create_engine(url, json_serializer=lambda obj: json.dumps(obj, ensure_ascii=False))
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


class Database:
    """A studylog database: an engine plus short-lived read and write sessions.

    Services take a ``Database`` and open one session per operation, so each
    write is exactly one transaction and no lock is held between operations.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})

    @property
    def path(self) -> Path | None:
        """The database file, or None for an in-memory database."""
        name = make_url(self.url).database
        if name and name.startswith("file:"):  # an SQLite URI (read-only media)
            name = name[len("file:") :].split("?", 1)[0]
        return Path(name) if name and name != ":memory:" else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            except (OperationalError, SADatabaseError) as exc:
                raise _db_error(exc) from None
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed as one IMMEDIATE transaction, or not at all."""
        with Session(self._write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except (OperationalError, SADatabaseError) as exc:
                session.rollback()
                raise _db_error(exc) from None
            except BaseException:
                session.rollback()
                raise

    def connection(self) -> Connection:
        """A Core connection of its own (the caller closes it), for the review hot path:
        run its work in :func:`transaction`."""
        try:
            return self.engine.connect()
        except (OperationalError, SADatabaseError) as exc:
            raise _db_error(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _db_error(exc: Exception) -> DatabaseError:
    text = str(getattr(exc, "orig", exc))
    if "locked" in text:
        return DatabaseError(
            f"the database is locked by another program (waited {BUSY_TIMEOUT_MS // 1000} s)"
        )
    if "not a database" in text:
        return DatabaseError("the file is not an SQLite database")
    if "readonly" in text or "read-only" in text:
        return DatabaseError("the database cannot be written (read-only file or folder)")
    return DatabaseError(f"database error: {text}")


@contextmanager
def transaction(conn: Connection, *, write: bool) -> Iterator[Connection]:
    """One transaction on a Core connection: ``BEGIN IMMEDIATE`` for a write (committed
    at the end, rolled back on error), ``BEGIN DEFERRED`` for a read.

    Raises:
        DatabaseError: locked, not a database, read-only (one line).
    """
    conn.execution_options(**{_WRITE: write})
    try:
        with conn.begin():
            yield conn
    except (OperationalError, SADatabaseError) as exc:
        raise _db_error(exc) from None
