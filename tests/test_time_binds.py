"""The fused SQLite bind processor of the time types gives the exact text SQLAlchemy's own
chain gives (process_bind_param, then DATETIME's storage format), and refuses naive times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from studylog.storage.types import MillisecondUTCDateTime, UTCDateTime

SEOUL = timezone(timedelta(hours=9))
TIMES = [
    datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
    datetime(2026, 11, 21, 10, 0, 0, 999_999, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 123_456, tzinfo=UTC),
    datetime(2026, 1, 1, 8, 30, 5, 1_500, tzinfo=SEOUL),  # 2025-12-31 23:30:05 UTC
    datetime(1, 1, 1, 9, 0, tzinfo=SEOUL),
    None,
]


@pytest.mark.parametrize("kind", [UTCDateTime, MillisecondUTCDateTime])
def test_fused_bind_equals_sqlalchemys_chain(kind):
    dialect = sqlite.dialect()
    # as SQLAlchemy takes them: the type adapted to the dialect (impl = sqlite DATETIME)
    fused = kind()._cached_bind_processor(dialect)
    chain = TypeDecorator.bind_processor(kind().dialect_impl(dialect), dialect)
    assert fused is not chain
    for moment in TIMES:
        assert fused(moment) == chain(moment)


def test_the_values_studylog_stores():
    dialect = sqlite.dialect()
    moment = datetime(2026, 1, 1, 8, 30, 5, 1_500, tzinfo=SEOUL)
    assert UTCDateTime()._cached_bind_processor(dialect)(moment) == "2025-12-31 23:30:05.001500"
    assert (
        MillisecondUTCDateTime()._cached_bind_processor(dialect)(moment)
        == "2025-12-31 23:30:05.001000"
    )


@pytest.mark.parametrize("kind", [UTCDateTime, MillisecondUTCDateTime])
def test_naive_times_are_refused(kind):
    with pytest.raises(ValueError, match="naive datetime"):
        kind()._cached_bind_processor(sqlite.dialect())(datetime(2026, 11, 21, 10, 0))
