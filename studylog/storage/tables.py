"""The core tables as SQLAlchemy Core ``Table`` objects: journal, TODOs, concepts, cards, reviews.

:mod:`studylog.storage.models` maps its ORM classes onto these tables
(declarative with ``__table__``), so the schema is written once. They live
here, apart from the models, so that reads that need no ORM (``studylog
today``: the day's counts, entries and TODOs, the settings) can be Core
selects that never import ``sqlalchemy.orm`` (~0.1 s of a cold start with
the mapped classes and their configuration).

Times are aware UTC (:class:`UTCDateTime`); study days are plain dates. The
schema itself is created by the Alembic migrations in ``db/``; these tables
must match them (tests/test_migrations.py compares them). The other tables
(demo results, imports, exercise attempts, graves) are declared on the same
:data:`metadata` by their own modules.
"""

from __future__ import annotations

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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from studylog.storage.types import MillisecondUTCDateTime, UTCDateTime

metadata = MetaData()
"""Every studylog table (``Base.metadata`` of the models is this object)."""

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
)

card_tags = Table(
    "card_tags",
    metadata,
    Column("card_id", ForeignKey("cards.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)

concept_tags = Table(
    "concept_tags",
    metadata,
    Column("concept_id", ForeignKey("concepts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", Date, nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

todos = Table(
    "todos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("origin_day", Date, nullable=False, index=True),
    Column("due_day", Date),
    Column("done_at", UTCDateTime),
    Column("position", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_todos_open", "done_at", "origin_day"),
)

concepts = Table(
    "concepts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("title", String(300), nullable=False),
    Column("aliases", JSON, nullable=False, default=list),
    Column("body", Text, nullable=False, default=""),
    Column("sources", JSON, nullable=False, default=list),
    Column("related", JSON, nullable=False, default=list),
    Column("demo", String(300)),
    Column("demo_code", Text),
    Column("origin", String(20), nullable=False, default="user"),
    Column("content_hash", String(64)),
    Column("user_modified", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The concept file's exercises and computed-card templates (migration 0007), as
    # JSON lists of their specs (ExerciseSpec.to_json, ComputedSpec.to_json); None
    # for a concept applied before 0007 (the pack's file then gives them).
    Column("exercises", JSON),
    Column("computed", JSON),
)

DECK_COUNT_COLUMNS = ("deck", "suspended", "state", "last_review", "due", "buried_until")
"""The columns of ``ix_cards_deck`` and ``ix_cards_no_text``: every column the deck
list's counts test (:mod:`studylog.storage.deck_rows`)."""

cards = Table(
    "cards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("concept_id", Integer, ForeignKey("concepts.id", ondelete="SET NULL"), index=True),
    Column("front", Text, nullable=False),
    Column("back", Text, nullable=False, default=""),
    Column("kind", String(10), nullable=False, default="basic"),
    Column("cloze_ord", Integer),
    Column("deck", String(200), nullable=False, default="Default"),
    Column("external_id", String(200), index=True),
    Column("pack_key", String(300)),
    Column("origin", String(20), nullable=False, default="user"),
    Column("state", Integer, nullable=False, default=1),
    Column("step", Integer, default=0),
    Column("stability", Float),
    Column("difficulty", Float),
    Column("due", MillisecondUTCDateTime, nullable=False),
    Column("last_review", MillisecondUTCDateTime),
    # Integer twins (epoch ms) for bulk reads; nullable only because SQLite cannot
    # add a NOT NULL column without a default to a table with rows.
    Column("due_ms", BigInteger),
    Column("last_review_ms", BigInteger),
    Column("reps", Integer, nullable=False, default=0),
    Column("lapses", Integer, nullable=False, default=0),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("buried_until", Date),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_cards_due", "suspended", "due", "last_review", "buried_until"),
    # Per-deck counts in one pass over an index; the partial one holds only the
    # cards without text (review-log cards), which counts subtract (migration 0005).
    Index("ix_cards_deck", *DECK_COUNT_COLUMNS),
    # Partial on both backends (migration 0005 makes it so; the schema is made by the
    # migrations, never from these tables). Only SQLite's predicate is declared here:
    # a ``postgresql_*`` option makes SQLAlchemy import its PostgreSQL dialects (asyncpg,
    # psycopg, ...) when this module loads, on every start (~25 ms), and Alembic's
    # model/schema comparison does not compare index predicates.
    Index("ix_cards_no_text", *DECK_COUNT_COLUMNS, sqlite_where=text("front = ''")),
    UniqueConstraint("pack_key", name="uq_cards_pack_key"),
    # Ids are never reused (revision 0011): a deleted card's reviews stay in
    # ``reviews``, and a new card given its id would inherit them.
    sqlite_autoincrement=True,
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    # No foreign key (revision 0011): a deleted card's history stays, as Anki's revlog;
    # readers that count only existing cards join ``cards``.
    Column("card_id", Integer, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("reviewed_at", MillisecondUTCDateTime, nullable=False),
    Column("reviewed_at_ms", BigInteger),
    Column("duration_ms", Integer),
    Column("state_before", Integer, nullable=False),
    Column("step_before", Integer),
    Column("stability_before", Float),
    Column("difficulty_before", Float),
    Column("due_before", MillisecondUTCDateTime),
    Column("last_review_before", MillisecondUTCDateTime),
    Column("due_before_ms", BigInteger),
    Column("last_review_before_ms", BigInteger),
    Column("state_after", Integer, nullable=False),
    Column("step_after", Integer),
    Column("stability_after", Float),
    Column("difficulty_after", Float),
    Column("due_after", MillisecondUTCDateTime),
    Column("interval_days", Float),
    Index("ix_reviews_card_time", "card_id", "reviewed_at"),
    # Time ranges and the log's order use the integer twin; the text time has no
    # index of its own (revision 0008: one index page less per answer).
    Index("ix_reviews_reviewed_at_ms", "reviewed_at_ms"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=True),
)

undo_data = Table(
    "undo_data",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
