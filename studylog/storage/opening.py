"""Opening the user's database for a command or the app: lost files, read-only media, backups.

:func:`open_prepared` is what the CLI (and through it the app) uses:

1. a database a previous run used that is now gone or not a database stops
   the start (:func:`studylog.storage.continuity.check`);
2. a database on read-only media (or a file the user cannot write) opens
   read-only (``mode=ro&immutable=1``: no lock or WAL files are needed), so
   reading and exporting work; a write fails with one clear line;
3. otherwise the database is migrated (backup first, :mod:`migrate`) and
   returned as an :class:`AutoBackupDatabase`, which backs the file up
   before its first write when the newest backup is older than 30 minutes
   (:func:`studylog.storage.backups.maybe_backup`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from studylog.errors import DatabaseError
from studylog.storage import backups, continuity, migrate
from studylog.storage.engine import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class AutoBackupDatabase(Database):
    """A :class:`Database` that makes the automatic backup before its first write.

    Attributes:
        last_backup: the backup made by this process, if any.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._checked_backup = False
        self.last_backup: backups.Backup | None = None

    @contextmanager
    def write(self) -> Iterator[Session]:
        if not self._checked_backup and self.path is not None:
            self._checked_backup = True
            self.last_backup = backups.maybe_backup(self.path) or self.last_backup
        with super().write() as session:
            yield session


class ReadOnlyDatabase(Database):
    """A database opened read-only because its file or folder cannot be written."""

    read_only = True


def file_of(url: str) -> Path | None:
    """The database file of an SQLite URL (None for memory or another backend)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def is_read_only(path: Path) -> bool:
    """Whether the file or its folder cannot be written (read-only media, permissions)."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):
        pass
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def read_only_url(path: Path) -> str:
    return f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true"


def open_prepared(url: str) -> Database:
    """The database at ``url``, checked, migrated and with automatic backups (see above).

    Raises:
        LostDatabaseError: the file a previous run used is gone or not a database.
        DatabaseError: not a studylog database, newer than this studylog, or a
            read-only database that would need a migration.
    """
    path = file_of(url)
    if path is None:
        db = Database(url)
        migrate.prepare(db)
        return db
    continuity.check(path)
    if path.exists() and is_read_only(path):
        db = ReadOnlyDatabase(read_only_url(path))
        revision = migrate.current_revision_of(path)
        if revision != migrate.HEAD_REVISION:
            raise DatabaseError(
                f"{path} is read-only and at schema {revision}; this studylog needs "
                f"{migrate.HEAD_REVISION}: copy it somewhere writable to upgrade it"
            )
        return db
    db = AutoBackupDatabase(url)
    migrate.prepare(db)
    continuity.remember(path)
    return db
