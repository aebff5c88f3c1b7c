"""A check that every time column's integer twin holds its floored epoch milliseconds.

Independent of studylog's own conversions: the text is parsed with
``datetime.fromisoformat`` and the milliseconds counted with integer
arithmetic. ``tests/conftest.py`` runs it on every database a test leaves in
its ``tmp_path``, so each write path the suite exercises is checked.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

TWINS = {
    "cards": {"due": "due_ms", "last_review": "last_review_ms"},
    "reviews": {
        "reviewed_at": "reviewed_at_ms",
        "due_before": "due_before_ms",
        "last_review_before": "last_review_before_ms",
    },
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def expected_ms(text: str | datetime | None) -> int | None:
    """Floored epoch ms of SQLite's naive-UTC text, or of PostgreSQL's naive-UTC timestamp."""
    if text is None:
        return None
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    delta = moment.replace(tzinfo=UTC) - _EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) // 1000


def out_of_step(path: Path, limit: int = 5) -> list[str]:
    """Rows whose twin disagrees with its text, as ``table.id: column text -> twin``.

    Files that are not studylog databases at revision 0004 or later give [].
    """
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    problems: list[str] = []
    try:
        for table, twins in TWINS.items():
            try:
                names = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
            except sqlite3.DatabaseError:
                return []
            if not set(twins.values()) <= names:
                continue
            columns = ", ".join(f"{c}, {t}" for c, t in twins.items())
            for row in con.execute(f"SELECT id, {columns} FROM {table}"):
                values = row[1:]
                for k, (column, twin) in enumerate(twins.items()):
                    text, got = values[2 * k], values[2 * k + 1]
                    if expected_ms(text) != got:
                        problems.append(f"{table}.{row[0]}: {column} {text!r} -> {twin} {got!r}")
                        if len(problems) >= limit:
                            return problems
    except sqlite3.DatabaseError:
        return problems
    finally:
        con.close()
    return problems


def out_of_step_postgres(url: str, limit: int = 5) -> list[str]:
    """:func:`out_of_step` for a PostgreSQL database (its SQLAlchemy URL)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    problems: list[str] = []
    with psycopg.connect(
        host=parsed.query.get("host") or parsed.host,
        user=parsed.username,
        dbname=parsed.database,
    ) as con:
        for table, twins in TWINS.items():
            if con.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
                continue
            columns = ", ".join(f"{c}, {t}" for c, t in twins.items())
            for row in con.execute(f"SELECT id, {columns} FROM {table}"):
                values = row[1:]
                for k, (column, twin) in enumerate(twins.items()):
                    moment, got = values[2 * k], values[2 * k + 1]
                    if expected_ms(moment) != got:
                        problems.append(f"{table}.{row[0]}: {column} {moment!r} -> {twin} {got!r}")
                        if len(problems) >= limit:
                            return problems
    return problems
