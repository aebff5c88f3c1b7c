"""Decks: the deck list with today's counts (Anki v3's limits), rename, move cards, delete.

A deck is the ``deck`` name on its cards, with Anki's ``::`` hierarchy
(:mod:`studylog.scheduling.decks` has the tree and the counting rules). The
list reads every deck's counts in one grouped pass over an index
(:mod:`studylog.storage.deck_rows`), so it stays fast on 100k cards
(``benchmarks/bench_decks.py``).

Renaming, moving cards and deleting are bulk card actions
(:mod:`studylog.services.card_actions`): one transaction each, undoable with
``studylog card undo`` or ``u`` in the app. Deleting a deck moves its cards
(and its subdecks' cards) to ``Default`` unless told to delete them, as Anki
asks.

Limits: each deck has its preset's daily limits (``config set --deck``,
inherited key by key from the decks above it, else the collection's), counted
against what was studied today in that deck and its subdecks
(:mod:`studylog.services.deck_tree`). A rename takes the deck's presets along
and a delete drops them; undoing either puts the cards and the presets back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling import decks as deck_rules
from studylog.scheduling.decks import DEFAULT_DECK, Counts, DeckNode
from studylog.services import settings as settings_service
from studylog.services.deck_tree import limits_function, tree_in
from studylog.storage import deck_rows
from studylog.storage.engine import Database
from studylog.studyday import ensure_utc, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from studylog.services.card_actions import ActionResult, RowImage, UndoStep


@dataclass(frozen=True)
class DeckRow:
    """One deck of the list, in tree order.

    Attributes:
        name: full name (``딥러닝::RNN``); ``short``: its last part; ``parent``: the
            deck above it or None; ``level``: 1 for a top-level deck.
        new, learning, review: what studying this deck shows today, limits applied
            (its subdecks included, each capped by its own limits).
        total: cards in the deck and its subdecks; ``own``: the deck's own cards.
        new_left, reviews_left: the deck's daily limits left today.
    """

    name: str
    short: str
    parent: str | None
    level: int
    new: int
    learning: int
    review: int
    total: int
    own: int
    new_left: int
    reviews_left: int


@dataclass(frozen=True)
class DeckList:
    """The deck list of study day ``day`` and what reviewing everything shows
    (``new``, ``learning``, ``review``: the collection's limits applied)."""

    day: date
    decks: list[DeckRow]
    new: int
    learning: int
    review: int


def _now(now: datetime | None) -> datetime:
    return ensure_utc(now) if now is not None else utcnow()


def tree(db: Database, *, now: datetime | None = None) -> list[DeckNode]:
    """The deck tree with today's counts (see :mod:`studylog.scheduling.decks`)."""
    with db.read_connection() as conn:
        return tree_in(conn, _now(now))[0]


def _row(node: DeckNode) -> DeckRow:
    parent = node.name.rsplit(deck_rules.SEPARATOR, 1)[0] if node.level > 1 else None
    assert node.limits is not None
    return DeckRow(
        node.name,
        node.short,
        parent,
        node.level,
        node.new,
        node.learning,
        node.review,
        node.total,
        node.own_total,
        node.limits.new,
        node.limits.review,
    )


def list_decks(db: Database, *, now: datetime | None = None) -> DeckList:
    """Every deck (parents before their subdecks, sorted by name as Anki) with today's
    new / learning / review counts, and the counts of reviewing everything.

    Cost: two grouped reads (the cards by deck over ``ix_cards_deck``, today's
    answers by deck) and a walk of the tree.
    """
    with db.read_connection() as conn:
        roots, limits, done, day = tree_in(conn, _now(now))
    new, learning, review = deck_rules.cap_collection(roots, limits, done)
    rows = [_row(node) for root in roots for node in root.walk()]
    return DeckList(day, rows, new, learning, review)


def find(db: Database, name: str, *, now: datetime | None = None) -> DeckRow:
    """One deck of the list. Raises NotFoundError when no card is in it or below it."""
    wanted = deck_rules.normalize(name)
    for row in list_decks(db, now=now).decks:
        if row.name == wanted:
            return row
    raise NotFoundError(f"no deck named {wanted!r} (see: studylog deck list)")


def queue_counts(
    db: Database, deck: str | None = None, *, now: datetime | None = None
) -> tuple[int, int, int]:
    """(new, learning, review) that reviewing ``deck`` (None: everything) shows now,
    limits applied: the deck list's numbers, and the review header's."""
    listing = list_decks(db, now=now)
    if deck is None:
        return listing.new, listing.learning, listing.review
    wanted = deck_rules.normalize(deck)
    for row in listing.decks:
        if row.name == wanted:
            return row.new, row.learning, row.review
    raise NotFoundError(f"no deck named {wanted!r} (see: studylog deck list)")


# --- changing decks ------------------------------------------------------------------------


def _existing(session: Session, name: str) -> tuple[str, list[int]]:
    wanted = deck_rules.normalize(name)
    ids = deck_rows.card_ids_within(session.connection(), wanted)
    if not ids:
        raise NotFoundError(f"no deck named {wanted!r} (see: studylog deck list)")
    return wanted, ids


def _plural(n: int) -> str:
    return f"{n} card{'s' if n != 1 else ''}"


def _presets_changed(session: Session, change: Callable[[], None]) -> tuple[RowImage, ...]:
    """Run ``change`` (a change to the deck presets) and return the presets' row as it
    was, for the undo step, when it changed: undoing a rename or delete puts the
    decks' presets back with their cards (the whole row, as it was before the action)."""
    from studylog.services import card_actions  # lazy: `today` needs none of it

    images = [card_actions.setting_image(session, k) for k in settings_service.PRESET_ROWS]
    change()
    return tuple(
        i for i in images if settings_service.get_in(session, i.key[0]) != i.values["value"]
    )


def rename(db: Database, old: str, new: str, *, now: datetime | None = None) -> ActionResult:
    """Rename deck ``old`` to ``new``; its subdecks follow (``a::x`` becomes ``new::x``).

    ``new`` may put the deck under another one (``딥러닝::RNN``), as dragging a deck
    in Anki. One transaction, undoable (``studylog card undo``).

    Raises:
        InvalidInputError: a bad name, a deck moved into its own subdeck, or a name
            another deck already has (move the cards instead: :func:`move_cards`).
        NotFoundError: no deck ``old``.
    """
    from studylog.services import card_actions  # lazy: `today` needs none of it
    from studylog.services.card_actions import UndoStep

    target = deck_rules.normalize(new)
    moment = _now(now)

    def body(session: Session) -> tuple[str, str, list[int], UndoStep]:
        source, ids = _existing(session, old)
        if target == source:
            raise InvalidInputError(f"deck {source!r} already has that name")
        if deck_rules.is_within(target, source):
            raise InvalidInputError(f"cannot move deck {source!r} into its own subdeck {target!r}")
        names = deck_rules.all_names(deck_rows.deck_names(session.connection()))
        if target in names:
            raise InvalidInputError(
                f"a deck named {target!r} exists already: move the cards instead "
                f"(studylog deck move-cards {source!r} {target!r})"
            )
        before = card_actions.set_columns(
            session,
            ids,
            per_card=lambda row: {"deck": deck_rules.renamed(row["deck"], source, target)},
            now=moment,
        )
        presets = _presets_changed(
            session, lambda: settings_service.rename_deck_presets_in(session, source, target)
        )
        return source, target, ids, UndoStep("", "", (*before, *presets))

    return card_actions.run_in_transaction(
        db, "rename", lambda source, _t, n: f"Rename deck {source} to {target} ({_plural(n)})", body
    )


def move_cards(
    db: Database, source: str, target: str, *, now: datetime | None = None
) -> ActionResult:
    """Move every card of deck ``source`` and its subdecks into deck ``target``
    (created by the move). One transaction, undoable.

    Raises:
        InvalidInputError: a bad deck name. NotFoundError: no deck ``source``.
    """
    from studylog.services import card_actions  # lazy: `today` needs none of it
    from studylog.services.card_actions import UndoStep

    name = deck_rules.normalize(target)
    moment = _now(now)

    def body(session: Session) -> tuple[str, str, list[int], UndoStep]:
        deck, ids = _existing(session, source)
        before = card_actions.set_columns(session, ids, {"deck": name}, now=moment)
        return deck, name, ids, UndoStep("", "", before)

    return card_actions.run_in_transaction(
        db, "move", lambda deck, _t, n: f"Move {_plural(n)} from {deck} to {name}", body
    )


def delete(
    db: Database, name: str, *, delete_cards: bool = False, now: datetime | None = None
) -> ActionResult:
    """Delete deck ``name`` and its subdecks. Their cards move to ``Default``, or are
    deleted with their review history when ``delete_cards`` (Anki deletes them; it
    asks first, as the CLI and the app do). One transaction, undoable.

    Raises:
        InvalidInputError: ``Default`` without ``delete_cards`` (its cards have
            nowhere else to go). NotFoundError: no such deck.
    """
    from studylog.services import card_actions  # lazy: `today` needs none of it
    from studylog.services.card_actions import UndoStep

    moment = _now(now)

    def body(session: Session) -> tuple[str, str, list[int], UndoStep]:
        deck, ids = _existing(session, name)
        presets = _presets_changed(
            session, lambda: settings_service.delete_deck_presets_in(session, deck)
        )
        if delete_cards:
            step = card_actions.delete_rows(session, ids)
            return deck, "", ids, replace(step, before=(*step.before, *presets))
        if deck == DEFAULT_DECK:
            raise InvalidInputError(
                "the Default deck takes the cards of deleted decks: move its cards to another "
                "deck first, or delete them too (--delete-cards)"
            )
        before = card_actions.set_columns(session, ids, {"deck": DEFAULT_DECK}, now=moment)
        return deck, DEFAULT_DECK, ids, UndoStep("", "", (*before, *presets))

    def label(deck: str, _target: str, n: int) -> str:
        if delete_cards:
            return f"Delete deck {deck} and its {_plural(n)}"
        return f"Delete deck {deck} ({_plural(n)} to {DEFAULT_DECK})"

    return card_actions.run_in_transaction(db, "delete" if delete_cards else "move", label, body)


def names(db: Database) -> list[str]:
    """Every deck name (parents included), sorted as the deck list."""
    with db.read() as session:
        return deck_rules.all_names(deck_rows.deck_names(session.connection()))


def within(db: Database, name: str) -> Sequence[int]:
    """The ids of the cards of deck ``name`` and its subdecks. Raises NotFoundError."""
    with db.read() as session:
        return _existing(session, name)[1]


__all__ = [
    "Counts",
    "DeckList",
    "DeckRow",
    "delete",
    "find",
    "limits_function",
    "list_decks",
    "move_cards",
    "names",
    "queue_counts",
    "rename",
    "tree",
    "within",
]
