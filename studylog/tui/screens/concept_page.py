"""A concept's page: explanation, sources, related concepts, cards, code and the demo's outputs.

The demo part works like a notebook cell: the cached outputs show at once
(marked when stale), ``r`` runs the demo in a thread worker that posts
:class:`DemoFinished` / :class:`DemoFailed` (the UI keeps working, with a
progress bar meanwhile), imported code is shown for approval first, and the
code can be edited in the app (``e``, ``ctrl+r`` there saves and runs) or in
``$EDITOR`` (``E``). ``m`` / ``M`` edit the whole concept (explanation and
cards) in the concept file format. Editing a pack concept makes the user's own
copy through the services; the pack's files are never written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.lazy import Lazy
from textual.message import Message
from textual.widgets import Button, Collapsible, Markdown, ProgressBar, Static

from studylog.errors import NotFoundError, StudylogError
from studylog.scheduling.states import CardState
from studylog.services import concepts as concept_service
from studylog.services import demos as demo_service
from studylog.services.cards import CardInfo
from studylog.services.concepts import ConceptInfo
from studylog.services.demos import DemoRun, DemoSource
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets import card_text
from studylog.tui.widgets.dialogs import ApproveCodeScreen, code_syntax
from studylog.tui.widgets.editors import (
    DEMO_TEMPLATE,
    CodeEditorScreen,
    ConceptFileEditorScreen,
    edit_in_editor,
)
from studylog.tui.widgets.guard import guarded
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.outputs import DemoResultView

STATE_NAMES = {0: "new", **{int(s): s.name.lower() for s in CardState}}
COLLAPSE_CODE_LINES = 30  # longer implementations start folded


def card_state(card: CardInfo) -> str:
    """``new``, ``learning``, ``review`` or ``relearning``, plus suspended/buried marks."""
    state = "new" if card.is_new else STATE_NAMES.get(card.state, str(card.state))
    if card.suspended:
        state += " · suspended"
    elif card.buried_until is not None:
        state += " · buried"
    return state


def card_front_line(card: CardInfo, width: int = 72) -> str:
    """The card's question on one line (a cloze card with its deletion hidden)."""
    front = card.front
    if card.kind == "cloze":
        front = card_text.cloze_front(card.front, card.cloze_ord, markdown=False)
    return card_text.one_line(front, width)


@dataclass
class PageData:
    """What the page shows, read in one go (no live database objects)."""

    info: ConceptInfo
    source: DemoSource | None
    source_error: str | None
    cached: DemoRun | None
    related: list[tuple[str, str | None]]  # (slug, title or None when missing)


def load_page(db: Any, slug: str) -> PageData:
    """Read a concept, its demo source and cached result, and its related concepts' titles.

    Raises:
        NotFoundError: no such concept.
    """
    info = concept_service.get(db, slug)
    source: DemoSource | None = None
    error: str | None = None
    cached: DemoRun | None = None
    if info.demo or (info.demo_code or "").strip():
        try:
            source = demo_service.resolve(db, slug)
        except StudylogError as err:
            error = str(err)
        cached = demo_service.cached(db, slug)
    related: list[tuple[str, str | None]] = []
    for slug in info.related:
        # ``related`` holds slugs (docs/concept-format.md): one indexed read each,
        # not a scan of every concept's names as resolving a [[link]] needs.
        try:
            related.append((slug, concept_service.get(db, slug).title))
        except NotFoundError:
            related.append((slug, None))
    return PageData(info, source, error, cached, related)


class PageLoaded(Message):
    """The worker read the page's data (the first time, or again after a change)."""

    def __init__(self, data: PageData, runs: int) -> None:
        super().__init__()
        self.data = data
        self.runs = runs  # demo runs finished on the page when the read began


class PageFailed(Message):
    """The concept could not be read (no such concept, an unreadable database)."""

    def __init__(self, error: StudylogError) -> None:
        super().__init__()
        self.error = error


class ApprovalNeeded(Message):
    """The demo's code came from an import and is not approved: show it first."""

    def __init__(self, source: DemoSource) -> None:
        super().__init__()
        self.source = source


class DemoFinished(Message):
    """A demo run ended (any status); posted by the worker."""

    def __init__(self, slug: str, run: DemoRun) -> None:
        super().__init__()
        self.slug = slug
        self.run = run


class DemoFailed(Message):
    """A demo could not be run at all (missing file, untrusted, process error)."""

    def __init__(self, slug: str, error: str) -> None:
        super().__init__()
        self.slug = slug
        self.error = error


class RelatedButton(Button):
    """A related concept; pressing it opens that concept's page."""

    def __init__(self, slug: str, title: str | None) -> None:
        label = title or f"{slug} (not in the collection)"
        super().__init__(label, compact=True, disabled=title is None, classes="related")
        self.slug = slug


class ConceptPageScreen(CollectionScreen):
    """The page of concept ``slug``.

    Everything is read in one thread worker (:func:`load_page`, a few small
    reads) that posts :class:`PageLoaded`; the page shows its title line at
    once and its content when the data arrives. Reloading after an edit, and
    the trust check before a run, read in workers too.
    """

    AUTO_FOCUS = "#page"

    DEFAULT_CSS = """
    ConceptPageScreen #page-title {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    ConceptPageScreen #page {
        height: 1fr;
        padding: 0 1;
    }
    ConceptPageScreen #meta {
        height: auto;
        color: $text-muted;
    }
    ConceptPageScreen #body {
        margin: 0;
        padding: 0;
    }
    ConceptPageScreen .section {
        height: auto;
        margin: 1 0 0 0;
        text-style: bold;
        color: $accent;
    }
    ConceptPageScreen #below {
        height: auto;
    }
    ConceptPageScreen #sources, ConceptPageScreen #cards {
        height: auto;
    }
    ConceptPageScreen #related {
        height: auto;
    }
    ConceptPageScreen RelatedButton {
        margin: 0 1 0 0;
        min-width: 4;
    }
    ConceptPageScreen #implementation {
        height: auto;
        margin: 1 0 0 0;
    }
    ConceptPageScreen #source {
        height: auto;
    }
    ConceptPageScreen #demo-bar {
        height: auto;
        margin: 1 0 0 0;
    }
    ConceptPageScreen #demo-title {
        width: auto;
        text-style: bold;
        color: $accent;
    }
    ConceptPageScreen #demo-hint {
        width: 1fr;
        color: $text-muted;
        padding: 0 0 0 2;
    }
    ConceptPageScreen #progress {
        height: 1;
    }
    ConceptPageScreen.-running #outputs {
        opacity: 50%;
    }
    ConceptPageScreen #outputs {
        margin: 1 0 1 0;
    }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="concept.back"),
        Binding("r", "run_demo", "Run demo", id="concept.run"),
        Binding("e", "edit_code", "Edit code", id="concept.edit_code"),
        Binding(
            "E",
            "edit_code_external",
            "Edit code in $EDITOR",
            id="concept.edit_code_external",
            show=False,
        ),
        Binding("m", "edit_concept", "Edit concept", id="concept.edit"),
        Binding(
            "M",
            "edit_concept_external",
            "Edit concept in $EDITOR",
            id="concept.edit_external",
            show=False,
        ),
        Binding("i", "toggle_code", "Code", id="concept.toggle_code"),
        Binding("x", "exercise", "Exercise", id="concept.exercise"),
        Binding("o", "jump_outputs", "Outputs", id="concept.outputs"),
    ]

    def __init__(self, slug: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.slug = slug
        self.data: PageData | None = None
        self.running = False
        self._run_started = 0.0
        self._draft: str | None = None  # a concept file that failed to parse, to edit again
        self.loaded = False  # the data is on screen (tests and benchmarks wait on it)
        self._run_when_loaded = False
        self._runs_finished = 0

    # --- building ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.slug}  loading…", style="dim"), id="page-title")
        yield VerticalScroll(id="page")
        yield KeyBar()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="concept-page", exit_on_error=False)
    def _load(self) -> None:
        runs = self._runs_finished
        try:
            data = load_page(self.app.db, self.slug)
        except StudylogError as err:
            self.post_message(PageFailed(err))
            return
        self.post_message(PageLoaded(data, runs))

    @on(PageFailed)
    def _failed(self, message: PageFailed) -> None:
        if self.data is None:
            self.query_one("#page-title", Static).update(
                Text(f"Cannot open concept {self.slug!r}: {message.error}", style="bold red")
            )
        else:
            self.notify(str(message.error), severity="error")

    @on(PageLoaded)
    @guarded
    async def _loaded(self, message: PageLoaded) -> None:
        if message.runs != self._runs_finished:
            self._load()  # a run ended while reading: its outputs are newer than this read
            return
        first = self.data is None
        self.data = data = message.data
        if first:
            self.query_one("#page-title", Static).update(self._title_text(data))
            # Everything below the explanation is mounted just after the first frame
            # (textual.lazy): the page shows at once, the rest follows a moment later.
            await self.query_one("#page", VerticalScroll).mount_all(
                [
                    Static(self._meta_text(data), id="meta"),
                    Markdown(card_text.for_markdown(data.info.body), id="body", open_links=False),
                    Lazy(self._below(data)),
                ]
            )
        else:
            await self._show(data)
        self.loaded = True
        if self._run_when_loaded:
            self._run_when_loaded = False
            self.action_run_demo()

    def _below(self, data: PageData) -> Vertical:
        """Sources, related concepts, cards, the code and the demo's outputs."""
        code = Collapsible(
            Static(self._source_renderable(data), id="source"),
            title=self._code_title(data),
            collapsed=self._code_lines(data) > COLLAPSE_CODE_LINES,
            id="implementation",
        )
        return Vertical(
            Static("Sources", classes="section"),
            Static(self._sources_text(data), id="sources"),
            Static("Related", classes="section"),
            Horizontal(*self._related_buttons(data), id="related"),
            Static(f"Cards ({len(data.info.cards)})", classes="section", id="cards-title"),
            Static(self._cards_text(data), id="cards"),
            Static(
                f"Exercises ({len(data.info.exercises)})", classes="section", id="exercises-title"
            ),
            Static(self._exercises_text(data), id="exercises"),
            code,
            Horizontal(
                Static("Demo outputs", id="demo-title"),
                Static(self._demo_hint(data), id="demo-hint"),
                id="demo-bar",
            ),
            DemoResultView(self._empty_text(data), run=data.cached, id="outputs"),
            id="below",
        )

    def part(self, selector: str | type[Any]) -> Any:
        """The widget matching ``selector``, or None while the lower part is mounting."""
        try:
            return self.query_one(selector)
        except NoMatches:
            return None

    def _title_text(self, data: PageData) -> Text:
        info = data.info
        text = Text(info.title, style="bold")
        text.append(f"  ({info.slug})", style="dim")
        origin = {"pack": "pack", "user": "your concept", "import": "imported"}.get(
            info.origin, info.origin
        )
        if info.origin == "pack" and info.user_modified:
            origin = "pack · your copy"
        text.append(f"   {origin}", style="italic cyan")
        if data.source is not None and not data.source.trusted:
            text.append("   untrusted demo", style="bold yellow")
        return text

    def _meta_text(self, data: PageData) -> Text:
        info = data.info
        text = Text()
        if info.aliases:
            text.append("also: ", style="dim")
            text.append(", ".join(info.aliases))
        if info.tags:
            if text:
                text.append("\n")
            text.append(" ".join(f"#{t}" for t in info.tags), style="magenta")
        return text

    def _sources_text(self, data: PageData) -> Text:
        if not data.info.sources:
            return Text("(none)", style="dim")
        return Text("\n".join(f"• {s}" for s in data.info.sources))

    def _related_buttons(self, data: PageData) -> list[Any]:
        if not data.related:
            return [Static(Text("(none)", style="dim"))]
        return [RelatedButton(slug, title) for slug, title in data.related]

    def _cards_text(self, data: PageData) -> Text:
        cards = data.info.cards
        if not cards:
            return Text("(no cards)", style="dim")
        text = Text()
        for k, card in enumerate(cards):
            if k:
                text.append("\n")
            text.append("• ")
            text.append(card_front_line(card))
            due = card.due.strftime("%Y-%m-%d") if not card.is_new else ""
            text.append(f"   {card_state(card)}", style="cyan")
            if due:
                text.append(f" · due {due}", style="dim")
        return text

    def _exercises_text(self, data: PageData) -> Text:
        found = data.info.exercises
        if not found:
            return Text("(none; an ::: exercise block in the concept file adds one)", style="dim")
        text = Text()
        for k, spec in enumerate(found):
            if k:
                text.append("\n")
            text.append("• ")
            text.append(spec.title)
            text.append(f"   {data.info.slug}.{spec.function}", style="dim")
        text.append("\nx opens one: write it and check it (ctrl+r)", style="dim")
        return text

    @staticmethod
    def _code_lines(data: PageData) -> int:
        return data.source.code.count("\n") + 1 if data.source else 0

    def _code_title(self, data: PageData) -> str:
        if data.source is None:
            return "Implementation: none yet (e writes one)"
        where = "your code" if data.source.path is None else data.source.name
        return f"Implementation: {where}, {self._code_lines(data)} lines (i shows/hides)"

    def _source_renderable(self, data: PageData) -> Any:
        if data.source is not None:
            return code_syntax(data.source.code)
        if data.source_error:
            return Text(data.source_error, style="red")
        return Text("This concept has no demo yet. Press e to write one.", style="dim")

    def _demo_hint(self, data: PageData) -> Text:
        if data.source is None:
            return Text("e: write a demo", style="dim")
        hint = "r run · e edit · E $EDITOR"
        if not data.source.trusted:
            hint = "r review the imported code and run · e edit"
        text = Text(hint, style="dim")
        if data.cached is not None and data.cached.stale:
            text.append("   STALE: outputs are from older code", style="bold yellow")
        return text

    def _empty_text(self, data: PageData) -> str:
        if data.source is None and data.source_error is None:
            return "No demo."
        return "Not run yet: press r to run the demo."

    # --- reloading ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read the concept again (in the worker); every part of the page is refreshed."""
        self._load()

    def refresh_collection(self) -> None:
        self.reload()

    async def _show(self, data: PageData) -> None:
        """Refresh every part of the page with ``data``."""
        self.query_one("#page-title", Static).update(self._title_text(data))
        self.query_one("#meta", Static).update(self._meta_text(data))
        await self.query_one("#body", Markdown).update(card_text.for_markdown(data.info.body))
        if self.part("#below") is None:
            return  # not mounted yet: it is built from the data read just now
        self.query_one("#sources", Static).update(self._sources_text(data))
        related = self.query_one("#related", Horizontal)
        await related.remove_children()
        await related.mount_all(self._related_buttons(data))
        self.query_one("#cards-title", Static).update(f"Cards ({len(data.info.cards)})")
        self.query_one("#cards", Static).update(self._cards_text(data))
        self.query_one("#exercises-title", Static).update(f"Exercises ({len(data.info.exercises)})")
        self.query_one("#exercises", Static).update(self._exercises_text(data))
        collapsible = self.query_one("#implementation", Collapsible)
        collapsible.title = self._code_title(data)
        self.query_one("#source", Static).update(self._source_renderable(data))
        self.query_one("#demo-hint", Static).update(self._demo_hint(data))
        view = self.query_one(DemoResultView)
        view.empty_text = self._empty_text(data)
        if not self.running:
            await view.show(data.cached)

    # --- running the demo ----------------------------------------------------------------

    @guarded
    def action_run_demo(self) -> None:
        if self.data is None:
            self._run_when_loaded = True  # asked before the page was read (the palette)
            return
        if self.running:
            self.notify("The demo is already running.")
            return
        self.start_run()

    @on(ApprovalNeeded)
    def _approval_needed(self, message: ApprovalNeeded) -> None:
        self._run_ended()
        source = message.source
        title = self.data.info.title if self.data is not None else source.title
        self.app.push_screen(
            ApproveCodeScreen(title, source.code, source.trust_hash),
            lambda ok: self._after_approval(bool(ok), source),
        )

    @guarded
    def _after_approval(self, approved: bool, source: DemoSource) -> None:
        if not approved:
            self.notify("Not approved: the demo did not run.", severity="warning")
            return
        try:
            demo_service.approve(
                self.app.db,
                self.slug,
                expected_hash=source.trust_hash,
                now=self.app.now(),
            )
        except StudylogError as err:
            self.notify(str(err), severity="error")
            return
        self.app.collection_changed(self)
        self.notify("Approved this exact code; it runs now.")
        if self.data is not None:
            # Approval is by hash of exactly this code: it is trusted now.
            self.data.source = replace(source, trusted=True)
            self.query_one("#page-title", Static).update(self._title_text(self.data))
            hint = self.part("#demo-hint")
            if hint is not None:
                hint.update(self._demo_hint(self.data))
        self.start_run()

    def start_run(self) -> None:
        """Run the demo in a worker; the page stays usable and shows a progress bar."""
        self.running = True
        self._run_started = time.monotonic()
        self.add_class("-running")
        title = self.part("#demo-title")
        if title is not None:
            title.update(Text("Demo outputs: running…"))
        bar = self.part("#demo-bar")
        if bar is not None and self.part("#progress") is None:
            # Mounted only while running: an indeterminate bar repaints 15 times a second.
            bar.parent.mount(
                ProgressBar(total=None, show_eta=False, show_percentage=False, id="progress"),
                after=bar,
            )
        self._run_worker(self.slug)

    @work(thread=True, exclusive=True, group="concept-demo")
    def _run_worker(self, slug: str) -> None:
        """Resolve the code (imported code not approved yet goes back for approval), run it."""
        db = self.app.db
        now = self.app.now
        try:
            source = demo_service.resolve(db, slug)
            if not source.trusted:
                self.post_message(ApprovalNeeded(source))
                return
            run = demo_service.run(db, slug, now=now())
        except StudylogError as err:
            self.post_message(DemoFailed(slug, str(err)))
            return
        except Exception as exc:  # noqa: BLE001 - reported, never a crash
            self.post_message(
                DemoFailed(slug, f"the demo could not run: {type(exc).__name__}: {exc}")
            )
            return
        self.post_message(DemoFinished(slug, run))

    def _run_ended(self) -> None:
        self._runs_finished += 1
        self.running = False
        self.remove_class("-running")
        title = self.part("#demo-title")
        if title is not None:
            title.update("Demo outputs")
        progress = self.part("#progress")
        if progress is not None:
            progress.remove()

    @guarded
    async def on_demo_finished(self, message: DemoFinished) -> None:
        if message.slug != self.slug:
            return
        self._run_ended()
        self.app.collection_changed(self)  # the worker stored the run (the list shows its status)
        run = message.run
        if self.data is not None:
            self.data.cached = run
        hint, view = self.part("#demo-hint"), self.part(DemoResultView)
        if hint is not None and self.data is not None:
            hint.update(self._demo_hint(self.data))
        if view is not None:
            await view.show(run)
        notice = None if run.cached else demo_service.sandbox_notice(run.result)
        if notice:
            self.notify(notice, severity="warning", timeout=10)
        status = run.result.status
        if status == "ok":
            self.notify(f"Demo ran in {run.result.duration_ms} ms.")
        else:
            self.notify(
                f"Demo {status}: {run.result.error or 'see the outputs'}",
                severity="error" if status == "error" else "warning",
            )

    @guarded
    def on_demo_failed(self, message: DemoFailed) -> None:
        if message.slug != self.slug:
            return
        self._run_ended()
        self.notify(message.error, severity="error", timeout=8)

    # --- navigation --------------------------------------------------------------------

    @guarded
    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    @guarded
    def action_toggle_code(self) -> None:
        if self.data is None:
            return
        collapsible = self.part("#implementation")
        if collapsible is None:
            return
        collapsible.collapsed = not collapsible.collapsed
        if not collapsible.collapsed:
            self.call_after_refresh(collapsible.scroll_visible, top=True)

    @guarded
    def action_jump_outputs(self) -> None:
        bar = self.part("#demo-bar")
        if bar is not None:
            # After the next refresh: outputs that just arrived change the layout.
            self.call_after_refresh(bar.scroll_visible, top=True, animate=False)

    @on(Button.Pressed, "RelatedButton")
    @guarded
    def _open_related(self, event: Button.Pressed) -> None:
        assert isinstance(event.button, RelatedButton)
        self.app.call_next(self.app.open_concept, event.button.slug)

    @on(Markdown.LinkClicked)
    @guarded
    def _link(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.app.open_link(event.href)

    # --- exercises ---------------------------------------------------------------------

    @guarded
    def action_exercise(self) -> None:
        """Open one of the concept's exercises (a picker when there are several)."""
        from studylog.services import exercises as exercise_service

        found = exercise_service.of_concept(self.app.db, self.slug)
        if not found:
            self.notify("This concept has no exercises.")
            return
        if len(found) == 1:
            self.open_exercise(found[0].id)
            return
        from studylog.tui.screens.exercise import ExercisePicker

        self.app.push_screen(ExercisePicker(found), self._picked)

    @guarded
    def _picked(self, exercise_id: str | None) -> None:
        if exercise_id is not None:
            self.open_exercise(exercise_id)

    def open_exercise(self, exercise_id: str) -> None:
        """The exercise in the code editor with the last attempt (or the starter)."""
        from studylog.services import exercises as exercise_service
        from studylog.tui.screens.exercise import ExerciseScreen

        exercise = exercise_service.resolve(self.app.db, exercise_id)
        last = exercise_service.last_attempt(self.app.db, exercise.id)
        code = last.code if last is not None else exercise_service.starter(exercise)
        self.app.push_screen(
            ExerciseScreen(exercise, code, last=last.result if last is not None else None)
        )

    # --- editing -----------------------------------------------------------------------

    def _code_for_editing(self) -> str:
        assert self.data is not None
        if self.data.source is not None:
            return self.data.source.code
        return DEMO_TEMPLATE.format(title=self.data.info.title)

    @guarded
    def action_edit_code(self) -> None:
        if self.data is None:
            return
        self.app.push_screen(
            CodeEditorScreen(self.slug, self.data.info.title, self._code_for_editing()),
            self._after_code_edit,
        )

    @guarded
    async def _after_code_edit(self, result: str | None) -> None:
        if result is None:
            return
        # The editor saved: the change re-reads this page when it shows again.
        if result == "run":
            self.action_run_demo()

    @guarded
    async def action_edit_code_external(self) -> None:
        if self.data is None:
            return
        try:
            edited = edit_in_editor(self.app, self._code_for_editing(), suffix=".py")
        except SuspendNotSupported:
            self.notify("$EDITOR cannot run here; press e to edit in the app.", severity="warning")
            return
        if edited is None:
            return
        try:
            concept_service.set_demo_code(self.app.db, self.slug, edited, now=self.app.now())
        except StudylogError as err:
            self.notify(str(err), severity="error")
            return
        self.app.collection_changed(self)
        self.reload()
        self.notify("Demo code saved (your own copy). Press r to run it.")

    def _concept_text(self) -> str:
        assert self.data is not None
        return self._draft or concept_service.to_markdown(self.data.info)

    @guarded
    def action_edit_concept(self) -> None:
        if self.data is None:
            return
        self.app.push_screen(
            ConceptFileEditorScreen(self._concept_text(), slug=self.slug), self._after_concept_edit
        )

    @guarded
    async def _after_concept_edit(self, slug: str | None) -> None:
        if slug is not None:
            self._draft = None  # the editor saved: the change re-reads this page

    @guarded
    async def action_edit_concept_external(self) -> None:
        if self.data is None:
            return
        try:
            edited = edit_in_editor(self.app, self._concept_text(), suffix=".md")
        except SuspendNotSupported:
            self.notify("$EDITOR cannot run here; press m to edit in the app.", severity="warning")
            return
        if edited is None:
            return
        try:
            concept_service.edit(self.app.db, self.slug, edited, now=self.app.now())
        except StudylogError as err:
            self._draft = edited  # M again continues from the failed text
            self.notify(f"{err} (M edits your text again)", severity="error", timeout=10)
            return
        self._draft = None
        self.app.collection_changed(self)
        self.reload()
        self.notify("Concept saved (your own copy).")
