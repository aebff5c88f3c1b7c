"""Snapshots of the exercise screens at 120x40 and 80x24: an exercise card in Review with
its checks' results and the proposed grade marked, and the exercise editor.

The collection is ``ex_db`` (tests/tui/conftest.py); the check result shown is a fixed
one (a real run's duration would differ every time). Update after a deliberate change
with ``pytest tests/tui/test_snapshots_exercises.py --snapshot-update`` and look at the
SVGs before committing them.
"""

from __future__ import annotations

import pytest

from studylog.services.exercises import Check, CheckResult
from studylog.storage.engine import Database
from tests.tui.conftest import SIZE, settle

SMALL = (80, 24)
RESULT = CheckResult(
    "fail",
    412,
    [
        Check("random inputs", True, "3 case(s), largest error 2.22e-16"),
        Check(
            "large scores",
            False,
            "with a (2, 5): largest error nan (must be <= 1e-09). Hint: subtract the row "
            "maximum before exp",
        ),
    ],
)


@pytest.fixture(params=[SIZE, SMALL], ids=["120x40", "80x24"])
def size(request, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("COLUMNS", str(request.param[0]))
    monkeypatch.setenv("LINES", str(request.param[1]))
    return request.param


def test_exercise_card_checked(ex_db: Database, make_app, snap_compare, size) -> None:  # noqa: ANN001
    async def run(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = pilot.app.screen
        screen.exercise_runs = ["fail"]
        await screen._show_result(RESULT)
        await settle(pilot)

    assert snap_compare(make_app(ex_db), terminal_size=size, run_before=run)


def test_exercise_editor(ex_db: Database, make_app, snap_compare, size) -> None:  # noqa: ANN001
    async def run(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(make_app(ex_db), terminal_size=size, run_before=run)
