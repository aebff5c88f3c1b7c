"""The daily queue, as Anki's v3 scheduler orders it: pure over plain rows.

Order (Anki manual, "Display Order" and "Daily Limits"):

1. a card brought back by undo (shown again at once);
2. learning and relearning cards that are due now;
3. review cards due this study day (overdue first), within the daily review limit;
4. new cards, in the order they were added, within the daily new-card limit
   (and, unless ``new_ignores_review_limit``, within what the review limit leaves);
5. learning cards due within the next 20 minutes (Anki's "learn ahead limit");
6. siblings: a new or review card whose concept already had a card answered
   this study day is held back (Anki's "bury siblings", if ``bury_siblings``)
   and only shown when nothing else is left.

The queue holds card ids gathered once per study day (the service reads
them); every candidate is re-read by primary key through ``lookup`` before it
is shown, so a card changed elsewhere is never shown stale. The day's progress
is kept as running counters (:class:`DayLog`), topped up with answers others
saved. No SQL here: the reads are functions the service passes in.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from studylog.scheduling.card import LEARN_AHEAD, CardRow
from studylog.scheduling.settings import DailyLimits
from studylog.scheduling.states import CardState

LEARNING_STATES = (CardState.LEARNING, CardState.RELEARNING)

Lookup = Callable[[int], CardRow | None]
"""Read one card by id (None if it is gone)."""
NewPage = Callable[[tuple[datetime, int] | None, int], list[tuple[int, int | None, datetime]]]
"""Read up to ``want`` new cards after a (due, id) cursor, as (id, concept id, due)."""


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


class DayLog:
    """Today's answers as the queue needs them, kept as running counters.

    ``add`` records an answer (review id, was the card new, was it a review
    card, its concept); ``drop`` takes an undone one back. ``last_id`` is the
    largest review id seen, so the service reads only rows above it.
    """

    def __init__(self, start: datetime, end: datetime, last_id: int = 0) -> None:
        self.start, self.end = start, end
        self.last_id = last_id
        self.rows: dict[int, tuple[bool, bool, int | None]] = {}
        self.new_done = 0
        self.reviews_done = 0
        self._concepts: Counter[int] = Counter()

    def add(
        self, review_id: int, at: datetime, was_new: bool, was_review: bool, concept: int | None
    ) -> None:
        """Record one saved answer (ignored if it is not of this study day or already seen)."""
        self.last_id = max(self.last_id, review_id)
        if not self.start <= at < self.end or review_id in self.rows:
            return
        self.rows[review_id] = (was_new, was_review, concept)
        self.new_done += was_new
        self.reviews_done += was_review
        if concept is not None:
            self._concepts[concept] += 1

    def drop(self, review_id: int) -> None:
        """Forget an undone answer. SQLite hands a deleted top rowid out again, so
        the next read must look from this id on."""
        row = self.rows.pop(review_id, None)
        if row is not None:
            was_new, was_review, concept = row
            self.new_done -= was_new
            self.reviews_done -= was_review
            if concept is not None:
                self._concepts[concept] -= 1
                if not self._concepts[concept]:
                    del self._concepts[concept]
        self.last_id = min(self.last_id, review_id - 1)

    def seen(self, concept: int | None) -> bool:
        return concept is not None and concept in self._concepts

    def progress(self) -> DayProgress:
        return DayProgress(self.new_done, self.reviews_done, frozenset(self._concepts))


class DailyQueue:
    """One study day's queue (see the module docstring).

    Args:
        day, end: the study day and the UTC moment it ends.
        limits: the daily limits and the sibling rule.
        learning: (id, due) of the learning and relearning cards (answered at least once).
        review: (id, concept id) of the review cards due before ``end``, in (due, id) order.
        log: today's answers.
        new_page: reads the next new cards (see :data:`NewPage`).
        allow: subdecks' own limits (see :class:`studylog.scheduling.decks.DeckCaps`):
            called with a card id just looked up and its queue; None: no subdeck limits.
    """

    def __init__(
        self,
        day: date,
        end: datetime,
        limits: DailyLimits,
        learning: Iterable[tuple[int, datetime]],
        review: Iterable[tuple[int, int | None]],
        log: DayLog,
        new_page: NewPage,
        allow: Callable[[int, str], bool] | None = None,
    ) -> None:
        self.day, self.end, self.limits, self.log = day, end, limits, log
        # allow(card id, "review" | "new"): the card's deck (and the decks between it and
        # the deck studied) still have room today; a card refused leaves the queue.
        self.allow = allow
        self._new_page = new_page
        self._learning: dict[int, datetime] = dict(learning)
        self._heap = [(due, cid) for cid, due in self._learning.items()]
        heapq.heapify(self._heap)
        self._review: deque[tuple[int, int | None]] = deque(review)
        self._new: deque[tuple[int, int | None]] = deque()
        self._new_cursor: tuple[datetime, int] | None = None
        self._new_exhausted = False
        self._held: dict[str, list[int]] = {"review": [], "new": []}
        self.front: list[int] = []

    # -- eligibility ---------------------------------------------------------------

    def eligible(self, card: CardRow | None, queue: str) -> bool:
        """Whether ``card`` (re-read) still belongs in ``queue``."""
        if card is None or card.suspended:
            return False
        if card.buried_until is not None and card.buried_until > self.day:
            return False
        if queue == "learning":
            return card.last_review is not None and card.state in LEARNING_STATES
        if queue == "review":
            return (
                card.last_review is not None
                and card.state == CardState.REVIEW
                and card.due < self.end
            )
        if queue == "new":
            return card.last_review is None
        return True  # "front": a card brought back by undo

    # -- limits --------------------------------------------------------------------

    def _review_left(self) -> int:
        done = self.log.reviews_done
        if not self.limits.new_ignores_review_limit:
            done += self.log.new_done  # Anki v3: new cards introduced use up the review limit
        return max(self.limits.reviews_per_day - done, 0)

    def _new_left(self) -> int:
        left = max(self.limits.new_per_day - self.log.new_done, 0)
        if not self.limits.new_ignores_review_limit:
            # Anki v3: new cards count against the review limit too, after the reviews due.
            pending = min(len(self._review) + len(self._held["review"]), self._review_left())
            room = self.limits.reviews_per_day - self.log.reviews_done - self.log.new_done
            left = min(left, max(room - pending, 0))
        return left

    # -- picking -------------------------------------------------------------------

    def pick(self, now: datetime, lookup: Lookup) -> CardRow | None:
        """The card to show at ``now``, or None when nothing is left for this study day.

        Calling it again without answering returns the same card.
        """
        while self.front:
            card = lookup(self.front[-1])
            if self.eligible(card, "front"):
                return card
            self.front.pop()
        card = self._pick_learning(now, lookup)
        if card is not None:
            return card
        review_left = self._review_left() > 0
        if review_left:
            card = self._pick_queue(self._review, "review", lookup)
            if card is not None:
                return card
        new_left = self._new_left() > 0
        if new_left:
            card = self._pick_new(lookup)
            if card is not None:
                return card
        card = self._pick_learning(now + LEARN_AHEAD, lookup)
        if card is not None:
            return card
        # Nothing else is left: siblings held back today after all.
        for name, allowed in (("review", review_left), ("new", new_left)):
            held = self._held[name]
            while allowed and held:
                card = lookup(held[0])
                if self.eligible(card, name) and (self.allow is None or self.allow(held[0], name)):
                    return card
                held.pop(0)
        return None

    def _pick_learning(self, until: datetime, lookup: Lookup) -> CardRow | None:
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
            card = lookup(cid)
            if card is None or not self.eligible(card, "learning"):
                heapq.heappop(self._heap)
                del self._learning[cid]
                continue
            if card.due == due:
                return card
            self.set_learning(cid, card.due)  # rescheduled elsewhere: look again
        return None

    def set_learning(self, card_id: int, due: datetime) -> None:
        """Put a (re)learning card in the learning queue, due at ``due``."""
        self._learning[card_id] = due
        heapq.heappush(self._heap, (due, card_id))

    def _pick_queue(
        self, queue: deque[tuple[int, int | None]], name: str, lookup: Lookup
    ) -> CardRow | None:
        """The front of ``queue`` after dropping stale entries and holding back siblings."""
        while queue:
            cid, concept = queue[0]
            if self.limits.bury_siblings and self.log.seen(concept):
                self._held[name].append(queue.popleft()[0])
                continue
            card = lookup(cid)
            if self.eligible(card, name) and (self.allow is None or self.allow(cid, name)):
                return card
            queue.popleft()
        return None

    def _pick_new(self, lookup: Lookup) -> CardRow | None:
        page = max(self.limits.new_per_day, 1)
        while True:
            card = self._pick_queue(self._new, "new", lookup)
            if card is not None or self._new_exhausted:
                return card
            rows = self._new_page(self._new_cursor, page)
            if rows:
                self._new_cursor = (rows[-1][2], rows[-1][0])
            self._new.extend((cid, concept) for cid, concept, _ in rows)
            self._new_exhausted = len(rows) < page

    # -- counting and changes ----------------------------------------------------------

    def counts(self, now: datetime, new_available: Callable[[int], int]) -> QueueCounts:
        """Cards left now per queue, limits applied (siblings not counted).

        ``new_available(n)``: how many new cards exist, counting at most ``n``.
        """
        ahead = now + LEARN_AHEAD
        learning = sum(1 for due in self._learning.values() if due <= ahead)
        new_left = self._new_left()
        new = new_available(new_left) if new_left else 0
        return QueueCounts(learning, min(len(self._review), self._review_left()), int(new))

    def forget(self, card_id: int) -> None:
        """Drop a card from the queues (answered, suspended or buried)."""
        self._learning.pop(card_id, None)
        while card_id in self.front:
            self.front.remove(card_id)
        for queue in (self._review, self._new):
            if queue and queue[0][0] == card_id:
                queue.popleft()
        for held in self._held.values():
            if held and held[0] == card_id:
                held.pop(0)

    def answered(self, card: CardRow) -> None:
        """After an answer: the card leaves its queue; a (re)learning card comes back when due."""
        self.forget(card.id)
        if card.state in LEARNING_STATES and not card.suspended:
            self.set_learning(card.id, card.due)

    def restored(self, card: CardRow) -> None:
        """After an undo: the card is shown next; a (re)learning card is in the learning queue."""
        self._learning.pop(card.id, None)
        if card.state in LEARNING_STATES and not card.is_new:
            self.set_learning(card.id, card.due)
        self.front.append(card.id)
