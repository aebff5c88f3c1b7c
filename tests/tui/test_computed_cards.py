"""Computed (predict-the-output) cards in Review, and the learner's own (issue 15, items 3-4).

The collection is one concept of the learner's own, written in the concept file format
with two computed templates (one that works, one that raises) and one exercise. The
templates really run in the sandbox; ratings and attempts are read back through the
services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from studylog.services import browse, computed, concepts, exercises, settings
from studylog.storage.engine import Database
from studylog.tui.screens.review import ReviewScreen
from tests.tui.conftest import press, settle

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

OWN = '''---
slug: my-shapes
title: My shapes
tags: [mine]
---

# My shapes

Shapes I keep getting wrong.

## Cards

::: computed matmul Shape of a matmul
`(A, n) @ (n, B)` drops the inner axis.

```python template
def card(rng):
    n = int(rng.integers(2, 9))
    return {"question": f"a is `(2, {n})`, b is `({n}, 3)`: the shape of `a @ b`?",
            "answer": (2, 3), "params": {"n": n}}
```
:::

::: computed broken A template with a bug
```python template
def card(rng):
    raise ValueError("no such size")
```
:::

::: exercise double Double every entry (두 배)
Write `double(x)`: `2 * x`, same shape.

```python checks
import numpy as np

def reference(x):
    """x (any shape), float64 -> 2 x."""
    return 2 * x

def cases(rng):
    yield "random inputs", dict(x=rng.standard_normal((3, 4)))
```
:::
'''


@pytest.fixture
def own_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("TZ", "UTC")
    settings.put(db, settings.TIMEZONE, "UTC")
    concepts.add(db, OWN, now=NOW - timedelta(days=1))
    _suspend_exercise(db, "my-shapes")
    return db


def _suspend_exercise(db: Database, slug: str) -> None:
    """The exercise card aside: the computed cards come first in Review."""
    from studylog.services import card_actions

    ids = [c.id for c in concepts.get(db, slug).cards if c.kind == "exercise"]
    card_actions.suspend(db, ids=ids, now=NOW - timedelta(hours=1))


def own_cards(db: Database) -> dict[str, int]:
    return {c.pack_key: c.id for c in concepts.get(db, "my-shapes").cards}


async def open_review(pilot) -> ReviewScreen:  # noqa: ANN001
    await settle(pilot)
    await press(pilot, "f3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


def test_the_learners_own_concept_makes_computed_and_exercise_cards(own_db: Database) -> None:
    made = {c.pack_key: c for c in concepts.get(own_db, "my-shapes").cards}
    assert set(made) == {"my-shapes/matmul", "my-shapes/broken", "my-shapes/exercise:double"}
    assert made["my-shapes/matmul"].kind == "computed"
    assert made["my-shapes/matmul"].deck == "Default"  # the learner's concepts: Default
    assert made["my-shapes/exercise:double"].deck == "Exercises"
    # The learner's own code runs (trusted), like their own demos.
    template = computed.resolve(own_db, "my-shapes/matmul")
    assert template.trusted
    made_now = computed.generate(template, seed=3)
    assert made_now.generated is not None and made_now.generated.answer == [2, 3]
    exercise = exercises.resolve(own_db, "my-shapes.double")
    assert exercise.trusted
    good = "def double(x):\n    return x + x\n"
    assert exercises.check(exercise, good).status == "pass"
    assert exercises.check(exercise, "def double(x):\n    return x * x\n").status == "fail"
    # The concept written back keeps them (concept edit round trip).
    again = concepts.to_markdown(concepts.get(own_db, "my-shapes"))
    assert "::: computed matmul" in again and "::: exercise double" in again


async def test_a_right_answer_proposes_good(own_db: Database, make_app) -> None:
    app = make_app(own_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        assert card is not None and card.pack_key == "my-shapes/matmul"
        await settle(pilot)
        assert screen.generated is not None
        assert "the shape of `a @ b`" in screen.front_part.source
        assert screen.answer_input.has_focus
        await press(pilot, *"2 x 3", "enter")
        await settle(pilot)
        assert screen.answer_check is not None and screen.answer_check.correct
        assert screen.proposed == 3
        assert "✓ correct" in str(screen.results_part.render())
        await press(pilot, "space")  # the focused, proposed button: Good
        await settle(pilot)
    assert [r.rating for r in browse.card_info(own_db, card.id, now=NOW).reviews] == [3]


async def test_a_wrong_answer_proposes_again_and_shows_the_answer(
    own_db: Database, make_app
) -> None:
    app = make_app(own_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        assert card is not None
        await settle(pilot)
        await press(pilot, *"(3, 2)", "enter")
        await settle(pilot)
        assert screen.proposed == 1
        shown = str(screen.results_part.render())
        assert "✗" in shown and "(2, 3)" in shown
        await press(pilot, "enter")  # the proposed button has the focus: Again
        await settle(pilot)
    assert [r.rating for r in browse.card_info(own_db, card.id, now=NOW).reviews] == [1]


async def test_a_broken_template_shows_its_error_instead_of_a_card(
    own_db: Database, make_app
) -> None:
    from studylog.services import card_actions

    card_actions.suspend(own_db, ids=[own_cards(own_db)["my-shapes/matmul"]], now=NOW)
    app = make_app(own_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        assert screen.card is not None and screen.card.pack_key == "my-shapes/broken"
        await settle(pilot)
        front = screen.front_part.source
        assert "The template failed to run" in front and "ValueError: no such size" in front
        assert screen.answer_input.display is False
        assert screen.revealed  # the grade buttons are there; b and s work too
        await press(pilot, "b")
        await settle(pilot)
        assert screen.card is None or screen.card.pack_key != "my-shapes/broken"


# --- imported concepts: the same trust rules as demos ------------------------------------


def imported_db(db: Database, tmp_path) -> Database:  # noqa: ANN001
    from studylog.interchange.importer import import_files

    path = tmp_path / "shared-shapes.md"
    path.write_text(OWN.replace("slug: my-shapes", "slug: shared-shapes"), encoding="utf-8")
    import_files(db, [path], now=NOW - timedelta(days=1))
    _suspend_exercise(db, "shared-shapes")
    return db


def test_an_imported_concepts_code_runs_only_once_approved(db: Database, tmp_path, run_cli) -> None:  # noqa: ANN001
    imported_db(db, tmp_path)
    assert concepts.get(db, "shared-shapes").origin == "import"
    exercise = exercises.resolve(db, "shared-shapes.double")
    template = computed.resolve(db, "shared-shapes/matmul")
    assert not exercise.trusted and not template.trusted
    with pytest.raises(exercises.UntrustedExerciseError, match="concept approve shared-shapes"):
        exercises.check(exercise, "def double(x):\n    return 2 * x\n")
    with pytest.raises(computed.UntrustedTemplateError, match="concept approve shared-shapes"):
        computed.generate(template)
    # The CLI check refuses with one line, and writes no attempt.
    attempt = tmp_path / "double.py"
    attempt.write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    refused = run_cli("exercise", "check", "shared-shapes.double", str(attempt))
    assert refused.exit_code == 1 and "not been approved" in refused.output
    assert exercises.attempts(db, "shared-shapes.double") == []
    # Read and approved: it runs.
    shown = run_cli("concept", "approve", "shared-shapes", "--yes")
    assert shown.exit_code == 0, shown.output
    assert "def reference(x)" in shown.output and "def card(rng)" in shown.output
    assert exercises.resolve(db, "shared-shapes.double").trusted
    assert computed.resolve(db, "shared-shapes/matmul").trusted
    passed = run_cli("exercise", "check", "shared-shapes.double", str(attempt), "--json")
    assert passed.exit_code == 0, passed.output
    assert computed.generate(computed.resolve(db, "shared-shapes/matmul"), seed=2).generated
    # Changed code needs approving again (the approval is by hash).
    changed = concepts.to_markdown(concepts.get(db, "shared-shapes")).replace(
        "return 2 * x", "return x * 2"
    )
    with db.write() as session:
        from studylog.content.concept_file import parse_concept
        from studylog.services.concepts import apply_file

        apply_file(session, parse_concept(changed), origin="import", now=NOW)
    assert not exercises.resolve(db, "shared-shapes.double").trusted


async def test_review_asks_before_running_an_imported_template(
    db: Database,
    tmp_path,
    make_app,
    monkeypatch,  # noqa: ANN001
) -> None:
    from studylog.tui.widgets.dialogs import ApproveCodeScreen

    monkeypatch.setenv("TZ", "UTC")
    settings.put(db, settings.TIMEZONE, "UTC")
    imported_db(db, tmp_path)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "f3")
        await settle(pilot)
        screen = app.screen_stack[-2]
        assert isinstance(screen, ReviewScreen)
        assert screen.card is not None and screen.card.pack_key == "shared-shapes/matmul"
        dialog = app.screen
        assert isinstance(dialog, ApproveCodeScreen)
        assert "def card(rng)" in dialog.code
        await press(pilot, "a")
        await settle(pilot)
        assert app.screen is screen
        assert screen.generated is not None and screen.generated.answer == [2, 3]
    assert computed.resolve(db, "shared-shapes/matmul").trusted
