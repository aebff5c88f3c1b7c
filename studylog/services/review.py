"""Reviewing cards: the collection's FSRS scheduler, the daily queue, answers, undo, leeches.

Scheduling of one card is done by the ``fsrs`` package (``fsrs.Scheduler``,
FSRS-6); this module keeps its settings per collection, turns card rows into
``fsrs.Card`` objects and back, and writes each answer as one transaction: the
card's new state plus an appended ``reviews`` row holding the state before and
after, so that an answer can be undone exactly.

The queue follows Anki (manual, "Display Order" and "Daily Limits"):

1. learning and relearning cards that are due now;
2. review cards due this study day (overdue first), within the daily review limit;
3. new cards, in the order they were added, within the daily new-card limit;
4. learning cards due within the next 20 minutes (Anki's "learn ahead limit");
5. siblings: a new or review card whose concept already had a card answered
   this study day is held back (Anki's "bury siblings") and only shown when
   nothing else is left.

A card lapses when a Review card is answered Again; at the 8th lapse (then
every 4 more, as Anki's leech threshold) it is tagged ``leech`` and suspended.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import fsrs
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError, NotFoundError
from studylog.formatting import format_interval
from studylog.scheduling import settings as defs
from studylog.scheduling.fuzz import fuzz_unit, fuzzed_day
from studylog.scheduling.settings import DailyLimits, SchedulerConfig
from studylog.services import settings as settings_service
from studylog.services import tags as tag_service
from studylog.services.cards import CardInfo, info, load_card
from studylog.services.reschedule import RescheduleSummary
from studylog.storage.engine import Database
from studylog.storage.models import Card, Review
from studylog.studyday import StudyCalendar, ensure_utc, utcnow

LEARNING, REVIEW, RELEARNING = 1, 2, 3
RATINGS = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
LEECH_TAG = "leech"
LEARN_AHEAD = timedelta(minutes=20)

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


def check_rating(rating: object) -> int:
    """The rating as an int 1-4. Raises InvalidInputError otherwise."""
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise InvalidInputError(
            f"rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy), not {rating!r}"
        )
    return rating


def to_fsrs(card: Card) -> fsrs.Card:
    """The card's FSRS state as an ``fsrs.Card`` (card_id = the row id)."""
    return fsrs.Card(
        card_id=card.id,
        state=fsrs.State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=ensure_utc(card.due),
        last_review=ensure_utc(card.last_review) if card.last_review is not None else None,
    )


def schedule(
    card: Card, rating: int, now: datetime, config: SchedulerConfig, scheduler: fsrs.Scheduler
) -> fsrs.Card:
    """The card's state after answering ``rating`` at ``now`` (the card row is not changed).

    ``scheduler.review_card`` does the FSRS step; a Review interval then gets
    the package's fuzz range with a uniform drawn from (card id, reps after),
    so a preview and the answer agree (:func:`studylog.scheduling.fuzz.fuzz_unit`).
    """
    after, _ = scheduler.review_card(to_fsrs(card), fsrs.Rating(rating), now)
    if config.enable_fuzzing and after.state == fsrs.State.Review:
        days = (after.due - now).days
        u = fuzz_unit(card.id, card.reps + 1)
        after.due = now + timedelta(days=fuzzed_day(days, u, config.maximum_interval_d))
    return after


def is_leech(lapses: int, threshold: int) -> bool:
    """Anki's rule: a leech at ``threshold`` lapses, then every ``threshold // 2`` more."""
    if lapses < threshold:
        return False
    return (lapses - threshold) % max(threshold // 2, 1) == 0


@dataclass(frozen=True)
class IntervalPreview:
    """What one answer button would do.

    ``seconds``: due - now; ``text``: Anki's label ('10m', '3d', '2.1mo').
    """

    rating: int
    label: str
    due: datetime
    seconds: float
    text: str


@dataclass(frozen=True)
class AnswerResult:
    """A saved answer: the review row's id, the card after it, the interval given.

    ``leech`` is True when this answer made the card a leech (tagged, suspended).
    """

    review_id: int
    card: CardInfo
    rating: int
    interval_seconds: float
    interval_text: str
    leech: bool


def _now(now: datetime | None) -> datetime:
    return ensure_utc(now) if now is not None else utcnow()


def preview_card(
    card: Card, now: datetime, config: SchedulerConfig, scheduler: fsrs.Scheduler
) -> list[IntervalPreview]:
    """The four answer buttons for ``card`` at ``now``."""
    out = []
    for rating, label in RATINGS.items():
        after = schedule(card, rating, now, config, scheduler)
        seconds = (after.due - now).total_seconds()
        out.append(IntervalPreview(rating, label, after.due, seconds, format_interval(seconds)))
    return out


def preview(db: Database, card_id: int, *, now: datetime | None = None) -> list[IntervalPreview]:
    """What Again, Hard, Good and Easy would give ``card_id`` now. Raises NotFoundError."""
    moment = _now(now)
    with db.read() as session:
        config = config_in(session)
        return preview_card(load_card(session, card_id), moment, config, config.scheduler())


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
) -> AnswerResult:
    """Answer a card inside the caller's transaction (see :func:`answer`)."""
    rating = check_rating(rating)
    if duration_ms is not None and duration_ms < 0:
        raise InvalidInputError(f"answer duration cannot be negative: {duration_ms} ms")
    card = load_card(session, card_id)
    if card.suspended:
        raise InvalidInputError(f"card {card_id} is suspended: unsuspend it before answering")
    after = schedule(card, rating, now, config, scheduler)
    lapse = card.state == REVIEW and rating == 1
    review = Review(
        card_id=card.id,
        rating=rating,
        reviewed_at=now,
        duration_ms=duration_ms,
        state_before=card.state,
        step_before=card.step,
        stability_before=card.stability,
        difficulty_before=card.difficulty,
        due_before=card.due,
        last_review_before=card.last_review,
        state_after=int(after.state),
        step_after=after.step,
        stability_after=after.stability,
        difficulty_after=after.difficulty,
        due_after=after.due,
        interval_days=(after.due - now).total_seconds() / 86400.0,
    )
    card.state = int(after.state)
    card.step = after.step
    card.stability = after.stability
    card.difficulty = after.difficulty
    card.due = after.due
    card.last_review = after.last_review
    card.reps += 1
    leech = False
    if lapse:
        card.lapses += 1
        if is_leech(card.lapses, limits.leech_threshold):
            leech = True
            card.suspended = card.suspended or limits.leech_action == "suspend"
            card.tags = tag_service.get_or_create(
                session, [*(t.name for t in card.tags), LEECH_TAG]
            )
    session.add(review)
    session.flush()
    seconds = (after.due - now).total_seconds()
    return AnswerResult(review.id, info(card), rating, seconds, format_interval(seconds), leech)


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
    with the state before and after, and applies the leech rule.

    Raises:
        InvalidInputError: rating outside 1-4, negative duration, suspended card.
        NotFoundError: unknown card.
    """
    moment = _now(now)
    check_rating(rating)
    with db.write() as session:
        config = config_in(session)
        return answer_in(
            session,
            card_id,
            rating,
            moment,
            config=config,
            scheduler=config.scheduler(),
            limits=limits_in(session),
            duration_ms=duration_ms,
        )


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
        review = session.get(Review, review_id)
        if review is None:
            raise NotFoundError(f"no review with id {review_id} (already undone?)")
        latest = session.scalar(
            select(Review.id)
            .where(Review.card_id == review.card_id)
            .order_by(Review.reviewed_at.desc(), Review.id.desc())
            .limit(1)
        )
        if latest != review.id:
            raise InvalidInputError(
                f"review {review_id} is not the latest answer of card {review.card_id}: undo that first"
            )
        card = load_card(session, review.card_id)
        threshold = limits_in(session).leech_threshold
        if review.state_before == REVIEW and review.rating == 1:
            if card.suspended and is_leech(card.lapses, threshold):
                card.suspended = False
                if card.lapses == threshold:
                    card.tags = [t for t in card.tags if t.name != LEECH_TAG]
            card.lapses -= 1
        card.reps -= 1
        card.state = review.state_before
        card.step = review.step_before
        card.stability = review.stability_before
        card.difficulty = review.difficulty_before
        card.due = review.due_before if review.due_before is not None else card.due
        card.last_review = review.last_review_before
        session.execute(delete(Review).where(Review.id == review.id))
        session.flush()
        return info(card)


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


# --- the session queue -----------------------------------------------------------------


@dataclass(frozen=True)
class QueueCounts:
    """Cards left now: learning (due within the learn-ahead limit), review and new (within limits)."""

    learning: int
    review: int
    new: int

    @property
    def total(self) -> int:
        return self.learning + self.review + self.new


@dataclass(frozen=True)
class DayProgress:
    """What was done this study day: new cards introduced, review cards answered, concepts seen."""

    new_done: int
    reviews_done: int
    concepts: frozenset[int]


class _DayLog:
    """Today's answers as the queue needs them: for the daily limits and sibling burying.

    Seeded with one query per study day; afterwards only rows with a larger id
    are read (a seek on the primary key), so answers saved elsewhere are seen
    too. Answers undone by this session are dropped from it.
    """

    def __init__(self, session: Session, calendar: StudyCalendar, day: date) -> None:
        self.start, self.end = calendar.start_of(day), calendar.end_of(day)
        self.rows: dict[int, tuple[bool, bool, int | None]] = {}  # id -> (new, review, concept)
        self.last_id = session.scalar(select(func.max(Review.id))) or 0
        self._read(session, and_(Review.reviewed_at >= self.start, Review.reviewed_at < self.end))

    def _read(self, session: Session, condition) -> None:  # noqa: ANN001 - SQL expression
        rows = session.execute(
            select(
                Review.id,
                Review.reviewed_at,
                Review.last_review_before.is_(None),
                Review.state_before,
                Card.concept_id,
            )
            .join(Card, Card.id == Review.card_id)
            .where(condition)
        ).all()
        for rid, at, was_new, state_before, concept in rows:
            self.last_id = max(self.last_id, rid)
            if self.start <= at < self.end:
                self.rows[rid] = (bool(was_new), state_before == REVIEW, concept)

    def sync(self, session: Session) -> None:
        """Pick up answers saved since the last look (a seek on the primary key)."""
        self._read(session, Review.id > self.last_id)

    def drop(self, review_id: int) -> None:
        """Forget an undone answer. SQLite hands a deleted top rowid out again, so
        the next sync must look from this id on."""
        self.rows.pop(review_id, None)
        self.last_id = min(self.last_id, review_id - 1)

    def progress(self) -> DayProgress:
        return DayProgress(
            new_done=sum(1 for new, _, _ in self.rows.values() if new),
            reviews_done=sum(1 for _, review, _ in self.rows.values() if review),
            concepts=frozenset(c for _, _, c in self.rows.values() if c is not None),
        )


class ReviewSession:
    """A study session: the queue of the current study day, answers and a multi-step undo.

    The queues are gathered once per study day, as Anki does (learning and due
    review cards at once, new cards in pages), and each card is re-read by id
    before it is shown, so a card changed elsewhere is never shown in a stale
    state. Today's answers (for the limits and siblings) are kept in memory and
    topped up with a primary-key seek for rows saved since; answers undone
    elsewhere are noticed on the next study day. Fetching the next card costs
    that seek and one or two reads by primary key. Answers are saved at once.
    """

    def __init__(self, db: Database, *, now: datetime | None = None) -> None:
        self.db = db
        self.calendar = settings_service.calendar(db)
        with db.read() as session:
            self.config = config_in(session)
            self.limits = limits_in(session)
        self.scheduler = self.config.scheduler()
        self._undo: list[int] = []
        self._front: list[int] = []
        self._refresh(_now(now))

    # queue gathering --------------------------------------------------------------

    def _unburied(self):  # noqa: ANN202 - SQL expression
        return or_(Card.buried_until.is_(None), Card.buried_until <= self._day)

    def _refresh(self, now: datetime) -> None:
        """Gather the study day's learning and review queues; new cards come in pages."""
        self._day = self.calendar.day_of(now)
        self._end = self.calendar.end_of(self._day)
        with self.db.read() as session:
            rows = session.execute(
                select(Card.id, Card.due).where(
                    Card.suspended.is_(False),
                    Card.state.in_((LEARNING, RELEARNING)),
                    Card.last_review.is_not(None),
                    self._unburied(),
                )
            )
            self._learning: dict[int, datetime] = {cid: ensure_utc(due) for cid, due in rows}
            self._day_log = _DayLog(session, self.calendar, self._day)
            self._review: deque[tuple[int, int | None]] = deque(
                (cid, concept)
                for cid, concept in session.execute(
                    select(Card.id, Card.concept_id)
                    .where(
                        Card.suspended.is_(False),
                        Card.due < self._end,
                        Card.state == REVIEW,
                        Card.last_review.is_not(None),
                        self._unburied(),
                    )
                    .order_by(Card.due, Card.id)
                )
            )
        self._heap = [(due, cid) for cid, due in self._learning.items()]
        heapq.heapify(self._heap)
        self._new: deque[tuple[int, int | None]] = deque()
        self._new_cursor: tuple[datetime, int] | None = None
        self._new_exhausted = False
        self._held: dict[str, list[int]] = {"review": [], "new": []}

    def _gather_new(self, want: int) -> None:
        """Append the next ``want`` new cards (in the order added) to the new queue."""
        query = (
            select(Card.id, Card.concept_id, Card.due)
            .where(Card.suspended.is_(False), Card.last_review.is_(None), self._unburied())
            .order_by(Card.due, Card.id)
            .limit(want)
        )
        if self._new_cursor is not None:
            due, cid = self._new_cursor
            query = query.where(or_(Card.due > due, and_(Card.due == due, Card.id > cid)))
        with self.db.read() as session:
            rows = session.execute(query).all()
        if rows:
            self._new_cursor = (rows[-1].due, rows[-1].id)
        self._new.extend((r.id, r.concept_id) for r in rows)
        self._new_exhausted = len(rows) < want

    # reading --------------------------------------------------------------------

    def _check_day(self, now: datetime) -> None:
        if self.calendar.day_of(now) != self._day:
            self._refresh(now)

    def _eligible(self, card: Card | None, queue: str) -> bool:
        """Whether ``card`` (re-read) still belongs in ``queue``."""
        if card is None or card.suspended:
            return False
        if card.buried_until is not None and card.buried_until > self._day:
            return False
        if queue == "learning":
            return card.last_review is not None and card.state in (LEARNING, RELEARNING)
        if queue == "review":
            return (
                card.last_review is not None
                and card.state == REVIEW
                and ensure_utc(card.due) < self._end
            )
        if queue == "new":
            return card.last_review is None
        return True  # "front": a card brought back by undo

    def next_card(self, *, now: datetime | None = None) -> CardInfo | None:
        """The card to show now, or None when nothing is left for this study day.

        Calling it again without answering returns the same card.
        """
        moment = _now(now)
        self._check_day(moment)
        with self.db.read() as session:
            self._day_log.sync(session)
            card = self._pick(session, moment, self._day_log.progress())
            return info(card) if card is not None else None

    def _pick(self, session: Session, now: datetime, progress: DayProgress) -> Card | None:
        while self._front:
            card = session.get(Card, self._front[-1])
            if self._eligible(card, "front"):
                return card
            self._front.pop()
        card = self._pick_learning(session, now)
        if card is not None:
            return card
        review_left = progress.reviews_done < self.limits.reviews_per_day
        new_left = progress.new_done < self.limits.new_per_day
        if review_left:
            card = self._pick_queue(session, self._review, "review", progress)
            if card is not None:
                return card
        if new_left:
            card = self._pick_new(session, progress)
            if card is not None:
                return card
        card = self._pick_learning(session, now + LEARN_AHEAD)
        if card is not None:
            return card
        # Nothing else is left: siblings held back today after all.
        for name, allowed in (("review", review_left), ("new", new_left)):
            held = self._held[name]
            while allowed and held:
                card = session.get(Card, held[0])
                if self._eligible(card, name):
                    return card
                held.pop(0)
        return None

    def _pick_learning(self, session: Session, until: datetime) -> Card | None:
        """The learning/relearning card due first, if it is due by ``until``.

        ``_learning`` (id -> due) is the truth; the heap may hold stale
        entries, which are skipped when they reach the top.
        """
        while self._heap:
            due, cid = self._heap[0]
            if self._learning.get(cid) != due:
                heapq.heappop(self._heap)  # stale
                continue
            if due > until:
                return None
            card = session.get(Card, cid)
            if not self._eligible(card, "learning"):
                heapq.heappop(self._heap)
                del self._learning[cid]
                continue
            actual = ensure_utc(card.due)  # type: ignore[union-attr]
            if actual == due:
                return card
            self._set_learning(cid, actual)  # rescheduled elsewhere: look again
        return None

    def _set_learning(self, card_id: int, due: datetime) -> None:
        self._learning[card_id] = due
        heapq.heappush(self._heap, (due, card_id))

    def _pick_queue(
        self,
        session: Session,
        queue: deque[tuple[int, int | None]],
        name: str,
        progress: DayProgress,
    ) -> Card | None:
        """The front of ``queue`` after dropping stale entries and holding back siblings."""
        while queue:
            cid, concept = queue[0]
            if concept is not None and concept in progress.concepts:
                self._held[name].append(queue.popleft()[0])
                continue
            card = session.get(Card, cid)
            if self._eligible(card, name):
                return card
            queue.popleft()
        return None

    def _pick_new(self, session: Session, progress: DayProgress) -> Card | None:
        page = max(self.limits.new_per_day, 1)
        while True:
            card = self._pick_queue(session, self._new, "new", progress)
            if card is not None or self._new_exhausted:
                return card
            self._gather_new(page)

    def counts(self, *, now: datetime | None = None) -> QueueCounts:
        """How many cards are left today in each queue, limits applied (siblings not counted)."""
        moment = _now(now)
        self._check_day(moment)
        ahead = moment + LEARN_AHEAD
        with self.db.read() as session:
            self._day_log.sync(session)
            progress = self._day_log.progress()
            new_left = max(self.limits.new_per_day - progress.new_done, 0)
            # Only min(new cards, today's allowance) matters: LIMIT lets SQLite stop early.
            new = session.scalar(
                select(func.count()).select_from(
                    select(Card.id)
                    .where(Card.suspended.is_(False), Card.last_review.is_(None), self._unburied())
                    .limit(new_left)
                    .subquery()
                )
            )
        learning = sum(1 for due in self._learning.values() if due <= ahead)
        review_left = max(self.limits.reviews_per_day - progress.reviews_done, 0)
        return QueueCounts(learning, min(len(self._review), review_left), int(new or 0))

    def progress(self, *, now: datetime | None = None) -> DayProgress:
        """What was done this study day: new cards introduced, review cards answered, concepts."""
        self._check_day(_now(now))
        with self.db.read() as session:
            self._day_log.sync(session)
        return self._day_log.progress()

    def preview(self, card_id: int, *, now: datetime | None = None) -> list[IntervalPreview]:
        """The four answer buttons for ``card_id`` (see :func:`preview`)."""
        with self.db.read() as session:
            return preview_card(load_card(session, card_id), _now(now), self.config, self.scheduler)

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
        with self.db.write() as session:
            result = answer_in(
                session,
                card_id,
                rating,
                moment,
                config=self.config,
                scheduler=self.scheduler,
                limits=self.limits,
                duration_ms=duration_ms,
            )
        self._undo.append(result.review_id)
        self._forget(card_id)
        card = result.card
        if card.state in (LEARNING, RELEARNING) and not card.suspended:
            self._set_learning(card_id, card.due)
        return result

    def _forget(self, card_id: int) -> None:
        """Drop a card from the in-memory queues (answered, suspended or buried)."""
        self._learning.pop(card_id, None)
        while card_id in self._front:
            self._front.remove(card_id)
        for queue in (self._review, self._new):
            if queue and queue[0][0] == card_id:
                queue.popleft()

    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` has an answer to take back."""
        return bool(self._undo)

    def undo(self) -> CardInfo:
        """Undo the session's latest answer not yet undone; that card is shown next.

        Raises:
            InvalidInputError: nothing to undo in this session, or the card
                was answered again elsewhere.
        """
        if not self._undo:
            raise InvalidInputError("nothing to undo in this session")
        review_id = self._undo[-1]
        card = undo_review(self.db, review_id)
        self._undo.pop()
        self._day_log.drop(review_id)
        self._learning.pop(card.id, None)
        if card.state in (LEARNING, RELEARNING) and not card.is_new:
            self._set_learning(card.id, card.due)
        self._front.append(card.id)
        return card

    def suspend(self, card_id: int) -> CardInfo:
        """Suspend a card (it leaves the queue)."""
        self._forget(card_id)
        return suspend(self.db, card_id)

    def bury(self, card_id: int, *, now: datetime | None = None) -> CardInfo:
        """Bury a card until the next study day."""
        self._forget(card_id)
        return bury(self.db, card_id, now=now)


def next_card(db: Database, *, now: datetime | None = None) -> CardInfo | None:
    """The card to show now (a one-off :class:`ReviewSession`)."""
    return ReviewSession(db, now=now).next_card(now=now)
