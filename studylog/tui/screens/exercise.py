"""Writing an exercise in the app: the code in a TextArea, ``ctrl+r`` runs the checks.

Used from Review (an exercise card, ``e``) and from a concept page (``x``).
The checks run in a thread worker (:func:`start_check`: the sandboxed check of
:func:`studylog.services.exercises.check`, then the attempt stored in one
write), which posts :class:`ExerciseChecked` or :class:`ExerciseCheckFailed`;
the screen shows each check inline (:func:`results_text`). The worker never
touches a widget. A looping or hostile attempt ends as ``timeout`` or
``error`` in the child process and the app keeps working.

The screen dismisses with an :class:`ExerciseOutcome`: the code as left, and
the statuses of the runs made meanwhile (what the proposed grade follows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, Markdown, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from studylog.errors import StudylogError
from studylog.inert import inert
from studylog.services import exercises as exercise_service
from studylog.services.exercises import Attempt, CheckResult, Exercise
from studylog.services.review import RATINGS
from studylog.tui.access import studylog_app
from studylog.tui.widgets import card_text
from studylog.tui.widgets.guard import guarded
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.python_editor import PythonEditor

STATUS_STYLES = {"pass": "bold green", "fail": "bold red", "error": "bold yellow"}


@dataclass
class ExerciseOutcome:
    """What the exercise screen hands back: the code as left and this visit's runs."""

    code: str
    statuses: list[str] = field(default_factory=list)
    last: CheckResult | None = None


class ExerciseChecked(Message):
    """A check run ended (any status); the attempt is stored. Posted by the worker."""

    def __init__(self, exercise_id: str, token: object, result: CheckResult, attempt: Attempt):
        super().__init__()
        self.exercise_id = exercise_id
        self.token = token  # what the run was started for (a card id, a screen)
        self.result = result
        self.attempt = attempt


class ExerciseCheckFailed(Message):
    """The check could not run at all (untrusted, too large, the database)."""

    def __init__(self, exercise_id: str, token: object, error: str) -> None:
        super().__init__()
        self.exercise_id = exercise_id
        self.token = token
        self.error = error


def start_check(widget: Widget, exercise: Exercise, code: str, token: object) -> None:
    """Check ``code`` in a thread worker of ``widget``, which receives the message."""
    app = studylog_app_of(widget)
    db = app.db

    def work() -> None:
        from studylog.services import demos

        try:
            result = exercise_service.check(
                exercise, code, hidden=demos.private_folders(db), ahead=True
            )
            attempt = exercise_service.record(db, exercise, code, result, now=app.now())
        except StudylogError as err:
            widget.post_message(ExerciseCheckFailed(exercise.id, token, str(err)))
            return
        except Exception as exc:  # noqa: BLE001 - reported, never a crash
            widget.post_message(
                ExerciseCheckFailed(exercise.id, token, f"{type(exc).__name__}: {exc}")
            )
            return
        widget.post_message(ExerciseChecked(exercise.id, token, result, attempt))

    widget.run_worker(work, thread=True, group="exercise-check", exit_on_error=False)


def with_approval(widget: Widget, exercise: Exercise, then: Any) -> None:
    """Call ``then(exercise)`` now if the exercise may run, else after the learner read
    and approved its checks (an imported concept's: the same approvals as demos)."""
    if exercise.trusted:
        then(exercise)
        return
    from dataclasses import replace

    from studylog.tui.widgets.dialogs import ApproveCodeScreen

    code = exercise.checks + "".join(f"\n# --- {name} ---\n{text}" for name, text in exercise.files)
    app = studylog_app_of(widget)

    def done(approved: bool | None) -> None:
        if not approved:
            app.notify("Not approved: the checks did not run.", severity="warning")
            return
        try:
            exercise_service.approve(app.db, exercise, now=app.now())
        except StudylogError as err:
            app.notify(str(err), severity="error")
            return
        app.collection_changed(widget)
        then(replace(exercise, trusted=True))

    app.push_screen(
        ApproveCodeScreen(exercise.title, code, exercise.trust_hash, what="exercise's checks"),
        done,
    )


def studylog_app_of(widget: Widget) -> Any:
    from studylog.tui.access import as_studylog_app

    return as_studylog_app(widget.app, widget)


def results_text(result: CheckResult, *, proposed: int | None = None) -> Text:
    """Each check on a line (✓/✗, its name, its message), then the status and duration."""
    text = Text()
    for check in result.checks:
        text.append("✓ " if check.passed else "✗ ", style="green" if check.passed else "red")
        text.append(inert(check.name), style="bold")
        text.append(f": {inert(check.message)}\n")
    style = STATUS_STYLES.get(result.status, "bold yellow")
    text.append(result.status.upper(), style=style)
    passed = sum(c.passed for c in result.checks)
    text.append(f"  {passed}/{len(result.checks)} checks · {result.duration_ms} ms", style="dim")
    if result.error and result.status in ("error", "timeout"):
        if not any(result.error == c.message for c in result.checks):
            text.append(f"\n{inert(result.error)}", style="yellow")
    if proposed is not None:
        text.append("\nProposed grade: ", style="dim")
        text.append(RATINGS[proposed], style="bold")
    return text


def history_text(rows: list[Attempt], limit: int = 8) -> Text:
    """The last ``limit`` attempts, newest first: time (UTC), status, checks passed, ms."""
    text = Text()
    if not rows:
        return Text("No attempts yet.", style="dim")
    for a in list(reversed(rows))[:limit]:
        passed = sum(c.passed for c in a.result.checks)
        text.append(f"{a.attempted_at:%Y-%m-%d %H:%M}  ")
        text.append(f"{a.status:<7}", style=STATUS_STYLES.get(a.status, "bold yellow"))
        text.append(f"  {passed}/{len(a.result.checks)} checks  {a.duration_ms} ms\n")
    if len(rows) > limit:
        text.append(f"… {len(rows) - limit} older", style="dim")
    return text


class ExerciseScreen(Screen[ExerciseOutcome]):
    """Exercise ``exercise`` with ``code`` in a code editor; ``ctrl+r`` checks it."""

    app = studylog_app()

    DEFAULT_CSS = """
    ExerciseScreen #exercise-title {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    ExerciseScreen #exercise-task {
        height: auto;
        max-height: 25%;
        padding: 0 1;
    }
    ExerciseScreen #exercise-task Markdown {
        margin: 0;
        padding: 0;
    }
    ExerciseScreen TextArea {
        height: 1fr;
    }
    ExerciseScreen #exercise-results {
        height: auto;
        max-height: 40%;
        padding: 0 1;
        border-top: solid $accent;
    }
    ExerciseScreen #exercise-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("ctrl+r", "check", "Run the checks", id="exercise.check", priority=True),
        Binding("ctrl+t", "starter", "Starter code", id="exercise.starter", priority=True),
        Binding("escape", "back", "Back", id="exercise.back", priority=True),
    ]

    def __init__(
        self,
        exercise: Exercise,
        code: str,
        *,
        last: CheckResult | None = None,
        statuses: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.exercise = exercise
        self.initial = code
        self.statuses = list(statuses or [])
        self.last = last
        self.checking = False

    def compose(self) -> ComposeResult:
        e = self.exercise
        title = Text(f"{e.title}", style="bold")
        title.append(f"  ({e.id})", style="dim")
        yield Static(title, id="exercise-title")
        with VerticalScroll(id="exercise-task"):
            yield Markdown(card_text.for_markdown(e.task), open_links=False)
        yield PythonEditor.python(self.initial, id="exercise-code")
        with VerticalScroll(id="exercise-results"):
            yield Static(self._results(), id="exercise-checks")
        yield Static(self._hint(), id="exercise-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        self._prepare(studylog_app_of(self).db, self.exercise)

    @work(thread=True, group="exercise-prepare", exit_on_error=False)
    def _prepare(self, db: Any, exercise: Exercise) -> None:
        """Start the sandboxed child for the first ``ctrl+r`` while the learner writes."""
        from studylog.services import demos

        try:
            exercise_service.prepare(exercise, hidden=demos.private_folders(db))
        except Exception:  # noqa: BLE001,S110 - only a head start: the check runs cold
            pass

    def _results(self) -> Text:
        if self.last is None:
            return Text("Not checked yet: ctrl+r runs the checks.", style="dim")
        return results_text(self.last)

    def _hint(self) -> str:
        return "ctrl+r run the checks · ctrl+t the starter again · escape back"

    @property
    def code(self) -> str:
        return self.query_one(TextArea).text

    @guarded
    def action_check(self) -> None:
        if self.checking:
            self.notify("The checks are running.")
            return
        with_approval(self, self.exercise, self._run)

    def _run(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self.checking = True
        self.query_one("#exercise-status", Static).update("Running the checks…")
        start_check(self, exercise, self.code, self)

    @guarded
    def action_starter(self) -> None:
        self.query_one(TextArea).load_text(exercise_service.starter(self.exercise))

    @on(ExerciseChecked)
    def _checked(self, message: ExerciseChecked) -> None:
        message.stop()
        self.checking = False
        self.statuses.append(message.result.status)
        self.last = message.result
        self.query_one("#exercise-checks", Static).update(results_text(message.result))
        self.query_one("#exercise-status", Static).update(self._hint())
        self.app.collection_changed(self)

    @on(ExerciseCheckFailed)
    def _failed(self, message: ExerciseCheckFailed) -> None:
        message.stop()
        self.checking = False
        self.query_one("#exercise-status", Static).update(self._hint())
        self.notify(message.error, severity="error", timeout=8)

    @guarded
    def action_back(self) -> None:
        self.dismiss(ExerciseOutcome(self.code, self.statuses, self.last))


class ExercisePicker(ModalScreen[str | None]):
    """Choose one of a concept's exercises; dismisses its id or None."""

    DEFAULT_CSS = """
    ExercisePicker { align: center middle; }
    ExercisePicker OptionList { width: 90%; max-width: 100; height: auto; max-height: 80%; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="exercise-picker.close")]

    def __init__(self, found: list[Exercise]) -> None:
        super().__init__()
        self.found = found

    def compose(self) -> ComposeResult:
        yield OptionList(
            *[Option(Text(f"{inert(e.title)}  ({e.function})"), id=e.id) for e in self.found]
        )
        yield Footer()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
