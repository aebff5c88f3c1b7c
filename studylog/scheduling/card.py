"""Scheduling one card: the ``fsrs`` package's step, studylog's fuzz, the leech rule, previews.

Pure: a card is any object with the scheduling attributes of a card row
(:class:`CardRow` from the review hot path, or the ORM ``Card``); nothing here
reads or writes the database. An answer is *planned* here
(:func:`plan_answer`: the card's new columns and the review row) and written
by :mod:`studylog.storage.review_rows` in one transaction.

Sources: the FSRS-6 step is ``fsrs.Scheduler.review_card``; the fuzz range is
the package's, drawn deterministically (:mod:`studylog.scheduling.fuzz`); the
day inside it is load-balanced as Anki 24.11 does when a :class:`DayLoad` is
given (:mod:`studylog.scheduling.load_balance`); the leech rule and the
interval labels are Anki's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import fsrs

from studylog.errors import InvalidInputError
from studylog.formatting import format_interval
from studylog.scheduling.fuzz import fuzz_unit, fuzzed_day
from studylog.scheduling.load_balance import DayLoad
from studylog.scheduling.settings import DailyLimits, SchedulerConfig
from studylog.scheduling.states import CardState, Rating
from studylog.studyday import ensure_utc

RATINGS: dict[int, str] = {int(r): r.label for r in Rating}
"""Rating number -> Anki's button label (1 Again, 2 Hard, 3 Good, 4 Easy)."""
LEECH_TAG = "leech"
LEARN_AHEAD = timedelta(minutes=20)
"""Anki's "learn ahead limit": learning cards due this soon are shown when nothing else is."""

# The columns an answer changes on a card row (the undo before-image).
ANSWER_COLUMNS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
    "suspended",
)


class CardLike(Protocol):
    """The scheduling attributes of a card (times aware UTC)."""

    id: int
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int


@dataclass(frozen=True, slots=True)
class CardRow:
    """A card's scheduling columns as plain values, read by primary key.

    Times are aware UTC; ``stability`` in days, ``difficulty`` in [1, 10];
    ``buried_until`` the study day a buried card comes back.
    """

    id: int
    concept_id: int | None
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int
    suspended: bool
    buried_until: date | None

    @property
    def is_new(self) -> bool:
        return self.last_review is None

    def values(self, columns: tuple[str, ...] = ANSWER_COLUMNS) -> dict[str, Any]:
        """Some columns as a dict (an undo image)."""
        return {c: getattr(self, c) for c in columns}


def check_rating(rating: object) -> int:
    """The rating as an int 1-4. Raises InvalidInputError otherwise."""
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise InvalidInputError(
            f"rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy), not {rating!r}"
        )
    return int(rating)


def to_fsrs(card: CardLike) -> fsrs.Card:
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
    card: CardLike,
    rating: int,
    now: datetime,
    config: SchedulerConfig,
    scheduler: fsrs.Scheduler,
    load: DayLoad | None = None,
) -> fsrs.Card:
    """The card's state after answering ``rating`` at ``now`` (the card is not changed).

    ``scheduler.review_card`` does the FSRS step; a Review interval then gets
    the package's fuzz range with a uniform drawn from (card id, reps after),
    so a preview and the answer agree (:func:`studylog.scheduling.fuzz.fuzz_unit`).
    With ``load`` (the Review cards due on each study day from ``now``'s, and
    the easy days), the day inside the fuzz range is drawn by Anki 24.11's
    load-balancing weights with that same uniform instead
    (:meth:`studylog.scheduling.load_balance.DayLoad.interval`; intervals under
    2.5 or over 90 days keep the plain fuzz). Nothing is fuzzed or balanced
    when ``config.enable_fuzzing`` is off. Times must be aware UTC.
    """
    after, _ = scheduler.review_card(to_fsrs(card), fsrs.Rating(rating), now)
    if config.enable_fuzzing and after.state == fsrs.State.Review:
        days = (after.due - now).days
        u = fuzz_unit(card.id, card.reps + 1)
        balanced = None if load is None else load.interval(days, u, config.maximum_interval_d)
        if balanced is None:
            balanced = fuzzed_day(days, u, config.maximum_interval_d)
        after.due = now + timedelta(days=balanced)
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


def preview_card(
    card: CardLike,
    now: datetime,
    config: SchedulerConfig,
    scheduler: fsrs.Scheduler,
    load: DayLoad | None = None,
) -> list[IntervalPreview]:
    """The four answer buttons for ``card`` at ``now`` (``load``: as :func:`schedule`)."""
    out = []
    for rating, label in RATINGS.items():
        after = schedule(card, rating, now, config, scheduler, load)
        seconds = (after.due - now).total_seconds()
        out.append(IntervalPreview(rating, label, after.due, seconds, format_interval(seconds)))
    return out


@dataclass(frozen=True)
class AnswerPlan:
    """What one answer writes.

    Attributes:
        card: the card's new values of :data:`ANSWER_COLUMNS`.
        review: the ``reviews`` row (without id; times aware UTC).
        leech: this answer made the card a leech (tag it; suspend per ``leech_action``).
        interval_seconds: due after - now.
    """

    card: dict[str, Any]
    review: dict[str, Any]
    leech: bool
    interval_seconds: float

    @property
    def interval_text(self) -> str:
        return format_interval(self.interval_seconds)


def plan_answer(
    card: CardRow,
    rating: int,
    now: datetime,
    *,
    config: SchedulerConfig,
    scheduler: fsrs.Scheduler,
    limits: DailyLimits,
    duration_ms: int | None = None,
    load: DayLoad | None = None,
) -> AnswerPlan:
    """Plan answering ``card`` with ``rating`` at ``now`` (aware UTC).

    ``load``: the due counts for load balancing (:func:`schedule`), None for the plain fuzz.

    A lapse (a Review card answered Again) adds one to ``lapses``; at a leech
    (:func:`is_leech` with ``limits.leech_threshold``) the card is suspended
    when ``limits.leech_action`` is ``suspend``.

    Raises:
        InvalidInputError: rating outside 1-4, negative duration, suspended card.
    """
    rating = check_rating(rating)
    if duration_ms is not None and duration_ms < 0:
        raise InvalidInputError(f"answer duration cannot be negative: {duration_ms} ms")
    if card.suspended:
        raise InvalidInputError(f"card {card.id} is suspended: unsuspend it before answering")
    after = schedule(card, rating, now, config, scheduler, load)
    lapse = card.state == CardState.REVIEW and rating == Rating.AGAIN
    lapses = card.lapses + 1 if lapse else card.lapses
    leech = lapse and is_leech(lapses, limits.leech_threshold)
    seconds = (after.due - now).total_seconds()
    new = {
        "state": int(after.state),
        "step": after.step,
        "stability": after.stability,
        "difficulty": after.difficulty,
        "due": after.due,
        "last_review": after.last_review,
        "reps": card.reps + 1,
        "lapses": lapses,
        "suspended": card.suspended or (leech and limits.leech_action == "suspend"),
    }
    review = {
        "card_id": card.id,
        "rating": rating,
        "reviewed_at": now,
        "duration_ms": duration_ms,
        "state_before": card.state,
        "step_before": card.step,
        "stability_before": card.stability,
        "difficulty_before": card.difficulty,
        "due_before": card.due,
        "last_review_before": card.last_review,
        "state_after": int(after.state),
        "step_after": after.step,
        "stability_after": after.stability,
        "difficulty_after": after.difficulty,
        "due_after": after.due,
        "interval_days": seconds / 86400.0,
    }
    return AnswerPlan(new, review, leech, seconds)
