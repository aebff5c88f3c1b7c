"""The app shell: screens by F-keys, help, the command palette, themes, errors as
notifications, quitting without losing text, and the CLI starting the app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from markdown_it import MarkdownIt
from textual.command import CommandPalette

from studylog.services import journal, settings, todos
from studylog.storage.engine import Database
from studylog.tui.app import SCREENS, StudylogApp
from studylog.tui.commands import day_from_query
from studylog.tui.screens.help import HelpScreen, key_groups
from studylog.tui.screens.today import TodayScreen
from tests.tui.conftest import NOW, SIZE, TODAY, settle


async def test_f_keys_switch_between_the_five_screens(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "today"
        for key, mode in (
            ("f3", "review"),
            ("f4", "concepts"),
            ("f5", "stats"),
            ("f6", "search"),
            ("f7", "browse"),
            ("f8", "decks"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode
            (registered,) = [m.screen for m in SCREENS if m.name == mode]
            assert type(app.screen) is registered
        await pilot.press("f2")
        await settle(pilot)
        assert app.current_mode == "today" and isinstance(app.screen, TodayScreen)


async def test_the_footer_bindings_have_ids_and_show_the_screen_keys(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ids = {b.id for b in StudylogApp.BINDINGS}
        assert {
            "app.help",
            "app.today",
            "app.review",
            "app.concepts",
            "app.stats",
            "app.search",
            "app.quit",
        } <= ids
        shown = {
            b.binding.description for b in app.screen.active_bindings.values() if b.binding.show
        }
        # With the entry list focused: its keys, the day keys, and the screens.
        assert {
            "Edit",
            "Delete",
            "Prev day",
            "Next day",
            "New entry",
            "Add TODO",
            "Review",
            "Search",
        } <= shown
        app.screen.todo_list.focus()
        await pilot.pause()
        shown = {
            b.binding.description for b in app.screen.active_bindings.values() if b.binding.show
        }
        assert {"Done/undo", "Move up", "Move down"} <= shown


def test_one_registry_of_plain_screen_classes() -> None:
    from studylog.tui.screens.browse import BrowseScreen
    from studylog.tui.screens.concepts import ConceptsScreen
    from studylog.tui.screens.decks import DecksScreen
    from studylog.tui.screens.review import ReviewScreen
    from studylog.tui.screens.search import SearchScreen
    from studylog.tui.screens.stats import StatsScreen

    assert [(m.name, m.screen) for m in SCREENS] == [
        ("today", TodayScreen),
        ("review", ReviewScreen),
        ("concepts", ConceptsScreen),
        ("stats", StatsScreen),
        ("search", SearchScreen),
        ("browse", BrowseScreen),
        ("decks", DecksScreen),
    ]
    assert StudylogApp.MODES == {m.name: m.screen for m in SCREENS}


async def test_an_unknown_mode_is_a_notification(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.action_goto("nowhere")
        await pilot.pause()
        assert app.current_mode == "today"
        assert [n.message for n in app._notifications] == ["no screen called 'nowhere'"]


def test_a_screen_outside_the_studylog_app_says_so() -> None:
    from textual.app import App

    from studylog.tui.access import as_studylog_app

    with pytest.raises(TypeError, match="TodayScreen runs only inside the studylog app"):
        as_studylog_app(App(), TodayScreen())


async def test_help_lists_every_key_grouped(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        groups = dict(key_groups(app))
        assert {"Everywhere", "Today", "Today · TODO list", "Search"} <= set(groups)
        everywhere = dict(groups["Everywhere"])
        for binding in StudylogApp.BINDINGS:
            assert binding.description in everywhere.values()
        todo_keys = dict(groups["Today · TODO list"])
        assert todo_keys["space / x"] == "Done/undo"
        assert todo_keys["⇧↑/K"] == "Move up"
        await pilot.press("escape")
        assert isinstance(app.screen, TodayScreen)


async def palette(pilot, text: str) -> None:  # noqa: ANN001
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*text)
    await pilot.pause(0.5)  # the palette searches its providers in the background
    await pilot.press("enter")
    await settle(pilot)


async def test_palette_opens_a_concept_by_korean_alias(seeded_db: Database, make_app) -> None:
    from studylog.tui.screens.concept_page import ConceptPageScreen

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "소프트맥스")
        assert isinstance(app.screen, ConceptPageScreen)
        assert app.screen.slug == "softmax"


async def test_palette_jumps_to_a_day_and_adds_a_todo(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await palette(pilot, "2026-11-19")
        assert app.current_mode == "today"
        assert app.screen.day == TODAY - timedelta(days=2)
        await palette(pilot, "todo 9장 읽기")
        assert app.screen.day == TODAY
        added = [t for t in todos.for_day(seeded_db, TODAY, app.calendar) if t.text == "9장 읽기"]
        assert len(added) == 1
        assert app.screen.todo_list.current.id == added[0].id


async def test_palette_switches_screens_and_starts_a_new_entry(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "Go to Search")
        assert app.current_mode == "search"
        await palette(pilot, "New journal entry")
        assert app.current_mode == "today"
        assert app.screen.editor.has_focus and app.screen.entry_id is None


def test_day_from_query() -> None:
    assert day_from_query("2026-11-03", TODAY).isoformat() == "2026-11-03"
    assert day_from_query("yesterday", TODAY) == TODAY - timedelta(days=1)
    assert day_from_query("-3", TODAY) == TODAY - timedelta(days=3)
    assert day_from_query("day +2", TODAY) == TODAY + timedelta(days=2)
    assert day_from_query("어텐션", TODAY) is None
    assert day_from_query("2026-02-30", TODAY) is None


async def test_the_theme_is_kept_in_the_settings(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await pilot.pause()
    assert settings.get(seeded_db, "theme") == "nord"
    again = make_app(seeded_db)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


async def test_a_failing_service_call_is_a_notification_not_a_crash(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.todo_list.focus()
        gone = screen.todo_list.current
        todos.delete(seeded_db, gone.id)  # deleted elsewhere (the CLI) meanwhile
        await pilot.press("space")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert f"no TODO with id {gone.id}" in messages
        assert app.is_running and isinstance(app.screen, TodayScreen)
        # An empty edited entry cannot be saved: said, not crashed.
        await pilot.press("f2")
        screen.action_edit_entry()
        screen.editor.clear()
        await pilot.press("ctrl+s")
        assert any("the entry is empty" in n.message for n in app._notifications)
        assert app.is_running


async def test_quitting_saves_the_entry_being_written(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"마지막 메모")
        await pilot.press("ctrl+q")
    assert [e.body for e in journal.on_day(seeded_db, TODAY)][-1] == "마지막 메모"


async def test_open_card_shows_both_sides_with_math(seeded_db: Database, make_app) -> None:
    from studylog.services import cards

    card = next(
        c
        for c in cards.list_cards(seeded_db, tag="밑바닥2")
        if c.front.startswith("LSTM의 기억 셀")
    )
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_card(card.id)
        await settle(pilot)
        sources = [m.source for m in app.screen.query("Markdown")]
        assert "LSTM의 기억 셀 cₜ 는?" in sources[0]
        assert "cₜ = f ⊙ cₜ₋₁ + g ⊙ i" in MarkdownIt().render(sources[1])


def test_the_cli_starts_the_app_on_a_terminal(db_path, monkeypatch) -> None:
    from studylog.cli import journal as cli_journal
    from studylog.cli.context import AppContext

    started: list[StudylogApp] = []
    monkeypatch.setattr(StudylogApp, "run", lambda self: started.append(self))
    monkeypatch.setattr(cli_journal.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli_journal.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("STUDYLOG_NOW", NOW.isoformat())
    context = AppContext(str(db_path))
    cli_journal.open_app_or_summary(context)
    assert len(started) == 1
    app = started[0]
    assert app.db is context.database()
    assert app.now() == NOW and app.today() == TODAY


async def test_the_key_bar_shows_the_keys_that_apply_and_runs_a_clicked_one(
    seeded_db: Database, make_app
) -> None:
    from studylog.tui.widgets.keybar import KeyBar
    from studylog.tui.widgets.prompts import TextPrompt

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        labels = [item.plain for item, _ in bar.items()]
        assert labels[:3] == ["e Edit", "d Delete", "[ ] Prev/next day"]  # focused list first
        app.screen.todo_list.focus()
        await pilot.pause()
        labels = [item.plain for item, _ in bar.items()]
        assert labels[:5] == [
            "space Done/undo",
            "e Edit",
            "d Delete",
            "⇧↑/K Move up",
            "⇧↓/J Move down",
        ]
        app.screen.entries.focus()
        await pilot.pause()
        bar.render()
        start = next(s for s, _, action in bar._targets if action == "screen.add_todo")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)


async def test_palette_runs_a_concepts_demo_on_its_page(
    seeded_db: Database, make_app, monkeypatch
) -> None:
    from studylog.tui.screens.concept_page import ConceptPageScreen

    started: list[str] = []
    monkeypatch.setattr(
        ConceptPageScreen, "action_run_demo", lambda self: started.append(self.slug)
    )
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "Run demo: Softmax")
        assert isinstance(app.screen, ConceptPageScreen) and app.screen.slug == "softmax"
        assert started == ["softmax"]


async def test_opening_cards_and_links_reads_in_a_worker(
    seeded_db: Database, make_app, monkeypatch
) -> None:
    import threading

    from studylog.services import cards
    from studylog.services import concepts as concept_service
    from studylog.tui.screens.concept_page import ConceptPageScreen
    from studylog.tui.widgets.card_view import CardView

    threads: list[str] = []
    resolve, get = concept_service.resolve, cards.get

    def resolve_spy(db, name):  # noqa: ANN001, ANN202
        threads.append(threading.current_thread().name)
        return resolve(db, name)

    def get_spy(db, card_id):  # noqa: ANN001, ANN202
        threads.append(threading.current_thread().name)
        return get(db, card_id)

    monkeypatch.setattr(concept_service, "resolve", resolve_spy)
    monkeypatch.setattr(cards, "get", get_spy)
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_link("concept:소프트맥스")  # an alias
        await settle(pilot)
        assert isinstance(app.screen, ConceptPageScreen) and app.screen.slug == "softmax"
        app.pop_screen()
        app.open_link("concept:없는개념")
        await settle(pilot)
        assert not isinstance(app.screen, ConceptPageScreen)
        assert "No concept called '없는개념' yet." in [n.message for n in app._notifications]
        app.open_card(999_999)
        await settle(pilot)
        assert not isinstance(app.screen, CardView)
        assert "no card with id 999999" in " ".join(n.message for n in app._notifications)
        first = cards.list_cards(seeded_db)[0]
        app.open_card(first.id)
        await settle(pilot)
        assert isinstance(app.screen, CardView) and app.screen.card.id == first.id
    main = threading.main_thread().name
    assert len(threads) >= 4 and main not in threads  # never on the UI thread
