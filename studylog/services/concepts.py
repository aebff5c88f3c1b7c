"""Concepts: the pack's and the user's own, with their explanation, demo and cards.

A concept is written in the concept file format (``docs/concept-format.md``);
users add and edit concepts in that same format, so one parser and one writer
(:func:`apply_file`) serve the pack sync, ``concept add`` and ``concept edit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studylog.content.concept_file import (
    CardSpec,
    ComputedSpec,
    ConceptFile,
    ExerciseSpec,
    parse_concept,
)
from studylog.errors import InvalidInputError
from studylog.services import cards as card_service
from studylog.services import tags as tag_service
from studylog.storage.engine import Database
from studylog.storage.models import Card, Concept, Review, Tag, concept_tags
from studylog.studyday import utcnow


@dataclass(frozen=True)
class ConceptSummary:
    """A line of the concept list."""

    slug: str
    title: str
    aliases: list[str]
    tags: list[str]
    origin: str
    user_modified: bool
    demo: str | None
    has_demo: bool
    card_count: int


@dataclass(frozen=True)
class ConceptInfo:
    """A concept's page: everything but the demo's outputs."""

    slug: str
    title: str
    aliases: list[str]
    tags: list[str]
    body: str
    sources: list[str]
    related: list[str]
    demo: str | None
    demo_code: str | None
    origin: str
    user_modified: bool
    cards: list[card_service.CardInfo] = field(default_factory=list)
    exercises: list[ExerciseSpec] = field(default_factory=list)
    computed: list[ComputedSpec] = field(default_factory=list)


# Exercise cards (one per ``::: exercise``) go into one deck, whatever their concept:
# an exercise takes minutes, not seconds, and the learner may want to suspend,
# limit or study them apart (Anki's way: a deck). Their key in ``pack_key`` is
# ``SLUG/exercise:FUNCTION``; computed cards use their own key, ``SLUG/KEY``.
EXERCISE_DECK = "Exercises"
EXERCISE_KEY_PREFIX = "exercise:"
EXERCISE_KIND = "exercise"
COMPUTED_KIND = "computed"


@dataclass(frozen=True)
class _ItemCard:
    """A card made from an exercise or a computed template (not from a ``::: card``)."""

    pack_key_suffix: str
    kind: str
    front: str
    back: str
    deck: str | None  # None: the concept's deck
    cloze_ord: int | None = None

    @classmethod
    def of(cls, spec: CardSpec) -> _ItemCard:
        """A ``::: card`` (or one deletion of a ``::: cloze``) as the same kind of row."""
        return cls(spec.pack_key_suffix, spec.kind, spec.front, spec.back, None, spec.cloze_ord)


def _item_cards(
    parsed_exercises: list[ExerciseSpec], computed: list[ComputedSpec]
) -> list[_ItemCard]:
    items = [
        _ItemCard(
            f"{EXERCISE_KEY_PREFIX}{e.function}", EXERCISE_KIND, e.title, e.task, EXERCISE_DECK
        )
        for e in parsed_exercises
    ]
    items += [
        _ItemCard(c.key, COMPUTED_KIND, c.title or f"Predict the output ({c.key})", c.note, None)
        for c in computed
    ]
    return items


def specs_of(concept: Concept) -> tuple[list[ExerciseSpec], list[ComputedSpec]]:
    """The concept's exercises and computed templates as stored (migration 0007).

    A pack concept applied before 0007 (the columns NULL) takes them from its
    pack file; any other concept without them has none.
    """
    exercises = concept.exercises
    computed = concept.computed
    if (exercises is None or computed is None) and concept.origin == "pack":
        from studylog.paths import content_dir

        path = content_dir() / "concepts" / f"{concept.slug}.md"
        if path.is_file():
            parsed = parse_concept(path.read_text(encoding="utf-8"), str(path))
            return list(parsed.exercises), list(parsed.computed)
    return (
        [ExerciseSpec.from_json(e) for e in exercises or []],
        [ComputedSpec.from_json(c) for c in computed or []],
    )


_load = card_service.concept_by_slug


def _upsert_cards(
    session: Session,
    concept: Concept,
    specs: list[CardSpec],
    origin: str,
    now: datetime,
    items: Sequence[_ItemCard] = (),
) -> tuple[int, int]:
    """Make the concept's keyed cards match ``specs``; return (added, removed).

    Cards are matched by key (``pack_key`` = ``slug/key[/cN]``), so rewording a
    card keeps its schedule and history. A card whose key is gone is deleted
    only if it was never reviewed; otherwise it stays, detached from the file.
    """
    existing = {
        c.pack_key: c
        for c in session.scalars(
            select(Card).where(Card.concept_id == concept.id, Card.pack_key.is_not(None))
        )
    }
    added = removed = 0
    wanted: set[str] = set()
    for item in [*map(_ItemCard.of, specs), *items]:
        key = f"{concept.slug}/{item.pack_key_suffix}"
        wanted.add(key)
        card = existing.get(key)
        if card is None:
            card_service.new_card(
                session,
                front=item.front,
                back=item.back,
                kind=item.kind,
                cloze_ord=item.cloze_ord,
                deck=item.deck or (concept.title if origin == "pack" else "Default"),
                tags=[t.name for t in concept.tags],
                concept=concept,
                pack_key=key,
                origin=origin,
                now=now,
            )
            added += 1
        elif (card.front, card.back, card.kind) != (item.front, item.back, item.kind):
            card.front, card.back, card.kind = item.front, item.back, item.kind
            card.updated_at = now
    for key, card in existing.items():
        if key in wanted:
            continue
        reviewed = session.scalar(select(func.count(Review.id)).where(Review.card_id == card.id))
        if reviewed:
            card.pack_key = None
        else:
            session.delete(card)
            removed += 1
    return added, removed


def apply_file(
    session: Session,
    parsed: ConceptFile,
    *,
    origin: str,
    now: datetime,
    user_edit: bool = False,
) -> Concept:
    """Create or update the concept described by ``parsed`` inside the caller's transaction."""
    concept = session.scalar(select(Concept).where(Concept.slug == parsed.slug))
    if concept is None:
        concept = Concept(
            slug=parsed.slug, origin=origin, created_at=now, updated_at=now, user_modified=False
        )
        session.add(concept)
    concept.title = parsed.title
    concept.aliases = list(parsed.aliases)
    concept.body = parsed.body
    concept.sources = list(parsed.sources)
    concept.related = list(parsed.related)
    concept.demo = parsed.demo
    concept.content_hash = parsed.content_hash
    concept.tags = tag_service.get_or_create(session, parsed.tags)
    concept.exercises = [e.to_json() for e in parsed.exercises]
    concept.computed = [c.to_json() for c in parsed.computed]
    concept.updated_at = now
    if user_edit and concept.origin == "pack":
        concept.user_modified = True
    session.flush()
    _upsert_cards(
        session,
        concept,
        parsed.cards,
        concept.origin,
        now,
        _item_cards(parsed.exercises, parsed.computed),
    )
    return concept


def add(db: Database, text: str, *, now: datetime | None = None) -> ConceptInfo:
    """Add the user's own concept from concept-format ``text``.

    Raises:
        ConceptFormatError: the text does not follow the format (with its line).
        InvalidInputError: a concept with that slug exists already.
    """
    parsed = parse_concept(text, "<new concept>")
    with db.write() as session:
        if session.scalar(select(Concept.id).where(Concept.slug == parsed.slug)):
            raise InvalidInputError(f"a concept with slug {parsed.slug!r} exists already")
        apply_file(session, parsed, origin="user", now=now or utcnow())
    return get(db, parsed.slug)


def edit(db: Database, slug: str, text: str, *, now: datetime | None = None) -> ConceptInfo:
    """Replace a concept with the edited concept-format ``text`` (same slug).

    Editing a pack concept marks it as the user's own copy: later pack syncs
    leave it alone, and the pack's file is never written.

    Raises:
        NotFoundError, ConceptFormatError, InvalidInputError (slug changed).
    """
    parsed = parse_concept(text, f"<{slug}>")
    if parsed.slug != slug:
        raise InvalidInputError(
            f"the slug cannot change when editing ({slug!r} -> {parsed.slug!r})"
        )
    with db.write() as session:
        _load(session, slug)
        apply_file(session, parsed, origin="user", now=now or utcnow(), user_edit=True)
    return get(db, slug)


def set_demo_code(db: Database, slug: str, code: str, *, now: datetime | None = None) -> None:
    """Store the user's own demo code for a concept.

    A pack concept becomes the user's copy. An imported concept becomes the
    user's own: code the user wrote (or saved after reading it) is trusted.
    """
    with db.write() as session:
        concept = _load(session, slug)
        concept.demo_code = code
        if concept.origin == "pack":
            concept.user_modified = True
        elif concept.origin == "import":
            concept.origin = "user"
        concept.updated_at = now or utcnow()


def revert_to_pack(db: Database, slug: str, *, now: datetime | None = None) -> ConceptInfo:
    """Drop the user's edits of a pack concept and take the pack's version again.

    Cards keep their schedules and history (they are matched by key).

    Raises:
        NotFoundError: unknown slug.
        InvalidInputError: the concept is not from the pack, or the pack no longer has it.
    """
    from studylog.content.concept_file import parse_concept
    from studylog.paths import content_dir

    path = content_dir() / "concepts" / f"{slug}.md"
    with db.write() as session:
        concept = _load(session, slug)
        if concept.origin != "pack":
            raise InvalidInputError(
                f"{slug!r} is not a pack concept; there is nothing to revert to"
            )
        if not path.is_file():
            raise InvalidInputError(f"the pack no longer has {slug!r}")
        parsed = parse_concept(path.read_text(encoding="utf-8"), str(path))
        concept.user_modified = False
        concept.demo_code = None
        apply_file(session, parsed, origin="pack", now=now or utcnow())
    return get(db, slug)


def get(db: Database, slug: str) -> ConceptInfo:
    """A concept with its cards. Raises NotFoundError."""
    with db.read() as session:
        c = _load(session, slug)
        cards = session.scalars(select(Card).where(Card.concept_id == c.id).order_by(Card.id))
        exercises, computed = specs_of(c)
        return ConceptInfo(
            slug=c.slug,
            title=c.title,
            aliases=list(c.aliases),
            tags=sorted(t.name for t in c.tags),
            body=c.body,
            sources=list(c.sources),
            related=list(c.related),
            demo=c.demo,
            demo_code=c.demo_code,
            origin=c.origin,
            user_modified=c.user_modified,
            cards=[card_service.info(card) for card in cards],
            exercises=exercises,
            computed=computed,
        )


def list_concepts(db: Database, *, tag: str | None = None) -> list[ConceptSummary]:
    """All concepts by title, optionally only those with ``tag``."""
    with db.read() as session:
        counts = dict(
            session.execute(
                select(Card.concept_id, func.count(Card.id))
                .where(Card.concept_id.is_not(None))
                .group_by(Card.concept_id)
            ).all()
        )
        query = select(Concept).order_by(func.lower(Concept.title))
        if tag:
            query = query.join(concept_tags).join(Tag).where(Tag.name == tag.lstrip("#"))
        return [
            ConceptSummary(
                slug=c.slug,
                title=c.title,
                aliases=list(c.aliases),
                tags=sorted(t.name for t in c.tags),
                origin=c.origin,
                user_modified=c.user_modified,
                demo=c.demo,
                has_demo=bool(c.demo or c.demo_code),
                card_count=counts.get(c.id, 0),
            )
            for c in session.scalars(query)
        ]


def resolve(db: Database, name: str) -> str | None:
    """The slug for a ``[[link]]`` target: a slug, a title or an alias (Korean too)."""
    wanted = name.strip().lower()
    with db.read() as session:
        for slug, title, aliases in session.execute(
            select(Concept.slug, Concept.title, Concept.aliases)
        ):
            if wanted in (slug, title.lower()) or wanted in (a.lower() for a in aliases):
                return slug
    return None


def to_markdown(info: ConceptInfo) -> str:
    """Write a concept back in the concept file format (for editing and export)."""
    meta: dict[str, object] = {"slug": info.slug, "title": info.title}
    for key in ("aliases", "tags", "sources", "related"):
        value = getattr(info, key)
        if value:
            meta[key] = value
    if info.demo:
        meta["demo"] = info.demo
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    parts = [f"---\n{front}\n---", info.body.strip()]
    blocks = []
    seen: set[str] = set()
    for card in info.cards:
        key = _card_key(card)
        if key is None or key in seen or card.kind in (EXERCISE_KIND, COMPUTED_KIND):
            continue
        seen.add(key)
        if card.kind == "cloze":
            back = f"\n\n---\n\n{card.back}" if card.back.strip() else ""
            blocks.append(f"::: cloze {key}\n{card.front}{back}\n:::")
        else:
            blocks.append(f"::: card {key}\n{card.front}\n\n---\n\n{card.back}\n:::")
    blocks += [c.to_markdown() for c in info.computed]
    blocks += [e.to_markdown() for e in info.exercises]
    if blocks:
        parts.append("## Cards\n\n" + "\n\n".join(blocks))
    return "\n\n".join(p for p in parts if p) + "\n"


def _card_key(card: card_service.CardInfo) -> str | None:
    """The key of a card in its concept file, or None for a card added outside the file."""
    if not card.pack_key:
        return None
    return card.pack_key.split("/")[1]


def template(slug: str, title: str) -> str:
    """A new concept in the file format, for ``concept add`` to open in the editor."""
    if not slug:
        raise InvalidInputError("a concept needs a slug")
    return (
        f"---\nslug: {slug}\ntitle: {title or slug}\naliases: []\ntags: []\nsources: []\n---\n\n"
        f"# {title or slug}\n\nWhat it is, in your own words.\n\n## Cards\n\n"
        "::: card first-question\nA question?\n\n---\n\nIts answer.\n:::\n"
    )
