"""The deck list's reads: every deck's card counts in one grouped pass over an index.

``ix_cards_deck`` (deck, suspended, state, last_review, due, buried_until) holds
every column the counts test, so SQLite answers :func:`deck_counts` from the
index alone (a covering scan, no table reads); the cards without text
(review-log cards, which stay out of the queue) are counted the same way from
their small partial index ``ix_cards_no_text`` and subtracted. Today's answers
per deck come from the review log's time index joined to the cards by key.
Portable Core statements (PostgreSQL runs them too).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, and_, func, literal_column, or_, select

from studylog.scheduling.decks import Counts, Done
from studylog.scheduling.states import CardState
from studylog.storage.tables import cards, reviews
from studylog.storage.times import to_ms

_LEARNING = (int(CardState.LEARNING), int(CardState.RELEARNING))


def has_text() -> ColumnElement[bool]:
    """SQL condition: the card has text. A card imported from a review log whose id
    matched no card has an empty front (``studylog.interchange.review_log``); it
    keeps its history but stays out of the daily queue until it gets text."""
    return cards.c.front != literal_column("''")  # a literal, so the partial index matches


def no_text() -> ColumnElement[bool]:
    """SQL condition: the card has no text (see :func:`has_text`), written as the
    partial index ``ix_cards_no_text`` is, so SQLite can use it."""
    return cards.c.front == literal_column("''")


def _count_columns(day: date, end: datetime, learn_cutoff: datetime) -> list:
    """The deck list's counts as ``count(*) FILTER (WHERE ...)`` (SQLite >= 3.30 and
    PostgreSQL), each test ordered cheapest and most selective first so that the
    per-row work stops early: a quarter less than ``sum(CASE ...)`` on 100k cards."""
    c = cards.c
    active = and_(c.suspended.is_(False), or_(c.buried_until.is_(None), c.buried_until <= day))
    seen = c.last_review.is_not(None)
    learning = and_(c.state.in_(_LEARNING), c.due <= learn_cutoff, seen, active)
    return [
        c.deck,
        func.count().filter(and_(c.last_review.is_(None), active)).label("new"),
        func.count().filter(learning).label("learning"),
        func.count()
        .filter(and_(c.state == int(CardState.REVIEW), c.due < end, seen, active))
        .label("review"),
        func.count().label("total"),
    ]


def deck_counts(
    conn: Connection, day: date, end: datetime, learn_cutoff: datetime
) -> dict[str, Counts]:
    """Each deck's own cards: new, learning (due by ``learn_cutoff``), review (due before
    ``end``, the end of study day ``day``) and total, without the cards that have no text.

    Suspended cards and cards buried on ``day`` count only in ``total``.
    """
    columns = _count_columns(day, end, learn_cutoff)
    found = {
        deck: Counts(int(new), int(learning), int(review), int(total))
        for deck, new, learning, review, total in conn.execute(
            select(*columns).group_by(cards.c.deck)
        )
    }
    blank = conn.execute(select(*columns).where(no_text()).group_by(cards.c.deck))
    for deck, new, learning, review, _total in blank:
        have = found[deck]
        found[deck] = Counts(
            have.new - int(new),
            have.learning - int(learning),
            have.review - int(review),
            have.total,
        )
    return found


def done_today(conn: Connection, start: datetime, end: datetime) -> dict[str, Done]:
    """Each deck's answers between ``start`` and ``end``: new cards introduced and review
    cards answered (Anki's per-deck "studied today"), by the deck the card is in now."""
    rows = conn.execute(
        select(
            cards.c.deck,
            func.count().filter(reviews.c.last_review_before.is_(None)),
            func.count().filter(
                and_(
                    reviews.c.last_review_before.is_not(None),
                    reviews.c.state_before == int(CardState.REVIEW),
                )
            ),
        )
        .select_from(reviews.join(cards, cards.c.id == reviews.c.card_id))
        .where(reviews.c.reviewed_at_ms >= to_ms(start), reviews.c.reviewed_at_ms < to_ms(end))
        .group_by(cards.c.deck)
    )
    return {deck: Done(int(new), int(review)) for deck, new, review in rows}


def deck_names(conn: Connection) -> list[str]:
    """Every deck name that has a card (parents that exist only by their subdecks are not
    stored; :func:`studylog.scheduling.decks.all_names` adds them)."""
    return [name for (name,) in conn.execute(select(cards.c.deck).distinct())]


def card_ids_within(conn: Connection, deck: str) -> list[int]:
    """The ids of the cards in ``deck`` and its subdecks (exact names: no wildcards)."""
    prefix = deck + "::"
    return [
        cid
        for (cid,) in conn.execute(
            select(cards.c.id)
            .where(or_(cards.c.deck == deck, func.substr(cards.c.deck, 1, len(prefix)) == prefix))
            .order_by(cards.c.id)
        )
    ]
