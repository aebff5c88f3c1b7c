"""Kernel isolation for code that studylog runs: demos, imported code, the learner's own code.

A child process is wrapped in `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, Debian's ``bubblewrap`` package) when the kernel allows it. The
wrapped process gets

* its own **PID namespace**: it sees only its own processes in ``/proc`` (a
  fresh procfs), and every descendant, ``setsid`` or double ``fork`` or not,
  is killed by the kernel when the namespace's first process ends or is killed;
* its own **network namespace** with no interface but a down loopback: no
  connection to anything, on this machine or elsewhere;
* its own user, IPC, UTS and (where possible) cgroup namespaces, no
  capabilities, and ``no_new_privs`` (set-uid programs do not elevate);
* a **file system built from an allow-list**, read-only: ``/usr`` and the
  ``/bin``, ``/lib*`` links, a few files of ``/etc`` that the dynamic loader
  and the time zone need, the Python installation and its site-packages,
  the ``studylog`` package and the folders passed as ``readable``. The
  working directory passed as ``writable`` is the only writable place
  (besides the small ``/dev`` tmpfs that bwrap makes); with ``scratch_bytes``
  it is a fresh tmpfs of that size at the same path (what the code writes
  never reaches the disk and is gone when it ends; readable folders inside it
  are shown read-only on top). The user's home, the
  data folder, ``/tmp`` and everything else are absent; folders passed as
  ``hidden`` are covered with an empty tmpfs when they lie inside a bound
  folder (a database next to a virtual environment, say).

Where bwrap is missing or the kernel refuses user namespaces, :func:`detect`
says why, callers show it once (:func:`fallback_notice`), and the child runs
with the process limits alone (:mod:`studylog.demo.harness`): a guard against
runaway code, not against hostile code. ``STUDYLOG_SANDBOX=none`` forces that
fallback (for tests, or a kernel where the sandbox misbehaves);
``STUDYLOG_SANDBOX=bwrap`` makes a missing sandbox an error instead.

What is and is not contained is listed in ``docs/threat-model.md``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from studylog.errors import StudylogError

SANDBOX_ENV = "STUDYLOG_SANDBOX"
# What the dynamic loader, NumPy and the time zone read from /etc; nothing else
# of /etc is visible (no passwd, no shadow, no ssh or ssl keys).
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "alternatives",
)
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
PROBE_TIMEOUT_S = 5.0


class SandboxUnavailableError(StudylogError):
    """``STUDYLOG_SANDBOX=bwrap`` was asked for, but the kernel sandbox cannot be used."""


@dataclass(frozen=True)
class Isolation:
    """What isolation child processes get on this machine.

    Attributes:
        kind: ``bwrap`` (namespaces, see the module docstring) or ``none``
            (process limits only).
        reason: why there is no sandbox (``kind == "none"``), one line.
        bwrap: the bwrap executable, when ``kind == "bwrap"``.
        forced: the fallback was asked for (``STUDYLOG_SANDBOX=none``), so
            there is nothing to warn about.
    """

    kind: str
    reason: str | None = None
    bwrap: str | None = None
    forced: bool = False

    @property
    def isolated(self) -> bool:
        return self.kind == "bwrap"

    @property
    def notice(self) -> str | None:
        """The line to show when code runs without the sandbox, or None."""
        if self.isolated or self.forced:
            return None
        return (
            f"demos run without the kernel sandbox ({self.reason}): "
            "they are limited in time and memory but can read and write your files "
            "and use the network"
        )


def _base_args() -> list[str]:
    args = ["--unshare-all", "--die-with-parent"]
    if os.geteuid() == 0:
        # Root outside stays uid 0 inside the user namespace; without its
        # capabilities it cannot remount the read-only binds or mount anything.
        args += ["--cap-drop", "ALL"]
    return args


@lru_cache(maxsize=1)
def _probe(bwrap: str) -> str | None:
    """None if ``bwrap`` can make its namespaces here, else the reason (one line)."""
    args = [bwrap, *_base_args(), *_system_args(), "--proc", "/proc", "--", "/bin/true"]
    try:
        done = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} could not be run: {exc}"
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit code {done.returncode}"
        return f"the kernel refused the sandbox: {detail}"
    return None


def detect() -> Isolation:
    """The isolation available now (bwrap found and working, or why not).

    The probe (one ``bwrap ... true``, about 5 ms) runs once per process.

    Raises:
        SandboxUnavailableError: ``STUDYLOG_SANDBOX=bwrap`` and no sandbox.
    """
    wanted = os.environ.get(SANDBOX_ENV, "auto").strip().lower() or "auto"
    if wanted in ("none", "off", "0"):
        return Isolation("none", reason=f"{SANDBOX_ENV}={wanted}", forced=True)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        isolation = Isolation(
            "none", reason="bwrap is not installed; install the bubblewrap package"
        )
    elif not sys.platform.startswith("linux"):
        isolation = Isolation("none", reason=f"no kernel sandbox on {sys.platform}")
    else:
        reason = _probe(bwrap)
        isolation = Isolation("none", reason=reason) if reason else Isolation("bwrap", bwrap=bwrap)
    if wanted == "bwrap" and not isolation.isolated:
        raise SandboxUnavailableError(f"{SANDBOX_ENV}=bwrap, but {isolation.reason}")
    return isolation


_noticed: set[str] = set()


def fallback_notice(isolation: Isolation) -> str | None:
    """:attr:`Isolation.notice` the first time it is asked for in this process, then None."""
    notice = isolation.notice
    if notice is None or notice in _noticed:
        return None
    _noticed.add(notice)
    return notice


# --- the bind list --------------------------------------------------------------


@lru_cache(maxsize=1)
def _system_args() -> tuple[str, ...]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_LINKS:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return tuple(args)


@lru_cache(maxsize=1)
def _python_dirs() -> tuple[Path, ...]:
    """The interpreter, its standard library and site-packages, and the studylog package."""
    import studylog

    found: list[str] = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    paths = sysconfig.get_paths()
    found += [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    found.append(os.path.dirname(os.path.realpath(sys.executable)))
    found.append(os.path.dirname(os.path.abspath(sys.executable)))
    found.append(os.path.dirname(os.path.abspath(studylog.__file__)))
    return tuple(Path(p) for p in found if p)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _forbidden(path: Path, protected: Iterable[Path]) -> bool:
    """A folder that would show the home or data folder whole (``/``, ``/home``, ``~``)."""
    return any(_is_within(p, path) for p in protected)


def _bind_pairs(paths: Iterable[Path], protected: Sequence[Path]) -> list[tuple[str, str]]:
    """(source, destination) pairs, parents before children, each real path once."""
    pairs: dict[str, str] = {}
    for path in paths:
        for dest in {os.path.abspath(path), os.path.realpath(path)}:
            if not os.path.exists(dest) or _forbidden(Path(dest), protected):
                continue
            pairs.setdefault(dest, os.path.realpath(dest))
    return sorted(((src, dest) for dest, src in pairs.items()), key=lambda p: len(p[1]))


def command(
    argv: Sequence[str],
    *,
    writable: Path,
    readable: Sequence[Path] = (),
    hidden: Sequence[Path] = (),
    isolation: Isolation | None = None,
    scratch_bytes: int | None = None,
) -> list[str]:
    """``argv`` wrapped in bwrap (or unchanged when there is no sandbox).

    Args:
        argv: the program and its arguments; the program must lie in a
            folder that is bound (the Python interpreter does).
        writable: the one writable folder (the run's temporary directory); it
            is also the working directory.
        readable: more folders or files to show read-only at the same path
            (the demo folder, the pack's demo modules).
        hidden: folders never to show, even inside a bound folder (the data
            folder, the database's folder).
        isolation: from :func:`detect` (detected when None).
        scratch_bytes: when given, ``writable`` is not the host folder but a
            tmpfs of at most this many bytes at its path (``Limits.scratch_bytes``):
            files written there fill memory only up to the cap, never the disk.
    """
    isolation = isolation or detect()
    if not isolation.isolated:
        return list(argv)
    assert isolation.bwrap is not None
    home = Path(os.path.expanduser("~")).resolve()
    shown_hidden = [Path(os.path.realpath(p)) for p in hidden]
    protected = [home, *shown_hidden]
    args = [isolation.bwrap, *_base_args(), *_system_args()]
    pairs = _bind_pairs([*_python_dirs(), *readable], protected)
    workdir = os.path.realpath(writable)
    inside = [(src, dest) for src, dest in pairs if _is_within(Path(dest), Path(workdir))]
    for src, dest in pairs:
        if (src, dest) not in inside:
            args += ["--ro-bind", src, dest]
    if scratch_bytes is None:
        args += ["--bind", workdir, workdir]
    else:
        args += ["--size", str(int(scratch_bytes)), "--tmpfs", workdir]
    # Readable files inside the working folder (the code itself) go on top of it.
    for src, dest in inside:
        args += ["--ro-bind", src, dest]
    bound = [Path(dest) for _, dest in pairs]
    for folder in shown_hidden:
        # Only where a bound folder would show it; elsewhere it is absent anyway.
        if any(folder != b and _is_within(folder, b) for b in bound):
            args += ["--tmpfs", str(folder)]
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--chdir",
        workdir,
        "--remount-ro",
        "/",
        "--",
        *argv,
    ]
    return args
