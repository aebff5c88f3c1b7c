"""Migration 0003 (imports): every row of a 0002 database survives, and the new tables work."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from studylog.errors import DatabaseError
from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.import_models import ImportRecord, SuggestedCard
from tests.test_migrations import FIRST_REVISION_ROWS

# Rows for the tables revision 0002 added, written with plain SQL as studylog 0002 wrote them.
SECOND_REVISION_ROWS = {
    "demo_results": [
        {"id": 1, "key": "k" * 64, "concept_slug": "attention", "source_path": None, "code_hash": "c" * 64, "python_version": "3.11.9", "numpy_version": "2.1.0", "status": "ok", "duration_ms": 120, "outputs": '[{"kind": "text", "text": "어텐션 🧠"}]', "error": None, "traceback": None, "limit_hit": None, "truncated": 0, "ran_at": "2024-08-16 10:22:00.000000"}
    ],
    "trusted_code": [{"code_hash": "t" * 64, "approved_at": "2024-08-16 10:22:00.000000"}],
}  # fmt: skip


def _table_names(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_rows_of_revision_0002_survive_and_the_new_tables_exist(tmp_path: Path) -> None:
    path = tmp_path / "at-0002.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "0002")
    rows = {**FIRST_REVISION_ROWS, **SECOND_REVISION_ROWS}
    con = sqlite3.connect(path)
    plain = {
        t for t in _table_names(con) if t != "alembic_version" and not t.startswith("search_index")
    }
    assert plain == set(rows), "add rows for every table of revision 0002"
    for table, table_rows in rows.items():
        for row in table_rows:
            names, marks = ", ".join(row), ", ".join("?" for _ in row)
            con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))
    con.commit()
    con.close()

    backup = migrate.prepare(db)
    assert backup is not None and backup.exists()
    assert migrate.current_revision_of(path) == migrate.HEAD_REVISION

    con = sqlite3.connect(path)
    assert {"import_records", "suggested_cards"} <= _table_names(con)
    for table, table_rows in rows.items():
        for row in table_rows:
            where = " AND ".join(f"{k} IS ?" for k in row)
            found = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", list(row.values()))
            assert found.fetchone()[0] == 1, f"{table} lost {row}"
    con.close()

    # The new tables take rows that point at the old ones; their constraints hold.
    now = datetime(2026, 11, 21, 10, tzinfo=UTC)
    with db.write() as s:
        s.add(
            ImportRecord(
                kind="note_entry", key="a" * 64, target_id=1, source="til.md", imported_at=now
            )
        )
        s.add(
            SuggestedCard(
                front="어텐션", back="원하는 정보에 주목하는 기법 🧠", kind="basic", deck="Default",
                tags=["밑바닥2"], rule="colon", source="til.md", line=3, entry_id=1,
                status="pending", content_hash="h" * 64, created_at=now,
            )
        )  # fmt: skip
    with db.read() as s:
        suggestion = s.scalars(select(SuggestedCard)).one()
        assert (suggestion.front, suggestion.tags, suggestion.entry_id) == (
            "어텐션",
            ["밑바닥2"],
            1,
        )
    with pytest.raises(DatabaseError, match="UNIQUE"), db.write() as s:
        s.add(ImportRecord(kind="note_entry", key="a" * 64, source="again.md", imported_at=now))
    # Deleting the journal entry keeps the suggestion, detached.
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("DELETE FROM journal_entries WHERE id = 1")
    con.commit()
    assert con.execute("SELECT entry_id FROM suggested_cards").fetchone() == (None,)
    con.close()
    db.dispose()


def test_downgrade_to_0002_drops_only_the_new_tables(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "head")

    migrate.downgrade(db.engine, "0002")
    con = sqlite3.connect(path)
    names = _table_names(con)
    assert "import_records" not in names and "suggested_cards" not in names
    assert {"cards", "demo_results", "trusted_code"} <= names
    con.close()
    db.dispose()
