"""The deck list (F8) in the app: counts, studying one deck, custom study (a preview that
writes nothing, review ahead, extra new cards), rename, move cards, delete, undo; and
snapshots of the deck list and a custom study session at 120x40 and 80x24."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from studylog.services import cards, decks, review
from studylog.services.custom_study import CustomSession
from studylog.storage.engine import Database
from studylog.storage.models import Card
from studylog.tui.screens.decks import DecksScreen, DeckTable
from studylog.tui.screens.review import ReviewScreen
from tests.tui.conftest import NOW, SIZE, settle

SMALL = (80, 24)
DAY = timedelta(days=1)

# (deck, front, back, days until due: None = new)
CARDS = [
    ("딥러닝", "어텐션 가중치의 합은?", "1 (softmax) 🧠", None),
    ("딥러닝::RNN", "BPTT 란?", "시간 방향 오차역전파법", -1),
    ("딥러닝::RNN", "기울기 소실의 원인은?", "tanh 미분의 반복 곱", 0),
    ("딥러닝::RNN::LSTM", "LSTM 의 기억 셀은?", "c_t = f ⊙ c_{t-1} + g ⊙ i", None),
    ("딥러닝::RNN::LSTM", "forget gate 는?", "무엇을 버릴지", 2),
    ("수학", "행렬식의 여인수 전개", "cofactor expansion", 3),
    ("수학", "Hadamard 곱", "원소별 곱", None),
]


@pytest.fixture
def decks_db(empty_db: Database) -> Database:
    db = empty_db
    for deck, front, back, days in CARDS:
        (card,) = cards.create(db, front, back, deck=deck, now=NOW - 20 * DAY)
        if days is None:
            continue
        with db.write() as session:
            row = session.get(Card, card.id)
            row.state, row.stability, row.difficulty, row.reps = 2, 5.0, 5.0, 2
            row.last_review = NOW - 5 * DAY
            row.due = NOW + days * DAY
    return db


def schedule_digest(path: Path) -> str:
    con = sqlite3.connect(path)
    digest = hashlib.sha256()
    for table in ("cards", "reviews"):
        for row in con.execute(f"SELECT * FROM {table} ORDER BY id"):  # noqa: S608
            digest.update(repr(row).encode())
    con.close()
    return digest.hexdigest()


async def answer_prompt(app, pilot, text: str) -> None:  # noqa: ANN001
    """Replace what the open prompt holds with ``text`` and press Enter."""
    from textual.widgets import Input

    app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await settle(pilot)


async def open_decks(app, pilot) -> DecksScreen:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("f8")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, DecksScreen)
    return screen


def table_rows(screen: DecksScreen) -> list[tuple[str, int, int, int, int]]:
    return [
        (r.name, r.new, r.learning, r.review, r.total) for r in screen.query_one(DeckTable).rows
    ]


async def test_deck_list_shows_the_tree_with_todays_counts(decks_db, make_app) -> None:  # noqa: ANN001
    app = make_app(decks_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_decks(app, pilot)
        assert table_rows(screen) == [
            ("딥러닝", 2, 0, 2, 5),
            ("딥러닝::RNN", 1, 0, 2, 4),
            ("딥러닝::RNN::LSTM", 1, 0, 0, 2),
            ("수학", 1, 0, 0, 2),
        ]
        header = str(screen.query_one("#decks-header").render())
        assert "3 new" in header and "2 due" in header


async def test_enter_studies_one_deck_and_the_list_follows(decks_db, make_app) -> None:  # noqa: ANN001
    app = make_app(decks_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_decks(app, pilot)
        await pilot.press("down")  # 딥러닝::RNN
        await pilot.press("enter")
        await settle(pilot)
        review_screen = app.screen
        assert isinstance(review_screen, ReviewScreen)
        assert review_screen.session.deck == "딥러닝::RNN"
        assert "Deck 딥러닝::RNN" in str(review_screen.query_one("#review-header").render())
        shown = review_screen.card
        assert shown.deck.startswith("딥러닝::RNN")
        await pilot.press("space", "4")  # Easy: out of today's queue
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        rows = {name: (new, rev) for name, new, _l, rev, _t in table_rows(screen)}
        assert rows["딥러닝::RNN"] == (1, 1)
        assert cards.get(decks_db, shown.id).reps == 3


async def test_preview_from_the_deck_list_writes_nothing(decks_db, make_app) -> None:  # noqa: ANN001
    path = decks_db.path
    before = schedule_digest(path)
    app = make_app(decks_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_decks(app, pilot)
        await pilot.press("c")
        await settle(pilot)
        for _ in range(3):  # the fourth choice: preview every card of this deck
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and isinstance(screen.session, CustomSession)
        assert not screen.session.study.reschedule
        seen = set()
        for rating in ("1", "3", "2", "3", "4", "3", "3", "3", "3"):
            if screen.card is None:
                break
            seen.add(screen.card.id)
            await pilot.press("space", rating)
            await settle(pilot)
        assert len(seen) == 5  # every card of 딥러닝 and its subdecks, due or not
        await pilot.press("u")
        await settle(pilot)
    assert schedule_digest(path) == before


async def test_review_ahead_and_extra_new_cards(decks_db, make_app) -> None:  # noqa: ANN001
    review.set_limits(decks_db, new_per_day=1)
    app = make_app(decks_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_decks(app, pilot)
        await pilot.press("c", "enter")  # review ahead
        await settle(pilot)
        await answer_prompt(app, pilot, "2")
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and isinstance(screen.session, CustomSession)
        counts = screen.session.counts(now=NOW)
        assert counts.review == 3  # due yesterday, today and in 2 days (not the one in 3)
        await pilot.press("escape")
        await settle(pilot)
        decks_screen = app.screen
        assert table_rows(decks_screen)[0][1] == 1  # 딥러닝: 1 new a day
        await pilot.press("c")
        await settle(pilot)
        for _ in range(6):  # extra new cards today
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        await answer_prompt(app, pilot, "5")
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.session.counts(now=NOW).new == 2  # both new cards of 딥러닝
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is decks_screen
        assert table_rows(decks_screen)[0][1] == 2  # the list shows the extra card too
    assert decks.find(decks_db, "딥러닝", now=NOW).new == 2


async def test_study_a_search_reschedules_and_forgotten_finds_lapses(decks_db, make_app) -> None:  # noqa: ANN001
    from studylog.storage.models import Review

    app = make_app(decks_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_decks(app, pilot)
        await pilot.press("c")
        await settle(pilot)
        for _ in range(4):  # study a search
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        await answer_prompt(app, pilot, "deck:수학")
        screen = app.screen
        assert isinstance(screen.session, CustomSession) and screen.session.study.reschedule
        first = screen.card
        assert first.deck == "수학"  # the one due in 3 days, and the new one: due or not
        await pilot.press("space", "1")  # Again: a lapse, saved
        await settle(pilot)
        with decks_db.read() as s:
            assert s.query(Review).filter_by(card_id=first.id, rating=1).count() == 1
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c", "down", "enter")  # forgotten cards
        await settle(pilot)
        await answer_prompt(app, pilot, "1")
        # on 딥러닝 (the cursor's deck): nothing was forgotten there
        assert app.screen.card is None
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("end", "c", "down", "enter")  # forgotten, on 수학
        await settle(pilot)
        await answer_prompt(app, pilot, "1")
        assert app.screen.card is not None and app.screen.card.id == first.id


async def test_rename_move_delete_and_undo(decks_db, make_app) -> None:  # noqa: ANN001
    app = make_app(decks_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_decks(app, pilot)
        await pilot.press("end")  # 수학
        await pilot.press("r")
        await settle(pilot)
        await answer_prompt(app, pilot, "기초::선형대수")
        names = [r[0] for r in table_rows(screen)]
        assert names[:2] == ["기초", "기초::선형대수"] and "수학" not in names  # sorted: 기 < 딥
        await pilot.press("u")
        await settle(pilot)
        assert table_rows(screen)[-1][0] == "수학"
        await pilot.press("home", "delete")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert [r[0] for r in table_rows(screen)] == ["Default", "수학"]
        assert table_rows(screen)[0][4] == 5
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("end", "m")
        await settle(pilot)
        await answer_prompt(app, pilot, "딥러닝")
        assert [r[0] for r in table_rows(screen)] == ["딥러닝", "딥러닝::RNN", "딥러닝::RNN::LSTM"]
        assert table_rows(screen)[0][4] == 7


# --- snapshots -----------------------------------------------------------------------------


def _after(*keys: str):  # noqa: ANN202 - a run_before coroutine
    async def run(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_deck_list_snapshot(decks_db, make_app, snap_compare, size, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLUMNS", str(size[0]))
    monkeypatch.setenv("LINES", str(size[1]))
    assert snap_compare(make_app(decks_db), terminal_size=size, run_before=_after("f8", "down"))


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_custom_study_snapshot(decks_db, make_app, snap_compare, size, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLUMNS", str(size[0]))
    monkeypatch.setenv("LINES", str(size[1]))
    run = _after("f8", "c", "down", "down", "down", "enter", "space")
    assert snap_compare(make_app(decks_db), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_custom_study_menu_snapshot(decks_db, make_app, snap_compare, size, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLUMNS", str(size[0]))
    monkeypatch.setenv("LINES", str(size[1]))
    assert snap_compare(make_app(decks_db), terminal_size=size, run_before=_after("f8", "c"))


def test_six_digit_counts_keep_a_space_between_columns() -> None:
    # At 80 columns the Default deck of a 100k-card collection showed "200100000":
    # 200 due and 100000 cards with no gap between them.
    row = decks.DeckRow(
        name="Default", short="Default", parent=None, level=1, new=20, learning=0,
        review=200, total=100_000, own=100_000, new_left=20, reviews_left=200,
    )  # fmt: skip
    line = DeckTable.render_row(DeckTable(), row, 0, 0, 60).plain
    assert line.split()[-4:] == ["20", "0", "200", "100000"]
    assert len(line) == 60
    heading = DeckTable.heading(60).plain
    assert heading.split() == ["deck", "new", "learn", "due", "cards"]
    assert heading.index("cards") + len("cards") == line.index("100000") + len("100000")
