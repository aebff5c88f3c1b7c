"""Concepts keep their exercises and computed-card templates (JSON lists of specs).

So that a concept of the learner's own (or an edited copy of a pack concept)
has its exercises and computed cards, and editing it writes them back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("concepts", sa.Column("exercises", sa.JSON, nullable=True))
    op.add_column("concepts", sa.Column("computed", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("concepts") as batch:
        batch.drop_column("computed")
        batch.drop_column("exercises")
