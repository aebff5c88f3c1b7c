"""The SQLAlchemy engine with studylog's database settings, and short read/write sessions.

SQLite (the default, one file): every connection gets WAL with
``synchronous=FULL`` (Anki's durability: an acknowledged commit survives power
loss), ``foreign_keys=ON`` and a 10 s ``busy_timeout``. Write transactions
begin ``IMMEDIATE`` so that a CLI write while the app holds the database waits
for the lock instead of failing half-way with "database is locked"; reads
begin ``DEFERRED`` so they never block a writer.

PostgreSQL (``postgresql+psycopg://USER@HOST/DB``, psycopg 3, the
``studylog[postgres]`` extra) keeps the same promises with its own means
(docs/postgres.md): a write transaction first takes one transaction-level
advisory lock (``pg_advisory_xact_lock``), so writers run one at a time as
they do on SQLite, and each write sees every commit before it (READ COMMITTED
after the lock); a second writer waits for the lock, up to the same 10 s
(``lock_timeout``), instead of failing half-way. In the same statement a
write queues a ``NOTIFY`` on :data:`CHANGES_CHANNEL`, which the server
delivers at commit to the change watches of this database (the app's live
refresh; SQLite's counterpart is ``PRAGMA data_version``). Reads run in REPEATABLE READ
(one snapshot per read, as SQLite's read transaction) and never wait for a
writer. Durability is the server's (``synchronous_commit`` on by default:
an acknowledged commit is on disk).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError

from studylog.errors import DatabaseError
from studylog.storage.prepared import run_on_cursor

if TYPE_CHECKING:
    # Imported where a Session is made: reads through :meth:`Database.read_connection`
    # (``studylog today``) never load the ORM.
    from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 10_000
_WRITE = "studylog_write"
# The advisory lock every PostgreSQL write takes first (one key per database:
# advisory locks are scoped to the current database). The number is arbitrary
# but fixed: every studylog version must take the same one.
WRITE_LOCK_KEY = 0x5354_5544_594C_4F47 & 0x7FFF_FFFF_FFFF_FFFF  # "STUDYLOG"
CONNECT_TIMEOUT_S = 10
# The channel every PostgreSQL write transaction notifies (NOTIFY reaches only the
# listeners connected to the same database, so the channel needs no database name).
CHANGES_CHANNEL = "studylog_changes"
SQLITE, POSTGRESQL = "sqlite", "postgresql"


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
    run_on_cursor(conn, f"BEGIN {mode}").close()


def _on_connect_pg(dbapi_connection, _record: object) -> None:  # noqa: ANN001 - psycopg
    with dbapi_connection.cursor() as cursor:
        # Stored times are naive UTC (UTCDateTime); a session in UTC keeps now() the same.
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.execute(f"SET lock_timeout = {BUSY_TIMEOUT_MS}")
    dbapi_connection.commit()


def _on_begin_pg(conn) -> None:  # noqa: ANN001 - SQLAlchemy Connection
    if conn.get_execution_options().get(_WRITE):
        # The notification is sent at COMMIT (never on a rollback), to this database's
        # listeners only: the app's change watch (services/changes.py). Same round trip.
        conn.exec_driver_sql(
            f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY}), pg_notify('{CHANGES_CHANNEL}', '')"
        )
    else:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def backend_of(url: str) -> str:
    """``"sqlite"`` or ``"postgresql"`` (or another SQLAlchemy backend name) of ``url``."""
    return make_url(url).get_backend_name()


def _json(obj: object) -> str:
    # ensure_ascii=False keeps Korean aliases readable in the file and searchable
    # through the search index, which sees the JSON text.
    return json.dumps(obj, ensure_ascii=False)


def _postgres_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername != "postgresql+psycopg":
        raise DatabaseError(
            f"PostgreSQL through {parsed.drivername!r} is not supported: "
            "use postgresql+psycopg://USER@HOST/DB (psycopg 3)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise DatabaseError(
            "PostgreSQL needs psycopg 3: pip install 'studylog[postgres]'"
        ) from None
    if not parsed.database:
        raise DatabaseError(f"{parsed.render_as_string()}: the URL names no database (…/DB)")
    engine = create_engine(
        parsed,
        json_serializer=_json,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "studylog"},
        pool_pre_ping=False,
    )
    event.listen(engine, "connect", _on_connect_pg)
    event.listen(engine, "begin", _on_begin_pg)
    return engine


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the settings and BEGIN modes above.

    ``url`` is an SQLite URL (``sqlite:///PATH``) or a PostgreSQL one
    (``postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DB``; ``postgresql://``
    means the same). No connection is made here.

    Raises:
        DatabaseError: another backend or driver, psycopg missing, or an SQLite
            folder that cannot be created.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == POSTGRESQL:
        return _postgres_engine(url)
    if backend != SQLITE:
        raise DatabaseError(
            f"unsupported database {parsed.drivername!r}: use an SQLite file "
            "or postgresql+psycopg://USER@HOST/DB"
        )
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
    engine = create_engine(url, json_serializer=_json)
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
        self.backend = self.engine.dialect.name
        self._write_engine = self.engine.execution_options(**{_WRITE: True})

    @property
    def is_postgres(self) -> bool:
        return self.backend == POSTGRESQL

    @property
    def display_name(self) -> str:
        """The file path, or the URL without its password (for messages)."""
        path = self.path
        if path is not None:
            return str(path)
        url = make_url(self.url)
        if self.is_postgres:
            host = url.host or url.query.get("host") or "localhost"
            if isinstance(host, tuple):
                host = host[0]
            port = f":{url.port}" if url.port else ""
            user = f"{url.username}@" if url.username else ""
            return f"postgresql://{user}{host}{port}/{url.database}"
        return url.render_as_string(hide_password=True)

    @property
    def path(self) -> Path | None:
        """The database file, or None for an in-memory or a PostgreSQL database."""
        if self.backend != SQLITE:
            return None
        name = make_url(self.url).database
        if name and name.startswith("file:"):  # an SQLite URI (read-only media)
            name = name[len("file:") :].split("?", 1)[0]
        return Path(name) if name and name != ":memory:" else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed.

        Raises:
            DatabaseError: locked, not a database, or another database error (one line).
        """
        from sqlalchemy.orm import Session

        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            except (OperationalError, SADatabaseError) as exc:
                raise _db_error(exc) from None
            finally:
                session.rollback()

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for reading, in one read transaction (``BEGIN DEFERRED`` on
        SQLite, REPEATABLE READ on PostgreSQL, as :meth:`read`); nothing it does is
        committed. For reads that need no ORM object: it never imports the ORM.

        Raises:
            DatabaseError: locked, not a database, or another database error (one line).
        """
        try:
            with self.engine.connect() as conn:
                try:
                    yield conn
                finally:
                    conn.rollback()
        except (OperationalError, SADatabaseError) as exc:
            raise _db_error(exc) from None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed as one IMMEDIATE transaction, or not at all."""
        from sqlalchemy.orm import Session

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


def connection_of(reader: Session | Connection) -> Connection:
    """The Core connection of ``reader``: the connection itself, or the session's
    (in the session's transaction, which begins if it has not yet)."""
    return reader if isinstance(reader, Connection) else reader.connection()


def _db_error(exc: Exception) -> DatabaseError:
    text = str(getattr(exc, "orig", exc))
    pg = postgres_error(exc)
    if pg is not None:
        return pg
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
    if conn.get_execution_options().get(_WRITE) is not write:  # set again only on a change
        conn.execution_options(**{_WRITE: write})
    try:
        with conn.begin():
            yield conn
    except (OperationalError, SADatabaseError) as exc:
        raise _db_error(exc) from None


def postgres_error(exc: BaseException) -> DatabaseError | None:
    """One clear line for a PostgreSQL (psycopg) connection or lock error, else None.

    Covers an unreachable server, a refused password or role, a missing
    database and a write that waited :data:`BUSY_TIMEOUT_MS` for the lock.
    """
    orig = getattr(exc, "orig", exc)
    if type(orig).__module__.split(".")[0] != "psycopg":
        return None
    text = " ".join(str(orig).split())
    lower = text.lower()
    if "lock timeout" in lower:
        return DatabaseError(
            f"the database is locked by another program (waited {BUSY_TIMEOUT_MS // 1000} s)"
        )
    if "password authentication failed" in lower or "no password supplied" in lower:
        return DatabaseError(
            "PostgreSQL refused the password: check the user and password in the URL (or ~/.pgpass)"
        )
    role = re.search(r'role "([^"]*)" does not exist', text)
    if role:
        return DatabaseError(
            f'PostgreSQL has no user "{role.group(1)}": create it (createuser) or fix the URL'
        )
    missing = re.search(r'database "([^"]*)" does not exist', text)
    if missing:
        return DatabaseError(
            f'the PostgreSQL database "{missing.group(1)}" does not exist: create it with '
            f"createdb {missing.group(1)} (docs/postgres.md)"
        )
    if any(
        s in lower
        for s in (
            "connection refused",
            "no such file or directory",
            "could not translate host name",
            "timeout expired",
            "connection timed out",
            "network is unreachable",
            "no route to host",
        )
    ):
        return DatabaseError(
            "cannot reach the PostgreSQL server: is it running, and are the host and port "
            f"in the URL right? ({_first_clause(text)})"
        )
    return DatabaseError(f"PostgreSQL error: {_first_clause(text)}")


def _first_clause(text: str, width: int = 200) -> str:
    text = text.replace("connection failed: ", "")
    return text if len(text) <= width else text[: width - 1] + "…"
