"""Benchmark of the demo runner: overhead of an empty demo, and the whole concept pack.

Run::

    .venv/bin/python benchmarks/bench_demo_runner.py            # 20 empty runs, pack x 3
    .venv/bin/python benchmarks/bench_demo_runner.py --repeat 5 --pack-repeat 1

Prints tables of medians (wall-clock, as the user waits for them: process
start, NumPy import, the demo, reading the outputs, cleanup). The target for
an empty demo that imports NumPy is <= 150 ms. This is a measurement, not a
test: nothing fails when a number is high.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studylog.demo.limits import Limits  # noqa: E402
from studylog.demo.runner import run_file  # noqa: E402

TARGET_MS = 150.0
EMPTY_DEMOS = {
    "empty (stdlib only)": "def demo():\n    pass\n",
    "empty + import numpy": "import numpy as np\n\ndef demo():\n    pass\n",
    "numpy + one output": (
        "import numpy as np\nfrom studylog.demo import api as out\n\n"
        "def demo():\n    out.array('x', np.eye(3))\n"
    ),
}


def timed_runs(path: Path, repeat: int, limits: Limits) -> tuple[list[float], list[int], str, int]:
    """(wall ms as measured here, duration_ms reported, last status, outputs of the last run)."""
    wall: list[float] = []
    reported: list[int] = []
    status, n_outputs = "?", 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run_file(path, limits=limits)
        wall.append((time.perf_counter() - start) * 1000)
        reported.append(result.duration_ms)
        status, n_outputs = result.status, len(result.outputs)
    return wall, reported, status, n_outputs


def has_demo(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return False
    return any(isinstance(node, ast.FunctionDef) and node.name == "demo" for node in tree.body)


def bench_empty(console: Console, repeat: int) -> None:
    table = Table(title=f"Runner overhead ({repeat} runs each)", header_style="bold")
    for col in ("demo", "median ms", "min ms", "max ms", "reported median ms", "target"):
        table.add_column(col, justify="left" if col == "demo" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        for name, code in EMPTY_DEMOS.items():
            path = Path(tmp) / f"bench_{abs(hash(name))}.py"
            path.write_text(code, encoding="utf-8")
            run_file(path)  # warm the OS file cache
            wall, reported, status, _ = timed_runs(path, repeat, Limits())
            median = statistics.median(wall)
            verdict = "" if "numpy" not in name else ("ok" if median <= TARGET_MS else "OVER")
            table.add_row(
                f"{name} [{status}]",
                f"{median:.1f}",
                f"{min(wall):.1f}",
                f"{max(wall):.1f}",
                f"{statistics.median(reported):.0f}",
                f"{verdict} (<= {TARGET_MS:.0f})" if verdict else "",
            )
    console.print(table)


def bench_pack(console: Console, repeat: int) -> None:
    demos_dir = REPO / "content" / "demos"
    files = sorted(p for p in demos_dir.glob("*.py") if has_demo(p))
    table = Table(
        title=f"Concept pack: {len(files)} demos, {repeat} runs each", header_style="bold"
    )
    for col in ("demo", "status", "outputs", "median ms", "max ms"):
        table.add_column(col, justify="left" if col in ("demo", "status") else "right")
    medians = []
    for path in files:
        wall, _, status, n_outputs = timed_runs(path, repeat, Limits())
        median = statistics.median(wall)
        medians.append(median)
        style = "" if status == "ok" else "bold red"
        table.add_row(
            path.name,
            f"[{style}]{status}[/]" if style else status,
            str(n_outputs),
            f"{median:.0f}",
            f"{max(wall):.0f}",
        )
    table.add_section()
    table.add_row("whole pack (sum of medians)", "", "", f"{sum(medians):.0f}", "")
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
