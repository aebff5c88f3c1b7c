"""The engine's SQLite settings, UTC times, IMMEDIATE write transactions, study days."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from studylog.errors import InvalidInputError
from studylog.services import journal
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar, parse_day

pytestmark = pytest.mark.both_backends


@pytest.mark.sqlite_only
def test_every_connection_gets_wal_foreign_keys_and_busy_timeout(db: Database) -> None:
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_times_come_back_as_aware_utc(db: Database) -> None:
    seoul = datetime(2024, 8, 16, 19, 22, tzinfo=ZoneInfo("Asia/Seoul"))
    entry = journal.add(db, "회고", date(2024, 8, 16), now=seoul)
    again = journal.get(db, entry.id)
    assert again.created_at.tzinfo == UTC
    assert again.created_at == datetime(2024, 8, 16, 10, 22, tzinfo=UTC)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        journal.add(db, "x", date(2024, 1, 1), now=datetime(2024, 1, 1, 12))


def test_a_write_waits_for_another_writer_instead_of_failing(db: Database, db_path) -> None:
    # Another program (the app) holds the write lock for a moment.
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO journal_entries(day, body, created_at, updated_at) "
        "VALUES ('2026-01-01', 'from the app', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    released = threading.Event()

    def release() -> None:
        time.sleep(0.5)
        other.execute("COMMIT")
        released.set()

    threading.Thread(target=release).start()
    entry = journal.add(db, "from the CLI", date(2026, 1, 1), now=datetime.now(UTC))
    assert released.is_set()  # the CLI write went through only after the app committed
    assert [e.body for e in journal.on_day(db, date(2026, 1, 1))] == [
        "from the app",
        "from the CLI",
    ]
    assert entry.id == 2
    other.close()


@pytest.mark.sqlite_only
def test_write_transactions_begin_immediate(db: Database) -> None:
    statements: list[str] = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    with db.write() as session:
        session.execute(text("SELECT 1"))
    with db.read() as session:
        session.execute(text("SELECT 1"))
    event.remove(db.engine, "before_cursor_execute", record)
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


def test_a_failed_write_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        from studylog.storage.models import JournalEntry

        now = datetime.now(UTC)
        session.add(JournalEntry(day=date(2026, 1, 1), body="half", created_at=now, updated_at=now))
        session.flush()
        raise RuntimeError("boom")
    assert journal.on_day(db, date(2026, 1, 1)) == []


class TestStudyDays:
    def test_a_review_at_0130_belongs_to_the_previous_day(self) -> None:
        seoul = ZoneInfo("Asia/Seoul")
        cal = StudyCalendar(day_start_hour=4, zone=seoul)
        at_0130 = datetime(2024, 8, 17, 1, 30, tzinfo=seoul)
        assert cal.day_of(at_0130) == date(2024, 8, 16)
        assert cal.day_of(datetime(2024, 8, 17, 4, 0, tzinfo=seoul)) == date(2024, 8, 17)

    def test_the_start_hour_is_configurable(self) -> None:
        cal = StudyCalendar(day_start_hour=0, zone=UTC)
        assert cal.day_of(datetime(2024, 8, 17, 1, 30, tzinfo=UTC)) == date(2024, 8, 17)

    def test_start_and_end_of_a_day_in_utc(self) -> None:
        cal = StudyCalendar(day_start_hour=4, zone=timezone(timedelta(hours=9)))
        assert cal.start_of(date(2024, 8, 16)) == datetime(2024, 8, 15, 19, 0, tzinfo=UTC)
        assert cal.end_of(date(2024, 8, 16)) == datetime(2024, 8, 16, 19, 0, tzinfo=UTC)

    def test_day_words_and_iso_dates(self) -> None:
        today = date(2026, 11, 21)
        assert parse_day("today", today) == today
        assert parse_day("yesterday", today) == date(2026, 11, 20)
        assert parse_day("2024-02-29", today) == date(2024, 2, 29)
        with pytest.raises(InvalidInputError, match="unknown date format"):
            parse_day("2024/08/16", today)
        with pytest.raises(InvalidInputError, match="not a real date"):
            parse_day("2023-02-29", today)
