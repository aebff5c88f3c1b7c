"""Exercise cards in Review and on the concept page (issue 15, item 2).

The collection is the pack's softmax concept synced alone (its three exercises
become cards of the deck "Exercises"), with its flashcards suspended so that an
exercise card comes first. The checks really run in the sandbox; what is
asserted afterwards is read back through the services (the attempts stored,
the review's rating), not from the screen.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import Button, OptionList, TextArea

from studylog.services import browse, concepts, exercises
from studylog.storage.engine import Database
from studylog.tui.screens.exercise import ExerciseScreen
from studylog.tui.screens.review import ReviewScreen
from tests.tui.conftest import press, settle

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

GOOD_SOFTMAX = """import numpy as np


def softmax(a, temperature=1.0):
    z = np.asarray(a, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
"""
# A plausible mistake: no shift by the maximum (overflows on large scores).
NAIVE_SOFTMAX = """import numpy as np


def softmax(a, temperature=1.0):
    e = np.exp(np.asarray(a, dtype=np.float64) / temperature)
    return e / e.sum(axis=-1, keepdims=True)
"""
LOOPING = "def softmax(a, temperature=1.0):\n    while True:\n        pass\n"


def exercise_cards(db: Database) -> list:
    return [c for c in concepts.get(db, "softmax").cards if c.kind == "exercise"]


async def open_review(pilot) -> ReviewScreen:  # noqa: ANN001
    await settle(pilot)
    await press(pilot, "f3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


async def wait_checks(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_pack_exercises_become_cards_of_the_exercises_deck(ex_db: Database) -> None:
    made = exercise_cards(ex_db)
    ids = {exercises.card_exercise_id(c.kind, c.pack_key) for c in made}
    assert ids == {"softmax.softmax", "softmax.log_softmax", "softmax.softmax_backward"}
    assert {c.deck for c in made} == {"Exercises"}
    assert all(c.is_new for c in made)


async def test_an_exercise_card_shows_its_task_and_the_starter_fails(
    ex_db: Database, make_app
) -> None:
    app = make_app(ex_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        assert card is not None and card.kind == "exercise"
        exercise_id = exercises.card_exercise_id(card.kind, card.pack_key)
        assert exercise_id == "softmax.softmax"
        front = screen.front_part.source
        assert "Exercise: Softmax that never overflows" in front
        assert "subtract" in front.lower() or "maximum" in front.lower()
        await press(pilot, "ctrl+r")
        await wait_checks(pilot)
        stored = exercises.attempts(ex_db, exercise_id)
        assert [a.status for a in stored] == ["fail"]
        assert "raise NotImplementedError" in stored[0].code  # the starter was run
        assert screen.proposed == 1  # still failing: Again
        assert str(screen.query_one("#grade-1", Button).label).startswith("▸ Again")
        shown = str(screen.results_part.render())
        assert "✗" in shown and "NotImplementedError" in shown


async def test_pass_at_the_first_run_proposes_good_and_space_confirms_it(
    ex_db: Database, make_app
) -> None:
    app = make_app(ex_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        assert card is not None
        await press(pilot, "e")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, ExerciseScreen)
        assert "raise NotImplementedError" in editor.code  # no attempt yet: the starter
        editor.query_one(TextArea).load_text(GOOD_SOFTMAX)
        await press(pilot, "ctrl+r")
        await wait_checks(pilot)
        assert "PASS" in str(editor.query_one("#exercise-checks").render())
        await press(pilot, "escape")
        await settle(pilot)
        assert app.screen is screen
        assert screen.proposed == 3
        await press(pilot, "space")  # confirms the proposed grade
        await settle(pilot)
    answered = exercises.attempts(ex_db, "softmax.softmax")
    assert [a.status for a in answered] == ["pass"]
    assert answered[0].code == GOOD_SOFTMAX
    detail = browse.card_info(ex_db, card.id, now=NOW)
    assert [r.rating for r in detail.reviews] == [3]


async def test_pass_after_a_failed_run_proposes_hard_and_the_learner_can_change_it(
    ex_db: Database, make_app
) -> None:
    app = make_app(ex_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        assert card is not None
        await press(pilot, "e")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, ExerciseScreen)
        editor.query_one(TextArea).load_text(NAIVE_SOFTMAX)
        await press(pilot, "ctrl+r")
        await wait_checks(pilot)
        shown = str(editor.query_one("#exercise-checks").render())
        assert "FAIL" in shown and "✗" in shown
        editor.query_one(TextArea).load_text(GOOD_SOFTMAX)
        await press(pilot, "ctrl+r")
        await wait_checks(pilot)
        await press(pilot, "escape")
        await settle(pilot)
        assert screen.proposed == 2  # passed after a failed run: Hard
        assert str(screen.query_one("#grade-2", Button).label).startswith("▸ Hard")
        await press(pilot, "4")  # the learner overrides it: Easy
        await settle(pilot)
    statuses = [a.status for a in exercises.attempts(ex_db, "softmax.softmax")]
    assert statuses == ["fail", "pass"]
    assert [r.rating for r in browse.card_info(ex_db, card.id, now=NOW).reviews] == [4]


async def test_a_looping_attempt_times_out_and_the_app_keeps_working(
    ex_db: Database, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exercises, "CHECK_TIMEOUT_S", 1.5)
    app = make_app(ex_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        assert first is not None
        screen.exercise_code = LOOPING
        await press(pilot, "ctrl+r")
        await wait_checks(pilot)
        assert [a.status for a in exercises.attempts(ex_db, "softmax.softmax")] == ["timeout"]
        assert screen.proposed == 1
        await press(pilot, "space")  # confirms Again; the app goes on
        await settle(pilot)
        # Its siblings are held back (Anki's burying): the same card is due again in 1m.
        assert screen.card is not None and screen.card.reps == 1
        assert screen.results_part.display is False  # a fresh review of it
    assert [r.rating for r in browse.card_info(ex_db, first.id, now=NOW).reviews] == [1]


async def test_the_concept_page_opens_any_of_its_exercises(ex_db: Database, make_app) -> None:
    exercises.record(
        ex_db,
        exercises.resolve(ex_db, "softmax.log_softmax"),
        "# my last try\n",
        exercises.CheckResult("error", 5),
        now=NOW,
    )
    app = make_app(ex_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_concept("softmax")
        await settle(pilot)
        page_text = str(app.screen.query_one("#exercises").render())
        assert "softmax.log_softmax" in page_text
        await press(pilot, "x")
        await settle(pilot)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids == ["softmax.softmax", "softmax.log_softmax", "softmax.softmax_backward"]
        await press(pilot, "down", "enter")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, ExerciseScreen)
        assert editor.exercise.id == "softmax.log_softmax"
        assert editor.code == "# my last try\n"  # the last attempt, not the starter


async def test_enter_indents_the_next_line_as_python_does(ex_db: Database, make_app) -> None:
    """After ``def ...:`` the new line is indented one level more; otherwise as the line above."""
    app = make_app(ex_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_review(pilot)
        await press(pilot, "e")
        await settle(pilot)
        editor = app.screen.query_one(TextArea)
        editor.load_text("")
        for key in [*"def f(x):", "enter", *"y = x", "enter", *"for i in y:  # 루프", "enter"]:
            await press(pilot, "space" if key == " " else key)
        await press(pilot, *"pass", "enter")
        await settle(pilot)
        assert editor.text == (
            "def f(x):\n    y = x\n    for i in y:  # 루프\n        pass\n        "
        )
        editor.undo()  # one undo takes back the newline and its indentation together
        assert editor.text.endswith("        pass")


def test_next_line_indent_rules() -> None:
    from studylog.tui.widgets.python_editor import next_line_indent

    assert next_line_indent("def f(x):") == "    "
    assert next_line_indent("    if a:  # note") == "        "
    assert next_line_indent("    return a") == "    "
    assert next_line_indent("  x = {'a': 1}") == "  "
    assert next_line_indent("\tif a:", 4) == "\t    "
    assert next_line_indent("") == ""
