"""Snapshots (pytest-textual-snapshot) of the Today, Search and Help screens at 120x40,
with the fixed clock (2026-11-21 10:00 UTC) and the seeded database.

Update after an intended change of the look: ``pytest tests/tui/test_snapshots_t1.py
--snapshot-update``, then look at the new SVGs under ``__snapshots__``.
The Help snapshot lists the keys of every screen, the other engineer's too.
"""

from __future__ import annotations

from studylog.storage.engine import Database
from tests.tui.conftest import SIZE, settle


def test_today(seeded_db: Database, make_app, snap_compare) -> None:
    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=settle)


def test_today_empty_day(empty_db: Database, make_app, snap_compare) -> None:
    assert snap_compare(make_app(empty_db), terminal_size=SIZE, run_before=settle)


def test_today_todo_list_focused(seeded_db: Database, make_app, snap_compare) -> None:
    async def focus_todos(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("tab", "tab", "tab")  # entries -> editor -> preview -> TODOs
        await settle(pilot)

    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=focus_todos)


def test_search_korean(seeded_db: Database, make_app, snap_compare) -> None:
    async def search(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("f6", *"어텐션", "enter")
        await settle(pilot)

    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=search)


def test_help(seeded_db: Database, make_app, snap_compare) -> None:
    async def help_screen(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=help_screen)
