"""Graveyard tables: deleted cards, their reviews and tag links, kept for undo.

Deleting 10,000 cards used to copy every deleted row into a JSON undo step in
the ``settings`` table, row by row in Python (12 s on 100k cards / 1M reviews).
Now a delete moves the rows with one ``INSERT ... SELECT`` and one ``DELETE``
per table into these tables, tagged with the undo step's ``grave_id``; undo
moves them back the same way (``storage/graves.py``). The tables carry the
source tables' columns without their keys, foreign keys or indexes (only
``grave_id``'s), so a move writes little besides the rows themselves. Rows live
as long as their undo step does (``services/card_actions.py``: the newest
steps of the undo stack; a step pushed off it purges its graves).

Anki for reference: deleting notes records their ids in its ``graves`` table
for sync and keeps the revlog; undo restores the rows.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

# (name, type, nullable) as in the source tables (0001, 0004's integer twins).
CARD_COLUMNS = (
    ("id", sa.Integer, False),
    ("concept_id", sa.Integer, True),
    ("front", sa.Text, False),
    ("back", sa.Text, False),
    ("kind", sa.String(10), False),
    ("cloze_ord", sa.Integer, True),
    ("deck", sa.String(200), False),
    ("external_id", sa.String(200), True),
    ("pack_key", sa.String(300), True),
    ("origin", sa.String(20), False),
    ("state", sa.Integer, False),
    ("step", sa.Integer, True),
    ("stability", sa.Float, True),
    ("difficulty", sa.Float, True),
    ("due", sa.DateTime, False),
    ("last_review", sa.DateTime, True),
    ("due_ms", sa.BigInteger, True),
    ("last_review_ms", sa.BigInteger, True),
    ("reps", sa.Integer, False),
    ("lapses", sa.Integer, False),
    ("suspended", sa.Boolean, False),
    ("buried_until", sa.Date, True),
    ("created_at", sa.DateTime, False),
    ("updated_at", sa.DateTime, False),
)
REVIEW_COLUMNS = (
    ("id", sa.Integer, False),
    ("card_id", sa.Integer, False),
    ("rating", sa.Integer, False),
    ("reviewed_at", sa.DateTime, False),
    ("reviewed_at_ms", sa.BigInteger, True),
    ("duration_ms", sa.Integer, True),
    ("state_before", sa.Integer, False),
    ("step_before", sa.Integer, True),
    ("stability_before", sa.Float, True),
    ("difficulty_before", sa.Float, True),
    ("due_before", sa.DateTime, True),
    ("last_review_before", sa.DateTime, True),
    ("due_before_ms", sa.BigInteger, True),
    ("last_review_before_ms", sa.BigInteger, True),
    ("state_after", sa.Integer, False),
    ("step_after", sa.Integer, True),
    ("stability_after", sa.Float, True),
    ("difficulty_after", sa.Float, True),
    ("due_after", sa.DateTime, True),
    ("interval_days", sa.Float, True),
)
TAG_LINK_COLUMNS = (("card_id", sa.Integer, False), ("tag_id", sa.Integer, False))

TABLES = (
    ("deleted_cards", CARD_COLUMNS),
    ("deleted_reviews", REVIEW_COLUMNS),
    ("deleted_card_tags", TAG_LINK_COLUMNS),
)


def upgrade() -> None:
    for name, columns in TABLES:
        op.create_table(
            name,
            # A surrogate key only so that every row has one (PostgreSQL tools, the
            # ORM); rows are found by grave_id.
            sa.Column("row_id", sa.Integer, primary_key=True),
            sa.Column("grave_id", sa.Integer, nullable=False),
            *(sa.Column(c, t, nullable=n) for c, t, n in columns),
        )
        op.create_index(f"ix_{name}_grave", name, ["grave_id"])


def downgrade() -> None:
    for name, _columns in reversed(TABLES):
        op.drop_index(f"ix_{name}_grave", name)
        op.drop_table(name)
