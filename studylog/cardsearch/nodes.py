"""The search tree: frozen dataclasses, compared by value.

Text patterns (``Text.pattern``, ``Deck.pattern``, ...) keep Anki's wildcard
meaning: ``*`` matches any run of characters, ``_`` any one character; a literal
``*``, ``_`` or backslash is stored escaped (``\\*``, ``\\_``, ``\\\\``). Every
other escape of the search text (``\\"``, ``\\(``, ``\\:``, ``\\-``...) is stored
as the plain character.
"""

from __future__ import annotations

from dataclasses import dataclass

# is:... (Anki's manual, "Card state"); leech is studylog's (the ``leech`` tag).
IS_KINDS = ("new", "learn", "review", "due", "suspended", "buried", "leech")
# kind:... : how the card is made and reviewed (studylog's own key; Anki's nearest is
# note:TYPE): a front/back card, a cloze deletion, an exercise checked by running the
# learner's code, a computed (predict-the-output) card whose values are drawn at review.
CARD_KINDS = ("basic", "cloze", "exercise", "computed")
# prop:... and whether its value is an integer (Anki: ivl, due, reps, lapses are whole).
PROPERTIES: dict[str, bool] = {
    "ivl": True,
    "due": True,
    "reps": True,
    "lapses": True,
    "s": False,
    "d": False,
    "r": False,
}
OPERATORS = ("<=", ">=", "!=", "=", "<", ">")


class Node:
    """Base class of every search node."""


@dataclass(frozen=True)
class All(Node):
    """The empty search: every card."""


@dataclass(frozen=True)
class Text(Node):
    """A word or phrase matched in the front or back, case-insensitively (Anki: any field)."""

    pattern: str


@dataclass(frozen=True)
class Deck(Node):
    """``deck:NAME``: the deck and its ``::`` children (Anki), wildcards allowed."""

    pattern: str


@dataclass(frozen=True)
class Tag(Node):
    """``tag:NAME``: the tag and its ``::`` children (Anki); ``tag:none`` untagged cards."""

    pattern: str


@dataclass(frozen=True)
class Concept(Node):
    """``concept:SLUG``: cards of the concept (slug, wildcards allowed); ``concept:none``."""

    pattern: str


@dataclass(frozen=True)
class Is(Node):
    """``is:KIND`` with KIND one of :data:`IS_KINDS`."""

    kind: str


@dataclass(frozen=True)
class Kind(Node):
    """``kind:KIND`` with KIND one of :data:`CARD_KINDS` (the card's ``kind`` column)."""

    kind: str


@dataclass(frozen=True)
class Prop(Node):
    """``prop:NAME OP VALUE``: ivl, due (days from today), reps, lapses, s (days), d (0-1), r (0-1)."""

    name: str
    op: str
    value: int | float


@dataclass(frozen=True)
class Rated(Node):
    """``rated:N[:RATING]``: answered in the last N study days (today is 1), optionally with RATING."""

    days: int
    rating: int | None = None


@dataclass(frozen=True)
class Added(Node):
    """``added:N``: added in the last N study days (today is 1)."""

    days: int


@dataclass(frozen=True)
class Introduced(Node):
    """``introduced:N``: first answered in the last N study days (today is 1)."""

    days: int


@dataclass(frozen=True)
class Not(Node):
    """``-TERM``."""

    child: Node


@dataclass(frozen=True)
class And(Node):
    """Terms side by side (or joined by ``AND``); at least two children."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    """Terms joined by ``OR``; at least two children. AND binds tighter than OR (as SQL, as Anki)."""

    children: tuple[Node, ...]
