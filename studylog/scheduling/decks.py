"""Decks as Anki has them: ``::`` names, the deck tree and its counts with v3's daily limits.

Pure (no SQL). A deck is a name on its cards (``딥러닝::RNN`` is the subdeck
``RNN`` of ``딥러닝``); a parent exists as soon as one of its subdecks has a
card. The counts follow Anki's v3 scheduler (rslib ``decks/tree.rs``,
``sum_counts_and_apply_limits_v3``, and ``decks/limits.rs``):

- each deck's *remaining* limits are its limits minus what was studied today in
  it and its subdecks: ``new = new_per_day - new_done``,
  ``review = reviews_per_day - reviews_done`` (minus ``new_done`` too when new
  cards count against the review limit, ``new_ignores_review_limit`` false);
- a deck's counts are its own cards plus its subdecks' *capped* counts, capped by
  its own remaining limits: reviews to the review limit, then new cards to the new
  limit (and to what the review limit leaves, unless new cards ignore it);
  learning cards are not limited.

So a parent's limits cap what its subdecks add up to (the "parent caps children"
rule: studying ``딥러닝`` shows at most ``딥러닝``'s limits in all), while a subdeck
shown on its own is capped by its own limits only; the limits of decks above
the one studied do not apply (Anki's default, "limits start from the top" off).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from studylog.errors import InvalidInputError
from studylog.scheduling.settings import DailyLimits

SEPARATOR = "::"
DEFAULT_DECK = "Default"
MAX_NAME = 200  # the cards.deck column's length


def normalize(name: str) -> str:
    """A deck name as stored: each ``::`` part stripped. ``" 딥러닝 :: RNN "`` -> ``딥러닝::RNN``.

    Raises:
        InvalidInputError: an empty name or part (``a::::b``), a control character,
            or a name longer than 200 characters.
    """
    parts = [part.strip() for part in name.split(SEPARATOR)]
    if not name.strip() or any(not part for part in parts):
        raise InvalidInputError(f"not a deck name: {name!r} (parts joined by ::, e.g. 딥러닝::RNN)")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name):
        raise InvalidInputError(f"not a deck name: {name!r} (control characters are not allowed)")
    out = SEPARATOR.join(parts)
    if len(out) > MAX_NAME:
        raise InvalidInputError(f"deck name too long: {len(out)} characters (at most {MAX_NAME})")
    return out


def parts(name: str) -> tuple[str, ...]:
    """The ``::`` components of a deck name: ``a::b::c`` -> (a, b, c)."""
    return tuple(name.split(SEPARATOR))


def ancestors(name: str) -> list[str]:
    """The deck and every deck above it, nearest first: ``a::b::c`` -> [a::b::c, a::b, a]."""
    pieces = parts(name)
    return [SEPARATOR.join(pieces[:n]) for n in range(len(pieces), 0, -1)]


def is_within(name: str, root: str) -> bool:
    """Whether deck ``name`` is ``root`` or one of its subdecks (at any depth)."""
    return name == root or name.startswith(root + SEPARATOR)


def renamed(name: str, old: str, new: str) -> str:
    """``name`` after renaming deck ``old`` to ``new`` (its subdecks follow): a::b, a -> x gives x::b."""
    return new + name[len(old) :] if is_within(name, old) else name


# --- counts and limits -------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """Cards of one deck (its own, without subdecks) that are due today, before limits.

    Attributes:
        new: new cards (never answered), unsuspended, unburied.
        learning: learning and relearning cards due within the learn-ahead limit (20 min).
        review: review cards due before the study day ends.
        total: every card of the deck (suspended and buried too).
    """

    new: int = 0
    learning: int = 0
    review: int = 0
    total: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.new + other.new,
            self.learning + other.learning,
            self.review + other.review,
            self.total + other.total,
        )


@dataclass(frozen=True)
class Done:
    """What was studied today in one deck (its own cards): new cards introduced, reviews."""

    new: int = 0
    review: int = 0

    def __add__(self, other: Done) -> Done:
        return Done(self.new + other.new, self.review + other.review)


@dataclass(frozen=True)
class Remaining:
    """A deck's daily limits left today (Anki's ``RemainingLimits``)."""

    new: int
    review: int

    @classmethod
    def of(cls, limits: DailyLimits, done: Done) -> Remaining:
        """``limits`` minus ``done``, never below 0. When new cards count against the
        review limit (``new_ignores_review_limit`` false) new answers use it up too (v3)."""
        reviews = done.review + (0 if limits.new_ignores_review_limit else done.new)
        return cls(
            new=max(limits.new_per_day - done.new, 0),
            review=max(limits.reviews_per_day - reviews, 0),
        )

    def cap(self, counts: Counts, *, new_ignores_review_limit: bool) -> Counts:
        """``counts`` within these limits: reviews first, then new cards (Anki's ``capped``)."""
        review = min(counts.review, self.review)
        new = min(counts.new, self.new)
        if not new_ignores_review_limit:
            new = min(new, self.review - review)
        return Counts(new, counts.learning, review, counts.total)


LimitsOf = Callable[[str], DailyLimits]
"""The daily limits of a deck by name (the collection's, or a deck preset's)."""


@dataclass
class DeckNode:
    """One deck in the tree, its counts with limits applied (its subdecks included).

    Attributes:
        name: the full name (``딥러닝::RNN``); ``short`` the last part (``RNN``).
        level: 1 for a top-level deck.
        new, learning, review: what studying this deck shows today (limits applied).
        total: every card in the deck and its subdecks.
        own_total: the deck's own cards (0 for a parent that exists only by its subdecks).
        limits: the deck's remaining new/review limits today.
        children: subdecks, sorted by name.
    """

    name: str
    short: str
    level: int
    new: int = 0
    learning: int = 0
    review: int = 0
    total: int = 0
    own_total: int = 0
    limits: Remaining | None = None
    children: list[DeckNode] = field(default_factory=list)

    def walk(self) -> Iterable[DeckNode]:
        """This node and every node below it, depth first, in display order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, name: str) -> DeckNode | None:
        for node in self.walk():
            if node.name == name:
                return node
        return None


def _sort_key(name: str) -> tuple[str, ...]:
    # Anki sorts deck names part by part, case-insensitively ("a::b" before "a b").
    return tuple(p.casefold() for p in parts(name))


def all_names(names: Iterable[str]) -> list[str]:
    """Every deck implied by ``names`` (parents included), sorted as Anki lists them."""
    found: set[str] = set()
    for name in names:
        found.update(ancestors(name))
    return sorted(found, key=_sort_key)


def build_tree(
    counts: Mapping[str, Counts],
    done: Mapping[str, Done],
    limits_of: LimitsOf,
    *,
    new_ignores_review_limit: bool,
) -> list[DeckNode]:
    """The deck tree with Anki v3's counts (see the module docstring).

    Args:
        counts: each deck's own cards (:class:`Counts`), by full name.
        done: each deck's own cards studied today (:class:`Done`), by full name.
        limits_of: a deck's daily limits (called once per deck).
        new_ignores_review_limit: the collection's option (Anki's is collection-wide too).

    Returns:
        the top-level decks, sorted by name, each with its subdecks.
    """
    nodes: dict[str, DeckNode] = {}
    roots: list[DeckNode] = []
    for name in all_names(list(counts) + list(done)):
        pieces = parts(name)
        node = DeckNode(name, pieces[-1], len(pieces))
        nodes[name] = node
        if len(pieces) == 1:
            roots.append(node)
        else:
            nodes[SEPARATOR.join(pieces[:-1])].children.append(node)

    empty, nothing = Counts(), Done()

    def fill(node: DeckNode) -> tuple[int, int, int, int, int, int]:
        """(new, learning, review, total) capped, and (new, review) studied, of ``node``."""
        own = counts.get(node.name, empty)
        studied = done.get(node.name, nothing)
        new, learning, review, total = own.new, own.learning, own.review, own.total
        new_done, review_done = studied.new, studied.review
        for child in node.children:
            c_new, c_learning, c_review, c_total, c_new_done, c_review_done = fill(child)
            new, learning, review, total = (
                new + c_new,
                learning + c_learning,
                review + c_review,
                total + c_total,
            )
            new_done, review_done = new_done + c_new_done, review_done + c_review_done
        left = Remaining.of(limits_of(node.name), Done(new_done, review_done))
        review = min(review, left.review)
        new = min(new, left.new)
        if not new_ignores_review_limit:
            new = min(new, left.review - review)
        node.limits = left
        node.new, node.learning, node.review = new, learning, review
        node.total, node.own_total = total, own.total
        return new, learning, review, total, new_done, review_done

    for root in roots:
        fill(root)
    return roots


def cap_collection(
    roots: Iterable[DeckNode], limits: DailyLimits, done: Done
) -> tuple[int, int, int]:
    """(new, learning, review) of the whole collection: its top-level decks' counts,
    capped by the collection's own limits (``limits``, what studying everything uses).

    Anki's collection root has no limits of its own (you always study a deck);
    studylog's "review everything" is capped by the collection's settings, as it
    always was. With one set of limits for every deck this is the same number.
    """
    total = Counts()
    for root in roots:
        total = total + Counts(root.new, root.learning, root.review)
    capped = Remaining.of(limits, done).cap(
        total, new_ignores_review_limit=limits.new_ignores_review_limit
    )
    return capped.new, capped.learning, capped.review


class StudiedToday(Protocol):
    """What was studied today, per deck, as :class:`SubdeckLimits` reads it
    (:class:`studylog.scheduling.queue.DayLog` is one)."""

    version: int
    """Changes whenever an answer is added or taken back (for caches)."""

    def studied_in(self, deck: str) -> Done:
        """New cards introduced and review cards answered today in ``deck`` and its subdecks."""
        ...


class SubdeckLimits:
    """Anki v3's per-deck daily limits inside a study session: a parent's limits cap
    its children.

    A new or review card of deck ``D`` may be shown only while every deck from the
    one just below the studied deck (``top``) down to ``D`` has room left today: its
    :class:`Remaining` limits, counted from what was studied today in it and its
    subdecks (rslib ``decks/limits.rs``, ``LimitTreeMap``). The studied deck's own
    limits (the collection's when everything is studied) are the session's and are
    applied by the queue itself; the limits of decks above ``top`` do not apply
    (Anki's default, "limits start from the top" off). When new cards count against
    the review limit (``new_ignores_review_limit`` false), a new card needs room in
    both limits of each deck, and each new card introduced uses up both, as in v3.

    Args:
        top: the deck studied (None: the whole collection).
        limits_of: each deck's effective daily limits (its preset's, inherited).
        studied: today's answers per deck (read again whenever its ``version`` changes).
        new_ignores_review_limit: the collection's option.
    """

    def __init__(
        self,
        top: str | None,
        limits_of: LimitsOf,
        studied: StudiedToday,
        *,
        new_ignores_review_limit: bool,
    ) -> None:
        self.top, self.limits_of, self.studied = top, limits_of, studied
        self.ignore = new_ignores_review_limit
        self._paths: dict[str, tuple[str, ...]] = {}
        self._left: dict[str, Remaining] = {}
        self._version = -1

    def path(self, deck: str) -> tuple[str, ...]:
        """The decks whose limits apply to a card of ``deck``: those below ``top`` down
        to ``deck``, outermost first (``()`` for a card of ``top`` itself)."""
        found = self._paths.get(deck)
        if found is None:
            chain = ancestors(deck)[::-1]
            if self.top is not None:
                chain = [d for d in chain if d != self.top and is_within(d, self.top)]
            found = self._paths[deck] = tuple(chain)
        return found

    def left(self, deck: str) -> Remaining:
        """``deck``'s limits left today (what it and its subdecks studied taken off)."""
        if self._version != self.studied.version:
            self._left.clear()
            self._version = self.studied.version
        found = self._left.get(deck)
        if found is None:
            limits = replace(self.limits_of(deck), new_ignores_review_limit=self.ignore)
            found = self._left[deck] = Remaining.of(limits, self.studied.studied_in(deck))
        return found

    def room_in(self, deck: str, kind: str) -> int:
        """How many more ``kind`` cards (``new`` or ``review``) ``deck`` itself allows today."""
        left = self.left(deck)
        if kind != "new":
            return left.review
        return left.new if self.ignore else min(left.new, left.review)

    def room(self, deck: str | None, kind: str) -> bool:
        """Whether a ``kind`` card of ``deck`` fits under every deck limit on its path
        (a card of unknown deck, None, is not limited here)."""
        return deck is None or all(self.room_in(d, kind) > 0 for d in self.path(deck))

    def fit(self, decks: Iterable[str | None], kind: str, at_most: int) -> int:
        """How many of the cards of ``decks`` (in queue order) fit under the limits,
        counting at most ``at_most`` (each one taken uses room on its path)."""
        left: dict[str, int] = {}
        taken = 0
        for deck in decks:
            if taken >= at_most:
                break
            path = () if deck is None else self.path(deck)
            if all(left.setdefault(d, self.room_in(d, kind)) > 0 for d in path):
                for d in path:
                    left[d] -= 1
                taken += 1
        return taken

    def fit_counts(self, by_deck: Mapping[str, int], kind: str, at_most: int) -> int:
        """:meth:`fit` for counts of cards per deck (order does not matter for a count):
        each deck takes at most its room, of its own cards plus what its subdecks took."""
        nodes: dict[str, int] = {}
        direct = 0  # cards of the studied deck itself, or taken by a deck just below it
        for deck, n in by_deck.items():
            path = self.path(deck)
            if not path:
                direct += n
                continue
            for d in path:
                nodes.setdefault(d, 0)
            nodes[deck] += n
        for node in sorted(nodes, key=lambda d: -len(self.path(d))):  # subdecks first
            capped = min(nodes[node], self.room_in(node, kind))
            path = self.path(node)
            if len(path) >= 2:
                nodes[path[-2]] += capped
            else:
                direct += capped
        return min(direct, at_most)
