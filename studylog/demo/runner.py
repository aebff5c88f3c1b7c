"""Run a demo in a separate, limited Python process and collect its outputs.

The child is ``sys.executable -I studylog/demo/harness.py`` (isolated mode:
no PYTHON* variables, no user site, no script folder on ``sys.path``) in a new
session, so that it and everything it starts share one process group:

* a wall-clock timeout (default 10 s) kills the whole group with SIGKILL;
  after a normal end the group is killed too, so a ``sleep 1000`` started by
  the demo does not outlive it. The group is killed while the child is still
  an unreaped zombie, so its id cannot have been reused;
* CPU time, address space and file size are limited inside the child
  (:mod:`studylog.demo.harness`), with single-threaded BLAS so that NumPy
  imports under the address-space limit;
* stdin is ``/dev/null``, the working directory (and ``HOME``/``TMPDIR``) a
  fresh temporary directory that is removed afterwards, the environment a
  short allow-list;
* outputs are capped in the child and, as a second line of defence, the
  parent never keeps more than the cap plus a margin.

No ``preexec_fn`` is used: the app runs demos from a worker thread, and
``preexec_fn`` is not safe in a threaded parent.

The limits guard against runaway code (infinite loops, memory bombs, output
floods). Against hostile code the child also runs in the kernel sandbox of
:mod:`studylog.demo.sandbox` (bubblewrap: private PID and network
namespaces, a read-only allow-listed file system with only the temporary
directory writable); where the sandbox is unavailable the limits are all there
is, and :attr:`RunResult.sandbox` says ``none``. Imported code is also held
back by the trust check in :mod:`studylog.services.demos`.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studylog.demo import sandbox
from studylog.demo.harness import EXIT_CPU_LIMIT
from studylog.demo.limits import Limits, human_bytes
from studylog.errors import StudylogError

HARNESS = Path(__file__).resolve().with_name("harness.py")
RAW_CAP = 64 * 1024  # bytes of process-level output (C code, child processes) kept
PROTOCOL_SLACK = 256 * 1024  # room for the final note and traceback beyond the output cap
DRAIN_GRACE_S = 1.0  # after the group is killed, how long to wait for the pipes to close
STATUSES = ("ok", "error", "timeout", "limit")
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")
_SINGLE_THREAD = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


class DemoRunError(StudylogError):
    """The demo process could not be started at all."""


@dataclass
class RunResult:
    """The outcome of one demo run.

    Attributes:
        status: ``ok``, ``error`` (an exception, see ``traceback``),
            ``timeout`` (wall clock) or ``limit`` (see ``limit``).
        duration_ms: wall-clock milliseconds from starting the process until
            it ended or was killed.
        outputs: the output dicts in order (see :mod:`studylog.demo.api`);
            partial outputs of a run that failed are kept.
        error: one line: the exception, or what stopped the run.
        traceback: the demo's traceback (status ``error``, or ``limit`` by
            MemoryError), without the harness's frames.
        limit: ``cpu`` or ``memory`` when status is ``limit``.
        truncated: some outputs were dropped by the caps.
        numpy_version: NumPy's version if the demo imported it.
        cpu_ms: CPU milliseconds (user + system) the harness process used,
            as it reported them (None when it did not finish normally).
        sandbox: the isolation the run had: ``bwrap`` (kernel namespaces,
            see :mod:`studylog.demo.sandbox`) or ``none`` (limits only);
            None for a result read back from the cache.
    """

    status: str
    duration_ms: int
    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None
    limit: str | None = None
    truncated: bool = False
    numpy_version: str | None = None
    sandbox: str | None = None
    cpu_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        """``{"status", "duration_ms", "outputs"}`` plus the other fields that are set."""
        data: dict[str, Any] = {
            "status": self.status,
            "duration_ms": self.duration_ms,
            "outputs": self.outputs,
        }
        for key in ("error", "traceback", "limit"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.truncated:
            data["truncated"] = True
        if self.sandbox is not None:
            data["sandbox"] = self.sandbox
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            status=data["status"],
            duration_ms=int(data["duration_ms"]),
            outputs=list(data.get("outputs") or []),
            error=data.get("error"),
            traceback=data.get("traceback"),
            limit=data.get("limit"),
            truncated=bool(data.get("truncated", False)),
            sandbox=data.get("sandbox"),
        )


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by ``"NaN"``/``"Infinity"``/``"-Infinity"``.

    Python's json writes bare ``NaN``, which strict JSON parsers (jq,
    JavaScript) reject; ``studylog demo run --json`` prints this form instead.
    """
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def child_env(workdir: str) -> dict[str, str]:
    """The child's environment: locale and PATH kept, one BLAS thread, HOME in the temp dir."""
    env = {key: os.environ[key] for key in _ENV_KEEP if key in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update({name: "1" for name in _SINGLE_THREAD})
    env.update(HOME=workdir, TMPDIR=workdir)
    return env


def run_file(
    path: str | Path,
    *,
    limits: Limits | None = None,
    paths: list[Path] | None = None,
    hidden: list[Path] | None = None,
) -> RunResult:
    """Run the demo file at ``path``; its folder (then ``paths``) go on the child's sys.path.

    ``hidden`` folders (the data folder, the database's folder) are never
    visible to the demo, even inside a folder it may read (see
    :func:`studylog.demo.sandbox.command`).
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise DemoRunError(f"no demo file at {path}")
    search = [path.parent, *(paths or [])]
    with tempfile.TemporaryDirectory(prefix="studylog-demo-", ignore_cleanup_errors=True) as tmp:
        return _run(path, search, limits or Limits(), tmp, hidden or [])


def driver_script(driver: str, config: dict[str, Any]) -> str:
    """The source of a demo module that calls ``driver``'s ``main(CONFIG)`` (a module
    under ``studylog.demo``, e.g. ``exercise_driver``), for :func:`run_code`: the
    sandbox runs a ``demo()`` function, and ``config`` travels as a JSON literal."""
    return (
        f"from studylog.demo.{driver} import main\n\n"
        f"CONFIG = {json.dumps(config)}\n\n\n"
        "def demo():\n"
        "    main(CONFIG)\n"
    )


def run_code(
    code: str,
    *,
    name: str = "demo.py",
    limits: Limits | None = None,
    paths: list[Path] | None = None,
    files: dict[str, str] | None = None,
    entry: str | None = "demo",
    hidden: list[Path] | None = None,
) -> RunResult:
    """Run Python source text (user-written, imported or a learner's code) in the sandbox.

    This is the general entry point for running code studylog does not trust:
    the code runs in a child process under ``limits`` and, where the kernel
    allows it, in the sandbox of :mod:`studylog.demo.sandbox`.

    Args:
        code: the module's source, saved as ``name`` in a fresh temporary
            folder (the child's working directory, its only writable place).
        name: the file name shown in tracebacks.
        limits: time, memory and output caps (default :class:`Limits`).
        paths: folders put on the child's sys.path (the pack's demo folder,
            so that ``from common import softmax`` works); the code's own
            folder is not on it, so a demo named ``random.py`` cannot shadow
            the standard library.
        files: more modules (``{"solution.py": text}``) written next to the
            code and importable by it by name (``import solution``).
        entry: the function to call after the module has run (``demo``), or
            None to only run the module's top level, like a script.
        hidden: folders the code must never see (see :func:`run_file`).

    Returns:
        The :class:`RunResult`: ``ok``, ``error`` (with the traceback),
        ``timeout`` or ``limit``, with the outputs produced until then.
    """
    with tempfile.TemporaryDirectory(prefix="studylog-demo-", ignore_cleanup_errors=True) as tmp:
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        search = list(paths or [])
        if files:
            for file_name, text in files.items():
                module = Path(file_name).name
                if module != file_name or not module.endswith(".py") or module == name:
                    raise DemoRunError(f"files: {file_name!r} must be a module file name (x.py)")
                (code_dir / module).write_text(text, encoding="utf-8")
            search.insert(0, code_dir)
        demo = code_dir / Path(name).name
        demo.write_text(code, encoding="utf-8")
        return _run(demo, search, limits or Limits(), tmp, hidden or [], entry=entry)


class _Collector:
    """Reads the protocol and raw pipes, keeping at most the caps in memory."""

    def __init__(self, limits: Limits) -> None:
        self.proto_cap = limits.max_output_bytes + PROTOCOL_SLACK
        self.proto_seen = 0
        self.pending = b""
        self.outputs: list[dict[str, Any]] = []
        self.done: dict[str, Any] | None = None
        self.overflow = False
        self.raw = bytearray()
        self.raw_dropped = 0

    def feed_protocol(self, chunk: bytes) -> None:
        self.proto_seen += len(chunk)
        if self.proto_seen > self.proto_cap:
            # The harness caps outputs itself; getting here means the demo
            # wrote to the pipe directly. Keep what fits, discard the rest.
            self.overflow = True
            return
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            self._message(line)

    def _message(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return  # a line cut by a signal handler; the exit code still tells the story
        if not isinstance(message, dict):
            return
        if isinstance(message.get("output"), dict) and "kind" in message["output"]:
            self.outputs.append(message["output"])
        elif isinstance(message.get("done"), dict):
            self.done = message["done"]

    def feed_raw(self, chunk: bytes) -> None:
        room = RAW_CAP - len(self.raw)
        self.raw += chunk[:room]
        self.raw_dropped += max(0, len(chunk) - room)

    def raw_text(self) -> str:
        text = self.raw.decode("utf-8", "replace")
        if self.raw_dropped:
            text += f"\n[... {self.raw_dropped} more bytes not kept]"
        return text


def _exited_without_reaping(pid: int) -> bool:
    waitid = getattr(os, "waitid", None)
    if waitid is None:  # pragma: no cover - platforms without waitid
        return False
    info = waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return info is not None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _pump(
    proc: subprocess.Popen[bytes], collector: _Collector, deadline: float
) -> tuple[bool, float]:
    """Read until the child exits or the deadline passes; return (timed_out, end time)."""
    assert proc.stdout is not None and proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, collector.feed_protocol)
    selector.register(proc.stderr, selectors.EVENT_READ, collector.feed_raw)
    pidfd = None
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            pidfd = pidfd_open(proc.pid)
            selector.register(pidfd, selectors.EVENT_READ, None)
        except OSError:
            pidfd = None
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True, time.monotonic()
            # Without a pidfd the exit is noticed by polling every 20 ms.
            wait = remaining if pidfd is not None else min(remaining, 0.02)
            exited = False
            for key, _ in selector.select(wait):
                if key.data is None:
                    exited = True
                    continue
                chunk = os.read(key.fd, 65536)
                if chunk:
                    key.data(chunk)
                else:
                    selector.unregister(key.fileobj)
            if pidfd is None and not exited:
                exited = _exited_without_reaping(proc.pid)
            if exited:
                return False, time.monotonic()
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)


def _drain(proc: subprocess.Popen[bytes], collector: _Collector, grace: float) -> None:
    """Read what is left in the pipes until both close or ``grace`` seconds pass."""
    assert proc.stdout is not None and proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, collector.feed_protocol)
    selector.register(proc.stderr, selectors.EVENT_READ, collector.feed_raw)
    end = time.monotonic() + grace
    try:
        while selector.get_map():
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    key.data(chunk)
                else:
                    selector.unregister(key.fileobj)
    finally:
        selector.close()


def _spawn(
    demo: Path,
    paths: list[Path],
    limits: Limits,
    workdir: str,
    hidden: list[Path],
    *,
    entry: str | None,
    deadline: float | None,
    preload: tuple[str, ...] = (),
) -> tuple[subprocess.Popen[bytes], sandbox.Isolation]:
    """Start the harness on ``demo`` in the sandbox. ``deadline`` None: the harness
    imports ``preload`` and waits for its deadline on stdin (:func:`prestart`)."""
    config = {
        "demo": str(demo),
        "paths": [str(p) for p in paths],
        "limits": limits.to_json(),
        "entry": entry,
        "deadline": deadline,
    }
    if deadline is None:
        config.update(wait=True, preload=list(preload))
    isolation = sandbox.detect()
    argv = sandbox.command(
        [sys.executable, "-I", str(HARNESS), json.dumps(config)],
        writable=Path(workdir),
        readable=[demo, *paths],
        hidden=hidden,
        isolation=isolation,
        scratch_bytes=limits.scratch_bytes,
    )
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if deadline is None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=child_env(workdir),
            start_new_session=True,
        )
    except OSError as exc:
        raise DemoRunError(
            f"cannot start the demo process ({sys.executable}): {exc.strerror}"
        ) from None
    return proc, isolation


def _finish(
    proc: subprocess.Popen[bytes],
    isolation: sandbox.Isolation,
    limits: Limits,
    deadline: float,
    started: float,
) -> RunResult:
    """Read the running child until it ends or ``deadline`` passes; interpret what it said."""
    collector = _Collector(limits)
    ended = started
    timed_out = False
    try:
        timed_out, ended = _pump(proc, collector, deadline)
    finally:
        # Always, also after a normal end: processes the demo started must
        # not outlive it. The child is not reaped yet, so the group id is safe.
        _kill_group(proc.pid)
        _drain(proc, collector, DRAIN_GRACE_S)
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    result = _interpret(collector, proc.returncode, timed_out, limits)
    result.duration_ms = round((ended - started) * 1000)
    result.sandbox = isolation.kind
    return result


def _run(
    demo: Path,
    paths: list[Path],
    limits: Limits,
    workdir: str,
    hidden: list[Path],
    *,
    entry: str | None = "demo",
) -> RunResult:
    # CLOCK_MONOTONIC is the same clock in the child (bwrap makes no time
    # namespace): the harness sends its pending prints just before this.
    deadline = time.monotonic() + limits.timeout_s
    proc, isolation = _spawn(demo, paths, limits, workdir, hidden, entry=entry, deadline=deadline)
    return _finish(proc, isolation, limits, deadline, time.monotonic())


# --- a child started ahead -------------------------------------------------------------


@dataclass
class Prestarted:
    """A sandboxed harness started ahead, NumPy imported, waiting for its code (used once).

    Made by :func:`prestart`, run by :func:`run_prestarted`. ``key`` says what it
    was started for (name, paths, hidden folders, limits): only code that would
    run with exactly those may use it.
    """

    key: tuple[Any, ...]
    proc: subprocess.Popen[bytes]
    isolation: sandbox.Isolation
    folder: tempfile.TemporaryDirectory[str]
    code_dir: Path
    demo: Path
    limits: Limits

    def alive(self) -> bool:
        return self.proc.poll() is None

    def discard(self) -> None:
        """End the waiting child and remove its folder."""
        if self.proc.poll() is None:
            _kill_group(self.proc.pid)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        self.folder.cleanup()


class Ahead:
    """One sandboxed child started ahead (:func:`prestart`) for the next run of a kind.

    A run in a fresh sandbox costs a Python start and the NumPy import (70-100 ms
    of CPU, more under load), while a computed card's template takes well under a
    millisecond. So the child for the next run is started in the background while
    the learner reads or answers (issue 15: a computed card <= 150 ms, a check
    <= 300 ms beyond the learner's code). The next run with the same sandbox
    arguments (:func:`prestart_key`) takes it; any other runs cold. Each child
    runs one code, so runs never share a process.

    The child is started by one long-lived thread: bwrap's ``--die-with-parent``
    ends a sandbox when the *thread* that started it ends, so it must not be a
    worker thread that finishes. At exit the waiting child is ended.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Future[Prestarted] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def take(self, key: tuple[Any, ...]) -> Prestarted | None:
        """The child started for ``key`` (waiting for its start to finish), else None."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return None
        try:
            child = pending.result()
        except Exception:  # noqa: BLE001 - could not start: the cold run reports the problem
            return None
        if child.key == key and child.alive():
            return child
        child.discard()
        return None

    def start(self, key: tuple[Any, ...], make: Callable[[], Prestarted]) -> None:
        """Start the next child in the background (replacing one not taken)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="run-ahead")
                atexit.register(self.close)
            old, self._pending = self._pending, self._executor.submit(make)
        if old is not None:
            old.add_done_callback(_discard_started)

    def close(self) -> None:
        """End the waiting child, if any (at exit, and in tests)."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            pending.add_done_callback(_discard_started)


def _discard_started(future: Future[Prestarted]) -> None:
    try:
        future.result().discard()
    except Exception:  # noqa: BLE001,S110 - it never started: nothing to end
        pass


def prestart_key(
    name: str, limits: Limits, paths: list[Path], hidden: list[Path]
) -> tuple[Any, ...]:
    """What a child started ahead depends on: the arguments, the environment it is given
    (:func:`child_env`) and the sandbox asked for (``STUDYLOG_SANDBOX``)."""
    environment = tuple(os.environ.get(k) for k in (*_ENV_KEEP, sandbox.SANDBOX_ENV))
    limits_json = json.dumps(limits.to_json(), sort_keys=True)
    return (name, limits_json, tuple(paths), tuple(hidden), environment)


def prestart(
    *,
    name: str,
    limits: Limits,
    paths: list[Path],
    hidden: list[Path],
    preload: tuple[str, ...] = ("numpy",),
) -> Prestarted:
    """Start a harness for :func:`run_code`'s arguments ahead of the code it will run.

    The child is the one :func:`run_code` starts (same sandbox, limits, folders),
    except that it imports ``preload`` under its limits and then waits; the code
    and its files are written into its folder when :func:`run_prestarted` gives
    them, and only then does its wall-clock time start. Each child runs one
    code, so nothing one run leaves behind reaches the next. Raises DemoRunError
    when the process cannot start.
    """
    folder = tempfile.TemporaryDirectory(prefix="studylog-demo-", ignore_cleanup_errors=True)
    code_dir = Path(folder.name) / "code"
    code_dir.mkdir()
    demo = code_dir / Path(name).name
    demo.write_text("", encoding="utf-8")  # bound into the sandbox now, written at the go
    try:
        proc, isolation = _spawn(
            demo,
            [code_dir, *paths],
            limits,
            folder.name,
            hidden,
            entry="demo",
            deadline=None,
            preload=preload,
        )
    except BaseException:
        folder.cleanup()
        raise
    key = prestart_key(name, limits, paths, hidden)
    return Prestarted(key, proc, isolation, folder, code_dir, demo, limits)


def run_prestarted(child: Prestarted, code: str, files: dict[str, str] | None = None) -> RunResult:
    """Run ``code`` (and ``files``, as :func:`run_code`) in the waiting ``child``; once."""
    try:
        for file_name, text in (files or {}).items():
            module = Path(file_name).name
            if module != file_name or not module.endswith(".py") or module == child.demo.name:
                raise DemoRunError(f"files: {file_name!r} must be a module file name (x.py)")
            (child.code_dir / module).write_text(text, encoding="utf-8")
        child.demo.write_text(code, encoding="utf-8")  # the same inode the sandbox sees
        deadline = time.monotonic() + child.limits.timeout_s
        started = time.monotonic()
        assert child.proc.stdin is not None
        try:
            child.proc.stdin.write(json.dumps({"deadline": deadline}).encode() + b"\n")
            child.proc.stdin.close()
        except OSError:
            pass  # it died while waiting: _finish reports what it said
        return _finish(child.proc, child.isolation, child.limits, deadline, started)
    finally:
        child.folder.cleanup()


def _interpret(
    collector: _Collector, returncode: int, timed_out: bool, limits: Limits
) -> RunResult:
    done = collector.done
    raw = collector.raw_text()
    truncated = collector.overflow
    if done is not None:
        status = done.get("status")
        if status not in STATUSES:
            status = "error"
        result = RunResult(
            status=status,
            duration_ms=0,
            outputs=collector.outputs,
            error=done.get("error"),
            traceback=done.get("traceback"),
            limit=done.get("limit"),
            truncated=truncated or bool(done.get("truncated")),
            numpy_version=done.get("numpy"),
            cpu_ms=done.get("cpu_ms"),
        )
        if result.limit == "memory":
            result.error = (
                f"{result.error} (address-space limit {human_bytes(limits.memory_bytes)})"
            )
        elif result.limit == "cpu":
            result.error = f"CPU time limit of {limits.effective_cpu_s} s reached"
    elif timed_out:
        result = RunResult(
            status="timeout",
            duration_ms=0,
            outputs=collector.outputs,
            error=f"stopped after {limits.timeout_s:g} s (wall-clock timeout)",
            truncated=truncated,
        )
    elif returncode in (EXIT_CPU_LIMIT, -signal.SIGXCPU, -signal.SIGKILL):
        # SIGKILL that we did not send: the hard CPU limit (code stuck in C).
        result = RunResult(
            status="limit",
            duration_ms=0,
            outputs=collector.outputs,
            error=f"CPU time limit of {limits.effective_cpu_s} s reached",
            limit="cpu",
            truncated=truncated,
        )
    else:
        result = RunResult(
            status="error",
            duration_ms=0,
            outputs=collector.outputs,
            error=f"the demo process ended without a result (exit code {returncode})",
            traceback=raw or None,
            truncated=truncated,
        )
        raw = ""
    if raw.strip():
        # Process-level output (C code, programs the demo started), order unknown.
        result.outputs.append({"kind": "text", "text": raw, "stream": "process"})
    return result
