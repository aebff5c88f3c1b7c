"""FSRS training items from review histories, built as Anki builds them (pure NumPy, no SQL).

An *item* (fsrs-rs ``FSRSItem``) is one prediction to score: a card's reviews
up to and including one review that came at least one study day after the
previous one, each review as (rating, ``delta_t`` = study days since the
previous kept review). The optimizer fits the FSRS-6 parameters so that the
probability of recall predicted from an item's history matches its last
rating (Again = forgotten).

The rules are Anki's (``rslib/src/scheduler/fsrs/params.rs``:
``fsrs_items_for_training``, ``reviews_for_fsrs`` with ``training = true``
and no "ignore reviews before" date; ``RevlogEntry::days_elapsed``), written
down with their sources in ``docs/fsrs.md``:

1. cramming (an answer in a filtered deck that does not reschedule) is ignored;
2. walking back from the newest entry, the history starts at the first answer
   of the last run of consecutive learning answers; entries before it, and
   so everything before a manual reset ("Forget"), are dropped; a card with
   no learning answer after its last reset gives no items (a card whose
   history does not start with a learning step cannot be trained on);
3. of what is left only rated answers are kept (no manual due-date entries,
   no rescheduling entries);
4. elapsed days are study days: ``days_elapsed(t) = (next_day_at - t) // 86400 s``
   (whole seconds, clamped at 0) from the start of the next study day, and
   ``delta_t`` of a review is the previous kept review's ``days_elapsed``
   minus its own; the first kept review has ``delta_t = 0``;
5. every kept review after the first with ``delta_t > 0`` ends one item; the
   reviews of the same study day before it stay in its history (short-term
   reviews, which FSRS-6 models);
6. items are ordered by the time of their last review (Anki: by revlog id).

:func:`outlier_mask` is fsrs-rs's outlier filter (``dataset.rs``,
``compute_outlier_analysis``), which ``compute_parameters`` applies itself;
it is reproduced here to count what the optimizer will train on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from studylog.scheduling.states import CardState

if TYPE_CHECKING:
    import fsrs_rs_python

DAY_S = 86_400


class EntryKind(IntEnum):
    """What a review-log entry records (Anki's ``RevlogReviewKind``, numbers as Anki's).

    Anki tells some kinds apart by the entry's ease factor; here they are
    kinds of their own: ``RESET`` is Anki's Manual entry with ease factor 0
    (Forget: the card went back to new), ``CRAM`` its Filtered entry with
    ease factor 0 (a preview that did not reschedule).
    """

    LEARNING = 0  # an answer to a new or learning card
    REVIEW = 1  # an answer to a review card
    RELEARNING = 2  # an answer to a card in relearning
    FILTERED = 3  # an answer in a filtered deck that reschedules
    MANUAL = 4  # a due date set by hand: no rating
    RESCHEDULED = 5  # rescheduled after a settings change: no rating
    RESET = 6  # forget: the card went back to new, no rating
    CRAM = 7  # an answer in a filtered deck that does not reschedule


def kind_of_state(state_before: np.ndarray) -> np.ndarray:
    """The entry kind of an answer from the card's FSRS state before it (int8, same shape).

    Learning (which includes a new card) -> LEARNING, Review -> REVIEW,
    Relearning -> RELEARNING: the kind Anki logs for an answer in that state.
    """
    state = np.asarray(state_before)
    return np.select(
        [state == CardState.REVIEW, state == CardState.RELEARNING],
        [EntryKind.REVIEW, EntryKind.RELEARNING],
        EntryKind.LEARNING,
    ).astype(np.int8)


@dataclass(frozen=True)
class ReviewHistory:
    """Review-log entries of many cards, one row per entry (any order).

    Attributes:
        card_ids: int64, shape (n,).
        review_ids: int64, shape (n,): breaks ties between entries at the same time.
        times_ms: int64 epoch milliseconds (UTC), shape (n,).
        ratings: int64 1-4 (Again, Hard, Good, Easy), 0 for entries without a rating.
        kinds: int8 :class:`EntryKind`, shape (n,).
    """

    card_ids: np.ndarray
    review_ids: np.ndarray
    times_ms: np.ndarray
    ratings: np.ndarray
    kinds: np.ndarray

    def __len__(self) -> int:
        return int(self.card_ids.shape[0])

    @classmethod
    def empty(cls) -> ReviewHistory:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, np.zeros(0, dtype=np.int8))

    def take(self, index: np.ndarray) -> ReviewHistory:
        """The entries at ``index`` (an int array or a bool mask)."""
        return ReviewHistory(
            self.card_ids[index],
            self.review_ids[index],
            self.times_ms[index],
            self.ratings[index],
            self.kinds[index],
        )


@dataclass(frozen=True)
class TrainingItems:
    """FSRS items over a flat array of kept reviews.

    The kept reviews of each card are contiguous in ``ratings``/``delta_t``;
    item ``i`` is ``reviews[starts[i]:ends[i]]`` (always a prefix of its
    card's kept reviews). Items are in time order of their last review.

    Attributes:
        ratings, delta_t: int64, shape (m,): every kept review (delta_t in study days).
        review_ids: int64, shape (m,): the review each kept review came from.
        starts, ends: int64, shape (n_items,).
        card_ids: int64, shape (n_items,): the card of each item.
        times_ms: int64, shape (n_items,): the time of each item's last review.
        reviews_used: kept reviews of the cards that gave items (Anki's ``review_count``).
    """

    ratings: np.ndarray
    delta_t: np.ndarray
    review_ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    card_ids: np.ndarray
    times_ms: np.ndarray
    reviews_used: int

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def item(self, i: int) -> list[tuple[int, int]]:
        """Item ``i`` as [(rating, delta_t), ...]."""
        s, e = int(self.starts[i]), int(self.ends[i])
        return list(zip(self.ratings[s:e].tolist(), self.delta_t[s:e].tolist(), strict=True))

    def long_term_counts(self) -> np.ndarray:
        """Reviews with ``delta_t > 0`` in each item (fsrs-rs ``long_term_review_cnt``), int64."""
        cum = np.concatenate([[0], np.cumsum(self.delta_t > 0)])
        return cum[self.ends] - cum[self.starts]

    def first_long_term_delta(self) -> np.ndarray:
        """``delta_t`` of each item's first review with ``delta_t > 0``, int64."""
        long_term = np.flatnonzero(self.delta_t > 0)
        first = long_term[np.searchsorted(long_term, self.starts)]
        return self.delta_t[first]

    def labels(self) -> np.ndarray:
        """1.0 where the item's last answer was a pass (Hard/Good/Easy), else 0.0."""
        return (self.ratings[self.ends - 1] > 1).astype(np.float64)

    def take(self, index: np.ndarray) -> TrainingItems:
        """Only the items at ``index`` (the kept reviews are shared)."""
        return TrainingItems(
            self.ratings,
            self.delta_t,
            self.review_ids,
            self.starts[index],
            self.ends[index],
            self.card_ids[index],
            self.times_ms[index],
            self.reviews_used,
        )

    def to_fsrs(self) -> list[fsrs_rs_python.FSRSItem]:
        """The items as ``fsrs_rs_python.FSRSItem`` objects (in order)."""
        import fsrs_rs_python as fsrs_rs

        reviews = list(map(fsrs_rs.FSRSReview, self.ratings.tolist(), self.delta_t.tolist()))
        item = fsrs_rs.FSRSItem
        bounds = zip(self.starts.tolist(), self.ends.tolist(), strict=True)
        return [item(reviews[s:e]) for s, e in bounds]


def days_elapsed(times_ms: np.ndarray, next_day_at_ms: int) -> np.ndarray:
    """Whole study days from each time to the start of the next study day (int64, >= 0).

    Anki's ``RevlogEntry::days_elapsed``: ``(next_day_at - t) // 86400`` in
    whole seconds, clamped at 0. ``next_day_at_ms`` is when the study day
    after today begins (epoch ms, UTC); only its time of day matters for the
    differences, so any later study day start gives the same ``delta_t``.
    """
    secs = np.asarray(times_ms, dtype=np.int64) // 1000
    return np.maximum((next_day_at_ms // 1000 - secs) // DAY_S, 0)


def build_training_items(history: ReviewHistory, next_day_at_ms: int) -> TrainingItems:
    """FSRS items for training from every card's history (the module's rules 1-6).

    Args:
        history: the entries of any number of cards, in any order.
        next_day_at_ms: epoch ms at which the next study day begins (day
            start hour and time zone applied), as Anki's ``next_day_at``.
    Returns:
        :class:`TrainingItems`, empty when no card has a usable history.
    Raises:
        ValueError: a rating outside 0-4, or a rated entry of a kind without ratings.
    """
    h = history
    if len(h) and (h.ratings.min() < 0 or h.ratings.max() > 4):
        raise ValueError("ratings must be 0 (none) or 1-4")
    unrated = np.isin(h.kinds, (EntryKind.MANUAL, EntryKind.RESCHEDULED, EntryKind.RESET))
    if np.any(unrated & (h.ratings != 0)):
        raise ValueError("manual, rescheduling and reset entries have no rating (0)")
    # 1. cramming never counts; sort by card, then time, then id
    h = h.take(np.flatnonzero(h.kinds != EntryKind.CRAM))
    order = np.lexsort((h.review_ids, h.times_ms, h.card_ids))
    h = h.take(order)
    n = len(h)
    if n == 0:
        return _empty_items()
    pos = np.arange(n, dtype=np.int64)
    card_start = np.flatnonzero(np.r_[True, h.card_ids[1:] != h.card_ids[:-1]])
    card_of = np.cumsum(np.r_[True, h.card_ids[1:] != h.card_ids[:-1]]) - 1

    # 2. the last reset of each card; its last learning answer after that reset
    n_cards = card_start.size
    reset = h.kinds == EntryKind.RESET
    learning = (h.kinds == EntryKind.LEARNING) & (h.ratings > 0)
    last_reset = np.full(n_cards, -1, dtype=np.int64)
    np.maximum.at(last_reset, card_of[reset], pos[reset])
    last_learn = np.full(n_cards, -1, dtype=np.int64)
    usable = learning & (pos > last_reset[card_of])
    np.maximum.at(last_learn, card_of[usable], pos[usable])
    # ... and the first answer of the run of learning answers that ends there
    last_other = np.maximum.accumulate(np.where(~learning, pos, -1))
    has_learn = last_learn >= 0
    run_start = np.full(n_cards, -1, dtype=np.int64)
    run_start[has_learn] = np.maximum(last_other[last_learn[has_learn]] + 1, card_start[has_learn])

    # 3. keep rated answers from the run start on
    start_of = run_start[card_of]
    keep = (start_of >= 0) & (pos >= start_of) & (h.ratings > 0)
    kept = h.take(keep)
    if len(kept) == 0:
        return _empty_items()

    # 4. delta_t in study days between consecutive kept answers of a card
    new_card = np.r_[True, kept.card_ids[1:] != kept.card_ids[:-1]]
    elapsed = days_elapsed(kept.times_ms, next_day_at_ms)
    delta = np.r_[0, elapsed[:-1] - elapsed[1:]]
    delta[new_card] = 0

    # 5. one item per later answer on a later study day
    kept_start = np.flatnonzero(new_card)
    kept_card = np.cumsum(new_card) - 1
    ends_at = np.flatnonzero(~new_card & (delta > 0))
    cards_with_items = np.unique(kept_card[ends_at])
    used = int(np.diff(np.r_[kept_start, len(kept)])[cards_with_items].sum())

    # 6. in time order of the item's last review (ties by review id)
    order = np.lexsort((kept.review_ids[ends_at], kept.times_ms[ends_at]))
    ends_at = ends_at[order]
    return TrainingItems(
        ratings=kept.ratings.astype(np.int64),
        delta_t=delta.astype(np.int64),
        review_ids=kept.review_ids.astype(np.int64),
        starts=kept_start[kept_card[ends_at]].astype(np.int64),
        ends=(ends_at + 1).astype(np.int64),
        card_ids=kept.card_ids[ends_at].astype(np.int64),
        times_ms=kept.times_ms[ends_at].astype(np.int64),
        reviews_used=used,
    )


def _empty_items() -> TrainingItems:
    z = np.zeros(0, dtype=np.int64)
    return TrainingItems(z, z, z, z, z, z, z, 0)


# --- fsrs-rs's outlier filter -------------------------------------------------------------


@dataclass(frozen=True)
class OutlierSplit:
    """What fsrs-rs's ``compute_outlier_analysis`` makes of a set of items.

    Attributes:
        train: bool mask (n_items,): items the optimizer trains on.
        initialization: bool mask: items with one long-term review that fit
            the initial stabilities (w0..w3).
        removed: (first rating, delta_t) pairs removed as outliers.
    """

    train: np.ndarray
    initialization: np.ndarray
    removed: frozenset[tuple[int, int]]


def outlier_split(items: TrainingItems) -> OutlierSplit:
    """fsrs-rs's outlier filter (``dataset.rs``: ``compute_outlier_analysis``).

    Items with exactly one long-term review are grouped by their first rating
    and the ``delta_t`` of that review. Within each first rating, the
    smallest groups (ties: shorter ``delta_t`` first) are removed until at
    least max(20, 5 %) of the rating's items are gone; of the rest, a group is
    kept only if it has at least 6 items and ``delta_t <= 100`` days (365 for
    Easy). Every item whose (first rating, first long-term ``delta_t``) pair
    was removed is dropped from training too.
    """
    n = len(items)
    first_rating = items.ratings[items.starts] if n else np.zeros(0, dtype=np.int64)
    first_delta = items.first_long_term_delta() if n else np.zeros(0, dtype=np.int64)
    single = items.long_term_counts() == 1 if n else np.zeros(0, dtype=bool)
    removed: set[tuple[int, int]] = set()
    kept_pairs: set[tuple[int, int]] = set()
    for rating in np.unique(first_rating[single]).tolist():
        in_rating = single & (first_rating == rating)
        deltas, sizes = np.unique(first_delta[in_rating], return_counts=True)
        total = int(sizes.sum())
        # ascending size, then ascending delta_t (the reverse of fsrs-rs's sort)
        order = np.lexsort((deltas, sizes))
        removed_so_far = 0
        limit = max(20, total // 20)
        for delta, size in zip(deltas[order].tolist(), sizes[order].tolist(), strict=True):
            if removed_so_far + size >= limit:
                if size >= 6 and delta <= (100 if rating != 4 else 365):
                    kept_pairs.add((rating, delta))
                else:
                    removed.add((rating, delta))
            else:
                removed_so_far += size
                removed.add((rating, delta))
    pair = first_rating * 1_000_000 + first_delta
    removed_codes = np.array([r * 1_000_000 + d for r, d in removed], dtype=np.int64)
    kept_codes = np.array([r * 1_000_000 + d for r, d in kept_pairs], dtype=np.int64)
    train = ~np.isin(pair, removed_codes)
    initialization = single & np.isin(pair, kept_codes)
    return OutlierSplit(train=train, initialization=initialization, removed=frozenset(removed))


__all__ = [
    "EntryKind",
    "OutlierSplit",
    "ReviewHistory",
    "TrainingItems",
    "build_training_items",
    "days_elapsed",
    "kind_of_state",
    "outlier_split",
]
