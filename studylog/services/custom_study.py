"""Custom study, as Anki's: review ahead, forgotten cards, any search, extra new cards today.

Anki's custom study (manual, "Filtered Decks" and "Custom Study") builds a
filtered deck from a search; studylog builds a session instead, over the same
review screen and the same answer path:

- **review ahead**: cards due in the next N days (``prop:due<=N``), rescheduled;
- **forgotten cards**: cards answered Again in the last N days (``rated:N:1``);
- **a search, a deck or a tag** (any of the browser's searches, ``deck:``,
  ``tag:``...), regardless of due dates, with Anki's filtered-deck choice
  "Reschedule cards based on my answers in this deck": with it, answers are
  ordinary answers (FSRS steps, the review log, undo); without it the session is
  a **preview** that writes nothing to the schedule: Again shows the card again
  in 1 minute, Hard in 10, Good and Easy take it out of the session (Anki's
  preview delays), no card row and no review row is touched;
- **extra new cards today**: today's new-card limit raised by N
  (:func:`extend_new`, Anki's "Increase today's new card limit").

Suspended and buried cards, and cards without text, are left out, as a
filtered deck leaves them out. Cards come in due order (Anki's "Order due").
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from studylog.cardsearch import parse
from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling import decks as deck_rules
from studylog.scheduling.card import RATINGS, CardRow, IntervalPreview, check_rating
from studylog.scheduling.queue import LEARNING_STATES, DayLog, Lookup, QueueCounts
from studylog.scheduling.undo import UndoOp
from studylog.services import browse, day_limits
from studylog.services.cards import CardInfo
from studylog.services.review import Answered, AnswerResult, ReviewSession, row_info
from studylog.storage import review_rows as rows
from studylog.storage.engine import Database
from studylog.studyday import ensure_utc, utcnow

MAX_DAYS = 9999
MAX_CARDS = 9999
DEFAULT_CARDS = 100  # Anki's custom study "Select ... cards" default
# Anki's preview delays (filtered deck options): Again 1 minute, Hard 10, Good 0 = done.
PREVIEW_DELAYS = {1: 60, 2: 600, 3: 0, 4: 0}
PREVIEW_TEXT = {1: "1m", 2: "10m", 3: "done", 4: "done"}
_LEAVE_OUT = "-is:suspended -is:buried"


@dataclass(frozen=True)
class CustomStudy:
    """What a custom study session studies.

    Attributes:
        kind: ``ahead``, ``forgotten`` or ``search``.
        query: the card search (Anki's syntax) it gathers.
        reschedule: answers change the schedule (False: a preview, nothing written).
        limit: at most this many cards, in due order.
        title: what the review header shows ("Review ahead 3 days").
    """

    kind: str
    query: str
    reschedule: bool
    limit: int
    title: str


def _days(days: int, what: str) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"{what}: {days} days is not allowed (1 to {MAX_DAYS})")
    return days


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_CARDS:
        raise InvalidInputError(f"card limit: {limit} is not allowed (1 to {MAX_CARDS})")
    return limit


def deck_term(deck: str | None) -> str:
    """The search term of exactly ``deck`` and its subdecks (wildcards escaped), with a space."""
    if deck is None:
        return ""
    name = deck_rules.normalize(deck)
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    quoted = quoted.replace("*", "\\*").replace("_", "\\_")
    return f'"deck:{quoted}" '


def review_ahead(
    days: int, *, deck: str | None = None, reschedule: bool = True, limit: int = MAX_CARDS
) -> CustomStudy:
    """Cards due within the next ``days`` days (overdue ones too), in due order."""
    _days(days, "review ahead")
    where = f" in {deck_rules.normalize(deck)}" if deck else ""
    return CustomStudy(
        "ahead",
        f"{deck_term(deck)}prop:due<={days}",
        reschedule,
        _limit(limit),
        f"Review ahead {days} day{'s' if days != 1 else ''}{where}",
    )


def forgotten(
    days: int, *, deck: str | None = None, reschedule: bool = True, limit: int = MAX_CARDS
) -> CustomStudy:
    """Cards answered Again in the last ``days`` study days (``rated:days:1``)."""
    _days(days, "forgotten cards")
    where = f" in {deck_rules.normalize(deck)}" if deck else ""
    return CustomStudy(
        "forgotten",
        f"{deck_term(deck)}rated:{days}:1",
        reschedule,
        _limit(limit),
        f"Forgotten in the last {days} day{'s' if days != 1 else ''}{where}",
    )


def search(
    query: str, *, reschedule: bool, limit: int = DEFAULT_CARDS, title: str | None = None
) -> CustomStudy:
    """The cards of any search (``deck:X``, ``tag:Y``, ``is:new prop:lapses>2``...),
    due or not. Raises SearchSyntaxError for a malformed search (with its position)."""
    parse(query)  # a malformed search is refused before a session starts
    mode = "" if reschedule else " (preview)"
    shown = title or f"Study {query}"
    return CustomStudy("search", query, reschedule, _limit(limit), f"{shown}{mode}")


def whole_deck(deck: str, *, reschedule: bool) -> CustomStudy:
    """Every card of ``deck`` and its subdecks, due or not (up to 9999)."""
    name = deck_rules.normalize(deck)
    return search(
        deck_term(name).strip(),
        reschedule=reschedule,
        limit=MAX_CARDS,
        title=f"Deck {name}, every card",
    )


def extend_new(
    db: Database, extra: int, *, deck: str | None = None, now: datetime | None = None
) -> int:
    """Raise today's new-card limit of ``deck`` (None: the collection) by ``extra``
    (Anki's "Increase today's new card limit"); returns today's new-card limit now.

    Raises:
        InvalidInputError: ``extra`` outside 1-9999, a bad deck name.
        NotFoundError: no such deck.
    """
    moment = ensure_utc(now) if now is not None else utcnow()
    name = None if deck is None else deck_rules.normalize(deck)
    with db.write() as session:
        if name is not None and not rows.has_cards_in(session.connection(), name):
            raise NotFoundError(f"no deck named {name!r} (see: studylog deck list)")
        day = browse.calendar_in(session).day_of(moment)
        day_limits.extend_new_in(session, day, name, extra)
        return day_limits.limits_in(session, day, name).new_per_day


# --- the session --------------------------------------------------------------------------


class CustomQueue:
    """A custom study session's queue: the gathered cards in order, then the cards
    waiting (learning steps, or preview delays) when they come due or nothing else is left.

    The same interface as :class:`studylog.scheduling.queue.DailyQueue`, so that
    :class:`ReviewSession` runs it unchanged.
    """

    def __init__(self, day: date, end: datetime, log: DayLog, gathered: Iterable[CardRow]) -> None:
        self.day, self.end, self.log = day, end, log
        self.subdecks = None  # a filtered deck has no daily limits
        self._pending: deque[int] = deque()
        self._kind: dict[int, str] = {}
        for card in gathered:
            self._pending.append(card.id)
            self._kind[card.id] = (
                "new"
                if card.last_review is None
                else ("learning" if card.state in LEARNING_STATES else "review")
            )
        self._waiting: dict[int, datetime] = {}
        self._heap: list[tuple[datetime, int]] = []
        self.front: list[int] = []

    def _usable(self, card: CardRow | None) -> bool:
        return (
            card is not None
            and not card.suspended
            and (card.buried_until is None or card.buried_until <= self.day)
        )

    def pick(self, now: datetime, lookup: Lookup) -> CardRow | None:
        """The card to show at ``now``: one brought back by undo, a waiting card that
        is due, the next gathered card, else the waiting card due first."""
        while self.front:
            card = lookup(self.front[-1])
            if self._usable(card):
                return card
            self.front.pop()
        card = self._waiting_card(now, lookup)
        if card is not None:
            return card
        while self._pending:
            card = lookup(self._pending[0])
            if self._usable(card):
                return card
            self._pending.popleft()
        return self._waiting_card(None, lookup)

    def _waiting_card(self, until: datetime | None, lookup: Lookup) -> CardRow | None:
        while self._heap:
            due, cid = self._heap[0]
            if self._waiting.get(cid) != due:
                heapq.heappop(self._heap)
                continue
            if until is not None and due > until:
                return None
            card = lookup(cid)
            if self._usable(card):
                return card
            heapq.heappop(self._heap)
            del self._waiting[cid]
        return None

    def wait(self, card_id: int, until: datetime) -> None:
        """Show ``card_id`` again at ``until`` (or when nothing else is left)."""
        self._waiting[card_id] = until
        heapq.heappush(self._heap, (until, card_id))

    def counts(
        self, now: datetime, _new_available: object = None, _new_by_deck: object = None
    ) -> QueueCounts:
        """Cards left in the session: waiting ones count as learning."""
        kinds = [self._kind.get(cid, "review") for cid in self._pending]
        return QueueCounts(
            learning=len(self._waiting) + kinds.count("learning"),
            review=kinds.count("review"),
            new=kinds.count("new"),
        )

    def forget(self, card_id: int) -> None:
        """Take a card out of the session (answered for good, suspended or buried)."""
        self._waiting.pop(card_id, None)
        while card_id in self.front:
            self.front.remove(card_id)
        if card_id in self._pending:
            self._pending.remove(card_id)

    def answered(self, card: CardRow) -> None:
        """After an answer that rescheduled: a (re)learning card comes back when due."""
        self.forget(card.id)
        if card.state in LEARNING_STATES and not card.suspended:
            self.wait(card.id, card.due)

    def restored(self, card: CardRow) -> None:
        """After an undo: the card is shown next."""
        self._waiting.pop(card.id, None)
        self.front.append(card.id)


class CustomSession(ReviewSession):
    """A custom study session (see the module docstring) with the review session's API.

    With ``study.reschedule`` every answer is an ordinary answer (saved at once,
    undoable); without it answers only move the card within the session and
    nothing is written (undo takes the last one back in memory).

    Raises:
        SearchSyntaxError: a malformed search.
    """

    def __init__(self, db: Database, study: CustomStudy, *, now: datetime | None = None) -> None:
        self.study = study
        super().__init__(db, now=now)

    @property
    def title(self) -> str:
        return self.study.title

    def _refresh(self, now: datetime) -> None:
        day = self.calendar.day_of(now)
        end = self.calendar.end_of(day)
        query = f"({self.study.query}) {_LEAVE_OUT}" if self.study.query.strip() else _LEAVE_OUT
        with self.db.read() as session:
            page = browse.search_in(session, query, sort="due", limit=self.study.limit, now=now)
            ids = [row.id for row in page.rows if row.front]
        with self._tx(write=False) as conn:
            self._version = rows.data_version(conn)
            log = rows.day_log(conn, self.calendar.start_of(day), end)
            gathered = [rows.card_row(r) for cid in ids if (r := rows.read_card(conn, cid))]
        self.queue = CustomQueue(day, end, log, gathered)  # type: ignore[assignment]

    def _check_day(self, now: datetime) -> None:
        """A custom session lasts until it is done, across the day boundary too."""

    def preview(self, card_id: int, *, now: datetime | None = None) -> list[IntervalPreview]:
        """The answer buttons: the next intervals, or the preview delays (no rescheduling)."""
        if self.study.reschedule:
            return super().preview(card_id, now=now)
        moment = ensure_utc(now) if now is not None else utcnow()
        return [
            IntervalPreview(r, RATINGS[r], moment + timedelta(seconds=s), float(s), PREVIEW_TEXT[r])
            for r, s in PREVIEW_DELAYS.items()
        ]

    def answer(
        self,
        card_id: int,
        rating: int,
        *,
        now: datetime | None = None,
        duration_ms: int | None = None,
    ) -> AnswerResult:
        """An ordinary answer when rescheduling; otherwise the card moves in the session
        only (Again: back in 1 minute, Hard: 10, Good/Easy: done) and nothing is written."""
        if self.study.reschedule:
            return super().answer(card_id, rating, now=now, duration_ms=duration_ms)
        check_rating(rating)
        if duration_ms is not None and duration_ms < 0:
            raise InvalidInputError(f"answer time must not be negative, not {duration_ms} ms")
        moment = ensure_utc(now) if now is not None else utcnow()
        with self._tx(write=False) as conn:
            row = rows.read_card(conn, card_id)
        if row is None:
            raise NotFoundError(f"no card with id {card_id}")
        delay = PREVIEW_DELAYS[rating]
        queue: CustomQueue = self.queue  # type: ignore[assignment]
        queue.forget(card_id)
        if delay:
            queue.wait(card_id, moment + timedelta(seconds=delay))
        self.undo_stack.push(UndoOp(label="Answer", card_ids=(card_id,), kind="preview"))
        self.answers.append(Answered(card_id, rating, duration_ms, 0))
        return AnswerResult(0, row_info(row), rating, float(delay), PREVIEW_TEXT[rating], False)

    def undo(self) -> CardInfo:
        """Undo the last answer, suspend or bury; a preview answer is undone in memory."""
        op = self.undo_stack.peek()
        if op is None or op.kind != "preview":
            return super().undo()
        card_id = op.card_ids[0]
        with self._tx(write=False) as conn:
            row = rows.read_card(conn, card_id)
        self.undo_stack.pop()
        for k in range(len(self.answers) - 1, -1, -1):
            if self.answers[k].card_id == card_id:
                del self.answers[k]
                break
        if row is None:
            raise NotFoundError(f"no card with id {card_id}")
        self.queue.restored(rows.card_row(row))
        return row_info(row)


__all__ = [
    "DEFAULT_CARDS",
    "PREVIEW_DELAYS",
    "CustomQueue",
    "CustomSession",
    "CustomStudy",
    "extend_new",
    "forgotten",
    "review_ahead",
    "search",
    "whole_deck",
]
