"""Load balancing and easy days (Anki 24.11's load balancer), the pure functions."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studylog.scheduling import load_balance as lb
from studylog.scheduling.fuzz import fuzz_range
from tests import load_balance_numpy as ref

pytestmark = pytest.mark.both_backends

N, R, M = lb.EasyDay.NORMAL, lb.EasyDay.REDUCED, lb.EasyDay.MINIMUM
MONDAY = date(2026, 11, 30)

counts_st = st.lists(st.integers(0, 500), min_size=lb.BALANCE_DAYS, max_size=lb.BALANCE_DAYS)
easy_st = st.lists(st.sampled_from([N, R, M]), min_size=7, max_size=7)


@settings(max_examples=300, deadline=None)
@given(
    interval=st.integers(3, lb.MAX_BALANCED_INTERVAL),
    u=st.floats(0, 1, exclude_max=True),
    counts=counts_st,
    easy=easy_st,
    offset=st.integers(0, 6),
    maximum=st.integers(3, 36500),
)
def test_the_balanced_interval_stays_inside_the_fuzz_range(
    interval, u, counts, easy, offset, maximum
):
    got = lb.balanced_day(
        interval,
        u,
        maximum,
        np.array(counts),
        today=MONDAY + timedelta(days=offset),
        easy_days=easy,
    )
    lo, hi = fuzz_range(interval, maximum)
    if lo > lb.MAX_BALANCED_INTERVAL:
        assert got is None
    else:
        assert got is not None and lo <= got <= hi <= maximum


def test_short_and_long_intervals_keep_the_plain_fuzz():
    counts = np.zeros(lb.BALANCE_DAYS, dtype=np.int64)
    assert lb.balanced_day(2, 0.5, 36500, counts, today=MONDAY) is None
    assert lb.balanced_day(91, 0.5, 36500, counts, today=MONDAY) is None


def test_the_emptiest_day_is_picked_whatever_the_uniform():
    # interval 10: the package's range is 10 +- (1 + 0.15*4.5 + 0.1*3) = 8..12 (rounded)
    lo, hi = fuzz_range(10, 36500)
    assert (lo, hi) == (8, 12)
    counts = np.full(lb.BALANCE_DAYS, 100, dtype=np.int64)
    counts[11] = 0  # nothing due on day 11: weight 1 against ~1e-7 for the others
    got = {
        lb.balanced_day(10, u, 36500, counts, today=MONDAY) for u in np.linspace(0.001, 0.999, 50)
    }
    assert got == {11}


def test_weights_are_ankis_formula():
    w = ref.day_weights(np.array([8, 9, 10]), np.array([4, 2, 0]), np.array([1.0, 0.5, 1.0]))
    assert w[0] == pytest.approx(4**-2.15 * 8**-3)
    assert w[1] == pytest.approx(2**-2.15 * 9**-3 * 0.5)
    assert w[2] == 1.0


def test_fewer_cards_are_preferred_in_proportion():
    """With equal counts except one lighter day, that day is drawn more often than any other."""
    counts = np.full(lb.BALANCE_DAYS, 50, dtype=np.int64)
    counts[30] = 25
    picks = [
        lb.balanced_day(30, u, 36500, counts, today=MONDAY) for u in np.linspace(0, 1, 2000)[:-1]
    ]
    values, freq = np.unique(picks, return_counts=True)
    assert values[np.argmax(freq)] == 30
    lo, hi = fuzz_range(30, 36500)
    assert set(values.tolist()) <= set(range(lo, hi + 1))


def test_a_minimum_weekday_is_avoided_and_a_reduced_one_fills_only_to_its_share():
    counts = np.full(lb.BALANCE_DAYS, 10, dtype=np.int64)
    # every Sunday minimum: from Monday, Sunday is interval 6, 13, 20, ...
    easy = [N, N, N, N, N, N, M]
    for interval in range(5, 60):
        for u in (0.01, 0.3, 0.6, 0.99):
            got = lb.balanced_day(interval, u, 36500, counts, today=MONDAY, easy_days=easy)
            lo, hi = fuzz_range(interval, 36500)
            if hi - lo >= 1 and got is not None:
                assert (MONDAY + timedelta(days=got)).weekday() != 6, (interval, u, got)
    # a Reduced day with half the others' load counts as Normal; with more, as Minimum
    mods = ref.easy_day_modifiers([N, N, N, N, N, N, R], np.array([4, 5, 6]), np.array([10, 10, 5]))
    assert mods.tolist() == [1.0, 1.0, 1.0]
    mods = ref.easy_day_modifiers([N, N, N, N, N, N, R], np.array([4, 5, 6]), np.array([10, 10, 6]))
    assert mods.tolist() == [1.0, 1.0, M.load]


def test_weekdays_follow_the_calendar():
    assert ref.weekdays_of(MONDAY, np.array([0, 1, 6, 7])).tolist() == [0, 1, 6, 0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["normal"] * 6, "expected 7 days (Monday first), got 6"),
        ({"sun": "easy"}, "easy_days: sun = 'easy' is not one of normal, reduced, minimum"),
        ({"일": "minimum"}, "easy_days: unknown weekday '일'"),
        ("minimum", "expected 7 values"),
    ],
)
def test_bad_easy_days_are_named(value, message):
    with pytest.raises(ValueError, match="easy_days") as info:
        lb.parse_easy_days(value)
    assert message in str(info.value)


def test_easy_days_parse_lists_and_mappings():
    assert lb.parse_easy_days(None) == (N,) * 7
    assert lb.parse_easy_days({"sat": "reduced", "sun": "MINIMUM"}) == (N, N, N, N, N, R, M)
    assert lb.parse_easy_days(["minimum"] * 7) == (M,) * 7


# --- the due counts: one grouped query (services/due_load.py) ----------------------------------


def test_due_counts_equal_a_count_card_by_card(db):
    """Cards answered over weeks (Seoul time, days from 04:00) counted per study day, as a
    loop over the cards with the calendar counts them."""
    from zoneinfo import ZoneInfo

    from studylog.services import cards, due_load, review
    from studylog.services import settings as settings_service
    from studylog.storage.models import Card
    from studylog.studyday import StudyCalendar
    from tests.conftest import NOW

    settings_service.put(db, settings_service.TIMEZONE, "Asia/Seoul")
    ids = [
        cards.create(db, f"질문 {i} 🧠", "답", now=NOW - timedelta(days=40))[0].id
        for i in range(60)
    ]
    for k, cid in enumerate(ids):
        for step in range(1 + k % 4):
            review.answer(db, cid, 3, now=NOW - timedelta(days=30 - 7 * step, hours=k % 24))
    calendar = StudyCalendar(4, ZoneInfo("Asia/Seoul"))
    today = calendar.day_of(NOW)
    expected = np.zeros(lb.BALANCE_DAYS, dtype=np.int64)
    with db.read() as session:
        for card in session.query(Card).all():
            offset = (calendar.day_of(card.due) - today).days
            if card.state == 2 and not card.suspended and 0 <= offset < lb.BALANCE_DAYS:
                expected[offset] += 1
        due_load.forget()
        load = due_load.day_load(session, calendar, NOW)
    assert expected.sum() > 20  # the test has something to count
    assert load.today == today
    assert load.counts.tolist() == expected.tolist()
    # the same from due times in memory (a reschedule's snapshot of every card)
    with db.read() as session:
        due_ms = [c.due_ms for c in session.query(Card).all() if c.state == 2 and not c.suspended]
    in_memory = due_load.count_due_times(
        np.array(due_ms, dtype=np.int64), due_load.day_starts_ms(calendar, today)
    )
    assert in_memory.tolist() == expected.tolist()
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL groups due_ms itself; the covering-index path is SQLite's
    # SQLite counts from the covering index alone (no card row read), the same as due_ms
    with db.read() as session:
        conn = session.connection()
        bounds = due_load.day_starts_ms(calendar, today)
        lo, hi = int(bounds[0]), int(bounds[-1])
        by_text, by_ms = due_load._sqlite_quarters(conn, lo, hi), due_load._quarters(conn, lo, hi)
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM cards INDEXED BY ix_cards_deck "
            "WHERE suspended = 0 AND state = 2 AND due >= '2000' GROUP BY substr(due, 1, 13)"
        ).fetchall()
    order = np.argsort(by_text[0])
    assert by_text[0][order].tolist() == sorted(by_ms[0].tolist())
    assert by_text[1][order].tolist() == by_ms[1][np.argsort(by_ms[0])].tolist()
    assert any("COVERING INDEX ix_cards_deck" in str(row) for row in plan)


def test_a_day_load_moves_an_answered_card():
    load = lb.DayLoad(MONDAY, np.zeros(lb.BALANCE_DAYS, dtype=np.int64))
    load.counts[3] = 2
    load.move(3, 10)
    load.move(None, 5)  # a new card became a Review card
    load.move(4, None)  # not counted before (nothing to take away)
    load.move(2, 500)  # due beyond the window: not counted
    assert load.counts[3] == 1 and load.counts[10] == 1 and load.counts[5] == 1
    assert load.counts.sum() == 3


def test_the_plain_python_day_is_numpys_day():
    """balanced_day (one answer, plain floats) picks the day balanced_interval (NumPy) picks,
    over random due counts, intervals, fuzz uniforms, weekdays and easy days."""
    rng = np.random.default_rng(20261202)
    kinds = [lb.EasyDay.NORMAL, lb.EasyDay.REDUCED, lb.EasyDay.MINIMUM]
    compared = 0
    for _ in range(4000):
        size = int(rng.integers(0, lb.BALANCE_DAYS + 1))
        counts = rng.integers(0, int(rng.choice([3, 40, 2000])), size=size).astype(np.int64)
        interval = int(rng.integers(1, 100))
        u = float(rng.random())
        today = MONDAY + timedelta(days=int(rng.integers(0, 7)))
        easy = tuple(kinds[int(k)] for k in rng.integers(0, 3, size=7))
        if rng.random() < 0.3:
            easy = (lb.EasyDay.NORMAL,) * 7
        maximum = int(rng.choice([36500, 30, 60]))
        want = ref.balanced_interval(interval, u, maximum, counts, today=today, easy_days=easy)
        got = lb.balanced_day(interval, u, maximum, counts, today=today, easy_days=easy)
        assert got == want, (interval, u, maximum, counts.tolist(), today, easy)
        compared += want is not None
    assert compared > 2500
