"""The kernel sandbox around demo code (issue 14): each fault the reliability run found.

Every isolation test runs a real demo through :func:`studylog.demo.runner.run_file`
/ :func:`run_code` under bubblewrap and checks what the code could do; where it
shows a fault of the old runner, the same demo also runs with
``STUDYLOG_SANDBOX=none`` to show that the test can tell the difference. The
fallback (no bwrap, a kernel that refuses namespaces) is tested on its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from studylog.demo import sandbox
from studylog.demo.limits import Limits
from studylog.demo.runner import run_code, run_file

REPO = Path(__file__).resolve().parents[1]
ISOLATION = sandbox.detect() if os.environ.get(sandbox.SANDBOX_ENV) is None else None
needs_bwrap = pytest.mark.skipif(
    ISOLATION is None or not ISOLATION.isolated,
    reason=f"no kernel sandbox here ({ISOLATION.reason if ISOLATION else 'forced off'}); "
    ".ci/run installs bubblewrap",
)


def demo_file(folder: Path, body: str) -> Path:
    path = folder / "probe_demo.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def values(result) -> dict:
    return {o["label"]: o["value"] for o in result.outputs if o["kind"] == "value"}


@pytest.fixture
def no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sandbox.SANDBOX_ENV, "none")


def live_with_arg(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if marker.encode() in args and stat[stat.rindex(")") + 2] != "Z":
            found.append(int(entry.name))
    return found


# --- what the sandbox contains ------------------------------------------------------


@needs_bwrap
def test_the_demo_sees_only_its_own_processes_and_not_the_parents_environment(
    tmp_path: Path,
) -> None:
    # The reliability run's demo read /proc/<ppid>/environ to find the data folder.
    demo = demo_file(
        tmp_path,
        f"""
        import os
        from studylog.demo import api as out

        def demo():
            out.value("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
            try:
                open("/proc/{os.getpid()}/environ", "rb").read()
                out.value("parent environ", "read")
            except OSError as exc:
                out.value("parent environ", type(exc).__name__)
            out.value("ppid", os.getppid())
        """,
    )
    result = run_file(demo)
    assert result.status == "ok", result.error
    assert result.sandbox == "bwrap"
    got = values(result)
    assert got["parent environ"] == "FileNotFoundError"
    assert got["pids"] == [1, 2]  # bwrap's init and the harness
    assert got["ppid"] == 1


@needs_bwrap
def test_the_database_and_its_folder_are_invisible_even_inside_a_readable_folder(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db_file = data / "studylog.db"
    db_file.write_bytes(b"SQLite format 3\0 journal")
    body = f"""
        import os
        from studylog.demo import api as out

        def demo():
            out.value("listing", sorted(os.listdir({str(tmp_path)!r})))
            out.value("exists", os.path.exists({str(db_file)!r}))
            try:
                with open({str(db_file)!r}, "wb") as f:
                    f.write(b"overwritten")
                out.value("write", "ok")
            except OSError as exc:
                out.value("write", type(exc).__name__)
            try:
                os.remove({str(db_file)!r})
                out.value("delete", "ok")
            except OSError as exc:
                out.value("delete", type(exc).__name__)
        """
    demo = demo_file(tmp_path, body)
    # The demo's folder (tmp_path) is readable, and data/ lies inside it.
    result = run_file(demo, hidden=[data])
    assert result.status == "ok", result.error
    got = values(result)
    assert got["exists"] is False
    assert got["write"] in ("FileNotFoundError", "OSError", "PermissionError")
    assert got["delete"] == "FileNotFoundError"
    assert db_file.read_bytes() == b"SQLite format 3\0 journal"


@needs_bwrap
def test_files_outside_the_allow_list_do_not_exist_for_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    key.write_text("PRIVATE KEY")
    monkeypatch.setenv("HOME", str(home))
    import pwd

    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    code = f"""
import os
from studylog.demo import api as out

def demo():
    for label, path in [("ssh key", {str(key)!r}), ("passwd", "/etc/passwd"),
                        ("shadow", "/etc/shadow")]:
        try:
            open(path, "rb").read()
            out.value(label, "read")
        except OSError as exc:
            out.value(label, type(exc).__name__)
    try:
        out.value("real home", sorted(os.listdir({str(real_home)!r})))
    except OSError as exc:
        out.value("real home", type(exc).__name__)
"""
    result = run_code(code)
    assert result.status == "ok", result.error
    got = values(result)
    assert got["ssh key"] == "FileNotFoundError"
    assert got["passwd"] == "FileNotFoundError"
    assert got["shadow"] == "FileNotFoundError"
    # The real home shows at most the folders that lead to the Python
    # installation (pyenv keeps it in ~/.pyenv), nothing else of it.
    leading = {
        p.relative_to(real_home).parts[0]
        for p in sandbox._python_dirs()
        if p.is_relative_to(real_home) and p != real_home
    }
    if got["real home"] != "FileNotFoundError":
        assert set(got["real home"]) <= leading


@needs_bwrap
def test_only_the_temporary_folder_is_writable(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    code = f"""
import os
from studylog.demo import api as out

def attempt(label, path):
    try:
        with open(path, "w") as f:
            f.write("x")
        out.value(label, "written")
    except OSError as exc:
        out.value(label, exc.strerror)

def demo():
    attempt("cwd", "result.txt")
    attempt("usr", "/usr/lib/studylog-probe")
    attempt("root", "/probe")
    attempt("tmp", "/tmp/studylog-probe")
    attempt("outside", {str(outside)!r})
    out.value("cwd is HOME", os.getcwd() == os.environ["HOME"])
"""
    result = run_code(code)
    assert result.status == "ok", result.error
    got = values(result)
    assert got["cwd"] == "written"
    assert got["usr"] == "Read-only file system"
    assert got["root"] == "Read-only file system"
    assert got["tmp"] in ("Read-only file system", "No such file or directory")
    assert got["outside"] in ("Read-only file system", "No such file or directory")
    assert got["cwd is HOME"] is True
    assert not outside.exists()
    assert not Path("/usr/lib/studylog-probe").exists()


@needs_bwrap
def test_many_files_cannot_fill_the_disk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Each file stays under file_bytes (RLIMIT_FSIZE); before the scratch cap
    # the run could write as many of them as its seconds allowed, to the disk.
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    code = """
import os
from studylog.demo import api as out

def demo():
    chunk = b"x" * (1 << 20)
    written = 0
    try:
        for n in range(40):
            with open(f"f{n}.bin", "wb") as f:
                for _ in range(8):
                    f.write(chunk)
                    written += 1
    except OSError as exc:
        out.value("error", exc.strerror)
    out.value("MiB", written)
"""
    limits = Limits(file_bytes=16 << 20, scratch_bytes=64 << 20)
    result = run_code(code, limits=limits)
    assert result.status == "ok", result.error
    got = values(result)
    assert got["error"] == "No space left on device"
    assert 56 <= got["MiB"] <= 64  # the cap, not the 320 MiB the loop asked for
    on_disk = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert on_disk < 1 << 20  # nothing of it reached the host's folder


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    server.close()


NET_CODE = """
import socket
from studylog.demo import api as out

def demo():
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        out.value("connect", "connected")
    except OSError as exc:
        out.value("connect", type(exc).__name__)
"""


@needs_bwrap
def test_no_network_not_even_the_hosts_loopback(listener, monkeypatch) -> None:
    port, accepted = listener
    result = run_code(NET_CODE.format(port=port))
    assert result.status == "ok", result.error
    assert values(result)["connect"] in ("ConnectionRefusedError", "OSError")
    assert accepted == []
    # Without the sandbox the same demo reaches the server: the test can tell.
    monkeypatch.setenv(sandbox.SANDBOX_ENV, "none")
    assert values(run_code(NET_CODE.format(port=port)))["connect"] == "connected"
    # The server thread accepts the connection from its backlog when it next runs: on a
    # loaded machine that can be after the demo ended.
    deadline = time.monotonic() + 10
    while not accepted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert accepted == [1]


ESCAPE_CODE = """
import os, time

def demo():
    # A grandchild in a session of its own: no process-group kill reaches it.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "{marker}"])
        os._exit(0)
    time.sleep(0.3)
"""


def _kill_marker(marker: str) -> None:
    for pid in live_with_arg(marker):
        os.kill(pid, signal.SIGKILL)


@needs_bwrap
def test_a_setsid_grandchild_dies_with_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = f"{2000 + os.getpid() % 1000}.31"
    try:
        result = run_code(ESCAPE_CODE.format(marker=marker))
        assert result.status == "ok", result.error
        time.sleep(0.2)
        assert live_with_arg(marker) == []
        # The old runner's fault, shown by the fallback: the grandchild lives on.
        monkeypatch.setenv(sandbox.SANDBOX_ENV, "none")
        assert run_code(ESCAPE_CODE.format(marker=marker)).status == "ok"
        assert len(live_with_arg(marker)) == 1
    finally:
        _kill_marker(marker)


@needs_bwrap
def test_the_sandbox_also_holds_a_demo_that_times_out() -> None:
    marker = f"{3000 + os.getpid() % 1000}.47"
    code = ESCAPE_CODE.format(marker=marker).replace("time.sleep(0.3)", "time.sleep(100)")
    try:
        result = run_code(code, limits=Limits(timeout_s=1.0))
        assert result.status == "timeout"
        time.sleep(0.2)
        assert live_with_arg(marker) == []
    finally:
        _kill_marker(marker)


# --- outputs written before a timeout ------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "none"])
@pytest.mark.parametrize("stuck", ["while True: pass", "time.sleep(100)"])
def test_prints_before_a_timeout_are_kept(
    monkeypatch: pytest.MonkeyPatch, mode: str, stuck: str
) -> None:
    monkeypatch.setenv(sandbox.SANDBOX_ENV, mode)
    code = f"import time\n\ndef demo():\n    print('step 1 done')\n    print('step 2 done')\n    {stuck}\n"
    result = run_code(code, limits=Limits(timeout_s=1.0))
    assert result.status == "timeout"
    texts = "".join(o["text"] for o in result.outputs if o["kind"] == "text")
    assert texts == "step 1 done\nstep 2 done\n"


# --- the general API for code that is not a demo (exercises) ---------------------------


def test_run_code_runs_a_script_with_helper_modules() -> None:
    result = run_code(
        "import solution\nprint(solution.add(2, 3))\n",
        files={"solution.py": "def add(a, b):\n    return a + b\n"},
        entry=None,
    )
    assert result.status == "ok", result.traceback
    assert [o["text"] for o in result.outputs] == ["5\n"]


def test_run_code_calls_the_named_entry_and_reports_its_exception() -> None:
    result = run_code("def check():\n    assert 1 + 1 == 3, 'wrong sum'\n", entry="check")
    assert result.status == "error"
    assert result.error == "AssertionError: wrong sum"


def test_run_code_refuses_a_helper_file_name_with_a_folder() -> None:
    from studylog.demo.runner import DemoRunError

    with pytest.raises(DemoRunError, match="module file name"):
        run_code("pass", files={"../evil.py": "x = 1"}, entry=None)


# --- the fallback ---------------------------------------------------------------------


def test_forced_fallback_still_applies_the_limits(no_sandbox: None) -> None:
    result = run_code("def demo():\n    while True:\n        pass\n", limits=Limits(timeout_s=0.5))
    assert result.status == "timeout"
    assert result.sandbox == "none"


def test_no_bwrap_is_said_once_visibly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox, "_noticed", set())
    isolation = sandbox.detect()
    assert isolation.kind == "none"
    assert "bwrap is not installed" in isolation.reason
    notice = sandbox.fallback_notice(isolation)
    assert notice is not None and "can read and write your files" in notice
    assert sandbox.fallback_notice(isolation) is None  # once per process
    result = run_code("def demo():\n    print('ran')\n")
    assert result.status == "ok" and result.sandbox == "none"


def test_a_kernel_that_refuses_namespaces_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Path(__file__).parent / "data" / "fake_bwrap_refuses.sh"
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: str(fake))
    sandbox._probe.cache_clear()
    try:
        isolation = sandbox.detect()
    finally:
        sandbox._probe.cache_clear()
    assert isolation.kind == "none"
    assert "kernel refused" in isolation.reason
    assert "Operation not permitted" in isolation.reason


def test_requiring_the_sandbox_without_one_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setenv(sandbox.SANDBOX_ENV, "bwrap")
    with pytest.raises(sandbox.SandboxUnavailableError, match="bwrap is not installed"):
        sandbox.detect()


def test_cli_demo_run_warns_once_on_stderr_without_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from studylog.cli import cli

    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox, "_noticed", set())
    demo = demo_file(tmp_path, "def demo():\n    print('hello')\n")
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "demo", "run", str(demo)])
    assert out.exit_code == 0, out.output
    assert "warning: demos run without the kernel sandbox (bwrap is not installed" in out.stderr
    assert out.stderr.count("warning:") == 1
    assert "hello" in out.stdout
    again = runner.invoke(
        cli, ["--db", str(tmp_path / "s.db"), "demo", "run", "--no-cache", str(demo)]
    )
    assert again.exit_code == 0 and "warning" not in again.stderr  # once per process


def test_forcing_the_fallback_is_not_warned_about(no_sandbox: None) -> None:
    isolation = sandbox.detect()
    assert isolation.kind == "none" and isolation.forced and isolation.notice is None


# --- unprivileged users -----------------------------------------------------------------

UNPRIVILEGED = """
import json, sys
from studylog.demo.runner import run_code
r = run_code('''
import os
from studylog.demo import api as out
def demo():
    out.value("uid", os.getuid())
    out.value("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
    out.value("root listing", sorted(os.listdir("/")))
''')
print(json.dumps({"status": r.status, "sandbox": r.sandbox, "error": r.error,
                  "values": {o["label"]: o["value"] for o in r.outputs if o["kind"] == "value"}}))
"""


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_the_sandbox_works_for_an_unprivileged_user() -> None:
    # Users run studylog unprivileged; here we are root, so drop to nobody.
    # Debian's /usr/bin/python3 is readable by nobody where this venv may not be.
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        pytest.skip("no system python3 to run as nobody")
    env = {"PATH": os.defpath, "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    probe = subprocess.run(
        [*drop, python, "-c", "import studylog.demo.runner"], env=env, capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot read the checkout at {REPO}")
    done = subprocess.run(
        [*drop, python, "-c", UNPRIVILEGED],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == "ok", report
    assert report["sandbox"] == "bwrap"
    assert report["values"]["uid"] == 65534
    assert report["values"]["pids"] == [1, 2]
    assert "root" not in report["values"]["root listing"] or REPO.is_relative_to("/root")
    assert "home" not in report["values"]["root listing"]


def test_sys_executable_is_reachable_in_the_sandbox_command(tmp_path: Path) -> None:
    # The bind list always holds the interpreter (resolved and as named).
    isolation = sandbox.Isolation("bwrap", bwrap="/usr/bin/bwrap")
    args = sandbox.command([sys.executable, "-c", "pass"], writable=tmp_path, isolation=isolation)
    binds = {args[i + 2] for i, a in enumerate(args) if a == "--ro-bind"}
    real = Path(os.path.realpath(sys.executable))
    assert any(real.is_relative_to(b) for b in binds)
    assert ["--bind", os.path.realpath(tmp_path), os.path.realpath(tmp_path)] == args[
        args.index("--bind") : args.index("--bind") + 3
    ]
    assert args[-3:] == [sys.executable, "-c", "pass"]
    # The home folder itself is never bound whole.
    assert os.path.realpath(Path.home()) not in binds
