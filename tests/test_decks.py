"""Decks: the tree with today's counts (Anki v3's limits), rename, move cards, delete, the CLI.

The counts are checked against numbers worked out by hand from Anki's rules
(rslib ``decks/tree.rs``); ``test_decks_anki.py`` checks the same rules against
Anki's own ``deck_due_tree``.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling import decks as rules
from studylog.scheduling.settings import DailyLimits
from studylog.services import card_actions, cards, decks, review
from studylog.services import settings as settings_service
from studylog.storage.models import Card, Review
from tests.conftest import NOW

pytestmark = pytest.mark.both_backends

DAY = timedelta(days=1)
MIN = timedelta(minutes=1)


def make(db, deck: str, kind: str, n: int = 1, *, due=None, front: str = "q") -> list[int]:  # noqa: ANN001
    """``n`` cards in ``deck``: new, learning (due in 5 min), review (due today) or
    future (a review card due in 3 days), suspended (a due review card)."""
    ids = []
    for i in range(n):
        (card,) = cards.create(db, f"{front} {deck} {kind} {i}", "a", deck=deck, now=NOW - 30 * DAY)
        ids.append(card.id)
    if kind == "new":
        return ids
    with db.write() as session:
        for cid in ids:
            card = session.get(Card, cid)
            card.last_review = NOW - 2 * DAY
            card.stability, card.difficulty, card.reps = 3.0, 5.0, 1
            card.state = 1 if kind == "learning" else 2
            default_due = {"learning": 5 * MIN, "future": 3 * DAY}.get(kind, -DAY)
            card.due = NOW + (due if due is not None else default_due)
            card.suspended = kind == "suspended"
    return ids


def answered_today(db, card_id: int, *, was_new: bool) -> None:  # noqa: ANN001
    """A review row of today for ``card_id`` (new: it had no review before)."""
    with db.write() as session:
        session.add(
            Review(
                card_id=card_id,
                rating=3,
                reviewed_at=NOW - 30 * MIN,
                state_before=1 if was_new else 2,
                last_review_before=None if was_new else NOW - 5 * DAY,
                state_after=2,
            )
        )


@pytest.fixture
def utc(db):  # noqa: ANN001, ANN201
    settings_service.update(db, {"timezone": "UTC"})
    return db


def by_name(listing: decks.DeckList) -> dict[str, decks.DeckRow]:
    return {row.name: row for row in listing.decks}


def test_tree_counts_each_deck_and_adds_subdecks(utc) -> None:  # noqa: ANN001
    db = utc
    make(db, "딥러닝", "new", 2)
    make(db, "딥러닝::RNN", "review", 3)
    make(db, "딥러닝::RNN", "learning", 1)
    make(db, "딥러닝::RNN::LSTM", "new", 4)
    make(db, "딥러닝::RNN::LSTM", "future", 2)
    make(db, "딥러닝::RNN::LSTM", "suspended", 1)
    make(db, "수학", "review", 1)
    listing = decks.list_decks(db, now=NOW)
    assert [r.name for r in listing.decks] == [
        "딥러닝",
        "딥러닝::RNN",
        "딥러닝::RNN::LSTM",
        "수학",
    ]
    rows = by_name(listing)
    lstm, rnn, top = rows["딥러닝::RNN::LSTM"], rows["딥러닝::RNN"], rows["딥러닝"]
    assert (lstm.new, lstm.learning, lstm.review, lstm.total, lstm.own) == (4, 0, 0, 7, 7)
    assert (rnn.new, rnn.learning, rnn.review, rnn.total, rnn.own) == (4, 1, 3, 11, 4)
    assert (top.new, top.learning, top.review, top.total, top.own) == (6, 1, 3, 13, 2)
    assert (lstm.short, lstm.parent, lstm.level) == ("LSTM", "딥러닝::RNN", 3)
    assert (listing.new, listing.learning, listing.review) == (6, 1, 4)


def test_cards_without_text_stay_out_of_the_counts_but_in_the_total(utc) -> None:  # noqa: ANN001
    db = utc
    (blank,) = make(db, "Imported review history", "review", 1)
    make(db, "Imported review history", "review", 1)
    with db.write() as session:
        session.get(Card, blank).front = ""
    row = by_name(decks.list_decks(db, now=NOW))["Imported review history"]
    assert (row.review, row.total) == (1, 2)


def test_limits_cap_a_deck_and_the_parent_caps_its_subdecks(utc) -> None:  # noqa: ANN001
    db = utc
    review.set_limits(db, new_per_day=5, reviews_per_day=4)
    make(db, "A", "new", 3)
    make(db, "A::B", "new", 4)
    make(db, "A::C", "new", 4)
    make(db, "A::B", "review", 3)
    make(db, "A::C", "review", 3)
    rows = by_name(decks.list_decks(db, now=NOW))
    # each subdeck within its own limits; the parent's limits cap what they add up to
    assert (rows["A::B"].new, rows["A::B"].review) == (4, 3)
    assert (rows["A::C"].new, rows["A::C"].review) == (4, 3)
    assert (rows["A"].new, rows["A"].review) == (5, 4)


def test_what_was_studied_today_uses_up_the_deck_and_its_parents(utc) -> None:  # noqa: ANN001
    db = utc
    review.set_limits(db, new_per_day=3, reviews_per_day=10)
    new_ids = make(db, "A::B", "new", 5)
    make(db, "A::C", "new", 5)
    with db.write() as session:  # two new cards of A::B were introduced today
        for cid in new_ids[:2]:
            card = session.get(Card, cid)
            card.last_review, card.state, card.due = NOW - 30 * MIN, 2, NOW + 2 * DAY
    for cid in new_ids[:2]:
        answered_today(db, cid, was_new=True)
    rows = by_name(decks.list_decks(db, now=NOW))
    assert (rows["A::B"].new, rows["A::B"].new_left) == (1, 1)  # 3 - 2 done
    assert (rows["A::C"].new, rows["A::C"].new_left) == (3, 3)
    assert (rows["A"].new, rows["A"].new_left) == (1, 1)  # A's 3 minus 2 done below it


def test_new_cards_within_what_the_review_limit_leaves_unless_they_ignore_it(utc) -> None:  # noqa: ANN001
    db = utc
    review.set_limits(db, new_per_day=20, reviews_per_day=5)
    make(db, "A", "review", 3)
    make(db, "A", "new", 10)
    row = by_name(decks.list_decks(db, now=NOW))["A"]
    assert (row.new, row.review) == (10, 3)  # studylog's default: new cards ignore it
    settings_service.update(db, {"new_ignores_review_limit": False})
    row = by_name(decks.list_decks(db, now=NOW))["A"]
    assert (row.new, row.review) == (2, 3)  # 5 - 3 reviews leaves room for 2


def test_pure_cap_matches_anki_capped() -> None:
    # Anki's NodeCountsV3::capped: reviews to the review limit, new to the new limit and
    # to what the reviews leave.
    left = rules.Remaining(new=7, review=10)
    counts = rules.Counts(new=9, learning=4, review=8, total=30)
    assert left.cap(counts, new_ignores_review_limit=False) == rules.Counts(2, 4, 8, 30)
    assert left.cap(counts, new_ignores_review_limit=True) == rules.Counts(7, 4, 8, 30)
    limits = DailyLimits(new_per_day=10, reviews_per_day=50, new_ignores_review_limit=False)
    assert rules.Remaining.of(limits, rules.Done(new=4, review=30)) == rules.Remaining(6, 16)


@pytest.mark.parametrize(
    ("name", "stored"),
    [(" 딥러닝 :: RNN ", "딥러닝::RNN"), ("a::b::c", "a::b::c"), ("🧠", "🧠")],
)
def test_normalize(name: str, stored: str) -> None:
    assert rules.normalize(name) == stored


@pytest.mark.parametrize("name", ["", "  ", "a::", "::a", "a::::b", "a\x1b[31m"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidInputError, match="deck name"):
        rules.normalize(name)


def test_rename_moves_subdecks_and_undo_brings_them_back(utc) -> None:  # noqa: ANN001
    db = utc
    make(db, "딥러닝", "new", 1)
    make(db, "딥러닝::RNN", "new", 2)
    make(db, "딥러닝러닝", "new", 1)  # a name that only starts the same: untouched
    done = decks.rename(db, "딥러닝", "DL::밑바닥2", now=NOW)
    assert done.changed == 3
    assert decks.names(db) == ["DL", "DL::밑바닥2", "DL::밑바닥2::RNN", "딥러닝러닝"]
    assert card_actions.undo(db) == done.label
    assert decks.names(db) == ["딥러닝", "딥러닝::RNN", "딥러닝러닝"]


def test_rename_refuses_what_anki_refuses(utc) -> None:  # noqa: ANN001
    db = utc
    make(db, "A", "new", 1)
    make(db, "B::C", "new", 1)
    with pytest.raises(InvalidInputError, match="own subdeck"):
        decks.rename(db, "A", "A::x")
    with pytest.raises(InvalidInputError, match="exists already"):
        decks.rename(db, "A", "B")  # B exists as the parent of B::C
    with pytest.raises(NotFoundError, match="no deck named 'Z'"):
        decks.rename(db, "Z", "Y")
    with pytest.raises(InvalidInputError, match="not a deck name"):
        decks.rename(db, "A", "x::")
    assert decks.names(db) == ["A", "B", "B::C"]


def test_move_cards_and_delete(utc) -> None:  # noqa: ANN001
    db = utc
    a = make(db, "A", "new", 2)
    b = make(db, "A::B", "review", 1)
    done = decks.move_cards(db, "A::B", "C", now=NOW)
    assert (done.matched, done.changed) == (1, 1)
    assert decks.names(db) == ["A", "C"]
    done = decks.delete(db, "A", now=NOW)
    assert decks.names(db) == ["C", "Default"]
    with db.read() as session:
        assert {session.get(Card, cid).deck for cid in a} == {"Default"}
    card_actions.undo(db)
    assert decks.names(db) == ["A", "C"]
    review_rows_before = _reviews(db)
    answered_today(db, b[0], was_new=False)
    done = decks.delete(db, "C", delete_cards=True, now=NOW)
    assert done.changed == 1 and decks.names(db) == ["A"]
    with db.read() as session:
        assert session.get(Card, b[0]) is None
    card_actions.undo(db)  # the card and its review come back
    assert decks.names(db) == ["A", "C"]
    assert len(_reviews(db)) == len(review_rows_before) + 1
    make(db, "Default", "new", 1)
    with pytest.raises(InvalidInputError, match="Default deck takes the cards"):
        decks.delete(db, "Default")
    assert decks.names(db) == ["A", "C", "Default"]


def _reviews(db) -> list[int]:  # noqa: ANN001
    with db.read() as session:
        return [r.id for r in session.query(Review)]


# --- the CLI -----------------------------------------------------------------------------


def test_cli_deck_list_json_and_table(run_cli) -> None:  # noqa: ANN001
    assert (
        run_cli(
            "card", "add", "LSTM의 게이트는?", "forget, input, output", "--deck", "딥러닝::RNN"
        ).exit_code
        == 0
    )
    assert run_cli("card", "add", "어텐션 🧠", "softmax", "--deck", "딥러닝").exit_code == 0
    result = run_cli("deck", "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    mine = [d for d in data["decks"] if d["name"].startswith("딥러닝")]
    assert [(d["name"], d["parent"], d["level"], d["new"], d["total"]) for d in mine] == [
        ("딥러닝", None, 1, 2, 2),
        ("딥러닝::RNN", "딥러닝", 2, 1, 1),
    ]
    assert set(data) == {"day", "decks", "new", "learning", "review"}
    table = run_cli("deck", "list").output
    assert "딥러닝" in table and "  RNN" in table


def test_cli_rename_delete_with_confirmation(run_cli) -> None:  # noqa: ANN001
    run_cli("card", "add", "q", "a", "--deck", "X::Y")
    result = run_cli("deck", "rename", "X", "Z")
    assert result.exit_code == 0 and "Rename deck X to Z (1 card)" in result.output
    refused = run_cli("deck", "delete", "Z", input="n\n")
    assert refused.exit_code == 1 and "Delete deck Z (1 card(s) move to Default)?" in refused.output
    assert "Z::Y" in run_cli("deck", "list", "--json").output
    done = run_cli("deck", "delete", "Z", "--yes")
    assert done.exit_code == 0 and "Delete deck Z (1 card to Default)" in done.output
    assert '"Z' not in run_cli("deck", "list", "--json").output


def test_cli_bad_input_one_line(run_cli) -> None:  # noqa: ANN001
    result = run_cli("deck", "rename", "nope", "x")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no deck named 'nope' (see: studylog deck list)"
    result = run_cli("deck", "move-cards", "nope", "a::::b")
    assert result.exit_code == 1 and "not a deck name" in result.output
    for args in (["deck", "--help"], ["deck", "list", "--help"], ["deck", "delete", "--help"]):
        assert run_cli(*args).exit_code == 0


def test_cli_today_json_has_the_queue_with_limits(run_cli) -> None:  # noqa: ANN001
    for i in range(3):
        run_cli("card", "add", f"q{i}", "a", "--deck", "X")
    today = json.loads(run_cli("today", "--json").output)
    listing = json.loads(run_cli("deck", "list", "--json").output)
    # the pack's many new cards and ours: 20 new a day (the default limit)
    assert today["queue"] == {"new": 20, "learning": 0, "review": 0}
    assert sum(d["new"] for d in listing["decks"] if d["level"] == 1) > 20  # before the cap
    assert (listing["new"], listing["learning"], listing["review"]) == (20, 0, 0)
    past = json.loads(run_cli("today", "--json", "--date", "2020-01-01").output)
    assert past["queue"] is None


@pytest.mark.parametrize("action", ["rename", "delete", "delete cards"])
def test_undoing_a_rename_or_delete_puts_the_deck_presets_back(utc, action: str) -> None:  # noqa: ANN001
    db = utc
    make(db, "딥러닝", "new", 1)
    make(db, "딥러닝::RNN", "new", 3)
    make(db, "수학", "new", 1)
    settings_service.update_deck(db, "딥러닝", {"new_per_day": 7})
    settings_service.update_deck(db, "딥러닝::RNN", {"new_per_day": 2, "reviews_per_day": 50})
    settings_service.update_deck(db, "수학", {"new_per_day": 4})  # another deck: untouched
    before = settings_service.deck_settings(db).presets
    assert decks.find(db, "딥러닝::RNN", now=NOW).new == 2
    if action == "rename":
        decks.rename(db, "딥러닝", "DL", now=NOW)
        moved = settings_service.deck_settings(db).presets
        assert moved["DL::RNN"] == {"new_per_day": 2, "reviews_per_day": 50}
        assert "딥러닝" not in moved and moved["수학"] == {"new_per_day": 4}
    else:
        decks.delete(db, "딥러닝", delete_cards=action == "delete cards", now=NOW)
        assert set(settings_service.deck_settings(db).presets) == {"수학"}
    card_actions.undo(db)
    assert settings_service.deck_settings(db).presets == before
    # the restored preset is in force again: RNN's own 2 new cards a day, under 딥러닝's 7
    assert decks.find(db, "딥러닝::RNN", now=NOW).new == 2
    assert decks.find(db, "딥러닝", now=NOW).new == 1 + 2


def test_an_undo_without_preset_changes_leaves_the_presets_alone(utc) -> None:  # noqa: ANN001
    db = utc
    make(db, "A", "new", 2)
    make(db, "수학", "new", 1)
    decks.rename(db, "A", "B", now=NOW)  # A has no preset: the step holds none
    settings_service.update_deck(db, "수학", {"new_per_day": 4})  # set after the rename
    card_actions.undo(db)
    assert decks.names(db) == ["A", "수학"]
    assert settings_service.deck_settings(db).presets == {"수학": {"new_per_day": 4}}
