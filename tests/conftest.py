"""Shared fixtures: a real database (an SQLite file in tmp_path, or PostgreSQL), a CLI runner.

The database URL is parametrised: a test module marked ``both_backends``
(``pytestmark = pytest.mark.both_backends``) runs each of its tests that use
``db``, ``db_url`` or ``run_cli`` (and not ``db_path``, which is an SQLite
file, nor marked ``sqlite_only``) once on SQLite and once on PostgreSQL. The PostgreSQL variants run in a
throwaway cluster (``tests/pgcluster.py``) that one session-scoped fixture
starts in a temporary folder on first use (one per xdist worker) and stops and
removes at the end; each test gets a database of its own, copied from a
migrated template. ``--backends sqlite`` (or ``postgresql``) runs one side only;
without PostgreSQL's binaries the PostgreSQL variants skip, saying why.
"""

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
from tests import pgcluster

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


BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=",".join(BACKENDS),
        help="the databases that tests marked both_backends run on (comma-separated: "
        "sqlite,postgresql)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: run this module's database tests on SQLite and PostgreSQL"
    )
    config.addinivalue_line(
        "markers",
        "sqlite_only: in a both_backends module, a test of SQLite's own behaviour "
        "(PRAGMAs, BEGIN IMMEDIATE, the file); its PostgreSQL counterpart is in "
        "tests/test_postgres.py",
    )
    wanted = [b.strip() for b in config.getoption("--backends").split(",") if b.strip()]
    unknown = set(wanted) - set(BACKENDS)
    if unknown or not wanted:
        raise pytest.UsageError(f"--backends: use sqlite and/or postgresql, not {wanted}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames or "db_path" in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_backends") is None:
        return
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    wanted = [b.strip() for b in metafunc.config.getoption("--backends").split(",") if b.strip()]
    metafunc.parametrize("backend", wanted, indirect=True, ids=wanted)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless the test is parametrised (module marked ``both_backends``)."""
    return getattr(request, "param", "sqlite")


class _Postgres:
    """The worker's throwaway cluster and its migrated template database."""

    TEMPLATE = "studylog_template"

    def __init__(self) -> None:
        self.cluster: pgcluster.Cluster | None = None
        self.problem: str | None = None
        self._count = 0

    def start(self) -> pgcluster.Cluster:
        if self.cluster is None and self.problem is None:
            bindir = pgcluster.find_bindir()
            try:
                import psycopg  # noqa: F401
            except ImportError:
                self.problem = "psycopg is not installed (pip install -e '.[test]')"
                bindir = None
            if bindir is None:
                self.problem = self.problem or pgcluster.MISSING
            else:
                try:
                    cluster = pgcluster.Cluster(bindir).start()
                    template = Database(cluster.create_database(self.TEMPLATE))
                    migrate.prepare(template)
                    template.dispose()
                    self.cluster = cluster
                except RuntimeError as exc:
                    self.problem = str(exc)
        if self.cluster is None:
            pytest.skip(f"PostgreSQL variant: {self.problem}")
        return self.cluster

    def new_database(self) -> tuple[str, str]:
        cluster = self.start()
        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        return name, cluster.create_database(name, template=self.TEMPLATE)

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


@pytest.fixture(scope="session")
def postgres() -> _Postgres:
    """The throwaway PostgreSQL of this worker (started on first use, removed at the end)."""
    server = _Postgres()
    yield server
    server.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "studylog.db"


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The test database: an SQLite file in tmp_path, or a new PostgreSQL database
    (migrated: copied from the template), dropped after the test."""
    if backend == "sqlite":
        yield str(request.getfixturevalue("db_path"))
        return
    server: _Postgres = request.getfixturevalue("postgres")
    name, url = server.new_database()
    yield url
    from tests.twins import out_of_step_postgres

    problems = out_of_step_postgres(url)
    server.cluster.drop_database(name)
    assert not problems, f"{name}: time twins out of step: {problems}"


def as_url(db_url: str) -> str:
    """The SQLAlchemy URL of the ``db_url`` fixture's value (a path on SQLite)."""
    return db_url if "://" in db_url else f"sqlite:///{db_url}"


@pytest.fixture
def db(db_url: str) -> Database:
    """A migrated, empty database (the pack is not synced)."""
    database = Database(as_url(db_url))
    migrate.prepare(database)
    yield database
    database.dispose()


@pytest.fixture
def calendar() -> StudyCalendar:
    return StudyCalendar(day_start_hour=4, zone=UTC)


@pytest.fixture
def run_cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``studylog ARGS`` against the test database with a fixed clock and UTC."""
    from studylog.cli import cli

    monkeypatch.setenv("STUDYLOG_DB", db_url)
    monkeypatch.setenv("STUDYLOG_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run
