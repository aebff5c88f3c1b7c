"""The throwaway PostgreSQL of the tests and benchmarks leaves nothing running behind it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import pgcluster

REPO = Path(__file__).resolve().parents[1]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_sigterm_stops_the_cluster_and_removes_its_folder() -> None:
    """A run cancelled with SIGTERM (``timeout``, CI) stops its server and removes the
    folder, where Python alone would skip the atexit handlers and leave both behind."""
    if pgcluster.find_bindir() is None:
        pytest.skip(pgcluster.MISSING)
    script = (
        f"import sys, time; sys.path.insert(0, {str(REPO)!r}); from tests import pgcluster; "
        "c = pgcluster.Cluster(pgcluster.find_bindir()).start(); "
        "print(c.folder, flush=True); time.sleep(120)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(proc.stdout.readline().strip())
        postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        assert not _gone(postmaster)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == -signal.SIGTERM  # it still dies of the signal
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not folder.exists()
    for _ in range(100):  # pg_ctl waited for the pid file; the process itself ends just after
        if _gone(postmaster):
            break
        time.sleep(0.1)
    assert _gone(postmaster)
