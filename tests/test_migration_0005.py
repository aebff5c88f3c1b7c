"""Revision 0005: the deck-count indexes, and the partial index the counts use for cards
without text (checked through SQLite's own query plans)."""

from __future__ import annotations

import sqlite3

from studylog.storage import migrate
from studylog.storage.engine import Database


def plan(con: sqlite3.Connection, sql: str) -> str:
    return " ".join(row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + sql))


def test_upgrade_from_0004_adds_the_indexes_and_keeps_rows(tmp_path):
    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "0004")
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO cards(front, back, kind, deck, origin, state, step, due, due_ms, reps, "
            "lapses, suspended, created_at, updated_at) VALUES ('', '', 'basic', "
            "'Imported review history', 'import', 2, NULL, '2024-08-20 10:00:00.000000', "
            "1724148000000, 3, 0, 0, '2024-08-01 10:00:00.000000', '2024-08-01 10:00:00.000000')"
        )
    migrate.prepare(db)
    db.dispose()
    assert migrate.current_revision_of(path) == migrate.HEAD_REVISION
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"ix_cards_deck", "ix_cards_no_text"} <= names
    assert con.execute("SELECT deck, front FROM cards").fetchall() == [
        ("Imported review history", "")
    ]
    assert "COVERING INDEX ix_cards_deck" in plan(
        con, "SELECT deck, suspended, state, count(*) FROM cards GROUP BY deck, suspended, state"
    )
    assert "ix_cards_no_text" in plan(con, "SELECT count(*) FROM cards WHERE front = ''")
    con.close()
