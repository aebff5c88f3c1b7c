"""Has anything been committed to the collection since the last look?

SQLite's ``PRAGMA data_version`` on a connection changes when *another*
connection (this process's own sessions, or the CLI in another process)
commits; it costs one pragma, no table read. :class:`ChangeWatch` holds such a
connection of its own, which never writes, so every commit counts. The app
polls it about once a second to show writes made elsewhere.

PostgreSQL has no data version. There every studylog write transaction
sends a notification on :data:`~studylog.storage.engine.CHANGES_CHANNEL` at
commit (``pg_notify`` in the statement that takes the write lock), and the
watch's connection listens on it (``LISTEN``). PostgreSQL delivers a notification
only to the sessions connected to the database it was sent in, so writes to
another database on the same server never count, and a rolled-back write
sends none. Each look is one ``SELECT 1`` round trip, during which psycopg
hands over the notifications that have arrived. Writes made without studylog
(``psql``) send none: they show when a screen is visited again.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError

from studylog.errors import DatabaseError
from studylog.storage.engine import CHANGES_CHANNEL, Database


class ChangeWatch:
    """Tells whether any connection committed to ``db`` since the last look.

    After a write of your own, :meth:`reset` absorbs it (a commit made by
    another process in the same instant is absorbed too, and shows with the
    next one). Safe to call from several threads.
    """

    def __init__(self, db: Database) -> None:
        self._lock = threading.Lock()
        self._postgres = db.is_postgres
        self._notifications = 0  # PostgreSQL: notifications received so far
        try:
            self._connection: Connection = db.engine.connect()
            if self._postgres:
                raw = self._connection.connection.driver_connection  # psycopg's
                # Its own for good: a pooled connection would go on listening after close.
                self._connection.detach()
                raw.add_notify_handler(self._on_notify)
                self._connection.exec_driver_sql(f"LISTEN {CHANGES_CHANNEL}")
                self._connection.commit()  # LISTEN takes effect at commit
        except (OperationalError, SADatabaseError) as exc:
            raise DatabaseError(f"cannot watch the database: {exc}") from None
        self._seen = self._version()

    def _on_notify(self, _notify: object) -> None:
        # psycopg calls it inside a query of this connection, so under self._lock.
        self._notifications += 1

    def _version(self) -> int:
        """SQLite's data version; on PostgreSQL the notifications received so far
        (the round trip takes in those that have arrived)."""
        sql = "SELECT 1" if self._postgres else "PRAGMA data_version"
        try:
            value = int(self._connection.exec_driver_sql(sql).scalar_one())
            self._connection.rollback()  # end the read: the next look sees new commits
        except (OperationalError, SADatabaseError) as exc:
            raise DatabaseError(f"cannot read the database's data version: {exc}") from None
        return self._notifications if self._postgres else value

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
