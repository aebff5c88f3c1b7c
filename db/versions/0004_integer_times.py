"""Integer times: epoch-millisecond twins of the card and review times, for bulk work.

Statistics, the whole-collection replay and the FSRS optimizer read a million
review times; decoding the datetime text for that cost most of their time.
This revision adds an integer twin (milliseconds since the Unix epoch, UTC,
floored) beside each time those paths read, fills it from the text, and
indexes the review time (see ``studylog/storage/times.py`` for the rule that
keeps them in step).

The text is decoded here once, by position: SQLAlchemy writes SQLite
datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff`` (rows written by hand may lack the
fraction, which then counts as zero). The columns are nullable because SQLite
cannot add a NOT NULL column without a default to a table that has rows, and
rebuilding ``cards`` would fire its ON DELETE CASCADE foreign keys.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TWINS = {
    "cards": {"due": "due_ms", "last_review": "last_review_ms"},
    "reviews": {
        "reviewed_at": "reviewed_at_ms",
        "due_before": "due_before_ms",
        "last_review_before": "last_review_before_ms",
    },
}


def _ms_of(column: str) -> str:
    """SQL: the datetime text in ``column`` as floored epoch milliseconds (NULL stays NULL).

    On PostgreSQL the column is a ``timestamp`` (naive UTC): its epoch seconds, floored.
    """
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(floor(extract(epoch FROM {column}) * 1000) AS BIGINT)"
    return (
        f"(unixepoch(substr({column}, 1, 19)) * 1000 "
        f"+ CAST(substr({column} || '.000', 21, 3) AS INTEGER))"
    )


def upgrade() -> None:
    for table, twins in TWINS.items():
        for twin in twins.values():
            op.add_column(table, sa.Column(twin, sa.BigInteger))
        sets = ", ".join(f"{twin} = {_ms_of(column)}" for column, twin in twins.items())
        # One pass per table; the FTS triggers on cards fire only for front/back.
        op.execute(f"UPDATE {table} SET {sets}")
    op.create_index("ix_reviews_reviewed_at_ms", "reviews", ["reviewed_at_ms"])


def downgrade() -> None:
    op.drop_index("ix_reviews_reviewed_at_ms", "reviews")
    # SQLite's own DROP COLUMN (3.35+), not a batch copy: copying cards would
    # fire the ON DELETE CASCADE of reviews and tags.
    for table, twins in TWINS.items():
        for twin in twins.values():
            op.drop_column(table, twin)
