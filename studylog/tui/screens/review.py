"""Reviewing the due cards: front, space for the back, 1-4 to grade, undo, suspend, bury.

The queue, the answers and the undo come from
:class:`studylog.services.review.ReviewSession` (Anki's order: learning cards
due now, review cards, new cards, learn-ahead, held-back siblings). The
answer buttons show the next intervals from ``ReviewSession.preview``
('Again 1m', 'Good 3d'). Every answer is timed from the moment the front was
shown (time away on another screen is not counted) and capped at 60 s, as
Anki's "maximum answer seconds", so that a card left on screen over lunch
does not count as an hour of study.

Undo (``u``, several steps) takes back answers, suspends and buries through
the session's one undo stack (:mod:`studylog.scheduling.undo`); the card
concerned is shown again.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Markdown, Rule, Static
from textual.widgets.button import ButtonVariant

from studylog.errors import StudylogError
from studylog.services import computed as computed_service
from studylog.services import exercises as exercise_service
from studylog.services.cards import CardInfo
from studylog.services.custom_study import CustomSession, CustomStudy
from studylog.services.exercises import CheckResult, Exercise
from studylog.services.review import (
    RATINGS,
    Answered,
    IntervalPreview,
    QueueCounts,
    ReviewSession,
)
from studylog.tui.changes import CollectionScreen
from studylog.tui.screens.concept_page import card_state
from studylog.tui.screens.exercise import (
    ExerciseChecked,
    ExerciseCheckFailed,
    ExerciseOutcome,
    ExerciseScreen,
    results_text,
    start_check,
    with_approval,
)
from studylog.tui.widgets import card_text
from studylog.tui.widgets.guard import guarded
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar

MAX_ANSWER_MS = 60_000  # Anki's default "maximum answer seconds"
MAX_PENDING_KEYS = 16  # keys kept while a step runs; more are dropped
POLL_SECONDS = 30  # when the queue is empty: look again for learning cards coming due
GRADE = Binding.Group("Grade", compact=True)
BUTTON_VARIANTS: dict[int, ButtonVariant] = {1: "error", 2: "warning", 3: "success", 4: "primary"}


EXERCISE_KEYS = (
    "*e* write the code · *E* in `$EDITOR` · *ctrl+r* run the checks · "
    "then grade (the proposed grade is marked ▸)"
)


class SessionOpened(Message):
    """The study session was opened and its first card read; posted by the worker."""

    def __init__(
        self, session: ReviewSession, card: CardInfo | None, previews: list[IntervalPreview]
    ) -> None:
        super().__init__()
        self.session, self.card, self.previews = session, card, previews


class StepDone(Message):
    """A step of the session ran in the worker: the card to show next and its previews.

    ``notice``: what to tell the user (``"Card suspended (u undoes)."``); ``error``:
    the step failed (nothing was saved; ``card`` is the one on screen, or None when
    even the next card could not be read); ``leech``: the answer made the card a leech.
    """

    def __init__(
        self,
        card: CardInfo | None,
        previews: list[IntervalPreview],
        *,
        notice: str | None = None,
        error: str | None = None,
        leech: bool = False,
        keep: bool = False,
    ) -> None:
        super().__init__()
        self.card, self.previews = card, previews
        self.notice, self.error, self.leech, self.keep = notice, error, leech, keep


class CountsRead(Message):
    """The queue's counts for the header (and the summary), read by a worker;
    ``asked``: which read this answers (only the latest is shown)."""

    def __init__(self, counts: QueueCounts | None, asked: int) -> None:
        super().__init__()
        self.counts, self.asked = counts, asked


class SessionFailed(Message):
    """The study session could not be opened (no such deck, a bad search)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ComputedReady(Message):
    """A computed card's template ran (or failed to); posted by the worker."""

    def __init__(
        self, card_id: int, generation: computed_service.Generation | None, error: str | None
    ) -> None:
        super().__init__()
        self.card_id = card_id
        self.generation = generation
        self.error = error


class ComputedNeedsApproval(Message):
    """The card's template came with an imported concept: show it for approval first."""

    def __init__(self, card_id: int, template: computed_service.Template) -> None:
        super().__init__()
        self.card_id = card_id
        self.template = template


def computed_markdown(card: CardInfo, question: str | None, error: str | None = None) -> str:
    """A computed card's question side: its title, then the question made just now
    (or the template's error instead of a card, or a line while it is being made)."""
    title = f"**Predict the output: {card_text.for_markdown(card.front)}**"
    if error is not None:
        return (
            f"{title}\n\n**The template failed to run**, so there is no card this time:\n\n"
            f"```text\n{error}\n```\n\nBury it (b), suspend it (s) or grade it yourself."
        )
    if question is None:
        return f"{title}\n\n*Making the question…*"
    return f"{title}\n\n{card_text.for_markdown(question)}\n\n*Type the answer, then enter.*"


def front_markdown(card: CardInfo) -> str:
    """The question side as markdown (a cloze card with its deletion hidden; an
    exercise card: its title, its task and the keys; a computed card before its
    question is made)."""
    if card.kind == "computed":
        return computed_markdown(card, None)
    if card.kind == "exercise":
        return (
            f"**Exercise: {card_text.for_markdown(card.front)}**\n\n"
            f"{card_text.for_markdown(card.back)}\n\n{EXERCISE_KEYS}"
        )
    text = card.front
    if card.kind == "cloze":
        text = card_text.cloze_front(text, card.cloze_ord)
    return card_text.for_markdown(text)


def back_markdown(card: CardInfo) -> tuple[str, str]:
    """(the question side after revealing, the answer) as markdown.

    A basic card keeps its question and adds the answer below a rule; a cloze
    card shows the deletion in place, then its optional extra text.
    """
    if card.kind == "cloze":
        return (
            card_text.for_markdown(card_text.cloze_back(card.front, card.cloze_ord)),
            card_text.for_markdown(card.back) if card.back.strip() else "",
        )
    if card.kind == "exercise":
        return front_markdown(card), ""  # the checks' results show below the task
    return front_markdown(card), card_text.for_markdown(card.back)


def duration_text(ms: int) -> str:
    """``45s``, ``4m 30s`` or ``1h 5m``."""
    seconds = round(ms / 1000)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


def summary_text(answers: list[Answered], counts: QueueCounts | None) -> Text:
    """The end-of-session summary: cards reviewed, by rating, time spent."""
    text = Text()
    if not answers:
        text.append("Nothing to review right now.\n", style="bold")
    else:
        text.append("Session done.\n", style="bold green")
        total = sum(a.duration_ms for a in answers)
        n = len(answers)
        text.append(f"\nReviewed {n} card{'s' if n != 1 else ''}", style="bold")
        text.append(f" in {duration_text(total)}")
        text.append(f" (about {duration_text(total // n)} per card)\n", style="dim")
        by_rating = Counter(a.rating for a in answers)
        styles = {1: "red", 2: "yellow", 3: "green", 4: "blue"}
        for rating, label in RATINGS.items():
            text.append(f"{label} {by_rating.get(rating, 0)}", style=styles[rating])
            if rating != 4:
                text.append("  ·  ", style="dim")
        text.append("\n")
    if counts is not None and counts.total:
        text.append(
            f"\n{counts.total} left within the daily limits, held back as siblings "
            "or coming due soon.",
            style="dim",
        )
    text.append(
        "\nLearning cards come back when they are due; this screen checks again by itself.",
        style="dim",
    )
    return text


class ReviewScreen(CollectionScreen):
    """The due queue, one card at a time."""

    DEFAULT_CSS = """
    ReviewScreen #review-header {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    ReviewScreen #card-meta {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    ReviewScreen #card {
        height: 1fr;
        padding: 0 2;
    }
    ReviewScreen #front, ReviewScreen #back {
        margin: 0;
    }
    ReviewScreen #divider, ReviewScreen #back {
        display: none;
    }
    ReviewScreen #reveal-bar, ReviewScreen #answer-bar {
        height: 3;
        align-horizontal: center;
    }
    ReviewScreen #answer-bar {
        display: none;
    }
    ReviewScreen #answer-bar Button {
        margin: 0 1;
        min-width: 14;
    }
    ReviewScreen #exercise-results {
        display: none;
        height: auto;
        margin: 1 0 0 0;
    }
    ReviewScreen #computed-answer {
        display: none;
        margin: 1 0 0 0;
        width: 60;
        max-width: 100%;
    }
    ReviewScreen #summary-text {
        display: none;
        height: 1fr;
        padding: 1 2;
    }
    """
    BINDINGS = [
        # Anki: space shows the answer, and on the answer side it means Good.
        Binding("space", "space", "Show answer / Good", id="review.reveal"),
        Binding("1", "grade(1)", "Again", id="review.again", group=GRADE),
        Binding("2", "grade(2)", "Hard", id="review.hard", group=GRADE),
        Binding("3", "grade(3)", "Good", id="review.good", group=GRADE),
        Binding("4", "grade(4)", "Easy", id="review.easy", group=GRADE),
        Binding("u", "undo", "Undo", id="review.undo"),
        Binding("s", "suspend", "Suspend", id="review.suspend"),
        Binding("b", "bury", "Bury", id="review.bury"),
        Binding("c", "open_concept", "Concept", id="review.concept"),
        Binding("escape", "close", "Close", id="review.close", show=False),
        Binding("e", "exercise_edit", "Write code", id="review.exercise_edit"),
        Binding("E", "exercise_editor", "Code in $EDITOR", id="review.exercise_editor", show=False),
        Binding("ctrl+r", "exercise_check", "Run checks", id="review.exercise_check"),
    ]

    def __init__(
        self, *, deck: str | None = None, custom: CustomStudy | None = None, **kwargs: Any
    ) -> None:
        """``deck``: study that deck only; ``custom``: a custom study session. Either
        makes a screen pushed over the others (``escape`` closes it)."""
        super().__init__(**kwargs)
        self.deck = deck
        self.custom = custom
        self.session: ReviewSession | None = None
        self.card: CardInfo | None = None
        self.revealed = False
        self.previews: list[IntervalPreview] = []
        self.shown_at = 0.0
        self._away_since: float | None = None
        self._poll: Any = None
        # The exercise card on screen: its exercise (resolved on first use), the code
        # being written, this review's runs (oldest first) and the grade they propose.
        self.exercise: Exercise | None = None
        self.exercise_code: str | None = None
        self.exercise_runs: list[str] = []
        self.exercise_result: CheckResult | None = None
        self.proposed: int | None = None
        self.checking = False
        # The computed card on screen: the question made for this showing, or the error.
        self.generated: computed_service.Generated | None = None
        self.computed_error: str | None = None
        self.answer_check: computed_service.AnswerCheck | None = None
        # Every read and write of the session runs in a worker (:meth:`_step`); while
        # one runs, the keys that act on the card wait here and run in order after it
        # (a fast "space 3 space 3" answers two cards). Busy until the session is open.
        self._busy = True
        self._pending: list[Callable[[], Awaitable[None]]] = []
        self._session_lock = threading.Lock()  # the step and the counts workers take turns
        self.counts: QueueCounts | None = None
        self._counts_asked = 0  # a counts read older than the latest asked is dropped

    def compose(self) -> ComposeResult:
        # The session is opened and its first card read in a worker (:meth:`_open`);
        # until it posts SessionOpened the screen shows its header and nothing else.
        # References to the parts that change, usable before they are mounted.
        self.meta_part = Static("", id="card-meta")
        self.front_part = Markdown("", id="front", open_links=False)
        self.back_part = Markdown("", id="back", open_links=False)
        self.results_part = Static("", id="exercise-results")
        self.answer_input = Input(placeholder="your answer, e.g. (2, 4, 5)", id="computed-answer")
        self.summary_part = Static("", id="summary-text")
        self.card_part = VerticalScroll(id="card")
        self.parts: dict[str, Widget] = {
            "meta": self.meta_part,
            "card": self.card_part,
            "front": self.front_part,
            "divider": Rule(id="divider"),
            "back": self.back_part,
            "results": self.results_part,
            "answer-input": self.answer_input,
            "reveal-bar": Horizontal(id="reveal-bar"),
            "answer-bar": Horizontal(id="answer-bar"),
            "summary": self.summary_part,
        }
        p = self.parts
        yield ModeBar("review")
        yield Static(self._header_text(), id="review-header")
        yield p["meta"]
        with p["card"]:
            yield p["front"]
            yield p["answer-input"]
            yield p["divider"]
            yield p["back"]
            yield p["results"]
        with p["reveal-bar"]:
            yield Button("Show answer (space)", id="reveal", variant="primary")
        with p["answer-bar"]:
            for rating, label in RATINGS.items():
                yield Button(
                    label,
                    id=f"grade-{rating}",
                    variant=BUTTON_VARIANTS[rating],
                )
        yield p["summary"]
        yield KeyBar()

    def action_close(self) -> None:
        """Close a deck or custom study session pushed over the other screens."""
        if (self.deck is not None or self.custom is not None) and len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def _layout(self) -> None:
        """Show the parts for the current state: question, answer, or the summary.

        Display is set on the few widgets concerned; toggling a class on the
        screen would restyle every widget of the card's markdown (tens of ms).
        """
        done = self.card is None
        kind = self.card.kind if self.card is not None else None
        item = kind in ("exercise", "computed")
        shown = {
            "meta": not done,
            "card": not done,
            "divider": self.revealed and not item,
            "back": self.revealed and not item,
            "results": item and (self.revealed or self.exercise_result is not None),
            "answer-input": kind == "computed" and self.generated is not None,
            "reveal-bar": not done and not self.revealed,
            "answer-bar": not done and self.revealed,
            "summary": done,
        }
        for name, visible in shown.items():
            widget = self.parts[name]
            if widget.display != visible:
                widget.display = visible

    def on_mount(self) -> None:
        self.shown_at = time.monotonic()
        self._layout()
        self._open()

    @work(thread=True, exclusive=True, group="review-open", exit_on_error=False)
    def _open(self) -> None:
        """Open the session (a custom study session gathers its cards, up to 9,999)
        and read the first card and its previews, off the UI thread."""
        now = self._now()
        try:
            if self.custom is not None:
                session: ReviewSession = CustomSession(self.app.db, self.custom, now=now)
            else:
                session = ReviewSession(self.app.db, now=now, deck=self.deck)
            card = session.next_card(now=now)
            previews = session.preview(card.id, now=now) if card is not None else []
        except StudylogError as err:
            self.post_message(SessionFailed(str(err)))
            return
        self.post_message(SessionOpened(session, card, previews))

    @on(SessionOpened)
    async def _opened(self, message: SessionOpened) -> None:
        self.session = message.session
        await self.show_card(message.card, previews=message.previews)
        await self._done_busy()

    @on(SessionFailed)
    async def _open_failed(self, message: SessionFailed) -> None:
        self.notify(message.error, severity="error")
        self._show_summary()
        self._pending.clear()
        self._busy = False

    # --- steps: the session's reads and writes, off the UI thread ------------------------

    def _queued(self, action: Callable[[], Awaitable[None]]) -> bool:
        """True when a step is running: ``action`` then runs after it, in key order."""
        if not self._busy:
            return False
        if len(self._pending) < MAX_PENDING_KEYS:
            self._pending.append(action)
        return True

    async def _done_busy(self) -> None:
        """The step is shown: run the keys pressed meanwhile, until one starts a step."""
        self._busy = False
        while self._pending and not self._busy:
            await self._pending.pop(0)()

    def _start_step(
        self, kind: str, card_id: int = 0, rating: int = 0, duration_ms: int = 0
    ) -> None:
        """Run a step (``next``, ``answer``, ``undo``, ``suspend``, ``bury``) in the worker."""
        if self.session is None:
            return
        self._busy = True
        self._stop_polling()
        self._step(self.session, kind, card_id, rating, duration_ms, self._now())

    @work(thread=True, group="review-step", exit_on_error=False)
    def _step(
        self,
        session: ReviewSession,
        kind: str,
        card_id: int,
        rating: int,
        duration_ms: int,
        now: Any,
    ) -> None:
        """Save the answer (or undo, suspend, bury), then read the card to show and its
        previews; post :class:`StepDone`. A failed write keeps the card on screen."""
        notice: str | None = None
        leech = False
        shown: CardInfo | None = None
        with self._session_lock:
            try:
                if kind == "answer":
                    leech = session.answer(card_id, rating, now=now, duration_ms=duration_ms).leech
                elif kind == "undo":
                    label = session.undo_stack.label
                    shown = session.undo()
                    notice = f"{label} undone."
                elif kind == "suspend":
                    session.suspend(card_id)
                    notice = "Card suspended (u undoes)."
                elif kind == "bury":
                    session.bury(card_id, now=now)
                    notice = "Card buried until tomorrow (u undoes)."
            except StudylogError as err:
                self.post_message(StepDone(None, [], error=str(err), keep=True))
                return
            try:
                if shown is None:
                    shown = session.next_card(now=now)
            except StudylogError as err:
                self.post_message(StepDone(None, [], notice=notice, error=str(err), leech=leech))
                return
            try:
                previews = session.preview(shown.id, now=now) if shown is not None else []
            except StudylogError as err:  # the card is shown without its intervals
                self.post_message(StepDone(shown, [], notice=notice, error=str(err), leech=leech))
                return
        self.post_message(StepDone(shown, previews, notice=notice, leech=leech))

    @on(StepDone)
    async def _step_done(self, message: StepDone) -> None:
        if message.error is not None:
            self.notify(message.error, severity="error")
        if message.leech:
            self.notify(
                "This card is a leech (forgotten many times): it was tagged and suspended. "
                "Rewrite it, then unsuspend it.",
                severity="warning",
                timeout=8,
            )
        if message.notice is not None:
            self.notify(message.notice)
        if not message.keep:
            await self.show_card(message.card, previews=message.previews)
        await self._done_busy()

    # --- the flow ----------------------------------------------------------------------

    def _now(self) -> Any:
        return self.app.now()

    @property
    def answers(self) -> list[Answered]:
        """This session's answers not undone, oldest first (for the summary)."""
        return self.session.answers if self.session is not None else []

    def next_card(self) -> CardInfo | None:
        """The card to show: the session's next (a card brought back by undo first)."""
        if self.session is None:
            return None
        return self.session.next_card(now=self._now())

    def show_next(self) -> None:
        """Read the next card in the worker; its front (or the summary) is shown when it
        is read."""
        self._start_step("next")

    async def show_card(
        self, card: CardInfo | None, *, previews: list[IntervalPreview] | None = None
    ) -> None:
        """Show ``card``'s front (the summary for None) with its answer buttons'
        ``previews`` (read by the worker; nothing is read here)."""
        self.card = card
        self.revealed = False
        self.exercise = None
        self.exercise_code = None
        self.exercise_runs = []
        self.exercise_result = None
        self.proposed = None
        self.generated = None
        self.computed_error = None
        self.answer_check = None
        self.results_part.update("")
        if card is None:
            self._show_summary()
            return
        self._stop_polling()
        self.previews = previews or []
        self._label_buttons()
        self._layout()
        self.meta_part.update(self._meta(card))
        await self.front_part.update(front_markdown(card))
        await self.back_part.update("")
        if card.kind == "computed":
            self.answer_input.value = ""
            self._generate(card)
        self.card_part.scroll_home(animate=False)
        # The counts take a query over the new cards: after the card is on screen.
        self.call_after_refresh(self._update_header, read=True)
        self.shown_at = time.monotonic()

    def _label_buttons(self) -> None:
        """The answer buttons' labels: the next intervals, the proposed grade marked ▸."""
        for p in self.previews:
            mark = "▸ " if p.rating == self.proposed else ""
            self.query_one(f"#grade-{p.rating}", Button).label = f"{mark}{p.label} {p.text}"

    def _meta(self, card: CardInfo) -> Text:
        text = Text()
        text.append(card.deck, style="bold")
        if card.concept_slug:
            text.append(f"  ·  {card.concept_slug}", style="cyan")
        text.append(f"  ·  {card_state(card)}")
        if card.kind == "cloze":
            text.append(f"  ·  cloze c{card.cloze_ord}")
        if card.kind == "exercise":
            text.append("  ·  exercise", style="bold yellow")
        if card.kind == "computed":
            text.append("  ·  computed", style="bold yellow")
        if card.lapses:
            text.append(f"  ·  {card.lapses} lapse{'s' if card.lapses != 1 else ''}")
        if card.tags:
            text.append("  ·  " + " ".join(f"#{t}" for t in card.tags), style="magenta")
        return text

    def _update_header(self, *, read: bool = False) -> None:
        """Show the header; ``read``: then read the counts again (in a worker)."""
        self.query_one("#review-header", Static).update(self._header_text())
        if read and self.session is not None:
            self._counts_asked += 1
            self._read_counts(self.session, self._counts_asked, self._now())

    @work(thread=True, group="review-counts", exit_on_error=False)
    def _read_counts(self, session: ReviewSession, asked: int, now: Any) -> None:
        with self._session_lock:
            try:
                counts: QueueCounts | None = session.counts(now=now)
            except StudylogError:
                counts = None
        self.post_message(CountsRead(counts, asked))

    @on(CountsRead)
    def _counts_read(self, message: CountsRead) -> None:
        if message.asked != self._counts_asked:
            return  # a later read is under way
        self.counts = message.counts
        self._update_header()
        if self.card is None:
            self.summary_part.update(summary_text(self.answers, self.counts))

    def _header_text(self) -> Text:
        title = self.session.title if self.session is not None else None
        text = Text(f"{title}  " if title else "Review  ", style="bold")
        if self.session is not None:
            counts = self.counts
            if counts is not None:
                text.append(f"{counts.new} new", style="bold blue")
                text.append("  ")
                text.append(f"{counts.learning} learning", style="bold red")
                text.append("  ")
                text.append(f"{counts.review} review", style="bold green")
        if self.answers:
            text.append(f"     done this session: {len(self.answers)}", style="dim")
        return text

    def _show_summary(self) -> None:
        self._layout()
        self.summary_part.update(summary_text(self.answers, self.counts))
        self._update_header(read=True)
        if self._poll is None:
            self._poll = self.set_interval(POLL_SECONDS, self._look_again)

    def _stop_polling(self) -> None:
        if self._poll is not None:
            self._poll.stop()
            self._poll = None

    def _look_again(self) -> None:
        if self.card is None and not self._busy:
            self.show_next()

    async def reveal(self) -> None:
        """Show the answer side and the grade buttons."""
        if self.card is None or self.revealed:
            return
        if self.card.kind == "exercise" and self.exercise_result is None:
            self.results_part.update(
                Text("Not checked in this review: grade it yourself, or press e.", style="dim")
            )
        if self.card.kind == "computed":
            if self.generated is None:
                return  # still being made (or failed: its answer bar is already shown)
            text = Text("Not answered. ", style="dim")
            text.append("The answer: ")
            text.append(self.generated.expected_text, style="bold")
            self.results_part.update(text)
            self.revealed = True
            self._layout()
            self.set_focus(None)
            return
        question, answer = back_markdown(self.card)
        await self.front_part.update(question)
        await self.back_part.update(answer)
        self.revealed = True
        self._layout()

    def answer_ms(self) -> int:
        """Milliseconds since the front was shown, capped at :data:`MAX_ANSWER_MS`."""
        elapsed = int((time.monotonic() - self.shown_at) * 1000)
        return max(0, min(elapsed, MAX_ANSWER_MS))

    async def grade(self, rating: int) -> None:
        """Save the answer and move to the next card."""
        if self.card is None or self.session is None:
            return
        if not self.revealed:
            self.notify("Show the answer first (space), then grade it 1-4.", timeout=3)
            return
        self._start_step("answer", self.card.id, rating, self.answer_ms())

    # --- actions -----------------------------------------------------------------------

    # The footer's keys stay the same for every card: re-checking them
    # (refresh_bindings) recomposes the footer, about 25 ms a card. The actions
    # check the state themselves.

    @guarded
    async def action_space(self) -> None:
        if self._queued(self.action_space):
            return
        if self.revealed:
            await self.grade(self.proposed or 3)
        else:
            await self.reveal()

    @guarded
    async def action_grade(self, rating: int) -> None:
        if self._queued(lambda: self.action_grade(rating)):
            return
        await self.grade(rating)

    @guarded
    async def action_undo(self) -> None:
        if self._queued(self.action_undo):
            return
        if self.session is None or not self.session.can_undo:
            self.notify("Nothing to undo in this session.")
            return
        self._start_step("undo")

    @guarded
    async def action_suspend(self) -> None:
        if not self._queued(self.action_suspend):
            self._set_aside("suspend")

    @guarded
    async def action_bury(self) -> None:
        if not self._queued(self.action_bury):
            self._set_aside("bury")

    def _set_aside(self, kind: str) -> None:
        if self.card is not None and self.session is not None:
            self._start_step(kind, self.card.id)

    @guarded
    def action_open_concept(self) -> None:
        if self.card is None or not self.card.concept_slug:
            self.notify("This card has no concept.")
            return
        if not self.revealed:
            self.notify("Show the answer first (space).")
            return
        self.app.call_next(self.app.open_concept, self.card.concept_slug)

    # --- exercise cards ----------------------------------------------------------------

    def _exercise(self) -> Exercise | None:
        """The exercise of the card on screen (resolved once), or None with a notice."""
        card = self.card
        if card is None:
            return None
        exercise_id = exercise_service.card_exercise_id(card.kind, card.pack_key)
        if exercise_id is None:
            self.notify("This card is not an exercise.")
            return None
        if self.exercise is None or self.exercise.id != exercise_id:
            self.exercise = exercise_service.resolve(self.app.db, exercise_id)
        return self.exercise

    def _code(self, exercise: Exercise) -> str:
        """The code being written: this review's, else the last attempt, else the starter."""
        if self.exercise_code is None:
            last = exercise_service.last_attempt(self.app.db, exercise.id)
            self.exercise_code = last.code if last else exercise_service.starter(exercise)
        return self.exercise_code

    @guarded
    def action_exercise_edit(self) -> None:
        exercise = self._exercise()
        if exercise is None:
            return
        self.app.push_screen(
            ExerciseScreen(
                exercise,
                self._code(exercise),
                last=self.exercise_result,
                statuses=self.exercise_runs,
            ),
            self._after_exercise,
        )

    @guarded
    async def _after_exercise(self, outcome: ExerciseOutcome | None) -> None:
        if outcome is None or self.card is None:
            return
        self.exercise_code = outcome.code
        if len(outcome.statuses) > len(self.exercise_runs):
            self.exercise_runs = list(outcome.statuses)
            if outcome.last is not None:
                await self._show_result(outcome.last)

    @guarded
    async def action_exercise_editor(self) -> None:
        from textual.app import SuspendNotSupported

        from studylog.tui.widgets.editors import edit_in_editor

        exercise = self._exercise()
        if exercise is None:
            return
        try:
            edited = edit_in_editor(self.app, self._code(exercise), suffix=".py")
        except SuspendNotSupported:
            self.notify("$EDITOR cannot run here; press e to write it in the app.")
            return
        if edited is not None:
            self.exercise_code = edited
            self.notify("Code kept for this card; ctrl+r runs the checks.")

    @guarded
    def action_exercise_check(self) -> None:
        exercise = self._exercise()
        if exercise is None or self.card is None:
            return
        if self.checking:
            self.notify("The checks are running.")
            return
        with_approval(self, exercise, self._run_checks)

    def _run_checks(self, exercise: Exercise) -> None:
        if self.card is None:
            return
        self.exercise = exercise
        self.checking = True
        self.results_part.update(Text("Running the checks…", style="dim"))
        self.results_part.display = True
        start_check(self, exercise, self._code(exercise), self.card.id)

    @on(ExerciseChecked)
    @guarded
    async def _exercise_checked(self, message: ExerciseChecked) -> None:
        message.stop()
        self.checking = False
        self.app.collection_changed(self)
        if self.card is None or message.token != self.card.id:
            return  # graded (or undone) meanwhile: the attempt is stored, nothing to show
        self.exercise_runs.append(message.result.status)
        await self._show_result(message.result)

    @on(ExerciseCheckFailed)
    def _exercise_failed(self, message: ExerciseCheckFailed) -> None:
        message.stop()
        self.checking = False
        if self.card is not None and message.token == self.card.id:
            self.results_part.update(Text(message.error, style="red"))
        self.notify(message.error, severity="error", timeout=8)

    async def _show_result(self, result: CheckResult) -> None:
        """Show each check inline, propose the grade its runs earn, show the answer bar."""
        self.exercise_result = result
        self.proposed = exercise_service.proposed_grade(self.exercise_runs)
        self.results_part.update(results_text(result, proposed=self.proposed))
        self._label_buttons()
        self.revealed = True
        self._layout()
        button = self.query_one(f"#grade-{self.proposed}", Button)
        self.call_after_refresh(button.focus)

    # --- computed cards ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="computed-card", exit_on_error=False)
    def _generate(self, card: CardInfo) -> None:
        """Run the card's template in the sandbox (fresh sizes and values) and post it."""
        from studylog.services import demos

        db = self.app.db
        try:
            template_id = computed_service.card_template_id(card.kind, card.pack_key)
            if template_id is None:
                raise StudylogError("this computed card is no longer in its concept file")
            template = computed_service.resolve(db, template_id)
            if not template.trusted:
                self.post_message(ComputedNeedsApproval(card.id, template))
                return
            made = computed_service.generate(template, hidden=demos.private_folders(db))
        except StudylogError as err:
            self.post_message(ComputedReady(card.id, None, str(err)))
            return
        except Exception as exc:  # noqa: BLE001 - shown instead of the card, never a crash
            self.post_message(ComputedReady(card.id, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ComputedReady(card.id, made, made.error))

    @on(ComputedReady)
    @guarded
    async def _computed_ready(self, message: ComputedReady) -> None:
        if self.card is None or self.card.id != message.card_id:
            return  # answered (or undone) meanwhile
        made = message.generation.generated if message.generation is not None else None
        if made is None:
            self.computed_error = message.error or "the template produced no card"
            await self.front_part.update(computed_markdown(self.card, None, self.computed_error))
            self.revealed = True  # grade, bury or suspend it: nothing to answer
            self._layout()
            return
        self.generated = made
        await self.front_part.update(computed_markdown(self.card, made.question))
        self._layout()
        self.answer_input.focus()

    @on(ComputedNeedsApproval)
    def _computed_needs_approval(self, message: ComputedNeedsApproval) -> None:
        from studylog.tui.widgets.dialogs import ApproveCodeScreen

        if self.card is None or self.card.id != message.card_id:
            return
        template = message.template
        card = self.card

        async def done(approved: bool | None) -> None:
            if self.card is None or self.card.id != card.id:
                return
            if not approved:
                self.computed_error = "not approved: this template came with an imported concept"
                await self.front_part.update(computed_markdown(card, None, self.computed_error))
                self.revealed = True
                self._layout()
                return
            try:
                computed_service.approve(self.app.db, template, now=self.app.now())
            except StudylogError as err:
                self.notify(str(err), severity="error")
                return
            self.app.collection_changed(self)
            self._generate(card)

        code = template.template + "".join(
            f"\n# --- {name} ---\n{text}" for name, text in template.files
        )
        self.app.push_screen(
            ApproveCodeScreen(
                template.title or template.id,
                code,
                template.trust_hash,
                what="computed card's template",
            ),
            done,
        )

    @on(Input.Submitted, "#computed-answer")
    @guarded
    def _answer_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.generated is None or self.card is None:
            return
        check = computed_service.check_answer(self.generated, event.value)
        self.answer_check = check
        self.proposed = computed_service.proposed_grade(check)
        text = Text()
        if check.correct:
            text.append("✓ correct", style="bold green")
        else:
            text.append(f"✗ {check.message}", style="bold red")
        text.append("  the answer: ")
        text.append(check.expected, style="bold")
        if self.generated.explain:
            text.append(f"\n{self.generated.explain}", style="dim")
        if self.card.back.strip():
            text.append(f"\n{self.card.back.strip()}", style="dim")
        text.append("\nProposed grade: ", style="dim")
        text.append(RATINGS[self.proposed], style="bold")
        self.results_part.update(text)
        self._label_buttons()
        self.revealed = True
        self._layout()
        button = self.query_one(f"#grade-{self.proposed}", Button)
        self.call_after_refresh(button.focus)

    # --- events ------------------------------------------------------------------------

    @on(Button.Pressed, "#reveal")
    @guarded
    async def _reveal_pressed(self) -> None:
        if not self._busy:  # a click on a card being replaced is dropped
            await self.reveal()

    @on(Button.Pressed, "#answer-bar Button")
    @guarded
    async def _grade_pressed(self, event: Button.Pressed) -> None:
        assert event.button.id is not None
        if not self._busy:
            await self.grade(int(event.button.id.removeprefix("grade-")))

    @on(Markdown.LinkClicked)
    @guarded
    def _link(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.app.open_link(event.href)

    def on_screen_suspend(self) -> None:
        self._away_since = time.monotonic()
        if self.session is not None and self.session.can_undo:
            self.app.collection_changed(self)  # answers: Today's counts, the stats

    def refresh_collection(self) -> None:
        """A change made elsewhere (cards added, answers from the CLI): an empty queue
        looks again; a card being answered stays."""
        if self.card is None and self.session is not None:
            self._look_again()

    async def on_screen_resume(self) -> None:
        if self._away_since is not None:
            # Time spent on the concept page (or elsewhere) is not answer time.
            self.shown_at += time.monotonic() - self._away_since
            self._away_since = None
        if self.card is None and self.session is not None:
            self._look_again()
        elif self.card is not None:
            self._update_header(read=True)
