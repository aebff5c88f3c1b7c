"""The state shared by CLI commands: which database, and the study calendar."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from studylog.storage.engine import Database
    from studylog.studyday import StudyCalendar

NOW_ENV = "STUDYLOG_NOW"  # fixes the clock (ISO time, UTC if no offset): for tests and demos


class AppContext:
    """Opens (creating and migrating) the database on first use."""

    def __init__(self, db_arg: str | None) -> None:
        self.db_arg = db_arg
        self._db: Database | None = None

    def database(self, *, sync_pack: bool = True) -> Database:
        """The prepared database: migrated to the newest schema and the pack synced."""
        if self._db is None:
            from studylog.paths import resolve_db_url
            from studylog.storage.opening import open_prepared

            db = open_prepared(resolve_db_url(self.db_arg))
            if sync_pack and not getattr(db, "read_only", False):
                from studylog.content.sync import sync_pack as sync

                sync(db)
            self._db = db
        return self._db

    def close(self) -> None:
        """Dispose of the database's connections (if it was opened)."""
        if self._db is not None:
            self._db.dispose()
            self._db = None

    @cached_property
    def calendar(self) -> StudyCalendar:
        from studylog.services import settings

        return settings.calendar(self.database())

    def now(self) -> datetime:
        from studylog.studyday import ensure_utc, utcnow

        fixed = os.environ.get(NOW_ENV)
        return ensure_utc(datetime.fromisoformat(fixed)) if fixed else utcnow()

    def today(self) -> date:
        return self.calendar.day_of(self.now())

    def parse_day(self, text: str | None) -> date:
        from studylog.studyday import parse_day

        return self.today() if text is None else parse_day(text, self.today())


pass_app = click.make_pass_decorator(AppContext)
