"""The session queue: Anki's order, daily limits, sibling burying, suspend, bury, leeches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from studylog.services import cards, review, settings
from studylog.storage.models import Card, Concept

pytestmark = pytest.mark.both_backends


NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # study day 2026-11-21 (UTC, day starts 04:00)


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    return db


def make_concept(db, slug: str) -> None:
    with db.write() as s:
        s.add(
            Concept(
                slug=slug,
                title=slug,
                aliases=[],
                body="",
                sources=[],
                related=[],
                created_at=NOW,
                updated_at=NOW,
            )
        )


def new_card(
    db, front: str, *, concept: str | None = None, at: datetime = NOW - timedelta(days=30)
) -> int:
    return cards.create(db, front, "back", concept_slug=concept, now=at)[0].id


def set_state(
    db, card_id: int, *, state: int, due: datetime, last_review: datetime, stability: float = 5.0
) -> None:
    """Put a card straight into a Learning/Review/Relearning state (test setup only)."""
    with db.write() as s:
        c = s.get(Card, card_id)
        c.state, c.step = state, (None if state == review.REVIEW else 0)
        c.stability, c.difficulty = stability, 5.0
        c.due, c.last_review, c.reps = due, last_review, 3


def drain(
    session: review.ReviewSession, now: datetime, rating: int = 3, limit: int = 50
) -> list[str]:
    shown = []
    for _ in range(limit):
        card = session.next_card(now=now)
        if card is None:
            return shown
        shown.append(card.front)
        session.answer(card.id, rating, now=now)
    raise AssertionError("the queue never ran out")


def test_order_is_learning_then_review_then_new(utc_db):
    new = new_card(utc_db, "new")
    due_review = new_card(utc_db, "review due today")
    later_review = new_card(utc_db, "review due at 03:00 tomorrow")
    future_review = new_card(utc_db, "review due tomorrow afternoon")
    learning = new_card(utc_db, "learning due now")
    set_state(
        utc_db,
        due_review,
        state=2,
        due=NOW - timedelta(days=2),
        last_review=NOW - timedelta(days=7),
    )
    # 03:00 on 22 Nov still belongs to study day 21 Nov (the day starts at 04:00)
    set_state(
        utc_db,
        later_review,
        state=2,
        due=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
        last_review=NOW - timedelta(days=7),
    )
    set_state(
        utc_db,
        future_review,
        state=2,
        due=datetime(2026, 11, 22, 15, 0, tzinfo=UTC),
        last_review=NOW - timedelta(days=7),
    )
    set_state(
        utc_db,
        learning,
        state=1,
        due=NOW - timedelta(minutes=5),
        last_review=NOW - timedelta(minutes=15),
    )
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.counts(now=NOW) == review.QueueCounts(learning=1, review=2, new=1)
    shown = drain(session, NOW, rating=4)  # Easy: everything leaves the day's queue at once
    assert shown == ["learning due now", "review due today", "review due at 03:00 tomorrow", "new"]
    assert new in {c.id for c in cards.list_cards(utc_db)}


def test_learning_card_comes_back_after_its_step(utc_db):
    new_card(utc_db, "only card")
    session = review.ReviewSession(utc_db, now=NOW)
    card = session.next_card(now=NOW)
    session.answer(card.id, 1, now=NOW)  # Again: due in 1 minute
    # nothing else is left, so the learning card is shown early (Anki's learn-ahead limit)
    assert session.next_card(now=NOW).id == card.id
    session.answer(card.id, 3, now=NOW + timedelta(minutes=1))  # step 2: due in 10 minutes
    session.answer(card.id, 3, now=NOW + timedelta(minutes=11))  # graduates
    assert session.next_card(now=NOW + timedelta(minutes=11)) is None


def test_learn_ahead_is_limited_to_20_minutes(utc_db):
    card = new_card(utc_db, "learning")
    set_state(
        utc_db,
        card,
        state=1,
        due=NOW + timedelta(minutes=25),
        last_review=NOW - timedelta(minutes=1),
    )
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.next_card(now=NOW) is None
    assert session.next_card(now=NOW + timedelta(minutes=6)).id == card


def test_daily_new_card_limit(utc_db):
    review.set_limits(utc_db, new_per_day=3)
    for i in range(5):
        new_card(utc_db, f"new {i}", at=NOW - timedelta(days=1, minutes=-i))
    session = review.ReviewSession(utc_db, now=NOW)
    assert drain(session, NOW, rating=4) == ["new 0", "new 1", "new 2"]
    # a new session the same day keeps counting today's answers
    assert review.ReviewSession(utc_db, now=NOW).next_card(now=NOW) is None
    tomorrow = NOW + timedelta(days=1)
    assert drain(review.ReviewSession(utc_db, now=tomorrow), tomorrow, rating=4)[:2] == [
        "new 3",
        "new 4",
    ]


def test_daily_review_limit(utc_db):
    review.set_limits(utc_db, reviews_per_day=2, new_per_day=0)
    for i in range(4):
        cid = new_card(utc_db, f"review {i}")
        set_state(
            utc_db,
            cid,
            state=2,
            due=NOW - timedelta(hours=4 - i),
            last_review=NOW - timedelta(days=5),
        )
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.counts(now=NOW).review == 2
    assert drain(session, NOW) == ["review 0", "review 1"]
    assert session.counts(now=NOW).review == 0


def test_siblings_wait_until_nothing_else_is_left(utc_db):
    make_concept(utc_db, "softmax")
    make_concept(utc_db, "relu")
    t = NOW - timedelta(days=3)
    new_card(utc_db, "softmax 1", concept="softmax", at=t)
    new_card(utc_db, "softmax 2", concept="softmax", at=t + timedelta(seconds=1))
    new_card(utc_db, "relu 1", concept="relu", at=t + timedelta(seconds=2))
    new_card(utc_db, "no concept", at=t + timedelta(seconds=3))
    new_card(utc_db, "relu 2", concept="relu", at=t + timedelta(seconds=4))
    session = review.ReviewSession(utc_db, now=NOW)
    shown = drain(session, NOW, rating=4)
    assert shown == ["softmax 1", "relu 1", "no concept", "softmax 2", "relu 2"]


def test_review_siblings_are_held_back_too(utc_db):
    make_concept(utc_db, "attention")
    a = new_card(utc_db, "attention q", concept="attention")
    b = new_card(utc_db, "attention k", concept="attention")
    other = new_card(utc_db, "other")
    for cid, hours in ((a, 3), (b, 2), (other, 1)):
        set_state(
            utc_db,
            cid,
            state=2,
            due=NOW - timedelta(hours=hours),
            last_review=NOW - timedelta(days=4),
        )
    assert drain(review.ReviewSession(utc_db, now=NOW), NOW) == [
        "attention q",
        "other",
        "attention k",
    ]


def test_suspended_and_buried_cards_are_not_shown(utc_db):
    a = new_card(utc_db, "a", at=NOW - timedelta(days=2))
    b = new_card(utc_db, "b", at=NOW - timedelta(days=1))
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.next_card(now=NOW).id == a
    session.suspend(a)
    buried = session.bury(b, now=NOW)
    assert buried.buried_until == date(2026, 11, 22)
    assert session.next_card(now=NOW) is None
    tomorrow = NOW + timedelta(days=1)
    assert [
        c.front for c in [review.ReviewSession(utc_db, now=tomorrow).next_card(now=tomorrow)]
    ] == ["b"]
    review.unsuspend(utc_db, a)
    assert review.ReviewSession(utc_db, now=NOW).next_card(now=NOW).id == a


def test_a_changed_card_is_not_shown_stale(utc_db):
    a = new_card(utc_db, "a", at=NOW - timedelta(days=2))
    b = new_card(utc_db, "b", at=NOW - timedelta(days=1))
    session = review.ReviewSession(utc_db, now=NOW)
    review.suspend(utc_db, a)  # elsewhere, e.g. from the CLI while the app is open
    assert session.next_card(now=NOW).id == b


def test_leech_at_eighth_lapse_is_tagged_and_suspended(utc_db):
    cid = new_card(utc_db, "hard card")
    moment = NOW
    results = []
    for _ in range(8):
        set_state(utc_db, cid, state=2, due=moment, last_review=moment - timedelta(days=3))
        results.append(review.answer(utc_db, cid, 1, now=moment))
        moment += timedelta(days=1)
    assert [r.leech for r in results] == [False] * 7 + [True]
    last = results[-1].card
    assert last.lapses == 8 and last.suspended and "leech" in last.tags
    # Anki: after the threshold, every half threshold again
    assert [review.is_leech(n, 8) for n in (7, 8, 9, 11, 12, 16)] == [
        False,
        True,
        False,
        False,
        True,
        True,
    ]
    restored = review.undo_review(utc_db, results[-1].review_id)
    assert restored.lapses == 7 and not restored.suspended and "leech" not in restored.tags


def test_one_shot_next_card(utc_db):
    assert review.next_card(utc_db, now=NOW) is None
    cid = new_card(utc_db, "x")
    assert review.next_card(utc_db, now=NOW).id == cid


def test_limits_hold_after_undo_when_sqlite_reuses_the_review_id(utc_db, backend):
    """Undo deletes the newest review row; SQLite gives its id to the next answer
    (PostgreSQL's sequence does not: the limits must hold either way)."""
    review.set_limits(utc_db, new_per_day=2)
    for i in range(3):
        new_card(utc_db, f"new {i}", at=NOW - timedelta(days=1, minutes=-i))
    session = review.ReviewSession(utc_db, now=NOW)
    first = session.answer(session.next_card(now=NOW).id, 4, now=NOW)
    session.next_card(now=NOW)  # the next card is on screen when the user presses undo
    session.undo()
    again = session.answer(session.next_card(now=NOW).id, 4, now=NOW)
    if backend == "sqlite":
        assert again.review_id == first.review_id  # the reused id
    else:
        assert again.review_id == first.review_id + 1  # a sequence never hands an id out twice
    session.answer(session.next_card(now=NOW).id, 4, now=NOW)
    assert session.progress(now=NOW).new_done == 2
    assert session.next_card(now=NOW) is None  # the third new card waits for tomorrow
