"""Imports side by side with Anki's own, cold processes: CSV cards and Anki packages.

Run: ``.venv/bin/python benchmarks/bench_import.py --vs-anki [--rows 1000,20000,100000]
[--apkg 5000] [--blocks 3]`` (``--rows 0`` or ``--apkg 0`` leaves that part out).

**Anki packages** (``--apkg NOTES``): the package of ``bench_import.py``
(NOTES notes, a tenth cloze, ten answers per card, made once with Anki's
exporter) imported into a fresh database: studylog through ``import_files``
(cards, reviews, and the FSRS replay of every card's history, which Anki's
import does not do: it copies the scheduling), Anki through
``Collection.import_anki_package`` with scheduling into a fresh collection.
Then studylog's JSON export of that database imported into a fresh database
(a restore; Anki has no counterpart, so that row has no ratio).

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


_STUDYLOG_APKG = """
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

_ANKI_APKG = """
import json, sys, time
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
col = Collection(sys.argv[2])
options = ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False)
c, w = time.process_time(), time.perf_counter()
out = col.import_anki_package(ImportAnkiPackageRequest(package_path=sys.argv[1], options=options))
cpu, wall = time.process_time() - c, time.perf_counter() - w
print(json.dumps({"cpu": cpu, "wall": wall, "added": col.card_count()}))
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


def _blocks(
    blocks: int, runs: dict[str, tuple[str, Path, str]], folder: Path, label: str, expect: int
) -> dict[str, dict[str, float]]:
    """Alternating blocks of cold runs; ``runs``: side -> (code, input, target file name)."""
    got: dict[str, list[dict[str, float]]] = {side: [] for side in runs}
    for b in range(blocks):
        order = list(runs) if b % 2 == 0 else list(reversed(runs))
        for side in order:
            code, source, name = runs[side]
            target = folder / f"{side}-{label}-{b}" / name
            target.parent.mkdir()
            result = _run(code, source, target)
            assert result["added"] == expect, (side, result)
            got[side].append(result)
    return {
        side: {k: statistics.median(r[k] for r in results) for k in ("cpu", "wall")}
        for side, results in got.items()
    }


def _row(label: str, s: dict[str, float], a: dict[str, float] | None) -> str:
    if a is None:
        return f"| {label} | {s['cpu']:.2f} s | — | — | {s['wall']:.2f} s | — |"
    return (
        f"| {label} | {s['cpu']:.2f} s | {a['cpu']:.2f} s | {s['cpu'] / a['cpu']:.2f}x "
        f"| {s['wall']:.2f} s | {a['wall']:.2f} s |"
    )


def _json_of(package: Path, folder: Path) -> tuple[Path, int]:
    """studylog's JSON export of a database that imported ``package`` (and its card count)."""
    from datetime import UTC, datetime

    from studylog.interchange.importer import import_files
    from studylog.interchange.json_export import export_json
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    db = Database(f"sqlite:///{folder / f'{package.stem}-source.db'}")
    migrate.prepare(db)
    report = import_files(db, [package], now=datetime(2026, 11, 21, tzinfo=UTC))
    out = folder / f"{package.stem}.json"
    export_json(db, out)
    db.dispose()
    return out, report.files[0].added["cards"]


def main(argv: list[str]) -> None:
    sizes = [1000, 20_000, 100_000]
    packages = [5000]
    blocks = 3
    if "--rows" in argv:
        sizes = [int(x) for x in argv[argv.index("--rows") + 1].split(",") if int(x)]
    if "--apkg" in argv:
        packages = [int(x) for x in argv[argv.index("--apkg") + 1].split(",") if int(x)]
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
            med = _blocks(
                blocks,
                {"studylog": (_STUDYLOG, path, "s.db"), "anki": (_ANKI, bare, "c.anki2")},
                folder,
                f"csv{n}",
                n,
            )
            label = f"{n // 1000}k" if n >= 1000 else str(n)
            print(_row(f"CSV {label}", med["studylog"], med["anki"]), flush=True)
        for notes in packages:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from bench_import import build_package

            package = build_package(notes, 10)
            backup, cards = _json_of(package, folder)
            med = _blocks(
                blocks,
                {
                    "studylog": (_STUDYLOG_APKG, package, "s.db"),
                    "anki": (_ANKI_APKG, package, "c.anki2"),
                },
                folder,
                f"apkg{notes}",
                cards,
            )
            label = f"{notes // 1000}k notes" if notes >= 1000 else f"{notes} notes"
            print(
                _row(f".apkg {label} ({cards:,} cards)", med["studylog"], med["anki"]), flush=True
            )
            med = _blocks(
                blocks,
                {"studylog": (_STUDYLOG_APKG, backup, "s.db")},
                folder,
                f"json{notes}",
                cards,
            )
            print(
                _row("JSON restore of it (no Anki counterpart)", med["studylog"], None), flush=True
            )


if __name__ == "__main__":
    main(sys.argv[1:])
