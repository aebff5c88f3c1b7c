"""CSV card import: studylog side by side with Anki's own ``import_csv``, cold processes.

Run: ``.venv/bin/python benchmarks/bench_import.py --vs-anki [--rows 1000,20000,100000]
[--blocks 3]``.

For each size, one CSV of ``front,back,tags`` rows (Korean text, emoji, two
tags a row) is imported into a fresh database by a new Python process: studylog
through ``studylog.interchange.importer.import_files`` (one transaction), Anki
through ``Collection.import_csv`` of the ``anki`` package into a fresh
collection (Basic notes, the Default deck, tags from the third column, as
``get_csv_metadata`` guesses; Anki's copy of the file has no header row,
which Anki would import as a note). Blocks
alternate between the two, the first side alternating too. Each child reports
its own CPU time (``time.process_time``, all threads) and wall time of the
import call alone (opening the database and importing Python modules are left
out on both sides). The table shows medians and the ratio studylog / Anki.
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_STUDYLOG = """
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.interchange.importer import import_files
db = Database(f"sqlite:///{sys.argv[2]}")
migrate.prepare(db)
c, w = time.process_time(), time.perf_counter()
report = import_files(db, [Path(sys.argv[1])], now=datetime(2026, 11, 21, tzinfo=UTC))
cpu, wall = time.process_time() - c, time.perf_counter() - w
print(json.dumps({"cpu": cpu, "wall": wall, "added": report.files[0].added["cards"]}))
"""

_ANKI = """
import json, sys, time
from anki.collection import Collection, ImportCsvRequest
from anki.import_export_pb2 import CsvMetadata
col = Collection(sys.argv[2])
meta = col.get_csv_metadata(sys.argv[1], delimiter=CsvMetadata.Delimiter.COMMA)
meta.ClearField("preview")  # Anki's guess: Basic, the Default deck, tags in column 3
c, w = time.process_time(), time.perf_counter()
out = col.import_csv(ImportCsvRequest(path=sys.argv[1], metadata=meta))
cpu, wall = time.process_time() - c, time.perf_counter() - w
print(json.dumps({"cpu": cpu, "wall": wall, "added": len(out.log.new)}))
col.close()
"""


def write_csv(path: Path, rows: int, *, header: bool = True) -> None:
    rng = random.Random(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        if header:
            out.writerow(["front", "back", "tags"])
        for i in range(rows):
            out.writerow(
                [
                    f"어텐션 질문 {i}: softmax {rng.random():.6f}?",
                    f"답 {i} 가중합 🧠",
                    f"bench g{i % 50}",
                ]
            )


def _run(code: str, csv_path: Path, target: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, str(csv_path), str(target)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    sizes = [1000, 20_000, 100_000]
    blocks = 3
    if "--rows" in argv:
        sizes = [int(x) for x in argv[argv.index("--rows") + 1].split(",")]
    if "--blocks" in argv:
        blocks = int(argv[argv.index("--blocks") + 1])
    print("| import (CPU, median) | studylog | Anki | ratio | wall studylog | wall Anki |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            path = folder / f"cards{n}.csv"
            write_csv(path, n)
            bare = folder / f"cards{n}-anki.csv"
            write_csv(bare, n, header=False)
            got: dict[str, list[dict[str, float]]] = {"studylog": [], "anki": []}
            for b in range(blocks):
                order = ("studylog", "anki") if b % 2 == 0 else ("anki", "studylog")
                for side in order:
                    target = (
                        folder / f"{side}-{n}-{b}" / ("s.db" if side == "studylog" else "c.anki2")
                    )
                    target.parent.mkdir()
                    code = _STUDYLOG if side == "studylog" else _ANKI
                    result = _run(code, path if side == "studylog" else bare, target)
                    assert result["added"] == n, (side, result)
                    got[side].append(result)
            med = {
                side: {k: statistics.median(r[k] for r in runs) for k in ("cpu", "wall")}
                for side, runs in got.items()
            }
            s, a = med["studylog"], med["anki"]
            label = f"{n // 1000}k" if n >= 1000 else str(n)
            print(
                f"| import {label} | {s['cpu']:.2f} s | {a['cpu']:.2f} s | {s['cpu'] / a['cpu']:.2f}x "
                f"| {s['wall']:.2f} s | {a['wall']:.2f} s |",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
