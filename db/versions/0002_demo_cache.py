"""Demo result cache and approved (trusted) imported demo code.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demo_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("concept_slug", sa.String(200), index=True),
        sa.Column("source_path", sa.Text),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("python_version", sa.String(40), nullable=False),
        sa.Column("numpy_version", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("traceback", sa.Text),
        sa.Column("limit_hit", sa.String(20)),
        sa.Column("truncated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("ran_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "trusted_code",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("approved_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trusted_code")
    op.drop_table("demo_results")
