"""The browser's search agrees with Anki's own search on the same cards.

The same eight cards are built twice: in a studylog database and, with Anki's
own code (the ``anki`` package, headless), in an Anki collection: card type and
queue, due day, interval, reps, lapses, FSRS memory state, decks, tags, review
log and creation time. Then every search in :data:`QUERIES` is run by both
(``col.find_cards``) and must find the same cards. Both read the study day from
the process's time zone and a 04:00 day start, at the real current time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from studylog.services import browse, cards
from studylog.storage.models import Card, Review

pytest.importorskip("anki")

DAY = timedelta(days=1)
MIN = timedelta(minutes=1)
DECAY = 0.1542  # FSRS-6's default w20, as the fsrs package's default parameters


@dataclass
class Role:
    front: str
    back: str
    deck: str
    tags: list[str]
    kind: str  # new, learn, review, relearn
    queue: str = "normal"  # normal, suspended, buried
    due: timedelta = timedelta(0)  # from now
    last: timedelta | None = None  # since the last review
    stability: float | None = None
    difficulty: float | None = None
    reps: int = 0
    lapses: int = 0
    added: timedelta = 40 * DAY  # ago
    answers: list[tuple[timedelta, int]] = field(default_factory=list)  # (ago, rating)


ROLES = {
    "new": Role("어텐션 가중치의 합은?", "항상 1 🧠", "딥러닝::8장", ["attention"], "new"),
    "review": Role(
        "LSTM gates",
        "forget, input, output",
        "딥러닝::RNN",
        ["rnn::lstm"],
        "review",
        due=5 * DAY,
        last=10 * DAY,
        stability=20.0,
        difficulty=4.0,
        reps=5,
        lapses=1,
        answers=[(40 * DAY, 3), (10 * DAY, 3)],
    ),
    "learning": Role(
        "GRU gates",
        "reset, update",
        "딥러닝::RNN",
        ["rnn"],
        "learn",
        due=30 * MIN,
        last=5 * MIN,
        stability=0.5,
        difficulty=6.0,
        reps=1,
        answers=[(5 * MIN, 1)],
    ),
    "relearning": Role(
        "softmax(x)_i",
        "exp(x_i)/sum",
        "Default",
        [],
        "relearn",
        due=-20 * MIN,
        last=30 * MIN,
        stability=2.0,
        difficulty=8.5,
        reps=9,
        lapses=3,
        answers=[(30 * DAY, 3), (30 * MIN, 1)],
    ),
    "suspended": Role(
        "Dropout rate",
        "p",
        "딥러닝",
        ["leech"],
        "review",
        queue="suspended",
        due=-17 * DAY,
        last=20 * DAY,
        stability=3.0,
        difficulty=9.0,
        reps=12,
        lapses=8,
        answers=[(20 * DAY, 3)],
    ),
    "buried": Role(
        "Batch norm",
        "normalise per batch",
        "딥러닝러닝",
        [],
        "review",
        queue="buried",
        due=-1 * DAY,
        last=4 * DAY,
        stability=5.0,
        difficulty=5.0,
        reps=3,
        answers=[(4 * DAY, 3)],
    ),
    "overdue": Role(
        "tanh'(x)",
        "1 - tanh(x)^2",
        "Default",
        [],
        "review",
        due=-3 * DAY,
        last=6 * DAY,
        stability=1.5,
        difficulty=7.0,
        reps=4,
        lapses=2,
        answers=[(6 * DAY, 2)],
    ),
    "future": Role(
        "50% off",
        "a_b literal",
        "Default",
        [],
        "review",
        due=200 * DAY,
        last=30 * DAY,
        stability=300.0,
        difficulty=2.0,
        reps=6,
        added=1 * DAY,
        answers=[(380 * DAY, 3), (30 * DAY, 4)],  # 380: beyond rated:'s 365,
    ),
}

# studylog's search, and Anki's when it is spelled differently
QUERIES: list[tuple[str, str | None]] = [
    ("", None),
    ("gates", None),
    ("lstm OR gru", None),
    ("gates -lstm", None),
    ('"forget, input"', None),
    ("어텐션", None),
    ("🧠", None),
    ("g_u", None),
    ("tanh*2", None),
    ("50%", None),
    (r"a\_b", None),
    ("deck:딥러닝", None),
    ("deck:딥러닝::rnn", None),
    ("deck:딥러닝*", None),
    ("deck:default", None),
    ("-deck:딥러닝", None),
    ("tag:rnn", None),
    ("tag:RNN::*", None),
    ("tag:none", None),
    ("is:new", None),
    ("is:learn", None),
    ("is:review", None),
    ("is:due", None),
    ("is:suspended", None),
    ("is:buried", None),
    ("is:leech", "tag:leech"),
    ("-is:new -is:suspended", None),
    ("prop:ivl>=10", None),
    ("prop:ivl>100", None),
    ("prop:ivl=3", None),
    ("prop:due=5", None),
    ("prop:due<0", None),
    ("prop:due=0", None),
    ("prop:due>=-3", None),
    ("prop:reps>5", None),
    ("prop:reps=0", None),
    ("prop:lapses>=3", None),
    ("prop:lapses!=0", None),
    ("prop:s>10", None),
    ("-prop:s>10", None),
    ("prop:s<=2", None),
    ("prop:d>0.6", None),
    ("prop:d<0.4", None),
    ("prop:r<0.8", None),
    ("prop:r>0.95", None),
    ("prop:r<0.95", None),
    ("prop:r<0.95 OR is:new", None),  # prop:r under OR: the SQL form
    ("-prop:r>0.95", None),
    ("rated:1", None),
    ("rated:1:1", None),
    ("rated:7:2", None),
    ("rated:7", None),
    ("rated:45:3", None),
    ("rated:400:3", None),  # no 365-day cap in current Anki
    ("introduced:1", None),
    ("introduced:7", None),
    ("introduced:35", None),
    ("added:2", None),
    ("added:41", None),
    ("deck:딥러닝 (is:due OR is:learn)", None),
    ("(tag:rnn OR tag:leech) prop:lapses>0", None),
    ("-(deck:default OR is:new) prop:s>2", None),
]


def _build_studylog(db, now: datetime) -> dict[int, str]:  # noqa: ANN001
    roles = {}
    for name, role in ROLES.items():
        (made,) = cards.create(
            db, role.front, role.back, deck=role.deck, tags=role.tags, now=now - role.added
        )
        roles[made.id] = name
        state = {"new": 1, "learn": 1, "review": 2, "relearn": 3}[role.kind]
        with db.write() as session:
            card = session.get(Card, made.id)
            card.state = state
            card.due = now + role.due if role.kind != "new" else now - role.added
            card.last_review = now - role.last if role.last is not None else None
            card.stability, card.difficulty = role.stability, role.difficulty
            card.reps, card.lapses = role.reps, role.lapses
            card.suspended = role.queue == "suspended"
            if role.queue == "buried":
                card.buried_until = browse.context_in(session, now).today + DAY
            for ago, rating in role.answers:
                session.add(
                    Review(
                        card_id=made.id,
                        rating=rating,
                        reviewed_at=now - ago,
                        state_before=2,
                        state_after=state,
                    )
                )
    return roles


def _build_anki(col, now: datetime) -> dict[int, str]:  # noqa: ANN001
    from anki.cards import FSRSMemoryState

    model = col.models.by_name("Basic")
    today = col.sched.today
    roles = {}
    for index, (name, role) in enumerate(ROLES.items()):
        note = col.new_note(model)
        note["Front"], note["Back"] = role.front, role.back
        note.tags = role.tags
        col.add_note(note, col.decks.id(role.deck))
        card = col.get_card(note.card_ids()[0])
        if role.kind != "new":
            card.type = {"learn": 1, "review": 2, "relearn": 3}[role.kind]
            if role.kind == "review":
                card.queue = 2
                card.due = today + round(role.due / DAY)
                card.ivl = round((role.due + role.last) / DAY)
            else:
                card.queue = 1
                card.due = int((now + role.due).timestamp())
                card.ivl = 1 if role.kind == "relearn" else 0
            card.memory_state = FSRSMemoryState(
                stability=role.stability, difficulty=role.difficulty
            )
            card.decay = DECAY
            card.last_review_time = int((now - role.last).timestamp())
        card.queue = {"suspended": -1, "buried": -3}.get(role.queue, card.queue)
        card.reps, card.lapses = role.reps, role.lapses
        col.update_card(card)
        # Anki's card id is its creation time in ms (added:N reads it)
        new_id = int((now - role.added).timestamp() * 1000) + index
        col.db.execute("update cards set id = ? where id = ?", new_id, card.id)
        roles[new_id] = name
        for ago, rating in role.answers:
            col.db.execute(
                "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
                "values (?, ?, -1, ?, 1, 0, 2500, 3000, 1)",
                int((now - ago).timestamp() * 1000) + index,
                new_id,
                rating,
            )
    return roles


@pytest.fixture(scope="module")
def anki_collection(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from anki.collection import Collection

    col = Collection(str(tmp_path_factory.mktemp("anki") / "collection.anki2"))
    assert col.get_config("rollover", 4) == 4
    now = datetime.now(UTC).replace(microsecond=0)
    roles = _build_anki(col, now)
    yield col, roles, now
    col.close()


@pytest.fixture
def studylog_collection(db, anki_collection):  # noqa: ANN001, ANN201
    _col, _roles, now = anki_collection
    return _build_studylog(db, now), now


@pytest.mark.parametrize(("query", "anki_query"), QUERIES)
def test_studylog_finds_what_anki_finds(
    db,
    anki_collection,
    studylog_collection,
    query: str,
    anki_query: str | None,  # noqa: ANN001
) -> None:
    col, anki_roles, _ = anki_collection
    roles, now = studylog_collection
    ctx_now = datetime.now(UTC)  # Anki searches at the real time too
    assert ctx_now - now < timedelta(minutes=5)
    theirs = sorted(anki_roles[cid] for cid in col.find_cards(anki_query or query))
    page = browse.search(db, query, limit=100, now=ctx_now)
    ours = sorted(roles[row.id] for row in page.rows)
    assert ours == theirs
    assert theirs, f"{query!r} finds nothing in Anki either: it checks nothing"
