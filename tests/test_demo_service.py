"""The demo service on a real SQLite file: cache, stale flags, trust, listing, and safety."""

from __future__ import annotations

import sqlite3
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from studylog.demo import cache as hashing
from studylog.demo.limits import Limits, MiB
from studylog.errors import InvalidInputError, NotFoundError
from studylog.services import demos
from studylog.storage import migrate
from studylog.storage.demo_models import DemoResult, TrustedCode
from studylog.storage.engine import Database
from studylog.storage.models import Base, Concept, JournalEntry

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pack demo folder in tmp_path, used instead of content/demos."""
    folder = tmp_path / "demos"
    folder.mkdir()
    monkeypatch.setattr(demos, "pack_demos_dir", lambda: folder)
    return folder


def write(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def add_concept(
    db: Database,
    slug: str,
    *,
    demo: str | None = None,
    demo_code: str | None = None,
    origin: str = "pack",
) -> None:
    with db.write() as session:
        session.add(
            Concept(
                slug=slug,
                title=slug.replace("-", " ").title(),
                aliases=[],
                body="",
                sources=[],
                related=[],
                demo=demo,
                demo_code=demo_code,
                origin=origin,
                created_at=NOW,
                updated_at=NOW,
            )
        )


COUNTING_DEMO = """
from helper_mod import FACTOR
from studylog.demo import api as out

def demo():
    with open({log!r}, "a") as log:
        log.write("run\\n")
    out.value("answer", 21 * FACTOR)
"""


@pytest.fixture
def counting(pack: Path, tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Concept 'counting' whose pack demo logs every real run to runs.log.

    The log lies outside the demo's temporary folder, where the kernel
    sandbox would not let it write: these tests are about the cache.
    """
    monkeypatch.setenv("STUDYLOG_SANDBOX", "none")
    log = tmp_path / "runs.log"
    write(pack / "helper_mod.py", "FACTOR = 2\n")
    write(pack / "counting.py", COUNTING_DEMO.format(log=str(log)))
    add_concept(db, "counting", demo="counting.py")
    return log


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_run_is_stored_and_shown_from_the_cache(db: Database, counting: Path) -> None:
    assert demos.cached(db, "counting") is None
    fresh = demos.run(db, "counting", now=NOW)
    assert fresh.result.status == "ok" and not fresh.cached and not fresh.stale
    assert fresh.result.outputs == [{"kind": "value", "label": "answer", "value": 42, "unit": None}]
    shown = demos.cached(db, "counting")
    assert shown is not None and shown.cached and not shown.stale
    assert shown.result.outputs == fresh.result.outputs
    assert shown.ran_at == NOW
    assert (shown.python_version, shown.numpy_version) == hashing.runtime_versions()
    with db.read() as session:
        row = session.scalar(select(DemoResult))
        source = demos.resolve(db, "counting")
        assert row.key == hashing.cache_key(source.code_hash, *hashing.runtime_versions())
        assert row.concept_slug == "counting" and row.duration_ms == fresh.result.duration_ms


def test_use_cache_reuses_only_a_fresh_ok_result(db: Database, counting: Path) -> None:
    demos.run(db, "counting", now=NOW)
    again = demos.run(db, "counting", use_cache=True, now=NOW + timedelta(hours=1))
    assert again.cached and again.ran_at == NOW
    assert runs(counting) == 1
    demos.run(db, "counting", now=NOW + timedelta(hours=2))  # explicit: runs again
    assert runs(counting) == 2
    with db.read() as session:  # one entry per concept: the newest
        assert session.scalar(select(func.count()).select_from(DemoResult)) == 1


def test_changed_code_marks_the_cached_result_stale(
    db: Database, counting: Path, pack: Path
) -> None:
    demos.run(db, "counting", now=NOW)
    demo_file = pack / "counting.py"
    demo_file.write_text(demo_file.read_text() + "\n# edited\n", encoding="utf-8")
    shown = demos.cached(db, "counting")
    assert shown.stale and shown.stale_reason == "code changed"
    assert shown.result.outputs[0]["value"] == 42  # still shown, marked stale
    rerun = demos.run(db, "counting", use_cache=True, now=NOW)
    assert not rerun.cached and runs(counting) == 2
    assert not demos.cached(db, "counting").stale


def test_a_changed_local_module_also_makes_it_stale(
    db: Database, counting: Path, pack: Path
) -> None:
    demos.run(db, "counting", now=NOW)
    write(pack / "helper_mod.py", "FACTOR = 3\n")
    assert demos.cached(db, "counting").stale
    assert demos.run(db, "counting", use_cache=True, now=NOW).result.outputs[0]["value"] == 63


def test_other_numpy_version_makes_it_stale(
    db: Database, counting: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demos.run(db, "counting", now=NOW)
    python_version, _ = hashing.runtime_versions()
    monkeypatch.setattr(hashing, "runtime_versions", lambda: (python_version, "0.0.1"))
    shown = demos.cached(db, "counting")
    assert shown.stale and shown.stale_reason == "Python/NumPy version changed"


def test_failed_results_are_stored_but_not_reused(db: Database, pack: Path) -> None:
    write(pack / "broken.py", "def demo():\n    raise KeyError('w')\n")
    add_concept(db, "broken", demo="broken.py")
    first = demos.run(db, "broken", now=NOW)
    assert first.result.status == "error" and "KeyError: 'w'" in first.result.error
    shown = demos.cached(db, "broken")
    assert shown.result.status == "error" and "raise KeyError" in shown.result.traceback
    second = demos.run(db, "broken", use_cache=True, now=NOW + timedelta(minutes=1))
    assert not second.cached and second.ran_at == NOW + timedelta(minutes=1)


def test_imported_code_runs_only_after_approval_of_that_exact_code(
    db: Database, pack: Path
) -> None:
    code = "from studylog.demo import api as out\n\ndef demo():\n    out.text('imported')\n"
    add_concept(db, "shared", demo_code=code, origin="import")
    assert demos.is_trusted(db, "shared") is False
    with pytest.raises(demos.UntrustedCodeError, match="studylog demo approve shared"):
        demos.run(db, "shared")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(DemoResult)) == 0

    shown = demos.resolve(db, "shared")
    with pytest.raises(InvalidInputError, match="changed"):
        demos.approve(db, "shared", expected_hash="0" * 64)
    assert demos.is_trusted(db, "shared") is False
    digest = demos.approve(db, "shared", expected_hash=shown.trust_hash, now=NOW)
    assert digest == hashing.trust_hash(code)
    assert demos.run(db, "shared").result.outputs[0]["text"] == "imported"

    with db.write() as session:  # a later import changes the code
        concept = session.scalar(select(Concept).where(Concept.slug == "shared"))
        concept.demo_code = code.replace("imported", "changed")
    assert demos.is_trusted(db, "shared") is False
    with pytest.raises(demos.UntrustedCodeError):
        demos.run(db, "shared")
    with db.read() as session:
        assert session.get(TrustedCode, digest).approved_at == NOW


def test_own_code_runs_without_approval_and_imports_pack_modules(db: Database, pack: Path) -> None:
    write(pack / "shared_helpers.py", "def double(x):\n    return 2 * x\n")
    code = (
        "from shared_helpers import double\nfrom studylog.demo import api as out\n\n"
        "def demo():\n    out.value('d', double(4))\n"
    )
    add_concept(db, "mine", demo_code=code, origin="user")
    result = demos.run(db, "mine").result
    assert result.status == "ok", result.traceback
    assert result.outputs[0]["value"] == 8


def test_pack_file_linked_by_an_imported_concept_is_trusted(db: Database, counting: Path) -> None:
    add_concept(db, "linked", demo="counting.py", origin="import")
    assert demos.is_trusted(db, "linked")


@pytest.mark.parametrize(
    "name", ["../outside.py", "/etc/passwd", "sub/x.py", "counting", ".hidden.py"]
)
def test_demo_names_must_be_plain_pack_file_names(db: Database, counting: Path, name: str) -> None:
    add_concept(db, "sneaky", demo=name, origin="import")
    with pytest.raises(InvalidInputError, match="must be a file name"):
        demos.run(db, "sneaky")


def test_missing_concept_demo_or_file_are_clear_errors(db: Database, pack: Path) -> None:
    add_concept(db, "plain")
    add_concept(db, "lost", demo="lost.py")
    with pytest.raises(NotFoundError, match="no concept with slug 'nope'"):
        demos.run(db, "nope")
    with pytest.raises(NotFoundError, match="has no demo"):
        demos.run(db, "plain")
    with pytest.raises(NotFoundError, match="does not exist"):
        demos.run(db, "lost")


def test_list_demos(db: Database, counting: Path, pack: Path) -> None:
    add_concept(db, "plain")
    add_concept(db, "imported", demo_code="def demo(): pass\n", origin="import")
    add_concept(db, "lost", demo="lost.py")
    demos.run(db, "counting", now=NOW)
    entries = {e.slug: e for e in demos.list_demos(db)}
    assert list(entries) == ["counting", "imported", "lost"]
    assert entries["counting"].last_status == "ok" and entries["counting"].stale is False
    assert entries["counting"].ran_at == NOW
    assert entries["counting"].demo == "counting.py" and entries["counting"].trusted
    assert entries["imported"].trusted is False and entries["imported"].last_status is None
    assert entries["lost"].demo == "lost.py"


def test_run_path_caches_by_file(db: Database, tmp_path: Path, pack: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    write(folder / "sibling.py", "N = 5\n")
    demo_file = write(
        folder / "my_demo.py",
        "from sibling import N\nfrom studylog.demo import api as out\n\n"
        "def demo():\n    out.value('n', N)\n",
    )
    first = demos.run_path(db, demo_file, now=NOW)
    assert first.slug is None and first.result.outputs[0]["value"] == 5
    again = demos.run_path(db, str(demo_file), use_cache=True)
    assert again.cached and again.ran_at == NOW
    with pytest.raises(InvalidInputError, match="not a Python file"):
        demos.run_path(db, write(folder / "notes.txt", "x"))
    with pytest.raises(NotFoundError):
        demos.run_path(db, folder / "absent.py")


def test_runaway_demos_lose_nothing_in_the_database(
    db: Database, db_path: Path, pack: Path
) -> None:
    bad = {
        "loop": ("def demo():\n    while True: pass\n", "timeout"),
        "bomb": (
            "def demo():\n    x = []\n    while True: x.append(bytearray(8 << 20))\n",
            "limit",
        ),
        "flood": ("def demo():\n    for i in range(200_000): print(i)\n", "ok"),
        "crash": ("def demo():\n    1 / 0\n", "error"),
        "spawn": (
            "import subprocess, time\ndef demo():\n"
            "    subprocess.Popen(['sleep', '1000'])\n    time.sleep(1000)\n",
            "timeout",
        ),
        "exit": ("import os\ndef demo():\n    os._exit(9)\n", "error"),
    }
    with db.write() as session:
        session.add(
            JournalEntry(day=NOW.date(), body="오늘은 LSTM", created_at=NOW, updated_at=NOW)
        )
    for slug, (code, _) in bad.items():
        add_concept(db, slug, demo_code=code, origin="user")
    for slug, (_, status) in bad.items():
        # The bomb must reach its memory limit and the flood (about 0.5 s of CPU) its
        # output cap, not the clock: on a busy machine (the suite runs on every core,
        # and a clone's run took 10 s for the bomb) give them 30 s. The others must
        # stop at 1 s.
        limits = Limits(
            timeout_s=30.0 if slug in ("bomb", "flood") else 1.0,
            memory_bytes=256 * MiB,
            max_output_bytes=32 * 1024,
        )
        assert demos.run(db, slug, limits=limits, now=NOW).result.status == status, slug
    with db.read() as session:
        assert session.scalar(select(JournalEntry.body)) == "오늘은 LSTM"
        assert session.scalar(select(func.count()).select_from(Concept)) == len(bad)
        assert session.scalar(select(func.count()).select_from(DemoResult)) == len(bad)
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    con = sqlite3.connect(db_path)  # another connection sees the same, committed data
    try:
        assert con.execute("SELECT count(*) FROM demo_results").fetchone()[0] == len(bad)
    finally:
        con.close()


def test_a_running_demo_holds_no_database_lock(
    db: Database, pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo and the test talk through files outside its temporary folder.
    monkeypatch.setenv("STUDYLOG_SANDBOX", "none")
    started, release = tmp_path / "started", tmp_path / "release"
    write(
        pack / "slow.py",
        f"""
        import os, time

        def demo():
            open({str(started)!r}, "w").close()
            while not os.path.exists({str(release)!r}):
                time.sleep(0.01)
        """,
    )
    add_concept(db, "slow", demo="slow.py")
    worker = threading.Thread(target=demos.run, args=(db, "slow"))
    worker.start()
    try:
        while not started.exists() and worker.is_alive():
            time.sleep(0.01)
        assert started.exists()
        with db.write() as session:  # would wait for the lock if the run held one
            session.add(
                JournalEntry(day=NOW.date(), body="meanwhile", created_at=NOW, updated_at=NOW)
            )
        assert worker.is_alive()  # the demo is still running: it waits for `release`
    finally:
        release.touch()
        worker.join()
    assert demos.cached(db, "slow").result.status == "ok"


def test_migration_0002_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    """Revision 0002 on its own (later revisions may follow it): tables as the models say."""
    from alembic import command

    database = Database(f"sqlite:///{tmp_path / 'only_0002.db'}")
    try:
        migrate.upgrade(database.engine, "0002")
        assert migrate.current_revision_of(database.path) == "0002"
        with database.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        mine = [d for d in diffs if "demo_results" in repr(d) or "trusted_code" in repr(d)]
        assert mine == []
        with database.engine.begin() as conn:
            command.downgrade(migrate._alembic_config(conn), "0001")
        with database.engine.connect() as conn:
            names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
        assert "demo_results" not in names and "trusted_code" not in names
        assert "concepts" in names
    finally:
        database.dispose()
