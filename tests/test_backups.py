"""Backups and restore (issue 14), as Anki does them, and a lost database noticed.

The thinning rule is checked against the cases of Anki's own tests
(``rslib/src/collection/backup.rs``: ``thinning_manual`` with its expected
deletions, and ``thinning_generic`` restated: Sundays for weeks, month ends
for months). The faults of the reliability run are reproduced: a restore
mixed with the old WAL, ``db backup --out`` onto the live file, a deleted
database silently replaced by an empty one, reads failing on read-only media.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from studylog.storage import backups

REPO = Path(__file__).resolve().parents[1]
T = datetime(2022, 2, 22, 0, 0, tzinfo=UTC)


def fake(*args: int) -> backups.Backup:
    year, month, day, *hms = args
    hour, minute, second = (hms + [0, 0, 0])[:3]
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return backups.Backup(Path(f"b-{moment:%Y%m%d%H%M%S}"), moment, 0)


def test_thinning_matches_ankis_manual_case() -> None:
    # Anki's thinning_manual: limits daily 3, weekly 2, monthly 1; True = removed.
    cases = [
        (fake(2022, 2, 22), False),  # grace period: today and yesterday
        (fake(2022, 2, 22), False),
        (fake(2022, 2, 21), False),
        (fake(2022, 2, 20, 6, 0, 0), True),  # daily
        (fake(2022, 2, 20, 18, 0, 0), False),
        (fake(2022, 2, 10), False),
        (fake(2022, 2, 9), False),
        (fake(2022, 2, 7), True),  # weekly: Monday, week already backed up
        (fake(2022, 2, 6, 1, 0, 0), True),
        (fake(2022, 2, 6, 2, 0, 0), False),
        (fake(2022, 1, 6), False),
        (fake(2022, 1, 5), True),  # monthly
        (fake(2021, 12, 24), False),
        (fake(2021, 12, 1), True),
        (fake(2021, 11, 1), True),
    ]
    dropped = backups.obsolete([b for b, _ in cases], T, daily=3, weekly=2, monthly=1)
    assert sorted(b.path.name for b in dropped) == sorted(b.path.name for b, gone in cases if gone)
    assert len(dropped) == 6


def test_thinning_a_year_of_daily_backups_keeps_12_10_9() -> None:
    today = datetime(2022, 1, 1, tzinfo=UTC)
    year = [today - timedelta(days=i) for i in range(1, 366)]
    found = [backups.Backup(Path(f"b{i}"), m, 0) for i, m in enumerate(year)]
    dropped = {b.taken_at for b in backups.obsolete(found, today)}
    kept = sorted((m for m in year if m not in dropped), reverse=True)
    # Yesterday (grace), then 12 days, then 10 Sundays, then 9 month ends.
    assert kept[0].date() == date(2021, 12, 31)
    assert [k.date() for k in kept[1:13]] == [
        date(2021, 12, 30) - timedelta(days=i) for i in range(12)
    ]
    weekly = kept[13:23]
    assert all(k.weekday() == 6 for k in weekly) and len(weekly) == 10
    monthly = kept[23:]
    assert len(monthly) == 9
    assert all((k + timedelta(days=1)).month != k.month for k in monthly)


# --- automatic backups -------------------------------------------------------------------


def test_a_backup_before_the_first_write_then_not_again_for_30_minutes(run_cli, db_path) -> None:
    assert run_cli("log", "첫 글").exit_code == 0
    first = backups.list_backups(db_path)
    assert len(first) == 1
    assert run_cli("log", "두 번째 글").exit_code == 0  # within 30 minutes: no new backup
    assert backups.list_backups(db_path) == first
    made = backups.maybe_backup(db_path, now=first[0].taken_at + timedelta(minutes=31))
    assert made is not None  # changed, and older than 30 minutes
    assert (
        backups.maybe_backup(db_path, now=made.taken_at + timedelta(hours=2)) is None
    )  # unchanged
    listed = json.loads(run_cli("db", "backups", "--json").output)
    assert [Path(b["path"]) for b in listed] == [made.path, first[0].path]


def test_reading_commands_make_no_backup(run_cli, db_path) -> None:
    run_cli("log", "글")
    before = backups.list_backups(db_path)
    for args in (("today",), ("todo", "list"), ("search", "글"), ("today", "--json")):
        assert run_cli(*args).exit_code == 0
    assert backups.list_backups(db_path) == before


# --- restore ------------------------------------------------------------------------------

LEAVE_WAL = """
import sqlite3, os, sys
con = sqlite3.connect(sys.argv[1])
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA wal_autocheckpoint=0")
con.execute("INSERT INTO journal_entries (day, body, created_at, updated_at) "
            "VALUES ('2026-11-21', 'only in the WAL', '2026-11-21 10:00:00', '2026-11-21 10:00:00')")
con.commit()
os._exit(0)  # no close: the WAL keeps the committed frames
"""


def bodies(path: Path) -> list[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT body FROM journal_entries ORDER BY id")]
    finally:
        con.close()


def test_restore_latest_puts_the_backup_back_without_the_old_wal(run_cli, db_path) -> None:
    run_cli("log", "백업에 있는 글")  # the automatic backup is of the file before this
    assert run_cli("db", "backup").exit_code == 0  # a backup by hand, into the same folder
    backup = backups.list_backups(db_path)[0]
    assert bodies(backup.path) == ["백업에 있는 글"]
    run_cli("log", "백업 뒤에 쓴 글")
    subprocess.run([sys.executable, "-c", LEAVE_WAL, str(db_path)], check=True)
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the fault's setup: a live WAL
    result = run_cli("db", "restore", "latest", "--yes")
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert not wal.exists()
    assert bodies(db_path) == ["백업에 있는 글"]  # exactly the backup, nothing of the WAL
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    # What was replaced was backed up first, WAL included.
    safety = [b for b in backups.list_backups(db_path) if b.path != backup.path]
    assert any(
        bodies(b.path) == ["백업에 있는 글", "백업 뒤에 쓴 글", "only in the WAL"] for b in safety
    )
    assert json.loads(run_cli("today", "--json").output)["entries"][0]["body"] == "백업에 있는 글"


def test_restore_refuses_the_live_file_and_a_bad_backup(run_cli, db_path, tmp_path) -> None:
    run_cli("log", "글")
    result = run_cli("db", "restore", str(db_path), "--yes")
    assert result.exit_code == 1 and "is the live database" in result.output
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all")
    result = run_cli("db", "restore", str(junk), "--yes")
    assert result.exit_code == 1 and "not an SQLite database" in result.output
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.close()
    result = run_cli("db", "restore", str(other), "--yes")
    assert result.exit_code == 1 and "not a studylog database" in result.output
    assert bodies(db_path) == ["글"]


def test_backup_out_onto_the_live_file_is_refused(run_cli, db_path) -> None:
    run_cli("log", "글")
    before = db_path.read_bytes()
    for target in (db_path, db_path.with_name(db_path.name + "-wal")):
        result = run_cli("db", "backup", "--out", str(target))
        assert result.exit_code == 1, result.output
        assert "is the live database" in result.output
    assert db_path.read_bytes() == before


# --- a lost database ------------------------------------------------------------------------


def test_a_deleted_database_is_not_silently_replaced(run_cli, db_path) -> None:
    run_cli("log", "소중한 기록")
    run_cli("db", "backup")
    newest = backups.latest(db_path)
    db_path.unlink()
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    result = run_cli("today")
    assert result.exit_code == 1
    assert f"{db_path} is gone, but studylog used it before" in result.output
    assert str(newest.path) in result.output
    assert "db restore latest" in result.output and "db new" in result.output
    assert not db_path.exists()  # no empty journal was started
    assert run_cli("db", "restore", "latest", "--yes").exit_code == 0
    assert json.loads(run_cli("today", "--json").output)["entries"][0]["body"] == "소중한 기록"


def test_a_database_overwritten_with_junk_is_named(run_cli, db_path) -> None:
    run_cli("log", "글")
    db_path.write_bytes(b"\x00" * 4096)
    result = run_cli("log", "새 글")
    assert result.exit_code == 1
    assert "is not a database any more" in result.output
    assert db_path.read_bytes() == b"\x00" * 4096


def test_db_new_starts_an_empty_journal_on_purpose(run_cli, db_path) -> None:
    run_cli("log", "글")
    db_path.unlink()
    assert run_cli("today").exit_code == 1
    result = run_cli("db", "new", "--yes")
    assert result.exit_code == 0, result.output
    assert json.loads(run_cli("today", "--json").output)["entries"] == []


def test_a_first_ever_start_has_no_friction(run_cli, db_path) -> None:
    assert not db_path.exists()
    assert run_cli("today").exit_code == 0
    assert run_cli("log", "처음").exit_code == 0


def test_a_forgotten_database_without_backups_is_still_remembered(
    run_cli, db_path, tmp_path
) -> None:
    # Even with the backups folder gone, the state list remembers the file.
    run_cli("log", "글")
    shutil.rmtree(backups.folder_of(db_path))
    db_path.unlink()
    result = run_cli("today")
    assert result.exit_code == 1 and "there is no backup of it" in result.output


# --- read-only media ------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bwrap to make a read-only mount")
def test_a_database_on_read_only_media_opens_for_reading_and_export(
    run_cli, db_path, tmp_path
) -> None:
    run_cli("log", "읽기 전용 매체의 글")
    run_cli("todo", "add", "할 일")
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "STUDYLOG_DB": str(db_path)}
    ro = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(db_path.parent), str(db_path.parent)]
    if os.environ.get("STUDYLOG_STATE_DIR"):
        state = os.environ["STUDYLOG_STATE_DIR"]
        ro += ["--bind", state, state]
    ro += ["--bind", str(out), str(out), "--", sys.executable, "-m", "studylog"]

    def studylog(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*ro, *args], env=env, capture_output=True, text=True, timeout=120)

    today = studylog("today", "--json")
    assert today.returncode == 0, today.stderr
    assert json.loads(today.stdout)["entries"][0]["body"] == "읽기 전용 매체의 글"
    exported = studylog("export", "--format", "json", "--out", str(out / "backup.json"))
    assert exported.returncode == 0, exported.stderr
    assert "읽기 전용 매체의 글" in (out / "backup.json").read_text(encoding="utf-8")
    write = studylog("log", "쓰기")
    assert write.returncode == 1
    assert "read-only" in write.stderr and "Traceback" not in write.stderr


def test_backups_taken_in_the_same_second_list_the_last_one_first(db_path) -> None:
    # The suffixes -1, -2, ... mark later copies; by name "x-STAMP.db" sorts
    # after "x-STAMP-1.db", which made `db restore latest` take an older copy.
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    db = Database(f"sqlite:///{db_path}")
    migrate.prepare(db)
    db.dispose()
    moment = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
    made = [backups.make_backup(db_path, now=moment).path for _ in range(3)]
    assert [b.path for b in backups.list_backups(db_path)] == made[::-1]
    assert backups.latest(db_path).path == made[-1]


_COUNT_TODOS = (
    "import sqlite3, sys; con = sqlite3.connect(sys.argv[1]); "
    "print(con.execute('SELECT count(*) FROM todos').fetchone()[0]); con.close()"
)


def _todos_seen_by_another_process(path: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _COUNT_TODOS, str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_the_first_writes_backup_check_keeps_the_wal_of_a_running_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app keeps its connections open for hours. Its first write makes the automatic
    backup; reading the file's header with a plain open()/close() there dropped every
    POSIX lock the process held on the file (closing any descriptor of a file does), so
    the next other process that closed its connection (``studylog today``, ``sqlite3``)
    took itself for the last one, checkpointed and deleted the WAL, and the app's later
    commits went into the deleted file: lost. Found in tmux: a Browse undo that the app
    showed done was missing from the file."""
    from studylog.services import todos
    from studylog.storage.opening import open_prepared

    monkeypatch.setenv("STUDYLOG_STATE_DIR", str(tmp_path / "state"))
    path = tmp_path / "s.db"
    db = open_prepared(f"sqlite:///{path}")
    try:
        with db.read() as session:  # the app's pooled connection, open from here on
            session.connection().exec_driver_sql("SELECT 1")
        todos.add(db, "first write: the automatic backup runs before it", date(2026, 12, 3))
        assert db.last_backup is not None
        assert _todos_seen_by_another_process(path) == 1
        todos.add(db, "a later write", date(2026, 12, 3))
        assert _todos_seen_by_another_process(path) == 2  # (was 1: the write was lost)
    finally:
        db.dispose()
