"""Per-deck daily limits in the review queue (Anki v3): a deck's limits cap it and its
subdecks; the limits of the deck reviewed (the collection's) cap everything.

Checked against Anki's own scheduler (the ``anki`` package, v3): the same decks,
presets and new cards, reviewed from a parent deck ``R`` whose limits play the
collection's part, must give the same count of new cards.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from studylog.scheduling.card import CardRow
from studylog.scheduling.decks import SubdeckLimits
from studylog.scheduling.queue import DailyQueue, DayLog
from studylog.scheduling.settings import DailyLimits
from studylog.services import cards, review, settings

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = NOW + timedelta(hours=19)

# (collection new_per_day, {deck: own new_per_day}, {deck: new cards})
SCENARIOS = [
    (5, {"P": 2}, {"P": 3, "P::c": 3, "Q": 1}),  # P::c inherits 2; P caps P + P::c at 2
    (5, {"P": 3, "P::c": 1}, {"P": 3, "P::c": 3, "Q": 1}),  # P::c 1, P 3 in all
    (4, {"Q": 9}, {"P": 3, "Q": 6}),  # the collection's 4 caps a deck allowed 9
    (20, {"P::c": 0}, {"P": 2, "P::c": 5}),  # a subdeck with no new cards today
    # (new, reviews) a day: new cards count against a subdeck's review limit (v3), 2 here
    (20, {"P::c": (5, 2)}, {"P": 2, "P::c": 5}),
    (3, {"P": (9, 1)}, {"P": 2, "P::c": 5, "Q": 4}),  # P's review limit caps P::c as well
]


def _split(own: int | tuple[int, int]) -> tuple[int, int | None]:
    """A scenario's preset: (new cards a day, reviews a day or None for the default)."""
    return own if isinstance(own, tuple) else (own, None)


def anki_new_count(
    collection_new: int,
    own: dict[str, int | tuple[int, int]],
    counts: dict[str, int],
    ignore: bool = True,
) -> int:
    """Anki's v3 count of new cards when deck R (limits = the collection's) is reviewed."""
    anki_collection = pytest.importorskip("anki.collection")
    col = anki_collection.Collection(os.path.join(tempfile.mkdtemp(), "c.anki2"))
    try:
        col.set_config("newCardsIgnoreReviewLimit", ignore)
        default = col.decks.get_config(1)
        default["new"]["perDay"] = collection_new
        col.decks.update_config(default)
        root = col.decks.id("R")
        decks = sorted(set(counts) | set(own) | {"P", "Q"})
        for name in decks:  # studylog's inheritance: the nearest preset on the path
            nearest = next((own[a] for a in reversed(_path(name)) if a in own), None)
            did = col.decks.id(f"R::{name}")
            if nearest is not None:
                conf_id = col.decks.add_config_returning_id(f"p-{name}")
                conf = col.decks.get_config(conf_id)
                conf["new"]["perDay"], reviews = _split(nearest)
                if reviews is not None:
                    conf["rev"]["perDay"] = reviews
                col.decks.update_config(conf)
                deck = col.decks.get(did)
                deck["conf"] = conf_id
                col.decks.save(deck)
        model = col.models.by_name("Basic")
        for name, n in counts.items():
            did = col.decks.id(f"R::{name}")
            for i in range(n):
                note = col.new_note(model)
                note["Front"] = f"{name} {i}"
                col.add_note(note, did)
        col.decks.select(root)
        return col.sched.counts()[0]
    finally:
        col.close()


def _path(deck: str) -> list[str]:
    parts = deck.split("::")
    return ["::".join(parts[: i + 1]) for i in range(len(parts))]


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def _fill(db, collection_new: int, own: dict, counts: dict[str, int], ignore: bool = True) -> None:
    at = NOW - timedelta(days=1)
    for name, n in counts.items():
        for i in range(n):
            cards.create(db, f"{name} {i}", "a", deck=name, now=at + timedelta(seconds=i))
    settings.update(db, {"new_per_day": collection_new, "new_ignores_review_limit": ignore})
    for name, preset in own.items():
        new, reviews = _split(preset)
        values = {"new_per_day": new} | ({} if reviews is None else {"reviews_per_day": reviews})
        settings.update_deck(db, name, values)


@pytest.mark.parametrize("ignore", [True, False])
@pytest.mark.parametrize(("collection_new", "own", "counts"), SCENARIOS)
def test_new_counts_with_deck_limits_agree_with_anki(utc_db, collection_new, own, counts, ignore):
    _fill(utc_db, collection_new, own, counts, ignore)
    expected = anki_new_count(collection_new, own, counts, ignore)
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.counts(now=NOW).new == expected
    # ... and the session shows exactly that many new cards, within each deck's limit.
    shown: Counter[str] = Counter()
    at = NOW
    while (card := session.next_card(now=at)) is not None:
        if card.reps == 0:
            shown[card.deck] += 1
        session.answer(card.id, 4, now=at)  # Easy: out of today's queue
        at += timedelta(seconds=5)
        assert session.counts(now=at).new == expected - sum(shown.values())
    assert sum(shown.values()) == expected
    found = settings.deck_settings(utc_db)
    for deck in found.presets:
        in_branch = sum(n for d, n in shown.items() if d == deck or d.startswith(deck + "::"))
        limits = found.limits(deck)
        cap = limits.new_per_day if ignore else min(limits.new_per_day, limits.reviews_per_day)
        assert in_branch <= cap
    session.close()


def test_a_child_inherits_its_parents_new_per_day_in_the_queue(utc_db):
    _fill(utc_db, 20, {"P": 2}, {"P::c": 5, "Q": 3})
    assert settings.effective(utc_db, "P::c").values["new_per_day"] == 2
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.counts(now=NOW).new == 2 + 3
    session.close()


def test_without_presets_the_queue_is_as_before(utc_db):
    _fill(utc_db, 4, {}, {"P": 3, "Q": 3})
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.queue.subdecks is None and session.counts(now=NOW).new == 4
    session.close()


def test_deck_caps_count_todays_answers_in_subdecks():
    log = DayLog(NOW, END)
    limits = {"A": DailyLimits(new_per_day=3), "A::x": DailyLimits(new_per_day=1)}
    caps = SubdeckLimits(
        None, lambda d: limits.get(d, DailyLimits()), log, new_ignores_review_limit=False
    )
    assert caps.path("A::x") == ("A", "A::x")
    assert caps.room("A::x", "new")
    log.add(1, NOW, True, False, None, "A::x")
    assert not caps.room("A::x", "new") and caps.left("A").new == 2
    # v3: a new card introduced uses up the review limit too (200 - 1)
    assert caps.left("A").review == 199
    log.add(2, NOW, True, False, None, "A")
    log.add(3, NOW, True, False, None, "A")
    assert not caps.room("A", "new") and caps.room("B", "new")
    log.drop(3)
    assert caps.left("A").new == 1
    # Reviewing A itself: A's limits are the queue's; only A::x caps below it.
    below = SubdeckLimits(
        "A",
        lambda d: limits.get(d, DailyLimits()),
        DayLog(NOW, END),
        new_ignores_review_limit=False,
    )
    assert below.path("A::x") == ("A::x",) and below.path("A") == ()
    assert below.fit_counts({"A": 5, "A::x": 5}, "new", 100) == 5 + 1


def test_a_review_limit_on_a_deck_caps_its_review_cards():
    limits = {"A": DailyLimits(reviews_per_day=1)}
    log = DayLog(NOW, END)
    caps = SubdeckLimits(
        None, lambda d: limits.get(d, DailyLimits()), log, new_ignores_review_limit=False
    )
    review_rows = [(1, None, "A"), (2, None, "A"), (3, None, "B")]
    queue = DailyQueue(NOW.date(), END, DailyLimits(), [], review_rows, log, lambda c, w: [], caps)
    assert queue.counts(NOW, lambda n: 0).review == 2
    table = {}
    for cid in (1, 2, 3):
        table[cid] = CardRow(
            cid, None, 2, None, 3.0, 5.0, NOW - timedelta(hours=1), NOW - timedelta(days=3),
            2, 0, False, None,
        )  # fmt: skip
    shown = []
    while (card := queue.pick(NOW, table.get)) is not None:
        shown.append(card.id)
        log.add(10 + card.id, NOW, False, True, None, "A" if card.id < 3 else "B")
        queue.answered(card)
    assert shown == [1, 3]


def _learning_card(db, deck: str, due: datetime) -> int:  # noqa: ANN001
    """A card answered an hour ago, in learning, due at ``due``."""
    from studylog.storage.models import Card

    (made,) = cards.create(db, f"learning {due:%H%M}", "a", deck=deck, now=NOW - timedelta(days=1))
    with db.write() as session:
        card = session.get(Card, made.id)
        card.state, card.step, card.reps = 1, 0, 1
        card.stability, card.difficulty = 1.0, 5.0
        card.last_review, card.due = NOW - timedelta(hours=1), due
    return made.id


def test_tree_counts_follow_writes_elsewhere_and_the_learn_ahead_limit(utc_db):
    _fill(utc_db, 20, {"P": 2}, {"P::c": 5, "Q": 3})
    _learning_card(utc_db, "Q", NOW + timedelta(minutes=30))
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.queue.subdecks is not None
    first = session.counts(now=NOW)
    assert (first.new, first.learning) == (2 + 3, 0)  # P caps P::c at 2; the card is 30 min off
    # Another connection adds a new card to Q: counted at once (no answer in between).
    cards.create(utc_db, "Q extra", "a", deck="Q", now=NOW - timedelta(hours=1))
    assert session.counts(now=NOW + timedelta(minutes=1)).new == 2 + 4
    # 11 minutes later the learning card is within Anki's 20-minute learn-ahead limit.
    assert session.counts(now=NOW + timedelta(minutes=9)).learning == 0
    assert session.counts(now=NOW + timedelta(minutes=11)).learning == 1
    session.close()


@pytest.mark.sqlite_only
def test_tree_counts_are_built_once_while_nothing_changes(utc_db, monkeypatch):
    from studylog.services import deck_tree

    _fill(utc_db, 20, {"P": 2}, {"P::c": 5, "Q": 3})
    session = review.ReviewSession(utc_db, now=NOW)
    built = []
    real = deck_tree.counts_in
    monkeypatch.setattr(deck_tree, "counts_in", lambda *a: built.append(1) or real(*a))
    for minute in range(5):
        assert session.counts(now=NOW + timedelta(minutes=minute)).new == 5
    assert len(built) == 1
    card = session.next_card(now=NOW)
    session.answer(card.id, 4, now=NOW)  # the session's own write: built again
    assert session.counts(now=NOW).new == 4 and len(built) == 2
    settings.update_deck(utc_db, "Q", {"new_per_day": 1})  # a preset changed elsewhere
    assert len(built) == 2
    # P's 2 and Q's 1 now, less the card just answered in one of them.
    assert session.counts(now=NOW).new == 2 and len(built) == 3
    session.close()
