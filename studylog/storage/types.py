"""Column types shared by the models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLAlchemy's default storage format of DATETIME on SQLite (sqlalchemy.dialects.sqlite.DATETIME)
_SQLITE_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime.

    SQLite has no time zone type; values are stored as naive UTC text
    (``YYYY-MM-DD HH:MM:SS.ffffff``) so that they sort and compare correctly in
    SQL, and come back as aware UTC datetimes. Naive values are refused when
    written, because their zone would be a guess.
    """

    impl = DateTime
    cache_ok = True
    _floor_ms = False

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: studylog stores aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one function that gives the text SQLAlchemy's chain gives
        (:meth:`process_bind_param`, then DATETIME's format): a time is bound several
        times per answer, and the chain's three calls and two datetime copies cost more
        than the formatting. Other dialects (and a changed storage format) keep the chain.
        """
        impl = self.impl_instance.dialect_impl(dialect)
        if dialect.name != "sqlite" or getattr(impl, "_storage_format", None) != _SQLITE_FORMAT:
            return super().bind_processor(dialect)
        floor = self._floor_ms

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: studylog stores aware UTC times only")
            v = value.astimezone(UTC)
            us = v.microsecond - v.microsecond % 1000 if floor else v.microsecond
            return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 - SQLAlchemy's format
                v.year,
                v.month,
                v.day,
                v.hour,
                v.minute,
                v.second,
                us,
            )

        return process

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
    _floor_ms = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        stored = super().process_bind_param(value, dialect)
        if stored is None:
            return None
        return stored.replace(microsecond=stored.microsecond - stored.microsecond % 1000)
