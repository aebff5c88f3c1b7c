"""Revision 0011: ``reviews`` without its foreign key to ``cards``, ``cards`` with
AUTOINCREMENT (SQLite), the graveyard's reviews back in ``reviews``; a delete made
before the upgrade can still be undone, with the card's whole history."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from studylog.services import browse, card_actions, cards
from studylog.storage import migrate
from studylog.storage.engine import Database

NOW = datetime(2024, 9, 1, 12, 0, tzinfo=UTC)
CARD = (
    "INSERT INTO cards(id, front, back, kind, deck, origin, state, step, stability, "
    "difficulty, due, due_ms, last_review, last_review_ms, reps, lapses, suspended, "
    "created_at, updated_at) VALUES (?, ?, '', 'basic', '딥러닝', 'user', 2, NULL, 3.0, 5.0, "
    "'2024-08-30 10:00:00.000000', "
    "1725012000000, '2024-08-20 10:00:00.000000', 1724148000000, 2, 0, 0, "
    "'2024-08-01 10:00:00.000000', '2024-08-01 10:00:00.000000')"
)
REVIEW = (
    "INSERT INTO reviews(id, card_id, rating, reviewed_at, reviewed_at_ms, state_before, "
    "state_after) VALUES (?, ?, 3, ?, ?, 1, 2)"
)
REVIEW_COLUMNS = (
    "card_id, rating, reviewed_at, reviewed_at_ms, duration_ms, state_before, step_before, "
    "stability_before, difficulty_before, due_before, last_review_before, due_before_ms, "
    "last_review_before_ms, state_after, step_after, stability_after, difficulty_after, "
    "due_after, interval_days"
)


def _schema(con: sqlite3.Connection) -> dict[tuple[str, str], str | None]:
    return {
        (kind, name): sql
        for kind, name, sql in con.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        )
    }


def _at_0010_with_a_pending_grave(tmp_path: Path) -> Path:
    """Three cards with two answers each; card 3 (the newest) deleted the 0010 way
    (rows in the graveyard, an undo step naming grave 1); afterwards a new answer
    took review id 6, one of the deleted card's review ids, as SQLite would."""
    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, "0010")
    db.dispose()
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO tags(id, name) VALUES (1, 'rnn')")
        for card in (1, 2, 3):
            con.execute(CARD, (card, f"카드 {card}"))
            con.execute("INSERT INTO card_tags(card_id, tag_id) VALUES (?, 1)", (card,))
            for k in (0, 1):
                at = 1724148000000 + (card * 2 + k) * 3_600_000
                shown = datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.000000")
                con.execute(REVIEW, (card * 2 + k - 1, card, shown, at))
        # the 0010 delete of card 3 (storage/graves.py as it was)
        for table, key in (("cards", "id"), ("reviews", "card_id"), ("card_tags", "card_id")):
            columns = ", ".join(r[1] for r in con.execute(f"PRAGMA table_info({table})"))
            con.execute(
                f"INSERT INTO deleted_{table} (grave_id, {columns}) "
                f"SELECT 1, {columns} FROM {table} WHERE {key} = 3"
            )
        for table, key in (("card_tags", "card_id"), ("reviews", "card_id"), ("cards", "id")):
            con.execute(f"DELETE FROM {table} WHERE {key} = 3")
        step = {
            "label": "Delete 1 card", "kind": "delete", "before": [], "inserted": [],
            "deleted": [], "grave": 1, "grave_cards": 1,
        }  # fmt: skip
        con.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?)",
            (card_actions.UNDO_KEY, json.dumps([step])),
        )
        con.execute(  # a new answer to card 1 takes id 6 (the largest left is 4)
            f"INSERT INTO reviews(id, {REVIEW_COLUMNS}) SELECT 6, {REVIEW_COLUMNS} "
            "FROM reviews WHERE id = 1"
        )
    return path


def test_upgrade_rebuilds_the_tables_exactly_and_keeps_every_row(tmp_path: Path) -> None:
    path = _at_0010_with_a_pending_grave(tmp_path)
    with sqlite3.connect(path) as con:
        before = _schema(con)
        graveyard_reviews = con.execute(
            f"SELECT {REVIEW_COLUMNS} FROM deleted_reviews ORDER BY id"
        ).fetchall()
        live_reviews = con.execute(f"SELECT id, {REVIEW_COLUMNS} FROM reviews").fetchall()
        links = con.execute("SELECT * FROM card_tags ORDER BY card_id").fetchall()
    db = Database(f"sqlite:///{path}")
    assert migrate.prepare(db) is not None  # backed up first
    assert migrate.current_revision_of(path) == migrate.HEAD_REVISION
    with sqlite3.connect(path) as con:
        # Later revisions' own tables aside (0012: undo_data).
        after = {k: v for k, v in _schema(con).items() if k[1] != "undo_data"}
        # Every index and trigger as it was; the tables differ only as designed.
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        assert changed == {
            ("table", "cards"),
            ("table", "reviews"),
            ("table", "deleted_reviews"),
            ("index", "ix_deleted_reviews_grave"),
        }
        assert ("table", "deleted_reviews") not in after
        assert after[("table", "cards")] == before[("table", "cards")].replace(
            "CREATE TABLE cards (", 'CREATE TABLE "cards" ('
        ).replace("id INTEGER NOT NULL, ", "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, ", 1
        ).replace("\n\tPRIMARY KEY (id), ", "")  # fmt: skip
        assert "FOREIGN KEY" not in after[("table", "reviews")]
        assert after[("table", "reviews")] == before[("table", "reviews")].replace(
            "CREATE TABLE reviews (", 'CREATE TABLE "reviews" ('
        ).replace(
            ", \n\tCONSTRAINT fk_reviews_card FOREIGN KEY(card_id) REFERENCES cards (id) "
            "ON DELETE CASCADE", ""
        )  # fmt: skip
        # The live reviews keep their ids; the graveyard's are back, the one whose id
        # was taken (6) under a new id.
        assert set(con.execute(f"SELECT id, {REVIEW_COLUMNS} FROM reviews")) >= set(live_reviews)
        back = con.execute(
            f"SELECT id, {REVIEW_COLUMNS} FROM reviews WHERE card_id = 3 ORDER BY reviewed_at_ms"
        ).fetchall()
        assert [r[1:] for r in back] == graveyard_reviews
        assert back[0][0] == 5 and back[1][0] > 6
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 7
        assert con.execute("SELECT * FROM card_tags ORDER BY card_id").fetchall() == links
        assert con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'cards'").fetchall() == [
            (3,)
        ]
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    with db.engine.connect() as conn:  # the runner set foreign keys back on
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

    (fresh,) = cards.create(db, "새 카드", "뒤", now=NOW)
    assert fresh.id == 4  # not 3: that id is the deleted card's, whose history is kept
    assert browse.card_info(db, fresh.id, now=NOW).reviews == []
    # The delete made before the upgrade is undone with the card's whole history.
    assert card_actions.undo(db) == "Delete 1 card"
    info = browse.card_info(db, 3, now=NOW)
    assert [r.reviewed_at for r in info.reviews] == [
        datetime.fromtimestamp(r[3] / 1000, UTC) for r in graveyard_reviews
    ]
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT tag_id FROM card_tags WHERE card_id = 3").fetchall() == [(1,)]
        # its search-index row, deleted by 0010's delete, is written again by the undo
        assert con.execute("SELECT title FROM search_index WHERE rowid = 3 * 8 + 3").fetchall() == [
            ("카드 3",)
        ]
    db.dispose()


def test_the_rebuild_refuses_to_run_with_foreign_keys_on(tmp_path: Path) -> None:
    path = _at_0010_with_a_pending_grave(tmp_path)
    db = Database(f"sqlite:///{path}")
    from alembic import command

    with (
        pytest.raises(RuntimeError, match="foreign keys off"),
        db.engine.begin() as conn,  # the engine's connections have foreign keys on
    ):
        command.upgrade(migrate._alembic_config(conn), "0011")
    db.dispose()
    assert migrate.current_revision_of(path) == "0010"
    with sqlite3.connect(path) as con:  # nothing cascaded away
        assert con.execute("SELECT count(*) FROM card_tags").fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM reviews").fetchone() == (5,)


def test_downgrade_puts_a_pending_graves_reviews_back_in_the_graveyard(tmp_path: Path) -> None:
    path = _at_0010_with_a_pending_grave(tmp_path)
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db, make_backup=False)
    migrate.downgrade(db.engine, "0010")
    db.dispose()
    with sqlite3.connect(path) as con:
        assert con.execute(
            "SELECT count(*) FROM deleted_reviews WHERE grave_id = 1"
        ).fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM reviews WHERE card_id = 3").fetchone() == (0,)
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'reviews'").fetchone()[0]
        assert "FOREIGN KEY(card_id) REFERENCES cards (id) ON DELETE CASCADE" in sql
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'cards'").fetchone()[0]
        assert "AUTOINCREMENT" not in sql and "PRIMARY KEY (id)" in sql
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
