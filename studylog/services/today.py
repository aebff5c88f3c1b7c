"""The study day at a glance: entries, TODOs, reviews done, cards due and the streak.

Every read here is a Core select on :mod:`studylog.storage.tables` through
:meth:`Database.read_connection`: ``studylog today`` starts cold many times a
day, and the ORM (``sqlalchemy.orm`` and the mapped models) would be a fifth of
its start (tests/test_architecture.py keeps it out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select

from studylog.services import decks, journal, todos
from studylog.services.journal import EntryInfo
from studylog.services.todos import TodoInfo
from studylog.storage.deck_rows import no_text
from studylog.storage.engine import Database
from studylog.storage.tables import cards, journal_entries, reviews
from studylog.storage.times import to_ms
from studylog.studyday import StudyCalendar, streak_length


@dataclass(frozen=True)
class DaySummary:
    """One study day. ``due`` counts unsuspended, unburied cards due before the day ends
    (new cards included); ``streak`` is the run of consecutive study days with an entry
    or a review, ending today (or yesterday, when today has nothing yet)."""

    day: date
    entries: list[EntryInfo]
    todos: list[TodoInfo]
    reviews_done: int
    due: int
    new_cards: int
    streak: int
    queue: QueueNow | None = None


@dataclass(frozen=True)
class QueueNow:
    """What the review session shows now (today's queue, the daily limits applied):
    new cards, learning cards due within the learn-ahead limit, review cards due today."""

    new: int
    learning: int
    review: int


def reviews_on(db: Database, day: date, calendar: StudyCalendar) -> int:
    """How many answers were given on study day ``day``, to cards deleted since too
    (they stay in the log, revision 0011; Anki's "studied today" counts its whole
    revlog the same way). The per-deck limits count by the cards' decks instead
    (:mod:`studylog.storage.deck_rows`), so a deleted card's answers leave them."""
    r = reviews.c
    with db.read_connection() as conn:
        return (
            conn.scalar(
                select(func.count(r.id)).where(
                    r.reviewed_at_ms >= to_ms(calendar.start_of(day)),
                    r.reviewed_at_ms < to_ms(calendar.end_of(day)),
                )
            )
            or 0
        )


def due_counts(db: Database, day: date, calendar: StudyCalendar) -> tuple[int, int]:
    """(due cards already seen, new cards) that are available on study day ``day``.

    One pass over the ``ix_cards_due`` index, minus the cards without text
    (review-log cards, :func:`studylog.storage.deck_rows.has_text`; they are not in
    the queue) counted from their small partial index: reading every card's
    front instead would cost ten times as much on 100k cards.
    """
    end = calendar.end_of(day)
    c = cards.c
    seen = c.last_review.is_not(None)
    conditions = (
        c.suspended.is_(False),
        c.due < end,
        or_(c.buried_until.is_(None), c.buried_until <= day),
    )
    counts = select(func.count(c.id).filter(seen), func.count(c.id).filter(~seen))
    # The conditions go in the FILTERs, not the WHERE: with only ``front = ''`` there
    # SQLite reads the small partial index rather than ix_cards_due.
    blank_counts = select(
        func.count(c.id).filter(and_(seen, *conditions)),
        func.count(c.id).filter(and_(~seen, *conditions)),
    ).where(no_text())
    with db.read_connection() as conn:
        row = conn.execute(counts.where(*conditions)).one()
        blank = conn.execute(blank_counts).one()
    return int(row[0]) - int(blank[0]), int(row[1]) - int(blank[1])


def streak(db: Database, today: date, calendar: StudyCalendar, *, limit_days: int = 3660) -> int:
    """Consecutive study days with an entry or a review, counting back from today.

    Today without activity yet does not break the streak: it then counts from
    yesterday. Entry days come from one query; only days without an entry cost
    an indexed EXISTS probe on the review log, so a five-year streak over a
    million reviews stays in the tens of milliseconds.
    """
    first = today - timedelta(days=limit_days)
    e, r = journal_entries.c, reviews.c
    with db.read_connection() as conn:
        entry_days = set(conn.scalars(select(e.day).where(e.day >= first).distinct()))

        def active(day: date) -> bool:
            if day in entry_days:
                return True
            probe = exists().where(
                r.reviewed_at_ms >= to_ms(calendar.start_of(day)),
                r.reviewed_at_ms < to_ms(calendar.end_of(day)),
            )
            return bool(conn.scalar(select(probe)))

        return streak_length(active, today, limit_days=limit_days)


def queue_now(db: Database, now: datetime) -> QueueNow:
    """Today's queue at ``now`` with the limits applied: the numbers the review
    session's header shows (:func:`studylog.services.decks.queue_counts`)."""
    new, learning, review = decks.queue_counts(db, now=now)
    return QueueNow(new, learning, review)


def summary(
    db: Database, day: date, calendar: StudyCalendar, *, now: datetime | None = None
) -> DaySummary:
    """Everything the Today view and ``studylog today`` show for study day ``day``.

    ``queue`` (what reviewing shows, limits applied) is read when ``now`` is given
    and falls on ``day``; None otherwise (a past day has no queue).
    """
    seen, new = due_counts(db, day, calendar)
    queue = queue_now(db, now) if now is not None and calendar.day_of(now) == day else None
    return DaySummary(
        day=day,
        entries=journal.on_day(db, day),
        todos=todos.for_day(db, day, calendar),
        reviews_done=reviews_on(db, day, calendar),
        due=seen,
        new_cards=new,
        streak=streak(db, day, calendar),
        queue=queue,
    )
