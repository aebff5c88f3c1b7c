"""Several clients on one collection at once (two machines on one PostgreSQL, or the app and
the CLI on one SQLite file): nothing is lost, and the same card answered twice is merged.

Each "machine" is a :class:`Database` of its own on the same URL (its own engine and
connections), as two studylog processes would be.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, timedelta

import fsrs
import pytest

from studylog.services import cards, journal, review, settings, todos
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar
from tests.conftest import NOW, as_url

pytestmark = pytest.mark.both_backends
CAL = StudyCalendar(day_start_hour=4, zone=UTC)


@pytest.fixture
def machines(db: Database, db_url: str) -> tuple[Database, Database]:
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    laptop, desktop = Database(as_url(db_url)), Database(as_url(db_url))
    yield laptop, desktop
    laptop.dispose()
    desktop.dispose()


def test_two_machines_writing_at_once_lose_nothing(machines) -> None:  # noqa: ANN001
    laptop, desktop = machines
    ids = [c.id for c in (cards.create(laptop, f"q{i}", "a", now=NOW)[0] for i in range(20))]
    errors: list[BaseException] = []

    def work(db: Database, name: str, my_cards: list[int]) -> None:
        try:
            for k, card_id in enumerate(my_cards):
                journal.add(db, f"{name} {k} 어텐션", date(2026, 11, 21), now=NOW)
                review.answer(db, card_id, 3, now=NOW + timedelta(seconds=k))
                todos.add(db, f"{name} todo {k}", date(2026, 11, 21), now=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(laptop, "laptop", ids[:10])),
        threading.Thread(target=work, args=(desktop, "desktop", ids[10:])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    bodies = sorted(e.body for e in journal.on_day(laptop, date(2026, 11, 21)))
    assert bodies == sorted(
        [f"laptop {k} 어텐션" for k in range(10)] + [f"desktop {k} 어텐션" for k in range(10)]
    )
    assert sorted(t.text for t in todos.for_day(desktop, date(2026, 11, 21), CAL)) == sorted(
        [f"laptop todo {k}" for k in range(10)] + [f"desktop todo {k}" for k in range(10)]
    )
    assert all(cards.get(laptop, i).reps == 1 for i in ids)


def test_the_same_card_answered_on_two_machines_keeps_both_and_replays(machines) -> None:  # noqa: ANN001
    """The laptop shows the card and is answered at 10:00:00; the desktop, answered
    a second later, saves first. Both reviews stay, and the card is what the fsrs
    package gives for the two answers in time order (as Anki after a sync)."""
    laptop, desktop = machines
    card = cards.create(laptop, "어텐션 가중치의 합은?", "1", now=NOW - timedelta(days=3))[0]
    on_laptop = review.ReviewSession(laptop, now=NOW)
    on_desktop = review.ReviewSession(desktop, now=NOW)
    assert on_laptop.next_card(now=NOW).id == on_desktop.next_card(now=NOW).id == card.id
    on_desktop.answer(card.id, 4, now=NOW + timedelta(seconds=1))  # Easy, saved first
    merged = on_laptop.answer(card.id, 1, now=NOW)  # Again, earlier, saved second
    stored = cards.get(laptop, card.id)
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    expected = fsrs.Card(card_id=card.id, due=card.due)
    expected, _ = scheduler.review_card(expected, fsrs.Rating.Again, NOW)
    expected, _ = scheduler.review_card(expected, fsrs.Rating.Easy, NOW + timedelta(seconds=1))
    assert stored.reps == 2 and stored.lapses == 0
    assert stored.state == expected.state.value
    assert stored.stability == pytest.approx(expected.stability, rel=1e-9)
    assert stored.difficulty == pytest.approx(expected.difficulty, rel=1e-9)
    assert stored.due == expected.due.replace(microsecond=expected.due.microsecond // 1000 * 1000)
    assert stored.last_review == NOW + timedelta(seconds=1)
    assert merged.card.stability == stored.stability  # what the laptop shows is the merge
    # Undo on the laptop takes its answer back and replays the desktop's alone.
    on_laptop.undo()
    alone, _ = scheduler.review_card(
        fsrs.Card(card_id=card.id, due=card.due), fsrs.Rating.Easy, NOW + timedelta(seconds=1)
    )
    after_undo = cards.get(desktop, card.id)
    assert after_undo.reps == 1
    assert after_undo.stability == pytest.approx(alone.stability, rel=1e-9)


def test_a_todo_reordered_on_two_machines_ends_in_one_order(machines) -> None:  # noqa: ANN001
    laptop, desktop = machines
    day = date(2026, 11, 21)
    made = [todos.add(laptop, f"할 일 {i}", day, now=NOW).id for i in range(6)]
    errors: list[BaseException] = []

    def shuffle(db: Database, moves: list[tuple[int, int]]) -> None:
        try:
            for todo_id, offset in moves:
                todos.move(db, todo_id, offset)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    a = threading.Thread(target=shuffle, args=(laptop, [(made[0], 3), (made[5], -2)] * 5))
    b = threading.Thread(target=shuffle, args=(desktop, [(made[2], -1), (made[1], 2)] * 5))
    a.start(), b.start()
    a.join(), b.join()
    assert errors == []
    seen_laptop = [(t.id, t.position) for t in todos.for_day(laptop, day, CAL)]
    seen_desktop = [(t.id, t.position) for t in todos.for_day(desktop, day, CAL)]
    assert seen_laptop == seen_desktop  # one order, seen alike everywhere
    assert sorted(p for _, p in seen_laptop) == list(range(6))  # no two share a place
    assert sorted(i for i, _ in seen_laptop) == sorted(made)


def test_the_open_app_sees_another_machines_write(machines) -> None:  # noqa: ANN001
    """The app's change watch (polled once a second) notices the other client's commit."""
    from studylog.services.changes import ChangeWatch

    laptop, desktop = machines
    watch = ChangeWatch(laptop)
    try:
        journal.on_day(laptop, date(2026, 11, 21))
        assert watch.changed() is False  # reads change nothing
        journal.add(desktop, "데스크톱에서 쓴 글", date(2026, 11, 21), now=NOW)
        assert watch.changed() is True
        assert watch.changed() is False  # seen
        journal.add(laptop, "my own write", date(2026, 11, 21), now=NOW)
        watch.reset()  # the app absorbs its own writes
        assert watch.changed() is False
    finally:
        watch.close()
