"""The Suggested cards screen: each suggestion in its note, accepted (edited), rejected, skipped.

The suggestions come from importing the realistic notes of tests/data/notes
into the seeded collection (the pack is there, so concepts can be matched).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from studylog.interchange.importer import import_files
from studylog.services import cards, suggestions
from studylog.storage.engine import Database
from studylog.tui.screens.suggested import SuggestedScreen
from tests.tui.conftest import NOW, SIZE, settle

NOTES = Path(__file__).parents[1] / "data" / "notes"
SMALL = (80, 24)


@pytest.fixture
def noted_db(seeded_db: Database) -> Database:
    """The seeded collection after importing the four study notes (13 suggestions)."""
    import_files(seeded_db, [NOTES], day=date(2024, 9, 10), now=NOW)
    assert suggestions.count(seeded_db) == 13
    return seeded_db


async def _open(app, pilot) -> SuggestedScreen:  # noqa: ANN001
    await settle(pilot)
    app.open_suggestions()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, SuggestedScreen) and screen.loaded
    return screen


def _front(screen: SuggestedScreen) -> str:
    return screen.query_one("#sg-front", TextArea).text


async def test_the_queue_shows_each_suggestion_in_its_note(noted_db: Database, make_app) -> None:
    app = make_app(noted_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert screen.total == 13 and len(screen.items) == 13
        # Oldest note day first: the bootcamp retrospective (2024-08-16).
        first = screen.current.suggestion
        assert (first.front, first.source, first.line) == (
            "layer normalization",
            "bootcamp-week3-retrospective.txt",
            16,
        )
        lines = str(screen.query_one("#sg-lines").render())
        assert "16 ▌ layer normalization : 배치가 아니라" in lines
        assert "18   positional encoding :" in lines  # the next lines, for context
        assert screen.query_one("#sg-concept", Input).value == "layer-normalization"
        assert screen.query_one("#sg-deck", Input).value == "Default"
        assert "1 of 13" in str(screen.query_one("#sg-title").render())
        # s skips (it stays pending), p goes back.
        await pilot.press("s")
        assert _front(screen) == "positional encoding"
        assert screen.query_one("#sg-concept", Input).value == ""  # no concept named
        await pilot.press("p")
        assert _front(screen) == "layer normalization"
        await pilot.press("p")  # round to the last
        assert screen.index == 12
        assert suggestions.count(noted_db) == 13  # nothing decided


async def test_accept_with_edits_links_the_concept_it_names(noted_db: Database, make_app) -> None:
    app = make_app(noted_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        while _front(screen) != "forget 게이트(망각 게이트)":
            await pilot.press("s")
        wanted = screen.current.suggestion
        # "망각 게이트" is an alias of the pack's LSTM concept.
        assert screen.query_one("#sg-concept", Input).value == "lstm"
        before = cards.count(noted_db)
        await pilot.press("e")  # into the front editor
        assert screen.query_one("#sg-front", TextArea).has_focus
        await pilot.press("tab")  # the back
        back = screen.query_one("#sg-back", TextArea)
        assert back.has_focus
        back.load_text("이전 기억 셀에서 무엇을 잊을지 정한다 🧠")
        await pilot.press("tab")  # the deck
        deck = screen.query_one("#sg-deck", Input)
        assert deck.has_focus
        deck.value = ""
        await pilot.press(*"밑바닥2::LSTM")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert cards.count(noted_db) == before + 1
        decided = suggestions.get(noted_db, wanted.id)
        assert decided.status == "accepted"
        card = cards.get(noted_db, decided.card_id)
        assert card.front == "forget 게이트(망각 게이트)"
        assert card.back == "이전 기억 셀에서 무엇을 잊을지 정한다 🧠"
        assert card.deck == "밑바닥2::LSTM"
        assert card.concept_slug == "lstm"
        # The queue moved on: the one after it, 12 left.
        assert screen.total == 12 and wanted.id not in [i.suggestion.id for i in screen.items]
        assert _front(screen) == "기울기 클리핑(gradient clipping)"


async def test_reject_and_an_unknown_concept_changes_nothing(noted_db: Database, make_app) -> None:
    app = make_app(noted_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        first = screen.current.suggestion
        concept = screen.query_one("#sg-concept", Input)
        concept.value = "no-such-concept"
        before = cards.count(noted_db)
        await pilot.press("a")
        await settle(pilot)
        assert cards.count(noted_db) == before  # one line of error, nothing written
        assert suggestions.get(noted_db, first.id).status == "pending"
        assert _front(screen) == "layer normalization"  # still shown, the text kept
        assert concept.value == "no-such-concept"
        await pilot.press("r")
        await settle(pilot)
        assert suggestions.get(noted_db, first.id).status == "rejected"
        assert cards.count(noted_db) == before
        assert screen.total == 12 and _front(screen) == "positional encoding"


async def test_drafts_survive_skipping_and_escape_closes(noted_db: Database, make_app) -> None:
    app = make_app(noted_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#sg-front", TextArea).load_text("Layer Norm 이란?")
        await pilot.press("s", "p")
        assert _front(screen) == "Layer Norm 이란?"
        await pilot.press("e")
        await pilot.press("escape")  # out of the editor
        assert isinstance(app.screen, SuggestedScreen)
        await pilot.press("escape")  # closes
        assert not isinstance(app.screen, SuggestedScreen)


async def test_an_empty_queue_says_where_suggestions_come_from(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        assert screen.current is None
        assert "No suggested cards waiting" in str(screen.query_one("#sg-empty").render())
        await pilot.press("a", "r", "s")  # nothing to act on: no error, no crash


def test_snapshot_120x40(noted_db: Database, make_app, snap_compare) -> None:
    app = make_app(noted_db)

    async def run(pilot) -> None:  # noqa: ANN001
        await _open(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_snapshot_80x24(noted_db: Database, make_app, snap_compare) -> None:
    app = make_app(noted_db)

    async def run(pilot) -> None:  # noqa: ANN001
        screen = await _open(app, pilot)
        await pilot.press("s", "s", "s", "s", "s", "s", "s", "s", "s", "s")  # the LSTM note
        assert screen.query_one("#sg-concept", Input).value == "lstm"

    assert snap_compare(app, terminal_size=SMALL, run_before=run)
