"""The card browser screen: search, sort, the virtual list read a page at a time, selection,
card info and editing with a live preview. The browse service is the reference for what
must be listed (it is itself checked against Anki's search in tests/test_browse_anki.py)."""

from __future__ import annotations

import pytest

from studylog.services import browse, cards
from studylog.storage.engine import Database
from studylog.tui.screens import browse as browse_screen
from studylog.tui.screens.browse import BrowseScreen, columns_for, header_text
from studylog.tui.screens.card_edit import CardEditScreen, preview_markdown
from tests.tui.conftest import NOW, SIZE, settle


async def open_browser(pilot) -> BrowseScreen:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("f7")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    return screen


async def search(pilot, text: str) -> BrowseScreen:  # noqa: ANN001
    screen = pilot.app.screen
    screen.query_one("#browse-input").value = ""
    screen.action_focus_input()
    await pilot.press(*text, "enter")
    await settle(pilot)
    return screen


def shown_ids(screen: BrowseScreen) -> list[int]:
    return [row.id for row in screen.list.rows if row is not None]


async def test_browser_lists_every_card_then_a_search(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        whole = browse.search(seeded_db, "", now=NOW, limit=browse_screen.PAGE)
        assert screen.total == whole.total > 150
        assert shown_ids(screen)[: len(whole.rows)] == [r.id for r in whole.rows]
        await search(pilot, "tag:밑바닥2 is:due")
        expected = browse.search(seeded_db, "tag:밑바닥2 is:due", now=NOW, limit=100)
        assert expected.total == 6  # four learnt four days ago, two in learning since this morning
        assert shown_ids(screen) == [r.id for r in expected.rows]
        assert screen.list.has_focus
        status = str(screen.query_one("#browse-status").render())
        assert "6 cards match 'tag:밑바닥2 is:due'" in status


async def test_malformed_search_shows_the_column(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        await search(pilot, "deck:(")
        status = str(screen.query_one("#browse-status").render())
        assert "search error at column 6: deck: needs a name" in status


async def test_all_selected_under_a_malformed_search_acts_on_nothing(
    seeded_db: Database, make_app
) -> None:
    """The list keeps the last good search's cards under an error line; "all of them"
    would then mean the other search's cards, so a bulk action refuses and writes nothing."""
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        before = cards.count(seeded_db)
        await search(pilot, "deck:(")
        assert screen.error and shown_ids(screen)  # the earlier list, still shown
        screen.list.focus()
        await pilot.press("a", "delete")
        await settle(pilot)
        assert screen.list.all_selected and app.screen is screen  # no confirmation asked
        assert cards.count(seeded_db) == before
        assert any("fix it" in n.message for n in app._notifications)


async def test_sort_keys_follow_the_service(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        await search(pilot, "tag:밑바닥2")
        for key, sort, descending in (
            (">", "modified", False),
            (">", "due", False),
            ("r", "due", True),
            ("<", "modified", True),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert (screen.sort, screen.descending) == (sort, descending)
            expected = browse.search(
                seeded_db, "tag:밑바닥2", sort=sort, descending=descending, now=NOW
            )
            assert shown_ids(screen) == [r.id for r in expected.rows]
        # retrievability, with NumPy: new cards last
        while screen.sort != "retrievability":
            await pilot.press(">")
            await settle(pilot)
        expected = browse.search(
            seeded_db, "tag:밑바닥2", sort="retrievability", descending=True, now=NOW
        )
        assert shown_ids(screen) == [r.id for r in expected.rows]
        assert expected.rows[0].retrievability > expected.rows[7].retrievability
        assert "▼" in header_text(100, screen.sort, screen.descending).plain


async def test_the_list_reads_pages_as_they_come_on_screen(
    seeded_db: Database, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browse_screen, "PAGE", 20)
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        lazy = screen.list.lazy
        assert len(lazy) == screen.total > 150
        assert set(lazy.pages) == {0, 1}  # the first page and the next lines on screen
        screen.list.focus()
        await pilot.press("end")
        await settle(pilot)
        await settle(pilot)
        last_page = (screen.total - 1) // 20
        assert last_page in lazy.pages and len(lazy.pages) < last_page + 1
        whole = browse.search(seeded_db, "", now=NOW, limit=1000)
        assert screen.list.current.id == whole.rows[-1].id


async def test_select_cards_and_the_info_panel(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        await search(pilot, "tag:밑바닥2")
        first, second = shown_ids(screen)[:2]
        await pilot.press("space", "space")
        assert screen.list.selected == {first, second}
        assert "2 selected" in str(screen.query_one("#browse-status").render())
        await pilot.press("space")  # the third
        await pilot.press("up", "space")  # and off again
        assert screen.list.selected == {first, second}
        await pilot.press("a")
        assert screen.list.all_selected
        assert f"all {screen.total} selected" in str(screen.query_one("#browse-status").render())
        await pilot.press("escape")
        assert not screen.list.all_selected and not screen.list.selected
        # The info panel shows the card under the cursor, with its reviews.
        reviewed = browse.search(seeded_db, "tag:밑바닥2 -is:new", now=NOW).rows[0]
        screen.list.cursor = shown_ids(screen).index(reviewed.id)
        await settle(pilot)
        info = str(screen.query_one("#browse-info-text").render())
        detail = browse.card_info(seeded_db, reviewed.id, now=NOW)
        assert f"Card {reviewed.id}" in info and reviewed.front.split()[0] in info
        assert f"Reviews ({len(detail.reviews)})" in info and len(detail.reviews) >= 1
        await pilot.press("i")
        assert not screen.has_class("-info")


async def test_edit_a_card_with_a_live_preview(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        await search(pilot, '"BPTT 란" tag:밑바닥2')
        target = screen.list.current
        assert target is not None and target.front == "BPTT 란?"
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, CardEditScreen)
        back = editor.query_one("#edit-back")
        back.load_text("시간 방향 역전파 🧠")
        await settle(pilot)
        preview = editor.query_one("#edit-preview-text")
        assert "시간 방향 역전파 🧠" in preview.source
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert cards.get(seeded_db, target.id).back == "시간 방향 역전파 🧠"
        assert screen.list.current.back == "시간 방향 역전파 🧠"  # re-read after the change
        # An empty front is refused in one line, nothing saved.
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#edit-front").load_text("  ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CardEditScreen)
        assert "front is empty" in str(app.screen.query_one("#edit-error").render())
        await pilot.press("escape")
        assert cards.get(seeded_db, target.id).front == "BPTT 란?"


def test_cloze_preview_hides_the_cards_own_deletion() -> None:
    text = preview_markdown("{{c1::Query}}와 {{c2::Key::열쇠}}의 내적", "", "cloze", 2)
    question, answer = text.split("---")
    assert "Query" in question and "Key" not in question and "열쇠" in question
    assert "**Key**" in answer


def test_columns_fit_the_width() -> None:
    for width in (60, 76, 118):
        assert sum(c.width + 1 for c in columns_for(width)) + 2 <= width + 1
    assert [c.key for c in columns_for(60)][:1] == ["front"]
    assert "deck" in [c.key for c in columns_for(118)]


async def test_bulk_actions_on_the_selection_and_undo(seeded_db: Database, make_app) -> None:
    from studylog.tui.widgets.prompts import Confirm, TextPrompt

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        await search(pilot, "tag:밑바닥2")
        first, second = shown_ids(screen)[:2]
        await pilot.press("space", "space", "s")
        await settle(pilot)
        assert sorted(r.id for r in browse.search(seeded_db, "is:suspended", now=NOW).rows) == [
            first,
            second,
        ]
        assert not screen.list.selected  # cleared after the action
        assert screen.list.lazy[0].suspended  # the list was read again
        await pilot.press("u")
        await settle(pilot)
        assert browse.search(seeded_db, "is:suspended", now=NOW).total == 0
        # Every match: tag them through the prompt.
        await pilot.press("a", "t")
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"복습", "enter")
        await settle(pilot)
        assert browse.search(seeded_db, "tag:복습", now=NOW).total == 12
        # Delete the card under the cursor after confirming; undo brings it back.
        screen.list.cursor = 0
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(pilot)
        assert browse.search(seeded_db, "tag:밑바닥2", now=NOW).total == 11
        assert screen.total == 11
        await pilot.press("u")
        await settle(pilot)
        assert screen.total == 12 and shown_ids(screen)[0] == first


async def test_the_info_panel_follows_an_action_on_the_card_under_the_cursor(
    seeded_db: Database, make_app
) -> None:
    """Suspending (or deleting) the card under the cursor read the list again but kept the
    info panel as it was: it said the card was due when it was suspended, or showed a card
    that was gone, until the cursor moved."""
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_browser(pilot)
        await search(pilot, "tag:밑바닥2 -is:new")
        first, second = shown_ids(screen)[:2]
        await settle(pilot)

        def info() -> str:
            return str(screen.query_one("#browse-info-text").render())

        assert f"Card {first}" in info() and "State suspended" not in info()
        await pilot.press("s")  # the card under the cursor
        await settle(pilot)
        assert browse.card_info(seeded_db, first, now=NOW).card.suspended
        assert f"Card {first}" in info() and "State suspended" in info()
        await pilot.press("delete", "y")
        await settle(pilot)
        assert shown_ids(screen)[0] == second
        assert f"Card {second}" in info() and f"Card {first}" not in info()
