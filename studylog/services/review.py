"""Reviewing cards: the service facade over :mod:`studylog.scheduling` and the hot path.

The parts live in the scheduling package (pure, no SQL) and in storage:

- settings: :mod:`studylog.scheduling.settings` (read and written by
  :mod:`studylog.services.settings`);
- one card (the ``fsrs`` package's step, fuzz, leech rule, previews):
  :mod:`studylog.scheduling.card`;
- the daily queue in Anki v3's order: :mod:`studylog.scheduling.queue`;
- undo (one model for answers, suspend, bury and bulk operations):
  :mod:`studylog.scheduling.undo`, written back by :mod:`studylog.storage.review_rows`;
- the hot path's SQL (Core statements, one SELECT by primary key, one UPDATE,
  one INSERT, COMMIT): :mod:`studylog.storage.review_rows`.

This module keeps the public API the CLI, the app and the tests use: each
answer is one transaction (the card's new state plus an appended ``reviews``
row holding the state before and after, so an answer can be undone exactly
even from another process, :func:`undo_review`), and :class:`ReviewSession`
is a study session with its queue and its undo stack.

A card lapses when a Review card is answered Again; at the 8th lapse (then
every 4 more, as Anki's leech threshold) it is tagged ``leech`` and suspended
(or only tagged, with ``leech_action = tag``).

Load balancing and easy days (settings ``load_balancing``, ``easy_days``; Anki
24.11): when fuzz picks a Review card's due day, days with fewer Review cards
due are preferred. The counts per study day come from
:mod:`studylog.services.due_load` (counted once per study day, then moved with
each answer), and a preview uses the same counts as the answer that follows,
so the interval on a button is the interval the answer gives. The counts are
the whole collection's (Anki counts the cards of the card's preset).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import fsrs
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling import decks as deck_rules
from studylog.scheduling import settings as defs
from studylog.scheduling.card import (
    ANSWER_COLUMNS,
    LEARN_AHEAD,
    LEECH_TAG,
    RATINGS,
    CardRow,
    IntervalPreview,
    check_rating,
    is_leech,
    plan_answer,
    preview_card,
    schedule,
    to_fsrs,
)
from studylog.scheduling.load_balance import DayLoad
from studylog.scheduling.queue import DailyQueue, DayProgress, QueueCounts
from studylog.scheduling.settings import DailyLimits, SchedulerConfig
from studylog.scheduling.states import CardState, Rating
from studylog.scheduling.undo import RowImage, UndoOp, UndoStack, changed_columns
from studylog.services import day_limits, deck_tree, due_load, review_states
from studylog.services import settings as settings_service
from studylog.services.cards import CardInfo, info, load_card
from studylog.services.reschedule import RescheduleSummary, replay_in
from studylog.storage import review_rows as rows
from studylog.storage.engine import Database, transaction
from studylog.storage.times import TWINS, floor_ms
from studylog.studyday import StudyCalendar, ensure_utc, utcnow

LEARNING, REVIEW, RELEARNING = CardState.LEARNING, CardState.REVIEW, CardState.RELEARNING

# Stored keys of the settings table (values are JSON); see studylog.scheduling.settings.
K_RETENTION = defs.SETTINGS["desired_retention"].stored_as
K_LEARNING_STEPS = defs.SETTINGS["learning_steps"].stored_as
K_RELEARNING_STEPS = defs.SETTINGS["relearning_steps"].stored_as
K_MAX_INTERVAL = defs.SETTINGS["maximum_interval"].stored_as
K_FUZZ = defs.SETTINGS["enable_fuzz"].stored_as
K_PARAMETERS = defs.SETTINGS["fsrs_parameters"].stored_as
K_NEW_PER_DAY = defs.SETTINGS["new_per_day"].stored_as
K_REVIEWS_PER_DAY = defs.SETTINGS["reviews_per_day"].stored_as
K_LEECH_THRESHOLD = defs.SETTINGS["leech_threshold"].stored_as


# --- configuration -------------------------------------------------------------------
# The settings themselves are defined once in studylog.scheduling.settings; these
# functions are the API the rest of the code has always called.


def config_in(session: Session) -> SchedulerConfig:
    """The stored scheduler settings (defaults for missing keys)."""
    return defs.config_from(settings_service.values_in(session))


def limits_in(session: Session) -> DailyLimits:
    """The stored daily limits (defaults for missing keys)."""
    return defs.limits_from(settings_service.values_in(session))


def load_config(db: Database) -> SchedulerConfig:
    """The collection's scheduler settings."""
    with db.read() as session:
        return config_in(session)


def load_limits(db: Database) -> DailyLimits:
    """The collection's daily limits."""
    with db.read() as session:
        return limits_in(session)


def configure(
    db: Database,
    *,
    desired_retention: float | None = None,
    learning_steps_s: Sequence[int] | None = None,
    relearning_steps_s: Sequence[int] | None = None,
    maximum_interval_d: int | None = None,
    enable_fuzzing: bool | None = None,
    parameters: Sequence[float] | None = None,
) -> tuple[SchedulerConfig, RescheduleSummary | None]:
    """Change the scheduler settings and reschedule every card, in one transaction.

    A change of parameters or steps replays every card's history with the new
    scheduler (as ``Scheduler.reschedule_card``); a change of desired
    retention, maximum interval or fuzz only moves the due dates of Review
    cards. Nothing is rescheduled when nothing changed
    (:func:`studylog.services.settings.update`).

    Returns:
        (the new settings, what the reschedule did or None).
    Raises:
        SettingError (an InvalidInputError): a value out of range (nothing is stored).
    """
    given = {
        "desired_retention": desired_retention,
        "learning_steps_s": learning_steps_s,
        "relearning_steps_s": relearning_steps_s,
        "maximum_interval_d": maximum_interval_d,
        "enable_fuzzing": enable_fuzzing,
        "parameters": parameters,
    }
    changes = {defs.CONFIG_FIELDS[a]: v for a, v in given.items() if v is not None}
    done = settings_service.update(db, changes)
    return defs.config_from(done.values), done.reschedule


def set_limits(
    db: Database,
    *,
    new_per_day: int | None = None,
    reviews_per_day: int | None = None,
    leech_threshold: int | None = None,
) -> DailyLimits:
    """Change the daily limits. Raises SettingError for negative limits or a threshold < 1."""
    given = {
        "new_per_day": new_per_day,
        "reviews_per_day": reviews_per_day,
        "leech_threshold": leech_threshold,
    }
    done = settings_service.update(db, {k: v for k, v in given.items() if v is not None})
    return defs.limits_from(done.values)


# --- one card --------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerResult:
    """A saved answer: the review row's id, the card after it, the interval given.

    ``leech`` is True when this answer made the card a leech (tagged; suspended
    unless ``leech_action`` is ``tag``).
    """

    review_id: int
    card: CardInfo
    rating: int
    interval_seconds: float
    interval_text: str
    leech: bool


@dataclass(frozen=True)
class Answered:
    """One answer of a study session (for the session's summary): card, rating, time, review."""

    card_id: int
    rating: int
    duration_ms: int | None
    review_id: int


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(ensure_utc(moment).timestamp() * 1000)


def _now(now: datetime | None) -> datetime:
    return ensure_utc(now) if now is not None else utcnow()


_INFO_COLUMNS = tuple(k for k in rows.ROW_COLUMNS + rows.TEXT_COLUMNS if k != "concept_id")


def _card_info(row: Any, tags: list[str] | None = None, **changes: Any) -> CardInfo:
    """A :class:`CardInfo` of a :data:`studylog.storage.review_rows.SELECT_CARD` row, with
    ``changes`` over its columns and ``tags`` (None: the row's own) - built once, not copied."""
    values = {k: row[k] for k in _INFO_COLUMNS}
    values.update(changes)
    return CardInfo(
        **values,
        tags=rows.tag_list(row) if tags is None else tags,
        concept_slug=row["concept_slug"],
    )


row_info = _card_info
"""The public name of :func:`_card_info` (custom study shows rows the same way)."""


def _answered_row(before: CardRow, after: CardInfo) -> CardRow:
    """The :class:`CardRow` after an answer: ``before`` with ``after``'s answer columns."""
    return CardRow(
        before.id,
        before.concept_id,
        after.state,
        after.step,
        after.stability,
        after.difficulty,
        after.due,
        after.last_review,
        after.reps,
        after.lapses,
        after.suspended,
        before.buried_until,
    )


def _is_one_card(op: UndoOp, card_id: int) -> bool:
    """An answer's operation: one card image, one review row, at most a tag link."""
    return (
        all((i.table, i.key) == ("cards", (card_id,)) for i in op.before)
        and not op.deleted
        and len(op.inserted_ids("reviews")) == 1
    )


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Card values as they are stored (times floored to the millisecond)."""
    return {k: floor_ms(v) if k in TWINS["cards"] else v for k, v in values.items()}


def balanced(found: Mapping[str, Any]) -> defs.Balancing | None:
    """The load balancing of the collection's typed setting values, None when it is off.

    (It also needs fuzz, which each deck's settings may turn off:
    :func:`studylog.scheduling.card.schedule` only balances a fuzzed interval.)
    """
    balancing = defs.balancing_from(found)
    return balancing if balancing.enabled else None


def load_in(session: Session, now: datetime) -> DayLoad | None:
    """The due counts for load balancing answers given at ``now``; None when it is off.

    Cached per database and study day (:func:`studylog.services.due_load.day_load`).
    """
    found = settings_service.values_in(session)
    balancing = balanced(found)
    if balancing is None:
        return None
    calendar = settings_service.calendar_from(found)
    return due_load.day_load(session, calendar, now, balancing.easy_days)


def preview(db: Database, card_id: int, *, now: datetime | None = None) -> list[IntervalPreview]:
    """What Again, Hard, Good and Easy would give ``card_id`` now, with its deck's
    settings (:func:`studylog.services.settings.effective`). Raises NotFoundError.

    Load-balanced with the same counts the answer will use (:func:`load_in`).
    """
    moment = _now(now)
    with db.read() as session:
        card = load_card(session, card_id)
        decks = settings_service.deck_settings_in(session)
        return preview_card(
            card,
            moment,
            decks.config(card.deck),
            decks.scheduler(card.deck),
            load_in(session, moment),
        )


SettingsOf = Callable[[str], tuple[SchedulerConfig, fsrs.Scheduler, DailyLimits]]
"""A card's deck -> the FSRS settings, scheduler and limits its answer uses."""


def settings_of(decks: settings_service.DeckSettings) -> SettingsOf:
    """Each deck's effective settings (its preset, inherited, else the collection's)."""
    return lambda deck: (decks.config(deck), decks.scheduler(deck), decks.limits(deck))


def _answer_on(
    conn: Connection,
    card_id: int,
    rating: int,
    now: datetime,
    *,
    settings: SettingsOf,
    duration_ms: int | None,
    load: DayLoad | None = None,
) -> tuple[AnswerResult, CardRow, UndoOp]:
    """The hot path of one answer inside the caller's write transaction on ``conn``:
    one SELECT by primary key, the ``fsrs`` step with the settings of the card's
    deck, one UPDATE, one INSERT. ``load``: the due counts for load balancing
    (None: the plain fuzz); the caller moves the card in them afterwards."""
    row = rows.read_card(conn, card_id)
    if row is None:
        raise NotFoundError(f"no card with id {card_id}")
    card = rows.card_row(row)
    config, scheduler, limits = settings(row["deck"])
    plan = plan_answer(
        card,
        rating,
        now,
        config=config,
        scheduler=scheduler,
        limits=limits,
        duration_ms=duration_ms,
        load=load,
    )
    review_id = rows.write_answer(conn, card_id, plan.card, plan.review)
    inserted: list[tuple[str, tuple[Any, ...]]] = [("reviews", (review_id,))]
    tag_names = rows.tag_list(row)
    if card.last_review is not None and floor_ms(now) < card.last_review:
        # Another client (a second machine on the same PostgreSQL, or the app and the
        # CLI) saved a later answer of this card first: keep both reviews and recompute
        # the card from its merged history in time order, as Anki does after a sync.
        return _merged(conn, card_id, card, row, plan, review_id, config)
    if plan.leech:
        link = rows.tag_card(conn, card_id, LEECH_TAG)
        if link is not None:
            inserted.append(link)
            tag_names = sorted([*tag_names, LEECH_TAG])
    after = _stored(plan.card)
    before = card.values(ANSWER_COLUMNS)
    changed = changed_columns(before, after)
    op = UndoOp(
        label="Answer",
        before=(RowImage("cards", (card_id,), {c: before[c] for c in changed}),),
        after=(RowImage("cards", (card_id,), changed),),
        inserted=tuple(inserted),
        card_ids=(card_id,),
        kind="answer",
    )
    shown = _card_info(row, tag_names, **after)
    result = AnswerResult(
        review_id,
        shown,
        plan.review["rating"],
        plan.interval_seconds,
        plan.interval_text,
        plan.leech,
    )
    return result, card, op


def _merged(
    conn: Connection,
    card_id: int,
    card: CardRow,
    row: Any,
    plan: Any,
    review_id: int,
    config: SchedulerConfig,
) -> tuple[AnswerResult, CardRow, UndoOp]:
    """An answer older than the card's last review: replay the card's whole history
    (:func:`studylog.services.reschedule.replay_in`: state, reps, lapses and every
    review row's state before and after, in time order) inside the caller's
    transaction. Undoing it deletes the review and replays again (the op is marked
    ``merge``); the card's columns after the replay are the undo's after-image."""
    with Session(bind=conn) as session:
        replay_in(session, config.params(), [card_id])
    fresh = rows.read_card(conn, card_id)
    assert fresh is not None
    after = {c: fresh[c] for c in ANSWER_COLUMNS}
    before = card.values(ANSWER_COLUMNS)
    changed = changed_columns(before, after)
    op = UndoOp(
        label="Answer",
        before=(RowImage("cards", (card_id,), {c: before[c] for c in changed}),),
        after=(RowImage("cards", (card_id,), changed),),
        inserted=(("reviews", (review_id,)),),
        card_ids=(card_id,),
        kind="merge",
    )
    shown = _card_info(fresh)
    result = AnswerResult(
        review_id, shown, plan.review["rating"], plan.interval_seconds, plan.interval_text, False
    )
    return result, card, op


def answer_in(
    session: Session,
    card_id: int,
    rating: int,
    now: datetime,
    *,
    config: SchedulerConfig,
    scheduler: fsrs.Scheduler,
    limits: DailyLimits,
    duration_ms: int | None = None,
    balancing: defs.Balancing | None = None,
    calendar: StudyCalendar | None = None,
) -> AnswerResult:
    """Answer a card inside the caller's transaction with the settings given (see :func:`answer`).

    ``balancing`` and ``calendar``: load-balance with the cached due counts
    (:func:`studylog.services.due_load.day_load`), None for the plain fuzz.
    """
    return _answer_cached(
        session.connection(),
        card_id,
        rating,
        now,
        settings=lambda _deck: (config, scheduler, limits),
        duration_ms=duration_ms,
        balancing=balancing,
        calendar=calendar,
    )


def _answer_cached(
    conn: Connection,
    card_id: int,
    rating: int,
    now: datetime,
    *,
    settings: SettingsOf,
    duration_ms: int | None,
    balancing: defs.Balancing | None,
    calendar: StudyCalendar | None,
) -> AnswerResult:
    """:func:`_answer_on` with the per-day cached due counts, moved after the answer."""
    load = None
    if balancing is not None and calendar is not None:
        load = due_load.day_load(conn, calendar, now, balancing.easy_days)
    result, before, _ = _answer_on(
        conn, card_id, rating, now, settings=settings, duration_ms=duration_ms, load=load
    )
    if load is not None:
        due_load.record_answer(
            conn,
            result.review_id,
            old_due_ms=_ms(before.due),
            old_review=before.state == REVIEW and not before.suspended,
            new_due_ms=_ms(result.card.due),
            new_review=result.card.state == REVIEW and not result.card.suspended,
        )
    return result


def answer(
    db: Database,
    card_id: int,
    rating: int,
    *,
    now: datetime | None = None,
    duration_ms: int | None = None,
) -> AnswerResult:
    """Answer a card with a rating 1-4 and save it at once (one transaction).

    Updates the card's FSRS columns, reps and lapses, appends a ``reviews`` row
    with the state before and after, and applies the leech rule, all with the
    settings of the card's deck (:func:`studylog.services.settings.effective`).

    Raises:
        InvalidInputError: rating outside 1-4, negative duration, suspended card.
        NotFoundError: unknown card.
    """
    moment = _now(now)
    check_rating(rating)
    with db.write() as session:
        decks = settings_service.deck_settings_in(session)
        return _answer_cached(
            session.connection(),
            card_id,
            rating,
            moment,
            settings=settings_of(decks),
            duration_ms=duration_ms,
            balancing=balanced(decks.collection),
            calendar=settings_service.calendar_from(decks.collection),
        )


def answer_undo_op(
    review: Any, card: CardRow, threshold: int, card_tags: list[str]
) -> tuple[UndoOp, bool]:
    """The undo operation of a saved answer, rebuilt from its review row alone.

    The review row holds the card's state before the answer, so an answer can
    be undone from any process: reps and lapses go back by one (lapses only
    for a lapse), the FSRS columns take their *before* values, and if the
    answer made the card a leech it is unsuspended and loses the ``leech`` tag
    when that was its first time, as :func:`undo_review` always did.

    Returns:
        (the operation, whether the ``leech`` tag must go too).
    """
    before: dict[str, Any] = {
        "state": review["state_before"],
        "step": review["step_before"],
        "stability": review["stability_before"],
        "difficulty": review["difficulty_before"],
        "due": review["due_before"] if review["due_before"] is not None else card.due,
        "last_review": review["last_review_before"],
        "reps": card.reps - 1,
    }
    remove_tag = False
    if review["state_before"] == REVIEW and review["rating"] == Rating.AGAIN:
        before["lapses"] = card.lapses - 1
        if is_leech(card.lapses, threshold):
            if card.suspended:
                before["suspended"] = False
            remove_tag = card.lapses == threshold and LEECH_TAG in card_tags
    op = UndoOp(
        label="Answer",
        before=(RowImage("cards", (card.id,), before),),
        inserted=(("reviews", (review["id"],)),),
        card_ids=(card.id,),
        kind="answer",
    )
    return op, remove_tag


def _valid_states(session: Session, review: Any) -> Any:
    """``review`` (a row mapping) with valid derived states: the stored ones, or, when a
    whole-collection replay left them stale, those derived from its card's history
    (:func:`studylog.services.review_states.derived_states_in`)."""
    derived = review_states.derived_states_in(session, [review["card_id"]])
    if derived is None:
        return review
    (i,) = derived.index_of([review["id"]]).tolist()
    return review if i < 0 else {**review, **derived.row(i)}


def undo_review(db: Database, review_id: int) -> CardInfo:
    """Undo one answer: restore the card's state exactly and delete the review row.

    Only a card's latest answer can be undone. If that answer made the card a
    leech, the card is unsuspended again (and loses the ``leech`` tag if it was
    its first time).

    Raises:
        NotFoundError: no such review.
        InvalidInputError: the card has a later answer.
    """
    with db.write() as session:
        conn = session.connection()
        review = conn.execute(rows.SELECT_REVIEW, {"review_id": review_id}).mappings().first()
        if review is None:
            raise NotFoundError(f"no review with id {review_id} (already undone?)")
        latest = conn.execute(rows.LATEST_REVIEW_OF_CARD, {"card_id": review["card_id"]}).scalar()
        if latest != review_id:
            raise InvalidInputError(
                f"review {review_id} is not the latest answer of card {review['card_id']}: "
                "undo that first"
            )
        row = rows.read_card(conn, review["card_id"])
        card = rows.card_row(row)
        review = _valid_states(session, review)
        decks = settings_service.deck_settings_in(session)
        threshold = decks.limits(row["deck"]).leech_threshold
        op, remove_tag = answer_undo_op(review, card, threshold, rows.tag_list(row))
        rows.undo_in(conn, op, checked=False)
        if remove_tag:
            rows.untag_card(conn, card.id, LEECH_TAG)
        return _card_info(rows.read_card(conn, card.id))


def _set_flag(db: Database, card_id: int, **values: Any) -> CardInfo:
    with db.write() as session:
        card = load_card(session, card_id)
        for key, value in values.items():
            setattr(card, key, value)
        session.flush()
        return info(card)


def suspend(db: Database, card_id: int) -> CardInfo:
    """Take a card out of the queue until unsuspended. Raises NotFoundError."""
    return _set_flag(db, card_id, suspended=True)


def unsuspend(db: Database, card_id: int) -> CardInfo:
    """Put a suspended card back in the queue (its schedule is kept). Raises NotFoundError."""
    return _set_flag(db, card_id, suspended=False)


def bury(db: Database, card_id: int, *, now: datetime | None = None) -> CardInfo:
    """Hide a card until the next study day. Raises NotFoundError."""
    today = settings_service.calendar(db).today(_now(now))
    return _set_flag(db, card_id, buried_until=today + timedelta(days=1))


def unbury(db: Database, card_id: int) -> CardInfo:
    """Show a buried card again today. Raises NotFoundError."""
    return _set_flag(db, card_id, buried_until=None)


# --- the study session -----------------------------------------------------------------


class ReviewSession:
    """A study session: the queue of the current study day, answers and a multi-step undo.

    The queues are gathered once per study day, as Anki does (learning and due
    review cards at once, new cards in pages), and each card is re-read by
    primary key before it is shown, so a card changed elsewhere is never shown
    stale. Today's answers (for the limits and siblings) are running counters,
    topped up with a primary-key seek only when ``PRAGMA data_version`` says
    another connection wrote; answers undone elsewhere are noticed on the next
    study day. The session works on a connection of its own (so that
    ``data_version`` tells others' writes from its own) and every answer is
    saved at once.

    Undo (:attr:`undo_stack`, :meth:`undo`) takes back answers, suspends and
    buries in the reverse order; the card concerned is shown next.
    """

    def __init__(
        self, db: Database, *, now: datetime | None = None, deck: str | None = None
    ) -> None:
        """``deck``: study that deck and its subdecks only, within its limits counted
        against what was studied today in it (Anki's "study deck"); None: everything.

        Raises:
            NotFoundError: no card is in ``deck`` or below it.
            InvalidInputError: not a deck name.
        """
        self.db = db
        self.deck = None if deck is None else deck_rules.normalize(deck)
        self.decks = settings_service.deck_settings(db)
        found = self.decks.collection
        self.calendar = settings_service.calendar_from(found)
        self.config = defs.config_from(found)
        self.limits = defs.limits_from(found)
        if self.deck is not None:
            with db.read() as session:
                if not rows.has_cards_in(session.connection(), self.deck):
                    raise NotFoundError(f"no deck named {self.deck!r} (see: studylog deck list)")
        self.scheduler = self.config.scheduler()
        self._settings_of = settings_of(self.decks)
        self.balancing = balanced(found)
        self._load: due_load.CountedLoad | None = None  # counted per study day, then moved
        self.undo_stack = UndoStack()
        self.answers: list[Answered] = []
        self._lock = threading.RLock()
        self._conn = db.connection()
        weakref.finalize(self, self._conn.close)
        self._version: int | None = None
        self._shown: tuple[int, Any] | None = None  # (card id, row) of the last lookup
        self._writes = 0  # write transactions of this session (see _tree_counts)
        self._counts_cache: tuple[tuple[Any, ...], datetime, datetime, QueueCounts] | None = None
        self._refresh(_now(now))

    @property
    def title(self) -> str | None:
        """What the session studies, for a header ("Deck 딥러닝"); None for everything."""
        return None if self.deck is None else f"Deck {self.deck}"

    def close(self) -> None:
        """Give the session's connection back (it is also given back when the session is dropped)."""
        self._conn.close()

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[Connection]:
        """A transaction on the session's connection; a read inside one joins it."""
        with self._lock:
            if self._conn.in_transaction():
                assert not write, "a write transaction cannot nest in another"
                yield self._conn
                return
            with transaction(self._conn, write=write) as conn:
                yield conn
            if write:  # the session's own commits do not move its data_version
                self._writes += 1

    # queue gathering --------------------------------------------------------------

    def _refresh(self, now: datetime) -> None:
        """Gather the study day's learning and review queues; new cards come in pages."""
        day = self.calendar.day_of(now)
        end = self.calendar.end_of(day)
        limits_of = None
        with self.db.read() as session:
            self.limits = day_limits.limits_in(session, day, self.deck)
            if not self.decks.uniform:
                # Some deck has limits of its own: those below the studied deck cap it
                # (Anki v3); each deck's limits with today's extra new cards.
                limits_of = deck_tree.limits_function(session, day)[1]
        with self._tx(write=False) as conn:
            self._version = rows.data_version(conn)
            log = rows.day_log(conn, self.calendar.start_of(day), end, self.deck)
            learning = [
                (cid, ensure_utc(due)) for cid, due in rows.learning_rows(conn, day, self.deck)
            ]
            review = rows.review_rows(conn, day, end, self.deck)
            self._load = None
            self._day_load(conn, now)  # counted with the queues: answers add no query
        subdecks = None
        if limits_of is not None:
            subdecks = deck_rules.SubdeckLimits(
                self.deck,
                limits_of,
                log,
                new_ignores_review_limit=self.limits.new_ignores_review_limit,
            )
        self.queue = DailyQueue(
            day, end, self.limits, learning, review, log, self._new_page, subdecks
        )

    def _new_page(
        self, cursor: tuple[datetime, int] | None, want: int
    ) -> list[tuple[int, int | None, datetime, str]]:
        with self._tx(write=False) as conn:
            return rows.new_page(conn, self.queue.day, cursor, want, self.deck)

    def _check_day(self, now: datetime) -> None:
        if self.calendar.day_of(now) != self.queue.day:
            self._refresh(now)

    def _sync(self, conn: Connection) -> None:
        """Read answers others saved, if another connection wrote since the last look."""
        version = rows.data_version(conn)
        if version is None or version != self._version:
            rows.sync_day_log(conn, self.queue.log, self.deck)
            self._version = version
            if version is not None:
                # others may have moved due dates: count again when needed. Without a
                # data version (PostgreSQL) every look would count again, a scan per
                # answer: the counts are then kept for the study day (they only steer
                # which day inside the fuzz range an interval lands on).
                self._load = None

    def _day_load(self, conn: Connection, now: datetime) -> DayLoad | None:
        """The session's due counts for load balancing at ``now`` (None when it is off):
        counted once per study day and after others wrote, moved after each answer."""
        if self.balancing is None:
            return None
        if self._load is None or self._load.load.today != self.calendar.day_of(now):
            self._load = due_load.count_load(conn, self.calendar, now, self.balancing.easy_days)
        return self._load.load

    def _lookup(self, conn: Connection) -> Any:
        def lookup(card_id: int) -> CardRow | None:
            row = rows.read_card(conn, card_id)
            self._shown = (card_id, row)
            if row is None or not row["front"]:
                return None  # gone, or without text (a review-log card)
            return rows.card_row(row)

        return lookup

    # reading --------------------------------------------------------------------

    def next_card(self, *, now: datetime | None = None) -> CardInfo | None:
        """The card to show now, or None when nothing is left for this study day.

        Calling it again without answering returns the same card.
        """
        moment = _now(now)
        self._check_day(moment)
        with self._tx(write=False) as conn:
            self._sync(conn)
            card = self.queue.pick(moment, self._lookup(conn))
            if card is None:
                return None
            assert self._shown is not None and self._shown[0] == card.id
            return _card_info(self._shown[1])

    def counts(self, *, now: datetime | None = None) -> QueueCounts:
        """How many cards are left today in each queue, limits applied (siblings not counted)."""
        moment = _now(now)
        self._check_day(moment)
        if self.queue.subdecks is not None:
            return self._tree_counts(moment)
        with self._tx(write=False) as conn:
            self._sync(conn)
            return self.queue.counts(
                moment,
                lambda at_most: rows.count_new(conn, self.queue.day, at_most, self.deck),
                lambda: rows.count_new_by_deck(conn, self.queue.day),
            )

    def _tree_counts(self, moment: datetime) -> QueueCounts:
        """Subdecks with limits of their own: the deck list's numbers, from the deck tree.

        Building the tree is a grouped scan of every card, so the result is kept
        while nothing was written (the connection's ``data_version`` for others'
        commits, :attr:`_writes` for the session's own), on the same study day, and
        until the next learning card comes within the learn-ahead limit. PostgreSQL
        has no data version: there the tree is built on every call.
        """
        with self._tx(write=False) as conn:
            version = rows.data_version(conn)
        key = (version, self._writes, self.queue.day)
        cached = self._counts_cache
        if version is not None and cached is not None:
            cached_key, since, until, counts = cached
            if cached_key == key and since <= moment < until:
                return counts
        with self.db.read() as session:
            found = deck_tree.counts_in(session, moment, self.deck)
        new, learning, review = found or (0, 0, 0)
        counts = QueueCounts(learning, review, new)
        coming = self.queue.next_learning_due(moment + LEARN_AHEAD)
        until = self.queue.end if coming is None else min(self.queue.end, coming - LEARN_AHEAD)
        self._counts_cache = (key, moment, until, counts)
        return counts

    def progress(self, *, now: datetime | None = None) -> DayProgress:
        """What was done this study day: new cards introduced, review cards answered, concepts."""
        self._check_day(_now(now))
        with self._tx(write=False) as conn:
            self._sync(conn)
        return self.queue.log.progress()

    def preview(self, card_id: int, *, now: datetime | None = None) -> list[IntervalPreview]:
        """The four answer buttons for ``card_id`` (see :func:`preview`). Raises NotFoundError."""
        moment = _now(now)
        with self._tx(write=False) as conn:
            self._sync(conn)
            row = rows.read_card(conn, card_id)
            load = self._day_load(conn, moment)
        if row is None:
            raise NotFoundError(f"no card with id {card_id}")
        deck = row["deck"]
        return preview_card(
            rows.card_row(row),
            moment,
            self.decks.config(deck),
            self.decks.scheduler(deck),
            load,
        )

    # writing --------------------------------------------------------------------

    def answer(
        self,
        card_id: int,
        rating: int,
        *,
        now: datetime | None = None,
        duration_ms: int | None = None,
    ) -> AnswerResult:
        """Answer and save at once (see :func:`answer`); the answer can be undone."""
        moment = _now(now)
        check_rating(rating)
        with self._tx(write=True) as conn:
            load = self._day_load(conn, moment)
            result, before, op = _answer_on(
                conn,
                card_id,
                rating,
                moment,
                settings=self._settings_of,
                duration_ms=duration_ms,
                load=load,
            )
        if self._load is not None:
            self._load.moved(
                before.due,
                before.state == REVIEW and not before.suspended,
                result.card.due,
                result.card.state == REVIEW and not result.card.suspended,
            )
        self.undo_stack.push(op)
        self.answers.append(Answered(card_id, result.rating, duration_ms, result.review_id))
        self.queue.log.add(
            result.review_id,
            floor_ms(moment),
            before.is_new,
            before.state == REVIEW,
            before.concept_id,
            result.card.deck,
        )
        after = result.card
        self.queue.answered(_answered_row(before, after))
        return result

    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` has something to take back."""
        return self.undo_stack.can_undo

    def undo(self) -> CardInfo:
        """Undo the session's latest answer, suspend or bury; that card is shown next.

        Raises:
            InvalidInputError: nothing to undo in this session, or the card
                was changed again elsewhere (answered, edited).
        """
        op = self.undo_stack.peek()
        if op is None:
            raise InvalidInputError("nothing to undo in this session")
        card_id = op.card_ids[0]
        with self._tx(write=True) as conn:
            row = rows.read_card(conn, card_id)  # also the check that nothing changed since
            if row is None:
                raise NotFoundError(f"no card with id {card_id}")
            for image in op.after:
                if image.key == (card_id,) and image.table == "cards":
                    if any(row[c] != v for c, v in _stored(dict(image.values)).items()):
                        raise rows.UndoConflict(
                            f"cannot undo {op.label.lower()}: card {card_id} was changed since"
                        )
            if op.kind == "answer" and _is_one_card(op, card_id):
                rows.undo_answer(conn, card_id, row, op)  # prebuilt statements
            else:
                others = tuple(i for i in op.after if (i.table, i.key) != ("cards", (card_id,)))
                rows.undo_in(conn, replace(op, after=others), checked=bool(others))
                if op.kind == "merge":  # the other reviews' states again without this one
                    with Session(bind=conn) as session:
                        replay_in(session, self._settings_of(row["deck"])[0].params(), [card_id])
        restored = {
            c: v
            for i in op.before
            if (i.table, i.key) == ("cards", (card_id,))
            for c, v in _stored(dict(i.values)).items()
        }
        tag_names = rows.tag_list(row)
        if any(t == "card_tags" and k[0] == card_id for t, k in op.inserted):
            tag_names = [t for t in tag_names if t != LEECH_TAG]  # the link the answer added
        self.undo_stack.pop()
        for (review_id,) in op.inserted_ids("reviews"):
            self.queue.log.drop(review_id)
            for k in range(len(self.answers) - 1, -1, -1):
                if self.answers[k].review_id == review_id:
                    del self.answers[k]
                    break
        shown = _card_info(row, tag_names, **restored)
        now_row = rows.card_row(row)
        if self._load is not None:
            self._load.moved(
                now_row.due,
                now_row.state == REVIEW and not now_row.suspended,
                restored.get("due", now_row.due),
                restored.get("state", now_row.state) == REVIEW
                and not restored.get("suspended", now_row.suspended),
            )
        self.queue.restored(rows.card_row({**row, **restored}))
        return shown

    def _set_aside(self, card_id: int, label: str, kind: str, values: dict[str, Any]) -> CardInfo:
        with self._tx(write=True) as conn:
            row = rows.read_card(conn, card_id)
            if row is None:
                raise NotFoundError(f"no card with id {card_id}")
            rows.set_columns(conn, [card_id], values)
        self._load = None  # a suspended card leaves the counts: count again when needed
        self.undo_stack.push(
            UndoOp(
                label=label,
                before=(RowImage("cards", (card_id,), {k: row[k] for k in values}),),
                after=(RowImage("cards", (card_id,), values),),
                card_ids=(card_id,),
                kind=kind,
            )
        )
        self.queue.forget(card_id)
        return _card_info(row, **values)

    def suspend(self, card_id: int) -> CardInfo:
        """Suspend a card (it leaves the queue; :meth:`undo` brings it back)."""
        return self._set_aside(card_id, "Suspend", "suspend", {"suspended": True})

    def bury(self, card_id: int, *, now: datetime | None = None) -> CardInfo:
        """Bury a card until the next study day (:meth:`undo` brings it back)."""
        tomorrow = self.calendar.today(_now(now)) + timedelta(days=1)
        return self._set_aside(card_id, "Bury", "bury", {"buried_until": tomorrow})


def next_card(db: Database, *, now: datetime | None = None) -> CardInfo | None:
    """The card to show now (a one-off :class:`ReviewSession`)."""
    session = ReviewSession(db, now=now)
    try:
        return session.next_card(now=now)
    finally:
        session.close()


__all__ = [
    "LEARN_AHEAD",
    "LEECH_TAG",
    "RATINGS",
    "AnswerResult",
    "Answered",
    "DailyLimits",
    "DayProgress",
    "IntervalPreview",
    "QueueCounts",
    "ReviewSession",
    "SchedulerConfig",
    "answer",
    "answer_in",
    "bury",
    "check_rating",
    "config_in",
    "configure",
    "is_leech",
    "limits_in",
    "load_config",
    "load_limits",
    "next_card",
    "preview",
    "preview_card",
    "schedule",
    "set_limits",
    "suspend",
    "to_fsrs",
    "unbury",
    "undo_review",
    "unsuspend",
]
