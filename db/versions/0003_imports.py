"""Imports: records of imported content (for idempotent re-imports) and suggested cards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("target_id", sa.Integer, index=True),
        sa.Column("ref", sa.String(200)),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("kind", "key", name="uq_import_records_kind_key"),
    )
    op.create_table(
        "suggested_cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("front", sa.Text, nullable=False),
        sa.Column("back", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("deck", sa.String(200), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("rule", sa.String(30), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("line", sa.Integer),
        sa.Column("day", sa.Date),
        sa.Column(
            "entry_id",
            sa.Integer,
            sa.ForeignKey(
                "journal_entries.id", ondelete="SET NULL", name="fk_suggested_cards_entry"
            ),
        ),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "card_id",
            sa.Integer,
            sa.ForeignKey("cards.id", ondelete="SET NULL", name="fk_suggested_cards_card"),
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("decided_at", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("suggested_cards")
    op.drop_table("import_records")
