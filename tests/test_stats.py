"""Statistics on the real review log and on small hand-made collections, checked independently."""

from __future__ import annotations

import csv
import json
import math
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import fsrs
import pytest
from sqlalchemy import select, text

from studylog.interchange.review_log import import_review_log
from studylog.services import cards, review, settings, stats
from studylog.storage.models import Card, JournalEntry
from tests.conftest import REVIEW_LOG

pytestmark = pytest.mark.both_backends

JOSH = REVIEW_LOG  # the real review log, shipped in tests/data/reviews
AFTER_LOG = datetime(2024, 10, 7, 12, 0, tzinfo=UTC)  # the day after the log's last review


def study_day(moment: datetime) -> date:
    """Study day in UTC with the day starting at 04:00, written out independently of studylog."""
    return (moment - timedelta(hours=4)).date()


def josh_logs() -> dict[int, list[tuple[datetime, int]]]:
    logs: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    with JOSH.open(newline="") as handle:
        for row in csv.DictReader(handle):
            logs[int(row["card_id"])].append(
                (datetime.fromisoformat(row["review_time"]), int(row["review_rating"]))
            )
    return {k: sorted(v) for k, v in logs.items()}


@pytest.fixture(scope="module")
def josh_db(tmp_path_factory):
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('josh') / 's.db'}")
    migrate.prepare(db)
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    import_review_log(db, JOSH, now=AFTER_LOG)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def josh_stats(josh_db):
    return stats.collection_stats(josh_db, now=AFTER_LOG, use_cache=False)


def test_inter_day_reviews_and_their_retention_match_the_readme(josh_stats):
    # shared/README.md: 5,329 inter-day reviews, observed retention 79.2 % (fsrs 6.3, no fuzz)
    assert josh_stats.inter_day_reviews == 5_329
    assert round(josh_stats.inter_day_retention * 100, 1) == 79.2


def test_log_loss_and_rmse_match_the_package_predictions(josh_stats):
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    p_y = []
    for cid, log in josh_logs().items():
        card = fsrs.Card(card_id=cid)
        for moment, rating in log:
            if card.last_review is not None and (moment - card.last_review).days >= 1:
                p = min(max(scheduler.get_card_retrievability(card, moment), 1e-4), 1 - 1e-4)
                p_y.append((p, 1.0 if rating > 1 else 0.0))
            card, _ = scheduler.review_card(card, fsrs.Rating(rating), moment)
    n = len(p_y)
    log_loss = -sum(y * math.log(p) + (1 - y) * math.log(1 - p) for p, y in p_y) / n
    rmse = math.sqrt(sum((p - y) ** 2 for p, y in p_y) / n)
    assert n == 5_329
    assert josh_stats.log_loss == pytest.approx(log_loss, rel=1e-9)
    assert josh_stats.rmse == pytest.approx(rmse, rel=1e-9)
    # a sanity band: FSRS-6 defaults on a real user are informative but not perfect
    assert 0.3 < josh_stats.log_loss < 0.6 and 0.2 < josh_stats.rmse < 0.45


def test_true_retention_counts_first_review_of_review_cards_per_day(josh_stats):
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    counts = Counter()
    for cid, log in josh_logs().items():
        card = fsrs.Card(card_id=cid)
        for moment, rating in log:
            if card.state == fsrs.State.Review and study_day(card.last_review) < study_day(moment):
                kind = "mature" if (card.due - card.last_review).days >= 21 else "young"
                counts[kind, rating > 1] += 1
            card, _ = scheduler.review_card(card, fsrs.Rating(rating), moment)
    everything = josh_stats.true_retention["all"]
    assert (everything.young.passed, everything.young.failed) == (
        counts["young", True],
        counts["young", False],
    )
    assert (everything.mature.passed, everything.mature.failed) == (
        counts["mature", True],
        counts["mature", False],
    )
    assert everything.mature.total == 53 and everything.young.total == 6_159  # both kinds occur
    # the log ended the day before: nothing today, and the year holds all of it
    assert josh_stats.true_retention["today"].total.total == 0
    assert josh_stats.true_retention["year"] == everything


def test_reviews_per_day_cover_the_log(josh_stats):
    expected = Counter(study_day(m) for log in josh_logs().values() for m, _ in log)
    got = dict(josh_stats.reviews_per_day)
    assert len(josh_stats.reviews_per_day) == 365 and josh_stats.reviews_per_day[-1][0] == date(
        2024, 10, 7
    )
    assert sum(got.values()) == 12_580
    assert {d: n for d, n in got.items() if n} == dict(expected)


def test_counts_forecast_and_knowledge_on_the_real_log(josh_db, josh_stats):
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    with josh_db.read() as s:
        stored = [review.to_fsrs(c) for c in s.scalars(select(Card))]
        # the 3 cards with 8 lapses are leeches: the import suspends them, as live answers would
        suspended = {c.id for c in s.scalars(select(Card).where(Card.lapses >= 8))}
    knowledge = sum(scheduler.get_card_retrievability(c, AFTER_LOG) for c in stored)
    assert josh_stats.total_knowledge == pytest.approx(knowledge, rel=1e-9)
    assert sum(josh_stats.retrievability_histogram) == 1_205
    c = josh_stats.counts
    active = [card for card in stored if card.card_id not in suspended]
    states = Counter(int(card.state) for card in active)
    assert (c.learning, c.relearning, c.review, c.new, c.suspended, c.total) == (
        states[1],
        states[3],
        states[2],
        0,
        3,
        1_205,
    )
    assert c.young + c.mature == states[2]
    due_days = Counter(max(study_day(card.due), date(2024, 10, 7)) for card in active)
    assert dict(josh_stats.forecast) == {
        date(2024, 10, 7) + timedelta(days=i): due_days.get(
            date(2024, 10, 7) + timedelta(days=i), 0
        )
        for i in range(30)
    }


def test_json_has_the_documented_keys(josh_stats):
    doc = josh_stats.to_json()
    for key in (
        "reviews_per_day",
        "streak",
        "forecast",
        "true_retention",
        "counts",
        "total_knowledge",
        "log_loss",
        "rmse",
    ):
        assert key in doc
    assert (
        doc["true_retention"]["all"]["mature"]["retention"]
        == josh_stats.true_retention["all"].mature.retention
    )
    assert doc["counts"]["total"] == 1_205


# --- small collections --------------------------------------------------------------------

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # study day 2026-11-21


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    return db


def add_entry(db, day: date) -> None:
    with db.write() as s:
        s.add(JournalEntry(day=day, body="studied", created_at=NOW, updated_at=NOW))


def test_streak_counts_reviews_and_journal_days(utc_db):
    (card,) = cards.create(utc_db, "q", "a", now=NOW - timedelta(days=10))
    review.answer(utc_db, card.id, 1, now=datetime(2026, 11, 20, 9, tzinfo=UTC))  # day 20
    review.answer(
        utc_db, card.id, 1, now=datetime(2026, 11, 20, 3, tzinfo=UTC)
    )  # 03:00 belongs to day 19
    add_entry(utc_db, date(2026, 11, 18))
    add_entry(utc_db, date(2026, 11, 16))  # the gap on the 17th ends the streak
    assert stats.collection_stats(utc_db, now=NOW).streak == 3  # 18, 19, 20; today not yet studied
    review.answer(utc_db, card.id, 3, now=NOW)
    assert stats.collection_stats(utc_db, now=NOW).streak == 4
    assert stats.collection_stats(utc_db, now=NOW + timedelta(days=2)).streak == 0


def test_forecast_and_counts_skip_new_suspended_and_buried(utc_db):
    made = [
        c.id
        for c in (
            cards.create(utc_db, f"q{i}", "a", now=NOW - timedelta(days=40))[0] for i in range(6)
        )
    ]
    with utc_db.write() as s:
        for cid, due_days, ivl in zip(
            made[:5], (-3, 0.2, 2, 2, 40), (30, 3, 5, 25, 60), strict=True
        ):
            c = s.get(Card, cid)
            c.state, c.step, c.stability, c.difficulty = 2, None, 10.0, 5.0
            c.due = NOW + timedelta(days=due_days)
            c.last_review, c.reps = c.due - timedelta(days=ivl), 1
    review.suspend(utc_db, made[3])
    review.bury(utc_db, made[4], now=NOW)
    result = stats.collection_stats(utc_db, now=NOW)
    forecast = dict(result.forecast)
    assert forecast[date(2026, 11, 21)] == 2  # overdue + due today
    assert forecast[date(2026, 11, 23)] == 1  # the suspended one is left out
    assert sum(forecast.values()) == 3  # the buried card is due beyond 30 days
    assert result.counts == stats.StateCounts(
        new=1, learning=0, relearning=0, young=2, mature=1, suspended=1, buried=1
    )


def test_empty_collection(utc_db):
    result = stats.collection_stats(utc_db, now=NOW)
    assert result.streak == 0 and result.total_knowledge == 0 and result.log_loss is None
    assert sum(n for _, n in result.reviews_per_day) == 0 and result.counts.total == 0


def _history(db) -> list[int]:
    made = [cards.create(db, f"q{i}", "a", now=NOW - timedelta(days=60))[0].id for i in range(8)]
    moment = NOW - timedelta(days=50)
    for step in range(30):
        for cid in made[: 1 + step % 8]:
            review.answer(db, cid, 1 if (cid + step) % 5 == 0 else 3, now=moment)
        moment += timedelta(days=1, hours=step % 3)
    return made


def test_the_cache_is_used_and_stays_correct(utc_db):
    made = _history(utc_db)
    fresh = stats.collection_stats(utc_db, now=NOW, use_cache=False)
    assert stats.collection_stats(utc_db, now=NOW) == fresh  # computes and stores the cache
    cached = settings.get(utc_db, stats.CACHE_KEY)
    assert len(cached["days"]) == 30
    # the cache really is read: a doctored day (same fingerprint) shows through
    day = sorted(cached["days"])[5]
    cached["days"][day][4] += 100.0  # log-loss sum of that day
    settings.put(utc_db, stats.CACHE_KEY, cached)
    assert stats.collection_stats(utc_db, now=NOW).log_loss > fresh.log_loss
    settings.put(utc_db, stats.CACHE_KEY, None)

    stats.collection_stats(utc_db, now=NOW)
    # answers (also back-dated), undo, deleting a card and a reschedule all keep it right
    back = review.answer(utc_db, made[0], 2, now=NOW - timedelta(days=1, hours=3))
    assert stats.collection_stats(utc_db, now=NOW) == stats.collection_stats(
        utc_db, now=NOW, use_cache=False
    )
    review.undo_review(utc_db, back.review_id)
    assert stats.collection_stats(utc_db, now=NOW) == fresh
    cards.delete(utc_db, made[1])
    after_delete = stats.collection_stats(utc_db, now=NOW, use_cache=False)
    assert after_delete != fresh
    assert stats.collection_stats(utc_db, now=NOW) == after_delete
    params = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    params[9] = 0.3
    review.configure(utc_db, parameters=params)
    assert settings.get(utc_db, stats.CACHE_KEY) is None  # review rows were rewritten
    assert stats.collection_stats(utc_db, now=NOW) == stats.collection_stats(
        utc_db, now=NOW, use_cache=False
    )


# --- a period, as Anki's graphs(days=365) -----------------------------------------------------

LATER = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the year before it starts mid-log (2024-06-02)


def test_a_period_covers_only_its_days_checked_against_the_package(josh_db):
    got = stats.collection_stats(josh_db, now=LATER, use_cache=False, period_days=365)
    start = date(2024, 6, 2)  # study day of LATER minus 364 days
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    p_y, counts, answers = [], Counter(), 0
    for cid, log in josh_logs().items():
        card = fsrs.Card(card_id=cid)
        for moment, rating in log:
            inside = study_day(moment) >= start
            answers += inside
            if inside and card.last_review is not None and (moment - card.last_review).days >= 1:
                p = min(max(scheduler.get_card_retrievability(card, moment), 1e-4), 1 - 1e-4)
                p_y.append((p, 1.0 if rating > 1 else 0.0))
            if (
                inside
                and card.state == fsrs.State.Review
                and study_day(card.last_review) < study_day(moment)
            ):
                kind = "mature" if (card.due - card.last_review).days >= 21 else "young"
                counts[kind, rating > 1] += 1
            card, _ = scheduler.review_card(card, fsrs.Rating(rating), moment)
    n = len(p_y)
    assert 0 < n < 5_329  # the period leaves out the log's first two months
    assert got.period_days == 365 and got.to_json()["period_days"] == 365
    assert got.inter_day_reviews == n
    assert got.inter_day_retention == pytest.approx(sum(y for _, y in p_y) / n, rel=1e-12)
    log_loss = -sum(y * math.log(p) + (1 - y) * math.log(1 - p) for p, y in p_y) / n
    assert got.log_loss == pytest.approx(log_loss, rel=1e-9)
    assert got.rmse == pytest.approx(math.sqrt(sum((p - y) ** 2 for p, y in p_y) / n), rel=1e-9)
    period = got.true_retention["all"]
    assert (
        period.young.passed,
        period.young.failed,
        period.mature.passed,
        period.mature.failed,
    ) == (
        counts["young", True],
        counts["young", False],
        counts["mature", True],
        counts["mature", False],
    )
    assert sum(c for _, c in got.reviews_per_day) == answers
    # the whole history at the same moment: the cards and the per-day counts agree
    whole = stats.collection_stats(josh_db, now=LATER, use_cache=False)
    assert whole.period_days is None and whole.inter_day_reviews == 5_329
    assert whole.true_retention["year"] == period
    assert (whole.counts, whole.forecast, whole.reviews_per_day, whole.streak) == (
        got.counts,
        got.forecast,
        got.reviews_per_day,
        got.streak,
    )


@pytest.mark.sqlite_only
def test_a_period_gives_the_same_figures_whatever_the_review_ids_order(
    josh_db, tmp_path, monkeypatch
):
    """The period's reviews are read in id order or through the time index
    (``stats._range_access``); the figures checked against the package above must not
    depend on which, nor on whether ids follow time."""
    import sqlite3

    from studylog.storage.engine import Database

    def figures(db: Database) -> dict:
        got = stats.collection_stats(db, now=LATER, use_cache=False, period_days=365).to_json()
        # sums taken in another row order differ in the last bits: compare 12 digits
        return json.loads(json.dumps(got), parse_float=lambda v: float(f"{float(v):.12g}"))

    expected = figures(josh_db)
    with josh_db.read() as s:  # the importer inserts in time order: ids follow time
        times = [t for (t,) in s.execute(text("SELECT reviewed_at_ms FROM reviews ORDER BY id"))]
    assert len(times) == 12_580 and times == sorted(times)
    copy = tmp_path / "shuffled.db"
    with sqlite3.connect(josh_db.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        # the same history under shuffled ids (an imported or merged history's order)
        ids = [i for (i,) in target.execute("SELECT id FROM reviews ORDER BY id")]
        shuffled = random.Random(7).sample(ids, len(ids))
        target.execute("UPDATE reviews SET id = -id")
        target.executemany(
            "UPDATE reviews SET id = ? WHERE id = ?",
            [(n, -o) for o, n in zip(ids, shuffled, strict=True)],
        )
    other = Database(f"sqlite:///{copy}")
    try:
        chosen = []
        real = stats._range_access
        monkeypatch.setattr(
            stats, "_range_access", lambda *a: chosen.append(real(*a)[0]) or real(*a)
        )
        for db, clustered, share in (
            (josh_db, 2, 0.125),  # ids follow time: their rows in id order
            (other, 2, 0.125),  # shuffled, most reviews in the period: in id order too
            (other, 1, 1.0),  # shuffled and (as if) a period of few reviews: the time index
            (josh_db, 0, 1.0),  # (forced) the time index on ids that follow time
        ):
            monkeypatch.setattr(stats, "CLUSTERED", clustered)
            monkeypatch.setattr(stats, "SCAN_SHARE", share)
            assert figures(db) == expected
        assert ["NOT INDEXED" in sql for sql in chosen] == [True, True, False, False]
    finally:
        other.dispose()


def test_a_period_longer_than_the_history_is_the_whole_history(josh_db):
    whole = stats.collection_stats(josh_db, now=AFTER_LOG, use_cache=False)
    longer = stats.collection_stats(josh_db, now=AFTER_LOG, use_cache=False, period_days=3650)
    assert longer.period_days == 3650
    assert longer.to_json() | {"period_days": None} == whole.to_json()


def test_a_period_shorter_than_the_shown_year_is_refused(josh_db):
    with pytest.raises(ValueError, match="at least 365"):
        stats.collection_stats(josh_db, now=AFTER_LOG, period_days=30)


def test_a_period_neither_stores_nor_misreads_the_cache(utc_db):
    _history(utc_db)
    later = NOW + timedelta(days=400)  # the 50-day history began 415 days before
    settings.put(utc_db, stats.CACHE_KEY, None)
    part = stats.collection_stats(utc_db, now=NOW + timedelta(days=360), period_days=365)
    assert settings.get(utc_db, stats.CACHE_KEY) is None  # a period that leaves days out
    whole = stats.collection_stats(utc_db, now=later)  # stores the whole history's days
    assert settings.get(utc_db, stats.CACHE_KEY)["from"] == "2026-10-02"
    assert whole == stats.collection_stats(utc_db, now=later, use_cache=False)
    # the whole cache serves a period (its days are a subset) and gives the fresh figures
    assert stats.collection_stats(utc_db, now=later, period_days=365) == stats.collection_stats(
        utc_db, now=later, period_days=365, use_cache=False
    )
    assert part.period_days == 365


def test_a_streak_longer_than_the_period_is_counted_before_it(utc_db):
    (card,) = cards.create(utc_db, "q", "a", now=NOW - timedelta(days=400))
    for k in range(375, 365, -1):  # reviews on ten study days before the period
        review.answer(utc_db, card.id, 3, now=NOW - timedelta(days=k))
    for k in range(366):  # journal entries on every day of the period, today included
        add_entry(utc_db, NOW.date() - timedelta(days=k))
    assert stats.collection_stats(utc_db, now=NOW, use_cache=False).streak == 376
    assert stats.collection_stats(utc_db, now=NOW, use_cache=False, period_days=365).streak == 376
    # tomorrow is still open; the day after, the missed day ends it
    for days, streak in ((1, 376), (2, 0)):
        later = NOW + timedelta(days=days)
        assert stats.collection_stats(utc_db, now=later, period_days=365).streak == streak


def test_existing_cards_are_told_apart_on_every_path(utc_db):
    """The statistics' check of which reviews' cards exist (a deleted card's reviews stay
    in the log, revision 0011): few reviews by id, many through a lookup table, sparse
    ids by binary search; all three give the same answer."""
    import numpy as np

    made = [cards.create(utc_db, f"카드 {i}", "뒤", now=NOW)[0].id for i in range(3)]
    cards.delete(utc_db, made[1])
    few = np.array([made[0], made[1], made[2], made[1], 1000], dtype=np.int64)
    want = [True, False, True, False, False]
    many = np.repeat(few, stats._FEW_IDS)  # above the by-id limit: the lookup table
    sparse = np.concatenate([many, np.array([10**12], dtype=np.int64)])  # binary search
    with utc_db.read() as session:
        assert stats._existing(session, few).tolist() == want
        assert stats._existing(session, many).tolist() == np.repeat(want, stats._FEW_IDS).tolist()
        assert stats._existing(session, sparse).tolist() == [
            *np.repeat(want, stats._FEW_IDS).tolist(),
            False,
        ]
        assert stats._existing(session, np.zeros(0, dtype=np.int64)).tolist() == []
