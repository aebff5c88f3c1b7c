"""The demo runner: real child processes, real limits, real runaway code.

Each test writes a small demo file, runs it through
:func:`studylog.demo.runner.run_file` and checks the structured result. Limits
are kept small (1-2 s timeouts, 256 MiB) so the file runs in a few seconds.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from studylog.demo.limits import Limits, MiB
from studylog.demo.runner import RAW_CAP, DemoRunError, json_safe, run_code, run_file


def write_demo(folder: Path, body: str, name: str = "demo_file.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def outputs_of(result, kind: str) -> list[dict]:
    return [o for o in result.outputs if o["kind"] == kind]


def test_outputs_and_prints_keep_their_order(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        import numpy as np
        from studylog.demo import api as out

        def demo():
            print("first")
            out.value("sum", np.arange(5).sum())
            print("second", end="")
            print(" line")
            out.array("eye", np.eye(2), rows=["a", "b"])
        """,
    )
    result = run_file(demo)
    assert result.status == "ok", result.traceback
    assert [(o["kind"], o.get("text") or o.get("label")) for o in result.outputs] == [
        ("text", "first\n"),
        ("value", "sum"),
        ("text", "second line\n"),
        ("array", "eye"),
    ]
    assert result.outputs[1]["value"] == 10  # 0+1+2+3+4, sent as a plain int
    assert result.outputs[3]["data"] == [[1.0, 0.0], [0.0, 1.0]]
    assert result.numpy_version is not None
    assert result.duration_ms > 0
    json.dumps(result.to_json())  # everything is JSON-able


def test_infinite_loop_stops_at_the_timeout_and_keeps_earlier_outputs(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        from studylog.demo import api as out

        def demo():
            out.text("before the loop")
            while True:
                pass
        """,
    )
    result = run_file(demo, limits=Limits(timeout_s=1.0))
    assert result.status == "timeout"
    assert "1 s" in result.error
    assert [o["text"] for o in outputs_of(result, "text")] == ["before the loop"]


def test_cpu_limit_stops_a_busy_loop_with_status_limit(tmp_path: Path) -> None:
    demo = write_demo(tmp_path, "def demo():\n    while True:\n        pass\n")
    result = run_file(demo, limits=Limits(timeout_s=30.0, cpu_s=1))
    assert result.status == "limit"
    assert result.limit == "cpu"
    assert "CPU time limit of 1 s" in result.error


def test_memory_bomb_stops_at_the_address_space_limit(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        def demo():
            hog = []
            while True:
                hog.append(bytearray(8 * 1024 * 1024))
        """,
    )
    result = run_file(demo, limits=Limits(memory_bytes=256 * MiB, timeout_s=30.0))
    assert result.status == "limit"
    assert result.limit == "memory"
    assert "MemoryError" in result.traceback
    assert "256 MiB" in result.error


def test_numpy_imports_under_the_default_limit_and_a_huge_array_is_refused(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        import numpy as np
        from studylog.demo import api as out

        def demo():
            out.value("ok", float(np.ones((100, 100)).sum()))
            np.ones((100_000, 100_000))  # 74.5 GiB
        """,
    )
    result = run_file(demo)  # default limits: 1 GiB address space
    assert result.status == "limit"
    assert result.limit == "memory"
    assert outputs_of(result, "value")[0]["value"] == 10_000.0
    assert "74.5 GiB" in result.error


def processes_with_arg(marker: str) -> list[int]:
    """Host pids of live (not zombie) processes that have ``marker`` among their arguments."""
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


@pytest.mark.parametrize("hang", [False, True], ids=["returns", "hangs"])
def test_processes_started_by_the_demo_do_not_outlive_it(tmp_path: Path, hang: bool) -> None:
    # A unique sleep length marks the child among the host's processes (pids
    # inside the sandbox's PID namespace differ from the host's).
    marker = f"{1000 + os.getpid() % 1000}.{int(hang)}17"
    demo = write_demo(
        tmp_path,
        f"""
        import os, subprocess, time
        from studylog.demo import api as out

        def demo():
            child = subprocess.Popen(["sleep", "{marker}"])
            out.value("group", os.getpgid(0))
            out.value("child", child.pid)
            if {hang}:
                time.sleep(1000)
        """,
    )
    result = run_file(demo, limits=Limits(timeout_s=1.5))
    assert result.status == ("timeout" if hang else "ok")
    values = {o["label"]: o["value"] for o in outputs_of(result, "value")}
    assert values["child"] != values["group"]
    assert processes_with_arg(marker) == []


def test_a_forked_copy_of_the_demo_does_not_report(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        import os
        from studylog.demo import api as out

        def demo():
            pid = os.fork()
            out.text("parent" if pid else "forked child")
            if pid:
                os.waitpid(pid, 0)
        """,
    )
    result = run_file(demo)
    assert result.status == "ok"
    assert [o["text"] for o in result.outputs] == ["parent"]


def test_exception_returns_its_traceback_without_harness_frames(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        def helper(n):
            return [1, 2, 3][n]

        def demo():
            print("partial")
            helper(7)
        """,
    )
    result = run_file(demo)
    assert result.status == "error"
    assert result.error == "IndexError: list index out of range"
    assert result.traceback.startswith("Traceback (most recent call last):")
    assert f'File "{demo}", line 7, in demo' in result.traceback
    assert "in helper" in result.traceback
    assert "harness.py" not in result.traceback
    assert outputs_of(result, "text")[0]["text"] == "partial\n"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("import sys\ndef demo():\n    sys.exit(3)\n", "SystemExit: 3"),
        ("def demo():\n    return input()\n", "EOFError: EOF when reading a line"),
        ("def demo(:\n    pass\n", "SyntaxError"),
        ("x = 1\n", "defines no demo() function"),
        ("raise RuntimeError('at import')\ndef demo(): pass\n", "RuntimeError: at import"),
    ],
    ids=["sys-exit", "no-stdin", "syntax-error", "no-demo", "import-time"],
)
def test_other_failures_are_errors(tmp_path: Path, body: str, error: str) -> None:
    result = run_file(write_demo(tmp_path, body))
    assert result.status == "error"
    assert error in result.error


def test_output_flood_is_capped_and_reported(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        from studylog.demo import api as out

        def demo():
            for i in range(300_000):
                print("line", i)
            for i in range(5_000):
                out.value("i", i)
        """,
    )
    limits = Limits(max_output_bytes=64 * 1024, max_outputs=50)
    result = run_file(demo, limits=limits)
    assert result.status == "ok"
    assert result.truncated
    size = len(json.dumps(result.outputs))
    assert size <= limits.max_output_bytes + 1024  # the cap plus the final note
    note = result.outputs[-1]
    assert note["stream"] == "note" and "not kept" in note["text"]
    assert result.outputs[0]["text"].startswith("line 0\nline 1\n")


def test_process_level_output_is_capped(tmp_path: Path) -> None:
    demo = write_demo(
        tmp_path,
        """
        import os, subprocess

        def demo():
            os.write(1, b"x" * 5_000_000)
            subprocess.run(["echo", "from echo"])
        """,
    )
    result = run_file(demo)
    assert result.status == "ok"
    raw = [o for o in result.outputs if o.get("stream") == "process"]
    assert len(raw) == 1
    assert raw[0]["text"].startswith("x" * 1000)
    assert len(raw[0]["text"]) < RAW_CAP + 100
    assert "more bytes not kept" in raw[0]["text"]


def test_demo_imports_modules_of_its_folder_by_name(tmp_path: Path) -> None:
    (tmp_path / "helpers_for_demo.py").write_text("SCALE = 3\n", encoding="utf-8")
    demo = write_demo(
        tmp_path,
        """
        from helpers_for_demo import SCALE
        from studylog.demo import api as out

        def demo():
            out.value("scaled", 2 * SCALE)
        """,
    )
    assert run_file(demo).outputs == [
        {"kind": "value", "label": "scaled", "value": 6, "unit": None}
    ]


def test_pack_modules_are_importable_from_code_run_as_text() -> None:
    pack = Path(__file__).resolve().parents[1] / "content" / "demos"
    code = textwrap.dedent(
        """
        import numpy as np
        from common import softmax
        from studylog.demo import api as out

        def demo():
            out.array("p", softmax(np.log(np.array([1.0, 3.0]))))
        """
    )
    result = run_code(code, name="my-demo.py", paths=[pack])
    assert result.status == "ok", result.traceback
    # softmax(log x) = x / sum(x)
    assert result.outputs[0]["data"] == pytest.approx([0.25, 0.75])


def test_child_environment_and_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("STUDYLOG_TEST_SECRET", "do-not-pass")
    demo = write_demo(
        tmp_path,
        """
        import os, sys, threading, time
        from studylog.demo import api as out

        def demo():
            out.value("cwd", os.getcwd())
            out.value("home", os.environ.get("HOME"))
            out.value("secret", os.environ.get("STUDYLOG_TEST_SECRET"))
            out.value("blas", os.environ.get("OPENBLAS_NUM_THREADS"))
            out.value("isolated", sys.flags.isolated)
            open("scratch.txt", "w").write("temporary")
            # A non-daemon thread must not keep the process alive.
            threading.Thread(target=time.sleep, args=(1000,)).start()
        """,
    )
    result = run_file(demo, limits=Limits(timeout_s=5.0))
    assert result.status == "ok"
    values = {o["label"]: o["value"] for o in result.outputs}
    assert values["home"] == values["cwd"]
    assert Path(values["cwd"]).name.startswith("studylog-demo-")
    assert not Path(values["cwd"]).exists()  # removed after the run
    assert values["secret"] is None
    assert values["blas"] == "1"
    assert values["isolated"] == 1


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DemoRunError, match="no demo file"):
        run_file(tmp_path / "nope.py")


def test_json_safe_makes_strict_json() -> None:
    data = {"a": [float("nan"), float("inf"), -float("inf"), 1.5], "b": "x"}
    text = json.dumps(json_safe(data), allow_nan=False)
    assert json.loads(text) == {"a": ["NaN", "Infinity", "-Infinity", 1.5], "b": "x"}


def test_the_calling_process_keeps_working(tmp_path: Path) -> None:
    """After timeouts, kills and floods, a normal demo still runs and no descriptor leaks."""
    fds_before = len(os.listdir("/proc/self/fd"))
    loop = write_demo(tmp_path, "def demo():\n    while True: pass\n", name="loop.py")
    for _ in range(3):
        assert run_file(loop, limits=Limits(timeout_s=0.5)).status == "timeout"
    fine = write_demo(tmp_path, "def demo():\n    print('fine')\n", name="fine.py")
    assert run_file(fine).outputs[0]["text"] == "fine\n"
    assert len(os.listdir("/proc/self/fd")) == fds_before
