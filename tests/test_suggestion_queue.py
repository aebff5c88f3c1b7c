"""The suggestion queue's reading: a suggestion's passage in its note, the concept it names."""

from __future__ import annotations

from datetime import UTC, date, datetime

from studylog.services.suggestions import SuggestionInfo, concept_named, passage

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
NOTE = (
    "밑바닥 딥러닝2 - 7장 (앞부분)\n-\n"
    "기억 셀(memory cell) LSTM 전용의 기억 장치.\n-\n"
    "GRU는 책에 자세히 없어서 블로그 몇개 찾아봤다.\n-\n"
    "GRU 게이트가 reset, update 두 개뿐이다.\n-\nTODO list"
)


def _suggestion(front: str, back: str, line: int | None, kind: str = "basic") -> SuggestionInfo:
    return SuggestionInfo(
        id=1, front=front, back=back, kind=kind, deck="Default", tags=[], rule="gloss",
        source="til.txt", line=line, day=date(2024, 8, 16), entry_id=1, status="pending",
        card_id=None, created_at=NOW, decided_at=None,
    )  # fmt: skip


def test_the_passage_is_found_by_the_definitions_text_with_file_line_numbers() -> None:
    # "GRU" is on two lines; the one with the definition too is the suggestion's.
    lines, first, marked = passage(
        NOTE, _suggestion("GRU", "게이트가 reset, update 두 개뿐이다.", 17)
    )
    assert lines == [
        "GRU는 책에 자세히 없어서 블로그 몇개 찾아봤다.",
        "-",
        "GRU 게이트가 reset, update 두 개뿐이다.",
        "-",
        "TODO list",
    ]
    assert (first, marked) == (15, [2])


def test_a_definition_on_the_next_lines_is_marked_whole() -> None:
    note = (
        "공부한것\n\npositional encoding :\n\n위치마다 sin, cos 값을 더한다.\n\nteacher forcing : x"
    )
    lines, first, marked = passage(
        note, _suggestion("positional encoding", "위치마다 sin, cos 값을 더한다.", 3)
    )
    assert lines[marked[0]] == "positional encoding :"
    assert lines[marked[-1]] == "위치마다 sin, cos 값을 더한다."
    assert (first, marked) == (1, [2, 3, 4])
    # A cloze is found by its text without the deletion marks.
    cloze = _suggestion("The {{c1::forget gate}} decides", "", 9, kind="cloze")
    assert passage("a\nThe forget gate decides what to keep\nb", cloze)[2] == [1]


def test_text_edited_since_the_import_shows_no_passage() -> None:
    assert passage("전혀 다른 내용", _suggestion("GRU", "게이트 두 개", 3)) == ([], None, [])


LSTM = ("lstm", ["lstm", "LSTM", "장단기 메모리", "forget gate", "망각 게이트", "기억 셀"])
GRU = ("gru", ["gru", "GRU (Gated Recurrent Unit)", "GRU", "게이트 순환 유닛"])
GATES = ("gates", ["gates", "게이트"])


def test_the_concept_named_is_the_longest_name_in_the_front() -> None:
    concepts = [LSTM, GRU, GATES]
    assert concept_named("forget gate", concepts) == "lstm"  # the example
    assert concept_named("forget 게이트(망각 게이트)", concepts) == "lstm"  # longer than 게이트
    assert concept_named("망각 게이트는 무엇을 하나?", concepts) == "lstm"  # Korean particles
    assert concept_named("GRU", concepts) == "gru"
    assert concept_named("GRUB 부트로더", concepts) is None  # Latin names: whole words only
    assert concept_named("Forget Gate", concepts) == "lstm"  # case is ignored
    assert concept_named("positional encoding", concepts) is None
    assert concept_named("x", [("x", ["x"])]) is None  # one-character names never match
