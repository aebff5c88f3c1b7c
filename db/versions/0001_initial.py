"""The initial schema: journal, TODOs, tags, concepts, cards, reviews, settings, search index.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The search index is one FTS5 table over four sources. Its rowid encodes the
# source so that triggers can update a row by rowid (an indexed lookup) instead
# of scanning: rowid = id * 8 + kind code.
KINDS = {"entry": 1, "todo": 2, "card": 3, "concept": 4}

# (table, kind, title expression, body expression, indexed columns) of each source.
SOURCES = (
    ("journal_entries", "entry", "''", "{r}.body", "body"),
    ("todos", "todo", "''", "{r}.text", "text"),
    ("cards", "card", "{r}.front", "{r}.back", "front, back"),
    (
        "concepts",
        "concept",
        "{r}.title || ' ' || {r}.slug || ' ' || {r}.aliases",
        "{r}.body",
        "title, slug, aliases, body",
    ),
)


def _index_triggers(
    table: str, kind: str, title_sql: str, body_sql: str, columns: str
) -> list[str]:
    """Triggers keeping the index current. The update trigger fires only when an
    indexed column changes (``columns``): a card's scheduling writes (every answer,
    a whole-collection reschedule) must not rewrite its index row."""
    code = KINDS[kind]

    def values(row: str) -> str:
        title = title_sql.replace("{r}", row)
        body = body_sql.replace("{r}", row)
        return f"({row}.id * 8 + {code}, '{kind}', {row}.id, {title}, {body})"

    insert = "INSERT INTO search_index(rowid, kind, ref_id, title, body) VALUES "
    return [
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN {insert}{values('new')}; END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM search_index WHERE rowid = old.id * 8 + {code}; END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF {columns} ON {table} BEGIN "
        f"DELETE FROM search_index WHERE rowid = old.id * 8 + {code}; {insert}{values('new')}; END",
    ]


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "todos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("origin_day", sa.Date, nullable=False, index=True),
        sa.Column("due_day", sa.Date),
        sa.Column("done_at", sa.DateTime),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_todos_open", "todos", ["done_at", "origin_day"])
    op.create_table(
        "concepts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(200), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("related", sa.JSON, nullable=False),
        sa.Column("demo", sa.String(300)),
        sa.Column("demo_code", sa.Text),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("user_modified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "concept_id",
            sa.Integer,
            sa.ForeignKey("concepts.id", ondelete="SET NULL", name="fk_cards_concept"),
            index=True,
        ),
        sa.Column("front", sa.Text, nullable=False),
        sa.Column("back", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("cloze_ord", sa.Integer),
        sa.Column("deck", sa.String(200), nullable=False),
        sa.Column("external_id", sa.String(200), index=True),
        sa.Column("pack_key", sa.String(300)),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("state", sa.Integer, nullable=False),
        sa.Column("step", sa.Integer),
        sa.Column("stability", sa.Float),
        sa.Column("difficulty", sa.Float),
        sa.Column("due", sa.DateTime, nullable=False),
        sa.Column("last_review", sa.DateTime),
        sa.Column("reps", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lapses", sa.Integer, nullable=False, server_default="0"),
        sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("buried_until", sa.Date),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("pack_key", name="uq_cards_pack_key"),
    )
    # Covers the due counts of the Today view and the review queue (no row lookups).
    op.create_index("ix_cards_due", "cards", ["suspended", "due", "last_review", "buried_until"])
    op.create_table(
        "card_tags",
        sa.Column(
            "card_id",
            sa.Integer,
            sa.ForeignKey("cards.id", ondelete="CASCADE", name="fk_card_tags_card"),
            primary_key=True,
        ),
        sa.Column(
            "tag_id",
            sa.Integer,
            sa.ForeignKey("tags.id", ondelete="CASCADE", name="fk_card_tags_tag"),
            primary_key=True,
        ),
    )
    op.create_table(
        "concept_tags",
        sa.Column(
            "concept_id",
            sa.Integer,
            sa.ForeignKey("concepts.id", ondelete="CASCADE", name="fk_concept_tags_concept"),
            primary_key=True,
        ),
        sa.Column(
            "tag_id",
            sa.Integer,
            sa.ForeignKey("tags.id", ondelete="CASCADE", name="fk_concept_tags_tag"),
            primary_key=True,
        ),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "card_id",
            sa.Integer,
            sa.ForeignKey("cards.id", ondelete="CASCADE", name="fk_reviews_card"),
            nullable=False,
        ),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("reviewed_at", sa.DateTime, nullable=False, index=True),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("state_before", sa.Integer, nullable=False),
        sa.Column("step_before", sa.Integer),
        sa.Column("stability_before", sa.Float),
        sa.Column("difficulty_before", sa.Float),
        sa.Column("due_before", sa.DateTime),
        sa.Column("last_review_before", sa.DateTime),
        sa.Column("state_after", sa.Integer, nullable=False),
        sa.Column("step_after", sa.Integer),
        sa.Column("stability_after", sa.Float),
        sa.Column("difficulty_after", sa.Float),
        sa.Column("due_after", sa.DateTime),
        sa.Column("interval_days", sa.Float),
    )
    op.create_index("ix_reviews_card_time", "reviews", ["card_id", "reviewed_at"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.JSON),
    )

    if op.get_bind().dialect.name == "postgresql":
        _postgres_search_index()
        return
    op.execute(
        "CREATE VIRTUAL TABLE search_index USING fts5("
        "kind UNINDEXED, ref_id UNINDEXED, title, body, tokenize = 'trigram')"
    )
    for table, kind, title, body, columns in SOURCES:
        for statement in _index_triggers(table, kind, title, body, columns):
            op.execute(statement)


def _postgres_search_index() -> None:
    """PostgreSQL's counterpart of the FTS5 trigram index: a plain table with the same
    columns (``rowid`` = id * 8 + kind code), GIN ``pg_trgm`` indexes on title and body
    (substring search, ``ILIKE``), and one PL/pgSQL trigger per source table that keeps
    it current, firing on updates only when an indexed column changes (as on SQLite).

    A bulk insert can set ``studylog.defer_search_index`` to ``on`` for its
    transaction (``SET LOCAL``): the insert trigger then skips its row and the
    caller indexes the new rows in one statement (``storage/search_index.py``).
    """
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE TABLE search_index (rowid BIGINT PRIMARY KEY, kind TEXT NOT NULL, "
        "ref_id BIGINT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX ix_search_index_title ON search_index USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX ix_search_index_body ON search_index USING gin (body gin_trgm_ops)")
    for table, kind, title_sql, body_sql, columns in SOURCES:
        code = KINDS[kind]
        # json::text: the concepts' aliases are JSON, stored as written (Korean unescaped).
        title = title_sql.replace("{r}.aliases", "{r}.aliases::text").replace("{r}", "NEW")
        body = body_sql.replace("{r}", "NEW")
        op.execute(
            f"""CREATE FUNCTION {table}_search_index() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    DELETE FROM search_index WHERE rowid = OLD.id * 8 + {code};
  END IF;
  IF TG_OP = 'UPDATE' OR (TG_OP = 'INSERT'
      AND coalesce(current_setting('studylog.defer_search_index', true), '') <> 'on') THEN
    INSERT INTO search_index (rowid, kind, ref_id, title, body)
    VALUES (NEW.id * 8 + {code}, '{kind}', NEW.id, {title}, {body});
  END IF;
  RETURN NULL;
END $$"""
        )
        op.execute(
            f"CREATE TRIGGER {table}_search_index AFTER INSERT OR DELETE OR UPDATE OF {columns} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_search_index()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, *_ in SOURCES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_search_index ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_search_index()")
    for table in ("journal_entries", "todos", "cards", "concepts"):
        for suffix in ("ai", "ad", "au"):
            if op.get_bind().dialect.name == "sqlite":
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
    op.execute("DROP TABLE IF EXISTS search_index")
    for table in (
        "settings",
        "reviews",
        "concept_tags",
        "card_tags",
        "cards",
        "concepts",
        "todos",
        "journal_entries",
        "tags",
    ):
        op.drop_table(table)
