"""Collection statistics: activity, streak, forecast, true retention, memory, calibration.

Definitions (following Anki's statistics screen and the FSRS papers):

- reviews per day: answers per study day over the last 365 days (the study
  day starts at the collection's day start hour, default 04:00 local);
- streak: consecutive study days up to today with a review or a journal
  entry (today still counts as open: without activity yet, the streak ends
  yesterday);
- forecast: due cards (not new, not suspended) per study day for the next
  30 days; overdue cards count for today;
- true retention: the first answer of a Review card on a study day (its
  previous answer was on an earlier day), passed = Hard/Good/Easy; young if
  the interval before the answer was < 21 days, mature if >= 21 (Anki);
- counts by state, the retrievability distribution and the estimated total
  knowledge = the sum of every reviewed card's retrievability now (Anki's
  "estimated total knowledge");
- calibration: over every inter-day answer in the history (previous answer
  at least one whole day earlier, as ``(t - last).days >= 1`` in the ``fsrs``
  package), the predicted recall probability p = R(t, S_before) against the
  outcome y (1 unless Again): log loss = mean(-(y ln p + (1-y) ln(1-p))) and
  RMSE = sqrt(mean((p - y)^2)); p is clipped to [1e-4, 1 - 1e-4] as in the
  open-spaced-repetition srs-benchmark.

Speed: a million review rows cannot be pulled out of SQLite in 500 ms, so
the per-day aggregates of past study days are cached in the ``settings``
table. Each day is checked against a fingerprint (count and sum of review
ids, read from the ``reviewed_at_ms`` index alone) and recomputed in NumPy when
it changed; rewriting review rows (a reschedule, an import that merges
histories) drops the cache (:func:`studylog.services.reschedule.replay_in`),
and so does the undo of a reschedule. Rows a whole-collection replay left
stale get their stability and interval before from the replay
(:func:`_with_derived`, :mod:`studylog.services.review_states`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.errors import DatabaseError
from studylog.scheduling import batch
from studylog.scheduling.states import CardState
from studylog.services import review_states
from studylog.services import settings as settings_service
from studylog.services.review import config_in
from studylog.storage import bulk
from studylog.storage.engine import Database
from studylog.storage.models import JournalEntry
from studylog.storage.times import DAY_MS, from_ms, to_ms
from studylog.studyday import StudyCalendar, ensure_utc, streak_length, utcnow

MATURE_DAYS = 21
HISTORY_DAYS = 365
FORECAST_DAYS = 30
R_BINS = 20  # retrievability histogram: 5 % bins
P_CLIP = 1e-4
CACHE_KEY = bulk.STATS_CACHE_KEY
PERIODS = {"today": (0, 1), "yesterday": (1, 2), "week": (0, 7), "month": (0, 30), "year": (0, 365)}

# Per-day aggregate columns (also the cache's layout). Every statistic counts only
# the reviews of cards that exist (as Anki's graphs read the revlog of the cards
# searched): a deleted card's reviews stay in the log (revision 0011). _ROWS and
# _SUM_ID count every row in the day, deleted cards' too, as the cache's
# fingerprint (:func:`_fingerprint`) sees them.
_COUNT, _SUM_ID, _INTER, _INTER_PASS, _LL, _SQ, _YP, _YF, _MP, _MF, _ROWS = range(11)
_WIDTH = 11
_CACHE_LAYOUT = "v11"  # in the cache key: a cache of another layout is not read


@dataclass(frozen=True)
class RetentionCounts:
    """Passed (Hard/Good/Easy) and failed (Again) answers."""

    passed: int
    failed: int

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def retention(self) -> float | None:
        """passed / total, None without answers."""
        return self.passed / self.total if self.total else None

    def __add__(self, other: RetentionCounts) -> RetentionCounts:
        return RetentionCounts(self.passed + other.passed, self.failed + other.failed)

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "retention": self.retention}


@dataclass(frozen=True)
class TrueRetention:
    """True retention of one period, young (interval < 21 d) and mature cards."""

    young: RetentionCounts
    mature: RetentionCounts

    @property
    def total(self) -> RetentionCounts:
        return self.young + self.mature

    def to_json(self) -> dict[str, Any]:
        return {
            "young": self.young.to_json(),
            "mature": self.mature.to_json(),
            "total": self.total.to_json(),
        }


@dataclass(frozen=True)
class StateCounts:
    """Cards by state. Suspended and buried cards are counted only as such.

    ``young``/``mature``: Review cards with interval < 21 / >= 21 days.
    """

    new: int
    learning: int
    relearning: int
    young: int
    mature: int
    suspended: int
    buried: int

    @property
    def review(self) -> int:
        return self.young + self.mature

    @property
    def total(self) -> int:
        return (
            self.new + self.learning + self.relearning + self.review + self.suspended + self.buried
        )

    def to_json(self) -> dict[str, int]:
        return {
            "new": self.new,
            "learning": self.learning,
            "review": self.review,
            "young": self.young,
            "mature": self.mature,
            "relearning": self.relearning,
            "suspended": self.suspended,
            "buried": self.buried,
            "total": self.total,
        }


@dataclass(frozen=True)
class Stats:
    """Everything ``studylog stats`` shows.

    Attributes:
        today: the current study day.
        reviews_per_day: (day, answers) for the 365 days ending today, oldest first.
        streak: consecutive active study days (review or journal entry).
        forecast: (day, cards due) for the 30 days from today; today includes overdue.
        true_retention: by period: today, yesterday, week (7 days), month (30),
            year (365), all.
        counts: cards by state.
        retrievability_histogram: reviewed cards per 5 % bin of R (20 bins, [0, 0.05) first).
        total_knowledge: sum of R over reviewed cards (cards "known" now).
        inter_day_reviews: answers at least a day after the previous one.
        inter_day_retention: share of those not answered Again.
        log_loss, rmse: calibration of the scheduler's predictions (None without data).
        period_days: the study days the review-log figures cover (None: the whole
            history); see :func:`collection_stats`.
    """

    today: date
    reviews_per_day: list[tuple[date, int]]
    streak: int
    forecast: list[tuple[date, int]]
    true_retention: dict[str, TrueRetention]
    counts: StateCounts
    retrievability_histogram: list[int]
    total_knowledge: float
    inter_day_reviews: int
    inter_day_retention: float | None
    log_loss: float | None
    rmse: float | None
    period_days: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (days as ISO strings)."""
        return {
            "today": self.today.isoformat(),
            "reviews_per_day": {d.isoformat(): n for d, n in self.reviews_per_day},
            "streak": self.streak,
            "forecast": {d.isoformat(): n for d, n in self.forecast},
            "true_retention": {k: v.to_json() for k, v in self.true_retention.items()},
            "counts": self.counts.to_json(),
            "retrievability_histogram": self.retrievability_histogram,
            "total_knowledge": self.total_knowledge,
            "inter_day_reviews": self.inter_day_reviews,
            "inter_day_retention": self.inter_day_retention,
            "log_loss": self.log_loss,
            "rmse": self.rmse,
            "period_days": self.period_days,
        }


# --- per-day aggregates of the review log --------------------------------------------------


def _boundaries(calendar: StudyCalendar, first: date, n_days: int) -> np.ndarray:
    """Epoch ms of the start of each of ``n_days`` study days from ``first``, plus the last end."""
    return np.array(
        [to_ms(calendar.start_of(first + timedelta(days=i))) for i in range(n_days + 1)],
        dtype=np.int64,
    )


def _fingerprint(session: Session, start_ms: int, end_ms: int) -> list[int]:
    """(count, sum of ids) of the reviews in [start_ms, end_ms): a scan of that range of
    the time index alone, every row (a deleted card's too: checking each row's card
    would read the table).

    Any answer, undo, or import in the range changes it; a replay, which
    rewrites rows in place, and a delete of cards or its undo, which change
    which rows count but not the rows, drop the cache themselves. The cache keeps
    each day's count and sum of ids, so the days a call uses are checked
    against exactly those days' rows (a period's year, not the whole history).
    """
    n, total = (
        bulk.raw_connection(session)
        .execute(
            "SELECT count(*), COALESCE(sum(id), 0) FROM reviews "
            "WHERE reviewed_at_ms >= ? AND reviewed_at_ms < ?",
            (start_ms, end_ms),
        )
        .fetchone()
    )
    return [int(n), int(total)]


# Stabilities leave the database as integers of 2**-40 days (about 1e-12 days):
# SQLite prints an integer and NumPy parses it several times faster than a float
# with 17 digits (measured, 1M reviews: 1.15 s -> 0.35 s for the column), and the
# rounding (at most 4.6e-13 days) is far below anything a statistic shows.
_FIXED_SCALE = 2.0**40


def _fixed_point(column: str) -> str:
    """SQL: ``column`` (days, NULL as -1) as a BIGINT count of 2**-40 days."""
    return f"CAST(round(COALESCE({column}, -1) * {_FIXED_SCALE:.1f}) AS BIGINT)"


def _from_fixed_point(values: np.ndarray) -> np.ndarray:
    """The float64 days of :func:`_fixed_point`'s integers (-1 stays -1)."""
    return values.astype(np.float64) / _FIXED_SCALE


SCAN_SHARE = 0.125  # above this share of the reviews, SQLite reads rows in id order for a range
CLUSTERED = 2  # ids of a time range spanning at most this many times its rows: read in id order
_IN_RANGE = "reviewed_at_ms >= ? AND reviewed_at_ms < ?"


def _range_access(session: Session, lo_ms: int, hi_ms: int) -> tuple[str, tuple[int, ...]]:
    """How to read the reviews with ``lo_ms <= reviewed_at_ms < hi_ms`` (epoch ms, UTC):
    ``FROM reviews ... WHERE ...`` for a query, and its parameters.

    The time index visits its rows in time order. Where review ids follow time
    (answers saved as they happen: a collection studied in studylog, like
    Anki's revlog, whose ids are times) those rows are neighbours in the table,
    and where they do not (an imported or merged history, the benchmark's
    generated one) each is a random read: measured on 1M reviews, 400k of them
    through the index 1.2 s against 0.27 s for a scan of the whole table. So on
    SQLite the rows are read in id order between the range's smallest and
    largest id (a rowid range under ``NOT INDEXED``, never more than a scan)
    when the ids are clustered (their span is at most :data:`CLUSTERED` times
    the rows) or the range holds more than :data:`SCAN_SHARE` of all reviews;
    otherwise through the time index. The count, smallest and largest id come
    from the index alone (no row read, ~35 ms for 200k of 1M rows) and the
    total is SQLite's B-tree count. On 200k reviews of the last year in id
    order: 0.16 s instead of a scan's 0.31 s.
    """
    by_time = (f"FROM reviews WHERE {_IN_RANGE}", (lo_ms, hi_ms))
    if bulk.is_postgres(session):
        return by_time  # PostgreSQL's planner weighs this itself (with the table's statistics)
    raw = bulk.raw_connection(session)
    inside, first_id, last_id = raw.execute(
        f"SELECT count(*), min(id), max(id) FROM reviews WHERE {_IN_RANGE}", (lo_ms, hi_ms)
    ).fetchone()
    if not inside:
        return by_time
    clustered = last_id - first_id + 1 <= CLUSTERED * inside
    if not clustered:
        total = raw.execute("SELECT count(*) FROM reviews").fetchone()[0]
        if inside <= SCAN_SHARE * total:
            return by_time
    return (
        f"FROM reviews NOT INDEXED WHERE id BETWEEN ? AND ? AND {_IN_RANGE}",
        (first_id, last_id, lo_ms, hi_ms),
    )


def _day_aggregates(
    session: Session,
    bounds: np.ndarray,
    p: batch.Params,
    *,
    every_review: bool = False,
    with_ids: bool = False,
) -> np.ndarray:
    """The per-day aggregates (n_days, 10) of the reviews between bounds[0] and bounds[-1] (ms).

    ``every_review``: the bounds hold every review, so the table is read in
    order instead of through the time index (a million index lookups in
    random row order cost several times a scan).

    Three numbers per review come out of SQLite as whole columns
    (:func:`studylog.storage.bulk.fetch_columns`): the time packed with a code
    (state before, rating, interval before >= 21 days), the time since the
    previous answer (ms, -1 if unknown) and the stability before; with
    ``with_ids`` also the review id, for the per-day sums of ids that check a
    stored cache (:func:`_fingerprint`), else that column stays 0.

    Reviews of deleted cards (kept in the log, revision 0011) count only in
    ``_ROWS`` and ``_SUM_ID``. Which card exists is decided in NumPy from the
    card id column and the ids of ``cards`` (:func:`_existing`): an
    ``IN (SELECT id FROM cards)`` in SQL cost 2.3 s more on 1M reviews, this
    about 0.1 s.
    """
    mature_ms = (MATURE_DAYS - 0.5) * DAY_MS  # intervals are whole days: keep 21 clear of noise
    marker = review_states.load_in(session)
    want_ids = with_ids or marker is not None  # stale rows are found by their id
    packed, elapsed_ms, stability, card_ids, *ids = bulk.fetch_columns(
        session,
        [
            (
                "reviewed_at_ms * 64 + state_before * 16 + rating + 8 * CASE WHEN "
                f"state_before = {int(CardState.REVIEW)} "
                f"AND due_before_ms - last_review_before_ms >= {mature_ms:.0f} THEN 1 ELSE 0 END",
                np.int64,
            ),
            ("COALESCE(reviewed_at_ms - last_review_before_ms, -1)", np.int64),
            (_fixed_point("stability_before"), np.int64),
            ("card_id", np.int64),
            *([("id", np.int64)] if want_ids else []),
        ],
        *(
            ("FROM reviews ORDER BY id", ())
            if every_review
            else _range_access(session, int(bounds[0]), int(bounds[-1]))
        ),
    )
    stability = _from_fixed_point(stability)
    if marker is not None and ids and ids[0].size and int(ids[0].min()) <= marker.through_id:
        packed = _with_derived(session, ids[0], packed, stability, mature_ms)
    if not with_ids:
        ids = []
    n_days = bounds.size - 1
    out = np.zeros((n_days, _WIDTH), dtype=np.float64)
    if not packed.size:
        return out
    t = packed >> 6
    day_all = np.searchsorted(bounds, t, side="right") - 1
    out[:, _ROWS] += np.bincount(day_all, minlength=n_days)
    if ids:
        out[:, _SUM_ID] += np.bincount(day_all, weights=ids[0].astype(np.float64), minlength=n_days)
    alive = _existing(session, card_ids)
    if not alive.all():
        packed, elapsed_ms, stability = packed[alive], elapsed_ms[alive], stability[alive]
        t = t[alive]
    day = day_all if alive.all() else day_all[alive]
    code = packed & 63
    state_before, mature, passed = code // 16, (code & 8) > 0, (code & 7) > 1

    def add(col: int, mask: np.ndarray, weights: np.ndarray | None = None) -> None:
        w = mask.astype(np.float64) if weights is None else np.where(mask, weights, 0.0)
        out[:, col] += np.bincount(day, weights=w, minlength=n_days)

    known = elapsed_ms >= 0
    elapsed = np.where(known, elapsed_ms // DAY_MS, 0)  # timedelta.days: a floor
    inter = known & (stability > 0) & (elapsed >= 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = batch.retrievability_from_elapsed(
            np.where(inter, stability, 1.0), elapsed.astype(np.float64), p
        )
    prob = np.clip(np.where(inter, prob, 0.5), P_CLIP, 1 - P_CLIP)
    y = passed.astype(np.float64)
    add(_COUNT, np.ones_like(passed))
    add(_INTER, inter)
    add(_INTER_PASS, inter & passed)
    add(_LL, inter, -(y * np.log(prob) + (1 - y) * np.log(1 - prob)))
    add(_SQ, inter, (prob - y) ** 2)
    # true retention: the day's first answer of a Review card (previous answer before the day began)
    first_of_day = (state_before == CardState.REVIEW) & known & (t - elapsed_ms < bounds[day])
    add(_YP, first_of_day & ~mature & passed)
    add(_YF, first_of_day & ~mature & ~passed)
    add(_MP, first_of_day & mature & passed)
    add(_MF, first_of_day & mature & ~passed)
    return out


_FEW_IDS = 5000  # reviews whose cards are looked up by id rather than reading every id


def _existing(session: Session, card_ids: np.ndarray) -> np.ndarray:
    """Which of ``card_ids`` (int64) name a card that exists: a bool array of their shape.

    Few reviews (the days a warm cache leaves to compute): their cards looked up by
    primary key. Else the ids of ``cards`` come out as one column
    (about 10 ms for 100k cards), then a lookup table indexed by id when the ids are
    dense enough (a few ms for 1M reviews), else a binary search.
    """
    if not card_ids.size:
        return np.zeros(card_ids.shape, dtype=bool)
    if card_ids.size <= _FEW_IDS:  # (np.unique of 1M ids alone would cost ~70 ms)
        wanted = np.unique(card_ids)
        raw = bulk.raw_connection(session)
        found: list[int] = []
        for i in range(0, wanted.size, 500):
            chunk = [int(x) for x in wanted[i : i + 500]]
            marks = ", ".join("?" * len(chunk))
            found.extend(
                r[0] for r in raw.execute(f"SELECT id FROM cards WHERE id IN ({marks})", chunk)
            )
        return np.isin(card_ids, np.array(found, dtype=np.int64))
    # No ORDER BY: SQLite then reads the ids from the smallest covering index instead
    # of the wide table (8 ms against 23 ms for 100k cards); NumPy sorts if needed.
    (known,) = bulk.fetch_columns(session, [("id", np.int64)], "FROM cards")
    if not known.size:
        return np.zeros(card_ids.shape, dtype=bool)
    top = int(max(known.max(), card_ids.max()))
    if top <= 8 * (known.size + card_ids.size) and card_ids.min() >= 0:
        table = np.zeros(top + 1, dtype=bool)
        table[known] = True
        return table[card_ids]
    known.sort()
    at = np.minimum(np.searchsorted(known, card_ids), known.size - 1)
    return known[at] == card_ids


def _with_derived(
    session: Session,
    review_ids: np.ndarray,
    packed: np.ndarray,
    stability: np.ndarray,
    mature_ms: float,
) -> np.ndarray:
    """Put the replayed stability before and "mature" bit into the rows a whole-collection
    replay left stale (:func:`studylog.services.review_states.derived_states_in`).

    ``stability`` (days, -1 for none) is changed in place; returns ``packed`` with the
    mature bit (8) of those rows recomputed from their derived due and last review
    before (state and step in the rows stay valid).
    """
    derived = review_states.derived_states_in(session)
    if derived is None:
        return packed
    at = derived.index_of(review_ids)
    stale = np.flatnonzero(at >= 0)
    pos = at[stale]
    s_before = derived.before.stability[pos]
    # The same 2**-40-day grid as the stored stabilities (SQLite's round: half away from 0)
    fixed = np.floor(np.where(np.isnan(s_before), -1.0, s_before) * _FIXED_SCALE + 0.5)
    stability[stale] = _from_fixed_point(fixed)
    due, last = derived.before.due[pos], derived.before.last_review[pos]
    known = (due != batch.NO_TIME) & (last != batch.NO_TIME)
    # Stored to the ms, as the rows' twins: the difference of the floored times.
    interval_ms = np.where(known, due // 1000 - last // 1000, -1)
    code = packed[stale] & 63
    review = (code // 16) == CardState.REVIEW
    mature = review & known & (interval_ms >= mature_ms)
    out = packed.copy()
    out[stale] = (packed[stale] & ~np.int64(8)) | (mature.astype(np.int64) * 8)
    return out


def _cache_key(calendar: StudyCalendar, p: batch.Params) -> list[Any]:
    return [str(calendar.zone), calendar.day_start_hour, p.w[20], _CACHE_LAYOUT]


def _history(
    session: Session,
    calendar: StudyCalendar,
    p: batch.Params,
    today: date,
    use_cache: bool,
    period_days: int | None = None,
) -> tuple[date, np.ndarray, dict[str, Any] | None]:
    """Per-day aggregates of every study day from the first review to today (and any later one).

    ``period_days``: only the last ``period_days`` study days up to today (and
    any later one); the first day is then the later of the period's start and
    the first review's day.

    The days before today are closed: their aggregates are cached with each
    day's count and sum of review ids; when those of the days used still match
    the reviews in them (:func:`_fingerprint`, one query over the days' range),
    only the days since the cache was made are computed. The cache records
    the day it starts from; a cache that starts later than the days asked for
    (or that does not say) is not used, and a period that leaves out older
    reviews stores none (a later whole-history call would miss them).
    Returns (the first day, the aggregates (n_days, 10), the cache to store or None).
    """
    raw = bulk.raw_connection(session)
    # two queries: SQLite answers a lone min() or max() from the index in O(log n);
    # a deleted card's reviews count here (at worst the history opens on empty days)
    oldest = raw.execute("SELECT min(reviewed_at_ms) FROM reviews").fetchone()[0]
    newest = raw.execute("SELECT max(reviewed_at_ms) FROM reviews").fetchone()[0]
    if oldest is None:
        return today, np.zeros((1, _WIDTH)), None
    first = min(calendar.day_of(from_ms(oldest)), today)
    whole = True  # the days from first hold every review
    if period_days is not None and first < today - timedelta(days=period_days - 1):
        first, whole = today - timedelta(days=period_days - 1), False
    last = max(calendar.day_of(from_ms(newest)), today)
    n_days = (last - first).days + 1
    bounds = _boundaries(calendar, first, n_days)
    key = _cache_key(calendar, p)
    cached = settings_service.get_in(session, CACHE_KEY) if use_cache else None
    out = np.zeros((n_days, _WIDTH))
    done = 0  # days [0, done) come from the cache
    if (
        isinstance(cached, dict)
        and cached.get("key") == key
        and "until" in cached
        and cached.get("from", "9999-12-31") <= first.isoformat()
    ):
        until = date.fromisoformat(cached["until"])
        k = (until - first).days
        if 0 <= k <= (today - first).days:
            for iso, row in cached["days"].items():
                i = (date.fromisoformat(iso) - first).days
                if 0 <= i < k:
                    out[i] = row
            stored = [int(out[:k, _ROWS].sum()), int(out[:k, _SUM_ID].sum())]
            if stored == _fingerprint(session, int(bounds[0]), int(bounds[k])):
                done = k
            else:
                out[:k] = 0
    # with whole, bounds span every review: first and last are the oldest's and newest's days
    store_it = use_cache and whole
    out[done:] = _day_aggregates(
        session, bounds[done:], p, every_review=whole and done == 0, with_ids=store_it
    )
    closed = (today - first).days  # days [0, closed) are before today
    store = None
    if store_it and closed > done:
        store = {
            "key": key,
            "from": first.isoformat(),
            "until": today.isoformat(),
            "days": {
                (first + timedelta(days=i)).isoformat(): out[i].tolist()
                for i in range(closed)
                if out[i, _ROWS] > 0
            },
        }
    return first, out, store


def _streak_before(
    session: Session, calendar: StudyCalendar, day: date, journal_days: set[date]
) -> int:
    """Consecutive active study days (a review or a journal entry) just before ``day``.

    One probe of the ``reviewed_at_ms`` index per day (O(log n) each), so a
    long streak costs milliseconds, not a read of the older reviews. An answer
    to a card deleted since still makes its day active, as in
    :func:`studylog.services.today.streak` (the day was studied).
    """
    raw = bulk.raw_connection(session)
    count = 0
    d = day - timedelta(days=1)
    end = to_ms(calendar.start_of(day))
    while True:
        begin = to_ms(calendar.start_of(d))
        if d not in journal_days and (
            raw.execute(
                "SELECT 1 FROM reviews WHERE reviewed_at_ms >= ? AND reviewed_at_ms < ? LIMIT 1",
                (begin, end),
            ).fetchone()
            is None
        ):
            return count
        count += 1
        d, end = d - timedelta(days=1), begin


def _store_cache(db: Database, value: dict[str, Any]) -> None:
    """Save the closed days' aggregates; a read-only or busy database just skips it."""
    try:
        with db.write() as session:
            settings_service.set_in(session, CACHE_KEY, value)
    except DatabaseError:
        pass


# --- the cards ----------------------------------------------------------------------------


def _cards(session: Session, calendar: StudyCalendar, today: date, now_ms: int, p: batch.Params):
    # the flags packed below the last review's time (ms, -1 for none): fewer values
    # per row is what makes this fast (each column is one text to build and parse)
    packed, stability, due = bulk.fetch_columns(
        session,
        [
            (
                "(COALESCE(last_review_ms, -1) + 1) * 32 + state "
                "+ 4 * CASE WHEN last_review_ms IS NULL THEN 1 ELSE 0 END "
                "+ 8 * CAST(suspended AS INTEGER) "
                "+ 16 * CASE WHEN buried_until > ? THEN 1 ELSE 0 END",
                np.int64,
            ),
            (_fixed_point("stability"), np.int64),
            ("due_ms", np.int64),
        ],
        "FROM cards ORDER BY id",
        (bulk.date_param(session, today),),
    )
    stability = _from_fixed_point(stability)
    flags, last = packed & 31, (packed >> 5) - 1
    state, new, suspended = flags & 3, (flags & 4) > 0, (flags & 8) > 0
    buried = ((flags & 16) > 0) & ~suspended
    active = ~suspended & ~buried
    interval = np.rint((due - last) / DAY_MS)
    review = active & ~new & (state == CardState.REVIEW)
    counts = StateCounts(
        new=int(np.sum(active & new)),
        learning=int(np.sum(active & ~new & (state == CardState.LEARNING))),
        relearning=int(np.sum(active & ~new & (state == CardState.RELEARNING))),
        young=int(np.sum(review & (interval < MATURE_DAYS))),
        mature=int(np.sum(review & (interval >= MATURE_DAYS))),
        suspended=int(np.sum(suspended)),
        buried=int(np.sum(buried)),
    )
    reviewed = ~new & (stability > 0)
    r = batch.retrievability(
        np.where(reviewed, stability, np.nan),
        np.where(reviewed, last * 1000, batch.NO_TIME),
        now_ms * 1000,
        p,
    )[reviewed]
    histogram = np.bincount(np.minimum((r * R_BINS).astype(np.int64), R_BINS - 1), minlength=R_BINS)
    due_bounds = _boundaries(calendar, today, FORECAST_DAYS)
    scheduled = due[~new & ~suspended]
    slot = np.maximum(np.searchsorted(due_bounds, scheduled, side="right") - 1, 0)
    forecast = np.bincount(slot[scheduled < due_bounds[-1]], minlength=FORECAST_DAYS)
    return counts, histogram.tolist(), float(r.sum()), forecast.tolist()


@dataclass(frozen=True)
class CollectionRetrievability:
    """Retrievability of every reviewed card at one moment: ``card_ids`` int64 and ``retrievability`` float64, shape (n,)."""

    card_ids: np.ndarray
    retrievability: np.ndarray


def collection_retrievability_in(
    session: Session, p: batch.Params, now_us: int
) -> CollectionRetrievability:
    """See :func:`collection_retrievability` (inside an open session)."""
    cards = bulk.load_memory_states(session)
    r = batch.retrievability(cards.stability, cards.last_review_us, now_us, p)
    return CollectionRetrievability(cards.card_ids, r)


def collection_retrievability(
    db: Database, p: batch.Params, now: datetime | None = None
) -> CollectionRetrievability:
    """The retrievability of every reviewed card (new cards are left out) at ``now`` (default: now), ordered by card id."""
    with db.read() as session:
        return collection_retrievability_in(session, p, batch.to_us(now or utcnow()))


# --- putting it together ------------------------------------------------------------------


def _retention(rows: np.ndarray) -> TrueRetention:
    total = rows.sum(axis=0) if rows.size else np.zeros(_WIDTH)
    return TrueRetention(
        young=RetentionCounts(int(total[_YP]), int(total[_YF])),
        mature=RetentionCounts(int(total[_MP]), int(total[_MF])),
    )


def collection_stats(
    db: Database,
    *,
    now: datetime | None = None,
    use_cache: bool = True,
    period_days: int | None = None,
) -> Stats:
    """Compute :class:`Stats` at ``now`` (default: the current time).

    ``use_cache=False`` recomputes every day from the review log (and stores nothing).
    ``period_days``: the review-log figures cover only the last ``period_days``
    study days up to today, as Anki's statistics do (its ``graphs(days=365)``
    reads the revlog of the last year only): then ``true_retention["all"]``,
    the inter-day answers, their retention, log loss and RMSE are those of the
    period, and the streak is counted within it (a streak as long as the
    period is counted again over the whole history). None (the default): the
    whole history. The cards' figures (counts, forecast, retrievability) are
    the same either way.

    Raises:
        ValueError: ``period_days`` shorter than the 365 days of ``reviews_per_day``.
    """
    if period_days is not None and period_days < HISTORY_DAYS:
        raise ValueError(f"period_days must be at least {HISTORY_DAYS}, not {period_days}")
    moment = ensure_utc(now) if now is not None else utcnow()
    calendar = settings_service.calendar(db)
    today = calendar.day_of(moment)
    with db.read() as session:
        p = config_in(session).params()
        first, days, store = _history(session, calendar, p, today, use_cache, period_days)
        counts, histogram, knowledge, forecast = _cards(session, calendar, today, to_ms(moment), p)
        journal_days = set(
            session.scalars(select(JournalEntry.day).where(JournalEntry.day <= today).distinct())
        )
    if store is not None:  # after the read transaction, so a busy writer cannot stall it
        _store_cache(db, store)
    t = (today - first).days  # row of today
    per_day = []
    for k in range(HISTORY_DAYS - 1, -1, -1):
        i = t - k
        per_day.append(
            (today - timedelta(days=k), int(days[i, _COUNT]) if 0 <= i < days.shape[0] else 0)
        )
    active = {first + timedelta(days=i) for i in range(days.shape[0]) if days[i, _COUNT] > 0}
    retention = {}
    for name, (newest, oldest) in PERIODS.items():
        lo, hi = max(t - oldest + 1, 0), max(t - newest + 1, 0)
        retention[name] = _retention(days[lo:hi])
    retention["all"] = _retention(days[: t + 1])
    totals = days[: t + 1].sum(axis=0)
    n_inter = int(totals[_INTER])
    is_active = (active | journal_days).__contains__
    streak = streak_length(is_active, today, limit_days=10**6)
    start = today if is_active(today) else today - timedelta(days=1)
    earliest = start - timedelta(days=streak - 1)
    if period_days is not None and streak and earliest <= first:
        # the streak reaches the period's first day: it may go on before the period
        with db.read() as session:
            streak += _streak_before(session, calendar, earliest, journal_days)
    return Stats(
        today=today,
        reviews_per_day=per_day,
        streak=streak,
        forecast=[(today + timedelta(days=i), n) for i, n in enumerate(forecast)],
        true_retention=retention,
        counts=counts,
        retrievability_histogram=histogram,
        total_knowledge=knowledge,
        inter_day_reviews=n_inter,
        inter_day_retention=float(totals[_INTER_PASS] / n_inter) if n_inter else None,
        log_loss=float(totals[_LL] / n_inter) if n_inter else None,
        rmse=math.sqrt(totals[_SQ] / n_inter) if n_inter else None,
        period_days=period_days,
    )


__all__ = [
    "RetentionCounts",
    "StateCounts",
    "Stats",
    "CollectionRetrievability",
    "TrueRetention",
    "collection_retrievability",
    "collection_stats",
]
