"""Fixtures of the TUI tests: a fixed clock, an app factory and a seeded database.

NOW is Saturday 2026-11-21 10:00 UTC and the time zone is UTC, so the study
day (starting 04:00) is 2026-11-21. ``seeded_db`` is deterministic: the real
content pack (synced with its clock fixed two days earlier, so its 146 new
cards are available today), journal entries with Korean text, ``$math$`` and
``[[links]]``, TODOs carried over from earlier days, and twelve cards of the
user's own: four new, four reviewed four days ago (due again), two answered
today and two answered Easy (not due).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from studylog.services import card_actions, cards, concepts, journal, review, settings, todos
from studylog.storage import migrate
from studylog.storage.engine import Database

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 21)
SIZE = (120, 40)

ENTRY_TODAY = (
    "# 8장 어텐션\n\n"
    "어텐션 가중치 $\\alpha_t = \\mathrm{softmax}(e_t)$ 로 맥락 벡터를 만든다.\n"
    "[[어텐션]] 과 [[softmax|소프트맥스]] 참고.\n\n"
    "```python\nc = (a * hs).sum(axis=0)  # $not math$\n```\n"
)
ENTRY_TODAY_2 = (
    "Transformer 블록: $\\mathrm{LN}(x + \\mathrm{MHA}(x))$, 잔차 연결 [[skip-connection]]"
)
ENTRY_YESTERDAY = (
    "LSTM 게이트 정리: 망각 게이트 $f = \\sigma(x_t W_x + h_{t-1} W_h + b)$\n\n"
    "기울기 소실 문제 [[vanishing-exploding-gradients|기울기 소실]]"
)
ENTRY_TWO_DAYS_AGO = (
    "## RNN 복습\n\n시간 방향 오차역전파법(BPTT)의 개념을 정리했다. [[rnn]]\n\n"
    "$h_t = \\tanh(h_{t-1} W_h + x_t W_x + b)$"
)

OWN_CARDS = [
    ("어텐션 가중치는 어떻게 구하나?", "점수에 softmax: $a = \\mathrm{softmax}(s)$"),
    ("맥락 벡터(context vector)란?", "인코더 은닉 상태의 가중합"),
    ("LSTM의 기억 셀 $c_t$ 는?", "$c_t = f \\odot c_{t-1} + g \\odot i$"),
    ("기울기 소실의 원인은?", "tanh 미분과 $W_h$ 의 반복 곱"),
    ("softmax 오버플로 대책은?", "최댓값을 빼고 exp"),
    ("BPTT 란?", "시간 방향으로 펼친 신경망의 오차역전파법"),
    ("Truncated BPTT 의 개념은?", "역전파 연결만 적당한 길이로 끊는다"),
    ("GRU 의 게이트 두 개는?", "reset 게이트와 update 게이트"),
    ("seq2seq 의 두 부분은?", "Encoder 와 Decoder"),
    ("Peeky 디코더란?", "맥락 벡터 $h$ 를 모든 시각의 입력에 더해 준다"),
    ("BLEU 는 무엇을 재나?", "n-gram 정밀도와 간결성 페널티"),
    ("스킵 연결의 효과는?", "기울기가 덧셈 노드를 그대로 흐른다"),
]


def seed(db: Database) -> None:
    """Write the deterministic sample data (see the module docstring) into ``db``."""

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)

    d2, d1 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
    journal.add(db, ENTRY_TWO_DAYS_AGO, d2, now=at(d2, 21))
    journal.add(db, ENTRY_YESTERDAY, d1, now=at(d1, 22, 30))
    journal.add(db, ENTRY_TODAY, TODAY, now=at(TODAY, 9, 0))
    journal.add(db, ENTRY_TODAY_2, TODAY, now=at(TODAY, 9, 30))

    d3 = TODAY - timedelta(days=3)
    todos.add(db, "밑바닥2 7장 연습문제 풀기", d3, now=at(d3, 20))
    todos.add(db, "BPTT 손으로 계산해 보기", d2, now=at(d2, 20))
    done_old = todos.add(db, "RNN 구현 복습", d2, now=at(d2, 20, 5))
    todos.complete(db, done_old.id, now=at(d2, 23))
    done_today = todos.add(db, "LSTM 셀 그림 그리기", d1, now=at(d1, 20))
    todos.complete(db, done_today.id, now=at(TODAY, 9))
    todos.add(db, "8장 어텐션 다시 읽기", TODAY, now=at(TODAY, 8))
    softmax = todos.add(db, "softmax 구현 테스트", TODAY, now=at(TODAY, 8, 5))
    todos.complete(db, softmax.id, now=NOW - timedelta(minutes=30))
    todos.add(db, "Transformer 논문 3.2절 (Scaled Dot-Product)", TODAY, now=at(TODAY, 8, 10))

    made = [
        cards.create(
            db,
            front,
            back,
            tags=["밑바닥2"],
            concept_slug="scaled-dot-product-attention" if i < 2 else None,
            now=NOW - timedelta(days=10),
        )[0]
        for i, (front, back) in enumerate(OWN_CARDS)
    ]
    four_days = NOW - timedelta(days=4)
    for card in made[4:8]:  # learnt four days ago: due again by now
        review.answer(db, card.id, 3, now=four_days)
        review.answer(db, card.id, 3, now=four_days + timedelta(minutes=15))
    for card in made[8:10]:  # answered this morning
        review.answer(db, card.id, 3, now=NOW - timedelta(hours=1))
    for card in made[10:12]:  # easy: due in a week or more
        review.answer(db, card.id, 4, now=four_days)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """The study calendar takes the zone from $TZ: fix it to UTC."""
    monkeypatch.setenv("TZ", "UTC")


def _database(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    return db


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database with nothing in it (not even the pack)."""
    db = _database(tmp_path / "empty.db")
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def _seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded database, built once per test session; each test gets a copy."""
    from studylog.content import sync

    path = tmp_path_factory.mktemp("template") / "seeded.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        # The pack's cards are created "now": fix that moment too, so counts never
        # depend on the wall clock.
        patch.setattr(sync, "utcnow", lambda: NOW - timedelta(days=2))
        db = _database(path)
        sync.sync_pack(db)
        seed(db)
        db.dispose()  # the last connection closing folds the WAL into the file
    return path


@pytest.fixture
def seeded_db(tmp_path: Path, _seeded_template: Path) -> Iterator[Database]:
    """The pack plus the sample data of :func:`seed`, in a real SQLite file of this test."""
    path = tmp_path / "seeded.db"
    shutil.copyfile(_seeded_template, path)
    db = _database(path)
    yield db
    db.dispose()


@pytest.fixture
def make_app() -> Callable[..., object]:
    """``make_app(db)``: a StudylogApp on ``db`` with the clock fixed at NOW.

    Bugs are raised (not turned into notifications), so that they fail tests.
    """
    from studylog.tui.app import StudylogApp

    def make(db: Database, *, now: datetime = NOW) -> StudylogApp:
        return StudylogApp(db, now=lambda: now, raise_unexpected=True)

    return make


async def settle(pilot) -> None:  # noqa: ANN001 - textual.pilot.Pilot
    """Let workers finish and their messages be handled (a day loaded, a search done),
    then wait until the screen stops changing: on a loaded machine a Markdown update
    (it renders asynchronously) can still be under way after the messages are handled,
    and a snapshot taken then shows half a screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    # A blinking cursor is drawn or not depending on when the snapshot is taken: hold it.
    for widget in pilot.app.screen.query("TextArea, Input"):
        widget.cursor_blink = False
    await pilot.pause()
    previous = pilot.app.export_screenshot()
    for _ in range(40):  # at most ~2 s; an idle machine is stable at the first look
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
        current = pilot.app.export_screenshot()
        if current == previous:
            return
        previous = current


@pytest.fixture
def ex_db(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The pack's softmax concept alone, its flashcards suspended: its three exercises
    (cards of the deck "Exercises") are the only cards due."""
    from studylog.content import sync
    from studylog.paths import content_dir

    monkeypatch.setenv("TZ", "UTC")
    settings.put(db, settings.TIMEZONE, "UTC")
    root = tmp_path / "pack"
    (root / "concepts").mkdir(parents=True)
    shutil.copy(content_dir() / "concepts" / "softmax.md", root / "concepts")
    monkeypatch.setattr(sync, "utcnow", lambda: NOW - timedelta(days=1))
    sync.sync_pack(db, root)
    flash = [c.id for c in concepts.get(db, "softmax").cards if c.kind != "exercise"]
    card_actions.suspend(db, ids=flash, now=NOW - timedelta(hours=1))
    return db


async def steps_done(pilot) -> None:  # noqa: ANN001 - textual.pilot.Pilot
    """Wait until the Review screen's steps (its session reads and writes, run in a
    worker, and the keys kept while they ran) are on screen; other screens: return."""
    for _ in range(400):  # at most ~20 s on a loaded machine
        screen = pilot.app.screen
        if not getattr(screen, "_busy", False) and not getattr(screen, "_pending", None):
            return
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
    raise AssertionError("the review step never finished")


async def press(pilot, *keys: str) -> None:  # noqa: ANN001 - textual.pilot.Pilot
    """Press ``keys`` one at a time, each followed by :func:`steps_done`."""
    for key in keys:
        await pilot.press(key)
        await steps_done(pilot)
