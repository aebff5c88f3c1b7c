"""Automatic backups and restore, as Anki does them.

Backups are consistent copies made with SQLite's online backup API (safe while
the app or another command writes), kept in ``backups/`` beside the database
as ``<name>-<UTC time>.db`` (``studylog-20261121T100000Z.db``):

* **automatically** before the first write of a process when the newest
  backup is older than :data:`MIN_INTERVAL` (30 minutes, Anki's
  ``minimum_interval_mins``) and the database changed since, and when the app
  quits; a command that only reads never makes one, so ``studylog today``
  costs nothing more;
* **thinned** after each backup like Anki's ``BackupFilter``
  (``rslib/src/collection/backup.rs``): every backup of today and yesterday is
  kept, then the newest of each of the next 12 days, 10 weeks (weeks start on
  Monday) and 9 months; the rest are deleted.

:func:`restore` puts a backup back: it checks the file (SQLite integrity and
a studylog schema this version can read), refuses the live file itself,
backs up the current database first, checkpoints and closes its write-ahead
log so that no old WAL is applied to the restored file, and replaces the file
with one rename (atomic on the same file system).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from studylog.errors import DatabaseError, InvalidInputError

MIN_INTERVAL = timedelta(minutes=30)
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 12, 10, 9
FOLDER = "backups"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?\.db$")
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Backup:
    """One backup file: where, when it was taken (aware UTC) and its size in bytes."""

    path: Path
    taken_at: datetime
    size: int

    def to_json(self) -> dict:
        return {"path": str(self.path), "taken_at": self.taken_at.isoformat(), "size": self.size}


def folder_of(db_path: Path) -> Path:
    """The backup folder of the database at ``db_path``."""
    return db_path.parent / FOLDER


def list_backups(db_path: Path) -> list[Backup]:
    """The backups of ``db_path``, newest first (files named as in the module docstring)."""
    folder = folder_of(db_path)
    found: list[tuple[int, Backup]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or match["stem"] != db_path.stem or not entry.is_file():
            continue
        taken = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
        # Backups taken in the same second are numbered -1, -2, ... in order.
        n = int(match["n"] or 0)
        found.append((n, Backup(Path(entry.path), taken, entry.stat().st_size)))
    found.sort(key=lambda nb: (nb[1].taken_at, nb[0]), reverse=True)
    return [backup for _, backup in found]


def latest(db_path: Path) -> Backup | None:
    backups = list_backups(db_path)
    return backups[0] if backups else None


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` starts with SQLite's 16-byte header.

    Only for a file this process has not opened through SQLite: closing any
    descriptor of a file drops every POSIX lock the process holds on it
    (SQLite's own connections are shielded only from each other), and another
    process closing its connection then takes itself for the last one,
    checkpoints and deletes the WAL, and this process's later commits go into
    the deleted file (``tests/test_backups.py``, the running app's case).
    """
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def copy_database(source: Path, dest: Path) -> None:
    """A consistent copy of ``source`` at ``dest`` (online backup API, through a temporary name).

    Raises:
        DatabaseError: either file cannot be opened or written.
    """
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            out = sqlite3.connect(tmp)
            try:
                src.backup(out)
                out.execute("PRAGMA journal_mode = DELETE")
            finally:
                out.close()
        finally:
            src.close()
        os.replace(tmp, dest)
    except (sqlite3.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseError(f"backup of {source} to {dest} failed: {exc}") from None


def _changed_since(db_path: Path, moment: datetime) -> bool:
    newest = 0.0
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            continue
    return datetime.fromtimestamp(newest, UTC) > moment


def make_backup(db_path: Path, *, now: datetime | None = None) -> Backup:
    """Back up ``db_path`` now into its backup folder, then thin the folder.

    Raises:
        DatabaseError: the copy failed.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    folder = folder_of(db_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the backup folder {folder}: {exc.strerror}") from None
    name = f"{db_path.stem}-{moment.strftime(_STAMP)}.db"
    dest, n = folder / name, 1
    while dest.exists():
        dest, n = folder / f"{db_path.stem}-{moment.strftime(_STAMP)}-{n}.db", n + 1
    copy_database(db_path, dest)
    thin(db_path, now=moment)
    return Backup(dest, moment.replace(microsecond=0), dest.stat().st_size)


def maybe_backup(
    db_path: Path, *, now: datetime | None = None, force: bool = False
) -> Backup | None:
    """A backup if the newest is older than :data:`MIN_INTERVAL` (or ``force``) and the file changed.

    For the database this process has open (before its first write, when the app
    quits): so the file is never opened here but through SQLite (see
    :func:`is_sqlite_file`; a file that is not a database fails the copy with
    :class:`DatabaseError`). Costs one folder listing and two ``stat`` calls when
    nothing is due.
    """
    if not db_path.exists():
        return None
    moment = now or datetime.now(UTC)
    newest = latest(db_path)
    if newest is not None:
        if not force and moment - newest.taken_at < MIN_INTERVAL:
            return None
        if not _changed_since(db_path, newest.taken_at):
            return None
    return make_backup(db_path, now=moment)


# --- thinning (Anki's BackupFilter) -----------------------------------------------------------


def obsolete(
    backups: Iterable[Backup],
    today: datetime,
    *,
    daily: int = KEEP_DAILY,
    weekly: int = KEEP_WEEKLY,
    monthly: int = KEEP_MONTHLY,
) -> list[Backup]:
    """The backups to delete, as Anki's ``BackupFilter.obsolete_backups`` chooses them.

    Days, weeks (from Monday) and months are counted in ``today``'s time zone.
    """
    zone = today.tzinfo or UTC
    yesterday = today.date().toordinal() - 1
    last_day = last_week = last_month = None
    limits = {"daily": daily, "weekly": weekly, "monthly": monthly}
    drop: list[Backup] = []

    def serials(backup: Backup) -> tuple[int, int, int]:
        local = backup.taken_at.astimezone(zone)
        day = local.date().toordinal()
        return day, (day - 1) // 7, local.year * 12 + local.month

    for backup in sorted(backups, key=lambda b: b.taken_at, reverse=True):
        day, week, month = serials(backup)
        stage = None
        if day >= yesterday:
            keep = True
        else:
            for stage in ("daily", "weekly", "monthly"):
                if limits[stage] > 0:
                    break
            else:
                stage = None
            if stage is None:
                keep = False
            elif stage == "daily":
                keep = last_day is None or day < last_day
            elif stage == "weekly":
                keep = last_week is None or week < last_week
            else:
                keep = last_month is None or month < last_month
        if keep:
            last_day, last_week, last_month = day, week, month
            if stage is not None:
                limits[stage] -= 1
        else:
            drop.append(backup)
    return drop


def thin(db_path: Path, *, now: datetime | None = None) -> list[Path]:
    """Delete the backups :func:`obsolete` picks (local time); return their paths."""
    today = (now or datetime.now(UTC)).astimezone()
    removed = []
    for backup in obsolete(list_backups(db_path), today):
        try:
            backup.path.unlink()
            removed.append(backup.path)
        except OSError:
            continue
    return removed


# --- checking and restoring ---------------------------------------------------------------


def check_backup(path: Path) -> str:
    """The schema revision of the studylog database at ``path``, after checking it.

    Raises:
        InvalidInputError: not an SQLite file, damaged, not studylog's, or from
            a newer studylog.
    """
    from studylog.storage import migrate

    if not path.is_file():
        raise InvalidInputError(f"{path}: no such backup file")
    if not is_sqlite_file(path):
        raise InvalidInputError(f"{path}: not an SQLite database")
    problems = migrate.integrity_problems(path)
    if problems:
        raise InvalidInputError(f"{path}: damaged ({problems[0]})")
    try:
        revision = migrate.current_revision_of(path)
    except DatabaseError as exc:
        raise InvalidInputError(str(exc)) from None
    if revision is None:
        raise InvalidInputError(f"{path}: an SQLite file, but not a studylog database")
    if revision not in migrate.known_revisions():
        raise InvalidInputError(f"{path}: written by a newer studylog (schema {revision})")
    return revision


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_live_target(db_path: Path, target: Path, what: str) -> None:
    """Refuse ``target`` when it is the database itself or one of its WAL files.

    Raises:
        InvalidInputError: naming ``what`` (``backup --out``, ``restore``).
    """
    live = [
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm"),
    ]
    if any(same_file(target, p) or os.path.realpath(target) == os.path.realpath(p) for p in live):
        raise InvalidInputError(f"{what}: {target} is the live database {db_path}; refusing")


def _close_wal(db_path: Path) -> None:
    """Fold the WAL into the file and leave rollback-journal mode: no -wal/-shm stays behind.

    Raises:
        DatabaseError: another program has the database open (the app?).
    """
    con = sqlite3.connect(db_path, timeout=2)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = con.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise DatabaseError(
                f"{db_path} is in use by another program (close the app first); nothing restored"
            )
    except sqlite3.OperationalError as exc:
        raise DatabaseError(
            f"{db_path} is in use by another program (close the app first): {exc}; nothing restored"
        ) from None
    finally:
        con.close()


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` did: the backup put back, and the backup of what it replaced."""

    restored: Path
    safety_backup: Path | None


def restore(db_path: Path, backup_path: Path, *, now: datetime | None = None) -> Restored:
    """Replace the database at ``db_path`` with the backup at ``backup_path``.

    Raises:
        InvalidInputError: the backup is not usable, or is the live file.
        DatabaseError: the database is in use, or a copy failed.
    """
    refuse_live_target(db_path, backup_path, "restore")
    check_backup(backup_path)
    safety = None
    if db_path.exists() and is_sqlite_file(db_path):
        _close_wal(db_path)
        safety = make_backup(db_path, now=now).path
    folder = db_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{db_path.name}.restoring"
    copy_database(backup_path, staged)
    for suffix in ("-wal", "-shm", "-journal"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    os.replace(staged, db_path)
    _fsync_folder(folder)
    return Restored(backup_path, safety)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
