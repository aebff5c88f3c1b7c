"""``ReviewSession.counts()`` when some deck has limits of its own (the deck tree's counts).

Usage: python benchmarks/bench_counts.py [--cards 100000] [--reviews 1000000] [--calls 15]

The collection is ``datagen.py``'s spread over ``bench_decks.py``'s 610 decks, with
``딥러닝`` given ``new_per_day 5`` (so the session counts through the deck tree).
Timed: the first ``counts()`` (builds the tree: the grouped scan of every card), the
following calls with nothing written (kept: one ``PRAGMA data_version``), and a call
after another connection wrote (built again). Medians of wall and CPU ms
(``time.process_time``). The app's header asks for the counts after every answer
and on each refresh. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_decks, datagen  # noqa: E402

DATA = ROOT / "benchmarks" / "_data"


_time = bench_decks._time  # (wall ms, CPU ms) of one call


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args(argv)

    from studylog.services import cards, review, settings
    from studylog.storage.engine import Database

    now = datagen.END
    base = datagen.ensure(DATA / f"bench_{args.cards}_{args.reviews}.db", args.cards, args.reviews)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counts.db"
        path.write_bytes(base.read_bytes())
        bench_decks.spread(path, now)
        db = Database(f"sqlite:///{path}")
        settings.update_deck(db, "딥러닝", {"new_per_day": 5})
        session = review.ReviewSession(db, now=now)
        assert session.queue.subdecks is not None
        rows: list[tuple[str, list[tuple[float, float]]]] = []
        built, kept, after_write = [], [], []
        for i in range(args.calls):
            at = now + timedelta(seconds=i)
            cards.create(db, f"bench {i}", "a", deck="Misc", now=now)  # another connection
            after_write.append(_time(lambda at=at: session.counts(now=at)))
            kept.append(_time(lambda at=at: session.counts(now=at + timedelta(milliseconds=1))))
            session._counts_cache = None  # as before the cache: every call builds the tree
            built.append(_time(lambda at=at: session.counts(now=at)))
        rows = [
            ("counts(), tree built (no cache: every call before)", built),
            ("counts(), nothing written since (kept)", kept),
            ("counts(), after another connection wrote", after_write),
        ]
        print(f"ReviewSession.counts(): {args.cards:,} cards, 610 decks, medians of {args.calls}")
        print(f"{'measure':<52} {'wall ms':>8} {'CPU ms':>8}")
        for label, samples in rows:
            wall = statistics.median(s[0] for s in samples)
            cpu = statistics.median(s[1] for s in samples)
            print(f"{label:<52} {wall:>8.2f} {cpu:>8.2f}")
        session.close()
        db.dispose()


if __name__ == "__main__":
    main()
