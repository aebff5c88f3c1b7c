"""Export to .apkg, checked by importing into Anki itself: notes, cloze, decks, tags, stable GUIDs."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from studylog.errors import InvalidInputError
from studylog.interchange.anki_export import export_apkg, markdown_to_html
from studylog.interchange.anki_package import read_collection
from studylog.interchange.importer import import_files
from studylog.services import cards
from tests.fixtures.anki_build import build

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def anki_import(collection_path: Path, package: Path) -> None:
    """Import ``package`` with Anki's own importer, updating notes that already exist."""
    from anki.collection import Collection
    from anki.import_export_pb2 import (
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
        ImportAnkiPackageUpdateCondition,
    )

    col = Collection(str(collection_path))
    try:
        always = ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(package),
                options=ImportAnkiPackageOptions(
                    update_notes=always, update_notetypes=always, with_scheduling=False
                ),
            )
        )
    finally:
        col.close()


def anki_notes(collection_path: Path) -> dict[str, dict]:
    """Every note of an Anki collection by GUID: type kind, fields, tags, decks of its cards."""
    from anki.collection import Collection

    col = Collection(str(collection_path))
    try:
        out = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            model = note.note_type()
            out[note.guid] = {
                "cloze": model["type"] == 1,
                "type": model["name"],
                "fields": dict(note.items()),
                "tags": sorted(note.tags),
                "decks": sorted({col.decks.name(c.did) for c in note.cards()}),
                "cards": len(note.cards()),
            }
        return out
    finally:
        col.close()


@pytest.fixture
def filled(db):
    cards.create(db, "어텐션 가중치의 합은? 🧠", "항상 1  \n$\\sum_i \\alpha_i = 1$", tags=["dl2"], deck="밑바닥2::8장", now=NOW)  # fmt: skip
    cards.create(db, "{{c1::Query}}와 {{c2::Key}}의 *내적*", "scaled: $$QK^T/\\sqrt{d_k}$$", kind="cloze", deck="밑바닥2::8장", now=NOW)  # fmt: skip
    cards.create(db, "GRU 게이트 수", "2", now=NOW)
    return db


def test_markdown_becomes_anki_html_with_mathjax():
    assert markdown_to_html("어텐션 **가중치** 🧠") == "어텐션 <strong>가중치</strong> 🧠"
    assert markdown_to_html("$x_1 < y$ and $$\\sum_i a_i$$") == (
        "\\(x_1 &lt; y\\) and \\[\\sum_i a_i\\]"
    )
    assert markdown_to_html("{{c1::Q}}의 *내적*") == "{{c1::Q}}의 <em>내적</em>"
    assert markdown_to_html("price $5 and $6") == "price $5 and $6"  # not math
    assert markdown_to_html("줄 하나\n줄 둘") == "줄 하나<br />\n줄 둘"


def test_anki_imports_the_export_with_cloze_decks_and_tags(filled, tmp_path):
    out = tmp_path / "studylog.apkg"
    counts = export_apkg(filled, out)
    assert counts == {"notes": 3, "cards": 4, "decks": 2}
    anki_import(tmp_path / "c.anki2", out)
    notes = anki_notes(tmp_path / "c.anki2")
    assert len(notes) == 3
    by_first = {n["fields"].get("Front", n["fields"].get("Text")): n for n in notes.values()}
    basic = by_first["어텐션 가중치의 합은? 🧠"]
    assert basic["fields"]["Back"] == "항상 1<br />\n\\(\\sum_i \\alpha_i = 1\\)"
    assert (basic["cloze"], basic["tags"], basic["decks"]) == (False, ["dl2"], ["밑바닥2::8장"])
    cloze = by_first["{{c1::Query}}와 {{c2::Key}}의 <em>내적</em>"]
    assert (cloze["cloze"], cloze["cards"]) == (True, 2)  # c1 and c2: one note, two cards
    assert cloze["fields"]["Back Extra"] == "scaled: \\[QK^T/\\sqrt{d_k}\\]"
    assert by_first["GRU 게이트 수"]["decks"] == ["Default"]


def test_a_second_export_updates_the_notes_in_anki_instead_of_duplicating(filled, tmp_path):
    first, second = tmp_path / "1.apkg", tmp_path / "2.apkg"
    export_apkg(filled, first)
    gru = next(c for c in cards.list_cards(filled) if c.front == "GRU 게이트 수")
    # Anki updates a note only when it is newer: the note's time is its card's last edit.
    cards.edit(filled, gru.id, back="2 (reset, update)", now=NOW + timedelta(days=1))
    export_apkg(filled, second)
    guids = [set(read_collection_guids(p)) for p in (first, second)]
    assert guids[0] == guids[1] and len(guids[0]) == 3
    collection = tmp_path / "c.anki2"
    anki_import(collection, first)
    anki_import(collection, second)
    notes = anki_notes(collection)
    assert len(notes) == 3
    assert [n["fields"]["Back"] for n in notes.values() if n["fields"].get("Front") == "GRU 게이트 수"] == ["2 (reset, update)"]  # fmt: skip


def read_collection_guids(package: Path) -> list[str]:
    return [n.guid for n in read_collection(package).notes.values()]


def test_notes_from_anki_go_back_with_their_guids(db, tmp_path):
    built = build(tmp_path / "anki")
    import_files(db, [built.new_apkg], now=NOW)
    out = tmp_path / "back.apkg"
    export_apkg(db, out)
    exported = read_collection(out)
    guids = {n.guid for n in exported.notes.values()}
    assert set(built.guids.values()) <= guids
    reversed_note = next(n for n in exported.notes.values() if n.guid == built.guids["reversed"])
    assert reversed_note.fields == ["LSTM", "Long short-term memory 🧠"]
    # Imported into the original collection, nothing is duplicated.
    before = len(anki_notes(tmp_path / "anki" / "collection.anki2"))
    anki_import(tmp_path / "anki" / "collection.anki2", out)
    assert len(anki_notes(tmp_path / "anki" / "collection.anki2")) == before


def test_pack_cards_have_the_same_guids_on_every_machine(tmp_path):
    from studylog.content.sync import sync_pack
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    exported = []
    for name in ("laptop", "desktop"):
        db = Database(f"sqlite:///{tmp_path / name}.db")
        migrate.prepare(db)
        if name == "desktop":
            cards.create(db, "먼저 만든 카드", "ids shift", now=NOW)  # different card ids
        sync_pack(db)
        export_apkg(db, tmp_path / f"{name}.apkg")
        exported.append(read_collection(tmp_path / f"{name}.apkg"))
        db.dispose()
    laptop = {n.guid: n.fields for n in exported[0].notes.values()}
    desktop = {n.guid: n.fields for n in exported[1].notes.values()}
    assert len(laptop) > 50
    assert all(desktop.get(guid) == fields for guid, fields in laptop.items())


def test_export_is_written_whole_or_not_at_all(filled, tmp_path):
    missing = tmp_path / "nope" / "x.apkg"
    with pytest.raises(InvalidInputError, match="does not exist"):
        export_apkg(filled, missing)
    folder = tmp_path / "out"
    folder.mkdir()
    export_apkg(filled, folder / "x.apkg")
    assert zipfile.is_zipfile(folder / "x.apkg")
    assert [p.name for p in folder.iterdir()] == ["x.apkg"]  # no temporary file left


def test_exercise_and_computed_cards_go_to_anki_as_basic_notes(db, tmp_path):
    """Every card is exported: an exercise as its task and starter with the reference on the
    back, a computed card as its template with its note on the back; Anki imports them all."""
    from sqlalchemy import func, select

    from studylog.content.sync import sync_pack
    from studylog.services import exercises
    from studylog.storage.models import Card

    sync_pack(db)
    with db.read() as s:
        by_kind = dict(s.execute(select(Card.kind, func.count()).group_by(Card.kind)).all())
    out = tmp_path / "pack.apkg"
    counts = export_apkg(db, out)
    assert counts["exercise notes"] == by_kind["exercise"] > 10
    assert counts["computed notes"] == by_kind["computed"] > 10
    anki_import(tmp_path / "c.anki2", out)
    notes = anki_notes(tmp_path / "c.anki2")
    assert len(notes) == counts["notes"]
    lstm = next(n for n in notes.values() if "(lstm.lstm_cell)" in n["fields"].get("Front", ""))
    assert lstm["type"] == "studylog Basic"
    front, back = lstm["fields"]["Front"], lstm["fields"]["Back"]
    assert "def lstm_cell(" in front and "raise NotImplementedError" in front  # the starter
    assert "def lstm_cell(" in back and "raise NotImplementedError" not in back  # the reference
    assert "studylog exercise check lstm.lstm_cell FILE" in back
    reference = exercises.get("lstm.lstm_cell")
    assert reference.title in front
    softmax = [n for n in notes.values() if "Predict the output" in n["fields"].get("Front", "")]
    assert len(softmax) == by_kind["computed"]
    assert all("def card(rng)" in n["fields"]["Front"] for n in softmax)
