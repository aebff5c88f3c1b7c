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
what was studied in them today (:class:`DeckCaps`). A parent's limit thus
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
from studylog.scheduling.settings import DailyLimits, deck_path, is_in_deck
from studylog.scheduling.states import CardState

LEARNING_STATES = (CardState.LEARNING, CardState.RELEARNING)

Lookup = Callable[[int], CardRow | None]
"""Read one card by id (None if it is gone)."""
NewPage = Callable[[tuple[datetime, int] | None, int], list[tuple[Any, ...]]]
"""Read up to ``want`` new cards after a (due, id) cursor, as (id, concept id, due[, deck])."""
LimitsOf = Callable[[str], DailyLimits]
"""A deck's effective daily limits (its preset's, inherited, else the collection's)."""


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

    def done_in(self, deck: str, kind: str) -> int:
        """New (``kind="new"``) or review cards studied today in ``deck`` and its subdecks."""
        counter = self.new_by_deck if kind == "new" else self.reviews_by_deck
        return sum(n for d, n in counter.items() if is_in_deck(d, deck))

    def seen(self, concept: int | None) -> bool:
        return concept is not None and concept in self._concepts

    def progress(self) -> DayProgress:
        return DayProgress(self.new_done, self.reviews_done, frozenset(self._concepts))


class DeckCaps:
    """The per-deck daily limits below the reviewed deck (Anki v3).

    A card of deck ``D`` may be shown only while every deck from the one
    below ``top`` down to ``D`` has room: its ``new_per_day`` (or
    ``reviews_per_day``) minus what was studied today in it and its
    subdecks. The reviewed deck's own limits are the queue's ``limits``.

    Args:
        top: the deck being reviewed (None: the whole collection).
        limits_of: each deck's effective limits.
        log: today's answers (with their decks).
    """

    def __init__(self, top: str | None, limits_of: LimitsOf, log: DayLog) -> None:
        self.top, self.limits_of, self.log = top, limits_of, log
        self._paths: dict[str, tuple[str, ...]] = {}
        self._left: dict[tuple[str, str], int] = {}
        self._version = -1

    def path(self, deck: str) -> tuple[str, ...]:
        """The decks below ``top`` down to ``deck`` (outermost first) whose limits apply."""
        found = self._paths.get(deck)
        if found is None:
            full = deck_path(deck)
            if self.top is not None:
                full = tuple(d for d in full if is_in_deck(d, self.top) and d != self.top)
            found = self._paths[deck] = full
        return found

    def left(self, deck: str, kind: str) -> int:
        """Room left today in ``deck`` (and its subdecks) for ``kind`` ``new`` or ``review``."""
        if self._version != self.log.version:
            self._left.clear()
            self._version = self.log.version
        key = (deck, kind)
        found = self._left.get(key)
        if found is None:
            limits = self.limits_of(deck)
            limit = limits.new_per_day if kind == "new" else limits.reviews_per_day
            found = self._left[key] = max(limit - self.log.done_in(deck, kind), 0)
        return found

    def room(self, deck: str | None, kind: str) -> bool:
        """Whether a card of ``deck`` fits under every deck limit on its path."""
        return deck is None or all(self.left(d, kind) > 0 for d in self.path(deck))

    def fit(self, decks: Iterable[str | None], kind: str, at_most: int) -> int:
        """How many of the cards of ``decks`` (in queue order) fit under the limits,
        counting at most ``at_most`` (each one taken uses room on its path)."""
        left: dict[str, int] = {}
        taken = 0
        for deck in decks:
            if taken >= at_most:
                break
            path = () if deck is None else self.path(deck)
            if all(left.setdefault(d, self.left(d, kind)) > 0 for d in path):
                for d in path:
                    left[d] -= 1
                taken += 1
        return taken

    def fit_counts(self, by_deck: dict[str, int], kind: str, at_most: int) -> int:
        """:meth:`fit` for counts of cards per deck (order does not matter for a count):
        each deck takes at most its room, of its own cards plus what its subdecks took."""
        nodes: dict[str, int] = {}
        direct = 0  # cards of the reviewed deck itself, or taken by a deck just below it
        for deck, n in by_deck.items():
            path = self.path(deck)
            if not path:
                direct += n
                continue
            for d in path:
                nodes.setdefault(d, 0)
            nodes[deck] += n
        for node in sorted(nodes, key=lambda d: -len(self.path(d))):  # subdecks first
            capped = min(nodes[node], self.left(node, kind))
            path = self.path(node)
            if len(path) >= 2:
                nodes[path[-2]] += capped
            else:
                direct += capped
        return min(direct, at_most)


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
        caps: the per-deck limits below the reviewed deck (None: only ``limits``
            apply, as when no deck has a preset of its own).
        allow: subdecks' own limits (see :class:`studylog.scheduling.decks.DeckCaps`):
            called with a card id just looked up and its queue; None: no subdeck limits.
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
        caps: DeckCaps | None = None,
        allow: Callable[[int, str], bool] | None = None,
    ) -> None:
        self.day, self.end, self.limits, self.log = day, end, limits, log
        self.caps = caps
        # allow(card id, "review" | "new"): the card's deck (and the decks between it and
        # the deck studied) still have room today; a card refused leaves the queue.
        self.allow = allow
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
                if (
                    self.eligible(card, name)
                    and self._room(deck, name)
                    and (self.allow is None or self.allow(cid, name))
                ):
                    return card
                held.pop(0)
        return None

    def _room(self, deck: str | None, name: str) -> bool:
        return self.caps is None or self.caps.room(deck, name)

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
        per-deck limits when :attr:`caps` is set).
        """
        ahead = now + LEARN_AHEAD
        learning = sum(1 for due in self._learning.values() if due <= ahead)
        new_left = self._new_left()
        review_left = self._review_left()
        if self.caps is None:
            review = min(len(self._review), review_left)
            new = new_available(new_left) if new_left else 0
        else:
            review = self.caps.fit((deck for _, _, deck in self._review), "review", review_left)
            new = 0
            if new_left:
                if new_by_deck is None:
                    new = new_available(new_left)
                else:
                    new = self.caps.fit_counts(new_by_deck(), "new", new_left)
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
