"""Benchmark of exercises and computed cards (issue 15): checking, generating, opening.

Run::

    .venv/bin/python benchmarks/bench_exercises.py            # 10 runs of each
    .venv/bin/python benchmarks/bench_exercises.py --repeat 20

Prints one table of medians, wall-clock next to CPU time, each measurement beside a
peer measured in alternating blocks under the same machine load:

- **checking an exercise**, beyond the learner's code (the check's duration minus the
  milliseconds the child spent inside the attempt's import and calls): the reference
  attempt of a few pack exercises, each 0.5 s after ``exercises.prepare`` (the app starts
  the sandboxed child when the exercise opens, while the learner writes). Target <= 300
  ms. Peer: an empty NumPy demo run cold through the same sandboxed runner.
- **generating a computed card**: a few pack templates run once each, 0.5 s apart (the
  learner answering the previous card, while the next sandboxed child starts ahead:
  ``services/computed.py``). Target <= 150 ms. Peer: the same empty NumPy demo run
  cold. The CPU column includes the child's start and NumPy import, done ahead.
- **opening an exercise card in the app**: the Review screen showing an exercise card's
  front (headless, 120x40, until it is painted). Target <= 100 ms. Peers: a basic
  flashcard shown by the same screen, and Anki's backend rendering a card's question
  (``Card.question()`` of the ``anki`` package), when it is installed.

CPU is the process's own for in-process rows; for runs it is the reaped children's
(``RUSAGE_CHILDREN``: bwrap itself, a few ms) plus what the sandboxed harness reports
for itself (``RunResult.cpu_ms``, its ``RUSAGE_SELF`` just before it reports done). The
harness never shows up in ``RUSAGE_CHILDREN``: the runner kills the process group when
the run is done, before bwrap has reaped it, so its CPU time is lost to the parent;
counting the children alone gave 2-5 ms for a run that took 115 ms of CPU. A
measurement, not a test: nothing fails when a number is high.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studylog.demo.runner import run_code  # noqa: E402
from studylog.services import computed, exercises  # noqa: E402

BLOCK = 5
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
EXERCISES = (
    "softmax.softmax",
    "lstm.lstm_cell",
    "layer-normalization.layer_norm",
    "scaled-dot-product-attention.scaled_dot_product_attention",
)
TEMPLATES = (
    "multi-head-attention/mha-per-head-weights",
    "softmax/softmax-max",
    "conv-as-dense/conv-output-and-params",
    "positional-encoding/pe-value",
)
EMPTY = "import numpy as np\n\ndef demo():\n    pass\n"


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


_harness_cpu_ms: list[float] = []  # each sandboxed run's own CPU, as its harness reported it


def _recording(run):  # noqa: ANN001, ANN202 - wraps studylog.demo.runner.run_code
    def run_and_record(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        result = run(*args, **kwargs)
        _harness_cpu_ms.append(result.cpu_ms or 0.0)
        return result

    return run_and_record


# The services call run_code by their own module-level name: record every run they make.
exercises.run_code = _recording(exercises.run_code)
computed.run_code = _recording(computed.run_code)
computed.run_prestarted = _recording(computed.run_prestarted)
exercises.run_prestarted = _recording(exercises.run_prestarted)
ANSWER_PAUSE_S = 0.5  # between two computed cards the learner answers the first one


def _run_cpu_ms(children_before: float, runs_before: int) -> float:
    """CPU of the runs since: the reaped children's plus each harness's own report."""
    return _children_cpu_ms() - children_before + sum(_harness_cpu_ms[runs_before:])


def reference_attempt(exercise: exercises.Exercise) -> str:
    if "def reference" in exercise.checks:
        return f"from _exercise_checks import reference as {exercise.function}\n"
    module, _, func = exercise.reference.rpartition(".")
    return f"from {module} import {func} as {exercise.function}\n"


def empty_run(into: Samples) -> None:
    cpu, runs = _children_cpu_ms(), len(_harness_cpu_ms)
    start = time.perf_counter()
    result = run_code(EMPTY, name="empty.py")
    wall = (time.perf_counter() - start) * 1000
    _harness_cpu_ms.append(result.cpu_ms or 0.0)
    into.add(wall, _run_cpu_ms(cpu, runs))


def check_run(exercise: exercises.Exercise, into: Samples) -> None:
    code = reference_attempt(exercise)
    # As in the app: the exercise screen starts the child when it opens (and after each
    # check), while the learner writes the code.
    exercises.prepare(exercise)
    time.sleep(ANSWER_PAUSE_S)
    cpu, runs = _children_cpu_ms(), len(_harness_cpu_ms)
    result = exercises.check(exercise, code, seed=1)
    assert result.status == "pass", result.to_json()
    spent = _run_cpu_ms(cpu, runs) - (result.learner_ms or 0.0)
    into.add(result.duration_ms - (result.learner_ms or 0.0), spent)


def generate_run(template: computed.Template, into: Samples) -> None:
    # As in a review session: the previous card is answered meanwhile, which is when
    # the sandboxed child for this one is started ahead (services/computed.py, _Ahead).
    time.sleep(ANSWER_PAUSE_S)
    cpu, runs = _children_cpu_ms(), len(_harness_cpu_ms)
    start = time.perf_counter()
    made = computed.generate(template)
    wall = (time.perf_counter() - start) * 1000
    assert made.generated is not None, made.error
    into.add(wall, _run_cpu_ms(cpu, runs))


def alternate(repeat: int, ours: Callable[[], None], peer: Callable[[], None]) -> None:
    """``repeat`` runs of each, in blocks of :data:`BLOCK`, the order swapped every block."""
    done = 0
    block = 0
    while done < repeat:
        n = min(BLOCK, repeat - done)
        first, second = (ours, peer) if block % 2 == 0 else (peer, ours)
        for _ in range(n):
            first()
        for _ in range(n):
            second()
        done += n
        block += 1


# --- the app ---------------------------------------------------------------------------


def _app_db(folder: Path):  # noqa: ANN202 - Database
    """A collection with the whole pack, synced two days before NOW."""
    from studylog.content import sync
    from studylog.storage import migrate
    from studylog.storage.engine import Database

    db = Database(f"sqlite:///{folder / 'bench.db'}")
    migrate.prepare(db)
    original = sync.utcnow
    sync.utcnow = lambda: NOW - timedelta(days=2)
    try:
        sync.sync_pack(db)
    finally:
        sync.utcnow = original
    return db


async def _open_cards(db, repeat: int) -> tuple[Samples, Samples]:  # noqa: ANN001
    from studylog.services import concepts
    from studylog.tui.app import StudylogApp

    cards = [c for s in ("lstm", "softmax", "gru") for c in concepts.get(db, s).cards]
    exercise_cards = [c for c in cards if c.kind == "exercise"]
    basic_cards = [c for c in cards if c.kind == "basic"]
    ours, peer = Samples(), Samples()
    app = StudylogApp(db, now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = app.screen

        async def show(card, into: Samples) -> None:  # noqa: ANN001
            cpu = time.process_time()
            start = time.perf_counter()
            await screen.show_card(card)
            await pilot.pause()  # handled and painted
            into.add((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000)

        k = 0
        for block in range(max(1, repeat // BLOCK) * 2):
            pair = ((exercise_cards, ours), (basic_cards, peer))
            for group, into in pair if block % 2 == 0 else pair[::-1]:
                for _ in range(BLOCK):
                    await show(group[k % len(group)], into)
                    k += 1
    return ours, peer


def anki_question(repeat: int) -> Samples | None:
    """Anki's backend rendering a card's question (``Card.question()``), or None without anki."""
    try:
        from anki.collection import Collection
    except ImportError:
        return None
    samples = Samples()
    with tempfile.TemporaryDirectory(prefix="bench-anki-") as tmp:
        col = Collection(str(Path(tmp) / "c.anki2"))
        try:
            note = col.new_note(col.models.by_name("Basic"))
            note["Front"] = "One LSTM step in PyTorch's layout (LSTM 셀 한 스텝) " * 4
            note["Back"] = "the task"
            col.add_note(note, col.decks.id("Exercises"))
            cid = note.card_ids()[0]
            for _ in range(repeat):
                cpu = time.process_time()
                start = time.perf_counter()
                col.get_card(cid).question(reload=True)
                samples.add(
                    (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000
                )
        finally:
            col.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs of each measurement")
    args = parser.parse_args()
    repeat = max(1, args.repeat)

    rows: list[tuple[str, Samples, float, str, Samples | None]] = []
    empty = Samples()
    for exercise_id in EXERCISES:
        exercise = exercises.get(exercise_id)
        ours = Samples()
        alternate(repeat, lambda e=exercise, o=ours: check_run(e, o), lambda: empty_run(empty))
        rows.append(
            (f"check {exercise_id}, beyond the learner's code", ours, 300.0, "empty run", empty)
        )
    by_id = {t.id: t for t in computed.pack_templates()}
    for template_id in TEMPLATES:
        ours = Samples()
        template = by_id[template_id]
        alternate(repeat, lambda t=template, o=ours: generate_run(t, o), lambda: empty_run(empty))
        rows.append((f"generate {template_id}", ours, 150.0, "empty run", empty))

    with tempfile.TemporaryDirectory(prefix="bench-exercises-") as tmp:
        db = _app_db(Path(tmp))
        opened, basic = asyncio.run(_open_cards(db, repeat))
        db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    rows.append(("open an exercise card in Review", opened, 100.0, "a basic card", basic))
    anki = anki_question(repeat * 2)

    table = Table(title=f"exercises and computed cards: medians of {repeat} (ms)")
    for name in ("measurement", "wall", "CPU", "target", "", "peer", "peer wall", "ratio"):
        table.add_column(name, justify="left" if name in ("measurement", "peer") else "right")
    for name, ours, target, peer_name, peer in rows:
        wall = statistics.median(ours.wall)
        peer_wall = statistics.median(peer.wall) if peer else None
        table.add_row(
            name,
            f"{wall:.0f}",
            f"{statistics.median(ours.cpu):.0f}",
            f"<= {target:.0f}",
            "ok" if wall <= target else "OVER",
            peer_name,
            f"{peer_wall:.0f}" if peer_wall is not None else "-",
            f"{wall / peer_wall:.2f}" if peer_wall else "-",
        )
    if anki is not None:
        table.add_row(
            "Anki backend: a card's question (Card.question)",
            f"{statistics.median(anki.wall):.1f}",
            f"{statistics.median(anki.cpu):.1f}",
            "",
            "",
            "vs opening above",
            f"{statistics.median(opened.wall):.0f}",
            f"{statistics.median(opened.wall) / max(statistics.median(anki.wall), 1e-6):.0f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
