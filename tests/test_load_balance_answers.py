"""Load balancing and easy days in the answer path: settings, fuzz range, preview = answer.

The fuzz range is the ``fsrs`` package's own: the set of intervals its
``Scheduler._get_fuzzed_interval`` can draw (``random`` swept over [0, 1)).
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import fsrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studylog.scheduling import load_balance as lb
from studylog.scheduling import settings as defs
from studylog.scheduling.card import CardRow, schedule
from studylog.scheduling.settings import SchedulerConfig, SettingError
from studylog.services import browse, cards, due_load, review
from studylog.services import settings as settings_service
from studylog.storage.models import Card
from tests.conftest import NOW

pytestmark = pytest.mark.both_backends

N, R, M = lb.EasyDay.NORMAL, lb.EasyDay.REDUCED, lb.EasyDay.MINIMUM


def package_fuzz_set(days: int, maximum: int = 36500) -> set[int]:
    """Every interval (days) the ``fsrs`` package's fuzz can give an interval of ``days``."""
    sched = fsrs.Scheduler(maximum_interval=maximum, enable_fuzzing=True)
    out = set()
    for u in np.linspace(0.0, 1.0, 4001)[:-1]:
        with mock.patch("fsrs.scheduler.random", return_value=float(u)):
            out.add(sched._get_fuzzed_interval(interval=timedelta(days=days)).days)
    return out


# --- the settings ------------------------------------------------------------------------


def test_the_two_settings_are_in_the_registry_with_ankis_defaults():
    lb_def, easy = defs.setting("load_balancing"), defs.setting("easy_days")
    assert lb_def.default is True and lb_def.kind == "bool"
    assert easy.default == ("normal",) * 7
    assert easy.parse(easy.format(easy.default)) == easy.default
    assert easy.parse("sat=reduced sun=minimum") == ("normal",) * 5 + ("reduced", "minimum")
    assert easy.parse("Saturday=minimum") == ("normal",) * 5 + ("minimum", "normal")
    assert easy.parse("normal normal normal normal normal reduced minimum") == (
        "normal",
        "normal",
        "normal",
        "normal",
        "normal",
        "reduced",
        "minimum",
    )
    assert easy.parse("") == ("normal",) * 7
    assert easy.to_stored(easy.parse("sun=minimum"))[-1] == "minimum"
    assert list(defs.SETTINGS).index("easy_days") > list(defs.SETTINGS).index("load_balancing")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("normal normal", "expected 7 days"),
        ("sat=easy", "sat = 'easy'"),
        ("someday=minimum", "unknown weekday 'someday'"),
        ("sat", "expected 7 days"),
    ],
)
def test_bad_easy_days_are_one_line_naming_the_setting(text, named):
    with pytest.raises(SettingError) as info:
        defs.setting("easy_days").parse(text)
    message = str(info.value)
    assert message.startswith("easy_days: ") and named in message and "\n" not in message


def test_setting_easy_days_is_stored_and_moves_nothing(db):
    card = cards.create(db, "질문 🧠", "답", now=NOW)[0]
    review.answer(db, card.id, 3, now=NOW)
    before = review.load_config(db)
    done = settings_service.update(
        db, {"easy_days": ("normal",) * 6 + ("minimum",), "load_balancing": False}
    )
    assert done.reschedule is None and set(done.changed) == {"easy_days", "load_balancing"}
    assert settings_service.value(db, "easy_days")[-1] == "minimum"
    assert defs.balancing_from(settings_service.values(db)) == defs.Balancing(
        False, (N,) * 6 + (M,)
    )
    assert review.load_config(db) == before


# --- the answer path: inside the fuzz range ------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(
    stability=st.floats(2.0, 60.0),
    difficulty=st.floats(1.0, 10.0),
    elapsed=st.integers(1, 60),
    rating=st.sampled_from([2, 3, 4]),
    counts=st.lists(st.integers(0, 300), min_size=lb.BALANCE_DAYS, max_size=lb.BALANCE_DAYS),
    easy=st.lists(st.sampled_from([N, R, M]), min_size=7, max_size=7),
    card_id=st.integers(1, 10**9),
    reps=st.integers(1, 50),
)
def test_a_balanced_answer_stays_inside_the_packages_fuzz_range(
    stability, difficulty, elapsed, rating, counts, easy, card_id, reps
):
    config = SchedulerConfig()
    scheduler = config.scheduler()  # no fuzz of its own
    card = CardRow(
        card_id, None, 2, None, stability, difficulty, NOW, NOW - timedelta(days=elapsed),
        reps, 0, False, None,
    )  # fmt: skip
    plain = schedule(card, rating, NOW, SchedulerConfig(enable_fuzzing=False), scheduler)
    days = (plain.due - NOW).days
    load = lb.DayLoad(NOW.date(), np.array(counts, dtype=np.int64), tuple(easy))
    got = (schedule(card, rating, NOW, config, scheduler, load).due - NOW).days
    if days < 3:
        assert got == days
    else:
        assert got in package_fuzz_set(days)


def _review_cards(db, due_days: list[int]) -> list[int]:
    """Review cards (stability 10 d, last review 10 days ago) due ``due_days`` days from NOW."""
    ids = [
        cards.create(db, f"카드 {i} 🧠", "답", now=NOW - timedelta(days=30))[0].id
        for i in range(len(due_days))
    ]
    with db.write() as session:
        for cid, d in zip(ids, due_days, strict=True):
            card = session.get(Card, cid)
            card.state, card.step, card.stability, card.difficulty = 2, None, 10.0, 5.0
            card.last_review = NOW - timedelta(days=10)
            card.due = NOW + timedelta(days=d)
            card.reps = 3
    due_load.forget()
    return ids


def test_the_answer_goes_to_the_empty_day_of_a_full_range_and_not_with_balancing_off(db):
    """Every day of a card's Good fuzz range but one has 40 cards due: the balanced answer
    lands on that one (weight 1 against 40**-2.15 / interval**3); with load balancing off
    it gets the plain fuzz day."""
    probe = _review_cards(db, [0])[0]
    settings_service.update(db, {"enable_fuzz": False})
    plain_days = round(review.preview(db, probe, now=NOW)[2].seconds / 86400)
    settings_service.update(db, {"enable_fuzz": True, "load_balancing": False})
    fuzzed = review.preview(db, probe, now=NOW)[2].seconds  # the plain fuzz
    settings_service.update(db, {"load_balancing": True})
    fuzz = sorted(package_fuzz_set(plain_days))
    assert len(fuzz) >= 3 and round(fuzzed / 86400) in fuzz
    empty = fuzz[1] if fuzz[1] != round(fuzzed / 86400) else fuzz[-2]
    _review_cards(db, [d for d in fuzz if d != empty for _ in range(40)])
    balanced = review.preview(db, probe, now=NOW)
    assert round(balanced[2].seconds / 86400) == empty
    answered = review.answer(db, probe, 3, now=NOW)
    assert answered.interval_seconds == balanced[2].seconds
    review.undo_review(db, answered.review_id)
    settings_service.update(db, {"load_balancing": False})
    assert review.preview(db, probe, now=NOW)[2].seconds == fuzzed
    assert review.answer(db, probe, 3, now=NOW).interval_seconds == fuzzed


def test_a_minimum_weekday_is_avoided_when_balancing(db):
    probe = _review_cards(db, [0])[0]
    settings_service.update(db, {"enable_fuzz": False})
    fuzz = package_fuzz_set(round(review.preview(db, probe, now=NOW)[2].seconds / 86400))
    settings_service.update(db, {"enable_fuzz": True})
    plain_days = round(review.preview(db, probe, now=NOW)[2].seconds / 86400)
    chosen_weekday = (NOW + timedelta(days=plain_days)).weekday()
    names = ["normal"] * 7
    names[chosen_weekday] = "minimum"
    settings_service.update(db, {"easy_days": tuple(names)})
    got = round(review.preview(db, probe, now=NOW)[2].seconds / 86400)
    assert got in fuzz and (NOW + timedelta(days=got)).weekday() != chosen_weekday


# --- preview = answer ----------------------------------------------------------------------


def test_preview_equals_the_answer_in_a_session_and_in_card_info(db):
    """Over many cards with an uneven load (1 to 12 cards due on each of the next 60 days),
    the interval on each button of a study session and of card info is the interval the
    answer then gives; each answer moves the counts, so the next preview sees it."""
    rng = np.random.default_rng(7)
    ids = _review_cards(db, [int(d) for d in rng.integers(0, 60, 300)])
    session = review.ReviewSession(db, now=NOW)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(pick=st.integers(0, len(ids) - 1), rating=st.sampled_from([2, 3, 4]), undo=st.booleans())
    def check(pick, rating, undo):
        cid = ids[pick]
        info = browse.card_info(db, cid, now=NOW)
        buttons = session.preview(cid, now=NOW)
        by_label = {b.label.lower(): b for b in buttons}
        assert info.preview == {k: b.seconds / 86400.0 for k, b in by_label.items()}
        if undo:  # a one-off answer on another connection, then its undo
            result = review.answer(db, cid, rating, now=NOW)
            assert result.interval_seconds == buttons[rating - 1].seconds
            review.undo_review(db, result.review_id)
        else:
            result = session.answer(cid, rating, now=NOW)
            assert result.interval_seconds == buttons[rating - 1].seconds

    check()
    session.close()


def test_the_session_counts_follow_its_answers_and_undos(db):
    """After each answer the session's counts equal a fresh count of the database."""
    rng = np.random.default_rng(3)
    ids = _review_cards(db, [int(d) for d in rng.integers(0, 40, 80)])
    session = review.ReviewSession(db, now=NOW)
    calendar = settings_service.calendar(db)
    for k, cid in enumerate(ids[:25]):
        session.answer(cid, 2 + k % 3, now=NOW)
        if k % 5 == 4:
            session.undo()
        with db.read() as s:
            fresh = due_load.count_load(s, calendar, NOW).load.counts
        assert session._load is not None
        assert session._load.load.counts.tolist() == fresh.tolist()
    session.close()
