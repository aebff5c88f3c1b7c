"""Remembering which database files studylog used, so a lost one is noticed, not replaced.

The reliability run deleted ``studylog.db`` and the next start silently made
an empty one: the journal looked wiped. Now every database file that was
opened successfully is recorded (its resolved path, one a line) in
``databases.txt`` in the user's state folder (``$XDG_STATE_HOME/studylog``,
``~/.local/state/studylog`` on Linux; ``STUDYLOG_STATE_DIR`` overrides it). A
start whose file is missing, empty or not an SQLite database, while the file
is remembered or has backups beside it, stops with a message naming the
latest backup and the commands to restore it or to start a new journal on
purpose. A first-ever start, with nothing remembered and no backups, creates
the file as before.

The check costs one ``stat`` and a 16-byte read when the file is there; the
list is read only when it is not, and written only when a new file is first
opened.
"""

from __future__ import annotations

import os
from pathlib import Path

from studylog.errors import DatabaseError
from studylog.storage import backups

STATE_ENV = "STUDYLOG_STATE_DIR"
LIST_NAME = "databases.txt"


class LostDatabaseError(DatabaseError):
    """The database a previous run used is gone or is not a database any more."""


def state_dir() -> Path:
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("studylog", appauthor=False))


def _list_path() -> Path:
    return state_dir() / LIST_NAME


def remembered() -> set[str]:
    """The resolved paths of the database files opened before."""
    try:
        text = _list_path().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {line for line in text.splitlines() if line.strip()}


def _key(path: Path) -> str:
    return os.path.realpath(path)


def remember(path: Path) -> None:
    """Record ``path`` as used (a no-op when it already is; failures are ignored)."""
    key = _key(path)
    if key in remembered():
        return
    target = _list_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as handle:
            handle.write(key + "\n")
    except OSError:
        pass  # a read-only home: nothing to remember with, nothing lost either


def forget(path: Path) -> None:
    """Drop ``path`` from the list (``studylog db new`` on purpose)."""
    key = _key(path)
    keep = sorted(remembered() - {key})
    try:
        _list_path().write_text("".join(k + "\n" for k in keep), encoding="utf-8")
    except OSError:
        pass


def is_usable(path: Path) -> bool:
    """The file exists and starts as an SQLite database."""
    return path.is_file() and backups.is_sqlite_file(path)


def check(path: Path) -> None:
    """Refuse to start on a lost database (see the module docstring).

    Raises:
        LostDatabaseError: with the latest backup and the commands to use.
    """
    if is_usable(path):
        return
    exists = path.exists() and path.stat().st_size > 0
    newest = backups.latest(path)
    if newest is None and _key(path) not in remembered():
        return  # a first start (or a foreign file, which migrate refuses)
    what = "is not a database any more" if exists else "is gone"
    where = (
        f"the latest backup is {newest.path} ({newest.taken_at:%Y-%m-%d %H:%M} UTC); "
        f"restore it with: studylog --db {path} db restore latest"
        if newest is not None
        else "there is no backup of it"
    )
    raise LostDatabaseError(
        f"{path} {what}, but studylog used it before: {where}; "
        f"or start a new, empty journal there with: studylog --db {path} db new"
    )
