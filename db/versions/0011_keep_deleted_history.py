"""Deleted cards keep their review history in place, as Anki's revlog; card ids are never reused.

Revision 0010 moved a deleted card's reviews into ``deleted_reviews`` and back
on undo: on 100k cards / 1M reviews a delete of 10,000 cards spent 1.6-2.8 s
only deleting their ~100k review rows, spread over the whole table. Anki's
``remove_notes`` deletes cards and notes and leaves their revlog rows where
they are; its statistics and its optimizer read the revlog of cards that exist.
studylog does the same from this revision:

* ``reviews`` loses its foreign key to ``cards`` (``fk_reviews_card``, ON DELETE
  CASCADE): a delete moves only the cards and their tag links into the
  graveyard; the reviews stay, and an undo's restored cards find them by id.
  Readers that must not count a deleted card's history join ``cards``.
* ``cards`` gets AUTOINCREMENT on SQLite: without it SQLite gives a new card
  the largest id + 1, which after deleting the newest cards is the id of a
  deleted card, whose kept history would then attach to the new card.
  ``sqlite_sequence`` starts at the largest card id known anywhere (cards,
  the graveyard, the review log). PostgreSQL's serial sequences never go back
  (``storage/bulk_insert.py`` no longer moves them back either).
* ``deleted_reviews`` is emptied back into ``reviews`` (they are history of
  deleted cards, now kept) and dropped; an undo of a delete made before the
  upgrade restores the cards and their tag links from the graveyard as before,
  and finds the reviews already in place. Review ids taken meanwhile by new
  answers (possible on SQLite) are renumbered: nothing refers to a deleted
  card's review ids.

SQLite rebuilds ``reviews`` and ``cards`` (create, copy, drop, rename; the
12-step procedure of https://sqlite.org/lang_altertable.html#otheralter):
the new tables are the old ones' stored SQL with only the foreign key or the
AUTOINCREMENT changed, and every index and trigger of the old table is
created again from its stored SQL, so the schema is otherwise byte for byte
what it was. The runner turns foreign keys off around migrations
(``storage/migrate.py``): with them on, dropping ``cards`` would first delete
every row of ``card_tags`` (ON DELETE CASCADE). A check at the end makes sure
the rebuild left no dangling reference that was not there before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_REVIEWS_FK = re.compile(
    r",\s*CONSTRAINT fk_reviews_card FOREIGN KEY\s*\(card_id\) REFERENCES \"?cards\"? \(id\) "
    r"ON DELETE CASCADE"
)
# The columns of reviews (0001, 0004's twins) as 0010's graveyard holds them.
REVIEW_COLUMNS = (
    "id, card_id, rating, reviewed_at, reviewed_at_ms, duration_ms, state_before, step_before, "
    "stability_before, difficulty_before, due_before, last_review_before, due_before_ms, "
    "last_review_before_ms, state_after, step_after, stability_after, difficulty_after, "
    "due_after, interval_days"
)
# (name, type, nullable) of those columns, for the downgrade's ``deleted_reviews``.
REVIEW_TYPES = (
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


def _once(pattern: re.Pattern[str], repl: str, sql: str, what: str) -> str:
    """``sql`` with ``pattern`` replaced; it must occur exactly once (else the schema is
    not one this migration knows, and it stops before writing anything)."""
    out, n = pattern.subn(repl, sql)
    if n != 1:
        raise RuntimeError(f"migration 0011: unexpected schema of {what} ({n} matches)")
    return out


def _rebuild_sqlite(table: str, edit) -> None:  # noqa: ANN001 - a str -> str function
    """Rebuild ``table`` from its stored SQL changed by ``edit``, rows, indexes and triggers kept."""
    conn = op.get_bind()
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Dropping the old table would first delete its children's rows (CASCADE).
        raise RuntimeError(
            "migration 0011 rebuilds tables with foreign keys off: run it through "
            "studylog.storage.migrate (upgrade or downgrade)"
        )
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    extras = [
        row[0]
        for row in conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name",
            (table,),
        )
    ]
    created = _once(
        re.compile(rf"^CREATE TABLE \"?{table}\"? \("), f'CREATE TABLE "{table}_new" (', sql, table
    )
    columns = ", ".join(
        f'"{row[1]}"' for row in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')
    )
    conn.exec_driver_sql(edit(created))
    conn.exec_driver_sql(f'INSERT INTO "{table}_new" ({columns}) SELECT {columns} FROM "{table}"')
    conn.exec_driver_sql(f'DROP TABLE "{table}"')  # its indexes and triggers go with it
    conn.exec_driver_sql(f'ALTER TABLE "{table}_new" RENAME TO "{table}"')
    for statement in extras:
        conn.exec_driver_sql(statement)


def _autoincrement(sql: str) -> str:
    sql = _once(
        re.compile(r"\n\tid INTEGER NOT NULL, "),
        "\n\tid INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, ",
        sql,
        "cards",
    )
    return _once(re.compile(r"\n\tPRIMARY KEY \(id\), "), "", sql, "cards")


def _dangling(conn) -> int:  # noqa: ANN001 - sqlalchemy Connection
    """References to missing cards in the tables that have a foreign key to ``cards``."""
    return sum(
        len(conn.exec_driver_sql(f"PRAGMA foreign_key_check({t})").fetchall())
        for t in ("card_tags", "suggested_cards")
    )


def _reviews_back() -> None:
    """The graveyard's reviews back into ``reviews``; ids taken since get new ones."""
    conn = op.get_bind()
    conn.exec_driver_sql(
        "CREATE TEMP TABLE studylog_taken_review_ids AS SELECT g.row_id AS row_id "
        "FROM deleted_reviews g JOIN reviews r ON r.id = g.id"
    )
    conn.exec_driver_sql(
        f"INSERT INTO reviews ({REVIEW_COLUMNS}) SELECT {REVIEW_COLUMNS} FROM deleted_reviews "
        "WHERE row_id NOT IN (SELECT row_id FROM studylog_taken_review_ids)"
    )
    without_id = REVIEW_COLUMNS.removeprefix("id, ")
    conn.exec_driver_sql(
        f"INSERT INTO reviews ({without_id}) SELECT {without_id} FROM deleted_reviews "
        "WHERE row_id IN (SELECT row_id FROM studylog_taken_review_ids) ORDER BY row_id"
    )
    conn.exec_driver_sql("DROP TABLE studylog_taken_review_ids")
    op.drop_index("ix_deleted_reviews_grave", "deleted_reviews")
    op.drop_table("deleted_reviews")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.drop_constraint("fk_reviews_card", "reviews", type_="foreignkey")
        _reviews_back()
        # The sequence never goes back by itself, but bulk inserts before this revision
        # set it to the largest id left, which may be below a deleted card's id.
        top = conn.exec_driver_sql(
            "SELECT GREATEST((SELECT max(id) FROM cards), (SELECT max(id) FROM deleted_cards), "
            "(SELECT max(card_id) FROM reviews))"
        ).scalar()
        if top is not None:  # (an untouched sequence stays so: its next id is still 1)
            sequence = conn.exec_driver_sql("SELECT pg_get_serial_sequence('cards', 'id')").scalar()
            conn.exec_driver_sql(
                f"SELECT setval('{sequence}', GREATEST({int(top)}, (SELECT CASE WHEN is_called "
                f"THEN last_value ELSE 0 END FROM {sequence})))"
            )
        return
    before = _dangling(conn)
    _rebuild_sqlite("reviews", lambda sql: _once(_REVIEWS_FK, "", sql, "reviews"))
    _reviews_back()
    _rebuild_sqlite("cards", _autoincrement)
    # The largest card id known anywhere: no new card may take the id of a deleted one.
    top = conn.exec_driver_sql(
        "SELECT max(COALESCE((SELECT max(id) FROM cards), 0), "
        "COALESCE((SELECT max(id) FROM deleted_cards), 0), "
        "COALESCE((SELECT max(card_id) FROM reviews), 0))"
    ).scalar_one()
    conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'cards'")
    if top:
        conn.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('cards', ?)", (top,))
    if _dangling(conn) > before:
        raise RuntimeError("migration 0011: the rebuild of cards left dangling references")


def downgrade() -> None:
    """Back to 0010: the reviews of cards in the graveyard move into ``deleted_reviews``
    again; other reviews of deleted cards (whose delete can no longer be undone) are
    deleted, as 0010 deleted them with their card."""
    conn = op.get_bind()
    op.create_table(
        "deleted_reviews",
        sa.Column("row_id", sa.Integer, primary_key=True),
        sa.Column("grave_id", sa.Integer, nullable=False),
        *(sa.Column(c, t, nullable=n) for c, t, n in REVIEW_TYPES),
    )
    op.create_index("ix_deleted_reviews_grave", "deleted_reviews", ["grave_id"])
    picked = ", ".join(f"r.{c}" for c in REVIEW_COLUMNS.split(", "))
    conn.exec_driver_sql(
        f"INSERT INTO deleted_reviews (grave_id, {REVIEW_COLUMNS}) SELECT g.grave_id, {picked} "
        "FROM reviews r JOIN (SELECT id, max(grave_id) AS grave_id FROM deleted_cards "
        "GROUP BY id) g ON g.id = r.card_id WHERE r.card_id NOT IN (SELECT id FROM cards)"
    )
    conn.exec_driver_sql("DELETE FROM reviews WHERE card_id NOT IN (SELECT id FROM cards)")
    if conn.dialect.name == "postgresql":
        op.create_foreign_key(
            "fk_reviews_card", "reviews", "cards", ["card_id"], ["id"], ondelete="CASCADE"
        )
        return
    _rebuild_sqlite(
        "reviews",
        lambda sql: _once(
            re.compile(r"\n\tPRIMARY KEY \(id\)\n\)$"),
            "\n\tPRIMARY KEY (id), \n\tCONSTRAINT fk_reviews_card FOREIGN KEY(card_id) "
            "REFERENCES cards (id) ON DELETE CASCADE\n)",
            sql,
            "reviews",
        ),
    )

    def plain_key(sql: str) -> str:
        sql = _once(
            re.compile(r"\n\tid INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "),
            "\n\tid INTEGER NOT NULL, ",
            sql,
            "cards",
        )
        return _once(
            re.compile(r"\n\tCONSTRAINT uq_cards_pack_key"),
            "\n\tPRIMARY KEY (id), \n\tCONSTRAINT uq_cards_pack_key",
            sql,
            "cards",
        )

    _rebuild_sqlite("cards", plain_key)
