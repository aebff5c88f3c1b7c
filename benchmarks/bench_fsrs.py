"""FSRS fitting and simulation: studylog side by side with Anki's backend, cold processes.

Run: ``.venv/bin/python benchmarks/bench_fsrs.py [--blocks 3] [--only real,big,simulate]``.

Cases (issue 13's targets):

- ``real``: optimize on the real review log (tests/data/reviews, 12,580
  reviews of 1,205 cards; target <= 1 s);
- ``big``: optimize on 1,000,000 reviews of 100,000 cards (the review
  benchmark's collection, simulated with FSRS: ``bench_review.build``;
  target <= 30 s and <= 1 GiB peak resident memory);
- ``simulate``: 365 days of the real log's collection (target <= 2 s), and
  the recommended (optimal) retention.

studylog runs ``optimizer.optimize(dry_run=True)`` (read the review rows,
build the items, fit with fsrs-rs, score the current and the fitted
parameters) and ``workload.simulate``; Anki runs
``compute_fsrs_params`` (the same steps in Rust) and ``simulate_fsrs_review``
/ ``compute_optimal_retention`` on a collection with the same history (built
by ``tests/fixtures/anki_fsrs.py``; for ``simulate`` the cards also get the
same memory states and due days). Every measurement is a new Python
process; blocks alternate which side goes first. Each child reports CPU time
(``time.process_time``: all threads), wall time of the call alone, and its
peak resident memory (``VmHWM``, the whole process since its exec, imports included;
``ru_maxrss`` would keep the parent's peak across fork + exec).
Tables print medians. Nothing here asserts on time.

The databases are built once into ``benchmarks/_data/`` (git ignores it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data"
REAL_LOG = ROOT / "tests" / "data" / "reviews" / "review_logs_josh.csv"
NOW_ISO = "2026-11-21T10:00:00+00:00"
TZ = "UTC"

# --- building the collections (once) ---------------------------------------------------------


def _studylog_real(path: Path) -> None:
    from datetime import datetime

    from studylog.interchange.review_log import import_review_log
    from studylog.services import settings
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    settings.put(db, settings.TIMEZONE, TZ)
    import_review_log(db, REAL_LOG, now=datetime.fromisoformat(NOW_ISO))
    db.dispose()


def _studylog_big(path: Path) -> None:
    """100,000 cards, 1,000,000 answers (90,000 cards with history, as ``bench_review``),
    written as a review-log CSV and imported with studylog's importer (which replays them)."""
    import csv
    from datetime import datetime

    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_review

    from studylog.interchange.review_log import import_review_log
    from studylog.services import review, settings
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    rng = np.random.default_rng(1)
    p = review.SchedulerConfig(enable_fuzzing=False, maximum_interval_d=365).params()
    offsets, ratings, times_us = bench_review.simulate(90_000, 1_000_000, rng, p, years=1.5)
    cards = np.repeat(np.arange(1, offsets.size, dtype=np.int64), np.diff(offsets))
    durations = rng.integers(1500, 20000, times_us.size)
    log = path.with_suffix(".csv")
    with log.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["card_id", "review_rating", "review_time", "review_duration"])
        for c, r, t, d in zip(
            cards.tolist(), ratings.tolist(), times_us.tolist(), durations.tolist(), strict=True
        ):
            stamp = datetime.fromtimestamp(t / 1e6, tz=UTC).isoformat()
            out.writerow([c, r, stamp, d])
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    settings.put(db, settings.TIMEZONE, TZ)
    import_review_log(db, log, now=datetime.fromisoformat(NOW_ISO))
    db.dispose()
    log.unlink()


def _anki_from(studylog_db: Path, target: Path, *, with_states: bool) -> None:
    """An Anki collection with ``studylog_db``'s review history (in a child: ``TZ`` set)."""
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from benchmarks.bench_fsrs import _anki_build
_anki_build({str(studylog_db)!r}, {str(target)!r}, {with_states!r})
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "TZ": TZ})


def _anki_build(studylog_db: str, target: str, with_states: bool) -> None:
    from anki.collection import Collection

    from studylog.storage import fsrs_reads
    from studylog.storage.engine import Database
    from tests.fixtures.anki_fsrs import _build

    db = Database(f"sqlite:///{studylog_db}")
    with db.read() as session:
        log = fsrs_reads.load_answer_log(session)
    h = log.history
    durations = [0 if d != d else int(d) for d in log.duration_ms.tolist()]
    entries = [
        [c, t, r, k, 1, d]
        for c, t, r, k, d in zip(
            h.card_ids.tolist(),
            h.times_ms.tolist(),
            h.ratings.tolist(),
            h.kinds.tolist(),
            durations,
            strict=True,
        )
    ]
    Path(target).unlink(missing_ok=True)
    col = Collection(target)
    try:
        col.set_config("rollover", 4)
        _build(col, entries)
        if with_states:
            _copy_states(col, db)
    finally:
        col.close()
    db.dispose()


def _copy_states(col, db) -> None:  # noqa: ANN001 - anki Collection, studylog Database
    """Give Anki's cards studylog's memory states and due days (review cards), in card order."""
    with db.read() as session:
        rows = (
            session.connection()
            .exec_driver_sql(
                "SELECT state, stability, difficulty, due_ms, last_review_ms FROM cards "
                "WHERE suspended = 0 AND last_review_ms IS NOT NULL ORDER BY id"
            )
            .fetchall()
        )
    anki_ids = col.db.list("select id from cards order by id")
    today = col.sched.today
    day_ms = 86_400_000
    now_ms = int(time.time() * 1000)
    updates = []
    for cid, (state, s, d, due_ms, last_ms) in zip(anki_ids, rows, strict=False):
        if s is None or d is None:
            continue
        due_day = today + (due_ms - now_ms) // day_ms
        ivl = max(1, round((due_ms - last_ms) / day_ms))
        ctype = 2 if state == 2 else 3
        data = json.dumps({"s": s, "d": d, "dr": 0.9, "lrt": last_ms // 1000})
        updates.append((ctype, ctype, int(due_day) if ctype == 2 else today, ivl, data, cid))
    col.db.executemany(
        "update cards set type = ?, queue = ?, due = ?, ivl = ?, data = ? where id = ?", updates
    )


def ensure(case: str) -> tuple[Path, Path]:
    """The (studylog, Anki) collections of ``case`` ("real" or "big"), built if missing."""
    DATA.mkdir(parents=True, exist_ok=True)
    ours, theirs = DATA / f"fsrs_{case}.db", DATA / f"fsrs_{case}.anki2"
    if not ours.exists():
        print(f"building {ours.name} ...", file=sys.stderr, flush=True)
        (_studylog_real if case == "real" else _studylog_big)(ours)
    if not theirs.exists():
        print(f"building {theirs.name} ...", file=sys.stderr, flush=True)
        _anki_from(ours, theirs, with_states=case == "real")
    return ours, theirs


# --- the measured children -------------------------------------------------------------------

_HWM = """
def _hwm_mb():
    # the peak resident memory of this process since its exec (VmHWM); ru_maxrss keeps
    # the parent's peak across fork + exec on Linux, which the builder had raised
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_STUDYLOG = """
import json, resource, sys, time
from datetime import datetime
from studylog.services import optimizer, workload
from studylog.storage.engine import Database
what, path, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
db = Database(f"sqlite:///{path}")
rss0 = _hwm_mb()
c, w = time.process_time(), time.perf_counter()
if what == "optimize":
    r = optimizer.optimize(db, dry_run=True, now=now)
    out = {"items": r.items, "log_loss": r.fit.fitted_score.log_loss}
elif what == "simulate":
    r = workload.simulate(db, days=365, now=now, recommend=False)
    out = {"reviews": int(r.simulation.reviews.sum()), "memorized": float(r.simulation.memorized[-1])}
else:
    r = workload.simulate(db, days=365, now=now, recommend=True)
    out = {"optimal": r.optimal_retention}
cpu, wall = time.process_time() - c, time.perf_counter() - w
rss = _hwm_mb()
print(json.dumps({"cpu": cpu, "wall": wall, "rss_mb": rss, "rss0_mb": rss0, **out}))
"""

_ANKI = """
import json, resource, sys, time
from anki.collection import Collection
from anki import scheduler_pb2
what, path = sys.argv[1], sys.argv[2]
col = Collection(path)
search = "-is:suspended"
rss0 = _hwm_mb()
c, w = time.process_time(), time.perf_counter()
if what == "optimize":
    r = col._backend.compute_fsrs_params(
        search=search, current_params=[], ignore_revlogs_before_ms=0,
        num_of_relearning_steps=1, health_check=False,
    )
    out = {"items": r.fsrs_items}
else:
    from studylog.services.optimizer import DEFAULT_PARAMETERS
    req = scheduler_pb2.SimulateFsrsReviewRequest(
        params=list(DEFAULT_PARAMETERS), desired_retention=0.9, deck_size=col.card_count() + 20 * 365,
        days_to_simulate=365, new_limit=20, review_limit=200, max_interval=36500,
        search=search, suspend_after_lapse_count=8, learning_step_count=2,
        relearning_step_count=1,
    )
    if what == "simulate":
        r = col._backend.simulate_fsrs_review(req)
        out = {"reviews": int(sum(r.daily_review_count)), "memorized": float(r.accumulated_knowledge_acquisition[-1])}
    else:
        r = col._backend.compute_optimal_retention(req)
        out = {"optimal": float(r)}
cpu, wall = time.process_time() - c, time.perf_counter() - w
rss = _hwm_mb()
col.close()
print(json.dumps({"cpu": cpu, "wall": wall, "rss_mb": rss, "rss0_mb": rss0, **out}))
"""


def _child(side: str, what: str, path: Path) -> dict[str, float]:
    code = (_STUDYLOG if side == "studylog" else _ANKI).replace(
        "import json, resource, sys, time\n", "import json, resource, sys, time\n" + _HWM, 1
    )
    done = subprocess.run(
        [sys.executable, "-c", code, what, str(path), NOW_ISO],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TZ": TZ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{side} {what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(label: str, runs: dict[str, list[dict[str, float]]]) -> str:
    med = {
        side: {k: statistics.median(r[k] for r in got) for k in ("cpu", "wall", "rss_mb")}
        for side, got in runs.items()
    }
    s, a = med["studylog"], med["anki"]
    return (
        f"| {label} | {s['cpu']:.2f} s | {a['cpu']:.2f} s | {s['cpu'] / a['cpu']:.2f}x "
        f"| {s['wall']:.2f} s | {a['wall']:.2f} s | {s['rss_mb']:.0f} MiB | {a['rss_mb']:.0f} MiB |"
    )


CASES = {
    "real": [("optimize 12,580 reviews (real log)", "optimize")],
    "big": [("optimize 1,000,000 reviews of 100,000 cards", "optimize")],
    "simulate": [
        ("simulate 365 days (real log's cards)", "simulate"),
        ("optimal retention (365 days)", "optimal"),
    ],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--only", default="real,big,simulate")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(
        "| measure (median) | CPU studylog | CPU Anki | ratio (CPU) | wall studylog "
        "| wall Anki | peak RSS studylog | peak RSS Anki |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for case in args.only.split(","):
        ours, theirs = ensure("real" if case == "simulate" else case)
        for label, what in CASES[case]:
            runs: dict[str, list[dict[str, float]]] = {"studylog": [], "anki": []}
            for b in range(args.blocks):
                order = ("studylog", "anki") if b % 2 == 0 else ("anki", "studylog")
                for side in order:
                    runs[side].append(_child(side, what, ours if side == "studylog" else theirs))
            print(_row(label, runs), flush=True)
            detail = {side: {k: v for k, v in got[-1].items()} for side, got in runs.items()}
            print(f"  last run: {json.dumps(detail)}", file=sys.stderr, flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
