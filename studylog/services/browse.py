"""The card browser: Anki's search over the cards, sorted and paged, and one card's full info.

A search is parsed by :mod:`studylog.cardsearch` and turned into SQL by
:mod:`studylog.storage.search_sql`. Retrievability is not a column: for
``prop:r`` terms at the top level of a search and for sorting by
retrievability, the stability and last review of every matching row are read
and R is computed with NumPy (:func:`studylog.scheduling.batch.retrievability`,
the ``fsrs`` package's formula); ``prop:r`` nested under OR or ``-`` is written
as an exact SQL comparison instead (see ``search_sql``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from studylog import cardsearch
from studylog.cardsearch import nodes
from studylog.errors import InvalidInputError
from studylog.scheduling import batch
from studylog.services import exercises as exercise_service
from studylog.services import review as review_service
from studylog.services import review_states
from studylog.services import settings as settings_service
from studylog.services.cards import load_card
from studylog.storage import search_sql
from studylog.storage.models import Card, Concept, Review, Tag, card_tags
from studylog.storage.search_sql import SearchContext
from studylog.studyday import (
    DEFAULT_DAY_START_HOUR,
    StudyCalendar,
    ensure_utc,
    local_zone,
    utcnow,
)

# Sortable columns (the browser's and ``card list --sort``'s names).
SORTS = (
    "added",
    "modified",
    "due",
    "interval",
    "stability",
    "difficulty",
    "retrievability",
    "lapses",
    "reviews",
)
STATE_NAMES = {1: "learning", 2: "review", 3: "relearning"}


def _sort_expression(sort: str):  # noqa: ANN202 - a SQL expression
    return {
        "added": Card.id,
        "modified": Card.updated_at,
        "due": Card.due_ms,
        "interval": search_sql.interval_days(),
        "stability": Card.stability,
        "difficulty": Card.difficulty,
        "lapses": Card.lapses,
        "reviews": Card.reps,
    }[sort]


@dataclass(frozen=True)
class BrowseRow:
    """One card as a browser row.

    ``interval_days`` whole days (Review cards, else 0); ``stability`` days;
    ``difficulty`` FSRS D in [1, 10]; ``retrievability`` in [0, 1] now (None
    for new cards); times aware UTC.
    """

    id: int
    front: str
    back: str
    kind: str
    deck: str
    tags: list[str]
    concept_slug: str | None
    state: str  # new, learning, review, relearning
    suspended: bool
    buried: bool
    due: datetime
    interval_days: int
    stability: float | None
    difficulty: float | None
    retrievability: float | None
    reps: int
    lapses: int
    added: datetime
    modified: datetime


@dataclass(frozen=True)
class Page:
    """One page of a search: ``rows`` from ``offset`` of ``total`` matching cards."""

    query: str
    sort: str
    descending: bool
    total: int
    offset: int
    rows: list[BrowseRow]


def calendar_in(session: Session) -> StudyCalendar:
    """The collection's study calendar: day start hour (default 4) and time zone."""
    hour = settings_service.get_in(session, settings_service.DAY_START_HOUR)
    zone = settings_service.get_in(session, settings_service.TIMEZONE)
    return StudyCalendar(
        day_start_hour=DEFAULT_DAY_START_HOUR if hour is None else int(hour),
        zone=local_zone(zone),
    )


def context_in(session: Session, now: datetime | None = None) -> SearchContext:
    """The search context at ``now`` (default: the current time) from the collection settings."""
    moment = ensure_utc(now) if now is not None else utcnow()
    calendar = calendar_in(session)
    today = calendar.day_of(moment)
    params = review_service.config_in(session).params()
    return SearchContext(
        now=moment,
        today=today,
        next_day_at=calendar.end_of(today),
        learn_ahead=review_service.LEARN_AHEAD,
        decay=params.decay,
        factor=params.factor,
    )


def _split_retrievability(tree: nodes.Node) -> tuple[nodes.Node, list[nodes.Prop]]:
    """(the rest of the search, its top-level ``prop:r`` terms) for the NumPy path."""
    if isinstance(tree, nodes.Prop) and tree.name == "r":
        return nodes.All(), [tree]
    if isinstance(tree, nodes.And):
        r_terms = [c for c in tree.children if isinstance(c, nodes.Prop) and c.name == "r"]
        rest = [c for c in tree.children if c not in r_terms]
        if not rest:
            return nodes.All(), r_terms  # type: ignore[return-value]
        return (rest[0] if len(rest) == 1 else nodes.And(tuple(rest))), r_terms  # type: ignore[return-value]
    return tree, []


_NUMPY_OPS = {
    "=": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    ">": np.greater,
    "<=": np.less_equal,
    ">=": np.greater_equal,
}


def retrievability_now(
    stability: np.ndarray, last_review_ms: np.ndarray, ctx: SearchContext
) -> np.ndarray:
    """R now for each card, float64 shape (n,), NaN where the card is new (no stability).

    ``stability`` float64 days (NaN for none), ``last_review_ms`` float64 epoch ms
    (NaN for none). Formula and elapsed whole days as the ``fsrs`` package.
    """
    known = ~(np.isnan(stability) | np.isnan(last_review_ms))
    last_us = np.where(known, last_review_ms, 0).astype(np.int64) * 1000
    last_us[~known] = batch.NO_TIME
    safe_s = np.where(known, stability, 1.0)
    params = _CurveParams(ctx.decay, ctx.factor)
    r = batch.retrievability(safe_s, last_us, ctx.now_ms * 1000, params)  # type: ignore[arg-type]
    return np.where(known, r, np.nan)


@dataclass(frozen=True)
class _CurveParams:
    """The two numbers :func:`batch.retrievability` reads from its ``Params``."""

    decay: float
    factor: float


def _matching_ids(
    session: Session,
    condition: ColumnElement[bool],
    r_terms: Sequence[nodes.Prop],
    sort: str,
    descending: bool,
    ctx: SearchContext,
) -> np.ndarray:
    """Every matching card id in order (the NumPy path), int64 shape (n,).

    The three numeric columns (NULLs as -1) are fetched straight from the DB-API
    cursor and converted by NumPy at once: no row objects (numbers need no result
    processing), half the time of ORM rows on 100k cards."""
    query: Select = select(
        Card.id,
        func.coalesce(Card.stability, -1.0),
        func.coalesce(Card.last_review_ms, -1),
    ).where(condition)
    if sort != "retrievability":
        query = query.order_by(*_order(sort, descending))
    rows = session.connection().execute(query).cursor.fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64)
    table = np.array(rows, dtype=np.float64)  # ids < 2**53: exact in float64
    ids = table[:, 0].astype(np.int64)
    stability = np.where(table[:, 1] < 0, np.nan, table[:, 1])
    last = np.where(table[:, 2] < 0, np.nan, table[:, 2])
    r = retrievability_now(stability, last, ctx)
    keep = np.ones(len(ids), dtype=bool)
    for term in r_terms:
        with np.errstate(invalid="ignore"):
            keep &= _NUMPY_OPS[term.op](r, float(term.value)) & ~np.isnan(r)
    ids, r = ids[keep], r[keep]
    if sort == "retrievability":
        # New cards (NaN) last either way; ties by id in the same direction.
        key = np.where(np.isnan(r), np.inf, -r if descending else r)
        tie = -ids if descending else ids
        ids = ids[np.lexsort((tie, key))]
    return ids


def _order(sort: str, descending: bool) -> list:
    expr = _sort_expression(sort)
    if descending:
        return [expr.desc().nulls_last(), Card.id.desc()]
    return [expr.asc().nulls_last(), Card.id.asc()]


def check_sort(sort: str) -> str:
    """The sort column name. Raises InvalidInputError naming the allowed columns."""
    if sort not in SORTS:
        raise InvalidInputError(f"unknown sort column {sort!r} (use {', '.join(SORTS)})")
    return sort


def search_in(
    session: Session,
    query: str,
    *,
    sort: str = "added",
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> Page:
    """One page of the cards matching an Anki search (see :func:`search`)."""
    check_sort(sort)
    tree = cardsearch.parse(query)
    ctx = context_in(session, now)
    rest, r_terms = _split_retrievability(tree)
    if r_terms or sort == "retrievability":
        ids = _matching_ids(
            session, search_sql.condition(rest, ctx), r_terms, sort, descending, ctx
        )
        total = len(ids)
        page_ids = [int(i) for i in ids[offset : offset + limit]]
    else:
        condition = search_sql.condition(tree, ctx)
        total = session.scalar(select(func.count()).select_from(Card).where(condition)) or 0
        page_ids = list(
            session.scalars(
                select(Card.id)
                .where(condition)
                .order_by(*_order(sort, descending))
                .limit(limit)
                .offset(offset)
            )
        )
    return Page(query, sort, descending, total, offset, rows_in(session, page_ids, ctx))


def search(
    db,  # noqa: ANN001 - studylog.storage.engine.Database
    query: str,
    *,
    sort: str = "added",
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> Page:
    """One page of the cards matching ``query`` (Anki's search syntax), sorted.

    Args:
        query: the search ("" for every card).
        sort: one of :data:`SORTS`; ties by card id in the same direction.
        limit, offset: the page.
        now: the moment for is:due, prop:due, prop:r, rated:... (default: now, UTC).
    Raises:
        SearchSyntaxError: a malformed search (with the position).
        InvalidInputError: an unknown sort column.
    """
    with db.read() as session:
        return search_in(
            session, query, sort=sort, descending=descending, limit=limit, offset=offset, now=now
        )


def matching_ids_in(session: Session, query: str, ctx: SearchContext) -> list[int]:
    """Every card id matching ``query``, in id order (for bulk actions)."""
    tree = cardsearch.parse(query)
    rest, r_terms = _split_retrievability(tree)
    if r_terms:
        ids = _matching_ids(session, search_sql.condition(rest, ctx), r_terms, "added", False, ctx)
        return [int(i) for i in ids]
    return list(
        session.scalars(select(Card.id).where(search_sql.condition(tree, ctx)).order_by(Card.id))
    )


def rows_in(session: Session, ids: Sequence[int], ctx: SearchContext) -> list[BrowseRow]:
    """Browser rows for ``ids``, in that order (unknown ids are left out)."""
    if not ids:
        return []
    found = {
        card.id: _Fetched(card, slug)
        for card, slug in session.execute(
            select(Card, Concept.slug)
            .outerjoin(Concept, Concept.id == Card.concept_id)
            .where(Card.id.in_(ids))
        )
    }
    tags: dict[int, list[str]] = {}
    for card_id, name in session.execute(
        select(card_tags.c.card_id, Tag.name)
        .join(Tag, Tag.id == card_tags.c.tag_id)
        .where(card_tags.c.card_id.in_(ids))
        .order_by(Tag.name)
    ):
        tags.setdefault(card_id, []).append(name)
    ordered = [found[i] for i in ids if i in found]
    stability = np.array(
        [np.nan if f.card.stability is None else f.card.stability for f in ordered]
    )
    last = np.array(
        [np.nan if f.card.last_review_ms is None else f.card.last_review_ms for f in ordered],
        dtype=np.float64,
    )
    r = retrievability_now(stability, last, ctx)
    return [
        _row(f.card, f.slug, tags.get(f.id, []), None if np.isnan(rv) else float(rv), ctx.today)
        for f, rv in zip(ordered, r, strict=True)
    ]


@dataclass(frozen=True)
class _Fetched:
    card: Card
    slug: str | None

    @property
    def id(self) -> int:
        return self.card.id


def state_name(card: Card) -> str:
    """new, learning, review or relearning (Anki's card type)."""
    return "new" if card.last_review is None else STATE_NAMES.get(card.state, "?")


def interval_of(card: Card) -> int:
    """Whole days from the last review to the due date of a Review card, else 0 (Anki's ivl)."""
    if card.state != 2 or card.last_review_ms is None or card.due_ms is None:
        return 0
    return (card.due_ms - card.last_review_ms) // 86_400_000


def _row(card: Card, slug: str | None, tags: list[str], r: float | None, today: date) -> BrowseRow:
    return BrowseRow(
        id=card.id,
        front=card.front,
        back=card.back,
        kind=card.kind,
        deck=card.deck,
        tags=tags,
        concept_slug=slug,
        state=state_name(card),
        suspended=card.suspended,
        buried=card.buried_until is not None and card.buried_until > today,
        due=ensure_utc(card.due),
        interval_days=interval_of(card),
        stability=card.stability,
        difficulty=card.difficulty,
        retrievability=r,
        reps=card.reps,
        lapses=card.lapses,
        added=ensure_utc(card.created_at),
        modified=ensure_utc(card.updated_at),
    )


# --- card info -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewEntry:
    """One answer and the card's state after it (times aware UTC, stability days, D 1-10)."""

    id: int
    reviewed_at: datetime
    rating: int
    rating_name: str
    duration_ms: int | None
    state_after: str
    stability_after: float | None
    difficulty_after: float | None
    due_after: datetime | None
    interval_days: float | None


@dataclass(frozen=True)
class AttemptEntry:
    """One checked attempt at an exercise card's exercise (``attempted_at`` aware UTC)."""

    id: int
    attempted_at: datetime
    status: str
    checks_passed: int
    checks: int
    duration_ms: int


@dataclass(frozen=True)
class CardDetail:
    """Everything the card info panel and ``card info`` show.

    ``preview`` maps again/hard/good/easy to the interval in days that answer
    would give now (the scheduler's, fuzz included).
    """

    card: BrowseRow
    cloze_ord: int | None
    external_id: str | None
    origin: str
    step: int | None
    last_review: datetime | None
    reviews: list[ReviewEntry]
    preview: dict[str, float]
    exercise_id: str | None = None
    attempts: list[AttemptEntry] = field(default_factory=list)


def _review_states(session: Session, card_id: int) -> list[tuple[Review, dict[str, Any]]]:
    """The card's review rows in time order, each with its valid derived states.

    The stored columns, except for rows left stale by a whole-collection
    replay: those are derived from the card's history
    (:func:`studylog.services.review_states.derived_states_in`, one card).
    """
    found = list(
        session.scalars(
            select(Review)
            .where(Review.card_id == card_id)
            .order_by(Review.reviewed_at_ms, Review.id)
        )
    )
    derived = review_states.derived_states_in(session, [card_id]) if found else None
    out = []
    for r in found:
        values = {c: getattr(r, c) for c in review_states.DERIVED_COLUMNS}
        if derived is not None:
            (i,) = derived.index_of([r.id]).tolist()
            if i >= 0:
                values = derived.row(i)
        out.append((r, values))
    return out


def card_info(db, card_id: int, *, now: datetime | None = None) -> CardDetail:  # noqa: ANN001
    """A card's fields, state, FSRS memory, every review and the four answers' intervals.

    Raises:
        NotFoundError: unknown card.
    """
    with db.read() as session:
        ctx = context_in(session, now)
        card = load_card(session, card_id)
        row = rows_in(session, [card_id], ctx)[0]
        reviews = [
            ReviewEntry(
                id=r.id,
                reviewed_at=ensure_utc(r.reviewed_at),
                rating=r.rating,
                rating_name=review_service.RATINGS.get(r.rating, "?"),
                duration_ms=r.duration_ms,
                state_after=STATE_NAMES.get(v["state_after"], "?"),
                stability_after=v["stability_after"],
                difficulty_after=v["difficulty_after"],
                due_after=ensure_utc(v["due_after"]) if v["due_after"] is not None else None,
                interval_days=v["interval_days"],
            )
            for r, v in _review_states(session, card_id)
        ]
        config = review_service.config_in(session)
        load = review_service.load_in(session, ctx.now)  # the counts the answer will use
        buttons = review_service.preview_card(card, ctx.now, config, config.scheduler(), load)
        preview = {b.label.lower(): b.seconds / 86400.0 for b in buttons}
        exercise_id = exercise_service.card_exercise_id(card.kind, card.pack_key)
        return CardDetail(
            card=row,
            cloze_ord=card.cloze_ord,
            external_id=card.external_id,
            origin=card.origin,
            step=card.step,
            last_review=ensure_utc(card.last_review) if card.last_review is not None else None,
            reviews=reviews,
            preview=preview,
            exercise_id=exercise_id,
            attempts=_attempts(db, exercise_id),
        )


def _attempts(db, exercise_id: str | None) -> list[AttemptEntry]:  # noqa: ANN001
    """The exercise's stored attempts, oldest first (none for another card)."""
    if exercise_id is None:
        return []
    return [
        AttemptEntry(
            id=a.id,
            attempted_at=ensure_utc(a.attempted_at),
            status=a.status,
            checks_passed=sum(c.passed for c in a.result.checks),
            checks=len(a.result.checks),
            duration_ms=a.duration_ms,
        )
        for a in exercise_service.attempts(db, exercise_id)
    ]
