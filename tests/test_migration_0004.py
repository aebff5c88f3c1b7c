"""Migration 0004 (integer times): every row of a 0003 database survives, and each time's
integer twin holds the floored epoch milliseconds of its text."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.models import Card, Review
from tests.test_migration_0003 import SECOND_REVISION_ROWS
from tests.test_migrations import FIRST_REVISION_ROWS
from tests.twins import TWINS, expected_ms

THIRD_REVISION_ROWS = {
    "import_records": [
        {"id": 1, "kind": "csv_card", "key": "k" * 64, "target_id": 1, "ref": None, "source": "카드.csv", "imported_at": "2024-08-16 10:22:00.000000"}
    ],
    "suggested_cards": [
        {"id": 1, "front": "어텐션", "back": "주목 🧠", "kind": "basic", "deck": "Default", "tags": '["밑바닥2"]', "rule": "colon", "source": "til.md", "line": 3, "day": "2024-08-16", "entry_id": 1, "status": "pending", "content_hash": "h" * 64, "card_id": 1, "created_at": "2024-08-16 10:22:00.000000", "decided_at": None}
    ],
}  # fmt: skip

# Times as old studylogs and hand-written SQL left them: microseconds, whole
# milliseconds, no fraction at all, before 1970, a leap day, the last
# microsecond of a millisecond, NULLs.
_CARD = FIRST_REVISION_ROWS["cards"][0]
_REVIEW = FIRST_REVISION_ROWS["reviews"][0]
EXTRA_CARDS = [
    {**_CARD, "id": 2, "external_id": "x2", "due": "2024-02-29 23:59:59.999999", "last_review": "2024-02-28 00:00:00.000999"},
    {**_CARD, "id": 3, "external_id": "x3", "due": "2024-08-20 10:00:00", "last_review": None, "state": 1, "step": 0, "stability": None, "difficulty": None},
    {**_CARD, "id": 4, "external_id": "x4", "due": "1969-12-31 23:59:59.500000", "last_review": "1969-07-20 20:17:40.123456"},
]  # fmt: skip
EXTRA_REVIEWS = [
    {**_REVIEW, "id": 2, "card_id": 2, "reviewed_at": "2024-02-28 00:00:00.000999", "due_before": None, "last_review_before": None},
    {**_REVIEW, "id": 3, "card_id": 4, "reviewed_at": "1969-07-20 20:17:40.123456", "due_before": "1969-07-20 20:17:40", "last_review_before": "1969-07-19 00:00:00.001000"},
]  # fmt: skip


def _insert(con: sqlite3.Connection, table: str, row: dict) -> None:
    names, marks = ", ".join(row), ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))


def test_rows_of_revision_0003_survive_and_get_exact_integer_times(tmp_path: Path) -> None:
    path = tmp_path / "at-0003.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "0003")
    rows = {**FIRST_REVISION_ROWS, **SECOND_REVISION_ROWS, **THIRD_REVISION_ROWS}
    rows["cards"] = [*rows["cards"], *EXTRA_CARDS]
    rows["reviews"] = [*rows["reviews"], *EXTRA_REVIEWS]
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    plain = {t for t in tables if t != "alembic_version" and not t.startswith("search_index")}
    assert plain == set(rows), "add rows for every table of revision 0003"
    for table, table_rows in rows.items():
        for row in table_rows:
            _insert(con, table, row)
    con.commit()
    con.close()

    backup = migrate.prepare(db)
    assert backup is not None and backup.exists()  # the backup came first
    assert migrate.current_revision_of(path) == migrate.HEAD_REVISION
    with sqlite3.connect(backup) as old:
        assert old.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)
        assert old.execute("SELECT count(*) FROM reviews").fetchone() == (3,)

    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    for table, table_rows in rows.items():
        for row in table_rows:
            where = " AND ".join(f"{k} IS ?" for k in row)
            found = con.execute(
                f"SELECT * FROM {table} WHERE {where}", list(row.values())
            ).fetchall()
            assert len(found) == 1, f"{table} lost {row}"
            for column, twin in TWINS.get(table, {}).items():
                assert found[0][twin] == expected_ms(row[column]), (table, row["id"], column)
    # spot checks against hand-computed values
    due_ms = dict(con.execute("SELECT id, due_ms FROM cards").fetchall())
    assert due_ms[2] == 1_709_251_199_999  # 2024-02-29 23:59:59.999 UTC
    assert due_ms[4] == -500
    assert con.execute("SELECT last_review_ms FROM cards WHERE id = 3").fetchone()[0] is None
    assert con.execute("SELECT last_review_ms FROM cards WHERE id = 4").fetchone()[0] == (
        -14_182_939_877
    )
    indexes = {r[1] for r in con.execute("PRAGMA index_list(reviews)")}
    assert "ix_reviews_reviewed_at_ms" in indexes
    # the search index still finds the cards (no FTS trigger was lost or fired by the fill)
    hits = con.execute("SELECT count(*) FROM search_index WHERE kind = 'card'").fetchone()[0]
    assert hits == 4
    con.close()

    # The ORM reads the migrated rows, and an answer-like write keeps the twins in step.
    moment = datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=UTC)
    with db.write() as s:
        card = s.get(Card, 2)
        card.due = moment
        card.last_review = moment
    with db.read() as s:
        card = s.get(Card, 2)
        assert card.due == datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)
        assert card.due_ms == card.last_review_ms == 1_795_255_200_123
        assert [r.reviewed_at_ms for r in s.scalars(select(Review).order_by(Review.id))] == [
            1_723_802_400_000,
            1_709_078_400_000,
            -14_182_939_877,
        ]
    db.dispose()


def test_downgrade_to_0003_drops_only_the_twins(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "head")
    con = sqlite3.connect(path)
    for table in ("concepts", "cards", "card_tags", "tags", "reviews"):
        for row in FIRST_REVISION_ROWS[table]:
            _insert(con, table, row)
    con.commit()
    con.close()

    migrate.downgrade(db.engine, "0003")
    con = sqlite3.connect(path)
    columns = {r[1] for r in con.execute("PRAGMA table_info(cards)")}
    assert "due_ms" not in columns and "due" in columns
    # nothing cascaded away: the card's review and tag are still there
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM card_tags").fetchone() == (1,)
    con.close()
    db.dispose()
