"""Stats screen: computed in a worker, drawn from the seeded collection; calendar and charts.

The expected numbers are worked out by hand from the fixture's data (see
tests/tui/conftest.py), and the quartile split is checked against NumPy.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.text import Text

from studylog.services import cards
from studylog.services import stats as stats_service
from studylog.storage.engine import Database
from studylog.tui.screens.stats import StatsScreen, retention_table, study_days
from studylog.tui.widgets.calendar import (
    CELL,
    LABEL_WIDTH,
    LEVEL_COLORS,
    DayActivity,
    YearHeatmap,
    grid_start,
    level,
    thresholds,
)
from studylog.tui.widgets.plots import BarChart, bar_columns, hbars

from .conftest import NOW, SIZE, TODAY


async def open_stats(app, pilot) -> StatsScreen:  # noqa: ANN001
    await pilot.press("f5")
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def test_stats_from_the_seeded_collection(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.has_class("-loaded") and not screen.computing
        stats = screen.stats
        assert stats is not None

        # By hand from the fixture: entries on today (2), yesterday and two days ago;
        # answers: 2 today, 10 four days ago (4 cards x 2 + 2 Easy). Streak: 3 days.
        title = str(screen.query_one("#stats-title").render())
        assert "streak 3 days" in title and "2 reviews today" in title
        calendar = screen.query_one(YearHeatmap)
        assert calendar.days[TODAY] == DayActivity(reviews=2, entries=2)
        assert calendar.days[TODAY - timedelta(days=1)] == DayActivity(reviews=0, entries=1)
        assert calendar.days[TODAY - timedelta(days=2)] == DayActivity(reviews=0, entries=1)
        assert calendar.days[TODAY - timedelta(days=4)] == DayActivity(reviews=10, entries=0)
        assert len(calendar.days) == 4

        reviews = screen.query_one("#reviews-chart", BarChart)
        assert reviews.values[-1] == 2 and reviews.values[-5] == 10 and sum(reviews.values) == 12
        # Cards by state: the 8 own cards answered are not new; 2 learning (answered
        # Good once today), 6 young review cards.
        counts = str(screen.query_one("#counts").render())
        total = cards.count(seeded_db)
        assert f"Total {total:,}" in counts
        assert stats.counts.new == total - 8
        assert stats.counts.learning == 2 and stats.counts.young == 6


async def test_stats_refresh_after_answers_elsewhere(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stats(app, pilot)
        before = screen.stats.reviews_per_day[-1][1]
        # Answer a card through the service, then come back to Stats.
        from studylog.services import review

        card = review.next_card(seeded_db, now=NOW)
        review.answer(seeded_db, card.id, 3, now=NOW)
        app.look_for_changes()  # what the app's one-second timer does: the data version moved
        await app.workers.wait_for_complete()
        await pilot.press("f2")
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.stats.reviews_per_day[-1][1] == before + 1
        assert f"{before + 1} reviews today" in str(screen.query_one("#stats-title").render())


async def test_clicking_a_day_opens_it_in_today(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stats(app, pilot)
        calendar = screen.query_one(YearHeatmap)
        yesterday = TODAY - timedelta(days=1)
        week = (yesterday - grid_start(TODAY)).days // 7
        x, y = LABEL_WIDTH + CELL * week, 1 + yesterday.weekday()
        assert calendar.day_at(x, y) == yesterday
        assert calendar.day_at(x + 1, y) is None  # the gap between squares
        await pilot.click(YearHeatmap, offset=(x, y))
        await pilot.pause()
        today_screen = app.screen
        assert getattr(today_screen, "day", None) == yesterday


def test_quartile_levels_match_numpy() -> None:
    counts = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9]
    assert thresholds(counts) == list(np.percentile(counts, [25, 50, 75]))
    cuts = thresholds(counts)
    assert level(DayActivity(), cuts) == 0
    assert level(DayActivity(entries=1), cuts) == 1  # an entry alone is a study day
    assert level(DayActivity(reviews=1), cuts) == 1
    assert level(DayActivity(reviews=9), cuts) == 4
    # Each level holds the days between consecutive quartiles.
    assert [level(DayActivity(reviews=c), cuts) for c in (3, 5, 7, 8)] == [1, 2, 3, 4]


def test_calendar_grid_shape_and_today_in_last_column() -> None:
    days = {TODAY: DayActivity(reviews=5), TODAY - timedelta(days=300): DayActivity(entries=1)}
    widget = YearHeatmap(days, TODAY)
    text = widget.render()
    lines = text.plain.split("\n")
    weekday_rows = lines[1:8]
    assert [row[:3] for row in weekday_rows] == ["Mon", "   ", "Wed", "   ", "Fri", "   ", "Sun"]
    # Today (a Saturday) is the last square drawn in its row; Sunday's is in the future.
    saturday = weekday_rows[TODAY.weekday()]
    assert len(saturday.rstrip()) <= LABEL_WIDTH + CELL * 52
    week = (TODAY - grid_start(TODAY)).days // 7
    assert week == 51
    backgrounds = {
        span.style.bgcolor.name
        for span in text.spans
        if not isinstance(span.style, str) and span.style.bgcolor is not None
    }
    assert {Color.parse(c).name for c in LEVEL_COLORS} <= backgrounds  # squares and legend
    assert "2 study days in 52 weeks" in text.plain


def test_bar_columns_in_eighths() -> None:
    columns = bar_columns([0, 1, 8, 16], rows=2, vmax=16)
    assert columns == [[" ", " "], [" ", "▁"], [" ", "█"], ["█", "█"]]
    # 1/16 of two rows is one eighth: shown, never rounded away to nothing.
    assert bar_columns([1, 1000], rows=1)[0] == ["▁"]


def test_hbars_align_korean_labels() -> None:
    text = hbars([("새 카드", 10), ("Review", 5)], width=30)
    first, second = text.plain.split("\n")
    assert cell_len(first) == cell_len(second) == 30
    assert first.rstrip().endswith("10") and second.rstrip().endswith("5")


def test_retention_table_shows_counts(seeded_db: Database) -> None:
    stats = stats_service.collection_stats(seeded_db, now=NOW)
    table = retention_table(stats)
    assert [c.header for c in table.columns][1:] == [
        "Today",
        "Yest.",
        "Week",
        "Month",
        "Year",
        "All",
    ]
    cell = table.columns[-1]._cells[2]  # All cards, all time
    assert isinstance(cell, Text)
    total = stats.true_retention["all"].total
    assert str(total.total) in cell.plain


def test_study_days_merges_reviews_and_entries(seeded_db: Database) -> None:
    stats = stats_service.collection_stats(seeded_db, now=NOW)
    merged = study_days(stats, {TODAY: 2, TODAY - timedelta(days=9): 1})
    assert merged[TODAY] == DayActivity(reviews=2, entries=2)
    assert merged[TODAY - timedelta(days=9)] == DayActivity(reviews=0, entries=1)


async def test_a_narrow_calendar_shows_the_latest_weeks(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_stats(app, pilot)
        calendar = screen.query_one(YearHeatmap)
        weeks = calendar.shown_weeks()
        assert weeks == (calendar.content_size.width - LABEL_WIDTH) // CELL < 52
        # Today is still in the last column drawn.
        week = (TODAY - grid_start(TODAY, weeks)).days // 7
        assert week == weeks - 1
        assert calendar.day_at(LABEL_WIDTH + CELL * week, 1 + TODAY.weekday()) == TODAY


async def test_fsrs_memory_and_workload_graphs(seeded_db: Database, make_app) -> None:
    """The histograms count the seeded collection's reviewed cards (checked card by card
    against the cards' own difficulty); ``m`` scrolls to them; the workload graph has one
    bar per desired retention and the note shows the setting next to the recommendation."""
    from studylog.services import settings as settings_service
    from studylog.storage.models import Card
    from studylog.tui.screens.stats import WORKLOAD_RETENTIONS

    with seeded_db.read() as s:
        reviewed = [
            c.difficulty
            for c in s.query(Card).all()
            if c.last_review is not None and not c.suspended and c.difficulty
        ]
    expected = [0] * 10
    for d in reviewed:
        expected[min(int((d - 1) / 9 * 10), 9)] += 1
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stats(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        difficulty = screen.query_one("#difficulty-chart", BarChart)
        assert sum(difficulty.values) == len(reviewed) > 0
        assert difficulty.values == expected
        assert sum(screen.query_one("#stability-chart", BarChart).values) == len(reviewed)
        assert sum(screen.query_one("#retrievability-chart", BarChart).values) == len(reviewed)
        memorised = screen.query_one("#memorised-chart", BarChart)
        assert len(memorised.values) == 365 and 0 < memorised.values[-1] <= len(reviewed)
        minutes = screen.query_one("#workload-minutes-chart", BarChart)
        assert len(minutes.values) == len(WORKLOAD_RETENTIONS)
        assert minutes.labels[0] == "0.70" and minutes.labels[-1] == "0.98"
        note = str(screen.query_one("#workload-note").render())
        current = settings_service.value(seeded_db, "desired_retention")
        assert f"Desired retention {current:.2f}" in note
        assert "Recommended" in note
        body = screen.query_one("#stats-body")
        assert body.scroll_y == 0
        await pilot.press("m")
        await pilot.pause()
        assert body.scroll_y > 0
        section = screen.query_one("#fsrs-section")
        assert section.region.y - body.region.y <= 1  # the section is at the top


async def test_y_switches_the_review_history_to_the_last_year_and_back(
    empty_db: Database, make_app
) -> None:
    # The real log (2024-03-29 to 2024-10-06) seen on 2025-06-01: the last 365 days
    # leave out its first two months (tests/test_stats.py checks the period's figures
    # against the fsrs package; here the screen must ask for them and say so).
    from datetime import UTC, datetime

    from studylog.interchange.review_log import import_review_log
    from studylog.services import settings
    from tests.conftest import REVIEW_LOG

    settings.put(empty_db, settings.TIMEZONE, "UTC")
    import_review_log(empty_db, REVIEW_LOG, now=datetime(2024, 10, 7, 12, tzinfo=UTC))
    later = datetime(2025, 6, 1, 12, tzinfo=UTC)
    app = make_app(empty_db, now=later)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stats(app, pilot)
        whole = screen.stats
        assert whole is not None and whole.period_days is None
        assert whole.inter_day_reviews == 5_329
        assert "last 365 days" not in str(screen.query_one("#stats-title").render())
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        year = screen.stats
        assert year is not None and year.period_days == 365
        assert 0 < year.inter_day_reviews < whole.inter_day_reviews
        assert year == stats_service.collection_stats(empty_db, now=later, period_days=365)
        assert "history: last 365 days" in str(screen.query_one("#stats-title").render())
        assert [c.header for c in retention_table(year).columns][-1] == "365 d"
        assert [c.header for c in retention_table(whole).columns][-1] == "All"
        await pilot.press("y", "y")  # pressed while computing: the last choice wins
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.stats is not None and screen.stats.period_days == 365
        assert not screen.computing
