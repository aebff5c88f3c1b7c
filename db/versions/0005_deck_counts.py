"""Deck counts: covering indexes for per-deck counts and for cards without text.

``ix_cards_deck`` lets the deck list count new, learning and due cards of
every deck in one grouped pass over an index (no table reads: the card rows
hold the text). ``ix_cards_no_text`` is partial (``front = ''``): it holds only
the cards a review log created without text, which stay out of the daily
queue, so the counts can subtract them from that small index instead of
reading every card's front.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = ["deck", "suspended", "state", "last_review", "due", "buried_until"]


def upgrade() -> None:
    op.create_index("ix_cards_deck", "cards", COLUMNS)
    op.create_index(
        "ix_cards_no_text",
        "cards",
        COLUMNS,
        sqlite_where=sa.text("front = ''"),
        postgresql_where=sa.text("front = ''"),
    )


def downgrade() -> None:
    op.drop_index("ix_cards_no_text", "cards")
    op.drop_index("ix_cards_deck", "cards")
