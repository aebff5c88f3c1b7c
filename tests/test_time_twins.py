"""Integer time twins: kept in step by the ORM and by the bulk write functions, and the
check that the suite runs after every test really catches a write that forgets them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from studylog.scheduling import batch
from studylog.services import cards, review
from studylog.storage import bulk
from studylog.storage.models import Card, Review
from studylog.storage.times import floor_ms, from_ms, to_ms, with_ms
from tests.twins import expected_ms, out_of_step

pytestmark = pytest.mark.both_backends

T = datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=UTC)


def test_to_ms_floors_and_round_trips() -> None:
    assert to_ms(T) == 1_795_255_200_123
    assert from_ms(to_ms(T)) == floor_ms(T) == T.replace(microsecond=123000)
    before_1970 = datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert to_ms(before_1970) == -1  # floored, not truncated towards zero
    assert to_ms(None) is None and from_ms(None) is None
    with pytest.raises(ValueError, match="naive"):
        to_ms(datetime(2026, 1, 1))


def test_with_ms_adds_the_twins_of_the_times_it_is_given() -> None:
    values = with_ms("reviews", {"card_id": 1, "reviewed_at": T, "due_before": None})
    assert values == {
        "card_id": 1,
        "reviewed_at": T.replace(microsecond=123000),
        "reviewed_at_ms": 1_795_255_200_123,
        "due_before": None,
        "due_before_ms": None,
    }


def test_answers_and_undo_keep_the_twins_and_store_milliseconds(db) -> None:
    review.configure(db, enable_fuzzing=False)
    (card,) = cards.create(db, "어텐션?", "가중합", now=T)
    review.answer(db, card.id, 3, now=T + timedelta(minutes=1, microseconds=999))
    review.answer(db, card.id, 3, now=T + timedelta(minutes=11, microseconds=1))
    with db.read() as s:
        row = s.get(Card, card.id)
        assert row.last_review == T.replace(microsecond=123000) + timedelta(minutes=11)  # floored
        assert (row.due_ms, row.last_review_ms) == (to_ms(row.due), to_ms(row.last_review))
        reviews = [
            (r.id, r.reviewed_at_ms, r.last_review_before_ms, r.due_before_ms)
            for r in s.scalars(select(Review).order_by(Review.id))
        ]
    assert [r[1] for r in reviews] == [to_ms(T) + 60_001, to_ms(T) + 660_000]
    assert reviews[1][2] == to_ms(T) + 60_001
    review.undo_review(db, reviews[1][0])
    with db.read() as s:
        row = s.get(Card, card.id)
        assert row.last_review_ms == to_ms(T) + 60_001 == to_ms(row.last_review)
        assert row.due_ms == reviews[1][3]
    assert out_of_step(db.path) == []


def test_bulk_writes_keep_the_twins(db) -> None:
    (card,) = cards.create(db, "Q", "A", now=T)
    due_us = np.array([batch.to_us(T + timedelta(days=3))])
    with db.write() as s:
        bulk.write_dues(s, np.array([card.id]), due_us)
    with db.read() as s:
        row = s.get(Card, card.id)
        assert row.due == floor_ms(T + timedelta(days=3))
        assert row.due_ms == to_ms(T + timedelta(days=3))
    assert out_of_step(db.path) == []


@pytest.mark.sqlite_only
def test_the_check_catches_a_write_that_forgets_the_twin(db) -> None:
    (card,) = cards.create(db, "Q", "A", now=T)
    con = sqlite3.connect(db.path)
    con.execute("UPDATE cards SET due = '2030-01-01 00:00:00.000000' WHERE id = ?", (card.id,))
    con.commit()
    con.close()
    assert out_of_step(db.path) == [
        f"cards.{card.id}: due '2030-01-01 00:00:00.000000' -> due_ms {to_ms(T)}"
    ]
    assert expected_ms("2030-01-01 00:00:00.000000") == 1_893_456_000_000
    # put it right again, or the suite's own after-test check would (rightly) fail
    con = sqlite3.connect(db.path)
    con.execute("UPDATE cards SET due_ms = 1893456000000 WHERE id = ?", (card.id,))
    con.commit()
    con.close()
