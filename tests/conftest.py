"""Shared fixtures: a real SQLite database file in tmp_path, and a CLI runner bound to it."""

from __future__ import annotations

import os

# Small matrices are far slower with multi-threaded BLAS on a busy 2-core
# machine; the demo runner pins one thread too. Set before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # everything the suite needs travels with it
# The real study notes beside the repository (not in a user's clone). Tests that
# read them are marked ``needs_shared`` and skip without them; tests/data/notes
# holds notes of our own that check the same rules.
SHARED = REPO.parent / "shared"
REVIEW_LOG = DATA / "reviews" / "review_logs_josh.csv"  # MIT, from py-fsrs (LICENSE-py-fsrs)

needs_shared = pytest.mark.skipif(
    not (SHARED / "samples" / "notes").is_dir(),
    reason="../shared/samples/notes (real learners' notes beside the repository) is absent; "
    "tests/data/notes covers the same rules",
)

# A fixed moment: Saturday 2026-11-21 10:00 UTC.
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:  # noqa: ANN001
    """The list of databases used before (studylog.storage.continuity) stays out of $HOME."""
    monkeypatch.setenv("STUDYLOG_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def _time_twins_stay_in_step(tmp_path: Path):
    """After each test, every database it left in tmp_path has its ``*_ms`` twins in step.

    This is how every write path the suite exercises (answers, undo, imports,
    reschedules, restores...) is checked against the rule of
    :mod:`studylog.storage.times`.
    """
    yield
    from tests.twins import out_of_step

    for path in sorted(tmp_path.rglob("*.db")):
        problems = out_of_step(path)
        assert not problems, f"{path.name}: time twins out of step: {problems}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "studylog.db"


@pytest.fixture
def db(db_path: Path) -> Database:
    """A migrated, empty database (the pack is not synced)."""
    database = Database(f"sqlite:///{db_path}")
    migrate.prepare(database)
    yield database
    database.dispose()


@pytest.fixture
def calendar() -> StudyCalendar:
    return StudyCalendar(day_start_hour=4, zone=UTC)


@pytest.fixture
def run_cli(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``studylog ARGS`` against the test database with a fixed clock and UTC."""
    from studylog.cli import cli

    monkeypatch.setenv("STUDYLOG_DB", str(db_path))
    monkeypatch.setenv("STUDYLOG_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run
