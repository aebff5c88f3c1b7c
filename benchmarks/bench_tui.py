"""How fast the app feels on a large collection (issue 6's targets).

Usage: python benchmarks/bench_tui.py [--runs 5] [--moves 20] [--only NAME ...]

Uses benchmarks/_data/large.db (100,000 cards, 1,000,000 review-log rows,
5 years of daily entries and TODOs; generated once by ``datagen.ensure``),
copied to a temporary folder so nothing here changes it. The app runs
headless (``App.run_test``) at 120x40 with the clock fixed at
2026-11-21 10:00 UTC, and each measurement drives it as a person would, by
keys, timing until the screen has its data (workers done, messages handled,
one refresh):

- first screen: open the database (migrate check, pack sync check), build the
  app and wait until Today shows the day's entries, TODOs and summary
  (target <= 1 s; a new process also pays the imports, shown on their own row);
- previous / next day on Today (target <= 100 ms);
- toggling and moving a TODO on a day with thousands of carried-over rows;
- switching screens with F2-F6 (target <= 100 ms; the first visit of a screen
  builds it and is shown apart).

Each measurement is a function returning rows, listed in ``MEASUREMENTS``;
add a function there for a new row (moving between cards in Review, say).
Not a test: nothing asserts on time. Prints a table of medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datagen import ensure  # noqa: E402

DATA = Path(__file__).resolve().parent / "_data"
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SIZE = (120, 40)


@dataclass
class Row:
    """One line of the table: ``seconds`` are the individual timings."""

    name: str
    seconds: list[float]
    target: float | None = None


@dataclass
class Options:
    db_path: Path
    runs: int
    moves: int


def open_database(path: Path):  # noqa: ANN201 - Database
    """What ``studylog`` does before the app starts: open, migrate if needed, sync the pack."""
    from studylog.content.sync import sync_pack
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    sync_pack(db)
    return db


def make_app(db):  # noqa: ANN001, ANN201 - Database -> StudylogApp
    from studylog.tui.app import StudylogApp

    return StudylogApp(db, now=lambda: NOW, raise_unexpected=True)


async def settled(pilot, *, workers: bool = True) -> None:  # noqa: ANN001 - textual Pilot
    """Until every worker is done and every widget has handled its messages, then paint.

    ``Pilot.pause``/``press`` sleep until the process looks idle (tens of ms per
    call, more on a busy machine), which would swamp what is measured; this waits
    on the message queues themselves (``Pilot._wait_for_screen``) and paints the
    screen at once (``Screen._on_timer_update``, what the 60 Hz refresh timer calls).
    ``workers=False``: do not wait for background workers (Today reading ahead).
    """
    app = pilot.app
    quiet = 0
    while quiet < 2:  # a handled message may post another, or start a worker
        await pilot._wait_for_screen()
        busy = [w for w in app.workers if not w.is_finished] if workers else []
        if busy:
            quiet = 0
            await app.workers.wait_for_complete(busy)
        else:
            quiet += 1
    app.screen._on_timer_update()


async def today_loaded(pilot) -> None:  # noqa: ANN001
    from studylog.tui.screens.today import TodayScreen

    app = pilot.app
    while not (isinstance(app.screen, TodayScreen) and app.screen.loaded):
        await asyncio.sleep(0.0005)
    await settled(pilot, workers=False)  # the days read ahead are not waited for


def send_key(app, key: str) -> None:  # noqa: ANN001
    """Deliver ``key`` as the terminal driver would (``Pilot.press`` without its idle waits)."""
    from textual import events
    from textual.keys import _get_unicode_name_from_key

    try:
        import unicodedata

        char = unicodedata.lookup(_get_unicode_name_from_key(key))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


# --- measurements --------------------------------------------------------------------


def first_screen(opts: Options) -> list[Row]:
    """Open the database and the app until Today has its data (the CLI's path, minus imports)."""
    times = []
    for _ in range(opts.runs):

        async def once() -> float:
            start = time.perf_counter()
            db = open_database(opts.db_path)
            app = make_app(db)
            async with app.run_test(size=SIZE) as pilot:
                await today_loaded(pilot)
                elapsed = time.perf_counter() - start
            db.dispose()
            return elapsed

        times.append(asyncio.run(once()))
    imports = []
    for _ in range(opts.runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import studylog.tui.app, studylog.tui.screens.today"],
            check=True,
        )
        imports.append(time.perf_counter() - start)
    return [
        Row("first screen: Today with its data", times, 1.0),
        Row("  + new process: python + imports", imports, None),
    ]


async def _with_app(opts: Options, body: Callable[..., Awaitable[list[Row]]]) -> list[Row]:
    db = open_database(opts.db_path)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await today_loaded(pilot)
        rows = await body(pilot)
    db.dispose()
    return rows


async def _timed_key(pilot, key: str, until: Callable[..., Awaitable[None]]) -> float:  # noqa: ANN001
    """Seconds from the key to the painted result (``until`` says when it is there)."""
    await settled(pilot)  # start from a quiet app
    start = time.perf_counter()
    send_key(pilot.app, key)
    await asyncio.sleep(0)
    await until(pilot)
    return time.perf_counter() - start


def days(opts: Options) -> list[Row]:
    """``[`` and ``]`` on Today: the previous and next study day with entries and TODOs."""

    async def body(pilot) -> list[Row]:  # noqa: ANN001
        back, forward = [], []
        screen = pilot.app.screen

        async def next_day_loaded(pilot) -> None:  # noqa: ANN001
            while not screen.loaded:
                await asyncio.sleep(0.0005)
            await settled(pilot, workers=False)  # the days read ahead are not waited for

        for _ in range(opts.moves):
            back.append(await _timed_key(pilot, "left_square_bracket", next_day_loaded))
        for _ in range(opts.moves):
            forward.append(await _timed_key(pilot, "right_square_bracket", next_day_loaded))
        rows = pilot.app.screen.todo_list.rows
        return [
            Row(f"previous day ([) · {len(rows):,} TODO rows", back, 0.1),
            Row("next day (])", forward, 0.1),
        ]

    return asyncio.run(_with_app(opts, body))


def todos(opts: Options) -> list[Row]:
    """Toggle (space) and move (J) a TODO on today's list of thousands of carried rows."""

    async def body(pilot) -> list[Row]:  # noqa: ANN001
        screen = pilot.app.screen
        screen.todo_list.focus()
        quiet = lambda p: settled(p, workers=False)  # noqa: E731
        toggles = [await _timed_key(pilot, "space", quiet) for _ in range(opts.moves)]
        moves = [await _timed_key(pilot, "J", quiet) for _ in range(opts.moves)]
        rows = len(screen.todo_list.rows)
        return [
            Row(f"toggle a TODO (space) · {rows:,} rows", toggles, 0.1),
            Row("move a TODO down (J)", moves, 0.1),
        ]

    return asyncio.run(_with_app(opts, body))


SCREEN_KEYS = (
    ("f3", "review"),
    ("f4", "concepts"),
    ("f5", "stats"),
    ("f6", "search"),
    ("f2", "today"),
)


def screens(opts: Options) -> list[Row]:
    """F2-F6 round trips: the first visit of each screen, then later switches."""

    async def body(pilot) -> list[Row]:  # noqa: ANN001
        first: dict[str, float] = {}
        later: dict[str, list[float]] = {mode: [] for _, mode in SCREEN_KEYS}
        for cycle in range(opts.runs + 1):
            for key, mode in SCREEN_KEYS:
                elapsed = await _timed_key(pilot, key, settled)
                assert pilot.app.current_mode == mode
                if cycle == 0:
                    first[mode] = elapsed
                else:
                    later[mode].append(elapsed)
        rows = [Row(f"switch to {mode} ({key})", later[mode], 0.1) for key, mode in SCREEN_KEYS]
        rows.append(Row("first visit of each screen (builds it)", list(first.values()), None))
        return rows

    return asyncio.run(_with_app(opts, body))


def search(opts: Options) -> list[Row]:
    """Search '어텐션' (trigram index) and '개념' (2 characters: LIKE), Enter to results."""

    async def body(pilot) -> list[Row]:  # noqa: ANN001
        await pilot.press("f6")
        await settled(pilot)
        rows = []
        for word in ("어텐션", "개념"):
            times = []
            for _ in range(opts.runs):
                await pilot.press("escape", *word)
                await pilot.pause(0.5)  # let the typing's own (debounced) search finish
                await settled(pilot)
                screen = pilot.app.screen
                before = screen._seq

                async def shown(pilot, screen=screen, before=before) -> None:  # noqa: ANN001
                    while screen._seq == before or screen.busy:
                        await asyncio.sleep(0.0005)
                    await settled(pilot)

                times.append(await _timed_key(pilot, "enter", shown))
            rows.append(Row(f"search {word!r} (not a target)", times, None))
        return rows

    return asyncio.run(_with_app(opts, body))


MEASUREMENTS: list[Callable[[Options], list[Row]]] = [first_screen, days, todos, screens, search]


def print_table(rows: list[Row]) -> None:
    print(f"{'measurement':<44} {'n':>3} {'median ms':>10} {'max ms':>8} {'target ms':>10}  ok")
    for row in rows:
        med = statistics.median(row.seconds) * 1000
        worst = max(row.seconds) * 1000
        target = "" if row.target is None else f"{row.target * 1000:.0f}"
        ok = "" if row.target is None else ("yes" if med <= row.target * 1000 else "NO")
        print(f"{row.name:<44} {len(row.seconds):>3} {med:>10.1f} {worst:>8.1f} {target:>10}  {ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--only", nargs="*", help="names of measurements to run")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"
    source = ensure(DATA / "large.db")
    with tempfile.TemporaryDirectory(prefix="studylog-bench-") as folder:
        path = Path(folder) / "large.db"
        shutil.copyfile(source, path)
        open_database(path).dispose()  # migrate and sync once, untimed, as bench_cli does
        opts = Options(path, args.runs, args.moves)
        rows: list[Row] = []
        for measure in MEASUREMENTS:
            if args.only and measure.__name__ not in args.only:
                continue
            rows.extend(measure(opts))
    print(f"database: {source.name} (100,000 cards, 1,000,000 reviews, 5 years of entries)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (wall-clock times)")
    print_table(rows)


if __name__ == "__main__":
    main()
