"""The scheduling core: the pure queue, the one undo model, the lean hot path.

References: Anki's v3 queue order and limits (manual, "Display Order",
"Daily Limits"; "New cards ignore review limit"), Anki's undo (an operation is a
label plus before-images of the rows it changed), the ``fsrs`` package for the
FSRS step.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import fsrs
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql

from studylog.errors import InvalidInputError
from studylog.scheduling.card import CardRow
from studylog.scheduling.queue import DailyQueue, DayLog
from studylog.scheduling.settings import DailyLimits
from studylog.scheduling.states import CardState, Rating
from studylog.scheduling.undo import RowImage, UndoOp, UndoStack
from studylog.services import cards, review, settings
from studylog.storage import review_rows
from studylog.storage.models import Card, Review
from studylog.storage.review_rows import UndoConflict
from studylog.storage.times import to_ms

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
DAY = date(2026, 11, 21)
END = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


# --- the pure queue -------------------------------------------------------------------


def row(cid: int, *, state: int = 1, due: datetime = NOW, new: bool = False, concept=None):
    return CardRow(
        id=cid,
        concept_id=concept,
        state=state,
        step=0,
        stability=None if new else 3.0,
        difficulty=None if new else 5.0,
        due=due,
        last_review=None if new else NOW - timedelta(days=3),
        reps=0 if new else 2,
        lapses=0,
        suspended=False,
        buried_until=None,
    )


def make_queue(limits: DailyLimits, table: dict[int, CardRow]) -> DailyQueue:
    learning = [(c.id, c.due) for c in table.values() if not c.is_new and c.state != 2]
    reviews = [(c.id, c.concept_id) for c in table.values() if not c.is_new and c.state == 2]
    news = sorted((c.id, c.concept_id, c.due) for c in table.values() if c.is_new)

    def page(cursor, want):
        after = [n for n in news if cursor is None or (n[2], n[0]) > cursor]
        return after[:want]

    return DailyQueue(DAY, END, limits, learning, reviews, DayLog(NOW, END), page)


def test_the_queue_is_anki_v3_order_over_plain_rows():
    table = {
        1: row(1, new=True),
        2: row(2, state=CardState.REVIEW, due=NOW - timedelta(days=1)),
        3: row(3, state=CardState.LEARNING, due=NOW - timedelta(minutes=1)),
        4: row(4, state=CardState.LEARNING, due=NOW + timedelta(minutes=15)),  # learn ahead
    }
    queue = make_queue(DailyLimits(), table)
    shown = []
    while (card := queue.pick(NOW, table.get)) is not None:
        shown.append(card.id)
        queue.forget(card.id)
    assert shown == [3, 2, 1, 4]


def test_new_cards_within_the_review_limit_when_they_do_not_ignore_it():
    """Anki v3: with 'new cards ignore review limit' off, reviews + new <= the review limit."""
    table = {i: row(i, state=CardState.REVIEW, due=NOW - timedelta(hours=i)) for i in (1, 2, 3)}
    table.update({i: row(i, new=True, due=NOW - timedelta(days=9 - i)) for i in (4, 5, 6, 7)})
    strict = DailyLimits(new_per_day=10, reviews_per_day=5, new_ignores_review_limit=False)
    loose = DailyLimits(new_per_day=10, reviews_per_day=5)
    counts = make_queue(strict, table).counts(NOW, lambda n: min(n, 4))
    assert (counts.review, counts.new) == (3, 2)  # 5 - 3 reviews leave room for 2 new
    assert make_queue(loose, table).counts(NOW, lambda n: min(n, 4)).new == 4


def test_siblings_are_held_back_only_when_bury_siblings_is_on():
    table = {
        1: row(1, state=CardState.REVIEW, due=NOW - timedelta(hours=2), concept=7),
        2: row(2, state=CardState.REVIEW, due=NOW - timedelta(hours=1), concept=7),
        3: row(3, new=True, concept=8),
    }
    for bury, order in ((True, [1, 3, 2]), (False, [1, 2, 3])):
        queue = make_queue(DailyLimits(bury_siblings=bury), table)
        shown = []
        while (card := queue.pick(NOW, table.get)) is not None:
            shown.append(card.id)
            queue.log.add(100 + card.id, NOW, card.is_new, card.state == 2, card.concept_id)
            queue.forget(card.id)
        assert shown == order


def test_the_day_log_keeps_running_counters():
    log = DayLog(NOW, END)
    log.add(5, NOW, True, False, 1)
    log.add(6, NOW, False, True, 1)
    log.add(6, NOW, False, True, 1)  # seen twice (a seek after our own write): counted once
    log.add(7, END, False, True, 2)  # tomorrow
    assert (log.new_done, log.reviews_done, log.progress().concepts) == (1, 1, frozenset({1}))
    log.drop(6)
    assert log.reviews_done == 0 and log.seen(1) and log.last_id == 5
    log.drop(5)
    assert not log.seen(1)


# --- the undo model -----------------------------------------------------------------------


def test_the_undo_stack_is_newest_first_with_an_optional_limit():
    stack = UndoStack(limit=2)
    for label in ("Answer", "Suspend", "Bury"):
        stack.push(UndoOp(label))
    assert len(stack) == 2 and stack.label == "Bury"
    assert [stack.pop().label, stack.pop().label] == ["Bury", "Suspend"]
    assert not stack.can_undo and stack.peek() is None
    with pytest.raises(ValueError, match="one to one"):
        UndoOp("x", before=(RowImage("cards", (1,), {}),), after=(RowImage("cards", (1,), {}),) * 2)


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    return db


def _card(db, cid: int) -> SimpleNamespace:
    with db.read() as s:
        c = s.get(Card, cid)
        return SimpleNamespace(**{k: getattr(c, k) for k in Card.__table__.columns.keys()})


def test_a_bulk_operation_is_one_undo_op_over_many_rows(utc_db):
    """The browser's bulk actions: before-images of 3 cards (two columns), one op, one undo."""
    made = [
        c.id
        for c in cards.create(utc_db, "{{c1::a}} {{c2::b}} {{c3::c}}", "", kind="cloze", now=NOW)
    ]
    assert len(made) == 3
    review.bury(utc_db, made[0], now=NOW)
    before = {cid: (_card(utc_db, cid).suspended, _card(utc_db, cid).buried_until) for cid in made}
    moved = NOW + timedelta(days=3)
    op = UndoOp(
        "Suspend 3 cards",
        before=tuple(
            RowImage("cards", (cid,), {"suspended": s, "buried_until": b})
            for cid, (s, b) in before.items()
        ),
        after=tuple(RowImage("cards", (cid,), {"suspended": True, "due": moved}) for cid in made),
        card_ids=tuple(made),
    )
    with pytest.raises(UndoConflict):  # the op's after-image is not what the rows hold
        with utc_db.write() as s:
            review_rows.undo_in(s.connection(), op)
    with utc_db.write() as s:
        review_rows.set_columns(s.connection(), made, {"suspended": True, "buried_until": None})
    with utc_db.write() as s:
        review_rows.undo_in(s.connection(), op, checked=False)
    assert {
        cid: (_card(utc_db, cid).suspended, _card(utc_db, cid).buried_until) for cid in made
    } == before
    assert before[made[0]] == (False, DAY + timedelta(days=1))


def test_undo_puts_back_deleted_rows_and_deletes_inserted_ones(utc_db):
    (made,) = cards.create(utc_db, "q", "a", now=NOW)
    first = review.answer(utc_db, made.id, 3, now=NOW)
    with utc_db.read() as s:
        saved = (
            s.execute(select(Review.__table__).where(Review.id == first.review_id)).mappings().one()
        )
    with utc_db.write() as s:
        s.execute(Review.__table__.delete().where(Review.id == first.review_id))
    op = UndoOp("Delete review", deleted=(RowImage("reviews", (first.review_id,), dict(saved)),))
    with utc_db.write() as s:
        review_rows.undo_in(s.connection(), op)
    with utc_db.read() as s:
        back = (
            s.execute(select(Review.__table__).where(Review.id == first.review_id)).mappings().one()
        )
    assert dict(back) == dict(saved)
    with utc_db.write() as s:
        review_rows.undo_in(
            s.connection(), UndoOp("x", inserted=(("reviews", (first.review_id,)),))
        )
    with utc_db.read() as s:
        assert s.scalar(select(func.count(Review.id))) == 0


def test_one_session_stack_undoes_answers_suspends_and_buries_in_reverse(utc_db):
    ids = [
        cards.create(utc_db, f"q{i}", "a", now=NOW - timedelta(days=1, seconds=-i))[0].id
        for i in range(3)
    ]
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.next_card(now=NOW).id == ids[0]
    session.answer(ids[0], 4, now=NOW)
    session.suspend(ids[1])
    session.bury(ids[2], now=NOW)
    assert session.next_card(now=NOW) is None
    assert [op.label for op in session.undo_stack] == ["Answer", "Suspend", "Bury"]
    assert session.undo().id == ids[2] and _card(utc_db, ids[2]).buried_until is None
    assert session.next_card(now=NOW).id == ids[2]  # shown again at once
    assert session.undo().id == ids[1] and not _card(utc_db, ids[1]).suspended
    restored = session.undo()
    assert restored.id == ids[0] and restored.reps == 0 and session.answers == []
    with pytest.raises(InvalidInputError, match="nothing to undo"):
        session.undo()
    session.close()


def test_undo_refuses_when_the_card_was_answered_again_elsewhere(utc_db):
    (made,) = cards.create(utc_db, "q", "a", now=NOW)
    session = review.ReviewSession(utc_db, now=NOW)
    session.answer(made.id, 3, now=NOW)
    review.answer(utc_db, made.id, 3, now=NOW + timedelta(minutes=10))  # another connection
    with pytest.raises(InvalidInputError, match="changed since"):
        session.undo()
    assert _card(utc_db, made.id).reps == 2
    session.close()


def test_the_leech_link_is_part_of_the_answer_op(utc_db):
    settings.update(utc_db, {"leech_threshold": 1})
    (made,) = cards.create(utc_db, "q", "a", now=NOW)
    session = review.ReviewSession(utc_db, now=NOW)
    session.answer(made.id, 4, now=NOW)
    result = session.answer(made.id, 1, now=NOW + timedelta(days=30))
    assert result.leech and result.card.suspended and result.card.tags == ["leech"]
    op = session.undo_stack.peek()
    assert [t for t, _ in op.inserted] == ["reviews", "card_tags"]
    back = session.undo()
    assert back.tags == [] and not back.suspended and back.lapses == 0
    session.close()


def test_cli_review_undoes_a_suspend_too(db, run_cli):
    settings.put(db, settings.TIMEZONE, "UTC")
    made = cards.create(db, "What is softmax?", "exp / sum exp", now=NOW - timedelta(days=1))[0]
    result = run_cli("review", input="s\nu\nq\n")
    assert "Undid suspending card" in result.output
    assert not cards.get(db, made.id).suspended


# --- the hot path ---------------------------------------------------------------------


def _statements(db) -> list[str]:
    seen: list[str] = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: seen.append(
            statement.split()[0].upper() + " " + statement.split()[-1]
        ),
    )
    return seen


def test_answer_is_one_select_one_update_one_insert(utc_db, backend):
    ids = [
        cards.create(utc_db, f"q{i}", "a", now=NOW - timedelta(days=1, seconds=-i))[0].id
        for i in range(3)
    ]
    session = review.ReviewSession(utc_db, now=NOW)
    card = session.next_card(now=NOW)
    seen = _statements(utc_db)
    result = session.answer(card.id, 3, now=NOW)
    kinds = [s.split()[0] for s in seen]
    # SQLite: BEGIN IMMEDIATE; PostgreSQL: the writers' advisory lock (engine.py)
    begin_write = "BEGIN" if backend == "sqlite" else "SELECT"
    assert kinds == [begin_write, "SELECT", "UPDATE", "INSERT"]
    seen.clear()
    nxt = session.next_card(now=NOW)
    # SQLite: BEGIN DEFERRED and PRAGMA data_version (nobody else wrote: no seek);
    # PostgreSQL: SET TRANSACTION (REPEATABLE READ) and always the seek.
    if backend == "sqlite":
        assert [s.split()[0] for s in seen] == ["BEGIN", "PRAGMA", "SELECT"]
    else:
        assert [s.split()[0] for s in seen] == ["SET", "SELECT", "SELECT"]
    assert nxt.id == ids[1]
    seen.clear()
    review.answer(utc_db, ids[2], 3, now=NOW)  # another connection writes
    seen.clear()
    session.next_card(now=NOW)
    assert [s.split()[0] for s in seen] == [
        "BEGIN" if backend == "sqlite" else "SET",
        *(["PRAGMA"] if backend == "sqlite" else []),
        "SELECT",
        "SELECT",
    ]  # the seek, the card
    assert session.progress(now=NOW).new_done == 2
    # The answer as the fsrs package computes it, and the twins set.
    expected, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(
        fsrs.Card(card_id=card.id, due=card.due), fsrs.Rating.Good, NOW
    )
    stored = _card(utc_db, card.id)
    assert (stored.state, stored.step, stored.due) == (
        int(expected.state),
        expected.step,
        expected.due,
    )
    assert stored.due_ms == to_ms(stored.due) and stored.last_review_ms == to_ms(NOW)
    assert result.card.due == stored.due and result.rating == Rating.GOOD
    session.close()


def test_undo_on_the_hot_path_writes_one_update_and_one_delete(utc_db):
    (made,) = cards.create(utc_db, "q", "a", now=NOW)
    session = review.ReviewSession(utc_db, now=NOW)
    session.answer(made.id, 3, now=NOW)
    seen = _statements(utc_db)
    session.undo()
    writes = [s.split()[0] for s in seen if s.split()[0] in ("UPDATE", "DELETE", "INSERT")]
    assert writes == ["UPDATE", "DELETE"]
    session.close()


def test_the_hot_path_statements_compile_for_postgresql():
    dialect = postgresql.psycopg.dialect()
    for name, statement in review_rows.HOT_PATH.items():
        sql = str(statement.compile(dialect=dialect))
        assert "?" not in sql, name  # PostgreSQL's paramstyle, not SQLite's
        assert sql.split()[0] in ("SELECT", "UPDATE", "INSERT", "DELETE"), name
    card_sql = str(review_rows.SELECT_CARD.compile(dialect=dialect))
    assert "string_agg" in card_sql  # the tags, portable: group_concat on SQLite


@pytest.mark.sqlite_only
def test_data_version_changes_only_for_other_connections(utc_db):
    with utc_db.engine.connect() as mine, utc_db.engine.connect() as other:

        def version() -> int:
            value = review_rows.data_version(mine)
            mine.rollback()
            return value

        v0 = version()
        with mine.begin():
            mine.exec_driver_sql("UPDATE settings SET value = value")
        assert version() == v0
        with other.begin():
            other.exec_driver_sql("INSERT INTO tags (name) VALUES ('x')")
        assert version() != v0
