"""Snapshots of every screen at 80x24, the smallest terminal the app is made for.

Fixed clock (NOW), UTC, the seeded collection of tests/tui/conftest.py. At 80
columns the top bar drops the app's name, Today's counts and carried-over
days take their short forms, Help has one column and Stats stacks its charts
and tables (see ``test_narrow.py`` for what each must show). Update after a
deliberate change with ``pytest tests/tui/test_snapshots_80x24.py
--snapshot-update`` and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from studylog.storage.engine import Database
from tests.tui.conftest import settle

SMALL = (80, 24)


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(SMALL[0]))
    monkeypatch.setenv("LINES", str(SMALL[1]))


def _after(*keys: str):  # noqa: ANN202 - a run_before coroutine
    async def run(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


def test_today_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=_after())


def test_today_todos_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    run = _after("tab", "tab", "tab")  # entries -> editor -> preview -> TODOs
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=run)


def test_help_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=_after("f1"))


def test_review_back_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    run = _after("f3", "space")
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=run)


def test_concepts_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=_after("f4"))


def test_stats_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=_after("f5"))


def test_stats_fsrs_memory_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    """``m`` scrolls to the FSRS histograms (stacked at 80 columns)."""
    run = _after("f5", "m")
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=run)


def test_search_80x24(seeded_db: Database, make_app, snap_compare) -> None:
    run = _after("f6", *"어텐션", "enter")
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=run)
