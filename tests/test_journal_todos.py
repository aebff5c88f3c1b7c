"""Journal entries and TODOs that carry over without rewriting old days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from studylog.errors import InvalidInputError, NotFoundError
from studylog.services import journal, todos
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar

pytestmark = pytest.mark.both_backends


D1, D2, D3 = date(2024, 8, 14), date(2024, 8, 15), date(2024, 8, 16)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_entries_are_listed_by_day_and_edited(db: Database) -> None:
    a = journal.add(db, "RNN 복습", D1, now=at(D1, 9))
    journal.add(db, "LSTM 게이트 🧠", D2, now=at(D2, 9))
    journal.add(db, "GRU", D2, now=at(D2, 10))
    assert [e.body for e in journal.on_day(db, D2)] == ["LSTM 게이트 🧠", "GRU"]
    assert [e.day for e in journal.between(db, D1, D3)] == [D1, D2, D2]
    assert journal.days_with_entries(db, D1, D3) == {D1: 1, D2: 2}
    edited = journal.edit(db, a.id, "RNN 복습 (BPTT)", now=at(D3, 9))
    assert edited.body == "RNN 복습 (BPTT)" and edited.created_at == at(D1, 9)
    assert edited.updated_at == at(D3, 9)
    journal.delete(db, a.id)
    assert journal.on_day(db, D1) == []


def test_empty_entries_and_unknown_ids_are_refused(db: Database) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        journal.add(db, "  \n ", D1)
    with pytest.raises(NotFoundError, match="no journal entry with id 42"):
        journal.edit(db, 42, "x")


def test_open_todos_carry_over_with_their_origin_day(db: Database, calendar: StudyCalendar) -> None:
    read = todos.add(db, "밑바닥2 8장 읽기", D1, now=at(D1, 9))
    solve = todos.add(db, "ITES 다시 풀기", D1, now=at(D1, 9))
    todos.complete(db, solve.id, now=at(D1, 20))
    own = todos.add(db, "NTM 논문", D3, now=at(D3, 9))

    on_d3 = todos.for_day(db, D3, calendar)
    assert [(t.text, t.carried, t.origin_day) for t in on_d3] == [
        ("밑바닥2 8장 읽기", True, D1),
        ("NTM 논문", False, D3),
    ]
    # The first day still shows both of its own items; nothing was moved.
    assert [(t.text, t.done) for t in todos.for_day(db, D1, calendar)] == [
        ("밑바닥2 8장 읽기", False),
        ("ITES 다시 풀기", True),
    ]
    # Done on D3: it shows as done on D3, open on D2, and is gone from D4.
    todos.complete(db, read.id, now=at(D3, 12))
    assert [(t.text, t.done) for t in todos.for_day(db, D3, calendar)][0] == (
        "밑바닥2 8장 읽기",
        True,
    )
    assert [(t.text, t.done) for t in todos.for_day(db, D2, calendar)] == [
        ("밑바닥2 8장 읽기", False)
    ]
    d4 = D3 + timedelta(days=1)
    assert [(t.text, t.carried) for t in todos.for_day(db, d4, calendar)] == [("NTM 논문", True)]
    assert todos.open_count(db) == 1 and own.position == 0


def test_reopen_edit_move_and_delete(db: Database, calendar: StudyCalendar) -> None:
    items = [todos.add(db, text, D1) for text in ("a", "b", "c")]
    todos.move(db, items[2].id, -2)
    assert [t.text for t in todos.for_day(db, D1, calendar)] == ["c", "a", "b"]
    todos.move(db, items[2].id, +10)  # clamps at the end
    assert [t.text for t in todos.for_day(db, D1, calendar)] == ["a", "b", "c"]
    todos.toggle(db, items[0].id, now=at(D1, 10))
    assert todos.for_day(db, D1, calendar)[0].done
    todos.toggle(db, items[0].id)
    assert not todos.for_day(db, D1, calendar)[0].done
    todos.edit(db, items[1].id, text="B", due_day=D3)
    assert todos.for_day(db, D1, calendar)[1].due_day == D3
    todos.delete(db, items[1].id)
    assert [t.text for t in todos.for_day(db, D1, calendar)] == ["a", "c"]
    with pytest.raises(InvalidInputError):
        todos.add(db, "   ", D1)
    with pytest.raises(NotFoundError):
        todos.complete(db, 999)
