"""Exercise attempts: the learner's code, the check's result and when it ran.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exercise_id", sa.String(300), nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("attempted_at", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_exercise_attempts_exercise_time",
        "exercise_attempts",
        ["exercise_id", "attempted_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_exercise_attempts_exercise_time", table_name="exercise_attempts")
    op.drop_table("exercise_attempts")
