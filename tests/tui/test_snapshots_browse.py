"""Snapshots of the card browser at 120x40 (info panel beside the list) and 80x24 (the list
alone; ``i`` shows the panel over it), and of the card editor.

Fixed clock (NOW), UTC, the seeded collection of tests/tui/conftest.py. Update after a
deliberate change with ``pytest tests/tui/test_snapshots_browse.py --snapshot-update`` and
look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from studylog.storage.engine import Database
from tests.tui.conftest import SIZE, settle

SMALL = (80, 24)


def _after(*keys: str):  # noqa: ANN202 - a run_before coroutine
    async def run(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


SEARCH = ("f7", *"tag:밑바닥2", "enter", "down", "space")


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_browser(seeded_db: Database, make_app, snap_compare, size, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLUMNS", str(size[0]))
    monkeypatch.setenv("LINES", str(size[1]))
    assert snap_compare(make_app(seeded_db), terminal_size=size, run_before=_after(*SEARCH))


def test_browser_info_80x24(seeded_db: Database, make_app, snap_compare, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    run = _after(*SEARCH, "i")
    assert snap_compare(make_app(seeded_db), terminal_size=SMALL, run_before=run)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_card_editor(seeded_db: Database, make_app, snap_compare, size, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLUMNS", str(size[0]))
    monkeypatch.setenv("LINES", str(size[1]))
    opened = _after(*SEARCH, "e")

    async def run(pilot) -> None:  # noqa: ANN001
        await opened(pilot)
        # The card is read in a worker and the front field focused when it arrives;
        # whether the snapshot then caught the text cursor drawn depended on the
        # machine's load. The snapshot is of the layout: taken with nothing focused.
        for _ in range(100):
            focused = pilot.app.focused
            if focused is not None and focused.id == "edit-front":
                break
            await pilot.pause(0.05)
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(make_app(seeded_db), terminal_size=size, run_before=run)
