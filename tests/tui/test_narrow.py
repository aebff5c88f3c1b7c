"""At 80x24 every screen shows all it has to say: nothing cut off at the right edge."""

from __future__ import annotations

from datetime import date

from studylog.services import cards
from studylog.services.todos import TodoInfo
from studylog.storage.engine import Database
from studylog.tui.widgets.modebar import ModeBar
from studylog.tui.widgets.todo_list import TodoList, origin_label
from tests.tui.conftest import SIZE, TODAY, settle

SMALL = (80, 24)


def _row(todo_list: TodoList, index: int) -> str:
    width = todo_list.scrollable_content_region.width
    return todo_list.render_row(todo_list.rows[index], index, 0, width).plain


async def test_the_top_bar_fits_80_columns_and_keeps_every_key(
    seeded_db: Database, make_app
) -> None:
    for size, full in ((SMALL, False), (SIZE, True)):
        app = make_app(seeded_db)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            bar = app.screen.query_one(ModeBar)
            shown = bar.bar(bar.size.width)
            assert shown.cell_length <= size[0]
            for key in (
                "F2 Today",
                "F3 Review",
                "F4 Concepts",
                "F5 Stats",
                "F6 Search",
                "F7 Browse",
                "F8 Decks",
                "F1 Help",
            ):
                assert key in shown.plain
            assert ("^P Palette" in shown.plain) is full
            # at 120 columns the app's name makes room for the Settings screen (F9)
            assert ("F9 Settings" in shown.plain) is full
            assert " studylog " not in shown.plain


async def test_today_at_80x24_shows_the_counts_and_carried_days(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = app.screen
        summary = screen.query_one("#day-summary")
        text = summary.render()
        # Today: what Review shows, the limits applied: 20 new cards a day (the default)
        # minus the 2 introduced this morning; due: 4 review cards and the 2 learning ones.
        assert cards.count(seeded_db) - 8 > 18  # without the limit there would be more
        assert text.plain == "rev 2 · due 6 · new 18 · streak 3d"
        assert text.cell_len <= summary.size.width
        todos = screen.todo_list
        assert todos.scrollable_content_region.width < 36  # the narrow form applies
        assert _row(todos, 3).endswith("↪ 11-20")
        assert _row(todos, 4).endswith("↪ 11-19")
        assert _row(todos, 5).endswith("↪ 11-18")
        assert not _row(todos, 0).rstrip().endswith("-21")  # the day's own: no origin


def test_a_short_origin_is_never_read_as_the_wrong_date() -> None:
    def todo(origin: date) -> TodoInfo:
        return TodoInfo(
            id=1, text="x", origin_day=origin, due_day=None, done_at=None, position=0, carried=True
        )

    assert origin_label(todo(date(2026, 11, 19))) == "↪ 2026-11-19"
    assert origin_label(todo(date(2026, 11, 19)), short=True, day=TODAY) == "↪ 11-19"
    assert origin_label(todo(date(2025, 11, 19)), short=True, day=TODAY) == "↪ 2025"


async def test_help_at_80_columns_is_one_column_inside_the_screen(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        groups = list(app.screen.query(".help-group"))
        assert len(groups) > 5
        assert {g.region.x for g in groups} == {groups[0].region.x}  # one column
        assert all(g.region.right <= SMALL[0] - 2 for g in groups)  # inside the border


async def test_stats_at_80_columns_shows_the_whole_retention_table(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        for name in ("#reviews-chart", "#forecast-chart", "#counts", "#retention", "#memory"):
            region = app.screen.query_one(name).region
            assert region.right <= SMALL[0], name
        table = app.screen.query_one("#retention")
        rendered = "\n".join(line.text for line in table.render_lines(table.region.reset_offset))
        for column in ("Today", "Yest.", "Week", "Month", "Year", "All"):
            assert column in rendered


async def test_the_top_bars_settings_entry_opens_the_settings_screen(
    seeded_db: Database, make_app
) -> None:
    from studylog.tui.screens.settings import SettingsScreen

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(ModeBar)
        x = bar.bar(bar.size.width).plain.index("F9 Settings")
        await pilot.click(ModeBar, offset=(x + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
