"""Keeping the full-text search index current during bulk inserts, one statement per batch.

The search index (``search_index``, FTS5 trigram, migration 0001) is kept
current by triggers: ``<table>_ai`` inserts one index row per inserted row.
Fired once per row, that trigger costs about five times the insert itself
(measured: 50,000 cards 1.45 s CPU with the trigger, 0.29 s as one
``INSERT ... SELECT`` after the rows). :func:`indexed_after` turns the insert
trigger off inside the caller's transaction (SQLite's DDL is transactional:
a rollback, or a dry run, brings it back untouched; other connections never
see it missing, since the write lock is held) and indexes the new rows with
the trigger's own expressions in one statement at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

# The body of an ``<table>_ai`` trigger: INSERT INTO search_index(cols) VALUES (exprs of new.*)
_TRIGGER_BODY = re.compile(
    r"\bBEGIN\s+(INSERT INTO search_index\s*\([^)]*\))\s*VALUES\s*\((.*)\)\s*;\s*END\s*$",
    re.DOTALL | re.IGNORECASE,
)


def index_select(trigger_sql: str, table: str) -> tuple[str, str, str] | None:
    """``INSERT ... SELECT`` statements with the expressions of ``trigger_sql``: (rows
    above an id ``?``, rows missing from the index, rows of the ids of the subquery
    put in for ``{ids}`` that are missing from the index, one rowid probe each);
    None if the trigger is not of the expected form."""
    match = _TRIGGER_BODY.search(trigger_sql)
    if match is None:
        return None
    head, values = match.group(1), re.sub(r"\bnew\.", "n.", match.group(2))
    base = f"{head} SELECT {values} FROM {table} AS n"
    # The index rowid is the first value (id * 8 + source code, see migration 0001).
    rowid = values.split(",", 1)[0]
    return (
        f"{base} WHERE n.id > ?",
        f"{base} WHERE {rowid} NOT IN (SELECT rowid FROM search_index)",
        f"{base} WHERE n.id IN ({{ids}}) "
        f"AND NOT EXISTS (SELECT 1 FROM search_index AS s WHERE s.rowid = {rowid})",
    )


_PG_VALUES = re.compile(
    r"(INSERT INTO search_index\s*\([^)]*\))\s*VALUES\s*\((.*?)\);", re.DOTALL | re.IGNORECASE
)


@contextmanager
def _deferred_postgres(session: Session, table: str) -> Iterator[None]:
    """PostgreSQL: the insert trigger skips its row while ``studylog.defer_search_index`` is
    on (a setting local to this transaction, so other connections index as usual); the
    new rows are then indexed with the trigger function's own expressions at once."""
    conn = session.connection()
    source = conn.exec_driver_sql(
        "SELECT prosrc FROM pg_proc WHERE proname = %(name)s", {"name": f"{table}_search_index"}
    ).scalar()
    match = _PG_VALUES.search(source or "")
    if match is None:
        yield
        return
    head, values = match.group(1), re.sub(r"\bNEW\.", "n.", match.group(2))
    count = f"SELECT coalesce(max(id), 0), count(*) FROM {table}"
    top, below = conn.exec_driver_sql(count).one()
    conn.exec_driver_sql("SET LOCAL studylog.defer_search_index = 'on'")
    try:
        yield
        conn.exec_driver_sql(
            f"{head} SELECT {values} FROM {table} AS n WHERE n.id > %(top)s",
            {"top": top},
        )
        after = conn.exec_driver_sql(
            f"SELECT count(*) FROM {table} WHERE id <= %(top)s", {"top": top}
        ).scalar()
        if after != below:  # rows came in below the old top: index whatever is missing
            rowid = values.split(",", 1)[0]
            conn.exec_driver_sql(
                f"{head} SELECT {values} FROM {table} AS n WHERE n.id <= %(top)s AND NOT "
                f"EXISTS (SELECT 1 FROM search_index s WHERE s.rowid = {rowid})",
                {"top": top},
            )
    finally:
        conn.exec_driver_sql("SET LOCAL studylog.defer_search_index = 'off'")


@contextmanager
def indexed_after(session: Session, table: str) -> Iterator[None]:
    """Insert rows into ``table`` inside the block; they are indexed once at its end.

    ``table`` is one of the indexed tables (``cards``, ``journal_entries``,
    ``todos``, ``concepts``). Only inserts are deferred: updates and deletes
    inside the block still go through their triggers, so the block should
    hold the batched inserts and nothing else. New rows are those with ids
    above the table's largest id at the start (the ids that
    :func:`studylog.storage.bulk_insert.insert_rows` assigns); if rows were added
    below it, the rows missing from the index are found instead. Does
    nothing special on a database without the trigger (then the rows are
    indexed as they go, or not at all, as before).
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        with _deferred_postgres(session, table):
            yield
        return
    name = f"{table}_ai"
    found = (
        conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
        ).fetchone()
        if conn.dialect.name == "sqlite"
        else None
    )
    statements = index_select(found[0], table) if found else None
    if found is None or statements is None:
        yield
        return
    above, missing, _some = statements
    top, below = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0), count(*) FROM {table}").one()
    conn.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        yield
        after = conn.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE id <= ?", (top,))
        if after.scalar() == below:
            conn.exec_driver_sql(above, (top,))
        else:  # rows came in below the old top: index whatever is missing
            conn.exec_driver_sql(missing)
    finally:
        conn.exec_driver_sql(found[0])
