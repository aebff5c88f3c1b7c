"""Undo: several steps back, each restoring the card exactly and removing its review row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from studylog.errors import InvalidInputError, NotFoundError
from studylog.services import cards, review, settings
from studylog.storage.models import Card, Review

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
COLUMNS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
    "suspended",
    "buried_until",
    "updated_at",
)

pytestmark = pytest.mark.both_backends


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def snapshot(db) -> dict[int, tuple]:
    with db.read() as s:
        return {c.id: tuple(getattr(c, k) for k in COLUMNS) for c in s.scalars(select(Card))}


def reviews(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(Review.id)))


def test_undo_several_steps_restores_each_card_exactly(utc_db):
    for i in range(6):
        cards.create(utc_db, f"q{i}", f"a{i}", now=NOW - timedelta(days=1, seconds=-i))
    session = review.ReviewSession(utc_db, now=NOW)
    snapshots = [snapshot(utc_db)]
    moment = NOW
    for rating in (3, 1, 4, 3, 2, 3, 3, 1):
        card = session.next_card(now=moment)
        session.answer(card.id, rating, now=moment, duration_ms=2000)
        snapshots.append(snapshot(utc_db))
        moment += timedelta(minutes=7)
    assert reviews(utc_db) == 8
    for expected in reversed(snapshots[:-1]):
        restored = session.undo()
        assert snapshot(utc_db) == expected
        assert restored.id in expected
        # the undone card is shown again next
        assert session.next_card(now=moment).id == restored.id
    assert reviews(utc_db) == 0
    assert not session.can_undo
    with pytest.raises(InvalidInputError, match="nothing to undo"):
        session.undo()


def test_undo_of_a_review_card_restores_float_state_bit_for_bit(utc_db):
    (made,) = cards.create(utc_db, "q", "a", now=NOW)
    first = review.answer(utc_db, made.id, 4, now=NOW)
    before = snapshot(utc_db)
    second = review.answer(utc_db, made.id, 1, now=NOW + timedelta(days=11, hours=3))  # a lapse
    assert second.card.lapses == 1 and second.card.state == review.RELEARNING
    review.undo_review(utc_db, second.review_id)
    assert snapshot(utc_db) == before
    assert reviews(utc_db) == 1
    assert first.card.due == before[made.id][4]


def test_only_the_latest_answer_of_a_card_can_be_undone(utc_db):
    (made,) = cards.create(utc_db, "q", "a", now=NOW)
    first = review.answer(utc_db, made.id, 3, now=NOW)
    review.answer(utc_db, made.id, 3, now=NOW + timedelta(minutes=10))
    before = snapshot(utc_db)
    with pytest.raises(InvalidInputError, match="not the latest answer"):
        review.undo_review(utc_db, first.review_id)
    assert snapshot(utc_db) == before and reviews(utc_db) == 2
    with pytest.raises(NotFoundError):
        review.undo_review(utc_db, 12345)


def test_undo_survives_a_new_session_object(utc_db):
    """Undo is by review id, so the TUI can undo an answer saved by an earlier session object."""
    (made,) = cards.create(utc_db, "q", "a", now=NOW)
    before = snapshot(utc_db)
    result = review.ReviewSession(utc_db, now=NOW).answer(made.id, 3, now=NOW)
    review.undo_review(utc_db, result.review_id)
    assert snapshot(utc_db) == before
