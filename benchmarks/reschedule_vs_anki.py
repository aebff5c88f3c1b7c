"""Rescheduling every card after new FSRS parameters: studylog against Anki's backend.

Run: ``.venv/bin/python benchmarks/reschedule_vs_anki.py [--cards 100000] [--blocks 3]``

Issue 10's target: "rescheduling all cards after a parameter change (full
replay of 1M reviews) <= 1.0x Anki's ``update_deck_configs`` with
rescheduling". Both sides start from the same collection (bench_review's
simulated one: N cards, 10 N review rows; ``review_vs_anki`` writes the same
cards, review log, memory states and due days into an Anki collection, FSRS
on), built for this script as ``reschedule_{N}_{10N}.db`` and ``.anki2`` in
``benchmarks/_data/`` (the ``bench_*`` files there may be ``datagen``'s, whose
histories are drawn at random and disagree with their cards' states, so that
Anki, which leaves cards in the new state alone, would do less work), with
FSRS-6's default parameters, and change them to one other set:

- studylog: ``settings.update(db, {"fsrs_parameters": ...})``: every card's
  history replayed with the new parameters, memory states and due dates
  written, the undo snapshot, one transaction (``reschedule_on_change`` is on
  by default).
- Anki: ``col.decks.update_deck_configs`` with the preset's ``fsrs_params_6``
  changed and ``fsrs_reschedule`` on, as the deck options screen sends it
  with "Reschedule cards on change" ticked: memory states recomputed from the
  review log, review cards given new intervals (load balancing on, its
  default), and one "rescheduled" review-log entry per moved card.

Each block is a fresh child process on a fresh copy of its collection (so
every block does the same work); only the call itself is timed (opening the
collection is not, nor the first import of the modules the change uses:
NumPy and studylog's reschedule machinery are loaded before the clock starts,
as Anki's backend is loaded whole), CPU time (``time.process_time``) and wall time, WAL with
``synchronous=FULL`` on both sides. Blocks alternate (studylog, Anki, Anki,
studylog, ...). The studylog database is brought to the current schema once
before the blocks. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TZ = "Asia/Seoul"  # bench_review's collections study in Seoul


def new_parameters() -> list[float]:
    """FSRS-6's defaults with the initial stability of Again, a stability growth
    weight and the decay changed: every card's memory state and interval move."""
    from fsrs.scheduler import DEFAULT_PARAMETERS

    params = list(DEFAULT_PARAMETERS)
    params[0], params[8], params[20] = 0.4, 1.5, 0.3
    return params


# --- one block (in a child process) ------------------------------------------------------


def _studylog_block(path: str) -> dict[str, float]:
    import time

    from studylog.services import reschedule, settings  # noqa: F401  (loaded, not timed)
    from studylog.storage.engine import Database

    db = Database(f"sqlite:///{path}")
    try:
        before = _dues_sqlite(path)
        c0, w0 = time.process_time(), time.perf_counter()
        settings.update(db, {"fsrs_parameters": new_parameters()})
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    finally:
        db.dispose()
    after = _dues_sqlite(path)
    moved = sum(1 for k, v in before.items() if after.get(k) != v)
    return {"cpu": cpu, "wall": wall, "moved": moved, "cards": len(before)}


def _dues_sqlite(path: str) -> dict[int, object]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT id, due_ms FROM cards"))
    finally:
        con.close()


def _anki_block(path: str) -> dict[str, float]:
    import time

    from anki import deck_config_pb2
    from anki.collection import Collection

    col = Collection(path)
    try:
        col.db.execute("pragma synchronous = full")
        deck_id = col.decks.id("Default")
        current = col.decks.get_deck_configs_for_update(deck_id)
        config = current.all_config[0].config
        del config.config.fsrs_params_6[:]
        config.config.fsrs_params_6.extend(new_parameters())
        request = deck_config_pb2.UpdateDeckConfigsRequest(
            target_deck_id=deck_id,
            configs=[config],
            mode=deck_config_pb2.UpdateDeckConfigsMode.UPDATE_DECK_CONFIGS_MODE_NORMAL,
            card_state_customizer=current.card_state_customizer,
            limits=current.current_deck.limits,
            new_cards_ignore_review_limit=current.new_cards_ignore_review_limit,
            fsrs=True,
            apply_all_parent_limits=current.apply_all_parent_limits,
            fsrs_reschedule=True,
            fsrs_health_check=False,
        )
        before = dict(col.db.all("select id, due from cards"))
        c0, w0 = time.process_time(), time.perf_counter()
        col.decks.update_deck_configs(request)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        after = dict(col.db.all("select id, due from cards"))
    finally:
        col.close()
    moved = sum(1 for k, v in before.items() if after.get(k) != v)
    return {"cpu": cpu, "wall": wall, "moved": moved, "cards": len(before)}


def child_main() -> None:
    side, path = sys.argv[2], sys.argv[3]
    fn = _studylog_block if side == "studylog" else _anki_block
    print(json.dumps(fn(path)))


def run_block(side: str, path: Path) -> dict[str, float]:
    from review_vs_anki import run_child

    return run_child("reschedule_vs_anki", side, str(path))


def _migrated_copy(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` and brought to the current schema (its backup
    goes to a state folder beside ``target``)."""
    os.environ["STUDYLOG_STATE_DIR"] = str(target.parent / "state")
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    shutil.copy(source, target)
    db = Database(f"sqlite:///{target}")
    try:
        migrate.prepare(db)
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> None:
    import bench_review
    import review_vs_anki

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--blocks", type=int, default=3)
    args = parser.parse_args(argv)
    n_reviews = 10 * args.cards
    ours = bench_review.DATA / f"reschedule_{args.cards}_{n_reviews}.db"
    theirs = ours.with_suffix(".anki2")
    if not ours.exists():
        bench_review.build(ours, args.cards, n_reviews)
    if not theirs.exists():
        review_vs_anki.build_anki(ours, theirs)
    samples: dict[str, list[dict[str, float]]] = {"studylog": [], "anki": []}
    with tempfile.TemporaryDirectory(prefix="reschedule-vs-anki-") as tmp:
        base = Path(tmp) / "base.db"
        _migrated_copy(ours, base)
        for b in range(args.blocks):
            order = ("studylog", "anki") if b % 2 == 0 else ("anki", "studylog")
            for side in order:
                copy = Path(tmp) / ("block.db" if side == "studylog" else "block.anki2")
                shutil.copy(base if side == "studylog" else theirs, copy)
                samples[side].append(run_block(side, copy))
                for leftover in copy.parent.glob(copy.name + "*"):
                    leftover.unlink()
    print(
        f"reschedule after new FSRS parameters: {args.cards:,} cards, {n_reviews:,} reviews, "
        f"medians of {args.blocks} blocks (fresh process and copy each)"
    )
    print(
        "| operation | studylog CPU | Anki CPU | ratio (CPU) | studylog wall | Anki wall "
        "| ratio (wall) | cards moved (studylog / Anki) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    med = {
        side: {k: statistics.median(s[k] for s in runs) for k in ("cpu", "wall", "moved")}
        for side, runs in samples.items()
    }
    s, a = med["studylog"], med["anki"]
    print(
        f"| reschedule | {s['cpu']:.2f} s | {a['cpu']:.2f} s | {s['cpu'] / a['cpu']:.2f}x "
        f"| {s['wall']:.2f} s | {a['wall']:.2f} s | {s['wall'] / a['wall']:.2f}x "
        f"| {s['moved']:,.0f} / {a['moved']:,.0f} |"
    )


if __name__ == "__main__":
    main()
