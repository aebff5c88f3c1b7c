"""The same collection on SQLite and on PostgreSQL over a local Unix socket, side by side.

Run: ``.venv/bin/python benchmarks/bench_postgres.py`` (``--cards 100000``,
``--blocks 3``, ``--answers 30``). Needs PostgreSQL's binaries (Debian's
``postgresql`` package; see ``tests/pgcluster.py``): a throwaway cluster is
started in a temporary folder with the server's default durability (fsync
on, as SQLite's ``synchronous=FULL``), and removed at the end.

Measures, in alternating blocks (SQLite, then PostgreSQL, ``--blocks`` times):

- import: ``--cards`` cards from one CSV into a fresh database (one transaction,
  the search index filled), once per block;
- next card + answer: the review path (``ReviewSession``: next card, answer Good,
  commit), median of ``--answers`` per block;
- today: ``studylog today``'s summary (entries, TODOs, due counts, streak);
- search: ``어텐션`` (3 syllables: trigram index, ranked by BM25), ``개념`` (2: a scan
  on SQLite's LIKE, the trigram GIN index's recheck on PostgreSQL; newest first) and
  ``어텐션 softmax`` (two words of 3+ characters, in every tenth card: ranked by BM25).

Prints medians over the blocks: wall time, this process's CPU, and for
PostgreSQL the server's CPU too (its processes' ``/proc`` times), and the
ratio PostgreSQL / SQLite of the wall times. This is not a test: nothing
asserts on time.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def write_csv(path: Path, n: int) -> Path:
    """``n`` cards in studylog's card CSV (front,back,tags), Korean and emoji included;
    one in a hundred mentions 개념 and one in ten 어텐션."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["front", "back", "tags"])
        for i in range(n):
            word = "어텐션" if i % 10 == 0 else "게이트"
            extra = " 개념 정리" if i % 100 == 0 else ""
            out.writerow(
                [f"{word} 질문 {i} 🧠{extra}", f"답 {i}: softmax(QK^T/√d)", f"bench g{i % 50}"]
            )
    return path


class Side:
    """One database kind: how to make a fresh database and, for PostgreSQL, its server."""

    def __init__(self, name: str, make_url: Callable[[str], str], cpu: Callable[[], float]) -> None:
        self.name = name
        self.make_url = make_url
        self.server_cpu = cpu


def measure(fn: Callable[[], object], side: Side) -> tuple[float, float, float]:
    """(wall ms, this process's CPU ms, server CPU ms) of one call."""
    server0, cpu0, wall0 = side.server_cpu(), time.process_time(), time.perf_counter()
    fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return wall * 1000, cpu * 1000, (side.server_cpu() - server0) * 1000


def block(side: Side, name: str, csv_path: Path, answers: int) -> dict[str, list[tuple]]:
    """One block on one side: a fresh database, the import, then the reads and the answers."""
    from studylog.content.sync import sync_pack
    from studylog.interchange.importer import import_files
    from studylog.services import review, search, settings, today
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    db = Database(side.make_url(name))
    migrate.prepare(db)
    sync_pack(db)
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    review.set_limits(db, new_per_day=9999)
    out: dict[str, list[tuple]] = {}
    out["import"] = [measure(lambda: import_files(db, [csv_path], now=NOW), side)]
    calendar = settings.calendar(db)
    day = calendar.day_of(NOW)
    out["today"] = [measure(lambda: today.summary(db, day, calendar), side) for _ in range(9)]
    out["search 어텐션"] = [measure(lambda: search.search(db, "어텐션"), side) for _ in range(9)]
    out["search 개념"] = [measure(lambda: search.search(db, "개념"), side) for _ in range(9)]
    out["search 어텐션 softmax"] = [
        measure(lambda: search.search(db, "어텐션 softmax"), side) for _ in range(9)
    ]
    session = review.ReviewSession(db, now=NOW)
    moment = NOW

    def next_and_answer() -> None:
        card = session.next_card(now=moment)
        session.answer(card.id, 3, now=moment)

    out["next card + answer"] = []
    for _ in range(answers):
        out["next card + answer"].append(measure(next_and_answer, side))
        moment += timedelta(seconds=7)
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--answers", type=int, default=30)
    args = parser.parse_args()

    from rich.cells import cell_len

    from tests import pgcluster

    bindir = pgcluster.find_bindir()
    if bindir is None:
        sys.exit(f"bench_postgres: {pgcluster.MISSING}")
    folder = Path(tempfile.mkdtemp(prefix="studylog-bench-"))
    # The list of databases opened (storage.continuity) goes into the folder removed at
    # the end, not into the user's state folder (the benchmark's databases are gone after).
    os.environ["STUDYLOG_STATE_DIR"] = str(folder / "state")
    cluster = pgcluster.Cluster(bindir, durable=True).start()
    try:
        csv_path = write_csv(folder / "cards.csv", args.cards)
        sides = [
            Side("SQLite", lambda name: f"sqlite:///{folder / name}.db", lambda: 0.0),
            Side("PostgreSQL", cluster.create_database, cluster.server_cpu_seconds),
        ]
        results: dict[str, dict[str, list[tuple]]] = {s.name: {} for s in sides}
        for b in range(args.blocks):
            for side in sides:  # alternating: SQLite, PostgreSQL, SQLite, ...
                for key, values in block(side, f"bench{b}", csv_path, args.answers).items():
                    results[side.name].setdefault(key, []).append(
                        tuple(statistics.median(v[i] for v in values) for i in range(3))
                    )
        print(
            f"studylog on SQLite and PostgreSQL {cluster_version(cluster)} (local Unix socket, "
            f"fsync on): {args.cards:,} cards, medians of {args.blocks} alternating blocks"
        )
        header = (
            f"{'measure':<24} {'SQLite ms':>10} {'cpu':>8} {'PG ms':>10} {'cpu':>8} "
            f"{'server':>8} {'PG/SQLite':>10}"
        )
        print(header)
        print("-" * len(header))
        for key in results["SQLite"]:
            s = [statistics.median(v[i] for v in results["SQLite"][key]) for i in range(3)]
            p = [statistics.median(v[i] for v in results["PostgreSQL"][key]) for i in range(3)]
            label = key + " " * (24 - cell_len(key))  # Korean is two cells wide
            print(
                f"{label} {s[0]:>10.1f} {s[1]:>8.1f} {p[0]:>10.1f} {p[1]:>8.1f} {p[2]:>8.1f} "
                f"{p[0] / s[0]:>9.2f}x"
            )
        print(
            "cpu: this process (the client); server: the PostgreSQL server's processes. "
            f"import: once per block ({args.cards:,} cards); next card + answer: median of "
            f"{args.answers} per block; today, search: median of 9 per block."
        )
    finally:
        cluster.stop()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def cluster_version(cluster) -> str:  # noqa: ANN001
    import subprocess

    out = subprocess.run(
        [str(cluster.bindir / "postgres"), "--version"], capture_output=True, text=True
    ).stdout
    words = out.split()
    return words[2] if len(words) > 2 else "?"


if __name__ == "__main__":
    main()
