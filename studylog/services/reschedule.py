"""Rescheduling the whole collection: read arrays, run the NumPy FSRS, write them back.

The math is :mod:`studylog.scheduling.batch` (pure, no SQL); the rows are
:mod:`studylog.storage.bulk` (no math). This module joins the two inside the
caller's transaction.

Two of Anki's behaviours on a change of parameters or desired retention
(manual, "Deck Options", FSRS: "Reschedule cards on change"):

- with ``move_due`` (studylog's setting ``reschedule_on_change``, on by
  default) every card's memory state and due date are recomputed;
- without it only the memory states (stability, difficulty) are updated from
  the replayed history and every due date stays where it is.

The review rows: a whole-collection replay writes the cards but not the
rows' memory states (stability, difficulty, due, interval): those become a
cache, derived when read, and the replay records which rows are stale and
with which parameters their valid states are derived
(:mod:`studylog.services.review_states`; it writes only the state and step
columns that differ). Rewriting a million rows cost 6-9 s of the 1 s target
(issue 13). A replay of some cards (an import, a deck's preset, an answer
older than the card's last review) still rewrites their rows.

A settings change that reschedules keeps one undo snapshot
(:func:`save_undo_in`, key :data:`UNDO_KEY`): in the ``settings`` table the
old stored values of the settings it changed, the newest review id and the
review rows' stale marker; in ``undo_data`` every card's scheduling columns
as a NumPy archive (51 bytes a card, :mod:`studylog.storage.undo_data`). Undoing
(:func:`studylog.services.settings.undo_reschedule`) puts the settings and
every card back exactly and the marker as it was (rows never rewritten are
valid again; a change that rewrote rows gets them derived again from the
history with the old settings); it refuses when an answer was saved or
undone since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError
from studylog.scheduling import batch
from studylog.scheduling import settings as defs
from studylog.scheduling.balance_batch import balanced_intervals
from studylog.scheduling.fuzz import fuzz_units, fuzzed_days
from studylog.scheduling.states import CardState
from studylog.services import due_load, review_states
from studylog.storage import bulk, undo_data
from studylog.storage.engine import Database
from studylog.storage.models import Setting
from studylog.studyday import utcnow

UNDO_KEY = "undo.reschedule"
"""The key of the latest reschedule's undo snapshot (one, the newest): its small part is
a JSON value in ``settings``, the cards' arrays a row of ``undo_data``
(:mod:`studylog.storage.undo_data`)."""


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
    move_due: bool = True,
    write_cards: bool = True,
    write_rows: bool = True,
    current: bulk.CardSnapshot | None = None,
) -> RescheduleSummary:
    """Reschedule every card (or only ``card_ids``) with ``p`` inside the caller's transaction.

    ``current``: every card as stored now, when the caller has read it (the
    undo snapshot, :func:`save_undo_in`): a replay then writes only the cards
    and columns that change (:func:`studylog.storage.bulk.write_card_states`).

    ``write_cards`` False: only the review rows' derived states are rewritten (an
    undo, which then puts every card back from its snapshot: each card written once);
    with ``write_rows`` False too, a whole-collection replay writes nothing (the undo
    put the stale marker back: :func:`studylog.services.review_states.pop_in`).

    ``move_due`` False (Anki's "Reschedule cards on change" unticked): a full
    replay only updates each card's stability and difficulty
    (:func:`update_memory_states_in`) and nothing else moves.

    ``full``: replay every card's history from its review rows (needed when the
    parameters or the steps change), as ``Scheduler.reschedule_card`` would,
    and rewrite the cards (the review rows: :func:`replay_in`). Otherwise (only the desired
    retention, maximum interval or fuzz changed, which leave the memory state
    alone) only the due date of each Review card is recomputed from its
    stability: last_review + next interval.
    """
    due_load.forget()  # due dates move without review rows: the balancer counts again
    if full:
        if not write_cards and not move_due:  # the review rows stay as they are
            return RescheduleSummary(cards=0, reviews=0, due_changed=0, full_replay=True)
        if not move_due:
            return update_memory_states_in(session, p, card_ids)
        return replay_in(
            session,
            p,
            card_ids,
            write_cards=write_cards,
            write_rows=write_rows,
            current=current,
            balance=True,
        )
    # Retention, maximum interval, fuzz: the memory state does not change (and an undo
    # puts the dues back from its snapshot).
    if not move_due or not write_cards:
        return RescheduleSummary(cards=0, reviews=0, due_changed=0, full_replay=False)
    if current is not None and card_ids is None:  # every card was just read: no query
        cards = bulk.snapshot_memory_states(current, review_only=True)
    else:
        cards = bulk.load_memory_states(session, review_only=True)
    if card_ids is not None:
        cards = bulk.memory_states_of(cards, np.asarray(card_ids, dtype=np.int64))
    days = batch.next_interval_days(cards.stability, p)
    if p.enable_fuzzing:
        days = fuzzed_days(days, fuzz_units(cards.card_ids, cards.reps), p.maximum_interval)
    due = cards.last_review_us + days * batch.DAY_US
    due = balanced_dues_in(
        session,
        p,
        cards.card_ids,
        cards.stability,
        cards.last_review_us,
        cards.reps,
        due,
        cards.due_us,
        current=current if card_ids is None else None,
    )
    moved = due != cards.due_us
    bulk.write_dues(session, cards.card_ids[moved], due[moved])
    return RescheduleSummary(
        cards=int(cards.card_ids.size), reviews=0, due_changed=int(moved.sum()), full_replay=False
    )


def update_memory_states_in(
    session: Session, p: batch.Params, card_ids: Sequence[int] | None = None
) -> RescheduleSummary:
    """Recompute every card's memory state from its history without moving anything.

    Each card with reviews gets the stability and difficulty its replayed
    history gives with ``p`` (as ``Scheduler.reschedule_card``); state, due
    date, reps and lapses stay, and so do the review rows (Anki's memory-state
    update when "Reschedule cards on change" is off). One transaction: the caller's.
    """
    h = bulk.load_replay_histories(session, card_ids)
    assert h.initial_due_us is not None
    result = batch.replay(
        h.offsets,
        h.ratings,
        h.times_us,
        p,
        card_ids=h.card_ids,
        initial_due_us=h.initial_due_us,
        record=False,
    )
    bulk.write_memory_states(session, h.card_ids, result.cards.stability, result.cards.difficulty)
    return RescheduleSummary(
        cards=int(h.card_ids.size), reviews=int(h.ratings.size), due_changed=0, full_replay=True
    )


def replay_in(
    session: Session,
    p: batch.Params,
    card_ids: Sequence[int] | None = None,
    *,
    write_cards: bool = True,
    write_rows: bool = True,
    current: bulk.CardSnapshot | None = None,
    balance: bool = False,
) -> RescheduleSummary:
    """Replay the whole history of ``card_ids`` (all cards with reviews if None) and write it back.

    ``balance``: a reschedule after a settings change (:func:`reschedule_in`):
    the Review cards' new days are load balanced (:func:`balanced_dues_in`).
    Otherwise (an import, an answer older than the card's last review, its
    undo) each card gets the plain fuzz its history gives, as a replay always
    has, without reading the day counts.

    Each card's state, reps and lapses become those of its replayed history.
    The state before a card's first review is a new card due at that
    review's ``due_before`` (or the card's current due when unknown). One
    transaction: the caller's. The statistics' per-day cache is dropped.

    The review rows (the facts, rating and time, are never touched):

    - ``card_ids`` given (an import, an answer older than the card's last
      review, a deck's preset): every one of their rows gets the replayed
      state before and after, and the cards are recorded as fresh in the
      stale marker (:func:`studylog.services.review_states.mark_fresh_in`).
    - the whole collection: only the state and step columns that differ are
      written (none when only the parameters changed); the memory columns
      become stale, recorded by the marker
      (:mod:`studylog.services.review_states`), and are derived when read.
    - the whole collection with ``write_cards`` False (the undo of a
      reschedule, which puts the cards back from its snapshot): nothing when
      ``write_rows`` is False (the undo put the previous marker back),
      otherwise every row is rewritten and the marker dropped.
    """
    if card_ids is None and not write_cards and not write_rows:
        return RescheduleSummary(cards=0, reviews=0, due_changed=0, full_replay=True)
    stale = card_ids is None and write_cards
    h = bulk.load_replay_histories(
        session, card_ids, with_state_codes=stale, current=current if card_ids is None else None
    )
    assert h.initial_due_us is not None and h.current_due_us is not None
    result = batch.replay(
        h.offsets, h.ratings, h.times_us, p, card_ids=h.card_ids, initial_due_us=h.initial_due_us
    )
    assert result.before is not None and result.after is not None
    if write_cards and balance:  # (an undo puts the cards back from its snapshot)
        review = result.cards.state == int(CardState.REVIEW)
        review &= result.cards.last_review != bulk.NO_TIME
        at = np.flatnonzero(review)
        result.cards.due[at] = balanced_dues_in(
            session,
            p,
            h.card_ids[at],
            result.cards.stability[at],
            result.cards.last_review[at],
            result.reps[at],
            result.cards.due[at],
            h.current_due_us[at],
            current=current if card_ids is None else None,
        )
    if write_cards:  # else the caller writes the cards itself (an undo, from its snapshot)
        bulk.write_card_states(
            session, h.card_ids, result.cards, result.reps, result.lapses, current=current
        )
    if stale:
        assert h.state_codes is not None
        codes = bulk.state_codes(result.before, result.after)
        differ = np.flatnonzero(codes != h.state_codes)
        differ = differ[np.argsort(h.review_ids[differ], kind="stable")]  # the table's order
        bulk.write_state_codes(session, h.review_ids[differ], codes[differ])
        marker = review_states.StaleStates(_last_review_id(session), p, np.zeros(0, dtype=np.int64))
        review_states.store_in(session, marker, (h.review_ids[differ], h.state_codes[differ]))
    else:
        bulk.write_review_states(session, h.review_ids, h.times_us, result.before, result.after)
        if card_ids is None:
            review_states.drop_in(session)  # every row holds its replayed states now
        else:
            review_states.mark_fresh_in(session, h.card_ids)
    bulk.drop_stats_cache(session)
    moved = int(np.sum(h.current_due_us != result.cards.due))
    return RescheduleSummary(
        cards=int(h.card_ids.size),
        reviews=int(h.review_ids.size),
        due_changed=moved,
        full_replay=True,
    )


def balanced_dues_in(
    session: Session,
    p: batch.Params,
    card_ids: np.ndarray,
    stability: np.ndarray,
    last_review_us: np.ndarray,
    reps: np.ndarray,
    due_us: np.ndarray,
    old_due_us: np.ndarray,
    *,
    now: datetime | None = None,
    current: bulk.CardSnapshot | None = None,
) -> np.ndarray:
    """The due times of rescheduled Review cards after load balancing (int64 epoch µs, (n,)).

    ``due_us`` is each card's new due with the plain fuzz (last review + fuzzed
    interval); with fuzz and the setting ``load_balancing`` on, each card's day
    is chosen again inside its fuzz range against the collection's due counts
    from ``now``'s study day on, as Anki's rescheduler does
    (:func:`studylog.scheduling.balance_batch.balanced_intervals`); otherwise
    ``due_us`` comes back as it is. Arrays aligned, shape (n,): ``card_ids``
    int64, ``stability`` float64 days (the new memory state), ``last_review_us``
    int64 epoch µs, ``reps`` int64 (the fuzz seed), ``old_due_us`` the due
    before (its day's count moves). ``current``: every card as stored now, when
    the caller has read it: the counts come from it instead of a query.
    """
    from studylog.services import settings as settings_service  # settings imports this module

    if not p.enable_fuzzing or not due_us.size:
        return due_us
    found = settings_service.values_in(session)
    balancing = defs.balancing_from(found)
    if not balancing.enabled:
        return due_us
    calendar = settings_service.calendar_from(found)
    today = calendar.day_of(now or utcnow())
    starts = due_load.day_starts_ms(calendar, today)
    suspended = bulk.suspended_card_ids(session)
    if current is None:
        counts = due_load.count_due(session, starts)
    else:
        review = current.cards.state == int(CardState.REVIEW)
        review &= ~np.isin(current.card_ids, suspended, assume_unique=True)
        counts = due_load.count_due_times(current.cards.due[review] // 1000, starts)
    last_ms, old_ms = (
        last_review_us // 1000,
        np.where(old_due_us == bulk.NO_TIME, -1, old_due_us // 1000),
    )
    days = balanced_intervals(
        batch.next_interval_days(stability, p),
        (due_us - last_review_us) // batch.DAY_US,
        fuzz_units(card_ids, reps),
        last_ms,
        old_ms,
        ~np.isin(card_ids, suspended),
        maximum_interval=p.maximum_interval,
        day_starts_ms=starts,
        due_counts=counts,
        weekday_today=today.weekday(),
        easy_days=balancing.easy_days,
    )
    return last_review_us + days * batch.DAY_US


def reschedule(db: Database, p: batch.Params, *, full: bool = True) -> RescheduleSummary:
    """:func:`reschedule_in` as one write transaction."""
    with db.write() as session:
        return reschedule_in(session, p, full=full)


# --- undo -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoSnapshot:
    """A saved reschedule (see the module docstring).

    Attributes:
        label: what changed, in words (``desired_retention 0.9 -> 0.85``).
        settings: stored settings key -> its JSON value before (None: it was not stored).
        replayed: the review rows' states were rewritten (a full replay that moved dues).
        last_review_id: the newest review id when it was saved.
        cards: every card's scheduling columns before.
        stale_before: the review rows' stale marker before, as stored (None: none)
            (:mod:`studylog.services.review_states`).
    """

    label: str
    settings: dict[str, Any]
    replayed: bool
    last_review_id: int
    cards: bulk.CardSnapshot
    stale_before: dict[str, Any] | None = None


def _last_review_id(session: Session) -> int:
    raw = bulk.raw_connection(session).execute("SELECT max(id) FROM reviews").fetchone()
    return int(raw[0]) if raw and raw[0] is not None else 0


def save_undo_in(
    session: Session, label: str, settings_before: Mapping[str, Any], *, replayed: bool
) -> bulk.CardSnapshot:
    """Keep the undo snapshot of the reschedule about to happen (replacing the previous one).

    Call it before the cards change: it reads every card's scheduling columns
    (one SELECT) and stores them with ``settings_before`` (stored key -> JSON
    value, None for absent) and the review rows' stale marker under :data:`UNDO_KEY`.
    Returns the cards as read (the ``current`` of :func:`reschedule_in`).
    """
    snapshot = bulk.load_card_snapshot(session)
    review_states.clear_overwritten_in(session)  # this snapshot is the new undo point
    payload = {
        "label": label,
        "settings": dict(settings_before),
        "replayed": replayed,
        "last_review_id": _last_review_id(session),
        "stale_before": review_states.marker_json_in(session),
    }
    # Replaced with Core statements: loading the old row first would read its JSON back.
    session.execute(delete(Setting).where(Setting.key == UNDO_KEY))
    session.execute(insert(Setting).values(key=UNDO_KEY, value=payload))
    undo_data.put(session, UNDO_KEY, snapshot.to_arrays())
    return snapshot


def load_undo_in(session: Session) -> UndoSnapshot | None:
    """The saved snapshot, or None."""
    row = session.get(Setting, UNDO_KEY)
    arrays = undo_data.get(session, UNDO_KEY, bulk.CardSnapshot.ARRAYS)
    if row is None or not isinstance(row.value, dict) or arrays is None:
        return None
    data = row.value
    cards = bulk.CardSnapshot.from_arrays(arrays)
    return UndoSnapshot(
        str(data["label"]),
        dict(data["settings"]),
        bool(data["replayed"]),
        int(data["last_review_id"]),
        cards,
        data.get("stale_before"),
    )


def check_undo_in(session: Session) -> UndoSnapshot:
    """The snapshot if it can still be undone.

    Raises:
        InvalidInputError: nothing saved, or an answer was saved or undone since
            (its schedule would be lost).
    """
    snapshot = load_undo_in(session)
    if snapshot is None:
        raise InvalidInputError("nothing to undo: no rescheduling was saved")
    if _last_review_id(session) != snapshot.last_review_id:
        raise InvalidInputError(
            f"cannot undo the rescheduling ({snapshot.label}): cards were answered since"
        )
    return snapshot


def restore_cards_in(session: Session, snapshot: UndoSnapshot) -> None:
    """Write every card's scheduling columns back from ``snapshot`` and drop it."""
    bulk.write_card_snapshot(session, snapshot.cards)
    drop_undo_in(session)
    due_load.forget()


def drop_undo_in(session: Session) -> None:
    """Forget the saved snapshot."""
    session.execute(delete(Setting).where(Setting.key == UNDO_KEY))
    undo_data.put(session, UNDO_KEY, None)
