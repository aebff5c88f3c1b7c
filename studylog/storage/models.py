"""The SQLAlchemy 2.x models: journal, TODOs, concepts, cards with FSRS state, the review log.

Times are aware UTC (:class:`UTCDateTime`); study days are plain dates computed
by :mod:`studylog.studyday`. The schema itself is created by the Alembic
migrations in ``db/``; these models must match them (a test checks that).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from studylog.storage.times import TWINS, floor_ms, to_ms
from studylog.storage.types import MillisecondUTCDateTime, UTCDateTime


class Base(DeclarativeBase):
    pass


card_tags = Table(
    "card_tags",
    Base.metadata,
    Column("card_id", ForeignKey("cards.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)

concept_tags = Table(
    "concept_tags",
    Base.metadata,
    Column("concept_id", ForeignKey("concepts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(Base):
    """A tag on cards and concepts (``leech`` is set by the scheduler)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class JournalEntry(Base):
    """One journal entry of a study day; a day may have several."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Todo(Base):
    """A TODO item. It belongs to its origin day and shows in later days until done."""

    __tablename__ = "todos"
    __table_args__ = (Index("ix_todos_open", "done_at", "origin_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    origin_day: Mapped[date] = mapped_column(Date, index=True)
    due_day: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Concept(Base):
    """A deep-learning concept: explanation, aliases (Korean terms too), demo and cards.

    ``origin`` is ``pack`` (synced from ``content/``), ``user`` or ``import``.
    A pack concept the user edits gets ``user_modified`` set and is never
    overwritten by a later sync.
    """

    __tablename__ = "concepts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    related: Mapped[list[str]] = mapped_column(JSON, default=list)
    demo: Mapped[str | None] = mapped_column(String(300))
    demo_code: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20), default="user")
    content_hash: Mapped[str | None] = mapped_column(String(64))
    user_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The concept file's exercises and computed-card templates (migration 0007), as
    # JSON lists of their specs (ExerciseSpec.to_json, ComputedSpec.to_json); None
    # for a concept applied before 0007 (the pack's file then gives them).
    exercises: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    computed: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    tags: Mapped[list[Tag]] = relationship(secondary=concept_tags, lazy="selectin")
    cards: Mapped[list[Card]] = relationship(back_populates="concept")


_DECK_COUNT_COLUMNS = ("deck", "suspended", "state", "last_review", "due", "buried_until")


class Card(Base):
    """A flashcard with its FSRS memory state stored as columns.

    ``state`` follows :class:`fsrs.State` (1 Learning, 2 Review, 3 Relearning);
    a card never reviewed has ``last_review`` NULL and counts as *new*.
    ``stability`` is in days, ``difficulty`` in [1, 10], ``due`` and
    ``last_review`` are aware UTC, stored to the millisecond with integer twins
    ``due_ms``/``last_review_ms`` (epoch ms, :mod:`studylog.storage.times`).
    ``buried_until`` is the study day on which a buried card comes back.
    """

    __tablename__ = "cards"
    __table_args__ = (
        Index("ix_cards_due", "suspended", "due", "last_review", "buried_until"),
        # Per-deck counts in one pass over an index; the partial one holds only the
        # cards without text (review-log cards), which counts subtract (migration 0005).
        Index("ix_cards_deck", *_DECK_COUNT_COLUMNS),
        # Partial on both backends (migration 0005 makes it so; the schema is made by the
        # migrations, never from these models). Only SQLite's predicate is declared here:
        # a ``postgresql_*`` option makes SQLAlchemy import its PostgreSQL dialects (asyncpg,
        # psycopg, ...) when this module loads, on every start (~25 ms), and Alembic's
        # model/schema comparison does not compare index predicates.
        Index("ix_cards_no_text", *_DECK_COUNT_COLUMNS, sqlite_where=text("front = ''")),
        UniqueConstraint("pack_key", name="uq_cards_pack_key"),
        # Ids are never reused (revision 0011): a deleted card's reviews stay in
        # ``reviews``, and a new card given its id would inherit them.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    concept_id: Mapped[int | None] = mapped_column(
        ForeignKey("concepts.id", ondelete="SET NULL"), index=True
    )
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10), default="basic")
    cloze_ord: Mapped[int | None] = mapped_column(Integer)
    deck: Mapped[str] = mapped_column(String(200), default="Default")
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    pack_key: Mapped[str | None] = mapped_column(String(300))
    origin: Mapped[str] = mapped_column(String(20), default="user")

    state: Mapped[int] = mapped_column(Integer, default=1)
    step: Mapped[int | None] = mapped_column(Integer, default=0)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(MillisecondUTCDateTime)
    last_review: Mapped[datetime | None] = mapped_column(MillisecondUTCDateTime)
    # Integer twins (epoch ms) for bulk reads; nullable only because SQLite cannot
    # add a NOT NULL column without a default to a table with rows.
    due_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_review_ms: Mapped[int | None] = mapped_column(BigInteger)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_until: Mapped[date | None] = mapped_column(Date)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

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

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_card_time", "card_id", "reviewed_at"),
        # Time ranges and the log's order use the integer twin; the text time has no
        # index of its own (revision 0008: one index page less per answer).
        Index("ix_reviews_reviewed_at_ms", "reviewed_at_ms"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key (revision 0011): a deleted card's history stays, as Anki's revlog;
    # readers that count only existing cards join ``cards``.
    card_id: Mapped[int] = mapped_column(Integer)
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(MillisecondUTCDateTime)
    reviewed_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    state_before: Mapped[int] = mapped_column(Integer)
    step_before: Mapped[int | None] = mapped_column(Integer)
    stability_before: Mapped[float | None] = mapped_column(Float)
    difficulty_before: Mapped[float | None] = mapped_column(Float)
    due_before: Mapped[datetime | None] = mapped_column(MillisecondUTCDateTime)
    last_review_before: Mapped[datetime | None] = mapped_column(MillisecondUTCDateTime)
    due_before_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_review_before_ms: Mapped[int | None] = mapped_column(BigInteger)

    state_after: Mapped[int] = mapped_column(Integer)
    step_after: Mapped[int | None] = mapped_column(Integer)
    stability_after: Mapped[float | None] = mapped_column(Float)
    difficulty_after: Mapped[float | None] = mapped_column(Float)
    due_after: Mapped[datetime | None] = mapped_column(MillisecondUTCDateTime)
    interval_days: Mapped[float | None] = mapped_column(Float)


class Setting(Base):
    """Collection settings as JSON values (desired retention, limits, day start hour...)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class UndoData(Base):
    """The arrays of an undo snapshot as bytes, by key (revision 0012).

    A NumPy archive (``np.savez``) per key: :mod:`studylog.storage.undo_data`.
    Kept out of ``settings`` so that a reschedule neither base64-encodes nor
    reads back megabytes of JSON.
    """

    __tablename__ = "undo_data"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


def _keep_twin_in_step(model: type[Base], column: str, twin: str) -> None:
    """Whenever the ORM assigns ``column``, store it to the millisecond and set ``twin``."""

    @event.listens_for(getattr(model, column), "set", retval=True)
    def _set(target: Base, value: datetime | None, _old: object, _initiator: object):  # noqa: ANN202
        setattr(target, twin, to_ms(value))
        return floor_ms(value)


for _model in (Card, Review):
    for _column, _twin in TWINS[_model.__tablename__].items():
        _keep_twin_in_step(_model, _column, _twin)
