"""One change signal: writes made elsewhere (the CLI in another process) show in the open app,
and a write made here refreshes the other screens without being read back twice."""

from __future__ import annotations

import os
import subprocess
import sys

from studylog.services import journal, todos
from studylog.storage.engine import Database
from studylog.tui.app import POLL_SECONDS
from studylog.tui.screens.today import TodayScreen
from tests.tui.conftest import NOW, SIZE, TODAY, settle


def studylog_cli(db: Database, *args: str) -> None:
    """``studylog ARGS`` in another process, on the same database file (fixed clock, UTC)."""
    env = os.environ | {"STUDYLOG_DB": str(db.path), "STUDYLOG_NOW": NOW.isoformat(), "TZ": "UTC"}
    done = subprocess.run(
        [sys.executable, "-m", "studylog", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


async def test_an_entry_and_a_todo_written_by_the_cli_appear_on_today(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TodayScreen)
        before = len(screen.entries.rows)
        done, total, carried = screen.todo_list.counts()
        studylog_cli(seeded_db, "log", "CLI에서 쓴 글: 어텐션 복습")
        studylog_cli(seeded_db, "todo", "add", "CLI에서 추가한 할 일")
        app.look_for_changes()  # what the one-second timer does
        await settle(pilot)
        assert [e.body for e in screen.entries.rows][before:] == ["CLI에서 쓴 글: 어텐션 복습"]
        assert "CLI에서 추가한 할 일" in [t.text for t in screen.todo_list.rows]
        assert screen.todo_list.counts() == (done, total + 1, carried)
        assert screen.todo_list.border_title == f"TODO {done}/{total + 1} · ↪ {carried} carried"


async def test_the_timer_looks_every_second_by_itself(seeded_db: Database, make_app) -> None:
    assert POLL_SECONDS <= 1.0
    other = Database(seeded_db.url)  # another connection, as another process has
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        journal.add(other, "다른 연결에서 쓴 글", TODAY, now=NOW)
        bodies: list[str] = []
        for _ in range(100):  # no wall-clock assertion: wait until the timer has fired
            await pilot.pause(0.1)
            bodies = [e.body for e in app.screen.entries.rows]
            if "다른 연결에서 쓴 글" in bodies:
                break
        assert "다른 연결에서 쓴 글" in bodies
    other.dispose()


async def test_unsaved_text_stays_when_a_change_arrives(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("n", *"아직 저장 안 한 글")
        todos.add(Database(seeded_db.url), "밖에서 추가", TODAY, now=NOW)
        app.look_for_changes()
        await settle(pilot)
        assert screen.editor.text == "아직 저장 안 한 글" and screen.dirty
        assert "밖에서 추가" in [t.text for t in screen.todo_list.rows]


async def test_a_write_here_refreshes_other_screens_once(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")  # Stats computes once
        await settle(pilot)
        stats = app.screen
        computed = stats.stats
        await pilot.press("f2")
        await settle(pilot)
        today = app.screen
        today.todo_list.focus()
        generation = app.reads.generation
        await pilot.press("space")  # a TODO done: written here, shown in place
        await settle(pilot)
        assert app.reads.generation == generation + 1
        assert stats.stale  # told, and re-reads when shown again
        app.look_for_changes()  # the poll does not report our own write a second time
        await settle(pilot)
        assert app.reads.generation == generation + 1
        await pilot.press("f5")
        await settle(pilot)
        assert not stats.stale and stats.stats is not computed
