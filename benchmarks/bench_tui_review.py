"""Review and concept-page rows for benchmarks/bench_tui.py (issue 6's <= 100 ms target).

Usage: python benchmarks/bench_tui_review.py [--runs 5] [--moves 20]

The measurements are functions in bench_tui's format (``Options`` in, ``Row``
list out) and use its harness: benchmarks/_data/large.db (100,000 cards,
1,000,000 review-log rows, 5 years of entries) copied to a temporary folder,
the app headless at 120x40 with the clock fixed, keys delivered as the
terminal driver would, and each time taken until the screen has its data
(messages handled, workers done, one paint). Run alone, this file prints
bench_tui's table for these rows; ``bench_tui.MEASUREMENTS`` can list them too.

- Review: space (the answer side shown) and a grade key (the answer saved in
  its own transaction, the next card's front and the buttons' intervals
  shown), over ``--moves`` cards; grades cycle Good, Hard, Easy, Again.
- Concept page: from the Concepts list (what Enter does) to the page's first
  paint (title and explanation), and until its lower part (sources, cards,
  code, demo outputs), mounted lazily after that paint, is there too; for a
  concept with cached demo outputs (softmax: tables, a heatmap, a plot) and
  one whose demo has not run (gru).

Not a test: nothing asserts on time.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_tui  # noqa: E402
from bench_tui import NOW, Options, Row, _timed_key, _with_app, settled  # noqa: E402


def review_cards(opts: Options) -> list[Row]:
    """F3, then reveal and grade ``opts.moves`` cards."""

    async def body(pilot) -> list[Row]:  # noqa: ANN001
        from studylog.tui.screens.review import ReviewScreen

        first = await _timed_key(pilot, "f3", settled)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen)
        reveal, answer = [], []
        for k in range(opts.moves):
            if screen.card is None:
                break
            reveal.append(await _timed_key(pilot, "space", settled))
            assert screen.revealed
            before = len(screen.answers)
            answer.append(await _timed_key(pilot, "3241"[k % 4], settled))
            assert len(screen.answers) == before + 1
        return [
            Row("review: first visit (F3, builds the queue)", [first], None),
            Row("review: show the answer (space)", reveal, 0.1),
            Row("review: answer -> next card shown (1-4)", answer, 0.1),
        ]

    return asyncio.run(_with_app(opts, body))


def concept_pages(opts: Options) -> list[Row]:
    """Open concept pages from the Concepts list, ``opts.runs`` times each."""

    async def body(pilot) -> list[Row]:  # noqa: ANN001
        from studylog.services import demos
        from studylog.tui.screens.concept_page import ConceptPageScreen
        from studylog.tui.screens.concepts import ConceptsScreen

        app = pilot.app
        demos.run(app.db, "softmax", now=NOW)  # untimed: the page shows cached outputs

        async def listed(pilot) -> None:  # noqa: ANN001 - the list is read in a worker
            while not (isinstance(app.screen, ConceptsScreen) and app.screen.loaded):
                await asyncio.sleep(0.001)
            await settled(pilot)

        await _timed_key(pilot, "f4", listed)
        listing = app.screen
        rows = []
        for slug, what in (("softmax", "cached outputs"), ("gru", "demo not run")):
            shown, complete = [], []
            for _ in range(opts.runs):
                await settled(pilot)
                start = time.perf_counter()
                listing.open(slug)
                while not isinstance(app.screen, ConceptPageScreen):
                    await asyncio.sleep(0.0005)
                page = app.screen
                await pilot._wait_for_screen()
                page._on_timer_update()  # the first paint: title and explanation
                shown.append(time.perf_counter() - start)
                while page.part("#below") is None:
                    await asyncio.sleep(0.0005)
                await settled(pilot)
                complete.append(time.perf_counter() - start)
                await pilot.press("escape")
            rows.append(Row(f"concept page shown ({slug}, {what})", shown, 0.1))
            rows.append(Row("  ... with sources, cards, code, outputs", complete, None))
        return rows

    return asyncio.run(_with_app(opts, body))


MEASUREMENTS = [review_cards, concept_pages]


if __name__ == "__main__":
    bench_tui.MEASUREMENTS = MEASUREMENTS
    bench_tui.main()
