"""Benchmark of the demo runner: overhead of an empty demo, and the whole concept pack.

Run::

    .venv/bin/python benchmarks/bench_demo_runner.py            # 20 empty runs, pack x 3
    .venv/bin/python benchmarks/bench_demo_runner.py --repeat 5 --pack-repeat 1

Prints tables of medians (wall-clock, as the user waits for them: process
start, NumPy import, the demo, reading the outputs, cleanup), and the CPU time
of the child processes. Each empty demo runs in alternating blocks with the
kernel sandbox (bubblewrap, when available) and without it
(``STUDYLOG_SANDBOX=none``), so the sandbox's overhead is measured under the
same machine load. The target for an empty demo that imports NumPy is
<= 150 ms. This is a measurement, not a test: nothing fails when a number is high.
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studylog.demo import sandbox  # noqa: E402
from studylog.demo.limits import Limits  # noqa: E402
from studylog.demo.runner import run_file  # noqa: E402

MODES = ("sandbox", "none")
BLOCK = 5  # runs per block; blocks of the two modes alternate

TARGET_MS = 150.0
EMPTY_DEMOS = {
    "empty (stdlib only)": "def demo():\n    pass\n",
    "empty + import numpy": "import numpy as np\n\ndef demo():\n    pass\n",
    "numpy + one output": (
        "import numpy as np\nfrom studylog.demo import api as out\n\n"
        "def demo():\n    out.array('x', np.eye(3))\n"
    ),
}


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def timed_runs(
    path: Path, repeat: int, limits: Limits, cpu: list[float] | None = None
) -> tuple[list[float], list[int], str, int]:
    """(wall ms as measured here, duration_ms reported, last status, outputs of the last run).

    CPU ms of the child processes (user + system) per run are appended to ``cpu``.
    """
    wall: list[float] = []
    reported: list[int] = []
    status, n_outputs = "?", 0
    for _ in range(repeat):
        cpu_before = _children_cpu_ms()
        start = time.perf_counter()
        result = run_file(path, limits=limits)
        wall.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            # Processes in the sandbox's PID namespace are reaped by bwrap's
            # init, not by us, so RUSAGE_CHILDREN misses the harness there:
            # add the CPU time it reports for itself.
            spent = _children_cpu_ms() - cpu_before
            if result.sandbox != "none":
                spent += result.cpu_ms or 0.0
            cpu.append(spent)
        reported.append(result.duration_ms)
        status, n_outputs = f"{result.status}, {result.sandbox}", len(result.outputs)
    return wall, reported, status, n_outputs


def _set_mode(mode: str) -> None:
    if mode == "none":
        os.environ[sandbox.SANDBOX_ENV] = "none"
    else:
        os.environ.pop(sandbox.SANDBOX_ENV, None)


def alternating(path: Path, repeat: int) -> dict[str, tuple[list[float], list[float], str]]:
    """Per mode: (wall ms, CPU ms, last status), run in alternating blocks of BLOCK runs."""
    found: dict[str, tuple[list[float], list[float], str]] = {m: ([], [], "?") for m in MODES}
    done = 0
    while done < repeat:
        n = min(BLOCK, repeat - done)
        for mode in MODES:
            _set_mode(mode)
            wall, cpu, _ = found[mode]
            block_wall, _, status, _ = timed_runs(path, n, Limits(), cpu)
            found[mode] = (wall + block_wall, cpu, status)
        done += n
    _set_mode("sandbox")
    return found


def has_demo(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return False
    return any(isinstance(node, ast.FunctionDef) and node.name == "demo" for node in tree.body)


def bench_empty(console: Console, repeat: int) -> None:
    isolation = sandbox.detect()
    title = f"Runner overhead ({repeat} runs each, alternating blocks of {BLOCK})"
    if not isolation.isolated:
        title += f" -- no sandbox here: {isolation.reason}"
    table = Table(title=title, header_style="bold")
    for col in ("demo", "mode", "median ms", "min ms", "max ms", "CPU median ms", "target"):
        table.add_column(col, justify="left" if col in ("demo", "mode") else "right")
    with tempfile.TemporaryDirectory() as tmp:
        for name, code in EMPTY_DEMOS.items():
            path = Path(tmp) / f"bench_{abs(hash(name))}.py"
            path.write_text(code, encoding="utf-8")
            run_file(path)  # warm the OS file cache
            found = alternating(path, repeat)
            medians = {}
            for mode in MODES:
                wall, cpu, status = found[mode]
                median = medians[mode] = statistics.median(wall)
                verdict = "" if "numpy" not in name else ("ok" if median <= TARGET_MS else "OVER")
                table.add_row(
                    name,
                    f"{mode} [{status}]",
                    f"{median:.1f}",
                    f"{min(wall):.1f}",
                    f"{max(wall):.1f}",
                    f"{statistics.median(cpu):.1f}",
                    f"{verdict} (<= {TARGET_MS:.0f})" if verdict else "",
                )
            overhead = medians["sandbox"] - medians["none"]
            table.add_row("", "sandbox overhead", f"{overhead:+.1f}", "", "", "", "")
            table.add_section()
    console.print(table)


def bench_pack(console: Console, repeat: int) -> None:
    demos_dir = REPO / "content" / "demos"
    files = sorted(p for p in demos_dir.glob("*.py") if has_demo(p))
    table = Table(
        title=f"Concept pack: {len(files)} demos, {repeat} runs each", header_style="bold"
    )
    for col in ("demo", "status", "outputs", "median ms", "max ms", "median CPU ms"):
        table.add_column(col, justify="left" if col in ("demo", "status") else "right")
    medians, cpu_medians = [], []
    for path in files:
        cpu: list[float] = []
        wall, _, status, n_outputs = timed_runs(path, repeat, Limits(), cpu)
        median = statistics.median(wall)
        medians.append(median)
        cpu_medians.append(statistics.median(cpu))
        style = "" if status == "ok" else "bold red"
        table.add_row(
            path.name,
            f"[{style}]{status}[/]" if style else status,
            str(n_outputs),
            f"{median:.0f}",
            f"{max(wall):.0f}",
            f"{cpu_medians[-1]:.0f}",
        )
    table.add_section()
    table.add_row(
        "whole pack (sum of medians)", "", "", f"{sum(medians):.0f}", "", f"{sum(cpu_medians):.0f}"
    )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each empty demo")
    parser.add_argument("--pack-repeat", type=int, default=3, help="runs of each pack demo")
    parser.add_argument("--skip-pack", action="store_true")
    args = parser.parse_args()
    console = Console()
    console.print(f"Python {sys.version.split()[0]} at {sys.executable}")
    bench_empty(console, args.repeat)
    if not args.skip_pack:
        bench_pack(console, args.pack_repeat)


if __name__ == "__main__":
    main()
