"""Cold-start time of the command line on a large database (issue 2's targets).

Usage: python benchmarks/bench_cli.py [--runs 7]

Generates (once) benchmarks/_data/large.db: 100,000 cards, 1,000,000 review-log
rows and 5 years of daily entries, then times whole processes, as a user
starting the command would: `studylog --help` (target <= 0.3 s) and
`studylog today` (target <= 0.5 s). Prints medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datagen import ensure  # noqa: E402

DATA = Path(__file__).resolve().parent / "_data"


def time_command(args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    db = ensure(DATA / "large.db")
    env = {**os.environ, "STUDYLOG_DB": str(db), "STUDYLOG_NOW": "2026-11-21T10:00:00+00:00"}
    exe = [sys.executable, "-m", "studylog"]
    # Bytecode first: with PYTHONDONTWRITEBYTECODE set (as on the project machine) a
    # source checkout would compile ~60 modules on every start (~0.07 s), which an
    # installed package never does.
    import studylog

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(studylog.__file__).parent)],
        check=True,
        capture_output=True,
        env={k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    # One untimed run warms the OS file cache and syncs the pack into the copy.
    subprocess.run([*exe, "today"], check=True, capture_output=True, env=env)
    rows = [
        ("studylog --help", time_command([*exe, "--help"], args.runs, env), 0.3),
        ("studylog today", time_command([*exe, "today"], args.runs, env), 0.5),
        (
            "python -c pass (floor)",
            time_command([sys.executable, "-c", "pass"], args.runs, env),
            None,
        ),
    ]
    print(f"database: {db.name} (100,000 cards, 1,000,000 reviews, 5 years of entries)")
    print(f"{'command':<26} {'median s':>9} {'min s':>7} {'target s':>9}  ok")
    for name, times, target in rows:
        med = statistics.median(times)
        ok = "" if target is None else ("yes" if med <= target else "NO")
        tgt = "" if target is None else f"{target:.2f}"
        print(f"{name:<26} {med:9.3f} {min(times):7.3f} {tgt:>9}  {ok}")


if __name__ == "__main__":
    main()
