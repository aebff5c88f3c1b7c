"""The graveyard: deleted cards with their tag links, moved set-based for undo.

A delete of N cards is a few statements whatever N is (revision 0010): the
ids go into a temporary table, then for each of ``cards`` and ``card_tags``
one ``INSERT INTO deleted_... SELECT ... WHERE ... IN (ids)`` and one
``DELETE``, all inside the caller's transaction. Nothing passes through
Python per row. :func:`restore` moves a grave back the same way, and
:func:`purge` drops graves whose undo step is gone. The search index follows
by itself on PostgreSQL (the PL/pgSQL trigger removes and re-adds the rows). On
SQLite the deleted cards' FTS5 rows stay while their grave does (the delete and
the insert trigger are off for the move, the search leaves out cards that do not
exist), so neither the delete nor its undo pays FTS5's per-row work; purge()
removes them.

The cards' reviews do not move (revision 0011): they stay in ``reviews``, as
Anki keeps the revlog of deleted notes, and a restored card finds its history
by id. Moving ~100k review rows spread over a 1M-row table was most of a
delete's time. Readers that count only existing cards join ``cards``.

Ids: a restored row keeps its id. Card ids are never reused (AUTOINCREMENT on
SQLite, sequences on PostgreSQL, and ``bulk_insert`` allocates above the
sequence), so a deleted card's id stays free for its undo; :func:`restore`
still checks first and refuses (nothing written) rather than fail half-way,
should a row have been written with that id explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Column, Index, Integer, Table, func, select, text
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError
from studylog.storage.bulk_insert import drop_stats_cache
from studylog.storage.models import Base, Card, card_tags
from studylog.storage.search_index import index_select

_SOURCES: tuple[tuple[Table, str, str], ...] = (
    # (source table, graveyard table name, the column holding the card id)
    (Card.__table__, "deleted_cards", "id"),  # type: ignore[arg-type]
    (card_tags, "deleted_card_tags", "card_id"),
)
_IDS = "studylog_action_ids"  # the temporary table of the card ids a move works on


def _graveyard(source: Table, name: str) -> Table:
    """A table with ``source``'s columns (types and NULLs, no keys or defaults) and a grave id."""
    return Table(
        name,
        Base.metadata,
        Column("row_id", Integer, primary_key=True),
        Column("grave_id", Integer, nullable=False),
        *(Column(c.name, c.type, nullable=c.nullable) for c in source.columns),
        Index(f"ix_{name}_grave", "grave_id"),
    )


GRAVEYARD = {name: _graveyard(source, name) for source, name, _key in _SOURCES}


def _columns(source: Table) -> str:
    return ", ".join(f'"{c.name}"' for c in source.columns)


def _load_ids(session: Session, ids: Sequence[int]) -> None:
    """Fill the temporary id table (created on first use per connection; emptied here)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS {_IDS} (id BIGINT PRIMARY KEY) "
                "ON COMMIT DELETE ROWS"
            )
        )
    else:
        session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {_IDS} (id INTEGER PRIMARY KEY)"))
    session.execute(text(f"DELETE FROM {_IDS}"))
    if ids:
        session.execute(text(f"INSERT INTO {_IDS} (id) VALUES (:id)"), [{"id": i} for i in ids])


def bury(session: Session, ids: Sequence[int]) -> tuple[int, int]:
    """Move the cards ``ids`` with their tag links into the graveyard (their reviews stay).

    Runs in the caller's transaction. Other rows pointing at the cards
    (suggestions) are the caller's business: do them before this. Returns
    ``(grave_id, cards moved)``; grave ids grow (the largest so far + 1).
    """
    grave = (
        int(
            session.scalar(
                select(func.coalesce(func.max(GRAVEYARD["deleted_cards"].c.grave_id), 0))
            )
            or 0
        )
        + 1
    )
    _load_ids(session, ids)
    for source, name, key in _SOURCES:
        columns = _columns(source)
        session.execute(
            text(
                f"INSERT INTO {name} (grave_id, {columns}) SELECT :grave, {columns} "
                f"FROM {source.name} WHERE {key} IN (SELECT id FROM {_IDS})"
            ),
            {"grave": grave},
        )
    moved = int(
        session.scalar(
            text("SELECT count(*) FROM deleted_cards WHERE grave_id = :grave"), {"grave": grave}
        )
        or 0
    )
    # Children first: the cards' foreign keys would cascade row by row otherwise.
    for source, _name, key in reversed(_SOURCES):
        # SQLite: the cards' search-index rows stay while they are in the graveyard
        # (the FTS5 delete was 0.5 s of a 0.75 s delete of 10,000 cards); the search
        # leaves out cards that do not exist, and purge() removes the rows.
        kept = "cards_ad" if source.name == "cards" else None
        with _trigger_off(session, kept):
            session.execute(
                text(f"DELETE FROM {source.name} WHERE {key} IN (SELECT id FROM {_IDS})")
            )
    # The statistics' per-day cache counts the reviews of existing cards; these
    # cards' reviews stay in the log, so its fingerprints (count, sum of ids) would
    # not see the change.
    drop_stats_cache(session)
    return grave, moved


def restore(session: Session, grave: int) -> int:
    """Move grave ``grave`` back (cards first, then their tag links) and drop it.

    The cards' reviews never left ``reviews``, so each card comes back with its
    whole history. Tag links whose tag was deleted since are dropped, and so is
    the link to a concept deleted since (the card comes back without one).
    Returns the cards restored.

    Raises:
        InvalidInputError: a card id of the grave is taken by a row written since
            with that id (nothing is written).
    """
    taken = session.scalar(
        text(
            "SELECT min(g.id) FROM deleted_cards g JOIN cards s ON s.id = g.id "
            "WHERE g.grave_id = :grave"
        ),
        {"grave": grave},
    )
    if taken is not None:
        raise InvalidInputError(
            f"cannot undo the delete: card id {taken} was given to a new card since"
        )
    restored = 0
    for source, name, _key in _SOURCES:
        columns = _columns(source)
        # What went meanwhile is not brought back: a deleted concept's link (as its
        # foreign key's ON DELETE SET NULL would have done), a deleted tag's links.
        picked = columns.replace(
            '"concept_id"',
            "CASE WHEN concept_id IN (SELECT id FROM concepts) THEN concept_id END",
        )
        only_live_tags = " AND tag_id IN (SELECT id FROM tags)" if source is card_tags else ""
        # SQLite: the search index still holds the cards' rows (bury kept them).
        with _trigger_off(session, "cards_ai" if source.name == "cards" else None):
            result = session.execute(
                text(
                    f"INSERT INTO {source.name} ({columns}) SELECT {picked} FROM {name} "
                    f"WHERE grave_id = :grave{only_live_tags}"
                ),
                {"grave": grave},
            )
        if source.name == "cards":
            restored = int(result.rowcount or 0)
            _index_missing(session, grave)
    _drop_rows(session, grave)
    drop_stats_cache(session)  # the restored cards' reviews count again (see bury)
    return restored


def purge(session: Session, graves: Iterable[int]) -> None:
    """Drop the graves ``graves`` for good (their undo step is gone), with the search-index
    rows their cards kept on SQLite (an FTS5 delete: about 0.5 s per 10,000 cards, paid
    here, by the action that pushes the delete off the undo stack, not by the delete)."""
    for grave in graves:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(
                text(
                    f"DELETE FROM search_index WHERE rowid IN (SELECT id * 8 + {_CARD_CODE} "
                    "FROM deleted_cards WHERE grave_id = :g AND id NOT IN (SELECT id FROM cards))"
                ),
                {"g": grave},
            )
        _drop_rows(session, grave)


def _drop_rows(session: Session, grave: int) -> None:
    for _source, name, _key in _SOURCES:
        session.execute(text(f"DELETE FROM {name} WHERE grave_id = :g"), {"g": grave})


# A card's search-index rowid is id * 8 + 3 (migration 0001's KINDS).
_CARD_CODE = 3


@contextmanager
def _trigger_off(session: Session, name: str | None) -> Iterator[None]:
    """SQLite: run the block with trigger ``name`` dropped, then create it again from its
    stored SQL, inside the caller's transaction (DDL is transactional in SQLite: a
    rollback brings it back, and other connections never see it missing while the write
    lock is held; ``storage/search_index.py`` does the same for bulk inserts).
    PostgreSQL, ``name`` None or no such trigger: the block runs as it is."""
    conn = session.connection()
    found = None
    if name is not None and conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
        ).fetchone()
    if found is None:
        yield
        return
    conn.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        conn.exec_driver_sql(found[0])


def _index_missing(session: Session, grave: int) -> None:
    """SQLite: index the restored cards of ``grave`` whose search-index rows are missing
    (a grave made before revision 0011, whose delete removed them), with the insert
    trigger's own expressions."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    found = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'cards_ai'"
    ).fetchone()
    statements = index_select(found[0], "cards") if found else None
    if statements is None:
        return
    conn.exec_driver_sql(
        statements[2].format(ids="SELECT id FROM deleted_cards WHERE grave_id = ?"), (grave,)
    )


def purge_all_but(session: Session, keep: Iterable[int]) -> None:
    """Drop every grave except ``keep`` (those the undo stack still refers to)."""
    kept = set(keep)
    found = session.scalars(select(GRAVEYARD["deleted_cards"].c.grave_id).distinct()).all()
    purge(session, [g for g in found if g not in kept])


__all__ = ["GRAVEYARD", "bury", "purge", "purge_all_but", "restore"]
