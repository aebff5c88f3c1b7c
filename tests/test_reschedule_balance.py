"""Load balancing when a reschedule moves every Review card (Anki's rescheduler with
load balancing on): the batch choice against the answer path's ``balanced_day``, the
fuzz range, how much flatter the days get, and the reschedule itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from studylog.scheduling import balance_batch as bb
from studylog.scheduling import load_balance as lb
from studylog.scheduling.fuzz import fuzz_ranges, fuzz_units, fuzzed_days
from studylog.services import settings as settings_service
from studylog.storage.models import Card
from tests.test_reschedule_undo import cards_now
from tests.test_review_scheduling import _history

pytestmark = pytest.mark.both_backends

N, R, M = lb.EasyDay.NORMAL, lb.EasyDay.REDUCED, lb.EasyDay.MINIMUM
MONDAY_MS = int(datetime(2026, 11, 30, tzinfo=UTC).timestamp() * 1000)  # a UTC study day start
DAY = bb.DAY_MS
STARTS = MONDAY_MS + DAY * np.arange(lb.BALANCE_DAYS + 1, dtype=np.int64)


def _one(interval: int, u: float, counts: np.ndarray, easy, offset: int, maximum: int) -> int:
    """The batch choice for one card answered today (``offset`` days after a Monday)."""
    starts = STARTS + offset * DAY
    noon = np.array([starts[0] + DAY // 2])
    days = bb.balanced_intervals(
        np.array([interval]),
        np.array([-1]),  # plain: a marker, never a valid choice
        np.array([u]),
        noon,
        np.array([-1]),
        np.array([False]),
        maximum_interval=maximum,
        day_starts_ms=starts,
        due_counts=counts,
        weekday_today=offset % 7,
        easy_days=easy,
    )
    return int(days[0])


@settings(max_examples=300, deadline=None)
@given(
    interval=st.integers(3, lb.MAX_BALANCED_INTERVAL),
    u=st.floats(0, 1, exclude_max=True),
    counts=st.lists(st.integers(0, 500), min_size=lb.BALANCE_DAYS, max_size=lb.BALANCE_DAYS),
    easy=st.lists(st.sampled_from([N, R, M]), min_size=7, max_size=7),
    offset=st.integers(0, 6),
    maximum=st.integers(3, 36500),
)
def test_one_card_answered_today_gets_the_answer_paths_day(
    interval, u, counts, easy, offset, maximum
):
    """The reference is the answer path's scalar ``balanced_day`` (plain Python floats)."""
    counts = np.array(counts, dtype=np.int64)
    want = lb.balanced_day(
        interval,
        u,
        maximum,
        counts,
        today=datetime(2026, 11, 30).date() + timedelta(days=offset),
        easy_days=easy,
    )
    got = _one(interval, u, counts, easy, offset, maximum)
    assert got == (-1 if want is None else want)


def _cards(n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` Review cards reviewed over the last 20 days, intervals 3-120 days."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1, dtype=np.int64)
    interval = rng.integers(3, 121, n)
    last = MONDAY_MS + DAY // 3 - rng.integers(0, 20, n) * DAY
    reps = rng.integers(1, 30, n)
    u = fuzz_units(ids, reps)
    plain = fuzzed_days(interval, u, 36500)
    return {"interval": interval, "last": last, "u": u, "plain": plain}


def _balance(c: dict[str, np.ndarray], counts: np.ndarray, easy=(N,) * 7) -> np.ndarray:
    n = c["interval"].size
    return bb.balanced_intervals(
        c["interval"],
        c["plain"],
        c["u"],
        c["last"],
        np.full(n, -1),
        np.ones(n, dtype=bool),
        maximum_interval=36500,
        day_starts_ms=STARTS,
        due_counts=counts,
        weekday_today=0,
        easy_days=easy,
    )


def test_every_day_stays_inside_the_fuzz_range_and_not_before_today() -> None:
    c = _cards(5000, seed=1)
    days = _balance(c, np.zeros(lb.BALANCE_DAYS, dtype=np.int64))
    lo, hi = fuzz_ranges(c["interval"], 36500)
    balanced = c["interval"] <= lb.MAX_BALANCED_INTERVAL
    reachable = balanced & (c["last"] + hi * DAY >= MONDAY_MS)
    assert reachable.sum() > 3000
    assert np.all((days[reachable] >= lo[reachable]) & (days[reachable] <= hi[reachable]))
    assert np.all(c["last"][reachable] + days[reachable] * DAY >= MONDAY_MS)
    # over 90 days, and ranges wholly before today: the plain fuzz, untouched
    assert np.array_equal(days[~reachable], c["plain"][~reachable])
    assert (days[balanced] != c["plain"][balanced]).mean() > 0.3  # it really chose


def _per_day(c: dict[str, np.ndarray], days: np.ndarray) -> np.ndarray:
    slot = (c["last"] + days * DAY - MONDAY_MS) // DAY
    return np.bincount(slot[(slot >= 0) & (slot < 60)], minlength=60)


def test_the_days_get_flatter_than_with_the_plain_fuzz() -> None:
    # 6,000 cards all with a 10-day interval from today: the plain fuzz spreads them
    # uniformly over 8..12 by the uniform alone, the balancer by the counts too.
    n = 6000
    ids = np.arange(1, n + 1, dtype=np.int64)
    interval = np.full(n, 10)
    u = fuzz_units(ids, np.ones(n, dtype=np.int64))
    last = np.full(n, MONDAY_MS + DAY // 2)
    c = {"interval": interval, "last": last, "u": u, "plain": fuzzed_days(interval, u, 36500)}
    counts = np.zeros(lb.BALANCE_DAYS, dtype=np.int64)
    counts[9] = 3000  # a heavy day already inside the range
    days = _balance(c, counts)
    after = _per_day(c, days) + counts[:60]
    plain = _per_day(c, c["plain"]) + counts[:60]
    lo, hi = fuzz_ranges(interval[:1], 36500)
    window = slice(int(lo[0]), int(hi[0]) + 1)
    # (the package's plain fuzz rounds u * (hi - lo + 1) + lo: it reaches hi + 1)
    wide = slice(int(lo[0]), int(hi[0]) + 2)
    assert after[window].sum() == plain[wide].sum() == n + 3000
    # the heavy day takes almost nothing more (the plain fuzz gives it a fifth)
    assert after[9] - 3000 < 0.03 * n
    assert plain[9] - 3000 > 0.15 * n
    # the others share the cards, the shorter intervals a little more (the (1/interval)**3)
    others = np.delete(after[window], 9 - int(lo[0]))
    assert np.all(np.diff(others) <= 0) and others.min() > 0.15 * n


def test_a_minimum_weekday_gets_almost_nothing() -> None:
    c = _cards(4000, seed=2)
    easy = (N, N, N, N, N, N, M)  # Sunday minimum; day 0 is a Monday
    days = _balance(c, np.zeros(lb.BALANCE_DAYS, dtype=np.int64), easy)
    balanced = (c["interval"] <= lb.MAX_BALANCED_INTERVAL) & (c["last"] + days * DAY >= MONDAY_MS)
    weekday = ((c["last"] + days * DAY - MONDAY_MS) // DAY) % 7
    plain_weekday = ((c["last"] + c["plain"] * DAY - MONDAY_MS) // DAY) % 7
    plain_share = (plain_weekday[balanced] == 6).mean()
    assert plain_share > 0.1  # the plain fuzz lands there often
    # Balanced, only a card whose other days are all far fuller: an empty Minimum
    # day weighs 1e-4, a day with 50 cards at 60 days ~1e-9 (load_balance's rule).
    assert (weekday[balanced] == 6).mean() < plain_share / 5


# --- the reschedule ---------------------------------------------------------------


@pytest.fixture
def fuzzed_db(db):
    settings_service.put(db, settings_service.TIMEZONE, "UTC")
    settings_service.update(db, {"enable_fuzz": True})
    return db


def _review_cards(db) -> dict[int, tuple[datetime, datetime, float]]:
    with db.read() as s:
        return {
            c.id: (c.due, c.last_review, c.stability)
            for c in s.scalars(select(Card).where(Card.state == 2))
        }


def test_a_retention_change_balances_only_when_the_setting_is_on(fuzzed_db) -> None:
    _history(fuzzed_db, 60, seed=31)
    before = cards_now(fuzzed_db)
    settings_service.update(fuzzed_db, {"load_balancing": False})
    settings_service.update(fuzzed_db, {"desired_retention": 0.85})
    plain = _review_cards(fuzzed_db)
    assert settings_service.undo_reschedule(fuzzed_db) is not None
    assert cards_now(fuzzed_db) == before
    settings_service.update(fuzzed_db, {"load_balancing": True})
    settings_service.update(fuzzed_db, {"desired_retention": 0.85})
    balanced = _review_cards(fuzzed_db)
    assert balanced.keys() == plain.keys() and len(plain) > 20
    moved = 0
    for cid, (due, last, stability) in balanced.items():
        plain_due, plain_last, plain_s = plain[cid]
        assert (last, stability) == (plain_last, plain_s)  # only the day moves
        days = (due - last) / timedelta(days=1)
        assert days == int(days)  # whole days after the last review, as the plain fuzz
        plain_days = (plain_due - last) / timedelta(days=1)
        interval = np.rint(plain_days)
        lo, hi = fuzz_ranges(np.array([max(interval, 1)], dtype=np.int64), 36500)
        # the same range the plain fuzz drew from (the plain day is inside it too)
        assert abs(days - plain_days) <= (hi[0] - lo[0]) + 1
        moved += days != plain_days
    assert moved > 0
    assert settings_service.undo_reschedule(fuzzed_db) is not None
    assert cards_now(fuzzed_db) == before


def test_new_parameters_keep_every_balanced_day_inside_its_fuzz_range(fuzzed_db) -> None:
    from studylog.scheduling import batch
    from studylog.scheduling import settings as defs
    from tests.test_reschedule_undo import changed_params

    _history(fuzzed_db, 60, seed=32)
    before = cards_now(fuzzed_db)
    settings_service.update(fuzzed_db, {"load_balancing": False})
    settings_service.update(fuzzed_db, {"fsrs_parameters": tuple(changed_params())})
    plain = _review_cards(fuzzed_db)
    assert settings_service.undo_reschedule(fuzzed_db) is not None
    settings_service.update(fuzzed_db, {"load_balancing": True})
    settings_service.update(fuzzed_db, {"fsrs_parameters": tuple(changed_params())})
    balanced = _review_cards(fuzzed_db)
    p = defs.config_from(settings_service.values(fuzzed_db)).params()
    assert balanced.keys() == plain.keys() and len(plain) > 20
    moved = 0
    for cid, (due, last, stability) in balanced.items():
        assert (last, stability) == plain[cid][1:]  # the memory state is the replay's
        days = (due - last) / timedelta(days=1)
        interval = batch.next_interval_days(np.array([stability]), p)
        lo, hi = fuzz_ranges(interval, p.maximum_interval)
        assert days == int(days)
        if interval[0] < 2.5:  # never fuzzed
            assert days == interval[0]
        else:  # (+1: the plain fuzz's rounding reaches hi + 1)
            assert lo[0] <= days <= hi[0] + 1
        moved += due != plain[cid][0]
    assert moved > 0
    assert settings_service.undo_reschedule(fuzzed_db) is not None
    assert cards_now(fuzzed_db) == before
