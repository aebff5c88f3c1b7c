"""Has anything been committed to the collection since the last look?

SQLite's ``PRAGMA data_version`` on a connection changes when *another*
connection (this process's own sessions, or the CLI in another process)
commits; it costs one pragma, no table read. :class:`ChangeWatch` holds such a
connection of its own, which never writes, so every commit counts. The app
polls it about once a second to show writes made elsewhere.

PostgreSQL has no data version; there the watch reads the server's next
transaction id (``pg_snapshot_xmax(pg_current_snapshot())``), which moves
whenever any transaction that writes begins, on any connection. It is
cluster-wide: a write to another database on the same server also counts as
a change (one needless re-read, never a missed write).
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError

from studylog.errors import DatabaseError
from studylog.storage.engine import Database


class ChangeWatch:
    """Tells whether any connection committed to ``db`` since the last look.

    After a write of your own, :meth:`reset` absorbs it (a commit made by
    another process in the same instant is absorbed too, and shows with the
    next one). Safe to call from several threads.
    """

    def __init__(self, db: Database) -> None:
        self._lock = threading.Lock()
        try:
            self._connection: Connection = db.engine.connect()
        except (OperationalError, SADatabaseError) as exc:
            raise DatabaseError(f"cannot watch the database: {exc}") from None
        self._sql = (
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
            if db.is_postgres
            else "PRAGMA data_version"
        )
        self._seen = self._version()

    def _version(self) -> int:
        try:
            value = int(self._connection.exec_driver_sql(self._sql).scalar_one())
            self._connection.rollback()  # end the read: the next look sees new commits
        except (OperationalError, SADatabaseError) as exc:
            raise DatabaseError(f"cannot read the database's data version: {exc}") from None
        return value

    def changed(self) -> bool:
        """True when a commit happened since the last look (or since the watch began)."""
        with self._lock:
            now = self._version()
            changed, self._seen = now != self._seen, now
            return changed

    def reset(self) -> None:
        """Take the commits so far as seen (call after your own write)."""
        with self._lock:
            self._seen = self._version()

    def close(self) -> None:
        with self._lock:
            self._connection.close()
