"""JSON export -> import: an empty database gets back every field; merging adds nothing twice."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from studylog.content.sync import sync_pack
from studylog.errors import InvalidInputError
from studylog.interchange.importer import import_files
from studylog.interchange.json_export import export_json
from studylog.services import cards, concepts, demos, journal, review, settings, suggestions, todos
from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.models import Card, Concept, Review
from tests.conftest import as_url

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
DEMO = "import numpy as np\nshow(np.ones(3))\n"
USER_CONCEPT = """---
slug: my-gelu
title: GELU 🧠
aliases: [겔루]
tags: [activation]
---

# GELU

x·Φ(x), 부드러운 ReLU.

## Cards

::: card what
GELU의 식은?

---

$x\\Phi(x)$
:::
"""


def new_db(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    return db


def populate(db: Database, tmp_path: Path) -> None:
    """A collection with something in every table and every kind of value."""
    settings.put(db, settings.TIMEZONE, "Asia/Seoul")
    review.configure(db, desired_retention=0.85)
    sync_pack(db)
    journal.add(
        db, "밑바닥2 8장: 어텐션 🧠\n\n$\\mathrm{softmax}(QK^T)$", date(2024, 8, 16), now=NOW
    )
    journal.add(db, "같은 날 두 번째 글", date(2024, 8, 16), now=NOW + timedelta(hours=1))
    todos.add(db, "여인수 정리", date(2024, 8, 16), due_day=date(2024, 8, 20), now=NOW)
    done = todos.add(db, "ITES 다시 풀기", date(2024, 8, 17), now=NOW)
    todos.complete(db, done.id, now=NOW + timedelta(days=1))
    concepts.add(db, USER_CONCEPT, now=NOW)
    concepts.set_demo_code(db, "my-gelu", DEMO, now=NOW)
    pack = concepts.list_concepts(db)[0].slug
    edited = concepts.to_markdown(concepts.get(db, pack)).replace("\n# ", "\n# (내 메모) ", 1)
    concepts.edit(db, pack, edited, now=NOW)
    basic = cards.create(db, "어텐션 가중치의 합은?", "1 🙂", tags=["dl2", "어텐션"], now=NOW)[0]
    cloze = cards.create(db, "{{c1::Q}}와 {{c2::K}}의 내적", kind="cloze", deck="밑바닥2", now=NOW)
    pack_cards = cards.list_cards(db, concept_slug=pack)
    moment = NOW
    for card_id, ratings in (
        (basic.id, (3, 3, 1, 3)),
        (cloze[0].id, (4,)),
        (pack_cards[0].id, (3, 2, 3)),
    ):
        for rating in ratings:
            review.answer(db, card_id, rating, now=moment, duration_ms=4200)
            moment += timedelta(days=2, minutes=7)
    review.suspend(db, cloze[1].id)
    review.bury(db, pack_cards[1].id, now=NOW)
    note = tmp_path / "note.md"
    note.write_text("2024-08-16\nGRU : gate가 2개\nLSTM : gate가 3개\n- [ ] 복습\n", "utf-8")
    import_files(db, [note], now=NOW)
    first, second = suggestions.list_suggestions(db)
    suggestions.accept(db, [first.id], now=NOW)
    suggestions.reject(db, [second.id], now=NOW)


def export_doc(db: Database, path: Path) -> dict:
    export_json(db, path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("exported_at")
    return doc


def _settings_rows(db: Database) -> dict:
    from studylog.storage.models import Setting

    with db.read() as session:
        return {s.key: s.value for s in session.scalars(select(Setting))}


@pytest.fixture
def source(tmp_path) -> tuple[Database, Path, dict]:
    db = new_db(tmp_path / "a.db")
    populate(db, tmp_path)
    out = tmp_path / "backup.json"
    doc = export_doc(db, out)
    yield db, out, doc
    db.dispose()


def test_round_trip_into_an_empty_database_reproduces_every_field(source, tmp_path):
    _db, backup, before = source
    assert all(before[k] for k in ("entries", "todos", "concepts", "cards", "reviews"))
    assert before["suggested_cards"] and before["import_records"]
    target = new_db(tmp_path / "b.db")
    report = import_files(target, [backup], now=NOW)
    added = report.files[0].added
    assert added["cards"] == len(before["cards"]) and added["reviews"] == len(before["reviews"])
    after = export_doc(target, tmp_path / "again.json")
    # The one documented difference: a concept that brings demo code comes in untrusted.
    want = json.loads(json.dumps(before))
    for concept in want["concepts"]:
        if concept["demo_code"]:
            concept["origin"] = "import"
    assert [c["slug"] for c in want["concepts"] if c["origin"] == "import"] == ["my-gelu"]
    assert after.keys() == want.keys()
    for key in want:
        assert after[key] == want[key], key
    # Korean and emoji, not escapes, in the file; and the untrusted code really is untrusted.
    assert "어텐션 🧠" in backup.read_text(encoding="utf-8")
    assert demos.is_trusted(target, "my-gelu") is False
    target.dispose()


def test_importing_the_backup_again_adds_nothing(source, tmp_path):
    _db, backup, _before = source
    target = new_db(tmp_path / "b.db")
    import_files(target, [backup], now=NOW)
    before = export_doc(target, tmp_path / "1.json")
    report = import_files(target, [backup], now=NOW)
    assert report.total("added") == dict.fromkeys(report.total("added"), 0)
    assert export_doc(target, tmp_path / "2.json") == before
    # And into the source itself: everything is there already.
    report = import_files(_db, [backup], now=NOW)
    assert report.total("added") == dict.fromkeys(report.total("added"), 0)
    target.dispose()


def _by_key(doc: dict) -> dict:
    """Cards and reviews keyed by content instead of ids (ids differ after a pack sync)."""
    card_key = {}
    cards_out = {}
    for c in doc["cards"]:
        key = c["pack_key"] or (c["kind"], c["front"], c["cloze_ord"], c["created_at"])
        card_key[c["id"]] = key
        cards_out[key] = {k: v for k, v in c.items() if k != "id"}
    reviews_out = {
        (card_key[r["card"]], r["reviewed_at"]): {
            k: v for k, v in r.items() if k not in ("id", "card")
        }
        for r in doc["reviews"]
    }
    return {"cards": cards_out, "reviews": reviews_out}


def test_restore_after_a_fresh_install_with_the_pack_synced(source, run_cli, db_url, tmp_path):
    """The CLI syncs the pack first: pack cards exist, unreviewed; they take the backup's state."""
    _db, backup, before = source
    out = run_cli("import", str(backup))
    assert out.exit_code == 0, out.output
    target = Database(as_url(db_url))
    after = export_doc(target, tmp_path / "after.json")
    want, got = _by_key(before), _by_key(after)
    assert got["reviews"] == want["reviews"]
    assert got["cards"] == want["cards"]
    assert after["entries"] == before["entries"] and after["todos"] == before["todos"]
    assert {c["slug"]: c for c in after["concepts"]}["my-gelu"]["origin"] == "import"
    edited = [c for c in before["concepts"] if c["user_modified"]]
    restored = {c["slug"]: c for c in after["concepts"]}
    for concept in edited:
        assert restored[concept["slug"]]["body"] == concept["body"]
        assert restored[concept["slug"]]["user_modified"] is True
    target.dispose()


def test_merging_histories_replays_the_card(tmp_path):
    """A card reviewed on two machines: the file's answers join, the state is replayed."""
    a = new_db(tmp_path / "a.db")
    card = cards.create(a, "역전파는?", "연쇄법칙", now=NOW)[0]
    review.answer(a, card.id, 3, now=NOW)
    review.answer(a, card.id, 3, now=NOW + timedelta(days=1))
    export_json(a, tmp_path / "a.json")
    review.answer(a, card.id, 1, now=NOW + timedelta(days=5))  # only in a
    b = new_db(tmp_path / "b.db")
    import_files(b, [tmp_path / "a.json"], now=NOW)
    review.answer(b, card.id, 4, now=NOW + timedelta(days=4))  # only in b
    export_json(a, tmp_path / "a2.json")
    report = import_files(b, [tmp_path / "a2.json"], now=NOW)
    assert (report.files[0].added["reviews"], report.files[0].skipped["reviews"]) == (1, 2)
    # Reference: the same four answers given in time order in a third database.
    c = new_db(tmp_path / "c.db")
    ref = cards.create(c, "역전파는?", "연쇄법칙", now=NOW)[0]
    for rating, days in ((3, 0), (3, 1), (4, 4), (1, 5)):
        review.answer(c, ref.id, rating, now=NOW + timedelta(days=days))
    got, want = cards.get(b, card.id), cards.get(c, ref.id)
    assert (got.due, got.reps, got.lapses, got.state) == (
        want.due,
        want.reps,
        want.lapses,
        want.state,
    )
    assert got.stability == pytest.approx(want.stability, rel=1e-9)
    for db in (a, b, c):
        db.dispose()


def _set(rows: dict):
    return lambda d: d["settings"].update(rows)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["cards"][0].pop("front"), "cards[0] (id {id}): missing field 'front'"),
        (lambda d: d["cards"][0].update(due="soon"), "cards[0] (id {id}): bad value for 'due'"),
        (lambda d: d["reviews"][0].update(rating=7), "reviews[0] (id {rid}): rating 7 is not 1-4"),
        (lambda d: d["reviews"][0].update(card=999999), "card 999999 is not in the file"),
        (lambda d: d.update(format_version=99), "export format version 99 is newer"),
        (lambda d: d.pop("format"), "not a studylog export"),
        (lambda d: d.pop("cards"), "missing section 'cards'"),
        # settings are checked as `config set` and the preset commands check them
        (_set({"fsrs.desired_retention": 5}), "settings: desired_retention: "),
        (_set({"fsrs.learning_steps_s": "soon"}), "settings: learning_steps: "),
        (_set({"deck_presets": {"밑바닥2": {"timezone": "UTC"}}}), ": 밑바닥2: timezone: only"),
        (_set({"shared_presets": {"빠른": {"new_per_day": -3}}}), ": 빠른: new_per_day: "),
        (_set({"deck_presets": ["밑바닥2"]}), "settings: deck_presets: not an object"),
        (_set({"deck_preset_names": {"밑바닥2": 7}}), "names: 밑바닥2: not a name"),
        (_set({"theme": "x" * 500}), "settings: theme: not a name"),
    ],
)
def test_bad_records_are_named_and_nothing_is_written(source, tmp_path, edit, message):
    _db, backup, before = source
    doc = json.loads(backup.read_text(encoding="utf-8"))
    ids = {"id": doc["cards"][0]["id"], "rid": doc["reviews"][0]["id"]}
    edit(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    target = new_db(tmp_path / "t.db")
    with pytest.raises(InvalidInputError) as caught:
        import_files(target, [bad], now=NOW)
    assert str(caught.value).startswith("bad.json: ")
    assert message.format(**ids) in str(caught.value)
    assert "\n" not in str(caught.value)
    with target.read() as s:
        assert s.scalar(select(func.count(Card.id))) == 0
        assert s.scalar(select(func.count(Concept.id))) == 0
    assert _settings_rows(target) == {}
    target.dispose()


def test_broken_json_names_the_line(tmp_path, db):
    path = tmp_path / "broken.json"
    path.write_text('{\n "format": "studylog-export",\n "entries": [,]\n}\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"^broken.json:3:14: not valid JSON"):
        import_files(db, [path], now=NOW)


def test_review_rows_keep_their_stored_states(source, tmp_path):
    _db, backup, before = source
    target = new_db(tmp_path / "b.db")
    import_files(target, [backup], now=NOW)
    with target.read() as s:
        rows = {r.id: (r.stability_after, r.due_after) for r in s.scalars(select(Review))}
    for record in before["reviews"]:
        stability, due = rows[record["id"]]
        assert stability == record["stability_after"]
        assert due.isoformat() == record["due_after"]
    target.dispose()


def test_a_deleted_cards_kept_history_is_not_exported(tmp_path):
    """Revision 0011 keeps a deleted card's reviews in the collection; the export holds
    only the reviews of the cards it holds, so the file imports into an empty database."""
    from studylog.services import card_actions

    a = new_db(tmp_path / "a.db")
    kept, gone = (cards.create(a, f"카드 {i}", "뒤", now=NOW)[0] for i in (1, 2))
    for card in (kept, gone):
        review.answer(a, card.id, 3, now=NOW)
    card_actions.delete_cards(a, ids=[gone.id], now=NOW)
    with a.read() as session:
        assert session.scalar(select(func.count()).where(Review.card_id == gone.id)) == 1
    export_json(a, tmp_path / "a.json")
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert [r["card"] for r in data["reviews"]] == [kept.id]
    b = new_db(tmp_path / "b.db")
    report = import_files(b, [tmp_path / "a.json"], now=NOW)
    assert (report.files[0].added["cards"], report.files[0].added["reviews"]) == (1, 1)
    for db in (a, b):
        db.dispose()


def test_an_export_carries_the_users_settings_and_none_of_the_collections_own_state(
    source, tmp_path
):
    """Undo steps name this collection's card ids, the pack's fingerprint (and the
    caches) describe this collection: an export leaves them out, and an import ignores them
    when an older export carries them."""
    from studylog.services import card_actions

    db, _backup, _doc = source
    settings.update_deck(db, "밑바닥2", {"desired_retention": 0.8})  # saves its undo step
    card = cards.list_cards(db)[0]
    card_actions.suspend(db, ids=[card.id], now=NOW)
    rows = _settings_rows(db)
    own = {"undo.card_actions", "undo.reschedule", "pack.fingerprint"}
    assert own <= rows.keys()  # the collection has them, so leaving them out is a choice
    doc = export_doc(db, tmp_path / "now.json")
    assert doc["settings"] == {
        "deck_presets": {"밑바닥2": {"desired_retention": 0.8}},
        "fsrs.desired_retention": 0.85,
        "timezone": "Asia/Seoul",
    }
    # An older export with every row: another collection takes only the user's choices.
    doc["settings"] = rows
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    target = new_db(tmp_path / "t.db")
    import_files(target, [old], now=NOW)
    assert _settings_rows(target).keys() == doc["settings"].keys() - own
    assert card_actions.last_undo(target) is None  # nothing of the other machine's to undo
    assert settings.effective(target, "밑바닥2").values["desired_retention"] == 0.8
    target.dispose()
