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

Limits per deck (Anki v3, manual "Deck Options" > "Daily Limits"): the limits
of the deck being reviewed (the collection's when all decks are) cap
everything shown; each subdeck's own limits (its preset's, inherited by the
``::`` hierarchy) cap the cards of that subdeck and its children, counting
what was studied in them today
(:class:`studylog.scheduling.decks.SubdeckLimits`). A parent's limit thus
caps its children when the parent is reviewed; limits of decks above the
reviewed deck do not apply.

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
from typing import Any

from studylog.scheduling.card import LEARN_AHEAD, CardRow
from studylog.scheduling.decks import Done, SubdeckLimits, is_within
from studylog.scheduling.settings import DailyLimits
from studylog.scheduling.states import CardState

LEARNING_STATES = (CardState.LEARNING, CardState.RELEARNING)

Lookup = Callable[[int], CardRow | None]
"""Read one card by id (None if it is gone)."""
NewPage = Callable[[tuple[datetime, int] | None, int], list[tuple[Any, ...]]]
"""Read up to ``want`` new cards after a (due, id) cursor, as (id, concept id, due[, deck])."""


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
        self.rows: dict[int, tuple[bool, bool, int | None, str | None]] = {}
        self.new_done = 0
        self.reviews_done = 0
        self._concepts: Counter[int] = Counter()
        self.new_by_deck: Counter[str] = Counter()
        self.reviews_by_deck: Counter[str] = Counter()
        self.version = 0  # bumped on every change (for caches of per-deck sums)

    def add(
        self,
        review_id: int,
        at: datetime,
        was_new: bool,
        was_review: bool,
        concept: int | None,
        deck: str | None = None,
    ) -> None:
        """Record one saved answer (ignored if it is not of this study day or already seen).

        ``deck``: the card's deck, for the per-deck limits (None: not known).
        """
        self.last_id = max(self.last_id, review_id)
        if not self.start <= at < self.end or review_id in self.rows:
            return
        self.rows[review_id] = (was_new, was_review, concept, deck)
        self.new_done += was_new
        self.reviews_done += was_review
        if concept is not None:
            self._concepts[concept] += 1
        if deck is not None:
            self.new_by_deck[deck] += was_new
            self.reviews_by_deck[deck] += was_review
        self.version += 1

    def drop(self, review_id: int) -> None:
        """Forget an undone answer. SQLite hands a deleted top rowid out again, so
        the next read must look from this id on."""
        row = self.rows.pop(review_id, None)
        if row is not None:
            was_new, was_review, concept, deck = row
            self.new_done -= was_new
            self.reviews_done -= was_review
            if concept is not None:
                self._concepts[concept] -= 1
                if not self._concepts[concept]:
                    del self._concepts[concept]
            if deck is not None:
                self.new_by_deck[deck] -= was_new
                self.reviews_by_deck[deck] -= was_review
            self.version += 1
        self.last_id = min(self.last_id, review_id - 1)

    def studied_in(self, deck: str) -> Done:
        """New cards introduced and review cards answered today in ``deck`` and its subdecks."""
        new = sum(n for d, n in self.new_by_deck.items() if is_within(d, deck))
        reviews = sum(n for d, n in self.reviews_by_deck.items() if is_within(d, deck))
        return Done(new, reviews)

    def seen(self, concept: int | None) -> bool:
        return concept is not None and concept in self._concepts

    def progress(self) -> DayProgress:
        return DayProgress(self.new_done, self.reviews_done, frozenset(self._concepts))


Entry = tuple[int, int | None, str | None]
"""A queued card: (id, concept id, deck or None when not known)."""


def _entry(row: tuple[Any, ...]) -> Entry:
    return (row[0], row[1], row[2] if len(row) > 2 else None)


class DailyQueue:
    """One study day's queue (see the module docstring).

    Args:
        day, end: the study day and the UTC moment it ends.
        limits: the daily limits and the sibling rule.
        learning: (id, due) of the learning and relearning cards (answered at least once).
        review: (id, concept id[, deck]) of the review cards due before ``end``, in (due, id) order.
        log: today's answers.
        new_page: reads the next new cards (see :data:`NewPage`).
        subdecks: the limits of the decks below the reviewed deck (None: only
            ``limits`` apply, as when no deck has limits of its own).
    """

    def __init__(
        self,
        day: date,
        end: datetime,
        limits: DailyLimits,
        learning: Iterable[tuple[int, datetime]],
        review: Iterable[tuple[Any, ...]],
        log: DayLog,
        new_page: NewPage,
        subdecks: SubdeckLimits | None = None,
    ) -> None:
        self.day, self.end, self.limits, self.log = day, end, limits, log
        self.subdecks = subdecks
        self._new_page = new_page
        self._learning: dict[int, datetime] = dict(learning)
        self._heap = [(due, cid) for cid, due in self._learning.items()]
        heapq.heapify(self._heap)
        self._review: deque[Entry] = deque(_entry(r) for r in review)
        self._new: deque[Entry] = deque()
        self._new_cursor: tuple[datetime, int] | None = None
        self._new_exhausted = False
        self._held: dict[str, list[Entry]] = {"review": [], "new": []}
        self.front: list[int] = []

    def next_learning_due(self, after: datetime) -> datetime | None:
        """The earliest due time (aware UTC) of a learning card of this queue later than
        ``after``, or None: until then the learning counts at ``after`` cannot grow."""
        later = [due for due in self._learning.values() if due > after]
        return min(later) if later else None

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
                cid, _, deck = held[0]
                card = lookup(cid)
                if self.eligible(card, name) and self._room(deck, name):
                    return card
                held.pop(0)
        return None

    def _room(self, deck: str | None, name: str) -> bool:
        """Whether the decks below the reviewed one have room for a card of ``deck``."""
        return self.subdecks is None or self.subdecks.room(deck, name)

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

    def _pick_queue(self, queue: deque[Entry], name: str, lookup: Lookup) -> CardRow | None:
        """The front of ``queue`` after dropping stale entries and the cards whose deck
        has reached its limit for today, and holding back siblings."""
        while queue:
            cid, concept, deck = queue[0]
            if not self._room(deck, name):
                queue.popleft()  # its deck (or a deck above it) is done for today
                continue
            if self.limits.bury_siblings and self.log.seen(concept):
                self._held[name].append(queue.popleft())
                continue
            card = lookup(cid)
            if self.eligible(card, name):
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
            self._new.extend((r[0], r[1], r[3] if len(r) > 3 else None) for r in rows)
            self._new_exhausted = len(rows) < page

    # -- counting and changes ----------------------------------------------------------

    def counts(
        self,
        now: datetime,
        new_available: Callable[[int], int],
        new_by_deck: Callable[[], dict[str, int]] | None = None,
    ) -> QueueCounts:
        """Cards left now per queue, limits applied (siblings not counted).

        ``new_available(n)``: how many new cards exist, counting at most ``n``.
        ``new_by_deck()``: how many new cards each deck has (needed for the
        per-deck limits when :attr:`subdecks` is set).
        """
        ahead = now + LEARN_AHEAD
        learning = sum(1 for due in self._learning.values() if due <= ahead)
        new_left = self._new_left()
        review_left = self._review_left()
        if self.subdecks is None:
            review = min(len(self._review), review_left)
            new = new_available(new_left) if new_left else 0
        else:
            review = self.subdecks.fit((deck for _, _, deck in self._review), "review", review_left)
            new = 0
            if new_left:
                if new_by_deck is None:
                    new = new_available(new_left)
                else:
                    new = self.subdecks.fit_counts(new_by_deck(), "new", new_left)
        return QueueCounts(learning, review, int(new))

    def forget(self, card_id: int) -> None:
        """Drop a card from the queues (answered, suspended or buried)."""
        self._learning.pop(card_id, None)
        while card_id in self.front:
            self.front.remove(card_id)
        for queue in (self._review, self._new):
            if queue and queue[0][0] == card_id:
                queue.popleft()
        for held in self._held.values():
            if held and held[0][0] == card_id:
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
