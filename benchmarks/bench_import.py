"""Import and export throughput on a large Anki package and its JSON round trip.

Usage: python benchmarks/bench_import.py [--notes 10000] [--reviews 10]
       python benchmarks/bench_import.py --vs-anki [--rows 1000,20000,100000] [--blocks 3]
       (CSV import side by side with Anki's, see ``import_vs_anki.py``)

Builds (once per size, in benchmarks/_data/) an Anki collection with Anki's own
code (the ``anki`` test dependency): NOTES Basic notes with HTML and MathJax, a
tenth of them cloze with two deletions, each card with REVIEWS answers a few days
apart, exported as a current ``.apkg``. Then times, on a fresh database:
reading and converting the package, writing it (cards, reviews and the FSRS
replay of every history) in one transaction, importing it again (everything
skipped), the ``.apkg``, markdown and JSON exports, and importing the JSON into
another fresh database. Prints seconds and rates.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parent / "_data"


def build_package(notes: int, reviews: int) -> Path:
    """The benchmark package for this size, made once with Anki's exporter."""
    from anki.collection import Collection, ExportAnkiPackageOptions
    from anki.import_export_pb2 import ExportLimit

    out = DATA / f"bench-{notes}x{reviews}.apkg"
    if out.exists():
        return out
    DATA.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        basic, cloze = col.models.by_name("Basic"), col.models.by_name("Cloze")
        deck = col.decks.id("밑바닥2::bench")
        for i in range(notes):
            if i % 10 == 0:
                note = col.new_note(cloze)
                note["Text"] = f"{{{{c1::Query {i}}}}}와 {{{{c2::Key}}}}의 <i>내적</i> \\(QK^T\\)"
            else:
                note = col.new_note(basic)
                note["Front"] = f"어텐션 <b>질문 {i}</b> 🧠"
                note["Back"] = f"답 {i}<br>\\(\\sum_i \\alpha_i = 1\\)"
            note.tags = ["bench", f"g{i % 50}"]
            col.add_note(note, deck)
        t0 = datetime(2023, 1, 1, tzinfo=UTC)
        rows = []
        for n, cid in enumerate(col.find_cards("")):
            moment = t0 + timedelta(minutes=n)
            for k in range(reviews):
                ease = 1 if k % 7 == 3 else 3
                kind = 0 if k < 2 else 1
                rows.append((int(moment.timestamp() * 1000) + k, cid, ease, kind))
                moment += timedelta(days=1 + 2 * k)
        col.db.executemany(
            "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
            "VALUES (?, ?, -1, ?, 1, 0, 2500, 4000, ?)",
            rows,
        )
        col.export_anki_package(
            out_path=str(out),
            options=ExportAnkiPackageOptions(
                with_scheduling=True, with_deck_configs=False, with_media=False, legacy=False
            ),
            limit=ExportLimit(),
        )
        col.close()
    return out


def timed(label: str, fn, unit: str = "", count: int = 0):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    rate = f"  ({count / seconds:,.0f} {unit}/s)" if count else ""
    print(f"{label:<44} {seconds:8.2f} s{rate}")
    return result


def main() -> None:
    if "--vs-anki" in sys.argv:  # CSV import side by side with Anki's import_csv
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import import_vs_anki

        import_vs_anki.main(sys.argv[1:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=10)
    args = parser.parse_args()

    from studylog.interchange.anki_export import export_apkg
    from studylog.interchange.anki_import import apply_anki, read_anki
    from studylog.interchange.importer import import_files
    from studylog.interchange.json_export import export_json
    from studylog.interchange.markdown_export import export_markdown
    from studylog.interchange.summary import ApplyContext
    from studylog.services import settings
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    package = timed(
        "build the package with Anki (once)", lambda: build_package(args.notes, args.reviews)
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = Database(f"sqlite:///{folder / 'a.db'}")
        migrate.prepare(db)
        parsed = timed("read + convert .apkg", lambda: read_anki(package))
        cards, answers = len(parsed.cards), sum(len(c.reviews) for c in parsed.cards)
        print(f"  {cards:,} cards, {answers:,} kept answers")
        ctx = ApplyContext(datetime.now(UTC), settings.calendar(db))

        def write() -> None:
            with db.write() as session:
                apply_anki(session, parsed, ctx)

        timed("write cards + reviews + FSRS replay", write, "reviews", answers)
        timed("import the same package again (all skipped)", lambda: import_files(db, [package]))
        timed(
            "export .apkg (genanki)", lambda: export_apkg(db, folder / "out.apkg"), "cards", cards
        )
        timed("export markdown", lambda: export_markdown(db, folder / "md"), "cards", cards)
        timed("export JSON", lambda: export_json(db, folder / "all.json"), "reviews", answers)
        other = Database(f"sqlite:///{folder / 'b.db'}")
        migrate.prepare(other)
        timed(
            "import JSON into an empty database",
            lambda: import_files(other, [folder / "all.json"]),
            "reviews",
            answers,
        )
        other.dispose()
        db.dispose()


if __name__ == "__main__":
    main()
