"""Bulk imports (CSV, Anki package, JSON) write the same rows as the per-row Core path did.

The reference is the implementation before the batched one: SQLAlchemy Core's
``executemany`` with its own parameter processing, and the search index kept
by the per-row ``*_ai`` triggers. Each import runs both ways into fresh
databases and every table, the search index included, must match row for row.
"""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

from studylog.interchange import anki_import, csv_cards, json_import, records
from studylog.interchange.anki_import import AnkiCardSpec, AnkiReview, ParsedAnki, apply_anki
from studylog.interchange.importer import import_files
from studylog.interchange.json_export import export_json
from studylog.interchange.summary import ApplyContext
from studylog.services import cards, journal, search, settings, todos
from studylog.storage import bulk, bulk_insert, migrate
from studylog.storage.engine import Database
from studylog.storage.models import Card
from studylog.storage.search_index import indexed_after
from studylog.storage.times import TWINS, with_ms

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
N = 5000
TABLES = (
    "cards",
    "tags",
    "card_tags",
    "reviews",
    "journal_entries",
    "todos",
    "suggested_cards",
    "import_records",
)

pytestmark = pytest.mark.both_backends


def core_insert_rows(session, table, rows, *, returning=True) -> list[int]:  # noqa: ANN001
    """``storage.bulk.insert_rows`` as it was: Core ``executemany`` of dicts."""
    rows = [with_ms(table.name, r) if table.name in TWINS else dict(r) for r in rows]
    ids: list[int] = []
    if returning and rows:
        missing = [r for r in rows if "id" not in r]
        if missing:
            top = session.execute(select(func.max(table.c.id))).scalar() or 0
            taken = {int(r["id"]) for r in rows if "id" in r}
            next_id = max([top, *taken]) + 1
            for r in missing:
                r["id"] = next_id
                next_id += 1
        ids = [int(r["id"]) for r in rows]
    for i in range(0, len(rows), 5000):
        session.execute(insert(table), rows[i : i + 5000])
    return ids


@contextlib.contextmanager
def triggers_on(_session, _table):  # noqa: ANN001, ANN202
    yield


@pytest.fixture
def reference(monkeypatch):  # noqa: ANN001, ANN201
    """A switch: ``reference(True)`` makes the importers use the per-row path."""

    def switch(on: bool) -> None:
        for module in (csv_cards, anki_import, json_import, records):
            monkeypatch.setattr(module, "insert_rows", core_insert_rows if on else bulk.insert_rows)
            if hasattr(module, "indexed_after"):
                monkeypatch.setattr(module, "indexed_after", triggers_on if on else indexed_after)

    yield switch
    switch(False)


def fresh_db(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    return db


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as s:
        out = {
            t: [tuple(r) for r in s.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2"))]
            for t in TABLES
        }
        out["search_index"] = [
            tuple(r)
            for r in s.execute(
                text("SELECT rowid, kind, ref_id, title, body FROM search_index ORDER BY rowid")
            )
        ]
        out["triggers"] = [
            tuple(r)
            for r in s.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            )
        ]
    return out


def write_csv(path: Path, n: int) -> None:
    rng = random.Random(7)
    lines = ["front,back,tags,deck"]
    for i in range(n):
        if i % 10 == 0:
            lines.append(
                f'"{{{{c1::쿼리 {i}}}}}와 {{{{c2::키}}}}의 내적",,attention 밑바닥2,밑바닥2::8장'
            )
        else:
            lines.append(f"어텐션 질문 {i} {rng.random():.5f}?,답 {i} 가중합 🧠,g{i % 50} 밑바닥2,")
    lines.append("어텐션 질문 1 중복?,같은 행,,")  # a row twice in the file: skipped once
    lines.append("어텐션 질문 1 중복?,같은 행,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_csv_import_of_5k_cards_gives_the_rows_of_the_per_row_path(tmp_path, reference):
    path = tmp_path / "cards.csv"
    write_csv(path, N)
    got = {}
    for on in (True, False):
        reference(on)
        db = fresh_db(tmp_path / f"csv-{on}.db")
        # cards already there: one added by hand (skipped by text), then the file twice
        front, back, _tags, _deck = path.read_text(encoding="utf-8").splitlines()[4].split(",")
        cards.create(db, front, back, now=NOW)
        first = import_files(db, [path], now=NOW).files[0]
        again = import_files(db, [path], now=NOW).files[0]
        got[on] = dump(db), (first.added, first.skipped, again.added, again.skipped)
        db.dispose()
    assert got[True][1] == got[False][1]
    added, skipped, again_added, again_skipped = got[False][1]
    basic, cloze = N - N // 10, 2 * (N // 10)
    # the hand-made card's row and the repeated row are skipped; the rest is new
    assert (added["cards"], skipped["cards"]) == (basic - 1 + cloze + 1, 2)
    assert (again_added["cards"], again_skipped["cards"]) == (0, basic + cloze + 2)
    assert got[True][0] == got[False][0]
    assert len(got[False][0]["search_index"]) == basic + cloze + 1  # every card indexed once


def anki_specs(n: int) -> list[AnkiCardSpec]:
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    specs = []
    for i in range(n):
        cloze = i % 10 == 0
        moment = t0 + timedelta(minutes=i)
        reviews = []
        for k in range(i % 4):
            reviews.append(AnkiReview(moment, 1 if k == 2 else 3, 4000 + k))
            moment += timedelta(days=1 + 2 * k, seconds=0.0015)
        specs.append(
            AnkiCardSpec(
                anki_id=1_600_000_000_000 + i,
                guid=f"g{i // 2}",
                ord=i % 2,
                kind="cloze" if cloze else "basic",
                front=f"{{{{c1::역전파 {i}}}}} 🧠" if cloze else f"어텐션 **질문** {i}",
                back="" if cloze else f"답 {i} $\\sum_i \\alpha_i$",
                cloze_ord=1 if cloze else None,
                deck="밑바닥2::bench",
                tags=("bench", f"g{i % 50}"),
                suspended=i % 97 == 0,
                created_at=t0 + timedelta(seconds=i),
                reviews=reviews,
                scheduled_in_anki=bool(reviews) or i % 13 == 0,
            )
        )
    return specs


def apply_package(db: Database, specs: list[AnkiCardSpec]) -> None:
    parsed = ParsedAnki("bench.apkg", "collection.anki21b", specs, ["0.png"])
    with db.write() as s:
        apply_anki(s, parsed, ApplyContext(NOW, settings.calendar(db)))


def test_anki_package_of_5k_cards_and_json_round_trip_give_the_rows_of_the_per_row_path(
    tmp_path, reference
):
    specs = anki_specs(N)
    got = {}
    for on in (True, False):
        reference(on)
        db = fresh_db(tmp_path / f"apkg-{on}.db")
        apply_package(db, specs[: N // 2])
        apply_package(db, specs)  # the first half again (skipped), the second half new
        journal.add(db, "어텐션을 복습했다 🧠", NOW.date(), now=NOW)
        todos.add(db, "역전파 다시 보기", NOW.date(), now=NOW)
        export_json(db, tmp_path / f"all-{on}.json")
        restored = fresh_db(tmp_path / f"restored-{on}.db")
        import_files(restored, [tmp_path / f"all-{on}.json"], now=NOW)
        merged = fresh_db(tmp_path / f"merged-{on}.db")
        apply_package(merged, specs[: N // 3])  # a database with data: new ids, merged histories
        import_files(merged, [tmp_path / f"all-{on}.json"], now=NOW)
        got[on] = dump(db), dump(restored), dump(merged)
        for d in (db, restored, merged):
            d.dispose()
    apkg, restored, merged = got[False]
    assert len(apkg["cards"]) == N
    assert len(apkg["reviews"]) == sum(len(s.reviews) for s in specs)
    assert got[True] == got[False]
    # a restore into an empty database reproduces the cards and reviews, ids included
    assert restored["cards"] == apkg["cards"]
    assert restored["reviews"] == apkg["reviews"]
    assert restored["search_index"] == apkg["search_index"]
    assert len(merged["cards"]) == N


def test_search_finds_korean_words_of_bulk_imported_cards_entries_and_todos(tmp_path):
    db = fresh_db(tmp_path / "a.db")
    path = tmp_path / "cards.csv"
    write_csv(path, N)
    import_files(db, [path], now=NOW)
    hits = search.search(db, "가중합", kinds=("card",), limit=10_000)
    assert len(hits) == N - N // 10
    hits = search.search(db, "질문 4321", kinds=("card",))
    assert [h.title for h in hits if h.title.startswith("어텐션 질문 4321 ")]
    assert all("4321" in h.title for h in hits)
    assert len(search.search(db, "내적", kinds=("card",), limit=10_000)) == 2 * (N // 10)
    apply_package(db, anki_specs(300))
    (hit,) = search.search(db, "역전파 290", kinds=("card",))
    assert hit.title == "{{c1::역전파 290}} 🧠"
    journal.add(db, "트랜스포머 인코더 정리", NOW.date(), now=NOW)
    export_json(db, tmp_path / "all.json")
    other = fresh_db(tmp_path / "b.db")
    import_files(other, [tmp_path / "all.json"], now=NOW)
    assert [h.kind for h in search.search(other, "인코더")] == ["entry"]
    assert len(search.search(other, "가중합", kinds=("card",), limit=10_000)) == N - N // 10


def test_indexed_after_restores_the_trigger_on_rollback_and_indexes_rows_below_the_top(tmp_path):
    db = fresh_db(tmp_path / "a.db")
    before = dump(db)["triggers"]
    values = {
        "front": "소프트맥스 함수",
        "back": "확률",
        "due": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }
    with pytest.raises(RuntimeError), db.write() as s:
        with indexed_after(s, "cards"):
            bulk.insert_rows(s, Card.__table__, [values])
            raise RuntimeError("stop")
    assert dump(db)["triggers"] == before
    with db.write() as s:
        bulk.insert_rows(s, Card.__table__, [{**values, "id": 10}])
        with indexed_after(s, "cards"):
            # one row above the top and one below it: both get indexed, once
            bulk.insert_rows(
                s,
                Card.__table__,
                [{**values, "front": "위 행"}, {**values, "id": 3, "front": "아래 행"}],
            )
    assert dump(db)["triggers"] == before
    assert sorted(int(h.ref) for h in search.search(db, "행", kinds=("card",))) == [3, 11]
    assert len(dump(db)["search_index"]) == 3
    # after the block, inserts are indexed by the trigger again
    (card,) = cards.create(db, "역전파 알고리즘", "연쇄법칙")
    assert [h.ref for h in search.search(db, "역전파")] == [str(card.id)]


def test_the_fast_time_text_equals_sqlalchemys_bind_processing():
    from datetime import timezone

    from sqlalchemy.dialects import sqlite

    from studylog.storage.types import MillisecondUTCDateTime, UTCDateTime

    dialect = sqlite.dialect()
    rng = random.Random(3)
    kst = timezone(timedelta(hours=9))
    moments = [None, datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=kst)]
    moments += [
        datetime(2026, 1, 1, tzinfo=rng.choice([UTC, kst, timezone(timedelta(hours=-3.5))]))
        + timedelta(microseconds=rng.randrange(10**15))
        for _ in range(2000)
    ]
    moments += [m.replace(microsecond=0) for m in moments[2:50]]
    for kind in (UTCDateTime(), MillisecondUTCDateTime()):
        slow = kind.dialect_impl(dialect).bind_processor(dialect)
        fast = bulk_insert._converter(kind, dialect)
        assert fast is not None and fast is not slow
        assert [fast(m) for m in moments] == [slow(m) for m in moments]
        with pytest.raises(ValueError, match="naive datetime"):
            fast(datetime(2026, 1, 1))
