"""Snapshots of the Review, Concepts, concept page and Stats screens at 120x40.

Fixed clock (NOW), UTC, the seeded collection of tests/tui/conftest.py. The
demo's cached result is a real run of the pack's softmax demo; only its
duration (wall time, which varies from run to run) is fixed at 100 ms. Update
after a deliberate change with ``pytest tests/tui/test_snapshots_t2.py
--snapshot-update`` and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from studylog.demo.runner import RunResult
from studylog.services import demos

from .conftest import NOW, SIZE


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """plotext sizes plots to at most the terminal; a headless run has none (80 columns)."""
    monkeypatch.setenv("COLUMNS", str(SIZE[0]))
    monkeypatch.setenv("LINES", str(SIZE[1]))


async def _wait(pilot) -> None:  # noqa: ANN001
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_review_front(snap_compare, seeded_db, make_app) -> None:
    assert snap_compare(make_app(seeded_db), press=["f3", "_"], terminal_size=SIZE)


def test_review_back(snap_compare, seeded_db, make_app) -> None:
    assert snap_compare(make_app(seeded_db), press=["f3", "_", "space", "_"], terminal_size=SIZE)


def test_concepts_list(snap_compare, seeded_db, make_app) -> None:
    async def open_list(pilot) -> None:  # noqa: ANN001
        await pilot.press("f4")
        await _wait(pilot)  # the list is read in a worker

    assert snap_compare(make_app(seeded_db), run_before=open_list, terminal_size=SIZE)


def test_concept_page_with_cached_outputs(
    snap_compare, seeded_db, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run_file = demos.run_file

    def fixed_duration(*args, **kwargs) -> RunResult:  # noqa: ANN002, ANN003
        result = real_run_file(*args, **kwargs)
        result.duration_ms = 100
        return result

    monkeypatch.setattr(demos, "run_file", fixed_duration)
    run = demos.run(seeded_db, "softmax", now=NOW)
    assert run.result.status == "ok"
    app = make_app(seeded_db)

    async def open_page(pilot) -> None:  # noqa: ANN001
        app.open_concept("softmax")
        await pilot.pause()
        while app.screen.part("#below") is None:  # mounted after the first frame
            await pilot.pause()
        await pilot.press("o")  # scroll to the demo outputs
        await pilot.pause()

    assert snap_compare(app, run_before=open_page, terminal_size=SIZE)


def test_stats(snap_compare, seeded_db, make_app) -> None:
    async def open_stats(pilot) -> None:  # noqa: ANN001
        await pilot.press("f5")
        await _wait(pilot)

    assert snap_compare(make_app(seeded_db), run_before=open_stats, terminal_size=SIZE)


def test_stats_fsrs_memory_and_workload(snap_compare, seeded_db, make_app) -> None:
    """``m``: the difficulty, stability and retrievability histograms, memorised cards
    over time, and the workload by desired retention with the recommendation."""

    async def open_memory(pilot) -> None:  # noqa: ANN001
        await pilot.press("f5")
        await _wait(pilot)
        await pilot.press("m")
        await _wait(pilot)

    assert snap_compare(make_app(seeded_db), run_before=open_memory, terminal_size=SIZE)
