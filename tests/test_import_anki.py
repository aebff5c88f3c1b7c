"""Importing Anki packages made by Anki's own exporter: texts, decks, tags, history -> FSRS state."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import fsrs
import pytest
import zstandard
from sqlalchemy import func, select

from studylog.errors import InvalidInputError
from studylog.interchange.anki_import import fsrs_history, read_anki
from studylog.interchange.anki_package import RevlogEntry, UnsafePackageError, read_collection
from studylog.interchange.importer import import_files
from studylog.interchange.review_log import import_review_log
from studylog.services import review, settings
from studylog.storage.models import Card, Review
from tests.fixtures.anki_build import HISTORIES, KEPT, build, revlog_times

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
FIELDS = (
    "id", "front", "back", "kind", "cloze_ord", "deck", "external_id", "origin", "state", "step",
    "stability", "difficulty", "due", "last_review", "reps", "lapses", "suspended", "created_at",
)  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("anki"))


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    return db


def stored(db) -> dict[str, SimpleNamespace]:  # noqa: ANN001
    with db.read() as s:
        out = {}
        for c in s.scalars(select(Card)):
            snap = SimpleNamespace(**{f: getattr(c, f) for f in FIELDS})
            snap.tags = sorted(t.name for t in c.tags)
            out[c.external_id] = snap
        return out


def counts(db) -> tuple[int, int]:  # noqa: ANN001
    with db.read() as s:
        return s.scalar(select(func.count(Card.id))), s.scalar(select(func.count(Review.id)))


# --- the package --------------------------------------------------------------------------


def test_current_packages_are_read_from_anki21b_not_the_placeholder(built):
    names = zipfile.ZipFile(built.new_apkg).namelist()
    assert "collection.anki21b" in names and "collection.anki2" in names
    with zipfile.ZipFile(built.new_apkg) as zf, tempfile.TemporaryDirectory() as tmp:
        placeholder = Path(tmp) / "p.db"
        placeholder.write_bytes(zf.read("collection.anki2"))
        con = sqlite3.connect(placeholder)
        (text,) = con.execute("SELECT flds FROM notes").fetchone()
        con.close()
    assert text.startswith("Please update to the latest Anki version")
    assert read_collection(built.new_apkg).member == "collection.anki21b"
    assert read_collection(built.legacy_apkg).member == "collection.anki21"
    assert read_collection(built.colpkg).member == "collection.anki21b"


def test_cards_texts_decks_tags_and_ids(utc_db, built):
    report = import_files(utc_db, [built.new_apkg], now=NOW)
    (f,) = report.files
    assert (f.added["cards"], f.added["reviews"]) == (8, sum(len(k) for k in KEPT.values()))
    assert f.media_skipped == ["figure.png"]
    cards = stored(utc_db)
    ids = built.card_ids
    assert set(cards) == {str(i) for i in ids.values()}  # external_id is the Anki card id
    basic = cards[str(ids["basic"])]
    assert (basic.front, basic.back) == (
        "어텐션 **가중치**의 합은? 🧠",
        "항상 1  \n$\\sum_i \\alpha_i = 1$ (softmax)",
    )
    assert (basic.kind, basic.deck, basic.tags, basic.origin) == (
        "basic",
        "밑바닥2::8장 어텐션",
        ["attention", "밑바닥2"],
        "import",
    )
    forward, backward = cards[str(ids["reversed-0"])], cards[str(ids["reversed-1"])]
    assert (forward.front, forward.back) == ("LSTM", "Long short-term memory 🧠")
    assert (backward.front, backward.back) == ("Long short-term memory 🧠", "LSTM")
    for n in (1, 2):
        cloze = cards[str(ids[f"cloze-{n}"])]
        assert (cloze.kind, cloze.cloze_ord) == ("cloze", n)
        assert cloze.front == "{{c1::Query}}와 {{c2::Key}}의 *내적*으로 점수를 구한다"
        assert cloze.back == "scaled dot-product: $QK^T/\\sqrt{d_k}$"
    image = cards[str(ids["image"])]
    assert (image.front, image.deck, image.suspended) == (
        "그림의 축은? ![](figure.png)",
        "Default",
        True,
    )
    assert not cards[str(ids["cloze-2"])].suspended
    # Card creation times come from the Anki ids (ms) unless an answer is older.
    assert cards[str(ids["cloze-2"])].created_at == datetime.fromtimestamp(
        ids["cloze-2"] / 1000, UTC
    )
    assert any("no usable review history" in n for n in f.notes)


def _want(role: str, external_id: str) -> fsrs.Card:
    logs = [
        fsrs.ReviewLog(int(external_id), fsrs.Rating(rating), at, taken)
        for at, rating, taken in revlog_times(role)
    ]
    return fsrs.Scheduler(enable_fuzzing=False).reschedule_card(
        fsrs.Card(card_id=int(external_id)), logs
    )


@pytest.mark.parametrize("package", ["new_apkg", "legacy_apkg", "colpkg"])
def test_history_replay_equals_reschedule_card(utc_db, built, package):
    import_files(utc_db, [getattr(built, package)], now=NOW)
    cards = stored(utc_db)
    for role in HISTORIES:
        ext = str(built.card_ids[role])
        want, got = _want(role, ext), cards[ext]
        assert (got.state, got.step, got.due, got.last_review) == (
            int(want.state),
            want.step,
            want.due,
            want.last_review,
        ), role
        assert got.stability == pytest.approx(want.stability, rel=1e-9)
        assert got.difficulty == pytest.approx(want.difficulty, rel=1e-9)
        assert got.reps == len(KEPT[role])
    with utc_db.read() as s:
        basic_id = s.scalar(select(Card.id).where(Card.external_id == str(built.card_ids["basic"])))
        rows = s.execute(
            select(Review.reviewed_at, Review.rating, Review.duration_ms)
            .where(Review.card_id == basic_id)
            .order_by(Review.reviewed_at)
        ).all()
    assert [tuple(r) for r in rows] == revlog_times("basic")
    with utc_db.read() as s:  # the cards' histories interleave: ids follow time across cards
        by_id = s.execute(select(Review.card_id, Review.reviewed_at).order_by(Review.id)).all()
    assert len({cid for cid, _ in by_id}) >= 4
    assert [at for _, at in by_id] == sorted(at for _, at in by_id)
    # New in Anki, new here; scheduled in Anki without any history: new too (reported).
    for role in ("cloze-2", "scheduled"):
        card = cards[str(built.card_ids[role])]
        assert (card.last_review, card.reps, card.state) == (None, 0, 1)


def test_the_three_package_kinds_give_the_same_cards(tmp_path, built):
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    seen = []
    for package in (built.new_apkg, built.legacy_apkg, built.colpkg):
        db = Database(f"sqlite:///{tmp_path / (package.name + '.db')}")
        migrate.prepare(db)
        import_files(db, [package], now=NOW)
        seen.append(
            sorted(
                (c.external_id, c.front, c.back, c.deck, c.suspended, tuple(c.tags), c.due)
                for c in stored(db).values()
            )
        )
        db.dispose()
    assert seen[0] == seen[1] == seen[2]


def test_fsrs_history_follows_ankis_rules():
    def entry(i: int, ease: int, kind: int, factor: int = 2500, ivl: int = 1) -> RevlogEntry:
        return RevlogEntry(i, 1, ease, ivl, factor, 1000, kind)

    # Learning, review, reset, learning again: only what follows the reset.
    assert [e.id for e in fsrs_history([
        entry(1, 3, 0), entry(2, 3, 1), entry(3, 0, 4, factor=0), entry(4, 3, 0), entry(5, 3, 1)
    ])] == [4, 5]  # fmt: skip
    # A reset with no answer after it: nothing.
    assert fsrs_history([entry(1, 3, 0), entry(2, 0, 4, factor=0)]) == []
    # Cramming and manual entries go; a filtered answer with rescheduling stays.
    assert [e.id for e in fsrs_history([
        entry(1, 3, 1, ivl=3), entry(2, 3, 3, factor=0), entry(3, 0, 4), entry(4, 2, 3)
    ])] == [1, 4]  # fmt: skip
    # Out of order in, time order out.
    assert [e.id for e in fsrs_history([entry(9, 3, 1, ivl=2), entry(5, 3, 0)])] == [5, 9]


# --- again, and together with a review log --------------------------------------------------------


def test_importing_again_adds_nothing(utc_db, built):
    import_files(utc_db, [built.new_apkg], now=NOW)
    before = stored(utc_db)
    again = import_files(utc_db, [built.new_apkg, built.legacy_apkg, built.colpkg], now=NOW)
    assert again.total("added")["cards"] == 0 and again.total("added")["reviews"] == 0
    assert again.total("skipped")["cards"] == 24
    assert again.total("skipped")["reviews"] == 3 * sum(len(k) for k in KEPT.values())
    assert stored(utc_db) == before


def test_a_later_export_of_the_same_collection_adds_only_new_answers(utc_db, tmp_path):
    first = build(tmp_path / "a")
    import_files(utc_db, [first.new_apkg], now=NOW)
    # Same collection, one more answer on the "basic" card, exported again by Anki.
    from anki.collection import Collection, ExportAnkiPackageOptions
    from anki.import_export_pb2 import ExportLimit

    col = Collection(str(tmp_path / "a" / "collection.anki2"))
    later = datetime(2024, 3, 21, 9, 0, tzinfo=UTC)
    col.db.execute(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
        "VALUES (?, ?, -1, 3, 15, 7, 2450, 3000, 1)",
        int(later.timestamp() * 1000),
        first.card_ids["basic"],
    )
    again = tmp_path / "again.apkg"
    col.export_anki_package(
        out_path=str(again),
        options=ExportAnkiPackageOptions(
            with_scheduling=True, with_deck_configs=False, with_media=False, legacy=False
        ),
        limit=ExportLimit(),
    )
    col.close()
    report = import_files(utc_db, [again], now=NOW)
    assert (report.total("added")["reviews"], report.total("added")["cards"]) == (1, 0)
    ext = str(first.card_ids["basic"])
    logs = [
        fsrs.ReviewLog(int(ext), fsrs.Rating(r), at, t) for at, r, t in revlog_times("basic")
    ] + [fsrs.ReviewLog(int(ext), fsrs.Rating.Good, later, 3000)]
    want = fsrs.Scheduler(enable_fuzzing=False).reschedule_card(fsrs.Card(card_id=int(ext)), logs)
    got = stored(utc_db)[ext]
    assert (got.due, got.reps) == (want.due, 7)
    assert got.stability == pytest.approx(want.stability, rel=1e-9)


def test_a_deleted_card_is_not_brought_back(utc_db, built):
    from studylog.services import cards as card_service

    import_files(utc_db, [built.new_apkg], now=NOW)
    victim = stored(utc_db)[str(built.card_ids["basic"])].id
    card_service.delete(utc_db, victim)
    report = import_files(utc_db, [built.new_apkg], now=NOW)
    assert report.total("added")["cards"] == 0
    assert any("deleted since an earlier import" in n for n in report.files[0].notes)


def test_review_log_cards_get_their_text_from_the_package(utc_db, built, tmp_path):
    log = tmp_path / "review_logs.csv"
    ext = built.card_ids["basic"]
    lines = ["card_id,review_rating,review_time,review_duration"] + [
        f"{ext},{rating},{at.isoformat()},{taken}" for at, rating, taken in revlog_times("basic")
    ]
    log.write_text("\n".join(lines) + "\n")
    import_review_log(utc_db, log, now=NOW)
    report = import_files(utc_db, [built.new_apkg], now=NOW)
    assert any("got their text" in n for n in report.files[0].notes)
    card = stored(utc_db)[str(ext)]
    assert card.front == "어텐션 **가중치**의 합은? 🧠" and card.deck == "밑바닥2::8장 어텐션"
    assert card.tags == ["attention", "밑바닥2"]
    assert counts(utc_db)[1] == sum(len(k) for k in KEPT.values())  # no answer twice


def test_dry_run_writes_nothing(utc_db, built):
    report = import_files(utc_db, [built.new_apkg], dry_run=True, now=NOW)
    assert report.total("added")["cards"] == 8
    assert counts(utc_db) == (0, 0)


def test_cli_reports_media_as_skipped(run_cli, built):
    out = run_cli("import", str(built.new_apkg))
    assert out.exit_code == 0, out.output
    assert "new.apkg (anki): added 8 cards, 19 reviews; skipped nothing." in out.output
    assert "1 media file(s) skipped (studylog keeps text only): figure.png" in out.output
    listed = json.loads(run_cli("card", "list", "--deck", "밑바닥2::8장 어텐션", "--json").output)
    assert len(listed) == 7  # all but the image card, which sits in Default


# --- safety ---------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "evil", ["../evil.txt", "/etc/evil", "a/../../evil", "C:\\evil", "..\\evil"]
)
def test_members_that_could_escape_are_refused(utc_db, built, tmp_path, evil):
    good = zipfile.ZipFile(built.new_apkg)
    members = {n: good.read(n) for n in good.namelist()}
    members[evil] = b"owned"
    path = _zip(tmp_path / "evil.apkg", members)
    with pytest.raises(UnsafePackageError, match=r"^evil.apkg: unsafe member name"):
        import_files(utc_db, [path], now=NOW)
    assert counts(utc_db) == (0, 0)
    assert not (tmp_path.parent / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_decompressed_size_is_capped(tmp_path, built):
    # A legacy collection of 1 MiB against a 100 kB cap, and a zstd bomb: 64 MiB of zeros.
    big = _zip(tmp_path / "big.apkg", {"collection.anki2": b"\0" * (1 << 20)})
    with pytest.raises(UnsafePackageError, match="more than 100,000 bytes"):
        read_anki(big, cap=100_000)
    bomb_data = zstandard.ZstdCompressor().compress(b"\0" * (64 << 20))
    assert len(bomb_data) < 10_000
    bomb = _zip(tmp_path / "bomb.apkg", {"collection.anki21b": bomb_data})
    with pytest.raises(UnsafePackageError, match="more than 1,000,000 bytes"):
        read_anki(bomb, cap=1_000_000)
    assert len(read_anki(built.new_apkg, cap=1_000_000).cards) == 8


def test_temporary_files_are_removed(tmp_path, built, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    read_anki(built.new_apkg)
    assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip", "not an Anki package (not a readable zip"),
        (None, "not an Anki package (no collection.anki21b / collection.anki21"),
        ({"collection.anki21b": b"garbage"}, "the collection is not valid zstd data"),
        ({"collection.anki2": b"garbage" * 100}, "collection.anki2 is not a readable collection"),
    ],
)
def test_bad_packages_name_the_file(utc_db, tmp_path, content, message):
    path = tmp_path / "deck.apkg"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        _zip(path, content or {"media": b"{}"})
    with pytest.raises(InvalidInputError) as caught:
        import_files(utc_db, [path], now=NOW)
    assert str(caught.value).startswith(f"deck.apkg: {message}")
    assert counts(utc_db) == (0, 0)


def test_media_map_of_legacy_packages(built):
    # Legacy packages keep a JSON media map; the names are reported the same way.
    data = zipfile.ZipFile(built.legacy_apkg).read("media")
    assert json.loads(data) == {"0": "figure.png"}
    assert read_collection(built.legacy_apkg).media == ["figure.png"]
