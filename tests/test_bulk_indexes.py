"""Bulk card updates drop and rebuild the indexes of ``cards``: same indexes after, none lost
on a failure (the transaction rolls them back), and the same rows as a plain update."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from studylog.services import cards, review, settings
from studylog.storage import bulk
from studylog.storage.models import Card
from tests.conftest import NOW


def _indexes(db) -> list[tuple[str, str]]:
    with db.read() as s:
        rows = s.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'cards' AND sql IS NOT NULL ORDER BY name"
            )
        )
        return [tuple(r) for r in rows]


def _cards(db) -> list[tuple]:
    with db.read() as s:
        return [
            (c.id, c.state, c.stability, c.difficulty, c.due, c.due_ms, c.reps)
            for c in s.scalars(select(Card).order_by(Card.id))
        ]


def _collection(db) -> None:
    settings.put(db, settings.TIMEZONE, "UTC")
    settings.update(db, {"enable_fuzz": False})
    for i in range(12):
        cid = cards.create(db, f"질문 {i} 🧠", "답", now=NOW)[0].id
        moment = NOW
        for rating in (3, 3, 1 + i % 4, 3):
            moment = max(review.answer(db, cid, rating, now=moment).card.due, moment) + timedelta(
                hours=1
            )


def test_a_rebuilt_update_writes_the_same_rows_and_keeps_every_index(db, tmp_path, monkeypatch):
    _collection(db)
    plain_db_indexes = _indexes(db)
    assert any(name == "ix_cards_due" for name, _ in plain_db_indexes)
    # the same change twice: once below the threshold (plain), once rebuilding the indexes
    import shutil

    from studylog.storage.engine import Database

    other_path = tmp_path / "other.db"
    db.dispose()
    shutil.copy(db.engine.url.database, other_path)
    other = Database(f"sqlite:///{other_path}")
    settings.update(db, {"desired_retention": 0.8})
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)
    settings.update(other, {"desired_retention": 0.8})
    assert _cards(other) == _cards(db)
    assert _indexes(other) == plain_db_indexes
    with other.read() as s:
        plan = s.execute(
            text("EXPLAIN QUERY PLAN SELECT id FROM cards WHERE suspended = 0 AND due < '2027'")
        ).fetchall()
    assert any("ix_cards_due" in str(row) for row in plan)
    other.dispose()


def test_a_failed_bulk_update_loses_no_index(db, monkeypatch):
    _collection(db)
    before, rows_before = _indexes(db), _cards(db)
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.write() as s:
        with bulk.card_indexes_rebuilt(s, 10):
            s.execute(text("UPDATE cards SET reps = reps + 1"))
            raise Boom
    assert _indexes(db) == before and _cards(db) == rows_before
