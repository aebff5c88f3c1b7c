"""PostgreSQL: the engine's settings, writes that wait, migrations, search, and bad input.

The PostgreSQL counterparts of the SQLite-only tests in test_storage.py and
test_search.py, and what only PostgreSQL has (a server to reach, a password,
the pg_trgm extension, a server version). Every test here runs in the
throwaway cluster of ``tests/conftest.py`` and skips without PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from studylog.errors import DatabaseError
from studylog.services import cards, journal, search, todos
from studylog.storage import migrate
from studylog.storage.engine import BUSY_TIMEOUT_MS, WRITE_LOCK_KEY, Database
from tests.conftest import NOW


@pytest.fixture
def pg(postgres) -> object:  # noqa: ANN001
    return postgres.start()


@pytest.fixture
def pg_db(postgres) -> Database:  # noqa: ANN001
    name, url = postgres.new_database()
    database = Database(url)
    migrate.prepare(database)
    yield database
    database.dispose()
    postgres.cluster.drop_database(name)


def _empty(postgres, name: str) -> str:  # noqa: ANN001
    return postgres.start().create_database(name)


# --- the engine's settings ------------------------------------------------------------------


def test_every_connection_gets_utc_and_the_lock_timeout(pg_db: Database) -> None:
    with pg_db.read() as session:
        assert session.execute(text("SHOW TimeZone")).scalar() == "UTC"
        assert session.execute(text("SHOW lock_timeout")).scalar() == f"{BUSY_TIMEOUT_MS // 1000}s"
        assert session.execute(text("SHOW transaction_isolation")).scalar() == "repeatable read"
    with pg_db.write() as session:
        assert session.execute(text("SHOW transaction_isolation")).scalar() == "read committed"
        held = session.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        ).scalar()
        assert held == 1


def test_a_write_waits_for_another_writer_instead_of_failing(pg_db: Database) -> None:
    """As BEGIN IMMEDIATE on SQLite: the second writer waits for the first to commit."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_db.url)
    other = psycopg.connect(
        host=url.query["host"], user=url.username, dbname=url.database, autocommit=False
    )
    other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
    other.execute(
        "INSERT INTO journal_entries(day, body, created_at, updated_at) "
        "VALUES ('2026-01-01', 'from the app', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    released = threading.Event()

    def release() -> None:
        time.sleep(0.5)
        released.set()
        other.commit()

    threading.Thread(target=release).start()
    entry = journal.add(pg_db, "from the CLI", date(2026, 1, 1), now=datetime.now(UTC))
    assert released.is_set()
    assert [e.body for e in journal.on_day(pg_db, date(2026, 1, 1))] == [
        "from the app",
        "from the CLI",
    ]
    assert entry.id == 2
    other.close()


def test_a_write_that_waits_too_long_fails_with_one_line_and_leaves_nothing(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_db.url)
    with psycopg.connect(host=url.query["host"], user=url.username, dbname=url.database) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        with pg_db.engine.connect() as conn:  # a shorter wait than 10 s for the test
            conn.exec_driver_sql("SET lock_timeout = 300")
            conn.commit()
        with pytest.raises(DatabaseError, match=r"locked by another program \(waited 10 s\)"):
            journal.add(pg_db, "never", date(2026, 1, 1), now=datetime.now(UTC))
        other.rollback()
    assert journal.on_day(pg_db, date(2026, 1, 1)) == []


def test_ids_given_by_a_bulk_insert_move_the_sequence(pg_db: Database) -> None:
    from studylog.storage.bulk import insert_rows
    from studylog.storage.models import JournalEntry

    now = datetime.now(UTC)
    row = {"day": date(2026, 1, 1), "body": "bulk", "created_at": now, "updated_at": now}
    with pg_db.write() as session:
        assert insert_rows(session, JournalEntry.__table__, [row, row]) == [1, 2]
    # The ORM's next insert lets PostgreSQL choose the id: 3, not a clash with 1.
    assert journal.add(pg_db, "by hand", date(2026, 1, 1), now=now).id == 3


# --- migrations ---------------------------------------------------------------------------


def test_every_migration_runs_one_by_one_from_an_empty_database(postgres) -> None:  # noqa: ANN001
    from alembic.script import ScriptDirectory

    from studylog.paths import migrations_dir

    url = _empty(postgres, "stepwise")
    db = Database(url)
    revisions = [
        s.revision for s in reversed(list(ScriptDirectory(str(migrations_dir())).walk_revisions()))
    ]
    for revision in revisions:
        migrate.upgrade(db.engine, revision)
        assert migrate.revision_of(db) == revision
    assert revisions[-1] == migrate.HEAD_REVISION
    with db.read() as session:
        assert (
            session.execute(
                text("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
            ).scalar()
            == "pg_trgm"
        )
    # ... and back down to nothing, and up again: the downgrades run on PostgreSQL too.
    from alembic import command

    with db.engine.begin() as conn:
        command.downgrade(migrate._alembic_config(conn), "base")
    with db.read() as session:
        left = session.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar()
    assert left == 1  # alembic_version
    migrate.prepare(db)
    assert migrate.revision_of(db) == migrate.HEAD_REVISION
    db.dispose()


def test_a_database_from_a_newer_studylog_is_refused(pg_db: Database) -> None:
    with pg_db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match="newer studylog"):
        migrate.prepare(pg_db)


def test_another_apps_database_is_refused_untouched(postgres) -> None:  # noqa: ANN001
    url = _empty(postgres, "otherapp")
    postgres.cluster.execute("CREATE TABLE invoices (id int)", database="otherapp")
    db = Database(url)
    with pytest.raises(DatabaseError, match="not a studylog database"):
        migrate.prepare(db)
    with db.read() as session:
        assert session.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None
    db.dispose()


# --- search --------------------------------------------------------------------------------


def test_search_uses_trigram_gin_indexes(pg_db: Database) -> None:
    with pg_db.read() as session:
        indexes = dict(
            session.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_index'")
            ).all()
        )
    assert "gin (title gin_trgm_ops)" in indexes["ix_search_index_title"]
    assert "gin (body gin_trgm_ops)" in indexes["ix_search_index_body"]


def test_scheduling_writes_leave_the_index_alone(pg_db: Database) -> None:
    cards.create(pg_db, "What does the forget gate decide?", "How much to keep")
    cards.create(pg_db, "어텐션 가중치의 합은?", "1 (softmax)")
    row_versions = "SELECT rowid, xmin::text FROM search_index ORDER BY rowid"
    with pg_db.read() as session:
        before = session.execute(text(row_versions)).all()
    with pg_db.write() as session:
        session.execute(text("UPDATE cards SET stability = 3.0, due = due"))
    with pg_db.read() as session:
        assert session.execute(text(row_versions)).all() == before  # no index row rewritten
    cards.edit(pg_db, 1, front="What does the forget gate f_t decide?")
    assert [h.ref for h in search.search(pg_db, "f_t decide")] == ["1"]


# The same texts on both databases must come back in the same order (BM25, title 5, body 1).
RANKED_TEXTS = [
    ("어텐션", "어텐션 가중치와 어텐션 점수: 어텐션은 softmax로 정규화한다"),
    ("LSTM 게이트", "forget gate와 input gate. 어텐션은 나중에"),
    ("어텐션 메커니즘", "Bahdanau"),
    ("Seq2seq", "인코더와 디코더 " * 20 + "어텐션"),
    ("트랜스포머", "셀프 어텐션과 멀티헤드 어텐션"),
]


@pytest.mark.parametrize(
    "query", ["어텐션", "어텐션 softmax", "gate", "디코더 어텐션", "개념", "게이트"]
)
def test_search_ranks_as_on_sqlite(pg_db: Database, tmp_path, query: str) -> None:  # noqa: ANN001
    sqlite_db = Database(f"sqlite:///{tmp_path / 's.db'}")
    migrate.prepare(sqlite_db)
    for database in (sqlite_db, pg_db):
        for front, back in RANKED_TEXTS:
            cards.create(database, front, back)
        journal.add(database, "오늘은 어텐션 개념을 정리했다", date(2024, 8, 16))
    on_sqlite = [(h.kind, h.ref) for h in search.search(sqlite_db, query)]
    on_postgres = [(h.kind, h.ref) for h in search.search(pg_db, query)]
    assert on_postgres == on_sqlite
    sqlite_db.dispose()


# Words that repeat within a row, overlap themselves (ㅋㅋㅋ in ㅋㅋㅋㅋ, abab in ababab), come
# in several cases (Softmax, SOFTMAX) or hold LIKE's and regular expressions' characters.
VOCABULARY = (
    "어텐션 어텐션은 가중치 개념 softmax Softmax SOFTMAX ㅋㅋㅋ ㅋㅋㅋㅋ ababab aaaa "
    "gate Gate 게이트 인코더 디코더 100% x_y (a+b) 🧠🧠🧠 c++ QK^T"
).split()
RANDOM_QUERIES = [
    "어텐션", "softmax", "SoftMax", "ㅋㅋㅋ", "abab", "aaa", "gate", "게이트 어텐션",
    "softmax 디코더", "(a+b)", "c++", "🧠🧠🧠", "QK^T", "100%", "x_y", "ㅋㅋ", "개념 어텐션",
    "인코더 디코더", "가중치 gate", "어텐션 QK^T", "ababab 100%", "SOFTMAX c++ 인코더",
]  # fmt: skip


def _random_text(rng, words: int) -> str:  # noqa: ANN001
    """Zipf-like: the first words are common (IDF at its floor), the last ones rare."""
    weights = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
    return " ".join(rng.choices(VOCABULARY, weights, k=words))


@pytest.mark.parametrize("limit", [5, 50])
def test_search_ranks_as_on_sqlite_over_a_random_collection(
    pg_db: Database,
    tmp_path,  # noqa: ANN001
    limit: int,
) -> None:
    """120 cards, entries and TODOs of random words: every query, every kind filter, the
    same rows in the same order (BM25 on SQLite's FTS5, in SQL on PostgreSQL), the
    ``limit`` best ones when they are more."""
    import random

    sqlite_db = Database(f"sqlite:///{tmp_path / 's.db'}")
    migrate.prepare(sqlite_db)
    rng = random.Random(17)
    texts = [
        (_random_text(rng, rng.randint(1, 4)), _random_text(rng, rng.randint(1, 30)))
        for _ in range(120)
    ]
    for database in (sqlite_db, pg_db):
        for n, (front, back) in enumerate(texts):
            if n % 6 == 0:
                journal.add(database, f"{front} {back}", date(2024, 8, 1 + n % 28))
            elif n % 6 == 1:
                todos.add(database, front, date(2024, 8, 1 + n % 28))
            else:
                cards.create(database, front, back)
    found = 0
    for query in RANDOM_QUERIES:
        for kinds in (search.KINDS, ("card",), ("entry", "todo")):
            on_sqlite = [
                (h.kind, h.ref) for h in search.search(sqlite_db, query, kinds=kinds, limit=limit)
            ]
            on_postgres = [
                (h.kind, h.ref) for h in search.search(pg_db, query, kinds=kinds, limit=limit)
            ]
            assert on_postgres == on_sqlite, (query, kinds)
            found += len(on_sqlite)
    assert found > 10 * limit  # the queries find rows: the comparison is not of empty lists
    sqlite_db.dispose()


def test_korean_two_and_three_syllable_words_are_found(pg_db: Database) -> None:
    journal.add(pg_db, "밑바닥2 8장의 어텐션 개념을 정리했다.", date(2024, 8, 16))
    journal.add(pg_db, "Neural Turing Machine", date(2024, 8, 17))
    assert [h.ref for h in search.search(pg_db, "개념")] == ["1"]
    assert [h.ref for h in search.search(pg_db, "어텐션")] == ["1"]
    assert [h.ref for h in search.search(pg_db, "turing")] == ["2"]
    assert search.search(pg_db, "100%") == []
    assert search.search(pg_db, "x_y") == []


# --- the change watch (the app's live refresh) --------------------------------------------------


def test_the_change_watch_sees_writes_to_its_own_database_only(postgres, pg_db: Database) -> None:  # noqa: ANN001
    """NOTIFY at each studylog commit, LISTEN in the watch: a write to another database on
    the same server, and a write rolled back, are not changes; every write path is."""
    from studylog.services import review
    from studylog.services.changes import ChangeWatch

    other_name, other_url = postgres.new_database()
    other = Database(other_url)
    watch = ChangeWatch(pg_db)
    try:
        journal.add(other, "다른 데이터베이스에 쓴 글", date(2026, 11, 21), now=NOW)
        cards.create(other, "다른 곳의 카드", "뒷면", now=NOW)
        assert watch.changed() is False  # the server's other database
        with pytest.raises(RuntimeError), pg_db.write() as session:
            session.execute(text("DELETE FROM settings"))
            raise RuntimeError("rolled back")
        assert watch.changed() is False  # nothing committed
        journal.add(pg_db, "이 데이터베이스에 쓴 글", date(2026, 11, 21), now=NOW)
        assert watch.changed() is True
        assert watch.changed() is False  # seen
        (card,) = cards.create(pg_db, "어텐션?", "가중합", now=NOW)
        watch.reset()  # the app absorbs its own write
        assert watch.changed() is False
        session = review.ReviewSession(pg_db, now=NOW)  # the review hot path's own connection
        session.answer(card.id, 3, now=NOW)
        assert watch.changed() is True
        session.close()
    finally:
        watch.close()
        other.dispose()
        postgres.cluster.drop_database(other_name)


def test_the_change_watch_listens_again_after_losing_its_connection(
    postgres,  # noqa: ANN001
    pg_db: Database,
) -> None:
    """The server ends the watch's session (a restart, an administrator): that look fails
    with one error, the next one listens again and counts as a change (commits may have
    been missed meanwhile), and later writes are seen as before."""
    from sqlalchemy.engine import make_url

    from studylog.services.changes import ChangeWatch

    watch = ChangeWatch(pg_db)
    try:
        name = make_url(pg_db.url).database
        postgres.cluster.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        pg_db.dispose()  # the pooled sessions were ended too
        with pytest.raises(DatabaseError, match="data version"):
            watch.changed()
        journal.add(pg_db, "끊긴 사이에 쓴 글", date(2026, 11, 21), now=NOW)
        watch.reset()  # not absorbed: the watch is not listening yet
        assert watch.changed() is True
        assert watch.changed() is False
        journal.add(pg_db, "다시 듣는 중", date(2026, 11, 21), now=NOW)
        assert watch.changed() is True
    finally:
        watch.close()


# --- bad input ------------------------------------------------------------------------------


def _cli(url: str, *args: str):  # noqa: ANN202
    from click.testing import CliRunner

    from studylog.cli import cli

    return CliRunner().invoke(
        cli, ["--db", url, *args], catch_exceptions=False, env={"STUDYLOG_NOW": NOW.isoformat()}
    )


def _one_line(result) -> str:  # noqa: ANN001
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_an_unreachable_server_is_one_line(tmp_path) -> None:  # noqa: ANN001
    url = f"postgresql+psycopg://studylog@/studylog?host={tmp_path}"  # no server there
    line = _one_line(_cli(url, "today"))
    assert "cannot reach the PostgreSQL server" in line


def test_a_missing_database_is_one_line_naming_createdb(pg) -> None:  # noqa: ANN001
    line = _one_line(_cli(pg.url("nosuchdb"), "log", "x"))
    assert '"nosuchdb"' in line and "createdb" in line


def test_a_wrong_password_is_one_line_and_writes_nothing(pg) -> None:  # noqa: ANN001
    pg.execute(
        "CREATE ROLE learner LOGIN PASSWORD 'right'", "CREATE DATABASE learnerdb OWNER learner"
    )
    # The socket asks this role for its password (everyone else stays trusted).
    hba = pg.data / "pg_hba.conf"
    original = hba.read_text()
    try:
        hba.write_text("local all learner scram-sha-256\n" + original)
        pg.execute("SELECT pg_reload_conf()")
        url = f"postgresql+psycopg://learner:wrong@/learnerdb?host={pg.socket_dir}"
        line = _one_line(_cli(url, "log", "never written"))
        assert "refused the password" in line
        assert "wrong" not in line  # the password is not printed
        good = f"postgresql+psycopg://learner:right@/learnerdb?host={pg.socket_dir}"
        assert _cli(good, "db", "current").exit_code == 0
        # nothing was written: the database is still empty
        with Database(good).read() as session:
            assert session.execute(text("SELECT to_regclass('journal_entries')")).scalar() is None
    finally:
        hba.write_text(original)
        pg.execute("SELECT pg_reload_conf()")


def test_missing_pg_trgm_is_one_line_and_writes_nothing(pg) -> None:  # noqa: ANN001
    """A user who may not create extensions in a database without pg_trgm."""
    pg.execute("CREATE ROLE plain LOGIN", "CREATE DATABASE notrgm")
    pg.execute(
        "GRANT CONNECT ON DATABASE notrgm TO plain",
        "REVOKE CREATE ON DATABASE notrgm FROM PUBLIC",
        database="postgres",
    )
    pg.execute("GRANT USAGE, CREATE ON SCHEMA public TO plain", database="notrgm")
    url = pg.url("notrgm", user="plain")
    line = _one_line(_cli(url, "log", "never written"))
    assert "pg_trgm" in line and "CREATE EXTENSION pg_trgm" in line
    with Database(pg.url("notrgm")).read() as session:
        assert (
            session.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar()
            == 0
        )
    # Once the owner adds it, the same user can start.
    pg.execute("CREATE EXTENSION pg_trgm", database="notrgm")
    assert _cli(url, "log", "now it works").exit_code == 0


def test_a_server_older_than_13_is_one_line(pg, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    url = pg.create_database("oldserver")
    monkeypatch.setattr(migrate, "server_version", lambda connection: 120016)
    line = _one_line(_cli(url, "log", "never written"))
    assert line.endswith("PostgreSQL 12.16 is too old: studylog needs PostgreSQL 13 or newer")
    with Database(url).read() as session:
        assert session.execute(text("SELECT to_regclass('journal_entries')")).scalar() is None


def test_backups_are_refused_with_one_line_naming_pg_dump(pg_db: Database) -> None:
    for args in (["db", "backup"], ["db", "backups"], ["db", "restore", "latest", "--yes"]):
        line = _one_line(_cli(pg_db.url, *args))
        assert "pg_dump" in line


def test_db_current_and_check_on_postgres(pg_db: Database) -> None:
    result = _cli(pg_db.url, "db", "check")
    assert result.exit_code == 0, result.output
    assert f"revision {migrate.HEAD_REVISION} is the newest" in result.output
    assert "@" in result.output and "password" not in result.output


# --- db copy -------------------------------------------------------------------------------


def _all_rows(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table as plain values, ordered by primary key (ids included)."""
    from sqlalchemy import select

    from studylog.storage.copy import _tables

    out = {}
    with db.read() as session:
        for table in _tables():
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
    return out


def _search_rows(db: Database) -> list[tuple]:
    with db.read() as session:
        return [
            tuple(r)
            for r in session.execute(
                text("SELECT rowid, kind, ref_id, title, body FROM search_index ORDER BY rowid")
            )
        ]


@pytest.fixture
def rich_sqlite(tmp_path) -> Database:  # noqa: ANN001
    """The JSON round-trip test's collection (something in every table) plus a demo result."""
    from studylog.storage.demo_models import DemoResult
    from tests.test_import_json import new_db, populate

    source = new_db(tmp_path / "source.db")
    populate(source, tmp_path)
    with source.write() as session:
        session.add(
            DemoResult(
                key="k" * 64,
                concept_slug="my-gelu",
                source_path=None,
                code_hash="c" * 64,
                python_version="3.11.7",
                numpy_version="2.1.0",
                status="ok",
                duration_ms=41,
                outputs=[{"kind": "array", "name": "어텐션 가중치", "data": [[0.25, 0.75]]}],
                error=None,
                traceback=None,
                limit_hit=None,
                truncated=False,
                ran_at=NOW,
            )
        )
    yield source
    source.dispose()


def test_db_copy_sqlite_to_postgres_and_back_keeps_every_row(
    rich_sqlite: Database, pg_db: Database, tmp_path
) -> None:  # noqa: ANN001
    from studylog.storage.copy import copy_collection
    from tests.test_import_json import export_doc, new_db

    # pg_db is migrated and empty, as a fresh `createdb` after its first start
    before = export_doc(rich_sqlite, tmp_path / "before.json")
    rows = _all_rows(rich_sqlite)
    assert all(rows[t] for t in ("cards", "reviews", "demo_results", "concepts", "settings"))
    report = copy_collection(rich_sqlite, pg_db)
    assert report.rows["reviews"] == len(rows["reviews"]) > 0
    # compared as the JSON round-trip test compares: every exported field ...
    on_postgres = export_doc(pg_db, tmp_path / "pg.json")
    assert on_postgres.keys() == before.keys()
    for key in before:
        assert on_postgres[key] == before[key], key
    # ... and every row of every table, ids, the demo cache and the settings included
    assert _all_rows(pg_db) == rows
    assert _search_rows(pg_db) == _search_rows(rich_sqlite)
    # and back into a new SQLite file
    back = new_db(tmp_path / "back.db")
    copy_collection(pg_db, back)
    assert _all_rows(back) == rows
    assert export_doc(back, tmp_path / "back.json") == before
    assert _search_rows(back) == _search_rows(rich_sqlite)
    # the copies go on working: new ids do not clash with the copied ones
    new_entry = journal.add(pg_db, "옮긴뒤첫글 🧠", date(2026, 12, 1), now=NOW)
    assert new_entry.id == max(r[0] for r in rows["journal_entries"]) + 1
    assert [h.ref for h in search.search(pg_db, "옮긴뒤첫글")] == [str(new_entry.id)]
    back.dispose()


def test_db_copy_refuses_a_non_empty_target_unless_told(
    rich_sqlite: Database, pg_db: Database, tmp_path
) -> None:  # noqa: ANN001
    journal.add(pg_db, "이미 있는 글", date(2026, 1, 1), now=NOW)
    kept = _all_rows(pg_db)
    result = _cli(rich_sqlite.url, "db", "copy", "--to", pg_db.url)
    line = _one_line(result)
    assert "is not empty" in line and "--replace" in line
    assert _all_rows(pg_db) == kept  # nothing written
    result = _cli(rich_sqlite.url, "db", "copy", "--to", pg_db.url, "--replace")
    assert result.exit_code == 0, result.output
    assert "Copied" in result.output
    assert _all_rows(pg_db) == _all_rows(rich_sqlite)


def test_db_copy_into_an_unreachable_server_is_one_line(rich_sqlite: Database, tmp_path) -> None:  # noqa: ANN001
    url = f"postgresql+psycopg://studylog@/studylog?host={tmp_path}"
    line = _one_line(_cli(rich_sqlite.url, "db", "copy", "--to", url))
    assert "cannot reach the PostgreSQL server" in line


def test_card_browser_words_ignore_case_on_postgresql(pg_db: Database) -> None:
    """The browser's word terms (ILIKE on PostgreSQL, LIKE on SQLite) give the same
    cards on both databases."""
    from studylog.services import browse, card_actions

    made = [
        cards.create(pg_db, "Attention 가중치", "softmax", now=NOW)[0].id,
        cards.create(pg_db, "LSTM attention", "게이트", now=NOW)[0].id,
        cards.create(pg_db, "GRU", "ATTENTION_weights", now=NOW)[0].id,
    ]
    page = browse.search(pg_db, "attention -lstm", now=NOW)
    assert [row.id for row in page.rows] == [made[0], made[2]]
    assert browse.search(pg_db, "attention_w", now=NOW).total == 1  # "_" is one character
    card_actions.suspend(pg_db, ids=[made[0]], now=NOW)
    assert browse.search(pg_db, "is:suspended", now=NOW).total == 1
    assert browse.search(pg_db, "-is:suspended attention", now=NOW).total == 2
    # prop:r and the sort by retrievability read their columns from the cursor
    from datetime import timedelta

    from studylog.services import review

    review.answer(pg_db, made[1], 3, now=NOW)
    later = NOW + timedelta(days=1)
    assert [r.id for r in browse.search(pg_db, "prop:r>0.5", now=later).rows] == [made[1]]
    ranked = browse.search(pg_db, "", sort="retrievability", descending=True, now=later)
    assert ranked.rows[0].id == made[1] and ranked.rows[0].retrievability > 0.5


def test_deck_list_counts_on_postgresql(pg_db: Database) -> None:
    """The deck list's grouped counts (count(*) FILTER (WHERE ...)) run on PostgreSQL."""
    from studylog.services import decks, review

    for i in range(3):
        cards.create(pg_db, f"RNN {i}", "a", deck="딥러닝::RNN", now=NOW)
    (suspended,) = cards.create(pg_db, "CNN", "a", deck="딥러닝::CNN", now=NOW)
    review.suspend(pg_db, suspended.id)
    listing = decks.list_decks(pg_db, now=NOW)
    rows = {r.name: (r.new, r.learning, r.review, r.total) for r in listing.decks}
    assert rows == {
        "딥러닝": (3, 0, 0, 4),
        "딥러닝::CNN": (0, 0, 0, 1),
        "딥러닝::RNN": (3, 0, 0, 3),
    }
