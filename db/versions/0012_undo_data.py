"""``undo_data``: the undo snapshots' arrays as bytes, out of the JSON settings.

A whole-collection reschedule keeps every card's scheduling columns for its
undo (``services/reschedule.py``), and the replay keeps the state codes of the
review rows it overwrote (``services/review_states.py``). Both were NumPy
archives, base64 text inside a JSON value of ``settings``: on 100,000 cards an
8.7 MB string that every reschedule read back and decoded (loading the old
row to replace it), encoded again, and wrote to the WAL a third bigger than
the bytes: 0.16-0.18 s of issue 13's 1 s "beyond the replay". From this
revision the archives are rows of ``undo_data`` (key, bytes); the small part of
the reschedule's snapshot (label, settings before, the stale marker) stays a
JSON value in ``settings`` under the same key.

The upgrade moves a snapshot saved before it (so the last reschedule can still
be undone); the downgrade moves it back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import base64

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

RESCHEDULE = "undo.reschedule"  # services/reschedule.py: UNDO_KEY (JSON; "cards" moved)
OVERWRITTEN = "reviews.stale_states.undo"  # services/review_states.py: UNDO_KEY (whole value)

_settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
_undo = sa.table("undo_data", sa.column("key", sa.String), sa.column("data", sa.LargeBinary))


def _value(bind: sa.Connection, key: str) -> object:
    return bind.execute(sa.select(_settings.c.value).where(_settings.c.key == key)).scalar()


def upgrade() -> None:
    op.create_table(
        "undo_data",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    bind = op.get_bind()
    snapshot = _value(bind, RESCHEDULE)
    if isinstance(snapshot, dict) and isinstance(snapshot.get("cards"), str):
        data = base64.b64decode(snapshot.pop("cards"))
        bind.execute(sa.insert(_undo).values(key=RESCHEDULE, data=data))
        bind.execute(
            sa.update(_settings).where(_settings.c.key == RESCHEDULE).values(value=snapshot)
        )
    codes = _value(bind, OVERWRITTEN)
    if isinstance(codes, str):
        bind.execute(sa.insert(_undo).values(key=OVERWRITTEN, data=base64.b64decode(codes)))
        bind.execute(sa.delete(_settings).where(_settings.c.key == OVERWRITTEN))


def downgrade() -> None:
    bind = op.get_bind()
    rows = dict(bind.execute(sa.select(_undo.c.key, _undo.c.data)).all())
    snapshot = _value(bind, RESCHEDULE)
    if isinstance(snapshot, dict) and RESCHEDULE in rows:
        snapshot["cards"] = base64.b64encode(rows[RESCHEDULE]).decode("ascii")
        bind.execute(
            sa.update(_settings).where(_settings.c.key == RESCHEDULE).values(value=snapshot)
        )
    if OVERWRITTEN in rows:
        text = base64.b64encode(rows[OVERWRITTEN]).decode("ascii")
        bind.execute(sa.delete(_settings).where(_settings.c.key == OVERWRITTEN))
        bind.execute(sa.insert(_settings).values(key=OVERWRITTEN, value=text))
    op.drop_table("undo_data")
