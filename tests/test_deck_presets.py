"""Per-deck presets: effective settings by the ``::`` hierarchy, and scheduling with them.

References: the ``fsrs`` package's Scheduler (intervals), Anki's deck options
(what a preset holds; subdecks inherit here, key by key).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from studylog.errors import NotFoundError
from studylog.scheduling import settings as defs
from studylog.scheduling.settings import SettingError
from studylog.services import cards, review, settings

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    settings.update(db, {"enable_fuzz": False})
    return db


def _card(db, deck: str, front: str = "q") -> int:
    return cards.create(db, front, "a", deck=deck, now=NOW)[0].id


def test_deck_path_and_membership():
    assert defs.deck_path("딥러닝::RNN::LSTM") == ("딥러닝", "딥러닝::RNN", "딥러닝::RNN::LSTM")
    assert defs.is_in_deck("딥러닝::RNN", "딥러닝") and defs.is_in_deck("딥러닝", "딥러닝")
    assert not defs.is_in_deck("딥러닝2", "딥러닝")


def test_a_subdeck_inherits_its_parents_preset_key_by_key(utc_db):
    _card(utc_db, "딥러닝::RNN::LSTM")
    settings.update(utc_db, {"new_per_day": 30, "reviews_per_day": 150})
    settings.update_deck(utc_db, "딥러닝", {"new_per_day": 5, "desired_retention": 0.85})
    settings.update_deck(utc_db, "딥러닝::RNN", {"desired_retention": 0.95})

    child = settings.effective(utc_db, "딥러닝::RNN::LSTM")
    assert child.values["new_per_day"] == 5 and child.sources["new_per_day"] == "딥러닝"
    assert child.values["desired_retention"] == 0.95
    assert child.sources["desired_retention"] == "딥러닝::RNN"
    assert (
        child.values["reviews_per_day"] == 150 and child.sources["reviews_per_day"] == "collection"
    )
    assert child.own == {}
    assert child.limits.new_per_day == 5 and child.config.desired_retention == 0.95

    parent = settings.effective(utc_db, "딥러닝")
    assert parent.own == {"new_per_day": 5, "desired_retention": 0.85}
    other = settings.effective(utc_db, "Default")
    assert other.values["new_per_day"] == 30 and other.values["desired_retention"] == 0.9

    # Cleared on the parent: the child inherits the collection's value again.
    settings.reset_deck(utc_db, "딥러닝", "new_per_day")
    assert settings.effective(utc_db, "딥러닝::RNN::LSTM").values["new_per_day"] == 30


def _history_by_fsrs(retention: float, ratings_at: list[tuple[int, datetime]]) -> fsrs.Card:
    scheduler = fsrs.Scheduler(desired_retention=retention, enable_fuzzing=False)
    card = fsrs.Card(due=NOW)
    for rating, at in ratings_at:
        card, _ = scheduler.review_card(card, fsrs.Rating(rating), review_datetime=at)
    return card


def test_retention_of_each_deck_schedules_its_cards_as_the_fsrs_package(utc_db):
    a, b = _card(utc_db, "A"), _card(utc_db, "B")
    settings.update_deck(utc_db, "A", {"desired_retention": 0.8})
    settings.update_deck(utc_db, "B", {"desired_retention": 0.95})
    history = [(3, NOW), (3, NOW + timedelta(minutes=10)), (3, NOW + timedelta(days=4))]
    for card_id in (a, b):
        for rating, at in history:
            review.answer(utc_db, card_id, rating, now=at)
    due_a, due_b = cards.get(utc_db, a).due, cards.get(utc_db, b).due
    expect_a, expect_b = _history_by_fsrs(0.8, history), _history_by_fsrs(0.95, history)
    assert abs((due_a - expect_a.due).total_seconds()) < 1
    assert abs((due_b - expect_b.due).total_seconds()) < 1
    last = history[-1][1]
    assert (due_a - last).days > (due_b - last).days >= 1  # lower retention: longer interval
    # The preview buttons use the card's deck too.
    good_a = next(p for p in review.preview(utc_db, a, now=due_a) if p.rating == 3)
    good_b = next(p for p in review.preview(utc_db, b, now=due_b) if p.rating == 3)
    assert good_a.seconds > good_b.seconds


def test_a_preset_change_reschedules_only_the_cards_that_inherit_it(utc_db):
    ids = {deck: _card(utc_db, deck) for deck in ("A", "A::x", "B")}
    for card_id in ids.values():
        review.answer(utc_db, card_id, 3, now=NOW)
        review.answer(utc_db, card_id, 3, now=NOW + timedelta(minutes=10))
    before = {d: cards.get(utc_db, i) for d, i in ids.items()}
    done = settings.update_deck(utc_db, "A", {"desired_retention": 0.8})
    assert done.reschedule is not None and done.reschedule.due_changed == 2
    after = {d: cards.get(utc_db, i) for d, i in ids.items()}
    days = fsrs.Scheduler(desired_retention=0.8, enable_fuzzing=False)._next_interval(
        stability=before["A"].stability
    )
    for deck in ("A", "A::x"):
        assert after[deck].due == before[deck].last_review + timedelta(days=days)
    assert after["B"].due == before["B"].due
    # A collection change does not move the cards whose deck sets the key.
    settings.update(utc_db, {"desired_retention": 0.95})
    assert cards.get(utc_db, ids["A"]).due == after["A"].due
    assert cards.get(utc_db, ids["B"]).due != before["B"].due


def test_bad_keys_values_and_decks_change_nothing(utc_db):
    _card(utc_db, "A")
    settings.update_deck(utc_db, "A", {"new_per_day": 7})
    stored = settings.get(utc_db, settings.DECK_PRESETS)
    with pytest.raises(SettingError, match=r"^desired_retention: '?1\.2'? is not allowed"):
        settings.update_deck(utc_db, "A", {"new_per_day": 3, "desired_retention": 1.2})
    with pytest.raises(SettingError, match="^timezone: only the collection has this setting"):
        settings.update_deck(utc_db, "A", {"timezone": "Asia/Seoul"})
    with pytest.raises(SettingError, match="^nope: no such setting"):
        settings.update_deck(utc_db, "A", {"nope": 1})
    with pytest.raises(NotFoundError, match="no deck named 'Z'"):
        settings.update_deck(utc_db, "Z", {"new_per_day": 3})
    assert settings.get(utc_db, settings.DECK_PRESETS) == stored == {"A": {"new_per_day": 7}}


def test_renaming_and_deleting_a_deck_moves_its_presets(utc_db):
    _card(utc_db, "A::x")
    _card(utc_db, "B")
    settings.update_deck(utc_db, "A", {"new_per_day": 7})
    settings.update_deck(utc_db, "A::x", {"new_per_day": 3})
    with utc_db.write() as session:
        settings.rename_deck_presets_in(session, "A", "C")
    assert settings.get(utc_db, settings.DECK_PRESETS) == {
        "C": {"new_per_day": 7},
        "C::x": {"new_per_day": 3},
    }
    with utc_db.write() as session:
        settings.delete_deck_presets_in(session, "C")
    assert settings.get(utc_db, settings.DECK_PRESETS) is None


def test_deck_keys_are_the_scheduling_ones():
    assert "day_start_hour" not in defs.DECK_KEYS and "timezone" not in defs.DECK_KEYS
    assert {"desired_retention", "learning_steps", "new_per_day", "leech_action"} <= set(
        defs.DECK_KEYS
    )
