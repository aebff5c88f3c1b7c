"""The deck list (Anki's deck tree with today's counts and limits): studylog against Anki.

Usage: python benchmarks/bench_decks.py [--cards 100000] [--reviews 1000000] [--runs 15]
       [--no-anki]

The studylog collection is ``datagen.py``'s (N cards, 10 N review rows), its
cards spread over a three-level tree of 10 x 10 x 5 = 500 leaf decks (610 decks
with the parents), a few hundred answers today and 1 % of the cards suspended.
The Anki collection (the ``anki`` package, headless, v3 scheduler) gets the same
decks and the same cards (type, queue, due day or learning time) written
straight into its tables. Each block times one call: studylog's
``services.decks.list_decks`` (two grouped reads and the tree) and Anki's
``col.sched.deck_due_tree()``; blocks alternate (studylog, Anki, Anki,
studylog, ...) in one process. The table shows medians of wall and CPU time
(``time.process_time``; Anki's Rust backend runs in this process). Target
(issue 12): the deck list <= 100 ms on 100k cards / 1M reviews. Nothing here
asserts on time.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import datagen  # noqa: E402

DATA = ROOT / "benchmarks" / "_data"
TOP = ["딥러닝", "수학", "밑바닥2", "NLP", "Vision", "RL", "Stats", "Python", "Papers", "Misc"]


def deck_names() -> list[str]:
    """The 500 leaf decks: top::chapter NN::part N."""
    return [f"{top}::{c:02d}장::part {p}" for top in TOP for c in range(10) for p in range(5)]


def spread(path: Path, now: datetime, seed: int = 1) -> None:
    """Put the generated cards into the leaf decks, suspend 1 %, and make 300 answers of today."""
    rng = random.Random(seed)
    leaves = deck_names()
    con = sqlite3.connect(path)
    ids = [cid for (cid,) in con.execute("SELECT id FROM cards ORDER BY id")]
    con.executemany(
        "UPDATE cards SET deck = ?, suspended = ? WHERE id = ?",
        [(rng.choice(leaves), int(rng.random() < 0.01), cid) for cid in ids],
    )
    at = now - timedelta(minutes=30)
    stamp, ms = at.strftime(datagen.FMT), int(at.timestamp() * 1000)
    today = rng.sample(ids, 300)
    con.executemany(
        "INSERT INTO reviews(card_id, rating, reviewed_at, reviewed_at_ms, duration_ms, "
        "state_before, state_after) VALUES (?, 3, ?, ?, 4000, 2, 2)",
        [(cid, stamp, ms) for cid in today],
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


def build_anki(studylog_db: Path, target: Path, now: datetime) -> None:
    """The same decks and cards in an Anki collection (rows written into its tables)."""
    from anki.collection import Collection

    src = sqlite3.connect(studylog_db)
    cards = src.execute(
        "SELECT id, deck, state, due_ms, last_review_ms, suspended FROM cards ORDER BY id"
    ).fetchall()
    src.close()
    target.unlink(missing_ok=True)
    col = Collection(str(target))
    try:
        col.set_config("rollover", 4)
        model = col.models.by_name("Basic")
        today = col.sched.today
        deck_ids = {name: col.decks.id(name) for name in sorted({c[1] for c in cards})}
        now_s = int(now.timestamp())
        notes, rows = [], []
        for i, (_cid, deck, state, due_ms, last_ms, suspended) in enumerate(cards):
            nid = 1_600_000_000_000 + i
            notes.append(
                (nid, f"g{i}", model["id"], now_s, -1, "", f"q{i}\x1fa", f"q{i}", 0, 0, "")
            )
            if last_ms is None:
                ctype, queue, due, ivl = 0, 0, i, 0
            elif state == 2:
                days = (due_ms // 1000 - now_s) // 86400
                ctype, queue, due, ivl = 2, 2, today + days, 5
            else:
                ctype, queue, due, ivl = 1, 1, due_ms // 1000, 0
            if suspended:
                queue = -1
            rows.append(
                (nid + 7, nid, deck_ids[deck], 0, now_s, -1, ctype, queue, due, ivl, 2500, 1, 0,
                 0, 0, 0, 0, "")
            )  # fmt: skip
        col.db.executemany(
            "insert into notes (id, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data) "
            "values (?,?,?,?,?,?,?,?,?,?,?)",
            notes,
        )
        col.db.executemany(
            "insert into cards (id, nid, did, ord, mod, usn, type, queue, due, ivl, factor, reps, "
            "lapses, left, odue, odid, flags, data) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    finally:
        col.close()


def _time(fn) -> tuple[float, float]:  # noqa: ANN001
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15, help="blocks of each (default 15)")
    parser.add_argument("--no-anki", action="store_true", help="studylog only")
    args = parser.parse_args(argv)

    from studylog.services import decks
    from studylog.storage.engine import Database

    now = datagen.END
    base = datagen.ensure(DATA / f"bench_{args.cards}_{args.reviews}.db", args.cards, args.reviews)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "decks.db"
        path.write_bytes(base.read_bytes())
        spread(path, now)
        db = Database(f"sqlite:///{path}")
        listing = decks.list_decks(db, now=now)  # warm: the page cache, compiled statements
        col = None
        if not args.no_anki:
            try:
                from anki.collection import Collection
            except ImportError:
                print("the anki package is not installed: studylog only", file=sys.stderr)
            else:
                anki_path = Path(tmp) / "anki.anki2"
                build_anki(path, anki_path, now)
                col = Collection(str(anki_path))
                col.sched.deck_due_tree()
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        for block in range(args.runs):
            order = ("s", "a") if block % 2 == 0 else ("a", "s")
            for who in order:
                if who == "s":
                    ours.append(_time(lambda: decks.list_decks(db, now=now)))
                elif col is not None:
                    theirs.append(_time(col.sched.deck_due_tree))
        if col is not None:
            col.close()
        db.dispose()

    print(
        f"deck list: {args.cards:,} cards, {args.reviews:,} review rows, "
        f"{len(listing.decks)} decks, {args.runs} blocks each"
    )
    print(f"{'measure':<44} {'wall ms':>9} {'CPU ms':>9}")
    print(f"{'-' * 44} {'-' * 9} {'-' * 9}")

    def row(name: str, samples: list[tuple[float, float]]) -> tuple[float, float]:
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        print(f"{name:<44} {wall:>9.1f} {cpu:>9.1f}")
        return wall, cpu

    mine = row("studylog services.decks.list_decks", ours)
    if theirs:
        anki = row("Anki col.sched.deck_due_tree()", theirs)
        print(f"{'ratio studylog / Anki':<44} {mine[0] / anki[0]:>9.2f} {mine[1] / anki[1]:>9.2f}")
    print("target (issue 12): <= 100 ms")


if __name__ == "__main__":
    main()
