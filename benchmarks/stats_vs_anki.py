"""Statistics side by side with Anki's ``graphs(days=365)`` on the same history, cold processes.

Run: ``.venv/bin/python benchmarks/stats_vs_anki.py [--blocks 3] [--time-ordered]``.

``--time-ordered``: studylog reads a copy of the history whose review ids
follow time (:func:`datagen.time_ordered_copy`), as a collection studied in
studylog has them, and as Anki's revlog (ids are times) always has them.

The collections: bench_review's database (``datagen.py``: 100,000 cards,
1,000,000 review rows over 5 years) and its Anki copy, built once with
:func:`review_vs_anki.build_anki` (same cards, same revlog, FSRS memory states).
Each sample is a new Python process that opens its collection and times the
statistics call alone (imports and opening are left out on both sides); the
operating system's file cache is warm on both sides (the same files were read
by the previous block).

- studylog ``collection_stats(use_cache=False)``: nothing cached (no per-day
  cache read or written), over the last 365 days (``period_days=365``: Anki's
  scope) and over the whole history (the default, which Anki's graphs do not
  compute: all-time true retention, log loss and RMSE over every review);
- studylog warm: the same call after another one stored the per-day cache
  (the cache is dropped before and after, so every block starts cold);
- Anki: ``col._backend.graphs(search="", days=365)`` (what Anki's statistics
  screen calls), first call in the process.

Blocks alternate (studylog first, then Anki first); the table shows medians
of CPU time (``time.process_time``) and wall time, and the CPU ratio.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data"
TZ = "Asia/Seoul"

_STUDYLOG = """
import json, sys, time
from datetime import UTC, datetime
from studylog.services import stats
from studylog.storage.engine import Database
from studylog.storage.bulk import STATS_CACHE_KEY
now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
db = Database(f"sqlite:///{sys.argv[1]}")
period = None if sys.argv[2] == "all" else int(sys.argv[2])
def drop():
    with db.write() as session:
        session.connection().exec_driver_sql(
            "DELETE FROM settings WHERE key = ?", (STATS_CACHE_KEY,)
        )
drop()
out = {}
c, w = time.process_time(), time.perf_counter()
stats.collection_stats(db, now=now, use_cache=False, period_days=period)
out["cold"] = (time.process_time() - c, time.perf_counter() - w)
stats.collection_stats(db, now=now)  # stores the per-day cache (of the whole history)
c, w = time.process_time(), time.perf_counter()
stats.collection_stats(db, now=now, period_days=period)
out["warm"] = (time.process_time() - c, time.perf_counter() - w)
drop()
db.dispose()
print(json.dumps(out))
"""

_ANKI = """
import json, sys, time
from anki.collection import Collection
col = Collection(sys.argv[1])
c, w = time.process_time(), time.perf_counter()
col._backend.graphs(search="", days=365)
out = {"cold": (time.process_time() - c, time.perf_counter() - w)}
c, w = time.process_time(), time.perf_counter()
col._backend.graphs(search="", days=365)
out["warm"] = (time.process_time() - c, time.perf_counter() - w)
col.close()
print(json.dumps(out))
"""


def _run(code: str, path: Path, *args: str) -> dict[str, list[float]]:
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TZ": TZ},
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import review_vs_anki

    blocks = int(argv[argv.index("--blocks") + 1]) if "--blocks" in argv else 3
    ours = DATA / "bench_100000_1000000.db"  # datagen.py's (END = 2026-11-21 10:00 UTC)
    if not ours.exists():
        raise SystemExit(f"{ours}: missing (make it with benchmarks/datagen.py)")
    generated = ours
    if "--time-ordered" in argv:  # the same history with review ids in time order
        import datagen

        ours = datagen.time_ordered_copy(ours, DATA / "bench_100000_1000000_by_time.db")
    theirs = DATA / "anki_100000_1000000.anki2"
    if not theirs.exists():
        review_vs_anki.build_anki(generated, theirs)
    runs = {
        "studylog 365": (_STUDYLOG, ours, "365"),
        "studylog all": (_STUDYLOG, ours, "all"),
        "anki": (_ANKI, theirs),
    }
    got: dict[str, list[dict[str, list[float]]]] = {side: [] for side in runs}
    for b in range(blocks):
        for side in list(runs) if b % 2 == 0 else list(reversed(runs)):
            got[side].append(_run(*runs[side]))

    def med(side: str, key: str, i: int) -> float:
        return statistics.median(r[key][i] for r in got[side])

    a_cpu, a_wall = med("anki", "cold", 0), med("anki", "cold", 1)
    print(
        "| statistics (median of blocks) | studylog CPU | Anki CPU (first call) | ratio (CPU) "
        "| studylog wall | Anki wall |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for side, scope in (("studylog 365", "last 365 days"), ("studylog all", "whole history")):
        for key, label in (("cold", "nothing cached"), ("warm", "warm (per-day cache)")):
            s = med(side, key, 0)
            print(
                f"| {scope}, {label} | {s:.3f} s | {a_cpu:.3f} s | {s / a_cpu:.2f}x "
                f"| {med(side, key, 1):.3f} s | {a_wall:.3f} s |"
            )
    print(
        f"| (Anki's second call in the same process) | | {med('anki', 'warm', 0):.3f} s | "
        f"| | {med('anki', 'warm', 1):.3f} s |"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
