"""Revision 0008: the text-time index of ``reviews`` is dropped; every query that ranged
over the text time ranges over the integer twin's index instead (checked through SQLite's
own query plans of the statements studylog runs), with the same answers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import event

from studylog.interchange.json_export import write_json
from studylog.services import today
from studylog.storage import deck_rows, migrate
from studylog.storage import review_rows as rows
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar

CALENDAR = StudyCalendar(4, UTC)  # study days start at 04:00 UTC
DAY = date(2024, 8, 20)  # 2024-08-20 04:00 to 2024-08-21 04:00 UTC

# (text time as studylog wrote it, its twin in epoch ms, state before, last review before
# and its twin)
REVIEWS = [
    # before revision 0004 times kept microseconds: 999.5 ms past the second is still
    # the day before (its twin is floored to ...999)
    ("2024-08-20 03:59:59.999500", 1724126399999, 0, None, None),
    ("2024-08-20 04:00:00.000000", 1724126400000, 2, "2024-08-10 09:00:00.000000", 1723280400000),
    ("2024-08-20 18:30:00.000000", 1724178600000, 0, None, None),
    ("2024-08-21 03:59:59.999000", 1724212799999, 2, "2024-08-20 18:30:00.000000", 1724178600000),
    ("2024-08-21 04:00:00.000000", 1724212800000, 2, "2024-08-21 03:59:59.999000", 1724212799999),
]


def plan(con: sqlite3.Connection, sql: str, args) -> str:  # noqa: ANN001
    return " | ".join(row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + sql, args))


def _at_0007(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "0007")
    db.dispose()
    with sqlite3.connect(path) as con:
        assert "ix_reviews_reviewed_at" in _indexes(con)
        con.execute(
            "INSERT INTO cards(id, front, back, kind, deck, origin, state, step, due, due_ms, "
            "reps, lapses, suspended, created_at, updated_at) VALUES (1, '어텐션', '', 'basic', "
            "'딥러닝', 'user', 2, NULL, '2024-08-30 10:00:00.000000', 1725012000000, 5, 0, 0, "
            "'2024-08-01 10:00:00.000000', '2024-08-01 10:00:00.000000')"
        )
        for row in REVIEWS:
            con.execute(
                "INSERT INTO reviews(card_id, rating, reviewed_at, reviewed_at_ms, state_before, "
                "last_review_before, last_review_before_ms, state_after) "
                "VALUES (1, 3, ?, ?, ?, ?, ?, 2)",
                row,
            )
    return path


def _indexes(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_upgrade_drops_the_text_time_index_keeps_rows_and_backs_up(tmp_path):
    path = _at_0007(tmp_path)
    db = Database(f"sqlite:///{path}")
    backup = migrate.prepare(db)
    db.dispose()
    assert backup is not None and backup.exists()
    assert migrate.current_revision_of(path) == migrate.HEAD_REVISION
    with sqlite3.connect(path) as con:
        names = _indexes(con)
        assert "ix_reviews_reviewed_at" not in names
        assert {"ix_reviews_reviewed_at_ms", "ix_reviews_card_time"} <= names
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == len(REVIEWS)


def test_a_new_database_has_the_schema_of_a_migrated_one(tmp_path):
    fresh = Database(f"sqlite:///{tmp_path / 'new.db'}")
    migrate.prepare(fresh)
    fresh.dispose()
    with sqlite3.connect(tmp_path / "new.db") as con:
        names = {n for n in _indexes(con) if n.startswith("ix_reviews")}
    assert names == {"ix_reviews_reviewed_at_ms", "ix_reviews_card_time"}


def test_downgrade_brings_the_index_back(tmp_path):
    from alembic import command

    path = _at_0007(tmp_path)
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "0008")
    with db.engine.begin() as connection:
        command.downgrade(migrate._alembic_config(connection), "0007")
    db.dispose()
    with sqlite3.connect(path) as con:
        assert "ix_reviews_reviewed_at" in _indexes(con)
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == len(REVIEWS)


def test_day_queries_count_the_same_answers_through_the_ms_index(tmp_path):
    path = _at_0007(tmp_path)
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db, make_backup=False)
    seen: list[tuple[str, object]] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if "FROM reviews" in statement:
            seen.append((statement, parameters))

    start, end = CALENDAR.start_of(DAY), CALENDAR.end_of(DAY)
    # the three answers from 04:00 to 03:59:59.999 the next day, not the microsecond one
    assert today.reviews_on(db, DAY, CALENDAR) == 3
    assert today.reviews_on(db, date(2024, 8, 19), CALENDAR) == 1
    with db.engine.connect() as conn:
        log = rows.day_log(conn, start, end)
        assert sorted(log.rows) == [2, 3, 4]
        assert (log.new_done, log.reviews_done) == (1, 2)
        done = deck_rows.done_today(conn, start, end)
        assert (done["딥러닝"].new, done["딥러닝"].review) == (1, 2)
    assert today.streak(db, date(2024, 8, 21), CALENDAR) == 3

    con = sqlite3.connect(path)
    ranged = [(s, p) for s, p in seen if "reviewed_at_ms >=" in s]
    assert len(ranged) >= 4
    for statement, parameters in ranged:
        found = plan(con, statement, parameters)
        assert "ix_reviews_reviewed_at_ms" in found, (statement, found)
        assert "SCAN reviews" not in found, (statement, found)
    assert not [s for s, _ in seen if "reviewed_at >=" in s or "reviewed_at <" in s]
    con.close()
    db.dispose()


def test_json_export_keeps_the_time_order_without_a_sort_of_its_own(tmp_path):
    import io
    import json

    path = _at_0007(tmp_path)
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db, make_backup=False)
    out = io.StringIO()
    write_json(db, out)
    db.dispose()
    exported = json.loads(out.getvalue())["reviews"]
    times = [r["reviewed_at"] for r in exported]
    assert len(times) == len(REVIEWS)
    assert times == sorted(times)
    assert datetime.fromisoformat(times[0]).replace(tzinfo=UTC) < CALENDAR.start_of(DAY)
