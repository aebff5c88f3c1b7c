"""The review hot path's SQL: SQLAlchemy Core statements built once, portable across dialects.

Next card, answer and undo each cost a few statements on one connection:

- next card: one SELECT by primary key (the card, its concept's slug and its
  tags in one row), plus the seek for answers others saved, run only when
  :func:`data_version` says another connection wrote;
- answer: that SELECT, one UPDATE of the card, one INSERT of the review, COMMIT;
- undo: that SELECT, one UPDATE back, one DELETE of the review, COMMIT.

The statements are module constants (SQLAlchemy compiles each once per
dialect and caches it); nothing here is SQLite-only except
:func:`data_version`, which returns None elsewhere (then callers always seek).
Every write of a time column sets its ``*_ms`` twin (:func:`studylog.storage.times.with_ms`).
The queue gathering queries (once per study day) live here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from studylog.errors import InvalidInputError
from studylog.scheduling.card import ANSWER_COLUMNS, CardRow
from studylog.scheduling.queue import DayLog
from studylog.scheduling.states import CardState
from studylog.scheduling.undo import RowImage, UndoOp
from studylog.storage.models import Base, Card, Concept, Review, Tag, card_tags
from studylog.storage.prepared import Prepared, run_on_cursor
from studylog.storage.times import TWINS, to_ms, with_ms

cards: Table = Card.__table__  # type: ignore[assignment]
reviews: Table = Review.__table__  # type: ignore[assignment]
concepts: Table = Concept.__table__  # type: ignore[assignment]
tags: Table = Tag.__table__  # type: ignore[assignment]

TAG_SEPARATOR = "\x1f"  # the ASCII unit separator: never part of a tag name

ROW_COLUMNS = tuple(f.name for f in fields(CardRow))
"""The columns a :class:`CardRow` is made of, in its order."""
TEXT_COLUMNS = ("front", "back", "kind", "cloze_ord", "deck", "external_id", "pack_key", "origin")


class _joined_names(FunctionElement):
    """``string_agg(name, sep)`` (``group_concat`` on SQLite) with the separator bound as
    a parameter: ``func.aggregate_strings`` renders it at execution time, which a
    :class:`~studylog.storage.prepared.Prepared` statement cannot hold."""

    type = String()
    inherit_cache = True
    name = "joined_names"


@compiles(_joined_names)
def _string_agg(element: _joined_names, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)})"


@compiles(_joined_names, "sqlite")
def _group_concat(element: _joined_names, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


_tag_names = (
    select(_joined_names(tags.c.name, literal(TAG_SEPARATOR, String())))
    .select_from(card_tags.join(tags, tags.c.id == card_tags.c.tag_id))
    .where(card_tags.c.card_id == cards.c.id)
    .scalar_subquery()
)

SELECT_CARD = (
    select(
        *(cards.c[c] for c in ROW_COLUMNS + TEXT_COLUMNS),
        concepts.c.slug.label("concept_slug"),
        _tag_names.label("tag_names"),
    )
    .select_from(cards.outerjoin(concepts, concepts.c.id == cards.c.concept_id))
    .where(cards.c.id == bindparam("card_id"))
)
"""One card by primary key: its scheduling columns, text, concept slug and tags."""

ANSWER_UPDATE_COLUMNS = ANSWER_COLUMNS  # the columns an answer changes
ANSWER_UPDATE_KEYS = (*ANSWER_UPDATE_COLUMNS, "due_ms", "last_review_ms")
UPDATE_ANSWERED = (
    update(cards)
    .where(cards.c.id == bindparam("b_id"))
    .values({c: bindparam(f"b_{c}") for c in ANSWER_UPDATE_KEYS})
)
"""The card's new state after an answer."""

INSERT_REVIEW = insert(reviews).returning(reviews.c.id)
DELETE_REVIEW = delete(reviews).where(reviews.c.id == bindparam("review_id"))
SELECT_REVIEW = select(reviews).where(reviews.c.id == bindparam("review_id"))
LATEST_REVIEW_OF_CARD = (
    select(reviews.c.id)
    .where(reviews.c.card_id == bindparam("card_id"))
    .order_by(reviews.c.reviewed_at.desc(), reviews.c.id.desc())
    .limit(1)
)
MAX_REVIEW_ID = select(func.max(reviews.c.id))
DAY_ANSWERS_SINCE = (
    select(
        reviews.c.id,
        reviews.c.reviewed_at,
        reviews.c.last_review_before.is_(None),
        reviews.c.state_before,
        cards.c.concept_id,
        cards.c.deck,
    )
    .join(cards, cards.c.id == reviews.c.card_id)
    .where(reviews.c.id > bindparam("after_id"))
)
"""Answers saved after a review id (a seek on the primary key)."""
SELECT_TAG = select(tags.c.id).where(tags.c.name == bindparam("name"))
HOT_PATH = {
    "select card": SELECT_CARD,
    "update answered card": UPDATE_ANSWERED,
    "insert review": INSERT_REVIEW,
    "delete review": DELETE_REVIEW,
    "select review": SELECT_REVIEW,
    "answers since": DAY_ANSWERS_SINCE,
}
"""The statements of next card, answer and undo (compiled for PostgreSQL in a test)."""

# Run through the DB-API cursor, compiled once per dialect (see storage/prepared.py).
_READ_CARD = Prepared(SELECT_CARD)
_UPDATE_ANSWERED = Prepared(UPDATE_ANSWERED)
_DELETE_REVIEW = Prepared(DELETE_REVIEW)
_ANSWERS_SINCE = Prepared(DAY_ANSWERS_SINCE)
_INSERT_REVIEW: dict[tuple[str, ...], Prepared] = {}  # by the columns given


def _insert_review(columns: tuple[str, ...]) -> Prepared:
    found = _INSERT_REVIEW.get(columns)
    if found is None:
        found = _INSERT_REVIEW[columns] = Prepared(INSERT_REVIEW, column_keys=columns)
    return found


def data_version(conn: Connection) -> int | None:
    """SQLite's ``PRAGMA data_version`` of this connection: it changes when *another*
    connection commits. None on other databases (callers then always re-read)."""
    if conn.dialect.name != "sqlite":
        return None
    cursor = run_on_cursor(conn, "PRAGMA data_version")
    try:
        return int(cursor.fetchone()[0])
    finally:
        cursor.close()


# --- reading ---------------------------------------------------------------------------


def card_row(mapping: Any) -> CardRow:
    """A :class:`CardRow` of a result row holding :data:`ROW_COLUMNS`."""
    return CardRow(*(mapping[c] for c in ROW_COLUMNS))


def read_card(conn: Connection, card_id: int) -> dict[str, Any] | None:
    """One card's row (:data:`SELECT_CARD`: a dict of column to value), or None."""
    return _READ_CARD.first(conn, {"card_id": card_id})


def tag_list(row: Any) -> list[str]:
    """The sorted tag names of a :data:`SELECT_CARD` row."""
    names = row["tag_names"]
    return sorted(names.split(TAG_SEPARATOR)) if names else []


def in_deck(deck: str | None):  # noqa: ANN201 - SQL expression
    """Cards of deck ``deck`` and its subdecks (exact names, case as stored); all for None."""
    if deck is None:
        return true()
    prefix = deck + "::"
    return or_(cards.c.deck == deck, func.substr(cards.c.deck, 1, len(prefix)) == prefix)


def has_cards_in(conn: Connection, deck: str) -> bool:
    """Whether any card is in ``deck`` or one of its subdecks."""
    return conn.execute(select(cards.c.id).where(in_deck(deck)).limit(1)).first() is not None


def learning_rows(
    conn: Connection, day: date, deck: str | None = None
) -> list[tuple[int, datetime]]:
    """(id, due) of the unsuspended, unburied learning and relearning cards answered before
    (of ``deck`` and its subdecks, or all)."""
    rows = conn.execute(
        select(cards.c.id, cards.c.due).where(
            cards.c.suspended.is_(False),
            cards.c.state.in_((int(CardState.LEARNING), int(CardState.RELEARNING))),
            cards.c.last_review.is_not(None),
            _unburied(day),
            in_deck(deck),
        )
    )
    return [(cid, due) for cid, due in rows]


def review_rows(
    conn: Connection, day: date, end: datetime, deck: str | None = None
) -> list[tuple[int, int | None, str]]:
    """(id, concept id, deck) of the review cards due before ``end``, in (due, id) order
    (``deck``: only that deck and its subdecks)."""
    rows = conn.execute(
        select(cards.c.id, cards.c.concept_id, cards.c.deck)
        .where(
            cards.c.suspended.is_(False),
            cards.c.due < end,
            cards.c.state == int(CardState.REVIEW),
            cards.c.last_review.is_not(None),
            _unburied(day),
            in_deck(deck),
        )
        .order_by(cards.c.due, cards.c.id)
    )
    return [(cid, concept, deck) for cid, concept, deck in rows]


def new_page(
    conn: Connection,
    day: date,
    cursor: tuple[datetime, int] | None,
    want: int,
    deck: str | None = None,
) -> list[tuple[int, int | None, datetime, str]]:
    """(id, concept id, due, deck) of the next ``want`` new cards after ``cursor`` (order added)."""
    query = (
        select(cards.c.id, cards.c.concept_id, cards.c.due, cards.c.deck)
        .where(
            cards.c.suspended.is_(False),
            cards.c.last_review.is_(None),
            _unburied(day),
            in_deck(deck),
        )
        .order_by(cards.c.due, cards.c.id)
        .limit(want)
    )
    if cursor is not None:
        due, cid = cursor
        query = query.where(or_(cards.c.due > due, and_(cards.c.due == due, cards.c.id > cid)))
    return [(cid, concept, due, deck) for cid, concept, due, deck in conn.execute(query)]


def count_new(conn: Connection, day: date, at_most: int, deck: str | None = None) -> int:
    """How many new cards can be shown, counting at most ``at_most`` (LIMIT stops early)."""
    inner = (
        select(cards.c.id)
        .where(
            cards.c.suspended.is_(False),
            cards.c.last_review.is_(None),
            _unburied(day),
            in_deck(deck),
        )
        .limit(at_most)
        .subquery()
    )
    return int(conn.execute(select(func.count()).select_from(inner)).scalar() or 0)


def count_new_by_deck(conn: Connection, day: date) -> dict[str, int]:
    """How many new cards can be shown, per deck (for the per-deck limits)."""
    query = (
        select(cards.c.deck, func.count())
        .where(cards.c.suspended.is_(False), cards.c.last_review.is_(None), _unburied(day))
        .group_by(cards.c.deck)
    )
    return {deck: int(n) for deck, n in conn.execute(query)}


def _unburied(day: date):  # noqa: ANN202 - SQL expression
    """Not buried on ``day``, and with text: a card imported from a review log whose id
    matched no card has an empty front and stays out of the queue until it gets text
    (the literal lets SQLite use the partial index ``ix_cards_no_text``)."""
    return and_(
        or_(cards.c.buried_until.is_(None), cards.c.buried_until <= day),
        cards.c.front != literal_column("''"),
    )


def day_log(conn: Connection, start: datetime, end: datetime, deck: str | None = None) -> DayLog:
    """Today's answers (reviews from ``start`` to ``end``) as a :class:`DayLog`; with
    ``deck``, only the answers of that deck's cards and its subdecks' (Anki's per-deck
    "studied today", by the deck the card is in now)."""
    log = DayLog(start, end, int(conn.execute(MAX_REVIEW_ID).scalar() or 0))
    rows = conn.execute(
        DAY_ANSWERS_SINCE.where(
            reviews.c.reviewed_at_ms >= to_ms(start), reviews.c.reviewed_at_ms < to_ms(end)
        ),
        {"after_id": 0},
    )
    _add(log, rows, deck)
    return log


def sync_day_log(conn: Connection, log: DayLog, deck: str | None = None) -> None:
    """Add answers saved since ``log.last_id`` (a seek on the primary key)."""
    _add(log, _ANSWERS_SINCE.all(conn, {"after_id": log.last_id}), deck)


def _add(log: DayLog, rows: Iterable[Any], deck: str | None = None) -> None:
    prefix = None if deck is None else deck + "::"
    for rid, at, was_new, state_before, concept, card_deck in rows:
        if prefix is not None and card_deck != deck and not card_deck.startswith(prefix):
            log.last_id = max(log.last_id, rid)  # another deck's answer: seen, not counted
            continue
        log.add(rid, at, bool(was_new), state_before == CardState.REVIEW, concept, card_deck)


# --- writing ---------------------------------------------------------------------------


def write_answer(
    conn: Connection, card_id: int, card_values: dict[str, Any], review_values: dict[str, Any]
) -> int:
    """UPDATE the answered card and INSERT its review row; return the review id.

    ``card_values``: the card's new state/step/stability/difficulty/due/
    last_review/reps/lapses/suspended; ``review_values``: the review row. Times
    are aware UTC, stored to the millisecond with their twins.
    """
    new = with_ms("cards", card_values)
    _UPDATE_ANSWERED.execute(conn, {"b_id": card_id, **{f"b_{k}": v for k, v in new.items()}})
    review = with_ms("reviews", review_values)
    return int(_insert_review(tuple(review)).scalar(conn, review))


def tag_card(conn: Connection, card_id: int, name: str) -> tuple[str, tuple[int, int]] | None:
    """Give a card the tag ``name`` (created if missing); the inserted link's (table, key),
    or None when the card had it already."""
    tag_id = conn.execute(SELECT_TAG, {"name": name}).scalar()
    if tag_id is None:
        tag_id = conn.execute(insert(tags).values(name=name).returning(tags.c.id)).scalar_one()
    key = (card_id, int(tag_id))
    exists = conn.execute(
        select(card_tags.c.card_id).where(
            card_tags.c.card_id == card_id, card_tags.c.tag_id == tag_id
        )
    ).first()
    if exists is not None:
        return None
    conn.execute(insert(card_tags).values(card_id=card_id, tag_id=tag_id))
    return ("card_tags", key)


def untag_card(conn: Connection, card_id: int, name: str) -> None:
    """Take the tag ``name`` off a card (the tag itself stays)."""
    conn.execute(
        delete(card_tags).where(
            card_tags.c.card_id == card_id,
            card_tags.c.tag_id.in_(select(tags.c.id).where(tags.c.name == name)),
        )
    )


def set_columns(conn: Connection, card_ids: Sequence[int], values: dict[str, Any]) -> None:
    """Set the same ``values`` on each card (twins added)."""
    conn.execute(
        update(cards)
        .where(cards.c.id == bindparam("b_id"))
        .values({k: bindparam(f"b_{k}") for k in with_ms("cards", values)}),
        [
            {"b_id": cid, **{f"b_{k}": v for k, v in with_ms("cards", values).items()}}
            for cid in card_ids
        ],
    )


def undo_answer(conn: Connection, card_id: int, row: Any, op: UndoOp) -> None:
    """Undo an answer's operation with the prebuilt statements: the card's answer columns
    back (its before-image over the current ``row``), the review row and any tag link deleted.
    The caller has checked the after-image against ``row``."""
    values = {c: row[c] for c in ANSWER_UPDATE_COLUMNS if c in row}
    for image in op.before:
        values.update(image.values)
    new = with_ms("cards", values)
    _UPDATE_ANSWERED.execute(
        conn, {"b_id": card_id, **{f"b_{k}": new[k] for k in ANSWER_UPDATE_KEYS}}
    )
    for (review_id,) in op.inserted_ids("reviews"):
        _DELETE_REVIEW.execute(conn, {"review_id": review_id})
    links = [key for table, key in op.inserted if table == "card_tags"]
    if links:
        conn.execute(
            delete(card_tags).where(tuple_(card_tags.c.card_id, card_tags.c.tag_id).in_(links))
        )


# --- undo ------------------------------------------------------------------------------


class UndoConflict(InvalidInputError):
    """The rows an operation changed were changed again since: undo would lose that."""


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _key_clause(table: Table, key: tuple[Any, ...]):  # noqa: ANN202 - SQL expression
    pk = list(table.primary_key.columns)
    return and_(*(col == value for col, value in zip(pk, key, strict=True)))


def current_values(conn: Connection, image: RowImage) -> dict[str, Any] | None:
    """The columns of ``image`` as they are now in its row (None: the row is gone)."""
    table = _table(image.table)
    row = (
        conn.execute(
            select(*(table.c[c] for c in image.values)).where(_key_clause(table, image.key))
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def undo_in(conn: Connection, op: UndoOp, *, checked: bool = True) -> None:
    """Undo ``op`` inside the caller's transaction: write its before-images back and
    delete the rows it inserted.

    ``checked``: first compare each row with the operation's after-image and
    refuse if anything changed since.

    Raises:
        UndoConflict: a changed row was changed again (or deleted) since.
    """
    if checked and op.after:
        for image in op.after:
            now = current_values(conn, image)
            if now is None or now != _normal(image, twins=False):
                raise UndoConflict(
                    f"cannot undo {op.label.lower()}: {image.table[:-1]} {image.key[0]} "
                    "was changed since (undo that first)"
                )
    for image in op.deleted:  # rows the operation deleted come back first (parents first)
        conn.execute(insert(_table(image.table)).values(_normal(image)))
    groups: dict[tuple[str, tuple[str, ...]], list[RowImage]] = {}
    for image in op.before:
        groups.setdefault((image.table, tuple(image.values)), []).append(image)
    for (name, _columns), images in groups.items():
        table = _table(name)
        pk = [c.name for c in table.primary_key.columns]
        values = [_normal(i) for i in images]
        stmt = (
            update(table)
            .where(*(table.c[k] == bindparam(f"k_{k}") for k in pk))
            .values({c: bindparam(f"v_{c}") for c in values[0]})
        )
        conn.execute(
            stmt,
            [
                {
                    **{f"k_{k}": v for k, v in zip(pk, i.key, strict=True)},
                    **{f"v_{c}": v for c, v in vals.items()},
                }
                for i, vals in zip(images, values, strict=True)
            ],
        )
    by_table: dict[str, list[tuple[Any, ...]]] = {}
    for name, key in op.inserted:
        by_table.setdefault(name, []).append(key)
    for name, keys in by_table.items():
        table = _table(name)
        pk = list(table.primary_key.columns)
        if len(pk) == 1:
            conn.execute(delete(table).where(pk[0].in_([k[0] for k in keys])))
        else:
            conn.execute(delete(table).where(tuple_(*pk).in_(keys)))


def _normal(image: RowImage, *, twins: bool = True) -> dict[str, Any]:
    """The image's values as stored: times floored to the ms, plus their ``*_ms`` twins."""
    if image.table not in TWINS:
        return dict(image.values)
    out = with_ms(image.table, image.values)
    return out if twins else {k: out[k] for k in image.values}


__all__ = [
    "HOT_PATH",
    "UndoConflict",
    "card_row",
    "count_new",
    "data_version",
    "day_log",
    "in_deck",
    "learning_rows",
    "new_page",
    "read_card",
    "review_rows",
    "set_columns",
    "sync_day_log",
    "tag_card",
    "tag_list",
    "undo_answer",
    "undo_in",
    "untag_card",
    "write_answer",
]
