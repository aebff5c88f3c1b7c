"""FSRS memory statistics: histograms of difficulty, stability and retrievability, memorised
cards over time, and the fit's RMSE over Anki's bins.

These are Anki's FSRS graphs (Statistics: "Card Difficulty", "Card Stability",
"Card Retrievability", and the simulator's "memorised" curve applied to the
past):

- difficulty: every reviewed, unsuspended card's D (1-10) as Anki shows it,
  (D - 1) / 9 in 10 bins of 10 %;
- stability: S in days, in the bins of :data:`STABILITY_EDGES_D` (Anki groups
  stability like intervals: days, weeks, months, years);
- retrievability: R now, 20 bins of 5 % (the same as ``stats``'s histogram);
- memorised: for each of the last ``days`` study days, the sum of R over
  every card with a review before that day's end, at that day's end (today:
  now), from the stability each review left (``reviews.stability_after``, or
  for rows a whole-collection replay left stale the replay's:
  :mod:`studylog.services.review_states`);
  with the current parameters' forgetting curve;
- rmse_bins / log_loss: the current parameters on the training items of
  ``fsrs evaluate`` (fsrs-rs's ``evaluate``, Anki's binning).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

import numpy as np

from studylog.scheduling import batch, fitting
from studylog.services import review_states
from studylog.services import settings as settings_service
from studylog.services.review import config_in
from studylog.storage import columns
from studylog.storage.engine import Database
from studylog.storage.times import to_ms
from studylog.studyday import ensure_utc, utcnow

DAY_MS = 86_400_000
DIFFICULTY_BINS = 10
R_BINS = 20
STABILITY_EDGES_D = (0, 1, 2, 3, 5, 7, 14, 21, 30, 60, 90, 180, 365, 730, 1825)
MEMORISED_DAYS = 365
_CHUNK = 4_000_000  # (segment, day) pairs evaluated at once: ~100 MB of float64 temporaries


@dataclass(frozen=True)
class Histogram:
    """Cards per bin: ``labels[i]`` names bin i, ``counts[i]`` its cards."""

    labels: list[str]
    counts: list[int]

    def to_json(self) -> dict[str, Any]:
        return {"labels": self.labels, "counts": self.counts}


@dataclass(frozen=True)
class MemoryStats:
    """What :func:`memory_stats` computed.

    Attributes:
        difficulty, stability, retrievability: histograms of the reviewed,
            unsuspended cards (see the module docstring for the bins).
        memorised: (study day, sum of R at its end) for the last days, oldest first.
        items: training items scored; log_loss, rmse_bins: the current
            parameters' scores on them (None without items).
    """

    difficulty: Histogram
    stability: Histogram
    retrievability: Histogram
    memorised: list[tuple[date, float]]
    items: int
    log_loss: float | None
    rmse_bins: float | None

    def to_json(self) -> dict[str, Any]:
        """Keys added to ``stats --json`` (its ``retrievability_histogram`` is the same as
        :attr:`retrievability`'s counts, so it is not repeated)."""
        return {
            "difficulty_histogram": self.difficulty.to_json(),
            "stability_histogram": self.stability.to_json(),
            "memorised_per_day": {d.isoformat(): round(v, 3) for d, v in self.memorised},
            "fsrs_items": self.items,
            "fsrs_log_loss": self.log_loss,
            "rmse_bins": self.rmse_bins,
        }


def _stability_labels() -> list[str]:
    def short(days: int) -> str:
        if days >= 365 and days % 365 == 0:
            return f"{days // 365}y"
        if days >= 30 and days % 30 == 0:
            return f"{days // 30}mo"
        if days >= 7 and days % 7 == 0:
            return f"{days // 7}w"
        return f"{days}d"

    edges = STABILITY_EDGES_D
    labels = [f"{short(a)}-{short(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return [*labels, f"{short(edges[-1])}+"]


def histograms(
    difficulty: np.ndarray, stability: np.ndarray, retrievability: np.ndarray
) -> tuple[Histogram, Histogram, Histogram]:
    """The three histograms of aligned float64 arrays (D 1-10, S days, R 0-1), shape (n,)."""
    d = np.clip((difficulty - 1.0) / 9.0, 0.0, 1.0)
    d_counts = np.bincount(
        np.minimum((d * DIFFICULTY_BINS).astype(np.int64), DIFFICULTY_BINS - 1),
        minlength=DIFFICULTY_BINS,
    )
    step = 100 // DIFFICULTY_BINS
    d_labels = [f"{i * step}-{i * step + step}%" for i in range(DIFFICULTY_BINS)]
    s_slot = np.searchsorted(np.asarray(STABILITY_EDGES_D, dtype=np.float64), stability, "right")
    s_counts = np.bincount(
        np.clip(s_slot - 1, 0, len(STABILITY_EDGES_D) - 1), minlength=len(STABILITY_EDGES_D)
    )
    r_counts = np.bincount(
        np.minimum((retrievability * R_BINS).astype(np.int64), R_BINS - 1), minlength=R_BINS
    )
    r_labels = [f"{i * 5}-{i * 5 + 5}%" for i in range(R_BINS)]
    return (
        Histogram(d_labels, d_counts.tolist()),
        Histogram(_stability_labels(), s_counts.tolist()),
        Histogram(r_labels, r_counts.tolist()),
    )


def memorised_per_day(
    card_ids: np.ndarray,
    times_ms: np.ndarray,
    stability: np.ndarray,
    moments_ms: np.ndarray,
    p: batch.Params,
) -> np.ndarray:
    """Sum of R at each moment over every card's latest review before it (float64, (days,)).

    Args:
        card_ids, times_ms, stability: the review rows grouped by card in time
            order, int64 / int64 epoch ms / float64 days after the review (NaN:
            the review left no memory, e.g. a reset), shape (n,).
        moments_ms: int64 increasing evaluation moments, shape (days,).
    A review's stability holds from it until the card's next review; R is the
    forgetting curve of ``p`` after the whole days elapsed (as the scheduler).
    """
    days = moments_ms.size
    out = np.zeros(days, dtype=np.float64)
    if card_ids.size == 0:
        return out
    last_of_card = np.r_[card_ids[1:] != card_ids[:-1], True]
    ends = np.where(last_of_card, np.iinfo(np.int64).max, np.r_[times_ms[1:], 0])
    first = np.searchsorted(moments_ms, times_ms, side="left")  # first moment at/after it
    stop = np.searchsorted(moments_ms, ends, side="left")  # moments before the next review
    keep = (stop > first) & (stability > 0)
    first, stop, t0, s = first[keep], stop[keep], times_ms[keep], stability[keep]
    spans = stop - first
    bounds = np.r_[0, np.cumsum(spans)]
    lo = 0
    while lo < spans.size:
        hi = int(np.searchsorted(bounds, bounds[lo] + _CHUNK, side="right")) - 1
        hi = max(hi, lo + 1)
        n = spans[lo:hi]
        seg = np.repeat(np.arange(lo, hi), n)
        offset = np.arange(int(n.sum())) - np.repeat(bounds[lo:hi] - bounds[lo], n)
        day = first[seg] + offset
        elapsed = np.floor((moments_ms[day] - t0[seg]) / DAY_MS)
        r = batch.retrievability_from_elapsed(s[seg], np.maximum(elapsed, 0.0), p)
        out += np.bincount(day, weights=r, minlength=days)
        lo = hi
    return out


def memory_stats(
    db: Database,
    *,
    now: datetime | None = None,
    days: int = MEMORISED_DAYS,
    with_fit: bool = True,
) -> MemoryStats:
    """Compute :class:`MemoryStats` at ``now`` (default: the current time).

    ``with_fit=False`` skips the training items and the RMSE (the slow part on
    a big collection). Raises InvalidInputError when the stored parameters are
    outside FSRS-6's bounds (as every FSRS command).
    """
    moment = ensure_utc(now) if now is not None else utcnow()
    calendar = settings_service.calendar(db)
    today = calendar.day_of(moment)
    with db.read() as session:
        config = config_in(session)
        p = config.params()
        conn = session.connection()
        rows = conn.exec_driver_sql(
            "SELECT difficulty, stability, last_review_ms FROM cards "
            "WHERE NOT suspended AND last_review_ms IS NOT NULL "
            "AND stability > 0 AND difficulty > 0"
        ).fetchall()
        after = [("COALESCE(r.stability_after, -1)", np.float64)]
        log = None
        if with_fit:  # one scan of the review log for the fit's items and the curve
            from studylog.storage import fsrs_reads

            log = fsrs_reads.load_answer_log(session, extra=after)
            card_ids, review_ids = log.history.card_ids, log.history.review_ids
            times_ms, stability_after = log.history.times_ms, log.extra[0]
        else:
            # In the table's order, sorted in NumPy (walking the reviews in card order
            # fetched almost each row from another page: 4.1 s of 1,000,000)
            hist = columns.scan_reviews(session, after, card_where="NOT c.suspended")
            card_ids, review_ids, times_ms = hist.card_ids, hist.review_ids, hist.times_ms
            stability_after = hist.columns[0]
        # Rows a whole-collection replay left stale: their stability from the replay.
        derived = review_states.derived_states_in(session)
    cards = np.fromiter(chain.from_iterable(rows), np.float64, len(rows) * 3).reshape(-1, 3)
    now_ms = to_ms(moment)
    r_now = batch.retrievability(
        cards[:, 1], cards[:, 2].astype(np.int64) * 1000, int(now_ms) * 1000, p
    )
    d_hist, s_hist, r_hist = histograms(cards[:, 0], cards[:, 1], r_now)
    if derived is not None:
        at = derived.index_of(review_ids)
        stale = at >= 0
        s_after = derived.after.stability[at[stale]]
        stability_after[stale] = np.where(np.isnan(s_after), -1.0, s_after)
    first_day = today - timedelta(days=days - 1)
    moments = np.array(
        [to_ms(calendar.end_of(first_day + timedelta(days=i))) for i in range(days - 1)] + [now_ms],
        dtype=np.int64,
    )
    memorised = memorised_per_day(card_ids, times_ms, stability_after, moments, p)
    items, log_loss, rmse = 0, None, None
    if log is not None:
        from studylog.services import optimizer

        data = optimizer.training_set_of(log, optimizer.checked_config(config), calendar, moment)
        items = len(data.items)
        if items:
            score = fitting.evaluate(data.items, data.config.parameters)
            log_loss, rmse = score.log_loss, score.rmse_bins
    return MemoryStats(
        difficulty=d_hist,
        stability=s_hist,
        retrievability=r_hist,
        memorised=[(first_day + timedelta(days=i), float(v)) for i, v in enumerate(memorised)],
        items=items,
        log_loss=log_loss,
        rmse_bins=rmse,
    )


__all__ = ["Histogram", "MemoryStats", "histograms", "memorised_per_day", "memory_stats"]
