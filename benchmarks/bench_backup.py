"""What automatic backups cost on a large database (issue 14).

Usage: python benchmarks/bench_backup.py [--runs 5]

On benchmarks/_data/large.db (100,000 cards, 1,000,000 reviews, 5 years of
entries; made by datagen.py) it times, as whole processes:

* ``studylog today`` cold: a read, which never backs up (target <= 0.5 s);
* ``studylog log`` when no backup is due (the newest is under 30 minutes
  old): the everyday write;
* ``studylog log`` when a backup is due: the first write after 30 minutes,
  which copies the file first;
* the backup itself (SQLite's online backup API), wall and CPU time.

Medians; runs of the three commands alternate. CPU time of the child
processes is printed next to wall time (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import ensure  # noqa: E402

from studylog.storage import backups  # noqa: E402

DATA = Path(__file__).resolve().parent / "_data"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    source = ensure(DATA / "large.db")
    work = Path(tempfile.mkdtemp(prefix="studylog-bench-backup-"))
    db = work / "large.db"
    shutil.copy(source, db)
    env = {
        **os.environ,
        "STUDYLOG_DB": str(db),
        "STUDYLOG_NOW": "2026-11-21T10:00:00+00:00",
        "STUDYLOG_STATE_DIR": str(work / "state"),
    }
    exe = [sys.executable, "-m", "studylog"]
    subprocess.run([*exe, "today"], check=True, capture_output=True, env=env)  # warm, sync pack
    results: dict[str, list[tuple[float, float]]] = {
        "today": [],
        "log (none due)": [],
        "log (due)": [],
    }
    for n in range(args.runs):
        results["today"].append(timed([*exe, "today"], env))
        shutil.rmtree(backups.folder_of(db), ignore_errors=True)  # the next write finds one due
        results["log (due)"].append(timed([*exe, "log", f"bench {n}"], env))
        results["log (none due)"].append(timed([*exe, "log", f"bench {n}b"], env))
    copies = []
    for _ in range(args.runs):
        shutil.rmtree(backups.folder_of(db), ignore_errors=True)
        cpu = time.process_time()
        start = time.perf_counter()
        backups.make_backup(db)
        copies.append((time.perf_counter() - start, time.process_time() - cpu))
    size = db.stat().st_size / 1024**2
    print(f"database: {size:.0f} MiB (100,000 cards, 1,000,000 reviews, 5 years of entries)")
    print(f"{'what':<28} {'median s':>9} {'min s':>7} {'CPU s':>7}")
    for name, runs in [*results.items(), ("make_backup (in-process)", copies)]:
        wall = [w for w, _ in runs]
        cpu = [c for _, c in runs]
        print(
            f"{name:<28} {statistics.median(wall):9.3f} {min(wall):7.3f} {statistics.median(cpu):7.3f}"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
