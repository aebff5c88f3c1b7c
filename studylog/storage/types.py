"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime.

    SQLite has no time zone type; values are stored as naive UTC text
    (``YYYY-MM-DD HH:MM:SS.ffffff``) so that they sort and compare correctly in
    SQL, and come back as aware UTC datetimes. Naive values are refused when
    written, because their zone would be a guess.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: studylog stores aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class MillisecondUTCDateTime(UTCDateTime):
    """A :class:`UTCDateTime` stored to the millisecond (the times with an integer twin).

    Sub-millisecond digits are dropped (floored) when written, so the text and
    its ``*_ms`` twin (:mod:`studylog.storage.times`) are the same instant.
    """

    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        stored = super().process_bind_param(value, dialect)
        if stored is None:
            return None
        return stored.replace(microsecond=stored.microsecond - stored.microsecond % 1000)
