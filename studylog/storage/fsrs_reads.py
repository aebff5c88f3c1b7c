"""Reading the review log for FSRS fitting: review rows as arrays, optionally for one deck.

The rows become a :class:`studylog.scheduling.training.ReviewHistory`: each
answer's entry kind is the card's state before it (a new or learning card:
Learning; Review; Relearning), as Anki logs it. A row with rating 0 is a
manual reset ("Forget": the card went back to new) and drops the history
before it, as Anki's Manual entry with ease factor 0 does. Cards that are
suspended now are left out, as Anki's default search for optimizing
(``preset:"..." -is:suspended``) leaves them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from sqlalchemy.orm import Session

from studylog.scheduling.training import EntryKind, ReviewHistory, kind_of_state
from studylog.storage.bulk_insert import raw_connection
from studylog.storage.columns import scan_reviews


def _deck_filter(deck: str | None) -> tuple[str, tuple[object, ...]]:
    """SQL condition on ``c.deck`` for a deck and its subdecks (Anki's ``deck:D``)."""
    if deck is None:
        return "", ()
    return " AND (c.deck = ? OR substr(c.deck, 1, ?) = ?)", (deck, len(deck) + 2, deck + "::")


@dataclass(frozen=True)
class AnswerLog:
    """The review history plus each answer's duration (ms, NaN when unknown), aligned;
    ``extra``: the further review columns asked of :func:`load_answer_log`, aligned too."""

    history: ReviewHistory
    duration_ms: np.ndarray
    extra: tuple[np.ndarray, ...] = ()


def load_answer_log(
    session: Session,
    *,
    deck: str | None = None,
    extra: Sequence[tuple[str, type]] = (),
) -> AnswerLog:
    """Every review row of unsuspended cards (of ``deck`` and its subdecks if given).

    Returns arrays in (card, time in ms, id) order; times are epoch milliseconds, UTC.
    ``extra``: more review columns read in the same scan, as
    :func:`studylog.storage.columns.scan_reviews` takes them (SQL over ``r``, dtype;
    no NULLs), in :attr:`AnswerLog.extra`.
    """
    where, params = _deck_filter(deck)
    # In the table's order, sorted in NumPy (scan_reviews: the card order's walk
    # fetched almost each row from another page)
    scan = scan_reviews(
        session,
        [
            ("r.rating", np.int64),
            ("r.state_before", np.int64),
            ("COALESCE(r.duration_ms, -1)", np.int64),
            *extra,
        ],
        card_where=f"NOT c.suspended{where}",
        params=params,
    )
    ratings, state_before, duration_ms, *more = scan.columns
    kinds = np.where(ratings == 0, np.int8(EntryKind.RESET), kind_of_state(state_before))
    history = ReviewHistory(
        card_ids=scan.card_ids,
        review_ids=scan.review_ids,
        times_ms=scan.times_ms,
        ratings=ratings,
        kinds=kinds.astype(np.int8),
    )
    duration = np.where(duration_ms >= 0, duration_ms, np.nan).astype(np.float64)
    return AnswerLog(history, duration, tuple(more))


def deck_exists(session: Session, deck: str) -> bool:
    """Whether any card is in ``deck`` or one of its subdecks."""
    where, params = _deck_filter(deck)
    sql = f"SELECT 1 FROM cards c WHERE 1 = 1{where} LIMIT 1"
    return raw_connection(session).execute(sql, params).fetchone() is not None


@dataclass(frozen=True)
class CardStates:
    """Every unsuspended card's FSRS state, aligned arrays of shape (n,).

    ``state`` int64 (1 Learning, 2 Review, 3 Relearning), ``stability`` days and
    ``difficulty`` 1-10 (NaN when unknown), ``last_review_ms`` and ``due_ms``
    epoch ms (``last_review_ms`` -1 for a new card), ``lapses`` int64.
    """

    state: np.ndarray
    stability: np.ndarray
    difficulty: np.ndarray
    last_review_ms: np.ndarray
    due_ms: np.ndarray
    lapses: np.ndarray

    @property
    def new(self) -> np.ndarray:
        """Cards never answered (bool)."""
        return self.last_review_ms < 0


def load_card_states(session: Session) -> CardStates:
    """The memory state, due time and lapses of every unsuspended card."""
    sql = (
        "SELECT state, COALESCE(stability, -1), COALESCE(difficulty, -1), "
        "COALESCE(last_review_ms, -1), due_ms, lapses "
        "FROM cards WHERE NOT suspended"
    )
    rows = raw_connection(session).execute(sql).fetchall()
    m = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=len(rows) * 6).reshape(-1, 6)
    return CardStates(
        state=m[:, 0].astype(np.int64),
        stability=np.where(m[:, 1] > 0, m[:, 1], np.nan),
        difficulty=np.where(m[:, 2] > 0, m[:, 2], np.nan),
        last_review_ms=m[:, 3].astype(np.int64),
        due_ms=m[:, 4].astype(np.int64),
        lapses=m[:, 5].astype(np.int64),
    )
