"""Custom study: review ahead, forgotten cards, any search (rescheduled or a preview that
writes nothing), extra new cards today; and studying one deck."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta

import pytest

from studylog.cardsearch import SearchSyntaxError
from studylog.errors import InvalidInputError, NotFoundError
from studylog.services import custom_study, decks, review
from studylog.services.custom_study import CustomSession
from studylog.services.review import ReviewSession
from studylog.storage.models import Card, Review
from tests.conftest import NOW
from tests.test_decks import DAY, MIN, make

pytestmark = pytest.mark.both_backends


@pytest.fixture
def utc(db):  # noqa: ANN001, ANN201
    from studylog.services import settings as settings_service

    settings_service.update(db, {"timezone": "UTC"})
    return db


def schedule_bytes(db_path) -> str:  # noqa: ANN001
    """A digest of every card row and every review row, column by column."""
    con = sqlite3.connect(db_path)
    digest = hashlib.sha256()
    for table in ("cards", "reviews", "card_tags"):
        for row in con.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):  # noqa: S608
            digest.update(repr(row).encode())
    con.close()
    return digest.hexdigest()


def drain(session: ReviewSession, ratings: dict[int, int], now, step=MIN) -> list[int]:  # noqa: ANN001
    """Answer until the session is empty (a card's rating from ``ratings``, else Good),
    ``step`` apart; returns the card ids in the order shown."""
    shown = []
    moment = now
    while (card := session.next_card(now=moment)) is not None and len(shown) < 50:
        shown.append(card.id)
        session.answer(card.id, ratings.pop(card.id, 3), now=moment, duration_ms=1500)
        moment += step
    return shown


def test_preview_writes_nothing_to_the_schedule(utc, db_path) -> None:  # noqa: ANN001
    db = utc
    due = make(db, "딥러닝::RNN", "review", 2)
    future = make(db, "딥러닝::RNN", "future", 1)
    new = make(db, "딥러닝", "new", 1)
    make(db, "수학", "review", 1)  # outside the search
    before = schedule_bytes(db_path)
    study = custom_study.search("deck:딥러닝", reschedule=False)
    session = CustomSession(db, study, now=NOW)
    counts = session.counts(now=NOW)
    assert (counts.new, counts.learning, counts.review) == (1, 0, 3)
    buttons = [(b.rating, b.text) for b in session.preview(due[0], now=NOW)]
    assert buttons == [(1, "1m"), (2, "10m"), (3, "done"), (4, "done")]
    shown = drain(session, {due[0]: 1, future[0]: 2}, NOW, step=timedelta(seconds=10))
    # due order (new cards were due when added, 30 days ago); Again and Hard come back
    # when nothing else is left
    assert shown == [new[0], *due, future[0], due[0], future[0]]
    assert session.undo_stack.can_undo
    restored = session.undo()
    assert restored.id == future[0] and session.next_card(now=NOW + DAY).id == future[0]
    session.close()
    assert schedule_bytes(db_path) == before


def test_search_with_rescheduling_answers_as_usual_and_undoes(utc) -> None:  # noqa: ANN001
    db = utc
    future = make(db, "A", "future", 2)  # due in 3 days: not in today's queue
    session = CustomSession(db, custom_study.search("deck:A", reschedule=True), now=NOW)
    card = session.next_card(now=NOW)
    assert card.id == future[0]
    result = session.answer(card.id, 3, now=NOW, duration_ms=2000)
    assert result.review_id > 0 and result.interval_seconds > DAY.total_seconds()
    with db.read() as s:
        assert s.query(Review).filter_by(card_id=card.id).count() == 1
    session.undo()
    with db.read() as s:
        assert s.query(Review).filter_by(card_id=card.id).count() == 0
        assert s.get(Card, card.id).due.replace(tzinfo=None) == (NOW + 3 * DAY).replace(tzinfo=None)


def test_review_ahead_takes_cards_due_within_n_days(utc) -> None:  # noqa: ANN001
    db = utc
    soon = make(db, "A", "review", 1, due=2 * DAY)
    later = make(db, "A", "review", 1, due=6 * DAY)
    overdue = make(db, "A", "review", 1, due=-DAY)
    session = CustomSession(db, custom_study.review_ahead(3), now=NOW)
    shown = drain(session, {}, NOW)
    assert shown == [overdue[0], soon[0]]
    assert later[0] not in shown
    with db.read() as s:  # rescheduled: both have a review now
        assert s.query(Review).count() == 2


def test_forgotten_cards_of_the_last_n_days(utc) -> None:  # noqa: ANN001
    db = utc
    lapsed, kept, old = make(db, "A", "review", 3)
    with db.write() as s:
        for cid, rating, ago in ((lapsed, 1, 2 * DAY), (kept, 3, DAY), (old, 1, 9 * DAY)):
            s.add(
                Review(
                    card_id=cid,
                    rating=rating,
                    reviewed_at=NOW - ago,
                    state_before=2,
                    state_after=3 if rating == 1 else 2,
                )
            )
    session = CustomSession(db, custom_study.forgotten(7), now=NOW)
    assert drain(session, {}, NOW) == [lapsed]


def test_extra_new_cards_today_raise_the_limit_for_today_only(utc) -> None:  # noqa: ANN001
    db = utc
    review.set_limits(db, new_per_day=2)
    make(db, "A", "new", 6)
    assert decks.queue_counts(db, now=NOW)[0] == 2
    assert custom_study.extend_new(db, 3, now=NOW) == 5
    assert decks.queue_counts(db, now=NOW)[0] == 5
    session = ReviewSession(db, now=NOW)
    assert session.counts(now=NOW).new == 5
    assert len(drain(session, {}, NOW)) == 5 + 5  # each new card twice (1m, 10m steps)
    assert decks.queue_counts(db, now=NOW + DAY)[0] == 1  # tomorrow: 2 a day again, 1 left
    # for one deck: its limit only
    assert custom_study.extend_new(db, 4, deck="A", now=NOW + DAY) == 6
    assert decks.find(db, "A", now=NOW + DAY).new == 1


def test_bad_custom_study_input() -> None:
    with pytest.raises(InvalidInputError, match="review ahead: 0 days"):
        custom_study.review_ahead(0)
    with pytest.raises(InvalidInputError, match="card limit"):
        custom_study.search("deck:A", reschedule=True, limit=0)
    with pytest.raises(SearchSyntaxError):
        custom_study.search("deck:A (", reschedule=True)


# --- one deck ------------------------------------------------------------------------------


def test_reviewing_one_deck_shows_its_cards_and_its_counts(utc) -> None:  # noqa: ANN001
    db = utc
    review.set_limits(db, new_per_day=3)
    a = make(db, "딥러닝::RNN", "new", 4)
    b = make(db, "딥러닝::CNN", "review", 2)
    make(db, "수학", "new", 5)
    session = ReviewSession(db, deck="딥러닝", now=NOW)
    counts = session.counts(now=NOW)
    assert (counts.new, counts.review) == (3, 2)
    assert (counts.new, counts.learning, counts.review) == decks.queue_counts(db, "딥러닝", now=NOW)
    shown = []
    moment = NOW
    while (card := session.next_card(now=moment)) is not None:
        shown.append(card.id)
        session.answer(card.id, 4, now=moment)  # Easy: out of today's queue at once
    assert shown == [*b, *a[:3]]
    # 3 new cards done in 딥러닝: the collection has no new card left today either
    assert decks.queue_counts(db, now=moment)[0] == 0
    with pytest.raises(NotFoundError):
        ReviewSession(db, deck="없는 덱", now=NOW)


def test_the_review_header_and_today_agree_after_answers(utc) -> None:  # noqa: ANN001
    from studylog.services import settings as settings_service
    from studylog.services import today

    db = utc
    review.set_limits(db, new_per_day=4, reviews_per_day=3)
    make(db, "A", "new", 6)
    make(db, "A::B", "review", 5)
    make(db, "C", "learning", 2)
    session = ReviewSession(db, now=NOW)
    moment = NOW
    for _ in range(4):
        card = session.next_card(now=moment)
        session.answer(card.id, 3, now=moment)
        moment += MIN
        ours = session.counts(now=moment)
        calendar = settings_service.calendar(db)
        queue = today.summary(db, calendar.day_of(moment), calendar, now=moment).queue
        assert (queue.new, queue.learning, queue.review) == (ours.new, ours.learning, ours.review)


def test_presets_a_subdeck_caps_what_studying_its_parent_gathers(utc) -> None:  # noqa: ANN001
    from studylog.services import settings as settings_service

    db = utc
    b = make(db, "A::B", "new", 6, front="b")  # added first: first in the new queue
    c = make(db, "A::C", "new", 6, front="c")
    settings_service.update_deck(db, "A::B", {"new_per_day": 2})
    settings_service.update_deck(db, "A", {"new_per_day": 5})
    assert decks.find(db, "A::B", now=NOW).new == 2
    assert decks.find(db, "A::C", now=NOW).new == 5  # inherits A's 5
    assert decks.find(db, "A", now=NOW).new == 5
    session = ReviewSession(db, deck="A", now=NOW)
    shown, moment = [], NOW
    while (card := session.next_card(now=moment)) is not None:
        counts = session.counts(now=moment)
        assert (counts.new, counts.learning, counts.review) == decks.queue_counts(
            db, "A", now=moment
        )
        shown.append(card.id)
        session.answer(card.id, 4, now=moment)
        moment += MIN
    assert shown == [*b[:2], *c[:3]]  # A::B's own limit stops it at 2; A's 5 in all
    assert ReviewSession(db, deck="A::B", now=moment).next_card(now=moment) is None
    assert decks.queue_counts(db, now=moment) == (0, 0, 0)
