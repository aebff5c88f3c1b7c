"""A card search tree (:mod:`studylog.cardsearch`) as one SQLAlchemy Core condition on ``cards``.

Portable SQL only (LIKE with an escape character, integer arithmetic, EXISTS
subqueries): it runs on SQLite and PostgreSQL alike. The meaning of every key
follows Anki's search code (rslib ``search/sqlwriter.rs``), mapped onto
studylog's columns:

* Anki's card *type* is new when ``last_review`` is NULL, else ``state``
  (1 learning, 2 review, 3 relearning); its *queue* is the type unless the card is
  suspended or buried (``buried_until`` after today). ``is:new``/``is:review``
  test the type (suspended cards included), ``is:learn``/``is:due``/``prop:due``
  the queue (suspended and buried cards excluded), as Anki does.
* ``prop:ivl`` is whole days ``(due - last_review)`` of Review cards, 0 otherwise.
  (Anki keeps a relearning card's next interval in ``ivl``; studylog does not
  store one, so relearning cards have 0.)
* ``prop:d`` is on Anki's 0-1 scale: ``(D - 1) / 9``. ``prop:s`` and ``prop:d``
  are NULL for new cards, so neither ``prop:s>1`` nor ``-prop:s>1`` matches them
  (SQL's three-valued logic, as Anki); ``prop:r`` is false for them, so
  ``-prop:r>0.9`` does (as Anki: checked against its search in the tests).
* ``rated:N`` has no 365-day cap (current Anki has none; older versions had one).
* ``prop:r`` here is exact and needs no power function: R = (1 + F t/S)^decay
  falls as t grows, so ``R >= x`` is ``t <= S (x^(1/decay) - 1) / F`` with t the
  whole days since the last review (the ``fsrs`` package's elapsed days).
  (:mod:`studylog.services.browse` computes R with NumPy instead where it can.)
* ``rated:N``, ``added:N``, ``introduced:N`` count study days back from the end
  of today (``rated:1`` is today), as Anki's ``next_day_at - N * 86400``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import Boolean

from studylog.cardsearch import nodes
from studylog.storage.models import Card, Concept, Review, Tag, card_tags
from studylog.storage.times import DAY_MS, to_ms

LEECH_TAG = "leech"
# Added so that integer division floors negative day counts (SQL truncates toward 0).
_DAY_SHIFT = 1_000_000


@dataclass(frozen=True)
class SearchContext:
    """The moment a search is run at and the collection settings it depends on.

    Attributes:
        now: aware UTC.
        today: the current study day.
        next_day_at: aware UTC start of the next study day (Anki's ``next_day_at``).
        learn_ahead: how far ahead learning cards count as due (Anki's 20 minutes).
        decay, factor: FSRS-6 forgetting curve constants (``batch.Params``).
    """

    now: datetime
    today: date
    next_day_at: datetime
    learn_ahead: timedelta
    decay: float
    factor: float

    @property
    def now_ms(self) -> int:
        return to_ms(self.now)  # type: ignore[return-value]

    @property
    def next_day_ms(self) -> int:
        return to_ms(self.next_day_at)  # type: ignore[return-value]

    def days_back_ms(self, days: int) -> int:
        """Epoch ms of the start of the window ``days`` study days long that ends tonight."""
        return self.next_day_ms - days * DAY_MS


def like_pattern(pattern: str) -> str:
    """A search pattern (``*``, ``_`` wildcards; ``\\*`` ``\\_`` ``\\\\`` literals) as LIKE with ``\\``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt in "_\\" else nxt)
            i += 2
            continue
        if ch == "*":
            out.append("%")
        elif ch == "%":
            out.append("\\%")
        else:
            out.append(ch)  # "_" stays LIKE's one-character wildcard
        i += 1
    return "".join(out)


class _CaseBlindLike(ColumnElement[bool]):
    """``column`` matches the LIKE ``pattern`` (escape ``\\``) regardless of case.

    PostgreSQL: ``ILIKE``. SQLite: plain ``LIKE``, which already ignores ASCII case
    (and, like SQLite's ``lower()``, only ASCII's): SQLAlchemy's ``ilike`` would write
    ``lower(x) LIKE lower(y)``, twice the time on 100k cards for the same rows.
    """

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a predicate: no "= 1" after it on SQLite

    def __init__(self, column: ColumnClause, pattern: str) -> None:
        self.column = column
        self.pattern = literal(pattern)


@compiles(_CaseBlindLike)
def _ilike_default(element: _CaseBlindLike, compiler, **kw) -> str:  # noqa: ANN001
    column, pattern = (
        compiler.process(element.column, **kw),
        compiler.process(element.pattern, **kw),
    )
    return f"{column} ILIKE {pattern} ESCAPE '\\'"


@compiles(_CaseBlindLike, "sqlite")
def _ilike_sqlite(element: _CaseBlindLike, compiler, **kw) -> str:  # noqa: ANN001
    column, pattern = (
        compiler.process(element.column, **kw),
        compiler.process(element.pattern, **kw),
    )
    return f"{column} LIKE {pattern} ESCAPE '\\'"


def _like(column, pattern: str) -> ColumnElement[bool]:  # noqa: ANN001 - a SQL expression
    if "\x00" in pattern:
        # No stored text holds a NUL: PostgreSQL cannot store one (nor take it as a
        # parameter), and SQLite's LIKE stops at one. Such a pattern matches nothing.
        return false()
    return _CaseBlindLike(column, pattern)


def is_new() -> ColumnElement[bool]:
    return Card.last_review_ms.is_(None)


def buried(ctx: SearchContext) -> ColumnElement[bool]:
    return and_(Card.buried_until.is_not(None), Card.buried_until > ctx.today)


def in_queue(ctx: SearchContext) -> ColumnElement[bool]:
    """Reviewed, not suspended, not buried: Anki's learn, day-learn and review queues.

    ``suspended IS NOT true`` (the column is never NULL) rather than ``IS false``:
    nearly every card is unsuspended, and with ``IS false`` SQLite's planner takes
    ``ix_cards_due`` for it as soon as some cards are suspended, then reads the
    matching rows one by one (``is:due`` on 100k cards: 450 ms instead of 70 ms)."""
    return and_(not_(is_new()), Card.suspended.is_not(True), not_(buried(ctx)))


def interval_days():  # noqa: ANN201 - a SQL expression
    """Whole days from the last review to the due date for Review cards, else 0 (Anki's ivl)."""
    return case(
        (
            and_(Card.state == 2, Card.last_review_ms.is_not(None)),
            (Card.due_ms - Card.last_review_ms) // DAY_MS,
        ),
        else_=0,
    )


def elapsed_days(ctx: SearchContext):  # noqa: ANN201 - a SQL expression
    """Whole days since the last review (the ``fsrs`` package's ``elapsed_days``)."""
    return (literal(ctx.now_ms) - Card.last_review_ms) // DAY_MS


def due_in_days(ctx: SearchContext):  # noqa: ANN201 - a SQL expression
    """Study days from today to the due date (0 today, 1 tomorrow, -1 yesterday)."""
    shifted = Card.due_ms - literal(ctx.next_day_ms) + literal(_DAY_SHIFT * DAY_MS)
    return shifted // DAY_MS - (_DAY_SHIFT - 1)


def _compare(left, op: str, right) -> ColumnElement[bool]:  # noqa: ANN001
    return {
        "=": lambda: left == right,
        "!=": lambda: left != right,
        "<": lambda: left < right,
        ">": lambda: left > right,
        "<=": lambda: left <= right,
        ">=": lambda: left >= right,
    }[op]()


def retrievability_condition(op: str, x: float, ctx: SearchContext) -> ColumnElement[bool]:
    """``R op x`` as a comparison of whole elapsed days with ``S * (x^(1/decay) - 1) / F``.

    R is decreasing in t, so each operator flips. Cards without stability give NULL.
    """
    elapsed = elapsed_days(ctx)
    if x <= 0.0:
        # x^(1/decay) is infinite: every card has R > 0 (R >= 0, R != 0), none R < 0.
        known = and_(Card.stability.is_not(None), Card.last_review_ms.is_not(None))
        return known if op in (">", ">=", "!=") else false()
    scale = (x ** (1.0 / ctx.decay) - 1.0) / ctx.factor
    limit = Card.stability * scale
    flipped = {"=": "=", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
    known = and_(Card.stability.is_not(None), Card.last_review_ms.is_not(None))
    # False, not NULL, for new cards: Anki's -prop:r>0.9 finds new cards (its -prop:s>1 does not).
    return case((known, _compare(elapsed, flipped, limit)), else_=false())


def _prop(node: nodes.Prop, ctx: SearchContext) -> ColumnElement[bool]:
    if node.name == "ivl":
        return _compare(interval_days(), node.op, node.value)
    if node.name == "due":
        return and_(in_queue(ctx), _compare(due_in_days(ctx), node.op, node.value))
    if node.name == "reps":
        return _compare(Card.reps, node.op, node.value)
    if node.name == "lapses":
        return _compare(Card.lapses, node.op, node.value)
    if node.name == "s":
        return _compare(Card.stability, node.op, float(node.value))
    if node.name == "d":
        return _compare(Card.difficulty, node.op, float(node.value) * 9.0 + 1.0)
    return retrievability_condition(node.op, float(node.value), ctx)


def _tag_matches(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(card_tags.c.card_id)
        .join(Tag, Tag.id == card_tags.c.tag_id)
        .where(card_tags.c.card_id == Card.id, condition)
    )


def _name_and_children(column, pattern: str) -> ColumnElement[bool]:  # noqa: ANN001
    like = like_pattern(pattern)
    return or_(_like(column, like), _like(column, like + "::%"))


def _is(kind: str, ctx: SearchContext) -> ColumnElement[bool]:
    if kind == "new":
        return is_new()
    if kind == "learn":
        return and_(in_queue(ctx), Card.state.in_((1, 3)))
    if kind == "review":
        return and_(not_(is_new()), Card.state.in_((2, 3)))
    if kind == "suspended":
        return Card.suspended.is_(True)
    if kind == "buried":
        return buried(ctx)
    if kind == "leech":
        return _tag_matches(Tag.name == LEECH_TAG)
    # due: review cards due by the end of today, learning cards due within the learn-ahead time
    learn_cutoff = to_ms(ctx.now + ctx.learn_ahead)
    return and_(
        in_queue(ctx),
        or_(
            and_(Card.state == 2, Card.due_ms < ctx.next_day_ms),
            and_(Card.state.in_((1, 3)), Card.due_ms <= learn_cutoff),
        ),
    )


def condition(node: nodes.Node, ctx: SearchContext) -> ColumnElement[bool]:
    """The SQL condition on ``cards`` for a search tree.

    Raises:
        TypeError: for an object that is not a search node (a programming error).
    """
    if isinstance(node, nodes.All):
        return true()
    if isinstance(node, nodes.And):
        return and_(*(condition(c, ctx) for c in node.children))
    if isinstance(node, nodes.Or):
        return or_(*(condition(c, ctx) for c in node.children))
    if isinstance(node, nodes.Not):
        return not_(condition(node.child, ctx))
    if isinstance(node, nodes.Text):
        like = "%" + like_pattern(node.pattern) + "%"
        return or_(_like(Card.front, like), _like(Card.back, like))
    if isinstance(node, nodes.Deck):
        return _name_and_children(Card.deck, node.pattern)
    if isinstance(node, nodes.Tag):
        if node.pattern.lower() == "none":
            return not_(exists(select(card_tags.c.card_id).where(card_tags.c.card_id == Card.id)))
        like = like_pattern(node.pattern)
        return _tag_matches(or_(_like(Tag.name, like), _like(Tag.name, like + "::%")))
    if isinstance(node, nodes.Concept):
        if node.pattern.lower() == "none":
            return Card.concept_id.is_(None)
        return exists(
            select(Concept.id).where(
                Concept.id == Card.concept_id, _like(Concept.slug, like_pattern(node.pattern))
            )
        )
    if isinstance(node, nodes.Is):
        return _is(node.kind, ctx)
    if isinstance(node, nodes.Kind):
        return Card.kind == node.kind
    if isinstance(node, nodes.Prop):
        return _prop(node, ctx)
    if isinstance(node, nodes.Rated):
        conditions = [
            Review.card_id == Card.id,
            Review.reviewed_at_ms >= ctx.days_back_ms(node.days),
        ]
        if node.rating is not None:
            conditions.append(Review.rating == node.rating)
        return exists(select(Review.id).where(*conditions))
    if isinstance(node, nodes.Added):
        return Card.created_at >= ctx.next_day_at - timedelta(days=node.days)
    if isinstance(node, nodes.Introduced):
        first = (
            select(func.min(Review.reviewed_at_ms))
            .where(Review.card_id == Card.id)
            .scalar_subquery()
        )
        return first >= ctx.days_back_ms(node.days)
    raise TypeError(f"not a search node: {node!r}")
