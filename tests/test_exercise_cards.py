"""Exercise cards: the pack sync makes one card per exercise (deck "Exercises"), editing a
concept keeps them with their schedule, and a database synced before migration 0007 gets them
on its next start. Counts are checked against the pack files themselves (parsed here)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update

from studylog.content import sync
from studylog.content.concept_file import parse_concept
from studylog.paths import content_dir
from studylog.services import concepts, exercises, review, settings
from studylog.storage.engine import Database
from studylog.storage.models import Card, Concept

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def pack_exercise_ids() -> set[str]:
    """Every ``SLUG.FUNCTION`` in the pack, found by reading the files (not the catalog)."""
    found = set()
    for path in sorted((content_dir() / "concepts").glob("*.md")):
        parsed = parse_concept(path.read_text(encoding="utf-8"), str(path))
        found |= {f"{parsed.slug}.{e.function}" for e in parsed.exercises}
    return found


def exercise_cards(db: Database) -> dict[str, int]:
    """exercise id -> card id, over every concept of the collection."""
    out = {}
    for summary in concepts.list_concepts(db):
        for card in concepts.get(db, summary.slug).cards:
            exercise_id = exercises.card_exercise_id(card.kind, card.pack_key)
            if exercise_id is not None:
                assert card.deck == "Exercises"
                out[exercise_id] = card.id
    return out


def test_the_pack_sync_makes_one_card_per_exercise(db: Database) -> None:
    sync.sync_pack(db)
    made = exercise_cards(db)
    assert set(made) == pack_exercise_ids()
    assert len(made) >= 82  # issue 15: the 82 exercises of item 1
    # Each resolves to the exercise of the catalog (the same reference).
    for exercise_id in ("lstm.lstm_cell", "layer-normalization.layer_norm"):
        assert exercises.resolve(db, exercise_id).reference == exercises.get(exercise_id).reference


def test_editing_a_concept_keeps_its_exercises_and_their_cards(db: Database) -> None:
    sync.sync_pack(db)
    before = {k: v for k, v in exercise_cards(db).items() if k.startswith("lstm.")}
    card_id = before["lstm.lstm_cell"]
    review.answer(db, card_id, 3, now=NOW)
    text = concepts.to_markdown(concepts.get(db, "lstm")).replace(
        "One LSTM step in PyTorch's layout", "One LSTM step (PyTorch's layout)"
    )
    parsed = parse_concept(text)
    assert [e.function for e in parsed.exercises] == ["lstm_cell", "lstm_cell_backward"]
    concepts.edit(db, "lstm", text, now=NOW)
    after = {k: v for k, v in exercise_cards(db).items() if k.startswith("lstm.")}
    assert after == before  # the same cards: schedule and history kept
    info = concepts.get(db, "lstm")
    renamed = next(c for c in info.cards if c.id == card_id)
    assert renamed.front.startswith("One LSTM step (PyTorch's layout)")
    assert renamed.reps == 1
    # The edited copy's exercise still checks against the pack's reference.
    exercise = exercises.resolve(db, "lstm.lstm_cell")
    assert exercise.title.startswith("One LSTM step (PyTorch's layout)")
    assert exercise.checks == exercises.get("lstm.lstm_cell").checks


def test_a_database_synced_before_0007_gets_its_exercise_cards(db: Database) -> None:
    sync.sync_pack(db)
    with db.write() as session:  # what a sync before 0007 left: no exercise cards, NULL columns
        session.execute(delete(Card).where(Card.kind == "exercise"))
        session.execute(update(Concept).values(exercises=None, computed=None))
        settings.set_in(session, sync.FINGERPRINT_KEY, "an older fingerprint")
    assert exercise_cards(db) == {}
    # Before the sync, the pack's files still give a pack concept its exercises.
    assert len(exercises.of_concept(db, "lstm")) == 2
    report = sync.sync_pack(db)
    assert not report.skipped and report.updated
    assert set(exercise_cards(db)) == pack_exercise_ids()
    assert sync.sync_pack(db).skipped
