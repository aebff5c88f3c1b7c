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
    next one). A look that fails (the server restarted, the file went away for
    a moment) raises :class:`DatabaseError`; the next look connects again and
    counts as a change, since commits may have been missed meanwhile. Safe to
    call from several threads.
    """

    def __init__(self, db: Database) -> None:
        """Raises:
        DatabaseError: the database cannot be reached."""
        self._db = db
        self._lock = threading.Lock()
        self._notifications = 0  # PostgreSQL: notifications received so far
        self._connection: Connection | None = None
        self._seen: int | None = self._version()

    def _open(self) -> Connection:
        try:
            connection = self._db.engine.connect()
            if self._db.is_postgres:
                raw = connection.connection.driver_connection  # psycopg's
                # Its own for good: a pooled connection would go on listening after close.
                connection.detach()
                raw.add_notify_handler(self._on_notify)
                connection.exec_driver_sql(f"LISTEN {CHANGES_CHANNEL}")
                connection.commit()  # LISTEN takes effect at commit
        except (OperationalError, SADatabaseError) as exc:
            raise DatabaseError(f"cannot watch the database: {exc}") from None
        return connection

    def _on_notify(self, _notify: object) -> None:
        # psycopg calls it inside a query of this connection, so under self._lock.
        self._notifications += 1

    def _version(self) -> int:
        """SQLite's data version; on PostgreSQL the notifications received so far
        (the round trip takes in those that have arrived)."""
        if self._connection is None:
            self._connection = self._open()
        sql = "SELECT 1" if self._db.is_postgres else "PRAGMA data_version"
        try:
            value = int(self._connection.exec_driver_sql(sql).scalar_one())
            self._connection.rollback()  # end the read: the next look sees new commits
        except (OperationalError, SADatabaseError) as exc:
            self._drop()
            raise DatabaseError(f"cannot read the database's data version: {exc}") from None
        return self._notifications if self._db.is_postgres else value

    def _drop(self) -> None:
        """Forget the connection (broken, or closing); the next look opens a new one."""
        connection, self._connection, self._seen = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except (OperationalError, SADatabaseError):
                pass  # already gone

    def changed(self) -> bool:
        """True when a commit happened since the last look (or since the watch began,
        or the watch's connection was lost).

        Raises:
            DatabaseError: the look failed (the next one tries again)."""
        with self._lock:
            now = self._version()
            changed, self._seen = now != self._seen, now
            return changed

    def reset(self) -> None:
        """Take the commits so far as seen (call after your own write)."""
        with self._lock:
            if self._connection is None:
                return  # lost: the next look connects again and reports a change
            self._seen = self._version()

    def close(self) -> None:
        with self._lock:
            self._drop()
