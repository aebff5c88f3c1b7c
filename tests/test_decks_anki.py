"""The deck list's counts agree with Anki's own deck tree (``col.sched.deck_due_tree()``).

The same cards are written into a studylog database and, with Anki's own code
(the ``anki`` package, headless, v3 scheduler), into an Anki collection: new,
learning (due in 5 minutes and in 2 hours), review (overdue, due today, due in
3 days), suspended and buried cards in a three-level hierarchy, plus cards
studied today (a new card and a review card answered Easy in Anki, the same
answers as review rows in studylog). Then every deck's new / learning / review
counts must be Anki's, with the default limits and with presets where a
parent's limits cap what its subdecks add up to, new cards ignoring the review
limit or not. Both read the study day from the process's time zone with a 04:00
day start, at the real current time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from studylog.scheduling import decks as rules
from studylog.scheduling.card import LEARN_AHEAD
from studylog.scheduling.settings import DailyLimits
from studylog.services import cards, decks
from studylog.services import settings as settings_service
from studylog.storage import deck_rows
from studylog.storage.models import Card, Review

pytest.importorskip("anki")

DAY = timedelta(days=1)
MIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Group:
    deck: str
    kind: str  # new, learn, review, suspended, buried, studied_new, studied_review
    n: int
    due: timedelta = timedelta(0)  # learn: from now; review: whole days from today


GROUPS = [
    Group("딥러닝", "new", 2),
    Group("딥러닝", "review", 1, -2 * DAY),
    Group("딥러닝::RNN", "new", 4),
    Group("딥러닝::RNN", "review", 6, -1 * DAY),
    Group("딥러닝::RNN", "learn", 2, 5 * MIN),
    Group("딥러닝::RNN", "learn", 1, 2 * 60 * MIN),  # not due within the learn-ahead limit
    Group("딥러닝::RNN::LSTM", "new", 3),
    Group("딥러닝::RNN::LSTM", "review", 2),
    Group("딥러닝::RNN::LSTM", "review", 2, 3 * DAY),  # not due yet
    Group("딥러닝::RNN::LSTM", "suspended", 2),
    Group("딥러닝::RNN::LSTM", "studied_new", 1),
    Group("딥러닝::CNN", "new", 5),
    Group("딥러닝::CNN", "review", 4),
    Group("딥러닝::CNN", "buried", 1),
    Group("딥러닝::CNN", "studied_review", 2),
    Group("수학 🧮", "new", 25),
    Group("수학 🧮", "review", 3, -5 * DAY),
    Group("수학 🧮", "studied_new", 2),
]

# deck -> (new cards/day, maximum reviews/day); others use the default 20 / 200.
PRESETS = {"딥러닝": (6, 8), "딥러닝::RNN": (3, 5), "수학 🧮": (10, 200)}


def _build_studylog(db, now: datetime) -> None:  # noqa: ANN001
    today = None
    for group in GROUPS:
        for i in range(group.n):
            (made,) = cards.create(
                db, f"{group.deck} {group.kind} {i}", "a", deck=group.deck, now=now - 40 * DAY
            )
            with db.write() as session:
                if today is None:
                    today = settings_service.calendar_from(
                        settings_service.values_in(session)
                    ).day_of(now)
                card = session.get(Card, made.id)
                if group.kind == "new":
                    continue
                card.stability, card.difficulty, card.reps = 5.0, 5.0, 2
                card.last_review = now - 4 * DAY
                if group.kind == "learn":
                    card.state, card.due = 1, now + group.due
                    card.last_review = now - MIN
                    continue
                card.state, card.due = 2, now + group.due
                card.suspended = group.kind == "suspended"
                if group.kind == "buried":
                    card.buried_until = today + DAY
                if group.kind.startswith("studied"):
                    was_new = group.kind == "studied_new"
                    card.due, card.last_review = now + 4 * DAY, now - 10 * MIN
                    session.add(
                        Review(
                            card_id=card.id,
                            rating=4,
                            reviewed_at=now - 10 * MIN,
                            state_before=1 if was_new else 2,
                            last_review_before=None if was_new else now - 4 * DAY,
                            state_after=2,
                        )
                    )


def _build_anki(col, now: datetime) -> None:  # noqa: ANN001
    from anki.cards import FSRSMemoryState

    model = col.models.by_name("Basic")
    today = col.sched.today
    for group in GROUPS:
        did = col.decks.id(group.deck)
        for i in range(group.n):
            note = col.new_note(model)
            note["Front"], note["Back"] = f"{group.deck} {group.kind} {i}", "a"
            col.add_note(note, did)
            card = col.get_card(note.card_ids()[0])
            if group.kind == "new":
                continue
            if group.kind.startswith("studied"):
                if group.kind == "studied_review":
                    card.type, card.queue, card.due, card.ivl = 2, 2, today, 4
                    card.memory_state = FSRSMemoryState(stability=5.0, difficulty=5.0)
                    col.update_card(card)
                card = col.get_card(card.id)
                card.start_timer()
                states = col._backend.get_scheduling_states(card.id)
                col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=3))
                assert col.get_card(card.id).queue == 2  # Easy: a review card, not due today
                continue
            card.memory_state = FSRSMemoryState(stability=5.0, difficulty=5.0)
            if group.kind == "learn":
                card.type, card.queue, card.left = 1, 1, 1
                card.due = int((now + group.due).timestamp())
            else:
                card.type, card.queue = 2, 2
                card.due, card.ivl = today + round(group.due / DAY), 4
                card.queue = {"suspended": -1, "buried": -3}.get(group.kind, 2)
            col.update_card(card)


def _anki_counts(col) -> dict[str, tuple[int, int, int]]:  # noqa: ANN001
    out: dict[str, tuple[int, int, int]] = {}

    def walk(node, prefix: str) -> None:  # noqa: ANN001
        for child in node.children:
            name = f"{prefix}::{child.name}" if prefix else child.name
            out[name] = (child.new_count, child.learn_count, child.review_count)
            walk(child, name)

    walk(col.sched.deck_due_tree(), "")
    out.pop("Default", None)
    return out


def _set_presets(col, presets: dict[str, tuple[int, int]]) -> None:  # noqa: ANN001
    for deck, (new, rev) in presets.items():
        conf = col.decks.add_config_returning_id(f"preset {deck}")
        config = col.decks.get_config(conf)
        config["new"]["perDay"], config["rev"]["perDay"] = new, rev
        col.decks.update_config(config)
        d = col.decks.by_name(deck)
        d["conf"] = conf
        col.decks.save(d)


@pytest.fixture(scope="module")
def anki_collection(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from anki.collection import Collection

    col = Collection(str(tmp_path_factory.mktemp("anki") / "collection.anki2"))
    assert col.get_config("rollover", 4) == 4 and col.v3_scheduler()
    now = datetime.now(UTC).replace(microsecond=0)
    _build_anki(col, now)
    yield col, now
    col.close()


@pytest.fixture
def studylog_db(db, anki_collection):  # noqa: ANN001, ANN201
    _build_studylog(db, anki_collection[1])
    return db


def _ours(db, limits_of, ignore: bool) -> dict[str, tuple[int, int, int]]:  # noqa: ANN001
    now = datetime.now(UTC)
    with db.read() as session:
        calendar = settings_service.calendar_from(settings_service.values_in(session))
        day = calendar.day_of(now)
        conn = session.connection()
        counts = deck_rows.deck_counts(conn, day, calendar.end_of(day), now + LEARN_AHEAD)
        done = deck_rows.done_today(conn, calendar.start_of(day), calendar.end_of(day))
    roots = rules.build_tree(counts, done, limits_of, new_ignores_review_limit=ignore)
    return {n.name: (n.new, n.learning, n.review) for r in roots for n in r.walk()}


@pytest.mark.parametrize("ignore", [False, True])
def test_default_limits_agree_with_anki(studylog_db, anki_collection, ignore: bool) -> None:  # noqa: ANN001
    col, _now = anki_collection
    col.set_config("newCardsIgnoreReviewLimit", ignore)
    settings_service.update(studylog_db, {"new_ignores_review_limit": ignore})
    theirs = _anki_counts(col)
    listing = decks.list_decks(studylog_db)
    ours = {row.name: (row.new, row.learning, row.review) for row in listing.decks}
    assert ours == theirs
    # worked out by hand: RNN holds LSTM's cards too; 20 new a day, 2 introduced today
    assert theirs["딥러닝::RNN"] == (7, 2, 8)
    assert theirs["수학 🧮"] == (18, 0, 3)


@pytest.mark.parametrize("ignore", [False, True])
def test_presets_where_the_parent_caps_its_subdecks_agree_with_anki(
    studylog_db,
    anki_collection,
    ignore: bool,  # noqa: ANN001
) -> None:
    col, _now = anki_collection
    col.set_config("newCardsIgnoreReviewLimit", ignore)
    _set_presets(col, PRESETS)
    try:
        theirs = _anki_counts(col)
    finally:
        default = col.decks.get_config(1)
        for deck in PRESETS:
            d = col.decks.by_name(deck)
            d["conf"] = default["id"]
            col.decks.save(d)

    def limits_of(name: str) -> DailyLimits:
        new, rev = PRESETS.get(name, (20, 200))
        return DailyLimits(new_per_day=new, reviews_per_day=rev, new_ignores_review_limit=ignore)

    ours = _ours(studylog_db, limits_of, ignore)
    assert ours == theirs
    # Worked out by hand. RNN (3 new, 5 reviews a day; 1 new card done below it) shows
    # 2 new within its limit, none when the 4 or 5 reviews fill its review limit.
    assert theirs["딥러닝::RNN"] == ((2, 2, 5) if ignore else (0, 2, 4))
    # 딥러닝 (6 new, 8 reviews a day; 1 new card and 2 reviews done below it) caps what
    # its subdecks add up to: 1 + 5 + 4 = 10 reviews (or 9) and 2 + 2 + 5 new (or 7).
    assert theirs["딥러닝"] == ((5, 2, 6) if ignore else (0, 2, 5))
    assert theirs["딥러닝::CNN"] == (5, 0, 4)


@pytest.mark.parametrize("ignore", [False, True])
def test_deck_presets_through_the_service_agree_with_anki(
    studylog_db,
    anki_collection,
    ignore: bool,  # noqa: ANN001
) -> None:
    """The same limits set as studylog deck presets (``config set --deck``), read by the
    deck list service. studylog's presets are inherited by subdecks and Anki's are not,
    so the subdecks Anki leaves on its default preset get 20 / 200 of their own here."""
    col, _now = anki_collection
    col.set_config("newCardsIgnoreReviewLimit", ignore)
    _set_presets(col, PRESETS)
    try:
        theirs = _anki_counts(col)
    finally:
        default = col.decks.get_config(1)
        for deck in PRESETS:
            d = col.decks.by_name(deck)
            d["conf"] = default["id"]
            col.decks.save(d)
    settings_service.update(studylog_db, {"new_ignores_review_limit": ignore})
    own = {**PRESETS, "딥러닝::CNN": (20, 200), "딥러닝::RNN::LSTM": (20, 200)}
    for deck, (new, rev) in own.items():
        settings_service.update_deck(
            studylog_db, deck, {"new_per_day": new, "reviews_per_day": rev}
        )
    listing = decks.list_decks(studylog_db)
    assert {r.name: (r.new, r.learning, r.review) for r in listing.decks} == theirs
    assert theirs["딥러닝"] == ((5, 2, 6) if ignore else (0, 2, 5))
