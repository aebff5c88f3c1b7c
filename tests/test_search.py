"""Search in Korean and English: trigrams for 3+ characters, LIKE for shorter words."""

from __future__ import annotations

from datetime import date

import pytest

from studylog.errors import InvalidInputError
from studylog.services import cards, journal, search, todos
from studylog.storage.engine import Database

pytestmark = pytest.mark.both_backends


@pytest.fixture
def filled(db: Database) -> Database:
    journal.add(db, "밑바닥2 8장의 어텐션 개념을 정리했다.", date(2024, 8, 16))
    journal.add(db, "Neural Turing Machine memory addressing", date(2024, 8, 17))
    todos.add(db, "어텐션 구현하기 🧠", date(2024, 8, 16))
    cards.create(
        db, "What does the forget gate decide?", "How much of c_{t-1} to keep", tags=["lstm"]
    )
    cards.create(db, "어텐션 가중치의 합은?", "1 (softmax)")
    return db


def kinds_and_refs(hits: list[search.SearchHit]) -> set[tuple[str, str]]:
    return {(h.kind, h.ref) for h in hits}


def test_korean_words_of_three_or_more_characters(filled: Database) -> None:
    hits = search.search(filled, "어텐션")
    assert kinds_and_refs(hits) == {("entry", "1"), ("todo", "1"), ("card", "2")}
    entry = next(h for h in hits if h.kind == "entry")
    assert entry.day == date(2024, 8, 16)
    assert "[어텐션]" in entry.snippet


def test_two_syllable_korean_words_fall_back_to_like(filled: Database) -> None:
    hits = search.search(filled, "개념")
    assert kinds_and_refs(hits) == {("entry", "1")}
    assert "[개념]" in hits[0].snippet


def test_every_word_must_occur(filled: Database) -> None:
    assert kinds_and_refs(search.search(filled, "forget keep")) == {("card", "1")}
    assert kinds_and_refs(search.search(filled, "어텐션 정리")) == {("entry", "1")}
    assert search.search(filled, "forget 개념") == []


def test_kinds_filter_the_hits(filled: Database) -> None:
    assert kinds_and_refs(search.search(filled, "어텐션", kinds=("card", "todo"))) == {
        ("todo", "1"),
        ("card", "2"),
    }
    assert search.search(filled, "어텐션", kinds=()) == []


def test_case_insensitive_and_substring(filled: Database) -> None:
    assert kinds_and_refs(search.search(filled, "TURING")) == {("entry", "2")}
    assert kinds_and_refs(search.search(filled, "addr")) == {("entry", "2")}


@pytest.mark.parametrize(
    "query", ['"unbalanced', "AND", "NEAR(", "*", "zz OR", "col:umn", "100%", "x_y"]
)
def test_fts_syntax_in_a_query_is_just_text(filled: Database, query: str) -> None:
    assert search.search(filled, query) == []


def test_an_empty_query_is_a_clear_error(filled: Database) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        search.search(filled, "   ")


def test_the_index_follows_edits_and_deletes(filled: Database) -> None:
    entry = journal.add(filled, "skip connection 잔차 연결", date(2024, 8, 18))
    assert ("entry", str(entry.id)) in kinds_and_refs(search.search(filled, "잔차"))
    journal.edit(filled, entry.id, "layer norm")
    assert search.search(filled, "잔차") == []
    assert ("entry", str(entry.id)) in kinds_and_refs(search.search(filled, "layer norm"))
    journal.delete(filled, entry.id)
    assert search.search(filled, "layer norm") == []


@pytest.mark.sqlite_only
def test_scheduling_writes_leave_the_index_alone(filled: Database) -> None:
    from sqlalchemy import text as sql

    with filled.write() as session:
        before = session.execute(sql("SELECT count(*) FROM search_index_docsize")).scalar()
        changes_before = session.execute(sql("SELECT total_changes()")).scalar()
        session.execute(sql("UPDATE cards SET stability = 3.0, due = due"))
        changes = session.execute(sql("SELECT total_changes()")).scalar() - changes_before
    # Only the two card rows changed: no index rows were deleted and re-inserted.
    assert changes == 2
    cards.edit(filled, 1, front="What does the forget gate f_t decide?")
    assert kinds_and_refs(search.search(filled, "f_t decide")) == {("card", "1")}
    with filled.read() as session:
        assert session.execute(sql("SELECT count(*) FROM search_index_docsize")).scalar() == before
