"""A sandboxed child started ahead (runner.prestart) and the computed cards that use it.

The child must behave as a cold run_code child (same outputs, limits, timeout)
and run one code only, so one template never sees another's leftovers.
"""

from __future__ import annotations

import time
from dataclasses import replace

from studylog.demo import runner
from studylog.demo.limits import Limits
from studylog.services import computed

CODE = "import numpy as np\n\ndef demo():\n    print(int(np.arange(5).sum()))\n"


def test_a_prestarted_child_runs_like_a_cold_one() -> None:
    cold = runner.run_code(CODE, name="x.py")
    child = runner.prestart(name="x.py", limits=Limits(), paths=[], hidden=[])
    warm = runner.run_prestarted(child, CODE, {"helper.py": "X = 1\n"})
    assert (
        (warm.status, warm.outputs)
        == (cold.status, cold.outputs)
        == (
            "ok",
            [{"kind": "text", "text": "10\n", "stream": "stdout"}],
        )
    )
    assert warm.sandbox == cold.sandbox
    assert not child.code_dir.exists()  # its folder is gone after the run
    assert not child.alive()


def test_its_clock_starts_at_the_go_and_its_limits_hold() -> None:
    child = runner.prestart(name="x.py", limits=Limits(timeout_s=1.0), paths=[], hidden=[])
    time.sleep(1.5)  # waiting longer than the timeout is not running
    loop = runner.run_prestarted(child, "def demo():\n    while True:\n        pass\n")
    assert loop.status == "timeout" and 900 <= loop.duration_ms < 3000
    child = runner.prestart(name="x.py", limits=Limits(), paths=[], hidden=[])
    err = runner.run_prestarted(child, "def demo():\n    raise ValueError('없음')\n")
    assert err.status == "error" and err.error == "ValueError: 없음"


def test_a_discarded_child_ends_without_running() -> None:
    child = runner.prestart(name="x.py", limits=Limits(), paths=[], hidden=[])
    child.discard()
    assert child.proc.returncode is not None and not child.code_dir.exists()


def test_computed_cards_use_a_child_once_and_templates_never_share_one(tmp_path) -> None:  # noqa: ANN001
    template = next(t for t in computed.pack_templates() if t.id == "softmax/softmax-max")
    writer = replace(
        template,
        template="import numpy as np\n\ndef card(rng):\n    np.LEFT_BEHIND = 1\n"
        "    return {'question': 'q', 'answer': 1}\n",
    )
    reader = replace(
        template,
        template="import numpy as np\n\ndef card(rng):\n"
        "    return {'question': 'q', 'answer': int(hasattr(np, 'LEFT_BEHIND'))}\n",
    )
    computed._ahead.close()
    first = computed.generate(writer, seed=1)  # cold; starts the next child
    time.sleep(1.0)
    with computed._ahead._lock:
        assert computed._ahead._pending is not None  # a child waits for the next card
    second = computed.generate(reader, seed=1)  # the child started ahead
    assert first.generated is not None and second.generated is not None
    assert second.generated.answer == 0  # nothing of the first template's process
    # the same seed gives the same card, cold or ahead
    cold = computed.generate(template, seed=7)
    time.sleep(1.0)
    warm = computed.generate(template, seed=7)
    assert cold.generated is not None and warm.generated is not None
    assert (warm.generated.question, warm.generated.answer) == (
        cold.generated.question,
        cold.generated.answer,
    )
    # another sandbox (a different folder hidden) does not take that child
    time.sleep(1.0)
    other = computed.generate(template, seed=7, hidden=[tmp_path])
    assert other.generated is not None and other.generated.answer == cold.generated.answer
    computed._ahead.close()


def test_an_exercise_check_in_a_prepared_child_is_the_cold_check() -> None:
    from studylog.services import exercises

    exercise = exercises.get("softmax.softmax")
    from tests.tui.test_exercise_cards import GOOD_SOFTMAX, NAIVE_SOFTMAX

    statuses = []
    for code in (GOOD_SOFTMAX, NAIVE_SOFTMAX):
        cold = exercises.check(exercise, code, seed=3)
        exercises.prepare(exercise)
        time.sleep(1.0)
        with exercises._ahead._lock:
            assert exercises._ahead._pending is not None
        warm = exercises.check(exercise, code, seed=3)
        with exercises._ahead._lock:
            assert exercises._ahead._pending is None  # taken, and none started (ahead=False)
        assert warm.status == cold.status
        assert [(c.name, c.passed) for c in warm.checks] == [
            (c.name, c.passed) for c in cold.checks
        ]
        statuses.append(warm.status)
    assert statuses == ["pass", "fail"]
