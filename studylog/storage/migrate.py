"""Bring a database to the newest schema revision, with a backup first.

Every start calls :func:`prepare`. The common case (already at the newest
revision) is answered by one query through :mod:`sqlite3`, without importing
Alembic, which keeps ``studylog today`` fast. When a migration is pending the
file is first copied with SQLite's online backup API.

A PostgreSQL database is checked first (server 13 or newer, ``pg_trgm``
installed or installable) and migrated in one transaction; it gets no backup
(``pg_dump`` is the tool for that, docs/postgres.md).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from studylog.errors import DatabaseError
from studylog.paths import migrations_dir

# The newest revision in db/versions. tests/test_migrations.py checks that this
# matches Alembic's head, so adding a migration without bumping it fails CI.
HEAD_REVISION = "0012"


def current_revision_of(path: Path) -> str | None:
    """The revision recorded in the file at ``path``, or None for a new/empty file.

    Raises:
        DatabaseError: if the file exists but is not an SQLite database.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        return _revision(f"file:{path}?mode=ro")
    except sqlite3.OperationalError:
        # Read-only media: a WAL database cannot get its -shm file there;
        # immutable=1 reads the main file without one.
        try:
            return _revision(f"file:{path}?mode=ro&immutable=1")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{path} is not a studylog database ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is not a studylog database ({exc})") from None


def _revision(uri: str) -> str | None:
    con = sqlite3.connect(uri, uri=True)
    try:
        row = con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if row is None:
            return None
        found = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return found[0] if found else None
    finally:
        con.close()


def _alembic_config(connection=None):  # noqa: ANN001, ANN202
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision among the Alembic scripts (imports Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def backup(path: Path, dest: Path | None = None) -> Path:
    """Copy the database at ``path`` with SQLite's online backup API.

    The copy is consistent even while another program writes. Default
    destination: ``<name>.backup-<UTC timestamp>.db`` beside the file.

    Raises:
        DatabaseError: if either file cannot be opened.
    """
    if dest is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        dest = path.with_name(f"{path.stem}.backup-{stamp}.db")
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
        finally:
            out.close()
            src.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"backup of {path} to {dest} failed: {exc}") from None
    return dest


def upgrade(engine, revision: str = "head") -> None:  # noqa: ANN001 - sqlalchemy Engine
    """Run the Alembic migrations up to ``revision`` on ``engine``'s database.

    On PostgreSQL the whole upgrade is one write transaction (DDL is
    transactional there): it takes the writers' lock first, so two programs
    starting at once migrate one after the other, and a failure leaves nothing.

    On SQLite foreign keys are off while the migrations run (SQLite's procedure for
    rebuilding a table, https://sqlite.org/lang_altertable.html#otheralter): with
    them on, dropping a parent table to rebuild it (revision 0011's ``cards``) would
    first delete its children's rows (ON DELETE CASCADE). The pragma is a no-op
    inside a transaction, so it is set on the driver's connection before BEGIN,
    and set back on afterwards whatever happened.
    """
    from alembic import command

    _run(engine, command.upgrade, revision)


def downgrade(engine, revision: str) -> None:  # noqa: ANN001 - sqlalchemy Engine
    """Undo the migrations down to ``revision``, as :func:`upgrade` runs them (one
    transaction; SQLite's foreign keys off). For tests and by-hand repairs."""
    from alembic import command

    _run(engine, command.downgrade, revision)


def _run(engine, step, revision: str) -> None:  # noqa: ANN001 - Engine, an Alembic command
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(studylog_write=True)
        with engine.begin() as connection:
            step(_alembic_config(connection), revision)
        return
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                step(_alembic_config(connection), revision)
        finally:
            driver.execute("PRAGMA foreign_keys = ON")


# PostgreSQL: the oldest server studylog runs on (EXECUTE FUNCTION in triggers,
# pg_current_snapshot for the change watch, pg_trgm trusted for database owners).
MIN_POSTGRES = 130000
MIN_POSTGRES_TEXT = "13"


def postgres_revision(connection) -> str | None:  # noqa: ANN001 - sqlalchemy Connection
    """The revision in a PostgreSQL database's ``alembic_version`` (None: no such table)."""
    from sqlalchemy import text

    if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def server_version(connection) -> int:  # noqa: ANN001 - sqlalchemy Connection
    """``server_version_num`` of the PostgreSQL server (150004 for 15.4)."""
    from sqlalchemy import text

    return int(connection.execute(text("SHOW server_version_num")).scalar_one())


def _postgres_problem(connection, database: str) -> str | None:  # noqa: ANN001
    """Why studylog cannot use this PostgreSQL database, or None: the server is too old,
    or the ``pg_trgm`` extension is neither installed nor installable by this user."""
    from sqlalchemy import text

    version = server_version(connection)
    if version < MIN_POSTGRES:
        shown = f"{version // 10000}.{version % 10000}"
        return (
            f"PostgreSQL {shown} is too old: studylog needs PostgreSQL {MIN_POSTGRES_TEXT} or newer"
        )
    installed = connection.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    ).first()
    if installed is not None:
        return None
    fix = (
        f"run CREATE EXTENSION pg_trgm; in the database {database} as its owner or a "
        "superuser (Debian: apt-get install postgresql-contrib)"
    )
    available = connection.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if available is None:
        return f"the pg_trgm extension is missing on the server: {fix}"
    may_create = connection.execute(
        text(
            "SELECT has_database_privilege(current_database(), 'CREATE') "
            "AND (SELECT rolsuper OR rolname = pg_catalog.pg_get_userbyid(d.datdba) "
            "FROM pg_roles, pg_database d WHERE rolname = current_user "
            "AND d.datname = current_database())"
        )
    ).scalar()
    if not may_create:
        return f"the pg_trgm extension is not installed in {database} and this user cannot: {fix}"
    return None


def revision_of(db) -> str | None:  # noqa: ANN001 - Database
    """The schema revision of ``db`` (a file, or a PostgreSQL database), None when new.

    Raises:
        DatabaseError: not a studylog database, or the server cannot be reached.
    """
    if not db.is_postgres:
        return current_revision_of(db.path) if db.path else None
    from sqlalchemy.exc import SQLAlchemyError

    from studylog.storage.engine import postgres_error

    try:
        with db.engine.connect() as connection:
            return postgres_revision(connection)
    except SQLAlchemyError as exc:
        raise (postgres_error(exc) or DatabaseError(f"{db.display_name}: {exc}")) from None


def _prepare_postgres(db) -> None:  # noqa: ANN001 - Database
    """:func:`prepare` for PostgreSQL: check the server, then migrate in one transaction."""
    from sqlalchemy.exc import SQLAlchemyError

    from studylog.storage.engine import postgres_error

    name = db.display_name
    try:
        with db.engine.connect() as connection:
            problem = _postgres_problem(connection, name)
            current = postgres_revision(connection)
            has_tables = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            ).scalar()
            connection.rollback()
    except SQLAlchemyError as exc:
        raise (postgres_error(exc) or DatabaseError(f"{name}: {exc}")) from None
    if problem:
        raise DatabaseError(problem)
    if current == HEAD_REVISION:
        return
    if current is not None and current not in _known_revisions():
        raise DatabaseError(
            f"{name} was written by a newer studylog (schema {current}); upgrade studylog"
        )
    if current is None and has_tables:
        raise DatabaseError(f"{name} holds tables, but is not a studylog database")
    try:
        upgrade(db.engine)
    except SQLAlchemyError as exc:
        raise (
            postgres_error(exc)
            or DatabaseError(f"migration of {name} failed: {getattr(exc, 'orig', exc)}")
        ) from None


def prepare(db, *, make_backup: bool = True) -> Path | None:  # noqa: ANN001 - Database
    """Bring ``db`` to the newest revision; return the backup made, if any.

    A brand-new database is created without a backup (there is nothing to
    save). A database from a newer studylog is refused rather than touched.

    Raises:
        DatabaseError: if the file is not a studylog database, is newer than
            this studylog, or cannot be written.
    """
    if db.is_postgres:
        _prepare_postgres(db)
        return None
    path = db.path
    if path is None:
        upgrade(db.engine)
        return None
    current = current_revision_of(path)
    if current == HEAD_REVISION:
        return None
    made = None
    if current is not None:
        if current not in _known_revisions():
            raise DatabaseError(
                f"{path} was written by a newer studylog (schema {current}); upgrade studylog"
            )
        if make_backup:
            made = backup(path)
    elif path.exists() and path.stat().st_size > 0 and _has_tables(path):
        raise DatabaseError(f"{path} is an SQLite database, but not a studylog database")
    try:
        upgrade(db.engine)
    except sqlite3.Error as exc:  # pragma: no cover - surfaced as SQLAlchemy errors mostly
        raise DatabaseError(f"migration of {path} failed: {exc}") from None
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            raise DatabaseError(
                f"migration of {path} failed: {getattr(exc, 'orig', exc)}"
            ) from None
        raise
    return made


def known_revisions() -> set[str]:
    """The revisions of the migration scripts this studylog has."""
    return _known_revisions()


def _known_revisions() -> set[str]:
    return {p.stem.split("_", 1)[0] for p in (migrations_dir() / "versions").glob("*.py")}


def _has_tables(path: Path) -> bool:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (
            con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] > 0
        )
    finally:
        con.close()


def integrity_problems(path: Path) -> list[str]:
    """SQLite's ``PRAGMA integrity_check`` messages; empty when the file is sound."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        con.close()
    return [] if rows == ["ok"] else rows
