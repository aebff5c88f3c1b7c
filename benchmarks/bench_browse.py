"""The card browser: the first page of a search and bulk actions on 10,000 cards, against Anki.

Usage: python benchmarks/bench_browse.py [--cards 100000] [--reviews 1000000] [--runs 7]
       [--no-anki] [--only search|bulk]

The collection is ``datagen.py``'s (N cards, 10 N review rows) with its cards
spread over ``bench_decks.py``'s 500 leaf decks (10 top-level decks, so
``deck:딥러닝`` holds about N / 10 cards: 10,000 on 100k). The Anki collection
(the ``anki`` package, headless, v3 scheduler, FSRS on) gets the same decks and
cards, with each reviewed card's stability and difficulty as its FSRS memory
state, written straight into its tables.

First page: studylog's ``services.browse.search`` (count, order, the page of
200 rows the browser reads at a time, with retrievability); Anki's browser does
``col.find_cards`` (every matching id, sorted) and then builds the visible rows
(``col.browser_row_for_id``, 200 of them here). Bulk actions: each on the cards
of ``deck:딥러닝`` by search, one transaction with its undo step; then the undo
(studylog's ``card_actions.undo``, Anki's ``col.undo``), timed apart. Blocks
alternate (studylog, Anki, Anki, studylog, ...) in one process; medians of wall
and CPU time (``time.process_time``; Anki's Rust backend runs in this process).

Targets (issue 12): first page <= 100 ms without ``prop:r``, <= 300 ms with
``prop:r`` or sorted by retrievability; a bulk action on 10,000 cards <= 1 s.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_decks, datagen  # noqa: E402

DATA = ROOT / "benchmarks" / "_data"
PAGE = 200  # the browser's page (studylog/tui/screens/browse.py)
TARGET = "deck:딥러닝"  # about a tenth of the cards

# Anki's browser columns for the rows built (what studylog's BrowseRow holds).
ANKI_COLUMNS = [
    "question", "answer", "deck", "tags", "cardDue", "interval", "stability", "difficulty",
    "retrievability", "reps", "lapses", "cardMod",
]  # fmt: skip

# (label, studylog query, sort, descending, Anki query, Anki order column or None, target ms)
SEARCHES = [
    ("every card, by added", "", "added", False, "", "noteCrt", 100),
    ("deck:딥러닝 (and its subdecks)", TARGET, "added", False, TARGET, "noteCrt", 100),
    ("words: attention -LSTM", "attention -LSTM", "added", False, "attention -LSTM", "noteCrt", 100),
    ("is:review prop:ivl>10, by due", "is:review prop:ivl>10", "due", False,
     "is:review prop:ivl>10", "cardDue", 100),
    ("is:due, by difficulty desc", "is:due", "difficulty", True, "is:due", "difficulty", 100),
    ("prop:r<0.9", "prop:r<0.9", "added", False, "prop:r<0.9", "noteCrt", 300),
    ("every card, by retrievability", "", "retrievability", False, "", "retrievability", 300),
]  # fmt: skip


def add_memory_states(studylog_db: Path, anki_path: Path) -> None:
    """Give Anki's cards studylog's text (front and back as the note's fields) and its
    reviewed cards their stability and difficulty as FSRS memory states (FSRS on)."""
    from anki.collection import Collection

    src = sqlite3.connect(studylog_db)
    states = src.execute(
        "SELECT stability, difficulty, front, back FROM cards ORDER BY id"
    ).fetchall()  # same order as bench_decks.build_anki wrote them
    src.close()
    col = Collection(str(anki_path))
    try:
        col.set_config("fsrs", True)
        notes = col.db.list("select id from notes order by id")
        col.db.executemany(
            "update notes set flds = ?, sfld = ? where id = ?",
            [(f"{f}\x1f{b}", f, nid) for nid, (_s, _d, f, b) in zip(notes, states, strict=True)],
        )
        ids = col.db.list("select id from cards order by id")
        col.db.executemany(
            "update cards set data = ? where id = ?",
            [
                (json.dumps({"s": round(s, 4), "d": round(d, 3), "dr": 0.9}), cid)
                for cid, (s, d, _f, _b) in zip(ids, states, strict=True)
                if s is not None
            ],
        )
    finally:
        col.close()


def _time(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


class Table:
    def __init__(self, title: str) -> None:
        print(title)
        print(
            f"{'measure':<34} {'studylog wall':>13} {'CPU':>7} {'Anki wall':>10} {'CPU':>7} "
            f"{'ratio CPU':>9} {'target':>7}"
        )
        print(f"{'-' * 34} {'-' * 13} {'-' * 7} {'-' * 10} {'-' * 7} {'-' * 9} {'-' * 7}")

    def row(
        self,
        name: str,
        ours: list[tuple[float, float]],
        theirs: list[tuple[float, float]],
        target: int | str,
    ) -> None:
        wall, cpu = _median(ours)
        if theirs:
            a_wall, a_cpu = _median(theirs)
            anki = f"{a_wall:>10.1f} {a_cpu:>7.1f} {cpu / max(a_cpu, 0.01):>9.2f}"
        else:
            anki = f"{'-':>10} {'-':>7} {'-':>9}"
        print(f"{name:<34} {wall:>13.1f} {cpu:>7.1f} {anki} {target!s:>7}")


def bench_searches(db, col, runs: int, now) -> None:  # noqa: ANN001
    from studylog.services import browse

    table = Table(f"first page ({PAGE} rows), medians of {runs} alternating blocks, ms")
    for label, query, sort, desc, anki_query, anki_sort, target in SEARCHES:

        def ours(query: str = query, sort: str = sort, desc: bool = desc) -> None:
            browse.search(db, query, sort=sort, descending=desc, limit=PAGE, now=now)

        def theirs(anki_query: str = anki_query, anki_sort: str = anki_sort, desc: bool = desc):  # noqa: ANN202
            ids = col.find_cards(anki_query, order=col.get_browser_column(anki_sort), reverse=desc)
            for cid in ids[:PAGE]:
                cells, *_ = col.browser_row_for_id(cid)
                list(cells)
            return len(ids)

        ours()
        if col is not None:
            theirs()
        mine: list[tuple[float, float]] = []
        anki: list[tuple[float, float]] = []
        for block in range(runs):
            for who in ("s", "a") if block % 2 == 0 else ("a", "s"):
                if who == "s":
                    mine.append(_time(ours))
                elif col is not None:
                    anki.append(_time(theirs))
        table.row(label, mine, anki, f"{target}")
    print()


def bench_bulk(db, col, runs: int, now) -> None:  # noqa: ANN001
    from studylog.services import browse, card_actions

    with db.read() as session:
        ids = browse.matching_ids_in(session, TARGET, browse.context_in(session, now))
    anki_ids = list(col.find_cards(TARGET)) if col is not None else []
    anki_notes = list(col.find_notes(TARGET)) if col is not None else []
    anki_deck = col.decks.id("Moved") if col is not None else 0
    table = Table(
        f"bulk action on {TARGET} ({len(ids):,} cards; Anki {len(anki_ids):,}) by search, "
        f"then its undo; medians of {runs} alternating blocks, ms"
    )
    actions: list[tuple[str, Callable[[], object], Callable[[], object] | None]] = [
        ("suspend", lambda: card_actions.suspend(db, query=TARGET, now=now),
         lambda: col.sched.suspend_cards(col.find_cards(TARGET))),
        ("add tag", lambda: card_actions.add_tags(db, ["bench"], query=TARGET, now=now),
         lambda: col.tags.bulk_add(col.find_notes(TARGET), "bench")),
        ("move to deck", lambda: card_actions.move(db, "Moved", query=TARGET, now=now),
         lambda: col.set_deck(col.find_cards(TARGET), anki_deck)),
        ("forget", lambda: card_actions.forget(db, query=TARGET, now=now),
         lambda: col.sched.schedule_cards_as_new(col.find_cards(TARGET))),
        ("set due 0-3 days", lambda: card_actions.set_due(db, "0-3", query=TARGET, now=now),
         lambda: col.sched.set_due_date(col.find_cards(TARGET), "0-3")),
        ("delete", lambda: card_actions.delete_cards(db, query=TARGET, now=now),
         lambda: col.remove_notes(col.find_notes(TARGET))),
    ]  # fmt: skip
    del anki_notes
    for name, ours, theirs in actions:
        mine, mine_undo, anki, anki_undo = [], [], [], []
        for block in range(runs):
            for who in ("s", "a") if block % 2 == 0 else ("a", "s"):
                if who == "s":
                    mine.append(_time(ours))
                    mine_undo.append(_time(lambda: card_actions.undo(db)))
                elif col is not None and theirs is not None:
                    anki.append(_time(theirs))
                    anki_undo.append(_time(col.undo))
        table.row(name, mine, anki, 1000)
        table.row(f"  undo {name}", mine_undo, anki_undo, "")
    print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="blocks of each (default 7)")
    parser.add_argument("--no-anki", action="store_true", help="studylog only")
    parser.add_argument("--only", choices=("search", "bulk"))
    args = parser.parse_args(argv)

    from studylog.storage.engine import Database

    now = datagen.END
    base = datagen.ensure(DATA / f"bench_{args.cards}_{args.reviews}.db", args.cards, args.reviews)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "browse.db"
        path.write_bytes(base.read_bytes())
        bench_decks.spread(path, now)
        db = Database(f"sqlite:///{path}")
        col = None
        if not args.no_anki:
            try:
                from anki.collection import Collection
            except ImportError:
                print("the anki package is not installed: studylog only", file=sys.stderr)
            else:
                anki_path = Path(tmp) / "anki.anki2"
                bench_decks.build_anki(path, anki_path, now)
                add_memory_states(path, anki_path)
                col = Collection(str(anki_path))
                col.set_browser_card_columns(ANKI_COLUMNS)
        print(f"card browser: {args.cards:,} cards, {args.reviews:,} review rows\n")
        if args.only in (None, "search"):
            bench_searches(db, col, args.runs, now)
        if args.only in (None, "bulk"):
            bench_bulk(db, col, args.runs, now)
        if col is not None:
            col.close()
        db.dispose()
    print("targets (issue 12): first page <= 100 ms (<= 300 ms with prop:r or sorted by R);")
    print("a bulk action on 10,000 cards <= 1,000 ms")


if __name__ == "__main__":
    main()
