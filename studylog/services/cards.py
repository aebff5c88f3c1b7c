"""Cards: create, edit, delete, tag and list flashcards.

New cards start in FSRS's Learning state at step 0 with no stability or
difficulty (as :class:`fsrs.Card` does) and are due at once. Scheduling
(answers, undo, leeches) lives in :mod:`studylog.services.review`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studylog.content.cloze import cloze_ords
from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling.states import CardState
from studylog.services import tags as tag_service
from studylog.storage.bulk_insert import drop_stats_cache
from studylog.storage.deck_rows import has_text as has_text
from studylog.storage.deck_rows import no_text as no_text
from studylog.storage.engine import Database
from studylog.storage.models import Card, Concept, Tag, card_tags
from studylog.studyday import utcnow

KINDS = ("basic", "cloze")
# Cards made from a concept file's exercises and computed templates (services.concepts);
# not for `card add`, which takes KINDS only.
ITEM_KINDS = ("exercise", "computed")
LEARNING = CardState.LEARNING  # a card with last_review NULL counts as new


@dataclass(frozen=True)
class CardInfo:
    """A card as the CLI and the app show it (no live database object).

    Times are aware UTC; ``stability`` in days; ``difficulty`` in [1, 10].
    """

    id: int
    front: str
    back: str
    kind: str
    cloze_ord: int | None
    deck: str
    tags: list[str]
    concept_slug: str | None
    external_id: str | None
    pack_key: str | None
    origin: str
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int
    suspended: bool
    buried_until: date | None

    @property
    def is_new(self) -> bool:
        return self.last_review is None


def info(card: Card) -> CardInfo:
    """Snapshot an ORM card (its concept and tags must be loadable)."""
    return CardInfo(
        id=card.id,
        front=card.front,
        back=card.back,
        kind=card.kind,
        cloze_ord=card.cloze_ord,
        deck=card.deck,
        tags=sorted(t.name for t in card.tags),
        concept_slug=card.concept.slug if card.concept is not None else None,
        external_id=card.external_id,
        pack_key=card.pack_key,
        origin=card.origin,
        state=card.state,
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
        reps=card.reps,
        lapses=card.lapses,
        suspended=card.suspended,
        buried_until=card.buried_until,
    )


def _check_text(front: str, back: str, kind: str) -> None:
    if kind in ITEM_KINDS:
        if not front.strip():
            raise InvalidInputError(f"the {kind} card's title is empty")
        return
    if kind not in KINDS:
        raise InvalidInputError(f"unknown card kind {kind!r} (use basic or cloze)")
    if not front.strip():
        raise InvalidInputError("the card's front is empty")
    if kind == "basic" and not back.strip():
        raise InvalidInputError("the card's back is empty")
    if kind == "cloze" and not cloze_ords(front):
        raise InvalidInputError("a cloze card needs a deletion like {{c1::text}} in its front")


def concept_by_slug(session: Session, slug: str) -> Concept:
    concept = session.scalar(select(Concept).where(Concept.slug == slug))
    if concept is None:
        raise NotFoundError(f"no concept with slug {slug!r}")
    return concept


def new_card_values(
    *,
    front: str,
    back: str = "",
    kind: str = "basic",
    cloze_ord: int | None = None,
    deck: str = "Default",
    concept_id: int | None = None,
    external_id: str | None = None,
    pack_key: str | None = None,
    origin: str = "user",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The column values of a new card (Learning, step 0, due at once), checked.

    The one definition of a new card, for :func:`new_card` and for bulk
    inserts (:func:`studylog.storage.bulk_insert.insert_rows`).

    Raises:
        InvalidInputError: empty front/back, unknown kind, cloze without deletions.
    """
    _check_text(front, back, kind)
    moment = now or utcnow()
    return {
        "front": front,
        "back": back,
        "kind": kind,
        "cloze_ord": cloze_ord if kind == "cloze" else None,
        "deck": deck.strip() or "Default",
        "concept_id": concept_id,
        "external_id": external_id,
        "pack_key": pack_key,
        "origin": origin,
        "state": LEARNING,
        "step": 0,
        "due": moment,
        "reps": 0,
        "lapses": 0,
        "suspended": False,
        "created_at": moment,
        "updated_at": moment,
    }


def new_card(
    session: Session,
    *,
    front: str,
    back: str = "",
    kind: str = "basic",
    cloze_ord: int | None = None,
    deck: str = "Default",
    tags: Iterable[str] = (),
    concept: Concept | None = None,
    external_id: str | None = None,
    pack_key: str | None = None,
    origin: str = "user",
    now: datetime | None = None,
) -> Card:
    """Add a new card to ``session`` (inside the caller's transaction) and return it."""
    values = new_card_values(
        front=front,
        back=back,
        kind=kind,
        cloze_ord=cloze_ord,
        deck=deck,
        external_id=external_id,
        pack_key=pack_key,
        origin=origin,
        now=now,
    )
    del values["concept_id"]
    card = Card(**values, concept=concept)
    session.add(card)
    # The tag lookup would autoflush a half-built card (and a new concept) otherwise.
    with session.no_autoflush:
        card.tags = tag_service.get_or_create(session, tags)
    return card


def create(
    db: Database,
    front: str,
    back: str = "",
    *,
    kind: str = "basic",
    deck: str = "Default",
    tags: Iterable[str] = (),
    concept_slug: str | None = None,
    now: datetime | None = None,
) -> list[CardInfo]:
    """Create a card; a cloze front with deletions c1..cN creates N cards.

    Raises:
        InvalidInputError: empty front/back, unknown kind, cloze without deletions.
        NotFoundError: unknown concept slug.
    """
    if kind not in KINDS:
        raise InvalidInputError(f"unknown card kind {kind!r} (use basic or cloze)")
    _check_text(front, back, kind)
    with db.write() as session:
        concept = concept_by_slug(session, concept_slug) if concept_slug else None
        ords: Sequence[int | None] = cloze_ords(front) if kind == "cloze" else [None]
        made = [
            new_card(
                session,
                front=front,
                back=back,
                kind=kind,
                cloze_ord=n,
                deck=deck,
                tags=tags,
                concept=concept,
                now=now,
            )
            for n in ords
        ]
        session.flush()
        return [info(c) for c in made]


def load_card(session: Session, card_id: int) -> Card:
    """The card with ``card_id`` in ``session``. Raises NotFoundError."""
    card = session.get(Card, card_id)
    if card is None:
        raise NotFoundError(f"no card with id {card_id}")
    return card


def get(db: Database, card_id: int) -> CardInfo:
    """One card. Raises NotFoundError."""
    with db.read() as session:
        return info(load_card(session, card_id))


def edit(
    db: Database,
    card_id: int,
    *,
    front: str | None = None,
    back: str | None = None,
    deck: str | None = None,
    tags: Iterable[str] | None = None,
    concept_slug: str | None = None,
    now: datetime | None = None,
) -> CardInfo:
    """Change a card's text, deck, tags or concept; its schedule is kept.

    Raises:
        NotFoundError: unknown card or concept.
        InvalidInputError: the new text is empty.
    """
    with db.write() as session:
        card = load_card(session, card_id)
        new_front = card.front if front is None else front
        new_back = card.back if back is None else back
        _check_text(new_front, new_back, card.kind)
        card.front, card.back = new_front, new_back
        if deck is not None:
            card.deck = deck.strip() or "Default"
        if tags is not None:
            card.tags = tag_service.get_or_create(session, tags)
        if concept_slug is not None:
            card.concept = concept_by_slug(session, concept_slug) if concept_slug else None
        card.updated_at = now or utcnow()
        session.flush()
        return info(card)


def add_tags(db: Database, card_id: int, names: Iterable[str]) -> CardInfo:
    """Add tags to a card (existing ones are kept)."""
    with db.write() as session:
        card = load_card(session, card_id)
        current = [t.name for t in card.tags]
        card.tags = tag_service.get_or_create(session, [*current, *names])
        session.flush()
        return info(card)


def remove_tags(db: Database, card_id: int, names: Iterable[str]) -> CardInfo:
    """Remove tags from a card."""
    drop = set(tag_service.normalise(names))
    with db.write() as session:
        card = load_card(session, card_id)
        card.tags = [t for t in card.tags if t.name not in drop]
        session.flush()
        return info(card)


def delete(db: Database, card_id: int) -> None:
    """Delete a card and its tag links (no undo: ``studylog card undo`` undoes the bulk
    delete of :mod:`studylog.services.card_actions`). Its review history stays in the
    log, counted by no statistic, as Anki keeps the revlog of deleted notes
    (revision 0011); card ids are never given again, so no new card inherits it.

    Raises:
        NotFoundError: unknown card.
    """
    with db.write() as session:
        session.delete(load_card(session, card_id))
        session.flush()
        drop_stats_cache(session)  # the per-day cache counted this card's reviews


def list_cards(
    db: Database,
    *,
    deck: str | None = None,
    tag: str | None = None,
    concept_slug: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CardInfo]:
    """Cards filtered by deck, tag or concept, in creation order, one page at a time."""
    with db.read() as session:
        query = select(Card).order_by(Card.id)
        if deck:
            query = query.where(Card.deck == deck)
        if tag:
            query = query.join(card_tags).join(Tag).where(Tag.name == tag.lstrip("#"))
        if concept_slug:
            query = query.join(Concept, Card.concept_id == Concept.id).where(
                Concept.slug == concept_slug
            )
        rows = session.scalars(query.limit(limit).offset(offset)).all()
        return [info(c) for c in rows]


def count(db: Database) -> int:
    """How many cards the collection has."""
    with db.read() as session:
        return session.scalar(select(func.count(Card.id))) or 0
