"""Importing study notes: notes in the learners' style, Korean dates, posts, tasks,
definitions, safety; and the three real notes when ../shared is beside the repository."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from studylog.errors import InvalidInputError
from studylog.interchange.importer import import_files
from studylog.interchange.note_dates import header_date
from studylog.interchange.notes import parse_note
from studylog.services import settings, suggestions
from studylog.storage.import_models import SuggestedCard
from studylog.storage.models import Card, JournalEntry, Todo
from studylog.studyday import StudyCalendar
from tests.conftest import DATA, SHARED, needs_shared

pytestmark = pytest.mark.both_backends

# Notes of our own, written in the style of the real ones (tests/data/notes).
OWN = DATA / "notes"
OWN_TIL = OWN / "til-lstm-gru.txt"  # undated TIL: glossary between lone "-" lines, TODO list
OWN_RETRO = OWN / "bootcamp-week3-retrospective.txt"  # Tistory copy: byline, "term :" lines
OWN_LISTING = OWN / "blog-listing.txt"  # three dated posts, each under a category line
OWN_LECTURE = OWN / "lecture-undated.txt"  # undated lecture note, repeated paragraphs
# The real notes of Korean learners beside the repository (tests marked needs_shared).
NOTES = SHARED / "samples" / "notes"
TIL = NOTES / "til-attention-ntm.txt"
RETRO = NOTES / "bootcamp-week2-retrospective.txt"
RNN = NOTES / "bootcamp-rnn-lstm-transformer.txt"
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SEOUL = StudyCalendar(day_start_hour=4, zone=ZoneInfo("Asia/Seoul"))


def parse(text: str, fallback: date = date(2020, 1, 1)):  # noqa: ANN201
    return parse_note(text, calendar=SEOUL, fallback_day=fallback, fallback_source="option")


@pytest.fixture
def seoul_db(db):
    settings.put(db, settings.TIMEZONE, "Asia/Seoul")
    return db


def count(db, model) -> int:  # noqa: ANN001
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "day", "clock"),
    [
        ("stop0729 2024. 8. 16. 19:22", date(2024, 8, 16), "19:22"),
        ("SOJUNG 2021. 8. 16. 11:22", date(2021, 8, 16), "11:22"),
        ("2021.11.12", date(2021, 11, 12), None),
        ("2021-08-16", date(2021, 8, 16), None),
        ("2021년 8월 16일", date(2021, 8, 16), None),
        ("2021년 8월 16일 (월)", date(2021, 8, 16), None),
        ("## TIL 2021-08-16", date(2021, 8, 16), None),
        ("# 2021년 8월 16일 공부 기록", date(2021, 8, 16), None),
        ("2021. 8. 16. 오후 7:22", date(2021, 8, 16), "19:22"),
        ("2021/08/16 7:05 PM", date(2021, 8, 16), "19:05"),
    ],
)
def test_korean_blog_and_iso_dates_are_post_headers(line: str, day: date, clock: str | None):
    found = header_date(line)
    assert found is not None and found.day == day
    assert (found.clock.strftime("%H:%M") if found.clock else None) == clock


@pytest.mark.parametrize(
    "line",
    [
        "6주차 회고  (0) 2024.09.15",  # a blog's list of other posts
        "3주차 회고  (0) 2024.08.23",
        "마감: 2021-08-20",
        "오늘(2021.11.12) 공부했다",
        "2021-02-30",  # not a real day
        "Deadline 2021-08-20",  # one word before a date without time is not a byline
        "12:30 회의",
    ],
)
def test_lines_that_merely_mention_a_date_are_not_headers(line: str):
    assert header_date(line) is None


# --- notes of our own in the learners' style ------------------------------------------------


def test_own_retrospective_is_one_post_on_its_byline_day_not_the_listed_posts():
    text = OWN_RETRO.read_text(encoding="utf-8")
    (post,) = parse(text)
    # 21:05 in Seoul on 2024-08-23 is 12:05 UTC; the footer's four other posts are ignored.
    assert (post.day, post.moment) == (date(2024, 8, 23), datetime(2024, 8, 23, 12, 5, tzinfo=UTC))
    assert post.text == text and post.date_source == "header" and post.tasks == []
    assert [(d.rule, d.line, d.front) for d in post.definitions] == [
        ("colon", 16, "layer normalization"),
        ("colon", 18, "positional encoding"),
        ("colon", 23, "teacher forcing"),
        ("colon", 25, "beam search"),
    ]
    by_front = {d.front: d for d in post.definitions}
    # "term :" with its definition two no-break-space lines further down
    assert by_front["positional encoding"].back == (
        "트랜스포머는 순서를 모르기 때문에 위치마다 sin, cos 값을 더해서 순서 정보를 넣어준다. "
        "주기가 다른 파형들이라 상대 위치도 표현된다."
    )
    assert by_front["teacher forcing"].back == (
        "학습할 때 decoder 입력으로 이전 시점의 예측 대신 정답을 넣어주는 방법."
    )


def test_own_til_without_date_has_its_todo_list_and_glossary():
    text = OWN_TIL.read_text(encoding="utf-8")
    (post,) = parse(text, fallback=date(2024, 9, 10))
    assert (post.day, post.moment, post.date_source) == (date(2024, 9, 10), None, "option")
    assert post.text == text
    assert [(t.text, t.done, t.line) for t in post.tasks] == [
        ("7장 seq2seq 끝까지 읽기", False, 21),
        ("덧셈 데이터셋 직접 돌려보기", False, 22),
        ("LSTM 역전파 노트 정리", False, 23),
    ]
    assert [(d.rule, d.line, d.front) for d in post.definitions] == [
        ("gloss", 12, "기억 셀(memory cell)"),
        ("gloss", 14, "forget 게이트(망각 게이트)"),
        ("gloss", 16, "기울기 클리핑(gradient clipping)"),
        ("gloss", 18, "GRU"),
    ]
    assert post.definitions[1].back.startswith("기억 셀에서 무엇을 잊을지 정한다. f = σ(")
    # Topic lines of the list ("밑바닥 딥러닝2 - 6장") and the TODO list are not definitions.
    assert not any(d.front.startswith(("밑바닥", "TODO", "TID")) for d in post.definitions)


def test_own_blog_listing_gives_each_post_its_category_line():
    text = OWN_LISTING.read_text(encoding="utf-8")
    posts = parse(text)
    assert "".join(p.text for p in posts) == text
    # Seoul times; 01:15 is before the 04:00 day start, so it counts for the day before.
    assert [(p.day, p.moment) for p in posts] == [
        (date(2024, 9, 2), datetime(2024, 9, 2, 13, 10, tzinfo=UTC)),
        (date(2024, 9, 5), datetime(2024, 9, 5, 14, 40, tzinfo=UTC)),
        (date(2024, 9, 6), datetime(2024, 9, 6, 16, 15, tzinfo=UTC)),
    ]
    # Each category line heads its own post, not the tail of the one before.
    assert posts[0].text.startswith("dlcamp의 공부 기록\n\n딥러닝\n\n어텐션 한 번에 정리\n")
    assert posts[0].text.endswith("합이 1이다.\n\n")
    assert posts[1].text.startswith("딥러닝\n\nTransformer 인코더 구현기\n\ndlcamp 2024. 9. 5.")
    assert posts[1].text.endswith("그대로 지나간다.\n\n")
    assert posts[2].text.startswith("알고리즘\n\n종만북 19장 ITES\n")
    assert [[d.front for d in p.definitions] for p in posts] == [
        ["어텐션 가중치"],
        ["잔차 연결"],
        [],
    ]


def test_own_lecture_note_keeps_repeated_paragraphs_and_skips_the_source():
    text = OWN_LECTURE.read_text(encoding="utf-8")
    (post,) = parse(text, fallback=date(2024, 9, 10))
    assert post.text == text  # the copy-pasted paragraphs stay as written
    assert text.count("인코더의 마지막 hidden state 하나에 모든 정보를") == 2
    assert [(d.rule, d.line, d.front) for d in post.definitions] == [
        ("dash", 7, "Encoder"),
        ("dash", 9, "Decoder"),
        ("question", 25, "Attention이란?"),
        ("dash", 33, "Decoder"),  # pasted again further down
    ]
    assert post.definitions[2].back == (
        "디코더의 매 시점에서 인코더의 모든 hidden state를 보고 지금 필요한 부분에 집중하는 방법."
    )
    assert not any("출처" in d.front or "http" in d.front for d in post.definitions)


# --- the three real notes (../shared) --------------------------------------------------------


@needs_shared
def test_tistory_retrospective_is_one_post_on_its_day_not_the_listed_posts():
    text = RETRO.read_text(encoding="utf-8")
    posts = parse(text)
    assert len(posts) == 1
    (post,) = posts
    # 19:22 in Seoul on 2024-08-16 is 10:22 UTC; the footer's five other posts are ignored.
    assert (post.day, post.moment) == (date(2024, 8, 16), datetime(2024, 8, 16, 10, 22, tzinfo=UTC))
    assert post.text == text and post.date_source == "header"
    assert post.tasks == []
    fronts = [d.front for d in post.definitions]
    assert fronts == [
        "bootstraping",
        "data preprocessing",
        "np.dot",
        "recurrent neural network",
        "long short term memory",
        "forget gate",
        "input gate",
        "output gate",
        "GRU",
        "attention",
        "transformer",
        "token aggregation",
        "VIT",
    ]
    by_front = {d.front: d for d in post.definitions}
    assert by_front["np.dot"].back == (
        "차원이 맞지 않는 곱도 가능하다. 예를들어 2차원 행렬과 1차원 배열의 곱이 가능하다."
    )
    assert by_front["np.dot"].line == 25 and by_front["np.dot"].rule == "colon"
    # "term :" with the definition on the following lines (after blank and no-break-space lines)
    assert by_front["recurrent neural network"].back.startswith("결국 풀어서 보면 긴 웨이트 곱")
    assert by_front["attention"].back.startswith("입력들 사이간에 유사도를 구하여")
    assert "Q : query(문의)" in by_front["attention"].back  # the Q/K/V line belongs to it
    assert by_front["VIT"].back.splitlines()[1].startswith("cnn의 inductive bias")


@needs_shared
def test_tistory_lecture_note_finds_the_byline_and_skips_the_source_url():
    text = RNN.read_text(encoding="utf-8")
    (post,) = parse(text)
    assert post.day == date(2021, 8, 16)
    assert post.moment == datetime(2021, 8, 16, 2, 22, tzinfo=UTC)  # 11:22 KST
    assert post.text == text
    got = {(d.rule, d.front) for d in post.definitions}
    assert got == {
        ("dash", "Update cell"),
        ("dash", "Output Gate"),
        ("question", "self attention이란?"),
        ("colon", "Thinking 단어의 encoding된 값"),
    }
    assert not any("출처" in d.front or "http" in d.front for d in post.definitions)


@needs_shared
def test_til_without_date_has_its_todo_list_and_glossary():
    text = TIL.read_text(encoding="utf-8")
    (post,) = parse(text, fallback=date(2021, 11, 12))
    assert (post.day, post.moment, post.date_source) == (date(2021, 11, 12), None, "option")
    assert post.text == text
    assert [(t.text, t.done, t.line) for t in post.tasks] == [
        ("사진 latex 문법으로 교체", False, 35),
        ("종만북-Algospot 1문제 이상 풀기", False, 36),
        ("핸즈온 머신러닝", False, 37),
        ("여인수 정리", False, 38),
    ]
    assert [(d.rule, d.front) for d in post.definitions] == [
        ("gloss", "얼라인먼트 (Alignment)"),
        ("gloss", "Attension 기법"),
        ("gloss", "양방향 LSTM"),
        ("gloss", "Skip connection, residual connection, shor-cut (스킵 연결, 잔차 연결, 숏컷)"),
        ("gloss", "Transformer 모델 (Self-Attention)"),
        ("gloss", "Neural Turing Machine(NTM)"),
    ]
    ntm = post.definitions[-1]
    assert ntm.back.startswith("RNN이나 LSTM은 내부 상태를 활용해")
    assert "- 필요한 정보를 다시 읽어 들이는 능력" in ntm.back  # the item's whole text
    assert ntm.back.endswith("다음 시각의 LSTM 계층으로 전달한다.")
    # Topic lines of the list ("종만북 19장") and the TODO list are not definitions.
    assert not any(d.front.startswith(("종만북", "밑바닥", "TODO")) for d in post.definitions)


# --- posts, tasks and definitions in made-up notes -------------------------------------------

JOURNAL = """# 공부 일지

## 2021-08-16
밑바닥2 7장 seq2seq 🧠
- [x] 7장 읽기
- [ ] 연습문제

## 2021-08-17 (화)
Peeky decoder 정리.
attention::원하는 정보에 주목하는 기법

### 할 일
- 8장 읽기
- 8장 읽기

2021년 8월 18일
Q: softmax의 출력의 합은?
A: 항상 1
"""


def test_a_file_of_several_dated_posts_becomes_one_post_each_and_keeps_every_character():
    posts = parse(JOURNAL)
    assert [p.day for p in posts] == [date(2021, 8, 16), date(2021, 8, 17), date(2021, 8, 18)]
    assert "".join(p.text for p in posts) == JOURNAL
    assert posts[0].text.startswith("# 공부 일지\n\n## 2021-08-16\n")  # the preamble goes first
    assert posts[1].text.startswith("## 2021-08-17 (화)\n")
    assert [(t.text, t.done) for t in posts[0].tasks] == [("7장 읽기", True), ("연습문제", False)]
    assert [t.text for t in posts[1].tasks] == ["8장 읽기", "8장 읽기"]
    assert [(d.rule, d.front, d.back) for d in posts[1].definitions] == [
        ("double-colon", "attention", "원하는 정보에 주목하는 기법")
    ]
    assert [(d.rule, d.front, d.back) for d in posts[2].definitions] == [
        ("qa", "softmax의 출력의 합은?", "항상 1")
    ]


def test_a_title_above_a_byline_belongs_to_its_post():
    text = (
        "첫 글\n\nme 2024. 8. 16. 19:22\n내용 하나\n\n둘째 글\n\nme 2024. 8. 17. 01:30\n내용 둘\n"
    )
    first, second = parse(text)
    assert first.text == "첫 글\n\nme 2024. 8. 16. 19:22\n내용 하나\n\n"
    assert second.text == "둘째 글\n\nme 2024. 8. 17. 01:30\n내용 둘\n"
    # 01:30 in Seoul is before the 04:00 day start: it belongs to the study day before.
    assert second.day == date(2024, 8, 16)
    assert second.moment == datetime(2024, 8, 16, 16, 30, tzinfo=UTC)


def test_front_matter_date_deflist_cloze_and_code_blocks():
    text = (
        "---\ntitle: 정리\ndate: 2021-08-20\n---\n"
        "Softmax\n: 입력을 확률분포로 바꾸는 함수\n\n"
        "- {{c1::Q}}와 {{c2::K}}의 내적으로 점수를 구한다\n\n"
        "```python\nx = {'a': 1}  # key : value\nstd::vector<int> v;\n- [ ] not a task\n```\n"
    )
    (post,) = parse(text)
    assert (post.day, post.date_source) == (date(2021, 8, 20), "front-matter")
    assert post.tasks == []
    assert [(d.rule, d.kind, d.front, d.back) for d in post.definitions] == [
        ("deflist", "basic", "Softmax", "입력을 확률분포로 바꾸는 함수"),
        ("cloze", "cloze", "{{c1::Q}}와 {{c2::K}}의 내적으로 점수를 구한다", ""),
    ]


def test_colon_rule_leaves_urls_times_sources_and_sentences_alone():
    text = (
        "출처 : http://example.com/a\n"
        "회의 19:22 시작\n"
        "이것은 아주 긴 문장이라서 용어가 아닌 것으로 보아야 하는 줄입니다 : 그렇다\n"
        "link: https://x.y\n"
        "**ReLU** : max(0, x) 🙂\n"
    )
    (post,) = parse(text)
    assert [(d.front, d.back) for d in post.definitions] == [("ReLU", "max(0, x) 🙂")]


# --- through the database -------------------------------------------------------------------


def test_importing_our_notes_then_again_adds_nothing(seoul_db):
    report = import_files(seoul_db, [OWN], day=date(2024, 9, 10), now=NOW)
    added = report.total("added")
    # 3 + 1 + 1 + 1 posts; the TIL's 3 tasks; 4 + 4 + 2 + 4 definitions, the lecture's
    # pasted-again "Decoder" proposed once.
    assert (added["entries"], added["todos"], added["suggestions"]) == (6, 3, 13)
    with seoul_db.read() as s:
        days = sorted(e.day for e in s.scalars(select(JournalEntry)))
        assert days == [
            date(2024, 8, 23),
            date(2024, 9, 2),
            date(2024, 9, 5),
            date(2024, 9, 6),
            date(2024, 9, 10),
            date(2024, 9, 10),
        ]
        retro = s.scalar(select(JournalEntry).where(JournalEntry.day == date(2024, 8, 23)))
        assert retro.body == OWN_RETRO.read_text(encoding="utf-8")
        assert retro.created_at == datetime(2024, 8, 23, 12, 5, tzinfo=UTC)
        todos = s.scalars(select(Todo).order_by(Todo.position)).all()
        assert [(t.text, t.origin_day, t.position) for t in todos] == [
            ("7장 seq2seq 끝까지 읽기", date(2024, 9, 10), 0),
            ("덧셈 데이터셋 직접 돌려보기", date(2024, 9, 10), 1),
            ("LSTM 역전파 노트 정리", date(2024, 9, 10), 2),
        ]
        assert s.scalar(select(func.count(Card.id))) == 0  # nothing scheduled without consent
    fronts = [p.front for p in suggestions.list_suggestions(seoul_db)]
    assert fronts.count("Decoder") == 1 and len(fronts) == 13
    again = import_files(seoul_db, [OWN], now=NOW)  # no --date now: still the same notes
    assert again.total("added") == dict.fromkeys(again.total("added"), 0)
    assert (count(seoul_db, JournalEntry), count(seoul_db, Todo)) == (6, 3)


@needs_shared
def test_importing_the_three_notes_then_again_adds_nothing(seoul_db, tmp_path):
    report = import_files(seoul_db, [NOTES], day=date(2021, 11, 12), now=NOW)
    added = report.total("added")
    assert (added["entries"], added["todos"], added["suggestions"]) == (3, 4, 23)
    with seoul_db.read() as s:
        entries = {e.day: e for e in s.scalars(select(JournalEntry))}
        assert set(entries) == {date(2021, 8, 16), date(2024, 8, 16), date(2021, 11, 12)}
        assert entries[date(2024, 8, 16)].body == RETRO.read_text(encoding="utf-8")
        assert entries[date(2024, 8, 16)].created_at == datetime(2024, 8, 16, 10, 22, tzinfo=UTC)
        todos = s.scalars(select(Todo).order_by(Todo.position)).all()
        assert [(t.text, t.origin_day, t.position) for t in todos] == [
            ("사진 latex 문법으로 교체", date(2021, 11, 12), 0),
            ("종만북-Algospot 1문제 이상 풀기", date(2021, 11, 12), 1),
            ("핸즈온 머신러닝", date(2021, 11, 12), 2),
            ("여인수 정리", date(2021, 11, 12), 3),
        ]
        # Nothing is scheduled without consent.
        assert s.scalar(select(func.count(Card.id))) == 0
    again = import_files(seoul_db, [NOTES], now=NOW)  # no --date now: still the same notes
    assert again.total("added") == dict.fromkeys(again.total("added"), 0)
    skipped = again.total("skipped")
    assert (skipped["entries"], skipped["todos"], skipped["suggestions"]) == (3, 4, 23)
    assert (count(seoul_db, JournalEntry), count(seoul_db, Todo)) == (3, 4)


def test_a_note_that_grew_adds_only_the_new_post_and_tasks(seoul_db, tmp_path):
    path = tmp_path / "journal.md"
    path.write_text(JOURNAL.split("2021년 8월 18일")[0], encoding="utf-8")
    first = import_files(seoul_db, [path], now=NOW).total("added")
    assert (first["entries"], first["todos"], first["suggestions"]) == (2, 4, 1)
    path.write_text(JOURNAL, encoding="utf-8")
    second = import_files(seoul_db, [path], now=NOW)
    added, skipped = second.total("added"), second.total("skipped")
    # The two earlier posts are unchanged (a post ends where the next dated one begins).
    assert (added["entries"], added["todos"], added["suggestions"]) == (1, 0, 1)
    assert (skipped["entries"], skipped["todos"]) == (2, 4)
    with seoul_db.read() as s:
        done = s.scalars(select(Todo).where(Todo.done_at.is_not(None))).all()
        assert [(t.text, t.origin_day) for t in done] == [("7장 읽기", date(2021, 8, 16))]
        # Done on its own day: the study day's start in Seoul (04:00 KST = 19:00 UTC before).
        assert done[0].done_at == datetime(2021, 8, 15, 19, 0, tzinfo=UTC)


def test_undated_file_takes_date_option_else_its_modification_day(seoul_db, tmp_path):
    a, b = tmp_path / "a.md", tmp_path / "b.txt"
    a.write_text("오늘은 LSTM 🧠\n", encoding="utf-8")
    b.write_text("GRU 복습\n", encoding="utf-8")
    stamp = datetime(2022, 3, 4, 12, 0, tzinfo=UTC).timestamp()
    os.utime(b, (stamp, stamp))
    import_files(seoul_db, [a], day=date(2021, 1, 2), now=NOW)
    import_files(seoul_db, [b], now=NOW)
    with seoul_db.read() as s:
        got = {e.body: e.day for e in s.scalars(select(JournalEntry))}
    assert got == {"오늘은 LSTM 🧠\n": date(2021, 1, 2), "GRU 복습\n": date(2022, 3, 4)}


def test_dry_run_reports_and_writes_nothing(seoul_db):
    report = import_files(
        seoul_db, [OWN_TIL, OWN_RETRO], day=date(2024, 9, 10), dry_run=True, now=NOW
    )
    assert report.dry_run and report.total("added")["suggestions"] == 8
    assert (
        count(seoul_db, JournalEntry),
        count(seoul_db, Todo),
        count(seoul_db, SuggestedCard),
    ) == (
        0,
        0,
        0,
    )


def test_an_error_in_a_later_file_writes_nothing(seoul_db, tmp_path):
    bad = tmp_path / "z-broken.csv"
    bad.write_text("front,back\n어텐션,\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"^z-broken.csv:2: missing back"):
        import_files(seoul_db, [OWN_TIL, bad], day=date(2024, 9, 10), now=NOW)
    assert count(seoul_db, JournalEntry) == 0 and count(seoul_db, SuggestedCard) == 0


def test_cp949_note_from_windows_is_read(seoul_db, tmp_path):
    path = tmp_path / "메모.txt"
    path.write_bytes("2021.11.12\n역전파 : 연쇄법칙으로 기울기를 구한다\n".encode("cp949"))
    report = import_files(seoul_db, [path], now=NOW)
    assert report.files[0].notes == ["read as CP949 text"]
    (s,) = suggestions.list_suggestions(seoul_db)
    assert (s.front, s.back, s.day, s.source, s.line) == (
        "역전파",
        "연쇄법칙으로 기울기를 구한다",
        date(2021, 11, 12),
        "메모.txt",
        2,
    )


def test_binary_file_is_refused_with_its_name(seoul_db, tmp_path):
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(InvalidInputError, match=r"^image.md: not a text file"):
        import_files(seoul_db, [path], now=NOW)


# --- suggested cards: accept and reject ------------------------------------------------------


def test_accept_and_reject_suggestions_and_rejections_stay_rejected(seoul_db, tmp_path):
    path = tmp_path / "n.md"
    path.write_text(
        "2021-08-16\n어텐션 : 원하는 정보에 주목 🧠\nGRU : gate가 2개\n"
        "{{c1::Q}}와 {{c2::K}}의 내적\n",
        encoding="utf-8",
    )
    import_files(seoul_db, [path], now=NOW)
    pending = suggestions.list_suggestions(seoul_db)
    assert [(p.front, p.kind) for p in pending] == [
        ("어텐션", "basic"),
        ("GRU", "basic"),
        ("{{c1::Q}}와 {{c2::K}}의 내적", "cloze"),
    ]
    att, gru, cloze = (p.id for p in pending)
    made = suggestions.accept(seoul_db, [att], back="원하는 정보에 주목하는 기법 🧠", now=NOW)
    assert [(c.front, c.back, c.origin, c.is_new, c.due) for c in made] == [
        ("어텐션", "원하는 정보에 주목하는 기법 🧠", "import", True, NOW)
    ]
    cards = suggestions.accept(seoul_db, [cloze], deck="밑바닥2", tags=["dl2"], now=NOW)
    assert [(c.kind, c.cloze_ord, c.deck, c.tags) for c in cards] == [
        ("cloze", 1, "밑바닥2", ["dl2"]),
        ("cloze", 2, "밑바닥2", ["dl2"]),
    ]
    assert suggestions.reject(seoul_db, [gru], now=NOW) == 1
    with pytest.raises(InvalidInputError, match="already rejected"):
        suggestions.accept(seoul_db, [gru])
    assert suggestions.get(seoul_db, att).card_id == made[0].id
    # Importing again proposes nothing: accepted and rejected ones are remembered.
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    report = import_files(seoul_db, [path], now=NOW)
    assert report.total("added")["suggestions"] == 0
    assert suggestions.count(seoul_db) == 0


def test_card_cli_suggested_accept_reject(run_cli, tmp_path):
    path = tmp_path / "n.md"
    path.write_text("2021-08-16\n어텐션 : 원하는 정보에 주목 🧠\nGRU : gate가 2개\n", "utf-8")
    out = run_cli("import", str(path), "--json")
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["files"][0]["added"]["suggestions"] == 2
    listed = json.loads(run_cli("card", "suggested", "--json").output)
    assert [s["front"] for s in listed] == ["어텐션", "GRU"]
    first, second = (s["id"] for s in listed)
    assert "어텐션" in run_cli("card", "suggested").output
    accepted = run_cli("card", "accept", str(first), "--tag", "dl2")
    assert accepted.exit_code == 0 and accepted.output.startswith("Added 1 card: ")
    assert run_cli("card", "reject", "--all").output == "Rejected 1 suggestion.\n"
    again = run_cli("card", "accept", str(second))
    assert again.exit_code == 1 and f"suggested card {second} was already rejected" in again.output
    cards = json.loads(run_cli("card", "list", "--tag", "dl2", "--json").output)
    assert [(c["front"], c["back"]) for c in cards] == [("어텐션", "원하는 정보에 주목 🧠")]
    assert run_cli("card", "suggested").output == "No suggested cards.\n"


def test_cli_import_summary_and_dry_run(run_cli, tmp_path):
    out = run_cli("import", str(OWN_TIL), "--date", "2024-09-10", "--dry-run")
    assert out.exit_code == 0
    assert out.output.splitlines()[0] == (
        "til-lstm-gru.txt (notes): would add 1 entry, 3 TODOs, 4 suggested cards; skipped nothing."
    )
    assert "Dry run: nothing was written." in out.output
    assert json.loads(run_cli("todo", "list", "--date", "2024-09-10", "--json").output) == []
    assert run_cli("import", str(OWN_TIL), "--date", "2024-09-10").exit_code == 0
    todos = json.loads(run_cli("todo", "list", "--date", "2024-09-10", "--json").output)
    assert [t["text"] for t in todos][:2] == [
        "7장 seq2seq 끝까지 읽기",
        "덧셈 데이터셋 직접 돌려보기",
    ]
    missing = run_cli("import", str(tmp_path / "nope.md"))
    assert missing.exit_code == 1 and "nope.md: no such file or folder" in missing.output
    odd = tmp_path / "x.docx"
    odd.write_bytes(b"PK")
    refused = run_cli("import", str(odd))
    assert refused.exit_code == 1 and "x.docx: cannot import this kind of file" in refused.output


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from studylog.cli import data

    monkeypatch.setattr(data.sys.stderr, "isatty", lambda: False, raising=False)
    with data._ProgressBar() as quiet:
        quiet("reading", 1, 2)
    assert quiet._bar is None and quiet._tasks == {}
    monkeypatch.setattr(data.sys.stderr, "isatty", lambda: True, raising=False)
    with data._ProgressBar() as bar:
        bar("reading", 1, 2)
        bar("reading", 2, 2)
        bar("cards", 500, None)
        rows = {t.description: (t.completed, t.total) for t in bar._bar.tasks}
    assert rows == {"reading": (2, 2), "cards": (500, None)}
