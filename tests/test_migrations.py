"""Migrations: the head constant, models matching the scripts, rows surviving upgrades, backups."""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import studylog.storage
from studylog.errors import DatabaseError
from studylog.paths import migrations_dir
from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.models import Base

pytestmark = pytest.mark.both_backends

FIRST = "0001"

# One row for every table of the first revision, written with plain SQL as an
# old studylog would have written them.
FIRST_REVISION_ROWS = {
    "tags": [{"id": 1, "name": "어텐션"}],
    "journal_entries": [
        {"id": 1, "day": "2024-08-16", "body": "밑바닥2 8장 🧠", "created_at": "2024-08-16 10:22:00.000000", "updated_at": "2024-08-16 10:22:00.000000"}
    ],
    "todos": [
        {"id": 1, "text": "ITES 다시 풀기", "origin_day": "2024-08-16", "due_day": None, "done_at": None, "position": 0, "created_at": "2024-08-16 10:22:00.000000"}
    ],
    "concepts": [
        {"id": 1, "slug": "attention", "title": "Attention", "aliases": '["어텐션"]', "body": "b", "sources": "[]", "related": "[]", "demo": None, "demo_code": None, "origin": "user", "content_hash": None, "user_modified": 0, "created_at": "2024-08-16 10:22:00.000000", "updated_at": "2024-08-16 10:22:00.000000"}
    ],
    "cards": [
        {"id": 1, "concept_id": 1, "front": "Q", "back": "A", "kind": "basic", "cloze_ord": None, "deck": "Default", "external_id": "x1", "pack_key": None, "origin": "user", "state": 2, "step": None, "stability": 3.2, "difficulty": 5.1, "due": "2024-08-20 10:00:00.000000", "last_review": "2024-08-16 10:00:00.000000", "reps": 3, "lapses": 1, "suspended": 0, "buried_until": None, "created_at": "2024-08-01 10:00:00.000000", "updated_at": "2024-08-16 10:00:00.000000"}
    ],
    "card_tags": [{"card_id": 1, "tag_id": 1}],
    "concept_tags": [{"concept_id": 1, "tag_id": 1}],
    "reviews": [
        {"id": 1, "card_id": 1, "rating": 3, "reviewed_at": "2024-08-16 10:00:00.000000", "duration_ms": 5300, "state_before": 2, "step_before": None, "stability_before": 1.1, "difficulty_before": 5.0, "due_before": "2024-08-16 09:00:00.000000", "last_review_before": "2024-08-15 09:00:00.000000", "state_after": 2, "step_after": None, "stability_after": 3.2, "difficulty_after": 5.1, "due_after": "2024-08-20 10:00:00.000000", "interval_days": 4.0}
    ],
    "settings": [{"key": "day_start_hour", "value": "4"}],
}  # fmt: skip


def _import_all_model_modules() -> None:
    for module in pkgutil.iter_modules(studylog.storage.__path__):
        importlib.import_module(f"studylog.storage.{module.name}")


def test_head_constant_matches_the_scripts() -> None:
    script = ScriptDirectory(str(migrations_dir()))
    assert migrate.HEAD_REVISION == script.get_current_head()
    assert migrate.head_revision() == migrate.HEAD_REVISION


def test_the_models_match_the_migrated_schema(db: Database) -> None:
    _import_all_model_modules()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # The search index (FTS5 and its shadow tables on SQLite; a table and its trigram
    # indexes on PostgreSQL) exists only in the migration, by design.
    diff = [
        d
        for d in diff
        if not (d[0] == "remove_table" and d[1].name.startswith("search_index"))
        and not (d[0] == "remove_index" and d[1].name.startswith("ix_search_index_"))
    ]
    assert diff == []


def test_every_row_of_the_first_revision_survives_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, FIRST)
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    plain = {t for t in tables if t != "alembic_version" and not t.startswith("search_index")}
    assert plain == set(FIRST_REVISION_ROWS), "add rows for every table of the first revision"
    for table, rows in FIRST_REVISION_ROWS.items():
        for row in rows:
            names = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))
    con.commit()
    con.close()

    made = migrate.prepare(db)
    if migrate.HEAD_REVISION != FIRST:
        assert made is not None and made.exists()  # a backup came first
    assert migrate.current_revision_of(path) == migrate.HEAD_REVISION

    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    for table, rows in FIRST_REVISION_ROWS.items():
        for row in rows:
            where = " AND ".join(f"{k} IS ?" for k in row)
            found = con.execute(
                f"SELECT * FROM {table} WHERE {where}", list(row.values())
            ).fetchall()
            assert len(found) == 1, f"{table} lost {row}"
    hits = con.execute(
        "SELECT kind FROM search_index WHERE search_index MATCH '\"밑바닥2\"'"
    ).fetchall()
    assert [h[0] for h in hits] == ["entry"]
    con.close()
    db.dispose()


def test_a_pending_migration_is_backed_up_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine, FIRST)
    con = sqlite3.connect(path)
    con.execute("INSERT INTO tags(name) VALUES ('keep-me')")
    con.commit()
    con.close()
    # Pretend a newer revision exists, so the file counts as behind.
    monkeypatch.setattr(migrate, "HEAD_REVISION", "9999")
    monkeypatch.setattr(migrate, "_known_revisions", lambda: {FIRST, "9999"})
    made = migrate.prepare(db)
    assert made is not None
    copy = sqlite3.connect(made)
    assert copy.execute("SELECT name FROM tags").fetchall() == [("keep-me",)]
    copy.close()
    db.dispose()


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my notes, not a database\n", encoding="utf-8")
    with pytest.raises(DatabaseError, match="not a studylog database"):
        migrate.prepare(Database(f"sqlite:///{path}"))
    assert path.read_text(encoding="utf-8") == "my notes, not a database\n"


def test_another_apps_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE photos(id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(DatabaseError, match="not a studylog database"):
        migrate.prepare(Database(f"sqlite:///{path}"))


def test_a_database_from_a_newer_studylog_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    with pytest.raises(DatabaseError, match="newer studylog"):
        migrate.prepare(db)
