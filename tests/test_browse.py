"""The card browser's search over real cards: each key, sorting, prop:r with NumPy, card info, CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import fsrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from studylog.cardsearch import SearchSyntaxError, render
from studylog.services import browse, cards, review
from studylog.services import settings as settings_service
from studylog.storage.models import Card, Review
from tests.conftest import NOW
from tests.test_cardsearch import _trees

pytestmark = pytest.mark.both_backends

DAY = timedelta(days=1)
TODAY = date(2026, 11, 21)  # NOW is 10:00 UTC, after the 04:00 day start


def _set(db, card_id: int, **values) -> None:  # noqa: ANN001
    with db.write() as session:
        card = session.get(Card, card_id)
        for key, value in values.items():
            setattr(card, key, value)


def _review(db, card_id: int, at: datetime, rating: int) -> None:  # noqa: ANN001
    with db.write() as session:
        session.add(
            Review(
                card_id=card_id,
                rating=rating,
                reviewed_at=at,
                state_before=1,
                state_after=2,
                stability_after=1.0,
                difficulty_after=5.0,
            )
        )


@pytest.fixture
def collection(db):  # noqa: ANN001
    """Eight cards in named roles, as the browser tests need them (ids by role)."""
    settings_service.put(db, settings_service.TIMEZONE, "UTC")
    made = {}

    def add(role: str, front: str, back: str, deck: str, tags=(), concept=None) -> int:  # noqa: ANN001
        (c,) = cards.create(db, front, back, deck=deck, tags=tags, now=NOW - 40 * DAY)
        made[role] = c.id
        return c.id

    add("new", "어텐션 가중치의 합은?", "항상 1 🧠", "딥러닝::8장", ["attention"])
    add("review", "LSTM gates", "forget, input, output", "딥러닝::RNN", ["rnn::lstm"])
    add("learning", "GRU gates", "reset, update", "딥러닝::RNN", ["rnn"])
    add("relearning", "softmax(x)_i", "exp(x_i)/sum", "Default")
    add("suspended", "Dropout rate", "p", "딥러닝", ["leech"])
    add("buried", "Batch norm", "normalise per batch", "딥러닝러닝")
    add("overdue", "tanh'(x)", "1 - tanh(x)^2", "Default")
    add("future", "50% off", "a_b literal", "Default")
    # review: last answered 10 days ago, due in 5 days (interval 15), S 20, D 4
    _set(
        db,
        made["review"],
        state=2,
        stability=20.0,
        difficulty=4.0,
        reps=5,
        lapses=1,
        last_review=NOW - 10 * DAY,
        due=NOW + 5 * DAY,
    )
    _set(
        db,
        made["learning"],
        state=1,
        step=1,
        stability=0.5,
        difficulty=6.0,
        reps=1,
        last_review=NOW - timedelta(minutes=5),
        due=NOW + timedelta(minutes=30),
    )
    _set(
        db,
        made["relearning"],
        state=3,
        step=0,
        stability=2.0,
        difficulty=8.5,
        reps=9,
        lapses=3,
        last_review=NOW - timedelta(minutes=30),
        due=NOW - timedelta(minutes=20),
    )
    _set(
        db,
        made["suspended"],
        state=2,
        stability=3.0,
        difficulty=9.0,
        reps=12,
        lapses=8,
        last_review=NOW - 20 * DAY,
        due=NOW - 17 * DAY,
        suspended=True,
    )
    _set(
        db,
        made["buried"],
        state=2,
        stability=5.0,
        difficulty=5.0,
        reps=3,
        last_review=NOW - 4 * DAY,
        due=NOW - DAY,
        buried_until=TODAY + DAY,
    )
    _set(
        db,
        made["overdue"],
        state=2,
        stability=1.5,
        difficulty=7.0,
        reps=4,
        lapses=2,
        last_review=NOW - 6 * DAY,
        due=NOW - 3 * DAY,
    )
    _set(
        db,
        made["future"],
        state=2,
        stability=300.0,
        difficulty=2.0,
        reps=6,
        last_review=NOW - 30 * DAY,
        due=NOW + 200 * DAY,
        created_at=NOW - DAY,
    )
    _review(db, made["review"], NOW - 10 * DAY, 3)
    _review(db, made["overdue"], NOW - 6 * DAY, 2)
    _review(db, made["learning"], NOW - timedelta(minutes=5), 1)
    _review(db, made["relearning"], NOW - timedelta(minutes=30), 1)
    _review(db, made["relearning"], NOW - 30 * DAY, 3)
    return made


def _roles(db, made, query: str, **kw) -> list[str]:  # noqa: ANN001
    page = browse.search(db, query, now=NOW, limit=1000, **kw)
    by_id = {v: k for k, v in made.items()}
    assert page.total == len(page.rows)
    return [by_id[r.id] for r in page.rows]


EXPECTED = [
    ("", ["new", "review", "learning", "relearning", "suspended", "buried", "overdue", "future"]),
    ("gates", ["review", "learning"]),
    ("LSTM OR gru", ["review", "learning"]),
    ("gates -lstm", ["learning"]),
    ('"forget, input"', ["review"]),
    ("어텐션", ["new"]),
    ("🧠", ["new"]),
    ("g_u", ["learning"]),  # _ is one character
    ("tanh*2", ["overdue"]),
    ("50%", ["future"]),  # % is literal, not LIKE's wildcard
    (r"a\_b", ["future"]),
    ("deck:딥러닝", ["new", "review", "learning", "suspended"]),  # children, not 딥러닝러닝
    ("deck:딥러닝::rnn", ["review", "learning"]),
    ("deck:딥러닝*", ["new", "review", "learning", "suspended", "buried"]),
    ("deck:default", ["relearning", "overdue", "future"]),
    ("tag:rnn", ["review", "learning"]),  # rnn::lstm is a child tag
    ("tag:none", ["relearning", "buried", "overdue", "future"]),
    ("tag:RNN::*", ["review"]),
    ("is:new", ["new"]),
    ("is:learn", ["learning", "relearning"]),
    ("is:review", ["review", "relearning", "suspended", "buried", "overdue"] + ["future"]),
    ("is:due", ["relearning", "overdue"]),  # learning is due in 30 minutes
    ("is:suspended", ["suspended"]),
    ("is:buried", ["buried"]),
    ("is:leech", ["suspended"]),
    ("prop:ivl=15", ["review"]),
    ("prop:ivl>=100", ["future"]),
    ("prop:due=5", ["review"]),
    ("prop:due<0", ["overdue"]),  # suspended and buried are not in the queue
    ("prop:due=0", ["learning", "relearning"]),
    ("prop:reps>5", ["relearning", "suspended", "future"]),
    ("prop:lapses>=3", ["relearning", "suspended"]),
    ("prop:s>10", ["review", "future"]),
    ("-prop:s>10", ["learning", "relearning", "suspended", "buried", "overdue"]),  # not new
    ("prop:d>0.6", ["relearning", "suspended", "overdue"]),  # D > 6.4
    ("rated:1", ["learning", "relearning"]),
    ("rated:1:1", ["learning", "relearning"]),
    ("rated:7:2", ["overdue"]),
    ("rated:7", ["learning", "relearning", "overdue"]),
    ("introduced:7", ["learning", "overdue"]),  # relearning's first answer is 30 days old
    ("added:2", ["future"]),
    (
        "added:41",
        ["new", "review", "learning", "relearning", "suspended", "buried", "overdue", "future"],
    ),
]


@pytest.mark.parametrize(("query", "roles"), EXPECTED)
def test_search_keys(db, collection, query: str, roles: list[str]) -> None:  # noqa: ANN001
    assert _roles(db, collection, query) == roles


def test_is_due_counts_learning_cards_within_the_learn_ahead_limit(db, collection) -> None:  # noqa: ANN001
    # The learning card is due in 30 minutes; 15 minutes on, within Anki's 20-minute learn-ahead.
    later = browse.search(db, "is:due", now=NOW + timedelta(minutes=15), limit=100)
    assert collection["learning"] in [r.id for r in later.rows]


def _package_r(db, card_id: int) -> float | None:  # noqa: ANN001
    """R now by the fsrs package itself (Scheduler.get_card_retrievability)."""
    with db.read() as session:
        card = session.get(Card, card_id)
        if card.last_review is None:
            return None
        config = review.config_in(session)
        return config.scheduler().get_card_retrievability(review.to_fsrs(card), NOW)


def test_retrievability_equals_the_fsrs_package(db, collection) -> None:  # noqa: ANN001
    page = browse.search(db, "", now=NOW, limit=100)
    for row in page.rows:
        expected = _package_r(db, row.id)
        if expected is None:
            assert row.retrievability is None
        else:
            assert row.retrievability == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("x", [0.0, 0.3, 0.8, 0.9, 0.95, 0.999, 1.0])
@pytest.mark.parametrize("op", ["<", ">", "<=", ">="])
def test_prop_r_numpy_and_sql_agree_with_the_package(db, collection, op: str, x: float) -> None:  # noqa: ANN001
    expected = []
    for role, card_id in collection.items():
        r = _package_r(db, card_id)
        if r is not None and {"<": r < x, ">": r > x, "<=": r <= x, ">=": r >= x}[op]:
            expected.append(role)
    top_level = _roles(db, collection, f"prop:r{op}{x}")  # NumPy
    nested = _roles(db, collection, f"prop:r{op}{x} OR prop:reps<0")  # SQL, under OR
    assert sorted(top_level) == sorted(expected)
    assert sorted(nested) == sorted(expected)


def test_prop_r_with_other_terms_and_sorted(db, collection) -> None:  # noqa: ANN001
    rs = {role: _package_r(db, cid) for role, cid in collection.items()}
    want = sorted(
        (r for r in rs.items() if r[1] is not None and r[1] < 0.95 and r[0] != "suspended"),
        key=lambda item: item[1],
    )
    got = _roles(db, collection, "prop:r<0.95 -is:suspended", sort="retrievability")
    assert got == [role for role, _ in want]
    assert _roles(
        db, collection, "-is:suspended prop:r<0.95", sort="retrievability", descending=True
    ) == [role for role, _ in reversed(want)]


SORTED = [
    ("due", False, ["new", "suspended", "overdue", "buried"]),  # new: due when added
    ("interval", True, ["future", "review", "overdue", "buried"]),  # 3 days each: ids desc
    ("stability", True, ["future", "review", "buried", "suspended"]),
    ("difficulty", False, ["future", "review", "buried", "learning"]),
    ("lapses", True, ["suspended", "relearning", "overdue", "review"]),
    ("reviews", True, ["suspended", "relearning", "future", "review"]),
    ("added", True, ["future", "overdue", "buried", "suspended"]),
]


@pytest.mark.parametrize(("sort", "descending", "first"), SORTED)
def test_sorting(db, collection, sort: str, descending: bool, first: list[str]) -> None:  # noqa: ANN001
    assert _roles(db, collection, "", sort=sort, descending=descending)[:4] == first


def test_new_cards_sort_last_by_stability_both_ways(db, collection) -> None:  # noqa: ANN001
    for descending in (False, True):
        order = _roles(db, collection, "", sort="stability", descending=descending)
        assert order[-1] == "new"
        order = _roles(db, collection, "", sort="retrievability", descending=descending)
        assert order[-1] == "new"


def test_pages(db, collection) -> None:  # noqa: ANN001
    whole = browse.search(db, "", sort="due", now=NOW, limit=100)
    second = browse.search(db, "", sort="due", now=NOW, limit=3, offset=3)
    assert second.total == 8 and [r.id for r in second.rows] == [r.id for r in whole.rows[3:6]]
    by_r = browse.search(db, "", sort="retrievability", now=NOW, limit=3, offset=3)
    whole_r = browse.search(db, "", sort="retrievability", now=NOW, limit=100)
    assert [r.id for r in by_r.rows] == [r.id for r in whole_r.rows[3:6]]


def test_bad_search_and_sort_raise_one_error(db, collection) -> None:  # noqa: ANN001
    with pytest.raises(SearchSyntaxError, match="column 6"):
        browse.search(db, "deck:", now=NOW)
    with pytest.raises(browse.InvalidInputError, match="unknown sort column 'size'"):
        browse.search(db, "", sort="size", now=NOW)


def test_card_info_lists_reviews_and_the_four_answers(db, collection) -> None:  # noqa: ANN001
    detail = browse.card_info(db, collection["relearning"], now=NOW)
    assert detail.card.state == "relearning"
    assert [(e.rating_name, e.state_after) for e in detail.reviews] == [
        ("Good", "review"),
        ("Again", "review"),
    ]
    buttons = review.preview(db, collection["relearning"], now=NOW)
    assert detail.preview == {b.label.lower(): b.seconds / 86400 for b in buttons}
    # An independent check of "good" with the package: relearning step 10 minutes done -> Review.
    with db.read() as session:
        card = session.get(Card, collection["relearning"])
        scheduler = review.config_in(session).scheduler()
        after, _ = scheduler.review_card(review.to_fsrs(card), fsrs.Rating.Good, NOW)
    assert after.state == fsrs.State.Review
    assert detail.preview["good"] >= 1.0
    assert detail.preview["again"] == pytest.approx(600 / 86400)


def test_cli_card_list_search_sort_and_json(run_cli) -> None:  # noqa: ANN001
    run_cli("card", "add", "어텐션", "합은 1", "--deck", "딥러닝::8장", "--tag", "attention")
    run_cli("card", "add", "LSTM", "게이트 3개", "--deck", "딥러닝::RNN")
    run_cli("card", "add", "other", "x", "--deck", "딥러닝러닝")
    listed = json.loads(
        run_cli("card", "list", "-s", "deck:딥러닝 -tag:attention", "--json").output
    )
    assert [c["front"] for c in listed] == ["LSTM"]
    assert listed[0]["state"] == "new" and listed[0]["retrievability"] is None
    both = json.loads(
        run_cli("card", "list", "--deck", "딥러닝", "--sort", "added", "--desc", "--json").output
    )
    assert [c["front"] for c in both] == ["LSTM", "어텐션"]
    text = run_cli("card", "list", "-s", "deck:딥러닝*").output
    assert "3 cards match; showing 1-3." in text


def test_cli_malformed_search_is_one_line(run_cli) -> None:  # noqa: ANN001
    out = run_cli("card", "list", "-s", "(deck:a OR")
    assert out.exit_code == 1
    assert out.output == "Error: search error at column 11: OR needs a term after it\n"
    out = run_cli("card", "list", "--sort", "size")
    assert out.exit_code == 2  # click's usage error lists the columns


def test_cli_card_info(run_cli, db) -> None:  # noqa: ANN001
    added = run_cli("card", "add", "어텐션 🧠", "합은 1")
    card_id = int(added.output.split()[-1].rstrip("."))
    review.answer(db, card_id, 3, now=NOW)
    info = json.loads(run_cli("card", "info", str(card_id), "--json").output)
    assert info["card"]["front"] == "어텐션 🧠" and info["card"]["state"] == "learning"
    assert [(r["rating_name"], r["state_after"]) for r in info["reviews"]] == [("Good", "learning")]
    assert set(info["preview"]) == {"again", "hard", "good", "easy"}
    assert run_cli("card", "info", "999999").output == "Error: no card with id 999999\n"
    text = run_cli("card", "info", str(card_id)).output
    assert "front: 어텐션 🧠" in text


def test_cli_sort_choices_match_the_service() -> None:
    from studylog.cli.card import SORT_CHOICES

    assert SORT_CHOICES == browse.SORTS


def test_numpy_retrievability_handles_new_cards() -> None:
    ctx = browse.SearchContext(
        now=NOW,
        today=TODAY,
        next_day_at=datetime(2026, 11, 22, 4, tzinfo=UTC),
        learn_ahead=timedelta(minutes=20),
        decay=-0.1542,
        factor=0.9 ** (1 / -0.1542) - 1,
    )
    now_ms = int(NOW.timestamp() * 1000)
    r = browse.retrievability_now(
        np.array([np.nan, 10.0, 10.0]), np.array([np.nan, now_ms, now_ms - 10 * 86_400_000]), ctx
    )
    assert np.isnan(r[0]) and r[1] == 1.0 and r[2] == pytest.approx(0.9, rel=1e-12)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=_trees)
def test_every_search_tree_runs_as_sql(db, collection, tree) -> None:  # noqa: ANN001
    """Any tree the parser can give compiles and runs; the NumPy and SQL paths agree."""
    page = browse.search(db, render(tree), now=NOW, limit=100)
    assert page.total == len(page.rows) <= 8
    nested = browse.search(db, f"({render(tree)}) OR prop:reps<0", now=NOW, limit=100)
    assert [r.id for r in nested.rows] == [r.id for r in page.rows]


def test_kind_finds_exercise_computed_cloze_and_basic_cards(db, collection) -> None:  # noqa: ANN001
    _set(db, collection["future"], kind="exercise")
    _set(db, collection["overdue"], kind="computed")
    (cloze,) = cards.create(db, "{{c1::Q}} · K", "", kind="cloze", now=NOW - 40 * DAY)
    collection["cloze"] = cloze.id
    assert _roles(db, collection, "kind:exercise") == ["future"]
    assert _roles(db, collection, "kind:COMPUTED") == ["overdue"]
    assert _roles(db, collection, "kind:cloze") == ["cloze"]
    assert _roles(db, collection, "kind:exercise OR kind:computed") == ["overdue", "future"]
    basic = ["new", "review", "learning", "relearning", "suspended", "buried"]
    assert _roles(db, collection, "kind:basic") == basic
    assert _roles(db, collection, "-kind:basic -kind:cloze") == ["overdue", "future"]
