"""Copy a whole collection from one database to another: SQLite <-> PostgreSQL.

:func:`copy_collection` reads every row of every table of the source in one
read transaction (one snapshot, so a copy taken while the app writes is
consistent) and writes them into the target in one write transaction: a
failure leaves the target as it was. Rows keep their ids, so the review
history, undo references, the demo cache and everything pointing at an id
stay intact; times keep their integer twins (:func:`studylog.storage.bulk_insert.insert_rows`),
and the target's search index is rebuilt from the rows by its own triggers
(:func:`studylog.storage.search_index.indexed_after`). PostgreSQL's id
sequences are moved past the copied ids, and the cards' id floor (the largest
card id ever given, revision 0011) is carried over.

The target is brought to the newest schema first and must hold no rows
(``replace=True`` deletes its rows first, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlalchemy import Table, delete, func, select

from studylog.errors import DatabaseError
from studylog.storage import migrate
from studylog.storage.bulk_insert import id_floor, insert_rows, raise_id_floor
from studylog.storage.engine import Database
from studylog.storage.models import Base
from studylog.storage.search_index import indexed_after

BATCH = 5000
# The tables whose inserts feed the search index (migration 0001's triggers).
INDEXED = {"journal_entries", "todos", "cards", "concepts"}


@dataclass
class CopyReport:
    """Rows copied per table (in the order copied)."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _tables() -> list[Table]:
    """Every table of the models, parents before children (foreign keys)."""
    import studylog.storage.demo_models  # noqa: F401 - registers their tables
    import studylog.storage.exercise_models  # noqa: F401
    import studylog.storage.graves  # noqa: F401
    import studylog.storage.import_models  # noqa: F401

    return list(Base.metadata.sorted_tables)


def non_empty_tables(db: Database) -> list[str]:
    """The tables of ``db`` that hold at least one row."""
    found = []
    with db.read() as session:
        for table in _tables():
            if session.execute(select(func.count()).select_from(table)).scalar():
                found.append(table.name)
    return found


def copy_collection(
    source: Database,
    target: Database,
    *,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every row of ``source`` into ``target`` (see the module docstring).

    ``progress(table, rows_so_far)`` is called after each batch.

    Raises:
        DatabaseError: the target is the source, is not empty (and ``replace``
            is False), or cannot be migrated or written; the source is not at
            the newest schema.
    """
    if source.url == target.url:
        raise DatabaseError("the target of the copy is the database itself")
    if migrate.revision_of(source) != migrate.HEAD_REVISION:
        raise DatabaseError(
            f"{source.display_name} is not at the newest schema: run studylog db upgrade first"
        )
    migrate.prepare(target, make_backup=False)
    tables = _tables()
    if not replace:
        filled = non_empty_tables(target)
        if filled:
            raise DatabaseError(
                f"{target.display_name} is not empty ({', '.join(filled[:4])}"
                f"{', ...' if len(filled) > 4 else ''} hold rows): copy into an empty "
                "database, or pass --replace to delete its rows first"
            )
    report = CopyReport()
    with source.read() as reading, target.write() as writing:
        if replace:
            for table in reversed(tables):
                writing.execute(delete(table))
        for table in tables:
            columns = [c.name for c in table.columns]
            order = list(table.primary_key.columns)
            result = reading.execute(
                select(table).order_by(*order).execution_options(yield_per=BATCH)
            )
            count = 0
            with indexed_after(writing, table.name) if table.name in INDEXED else nullcontext():
                for part in result.partitions(BATCH):
                    rows = [dict(zip(columns, row, strict=True)) for row in part]
                    insert_rows(writing, table, rows, returning=False)
                    count += len(rows)
                    if progress is not None:
                        progress(table.name, count)
            report.rows[table.name] = count
        # The source's kept history of deleted cards came along (reviews keep their
        # card ids): the target must not give those ids to new cards either.
        raise_id_floor(writing, "cards", id_floor(reading, "cards"))
    return report
