"""Rescheduling 100,000 cards after new FSRS parameters: the replay and what comes beyond it.

Run: ``.venv/bin/python benchmarks/bench_reschedule.py [--cards 100000 --reviews 1000000]
[--repeat 3]`` (the collection is ``bench_review``'s, built once into
``benchmarks/_data/``; each run works on a copy).

Issue 13's target: reschedule 100k cards after new parameters <= 1 s beyond
the replay. "The replay" is reading every card's history (SQL -> NumPy) and
replaying it with the new parameters (:func:`studylog.scheduling.batch.replay`);
"beyond" is everything else ``settings.update`` does in its one transaction:
the undo snapshot, writing every card, rewriting the review rows' states,
commit. Each measured call is the real ``settings.update(db,
{"fsrs_parameters": ...})``; the replay part is timed on its own right before
it on the same data, and beyond = total - replay. Blocks alternate between
two parameter sets (each change is a full reschedule). Also: the same with
``reschedule_on_change`` false (memory states only), a desired-retention
change (dues only) and the undo. Wall and CPU time (``time.process_time``),
medians. No peer: Anki's backend reschedules inside its deck-options update,
which this script does not drive. Nothing here asserts on time.

``--readers``: also the readers of the review rows' states, each timed with
every row valid (after ``review_states.drop_in``'s rewrite: none stale) and
right after a parameter change (every row stale, derived when read:
:mod:`studylog.services.review_states`): ``memory_stats`` (no fit),
``collection_stats`` without its cache, one card's ``card_info`` and the
JSON export (to a file in the temporary directory).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _timed(fn) -> tuple[float, float]:  # noqa: ANN001
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def main(argv: list[str] | None = None) -> None:
    import bench_review
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from studylog.scheduling import batch
    from studylog.scheduling import settings as defs
    from studylog.services import settings
    from studylog.storage import bulk, migrate
    from studylog.storage.engine import Database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--readers", action="store_true", help="time the stale readers too")
    parser.add_argument("--skip-updates", action="store_true", help="only the readers")
    parser.add_argument(
        "--db",
        type=Path,
        help="a studylog database to copy instead of bench_review's (e.g. reschedule_vs_anki's "
        "reschedule_100000_1000000.db, whose histories agree with the cards)",
    )
    parser.add_argument(
        "--fuzz",
        action="store_true",
        help="turn fuzz on first (a new collection's default; bench_review's has it off): "
        "the reschedules then balance the days (load_balancing, on by default)",
    )
    args = parser.parse_args(argv)
    source = args.db or bench_review.DATA / f"bench_{args.cards}_{args.reviews}.db"
    if not source.exists():
        if args.db:
            parser.error(f"--db {args.db}: no such file")
        bench_review.build(source, args.cards, args.reviews)
    a = tuple(DEFAULT_PARAMETERS)
    b = list(DEFAULT_PARAMETERS)
    b[0], b[8], b[20] = 0.4, 1.5, 0.3
    sets = (tuple(b), a)
    rows: list[tuple[str, list[float], list[float]]] = []

    def add(name: str, wall: list[float], cpu: list[float]) -> None:
        rows.append((name, wall, cpu))

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.db"
        shutil.copy(source, copy)
        os.environ["STUDYLOG_STATE_DIR"] = str(Path(tmp) / "state")  # the migration's backup
        db = Database(f"sqlite:///{copy}")
        migrate.prepare(db)  # the current schema (the benchmark files may be older)
        if args.fuzz:  # one reschedule, not timed
            settings.update(db, {"enable_fuzz": True})
        if args.readers:
            _readers(db, Path(tmp), sets, args.repeat, add)
        replay_w, replay_c, total_w, total_c, undo_w, undo_c = [], [], [], [], [], []
        for k in range(0 if args.skip_updates else 2 * args.repeat):
            params = sets[k % 2]
            p = defs.config_from({**settings.values(db), "fsrs_parameters": params}).params()

            def replay_only(p: batch.Params = p) -> None:
                with db.read() as session:
                    h = bulk.load_replay_histories(session)
                    batch.replay(
                        h.offsets, h.ratings, h.times_us, p,
                        card_ids=h.card_ids, initial_due_us=h.initial_due_us,
                    )  # fmt: skip

            w, c = _timed(replay_only)
            replay_w.append(w)
            replay_c.append(c)
            w, c = _timed(lambda: settings.update(db, {"fsrs_parameters": params}))  # noqa: B023
            total_w.append(w)
            total_c.append(c)
        with db.read() as session:
            n_cards = len(bulk.load_card_snapshot(session).card_ids)
        if args.skip_updates:
            db.dispose()
            _print(rows, n_cards, args, source)
            return
        add("replay: read histories + NumPy replay", replay_w, replay_c)
        add("settings.update(fsrs_parameters): total", total_w, total_c)
        add(
            "  beyond the replay (target <= 1000 ms)",
            [t - r for t, r in zip(total_w, replay_w, strict=True)],
            [t - r for t, r in zip(total_c, replay_c, strict=True)],
        )
        for _ in range(args.repeat):
            settings.update(db, {"desired_retention": 0.85})
            w, c = _timed(lambda: settings.undo_reschedule(db))
            undo_w.append(w)
            undo_c.append(c)
        add("undo a desired-retention change", undo_w, undo_c)
        pundo_w, pundo_c = [], []
        for _ in range(args.repeat):  # the parameters are the defaults (a) here: b, then undo
            settings.update(db, {"fsrs_parameters": sets[0]})
            w, c = _timed(lambda: settings.undo_reschedule(db))
            pundo_w.append(w)
            pundo_c.append(c)
        add("undo a parameter change (replay the review rows, cards once)", pundo_w, pundo_c)
        dr_w, dr_c = [], []
        for k in range(2 * args.repeat):
            value = 0.85 if k % 2 == 0 else 0.9
            w, c = _timed(lambda: settings.update(db, {"desired_retention": value}))  # noqa: B023
            dr_w.append(w)
            dr_c.append(c)
        add("settings.update(desired_retention): move dues", dr_w, dr_c)
        settings.update(db, {"reschedule_on_change": False})
        mem_w, mem_c = [], []
        for k in range(2 * args.repeat):
            params = sets[k % 2]
            w, c = _timed(lambda: settings.update(db, {"fsrs_parameters": params}))  # noqa: B023
            mem_w.append(w)
            mem_c.append(c)
        add("the same, reschedule_on_change false (memory states)", mem_w, mem_c)
        db.dispose()

    _print(rows, n_cards, args, source)


def _print(rows: list, n_cards: int, args: argparse.Namespace, source: Path) -> None:
    print(
        f"studylog reschedule benchmark: {n_cards:,} cards, {args.reviews:,} reviews "
        f"({source.name}), medians of {2 * args.repeat} (undo: {args.repeat})"
        + (", fuzz and load balancing on" if args.fuzz else "")
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'wall ms':>10}  {'cpu ms':>10}")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 10}")
    for name, wall, cpu in rows:
        print(f"{name:<{width}}  {statistics.median(wall):>10.1f}  {statistics.median(cpu):>10.1f}")


def _readers(db, tmp: Path, sets: tuple, repeat: int, add) -> None:  # noqa: ANN001
    """Time the readers with every review row valid, then with every row stale."""
    from studylog.interchange import json_export
    from studylog.scheduling import batch
    from studylog.services import browse, memory_stats, settings, stats
    from studylog.storage import bulk

    def valid_rows() -> None:  # the old rewrite, so that nothing is stale
        try:
            from studylog.services import review_states
        except ImportError:  # a tree from before the marker: every row is valid
            return
        with db.write() as session:
            marker = review_states.load_in(session)
            if marker is None:
                return
            h = bulk.load_replay_histories(session)
            r = batch.replay(
                h.offsets, h.ratings, h.times_us, marker.params,
                card_ids=h.card_ids, initial_due_us=h.initial_due_us,
            )  # fmt: skip
            assert r.before is not None and r.after is not None
            bulk.write_review_states(session, h.review_ids, h.times_us, r.before, r.after)
            review_states.drop_in(session)

    with db.read() as session:
        card_id = int(bulk.load_replay_histories(session).card_ids[0])
    readers = {
        "memory_stats (no fit)": lambda: memory_stats.memory_stats(db, with_fit=False),
        "collection_stats (no cache)": lambda: stats.collection_stats(db, use_cache=False),
        "card_info (one card)": lambda: browse.card_info(db, card_id),
        "JSON export": lambda: json_export.export_json(db, tmp / "export.json"),
    }
    for label, prepare in (
        ("valid", valid_rows),
        ("stale", lambda: settings.update(db, {"fsrs_parameters": sets[0]})),
    ):
        prepare()
        for name, fn in readers.items():
            times = [_timed(fn) for _ in range(1 if "export" in name else repeat)]
            add(f"{name}: rows {label}", [w for w, _ in times], [c for _, c in times])
    settings.undo_reschedule(db)


if __name__ == "__main__":
    main()
