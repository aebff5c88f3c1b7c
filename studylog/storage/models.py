"""The SQLAlchemy 2.x models: journal, TODOs, concepts, cards with FSRS state, the review log.

Each class is mapped onto its Core table of :mod:`studylog.storage.tables`
(declarative with ``__table__``): the columns, their types, defaults and
indexes are declared there once; the annotations here type the attributes.
Times are aware UTC (:class:`studylog.storage.types.UTCDateTime`); study days
are plain dates computed by :mod:`studylog.studyday`. The schema itself is
created by the Alembic migrations in ``db/``; the tables must match them (a
test checks that).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from studylog.storage import tables
from studylog.storage.tables import card_tags, concept_tags
from studylog.storage.times import TWINS, floor_ms, to_ms


class Base(DeclarativeBase):
    # One MetaData for the Core tables and the declarative models (Alembic's
    # comparison and ``db copy`` see every table through ``Base.metadata``).
    metadata = tables.metadata


class Tag(Base):
    """A tag on cards and concepts (``leech`` is set by the scheduler)."""

    __table__ = tables.tags
    __tablename__ = tables.tags.name  # each model still names its table, as before

    id: Mapped[int]
    name: Mapped[str]


class JournalEntry(Base):
    """One journal entry of a study day; a day may have several."""

    __table__ = tables.journal_entries
    __tablename__ = tables.journal_entries.name

    id: Mapped[int]
    day: Mapped[date]
    body: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Todo(Base):
    """A TODO item. It belongs to its origin day and shows in later days until done."""

    __table__ = tables.todos
    __tablename__ = tables.todos.name

    id: Mapped[int]
    text: Mapped[str]
    origin_day: Mapped[date]
    due_day: Mapped[date | None]
    done_at: Mapped[datetime | None]
    position: Mapped[int]
    created_at: Mapped[datetime]


class Concept(Base):
    """A deep-learning concept: explanation, aliases (Korean terms too), demo and cards.

    ``origin`` is ``pack`` (synced from ``content/``), ``user`` or ``import``.
    A pack concept the user edits gets ``user_modified`` set and is never
    overwritten by a later sync.
    """

    __table__ = tables.concepts
    __tablename__ = tables.concepts.name

    id: Mapped[int]
    slug: Mapped[str]
    title: Mapped[str]
    aliases: Mapped[list[str]]
    body: Mapped[str]
    sources: Mapped[list[str]]
    related: Mapped[list[str]]
    demo: Mapped[str | None]
    demo_code: Mapped[str | None]
    origin: Mapped[str]
    content_hash: Mapped[str | None]
    user_modified: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The concept file's exercises and computed-card templates (migration 0007), as
    # JSON lists of their specs; None for a concept applied before 0007.
    exercises: Mapped[list[dict[str, Any]] | None]
    computed: Mapped[list[dict[str, Any]] | None]

    tags: Mapped[list[Tag]] = relationship(secondary=concept_tags, lazy="selectin")
    cards: Mapped[list[Card]] = relationship(back_populates="concept")


class Card(Base):
    """A flashcard with its FSRS memory state stored as columns.

    ``state`` follows :class:`fsrs.State` (1 Learning, 2 Review, 3 Relearning);
    a card never reviewed has ``last_review`` NULL and counts as *new*.
    ``stability`` is in days, ``difficulty`` in [1, 10], ``due`` and
    ``last_review`` are aware UTC, stored to the millisecond with integer twins
    ``due_ms``/``last_review_ms`` (epoch ms, :mod:`studylog.storage.times`).
    ``buried_until`` is the study day on which a buried card comes back.
    """

    __table__ = tables.cards
    __tablename__ = tables.cards.name

    id: Mapped[int]
    concept_id: Mapped[int | None]
    front: Mapped[str]
    back: Mapped[str]
    kind: Mapped[str]
    cloze_ord: Mapped[int | None]
    deck: Mapped[str]
    external_id: Mapped[str | None]
    pack_key: Mapped[str | None]
    origin: Mapped[str]

    state: Mapped[int]
    step: Mapped[int | None]
    stability: Mapped[float | None]
    difficulty: Mapped[float | None]
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    due_ms: Mapped[int | None]
    last_review_ms: Mapped[int | None]
    reps: Mapped[int]
    lapses: Mapped[int]
    suspended: Mapped[bool]
    buried_until: Mapped[date | None]

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    concept: Mapped[Concept | None] = relationship(back_populates="cards")
    tags: Mapped[list[Tag]] = relationship(secondary=card_tags, lazy="selectin")

    @property
    def is_new(self) -> bool:
        return self.last_review is None


class Review(Base):
    """One answer, append-only: the rating and the card's state before and after.

    The row outlives its card: deleting a card leaves its reviews (``card_id``
    then names no card until an undo brings the card back).

    ``duration_ms`` is the answer time in milliseconds; ``interval_days`` the
    interval scheduled by this answer (due_after - reviewed_at) in days. The
    *before* columns hold everything needed to undo the answer exactly. Times
    are stored to the millisecond; ``reviewed_at``, ``due_before`` and
    ``last_review_before`` have integer twins (epoch ms) for bulk reads.
    """

    __table__ = tables.reviews
    __tablename__ = tables.reviews.name

    id: Mapped[int]
    card_id: Mapped[int]
    rating: Mapped[int]
    reviewed_at: Mapped[datetime]
    reviewed_at_ms: Mapped[int | None]
    duration_ms: Mapped[int | None]

    state_before: Mapped[int]
    step_before: Mapped[int | None]
    stability_before: Mapped[float | None]
    difficulty_before: Mapped[float | None]
    due_before: Mapped[datetime | None]
    last_review_before: Mapped[datetime | None]
    due_before_ms: Mapped[int | None]
    last_review_before_ms: Mapped[int | None]

    state_after: Mapped[int]
    step_after: Mapped[int | None]
    stability_after: Mapped[float | None]
    difficulty_after: Mapped[float | None]
    due_after: Mapped[datetime | None]
    interval_days: Mapped[float | None]


class Setting(Base):
    """Collection settings as JSON values (desired retention, limits, day start hour...)."""

    __table__ = tables.settings
    __tablename__ = tables.settings.name

    key: Mapped[str]
    value: Mapped[Any]


class UndoData(Base):
    """The arrays of an undo snapshot as bytes, by key (revision 0012).

    A NumPy archive (``np.savez``) per key: :mod:`studylog.storage.undo_data`.
    Kept out of ``settings`` so that a reschedule neither base64-encodes nor
    reads back megabytes of JSON.
    """

    __table__ = tables.undo_data
    __tablename__ = tables.undo_data.name

    key: Mapped[str]
    data: Mapped[bytes]


def _keep_twin_in_step(model: type[Base], column: str, twin: str) -> None:
    """Whenever the ORM assigns ``column``, store it to the millisecond and set ``twin``."""

    @event.listens_for(getattr(model, column), "set", retval=True)
    def _set(target: Base, value: datetime | None, _old: object, _initiator: object):  # noqa: ANN202
        setattr(target, twin, to_ms(value))
        return floor_ms(value)


for _model in (Card, Review):
    for _column, _twin in TWINS[_model.__table__.name].items():
        _keep_twin_in_step(_model, _column, _twin)
