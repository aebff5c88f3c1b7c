"""Drop ``ix_reviews_reviewed_at``: the integer twin's index serves the same order.

Every answer inserts a review row, and each index on ``reviews`` is one more
page the commit writes to the WAL (and fsyncs, with ``synchronous=FULL``).
``ix_reviews_reviewed_at`` (the text time) duplicated ``ix_reviews_reviewed_at_ms``
(epoch milliseconds, equal to the text floored to the millisecond, revision 0004):
the queries that ranged over the text time (today's answers, a study day's log,
the per-deck counts, the JSON export's order) now range over the twin, so the
text-time index only cost writes. ``ix_reviews_card_time`` (card, text time)
stays: a card's history in time order reads it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_reviews_reviewed_at", "reviews")


def downgrade() -> None:
    op.create_index("ix_reviews_reviewed_at", "reviews", ["reviewed_at"])
