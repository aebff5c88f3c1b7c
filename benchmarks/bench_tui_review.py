"""The app's Review and concept-page speed on a large collection (issue 6's <= 100 ms target).

Usage: .venv/bin/python benchmarks/bench_tui_review.py [--answers 40] [--pages 10]

Uses benchmarks/_data/large.db (100,000 cards, 1,000,000 review-log rows, 5
years of entries; generated once by datagen.py) copied to a temporary file,
since answering writes to it. The app runs headless at 120x40 with the clock
fixed; times are wall clock from the key press until the app is idle with
the new screen content laid out (Textual's Pilot: press, then pause for the
refresh), which is what a user waits for. Pilot itself costs a few tens of ms
per key (measured with a key bound to nothing); "net" subtracts that median.
Prints medians and the 90th percentile. This is a benchmark, not a test: nothing asserts on time.

Rows:
* reveal: space -> the answer side shown;
* answer -> next card: a grade key -> the next card's front shown (the answer
  is saved in its own transaction, the queue moves on, the buttons get the
  next card's intervals);
* concept page shown: from the Concepts list to the page's first frame (title
  and explanation); "with code and outputs mounted": until the lower part
  (sources, cards, code, the demo's outputs), which is mounted lazily after
  that frame, is there too. For a concept with cached demo outputs (softmax:
  tables, a heatmap, a plot) and one whose demo has not run (gru).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from datagen import ensure  # noqa: E402

from studylog.content.sync import sync_pack  # noqa: E402
from studylog.services import demos  # noqa: E402
from studylog.storage import migrate  # noqa: E402
from studylog.storage.engine import Database  # noqa: E402

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
DATA = ROOT / "benchmarks" / "_data"
TARGET_MS = 100.0


def summary(name: str, times: list[float], baseline: float = 0.0) -> str:
    """Median and 90th percentile; "net" subtracts the Pilot's own cost of a key press."""
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
    med = statistics.median(ms)
    net = med - baseline * 1000
    ok = "yes" if net <= TARGET_MS else "NO"
    return f"{name:<34} {len(ms):>4} {med:9.1f} {p90:8.1f} {net:8.1f} {TARGET_MS:7.0f}  {ok}"


async def measure(db: Database, answers: int, pages: int) -> list[str]:
    from studylog.tui.app import StudylogApp
    from studylog.tui.screens.concept_page import ConceptPageScreen
    from studylog.tui.screens.concepts import ConceptsScreen
    from studylog.tui.screens.review import ReviewScreen

    plain = "gru"  # a pack concept whose demo has not run: no outputs to draw
    app = StudylogApp(db, now=lambda: NOW, raise_unexpected=True)
    reveal, answer = [], []
    page_cached, page_cached_all, page_plain, page_plain_all = [], [], [], []
    async with app.run_test(size=(120, 40)) as pilot:
        start = time.perf_counter()
        await pilot.press("f3")
        await pilot.pause()
        first_review = time.perf_counter() - start
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        noop = []
        for _ in range(20):  # a key bound to nothing: what Pilot itself costs
            t0 = time.perf_counter()
            await pilot.press("x")
            await pilot.pause()
            noop.append(time.perf_counter() - t0)
        for k in range(answers):
            if screen.card is None:
                break
            t0 = time.perf_counter()
            await pilot.press("space")
            await pilot.pause()
            reveal.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await pilot.press("3241"[k % 4])
            await pilot.pause()
            answer.append(time.perf_counter() - t0)

        # Concept pages are opened from the Concepts list (what Enter does there).
        await pilot.press("f4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        concepts_screen = app.screen
        assert isinstance(concepts_screen, ConceptsScreen) and concepts_screen.loaded
        for slug, shown, complete in (
            ("softmax", page_cached, page_cached_all),
            (plain, page_plain, page_plain_all),
        ):
            for _ in range(pages):
                t0 = time.perf_counter()
                concepts_screen.open(slug)
                await pilot.pause()
                while not isinstance(app.screen, ConceptPageScreen):
                    await pilot.pause()
                shown.append(time.perf_counter() - t0)  # first frame: title and explanation
                page = app.screen
                while page.part("#below") is None:  # the rest is mounted after that frame
                    await pilot.pause()
                await pilot.pause()
                complete.append(time.perf_counter() - t0)
                await pilot.press("escape")
                await pilot.pause()
    base = statistics.median(noop)
    rows = [
        f"{'F3 to the first card (once)':<34} {1:>4} {first_review * 1000:9.1f}",
        summary("no-op key (Pilot overhead)", noop),
        summary("reveal (space)", reveal, base),
        summary("answer -> next card shown", answer, base),
        summary("concept page shown (softmax)", page_cached, base),
        summary("  ... with code and outputs mounted", page_cached_all, base),
    ]
    rows.append(summary(f"concept page shown ({plain}, not run)", page_plain, base))
    rows.append(summary("  ... with code mounted", page_plain_all, base))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=40)
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    source = ensure(DATA / "large.db")
    with tempfile.TemporaryDirectory(prefix="studylog-bench-") as folder:
        path = Path(folder) / "large.db"
        shutil.copyfile(source, path)
        db = Database(f"sqlite:///{path}")
        migrate.prepare(db, make_backup=False)
        sync_pack(db)
        demos.run(db, "softmax", now=NOW)  # untimed: the page shows its cached outputs
        rows = asyncio.run(measure(db, args.answers, args.pages))
        db.dispose()
    print("database: large.db (100,000 cards, 1,000,000 reviews, 5 years of entries), 120x40")
    print(f"{'step':<34} {'n':>4} {'median ms':>9} {'p90 ms':>8} {'net ms':>8} {'target':>7}  ok")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
