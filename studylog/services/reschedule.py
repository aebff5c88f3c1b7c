"""Rescheduling the whole collection: read arrays, run the NumPy FSRS, write them back.

The math is :mod:`studylog.scheduling.batch` (pure, no SQL); the rows are
:mod:`studylog.storage.bulk` (no math). This module joins the two inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from studylog.scheduling import batch
from studylog.scheduling.fuzz import fuzz_units, fuzzed_days
from studylog.storage import bulk
from studylog.storage.engine import Database


@dataclass(frozen=True)
class RescheduleSummary:
    """What a reschedule changed: cards updated, reviews replayed, dues that moved."""

    cards: int
    reviews: int
    due_changed: int
    full_replay: bool


def reschedule_in(
    session: Session,
    p: batch.Params,
    *,
    full: bool = True,
    card_ids: Sequence[int] | None = None,
) -> RescheduleSummary:
    """Reschedule every card (or only ``card_ids``) with ``p`` inside the caller's transaction.

    ``full``: replay every card's history from its review rows (needed when the
    parameters or the steps change), as ``Scheduler.reschedule_card`` would,
    and rewrite the cards and the derived columns of the review rows (state,
    stability, difficulty, due before/after). Otherwise (only the desired
    retention, maximum interval or fuzz changed, which leave the memory state
    alone) only the due date of each Review card is recomputed from its
    stability: last_review + next interval.
    """
    if full:
        return replay_in(session, p, card_ids)
    cards = bulk.load_memory_states(session, review_only=True)
    if card_ids is not None:
        cards = bulk.memory_states_of(cards, np.asarray(card_ids, dtype=np.int64))
    days = batch.next_interval_days(cards.stability, p)
    if p.enable_fuzzing:
        days = fuzzed_days(days, fuzz_units(cards.card_ids, cards.reps), p.maximum_interval)
    due = cards.last_review_us + days * batch.DAY_US
    moved = due != cards.due_us
    bulk.write_dues(session, cards.card_ids[moved], due[moved])
    return RescheduleSummary(
        cards=int(cards.card_ids.size), reviews=0, due_changed=int(moved.sum()), full_replay=False
    )


def replay_in(
    session: Session, p: batch.Params, card_ids: Sequence[int] | None = None
) -> RescheduleSummary:
    """Replay the whole history of ``card_ids`` (all cards with reviews if None) and write it back.

    Each card's state, reps and lapses become those of its replayed history,
    and every one of its review rows gets the replayed state before and after
    (the facts, rating and time, are untouched). The state before a card's
    first review is a new card due at that review's ``due_before`` (or the
    card's current due when unknown). One transaction: the caller's. The
    statistics' per-day cache is dropped, since it aggregates review rows.
    """
    h = bulk.load_replay_histories(session, card_ids)
    assert h.initial_due_us is not None and h.current_due_us is not None
    result = batch.replay(
        h.offsets, h.ratings, h.times_us, p, card_ids=h.card_ids, initial_due_us=h.initial_due_us
    )
    assert result.before is not None and result.after is not None
    bulk.write_card_states(session, h.card_ids, result.cards, result.reps, result.lapses)
    bulk.write_review_states(session, h.review_ids, h.times_us, result.before, result.after)
    bulk.drop_stats_cache(session)
    moved = int(np.sum(h.current_due_us != result.cards.due))
    return RescheduleSummary(
        cards=int(h.card_ids.size),
        reviews=int(h.review_ids.size),
        due_changed=moved,
        full_replay=True,
    )


def reschedule(db: Database, p: batch.Params, *, full: bool = True) -> RescheduleSummary:
    """:func:`reschedule_in` as one write transaction."""
    with db.write() as session:
        return reschedule_in(session, p, full=full)
