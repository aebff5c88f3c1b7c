"""A throwaway PostgreSQL cluster for the tests and benchmarks: a temporary folder, a Unix socket.

:class:`Cluster` runs Debian's (or any) PostgreSQL binaries: ``initdb`` into a
new temporary folder, ``pg_ctl start`` listening only on a Unix socket in that
folder (no TCP port), and at :meth:`Cluster.stop` ``pg_ctl stop`` and the
folder removed: at the end of the process too, and on SIGTERM (nothing is
left running when CI cancels the run). PostgreSQL refuses to run as root, so
as root the server runs as the unprivileged user ``nobody`` (the folder is
given to it); the client connects over the socket as the cluster's superuser
``postgres`` with ``trust`` authentication, which only the socket's folder
reaches.

:func:`find_bindir` says where the binaries are, or None (the PostgreSQL
tests then skip with the reason :data:`MISSING`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

SUPERUSER = "postgres"
RUN_AS_WHEN_ROOT = "nobody"
MISSING = (
    "PostgreSQL's binaries (initdb, pg_ctl) were not found: install them "
    "(Debian: apt-get install postgresql postgresql-contrib) or set STUDYLOG_PG_BINDIR"
)


_RUNNING: list[Cluster] = []


def _stop_all_then_die(signum: int, _frame: object) -> None:
    """SIGTERM (``timeout``, a CI runner cancelling the job) ends Python without its
    atexit handlers: stop the running clusters first, then die of the signal as before."""
    for cluster in list(_RUNNING):
        cluster.stop()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _stop_on_sigterm() -> None:
    """Install :func:`_stop_all_then_die` unless SIGTERM is handled already (or this is not
    the main thread, where Python cannot set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stop_all_then_die)


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: ``$STUDYLOG_PG_BINDIR``, then ``PATH``,
    then the newest ``/usr/lib/postgresql/*/bin`` (Debian puts them there, off ``PATH``)."""
    env = os.environ.get("STUDYLOG_PG_BINDIR")
    candidates = [Path(env)] if env else []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)

    def version(p: Path) -> tuple[int, ...]:
        try:
            return tuple(int(x) for x in p.parent.name.split("."))
        except ValueError:
            return (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


class Cluster:
    """One running throwaway cluster (see the module docstring).

    Attributes:
        folder: the temporary folder (data in ``data/``, the socket in ``sock/``).
        socket_dir: the folder of the Unix socket (the URL's ``host``).
    """

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        """``durable``: the server's default durability (fsync on, as a real server);
        without it (the tests) fsync and synchronous commits are off, for speed."""
        self.bindir = bindir
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="studylog-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "sock"
        self.log = self.folder / "server.log"
        self._as_root = os.geteuid() == 0
        self._running = False

    # --- the server ----------------------------------------------------------------------

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", RUN_AS_WHEN_ROOT, "--", *command]
        return subprocess.run(
            command,
            check=True,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=self.folder,
            timeout=120,
        )

    def start(self) -> Cluster:
        """initdb and start the server; raise RuntimeError with the server's log if it fails."""
        self.socket_dir.mkdir()
        if self._as_root:
            shutil.chown(self.folder, RUN_AS_WHEN_ROOT)
            shutil.chown(self.socket_dir, RUN_AS_WHEN_ROOT)
            self.folder.chmod(0o755)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
            options = (
                f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
                "-c max_connections=200"
            )
            if not self.durable:
                options += (
                    " -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                    "-c shared_buffers=32MB"
                )
            self._run(
                "pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options
            )
        except subprocess.CalledProcessError as exc:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            self._remove()
            raise RuntimeError(
                f"the throwaway PostgreSQL did not start: {exc.stderr.strip()} {log[-2000:]}"
            ) from None
        self._running = True
        atexit.register(self.stop)
        _RUNNING.append(self)
        _stop_on_sigterm()
        return self

    def server_cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the server's processes (Linux ``/proc``),
        the postmaster and its children (backends, writers), those still running."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry.name), int(fields[1])
            if pid == postmaster or ppid == postmaster:
                # utime, stime, and the children's cutime, cstime (ended backends)
                total += sum(int(x) for x in fields[11:15])
        return total / ticks

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove the folder; safe to call twice."""
        if self._running:
            self._running = False
            if self in _RUNNING:
                _RUNNING.remove(self)
            try:
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                pass
        self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- databases -----------------------------------------------------------------------

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """The SQLAlchemy URL of ``database`` over the Unix socket."""
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements in autocommit (CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), user=SUPERUSER, dbname=database, autocommit=True
        ) as con:
            for statement in statements:
                con.execute(statement)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (from ``template`` if given) and return its URL."""
        extra = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self.execute(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"{extra}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
