"""The Search screen: Korean queries (trigram and the 2-character fallback), debounced
typing, and opening each kind of hit. The search service is the reference for what
must be found; the pilot checks that the screen shows it and jumps to it."""

from __future__ import annotations

from studylog.services import journal, search
from studylog.storage.engine import Database
from studylog.tui.screens.search import SearchScreen, highlight_snippet
from studylog.tui.screens.today import TodayScreen
from studylog.tui.widgets.card_view import CardView
from tests.tui.conftest import SIZE, TODAY, settle


async def open_search(pilot) -> SearchScreen:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SearchScreen)
    assert screen.query_one("#search-input").has_focus
    return screen


async def query(pilot, text: str) -> SearchScreen:  # noqa: ANN001
    screen = pilot.app.screen
    await pilot.press(*text, "enter")
    await settle(pilot)
    return screen


async def test_korean_search_finds_and_opens_the_entry(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_search(pilot)
        await query(pilot, "어텐션")
        expected = search.search(seeded_db, "어텐션", limit=100)
        assert [(h.kind, h.ref) for h in screen.hits] == [(h.kind, h.ref) for h in expected]
        kinds = {h.kind for h in screen.hits}
        assert {"entry", "todo", "card", "concept"} <= kinds
        assert screen.results.has_focus
        status = str(screen.query_one("#search-status").render()).strip()
        assert status.startswith(f"{len(expected)} results for '어텐션'")
        # The snippet line shows the match highlighted, without the service's brackets.
        entry_index = next(i for i, h in enumerate(screen.hits) if h.kind == "entry")
        snippet = screen.results.render_row(screen.hits[entry_index], entry_index, 1, 100)
        assert "[어텐션]" not in snippet.plain and "어텐션" in snippet.plain
        # Enter on the entry hit: Today on that day, with the entry in the editor.
        hit = screen.hits[entry_index]
        screen.results.cursor = entry_index
        await pilot.press("enter")
        await settle(pilot)
        today = app.screen
        assert isinstance(today, TodayScreen)
        assert today.day == hit.day == TODAY
        assert today.entries.current.id == int(hit.ref)
        assert today.editor.text == journal.get(seeded_db, int(hit.ref)).body
        assert today.entries.has_focus


async def test_two_character_korean_word_uses_the_fallback(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_search(pilot)
        await query(pilot, "개념")
        expected = search.search(seeded_db, "개념", limit=100)
        assert expected, "the seeded data has '개념' in an entry and a card"
        assert [(h.kind, h.ref) for h in screen.hits] == [(h.kind, h.ref) for h in expected]
        entry = next(h for h in screen.hits if h.kind == "entry")
        assert "BPTT" in journal.get(seeded_db, int(entry.ref)).body
        card_index = next(i for i, h in enumerate(screen.hits) if h.kind == "card")
        screen.results.cursor = card_index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CardView)
        assert app.screen.card.id == int(screen.hits[card_index].ref)
        assert "개념" in app.screen.card.front
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_a_todo_hit_opens_its_day_with_the_todo_focused(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_search(pilot)
        await query(pilot, "BPTT 손으로")
        hit = next(h for h in screen.hits if h.kind == "todo")
        screen.results.cursor = screen.hits.index(hit)
        await pilot.press("enter")
        await settle(pilot)
        today = app.screen
        assert isinstance(today, TodayScreen) and today.day == hit.day
        assert today.todo_list.has_focus
        assert today.todo_list.current.id == int(hit.ref)


async def test_a_concept_hit_opens_the_concept_page(seeded_db: Database, make_app) -> None:
    from studylog.tui.screens.concept_page import ConceptPageScreen

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_search(pilot)
        await query(pilot, "소프트맥스")
        hit = next(h for h in screen.hits if h.kind == "concept")
        assert hit.ref == "softmax"
        screen.results.cursor = screen.hits.index(hit)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConceptPageScreen) and app.screen.slug == "softmax"


async def test_typing_is_debounced_into_one_search(
    seeded_db: Database, make_app, monkeypatch
) -> None:
    calls: list[str] = []
    real = search.search

    def counting(db, text, **kwargs):  # noqa: ANN001, ANN202
        calls.append(text)
        return real(db, text, **kwargs)

    monkeypatch.setattr(search, "search", counting)
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_search(pilot)
        await pilot.press(*"softmax")  # seven keys, well within the pause
        await pilot.pause(0.6)
        await settle(pilot)
        assert calls == ["softmax"]
        assert screen.searched == "softmax" and screen.hits


async def test_no_results_and_empty_query_say_so(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_search(pilot)
        await query(pilot, "없는단어xyz")
        assert screen.hits == []
        assert "No results" in screen.results.render_empty(0, 80).plain
        assert screen.query_one("#search-input").has_focus  # nothing to move to
        await pilot.press("escape")  # clears the query
        assert screen.query_one("#search-input").value == ""
        await pilot.press("enter")
        await settle(pilot)
        assert "Korean works" in screen.results.render_empty(1, 80).plain


def test_highlight_marks_only_the_query_words() -> None:
    text = highlight_snippet("…[[softmax]] 로 [어텐션] 가중치 [x]", "어텐션", "bold")
    assert text.plain == "…[[softmax]] 로 어텐션 가중치 [x]"
    marked = [text.plain[s.start : s.end] for s in text.spans]
    assert marked == ["어텐션"]
