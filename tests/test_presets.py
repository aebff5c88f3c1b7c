"""Named presets shared by decks (Anki's deck options presets): resolution, scheduling with
them (checked against the ``fsrs`` package), clone on ``config set --deck``, rename, delete,
undo, and bad input changing nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling.settings import SettingError
from studylog.services import card_actions, cards, presets, review, settings

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HISTORY = [(3, NOW), (3, NOW + timedelta(minutes=10)), (3, NOW + timedelta(days=4))]


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    settings.update(db, {"enable_fuzz": False})
    return db


def _card(db, deck: str) -> int:
    return cards.create(db, f"q {deck}", "a", deck=deck, now=NOW)[0].id


def _fsrs_due(retention: float) -> datetime:
    scheduler = fsrs.Scheduler(desired_retention=retention, enable_fuzzing=False)
    card = fsrs.Card(due=NOW)
    for rating, at in HISTORY:
        card, _ = scheduler.review_card(card, fsrs.Rating(rating), review_datetime=at)
    return card.due


def _rows(db) -> dict:
    return {k: settings.get(db, k) for k in settings.PRESET_ROWS}


def _close(a: datetime, b: datetime) -> bool:
    return abs((a - b).total_seconds()) < 1


def test_decks_sharing_a_preset_are_scheduled_with_it(utc_db):
    ids = {d: _card(utc_db, d) for d in ("A", "A::x", "B", "C")}
    presets.add(utc_db, "시험")
    presets.update(utc_db, "시험", {"desired_retention": 0.8, "new_per_day": 7})
    presets.set_deck_preset(utc_db, "A", "시험")
    presets.set_deck_preset(utc_db, "B", "시험")
    child = settings.effective(utc_db, "A::x")
    assert child.values["desired_retention"] == 0.8 and child.sources["desired_retention"] == "A"
    assert settings.effective(utc_db, "B").values["new_per_day"] == 7
    assert settings.effective(utc_db, "C").values["desired_retention"] == 0.9
    for card_id in ids.values():
        for rating, at in HISTORY:
            review.answer(utc_db, card_id, rating, now=at)
    for deck in ("A", "A::x", "B"):
        assert _close(cards.get(utc_db, ids[deck]).due, _fsrs_due(0.8))
    assert _close(cards.get(utc_db, ids["C"]).due, _fsrs_due(0.9))
    listed = {p.name: p for p in presets.list_presets(utc_db)}
    assert listed["시험"].decks == ("A", "B") and listed["시험"].kind == "shared"
    assert listed["시험"].values == {"desired_retention": 0.8, "new_per_day": 7}
    assert set(listed["Default"].decks) == {"A::x", "C"}


def test_config_set_deck_on_a_shared_preset_clones_it(utc_db):
    for deck in ("A", "B"):
        _card(utc_db, deck)
    presets.add(utc_db, "공유")
    presets.update(utc_db, "공유", {"desired_retention": 0.85})
    presets.set_deck_preset(utc_db, "A", "공유")
    presets.set_deck_preset(utc_db, "B", "공유")
    settings.update_deck(utc_db, "A", {"new_per_day": 3})
    a, b = settings.effective(utc_db, "A"), settings.effective(utc_db, "B")
    assert a.own == {"desired_retention": 0.85, "new_per_day": 3}  # its own copy, edited
    assert b.own == {"desired_retention": 0.85} and b.values["new_per_day"] == 20
    assert settings.get(utc_db, settings.DECK_PRESET_NAMES) == {"B": "공유"}
    listed = {p.name: p for p in presets.list_presets(utc_db)}
    assert listed["공유"].decks == ("B",) and listed["A"].kind == "own"


def test_rename_and_delete_a_shared_preset(utc_db):
    _card(utc_db, "A::x")
    presets.add(utc_db, "old")
    presets.update(utc_db, "old", {"maximum_interval": 100})
    presets.set_deck_preset(utc_db, "A", "old")
    presets.rename(utc_db, "old", "new")
    assert settings.get(utc_db, settings.DECK_PRESET_NAMES) == {"A": "new"}
    assert settings.effective(utc_db, "A::x").values["maximum_interval"] == 100
    presets.add(utc_db, "copy", from_preset="new")
    assert {p.name: p.values for p in presets.list_presets(utc_db)}["copy"] == {
        "maximum_interval": 100
    }
    presets.delete(utc_db, "new")  # A falls back to Default: the collection's 36500
    assert settings.effective(utc_db, "A::x").values["maximum_interval"] == 36500
    assert settings.get(utc_db, settings.DECK_PRESET_NAMES) is None


def test_undo_puts_the_preset_and_the_schedule_back(utc_db):
    card_id = _card(utc_db, "A")
    for rating, at in HISTORY:
        review.answer(utc_db, card_id, rating, now=at)
    assert _close(cards.get(utc_db, card_id).due, _fsrs_due(0.9))
    presets.add(utc_db, "낮음")
    presets.update(utc_db, "낮음", {"desired_retention": 0.8})
    start = _rows(utc_db)
    done = presets.set_deck_preset(utc_db, "A", "낮음")
    assert done.rescheduled == 1
    moved = cards.get(utc_db, card_id).due
    assert moved > _fsrs_due(0.9)  # lower retention, a longer interval from the last review
    assert card_actions.last_undo(utc_db) == "Deck A uses preset 낮음"
    card_actions.undo(utc_db)
    assert _rows(utc_db) == start
    assert _close(cards.get(utc_db, card_id).due, _fsrs_due(0.9))


def test_bad_input_changes_nothing(utc_db):
    _card(utc_db, "A")
    presets.add(utc_db, "p")
    start = _rows(utc_db)
    undo_label = card_actions.last_undo(utc_db)
    bad = [
        (lambda: presets.add(utc_db, "p"), InvalidInputError, "exists already"),
        (lambda: presets.add(utc_db, "default"), InvalidInputError, "exists already"),
        (lambda: presets.add(utc_db, "  "), InvalidInputError, "not a preset name"),
        (lambda: presets.add(utc_db, "q", from_preset="nope"), NotFoundError, "no preset"),
        (lambda: presets.rename(utc_db, "Default", "x"), InvalidInputError, "keeps its name"),
        (lambda: presets.rename(utc_db, "nope", "x"), NotFoundError, "no preset named 'nope'"),
        (lambda: presets.delete(utc_db, "Default"), InvalidInputError, "cannot go"),
        (lambda: presets.set_deck_preset(utc_db, "Z", "p"), NotFoundError, "no deck named 'Z'"),
        (lambda: presets.set_deck_preset(utc_db, "A", "nope"), NotFoundError, "no preset"),
        (lambda: presets.update(utc_db, "p", {"timezone": "UTC"}), SettingError, "timezone"),
        (
            lambda: presets.update(utc_db, "p", {"desired_retention": 1.5}),
            SettingError,
            "desired_retention",
        ),
    ]
    for call, error, message in bad:
        with pytest.raises(error, match=message):
            call()
    assert _rows(utc_db) == start and card_actions.last_undo(utc_db) == undo_label


def test_cli_presets(run_cli):
    run_cli("card", "add", "어텐션", "x", "--deck", "딥러닝::8장")
    assert run_cli("preset", "add", "시험").exit_code == 0
    out = run_cli("config", "set", "--preset", "시험", "new_per_day", "4")
    assert out.exit_code == 0 and "new_per_day = 4 in preset 시험" in out.output
    out = run_cli("deck", "set-preset", "딥러닝", "시험")
    assert out.exit_code == 0 and "Deck 딥러닝 uses preset 시험." in out.output
    found = json.loads(run_cli("preset", "list", "--json").output)
    assert found[1] == {
        "name": "시험",
        "kind": "shared",
        "values": {"new_per_day": 4},
        "decks": ["딥러닝"],
    }
    assert (
        json.loads(
            run_cli("config", "get", "--deck", "딥러닝::8장", "new_per_day", "--json").output
        )["value"]
        == 4
    )
    before = run_cli("preset", "list", "--json").output
    for args, message in [
        (("preset", "delete", "없음"), "no preset named '없음'"),
        (("deck", "set-preset", "없음", "시험"), "no deck named '없음'"),
        (("config", "set", "--preset", "시험", "new_per_day", "-3"), "new_per_day"),
        (("config", "set", "--preset", "시험", "--deck", "딥러닝", "new_per_day", "3"), "not both"),
    ]:
        out = run_cli(*args)
        assert out.exit_code != 0 and message in out.output
        assert len(out.output.strip().splitlines()) == 1, out.output
    assert run_cli("preset", "list", "--json").output == before
    assert run_cli("card", "undo").exit_code == 0  # the set-preset
    assert json.loads(run_cli("preset", "list", "--json").output)[1]["decks"] == []


def test_a_renamed_or_deleted_deck_takes_its_preset_choice_along(utc_db):
    from studylog.services import decks

    _card(utc_db, "A::x")
    presets.add(utc_db, "p")
    presets.update(utc_db, "p", {"new_per_day": 2})
    presets.set_deck_preset(utc_db, "A", "p")
    decks.rename(utc_db, "A", "Z", now=NOW)
    assert settings.get(utc_db, settings.DECK_PRESET_NAMES) == {"Z": "p"}
    assert settings.effective(utc_db, "Z::x").values["new_per_day"] == 2
    card_actions.undo(utc_db)  # the rename, with the preset choice
    assert settings.get(utc_db, settings.DECK_PRESET_NAMES) == {"A": "p"}
    decks.delete(utc_db, "A", delete_cards=True, now=NOW)
    assert settings.get(utc_db, settings.DECK_PRESET_NAMES) is None
    card_actions.undo(utc_db)
    assert settings.get(utc_db, settings.DECK_PRESET_NAMES) == {"A": "p"}
    assert settings.effective(utc_db, "A::x").values["new_per_day"] == 2
