"""The studylog Textual app: five screens as modes, a command palette, help, themes.

``StudylogApp(db, now=...)`` takes a prepared database (migrated, pack
synced) and a clock; ``run_app`` runs it (``studylog`` on a terminal). Screens
reach the services through ``self.app.db``, ``self.app.now()`` and
``self.app.calendar``; no screen touches SQLAlchemy.

Modes (F2-F6): today, review, concepts, stats, search. A mode whose screen
module is missing or broken shows a placeholder instead, so the app always
runs. Errors from services are notifications (see
:mod:`studylog.tui.widgets.guard`), never a crash.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Static

from studylog.errors import StudylogError
from studylog.services import cards as card_service
from studylog.services import concepts as concept_service
from studylog.services import settings
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar, ensure_utc, utcnow
from studylog.tui.commands import StudylogCommands
from studylog.tui.widgets.entry_editor import link_target
from studylog.tui.widgets.guard import guarded, report
from studylog.tui.widgets.modebar import ModeBar

THEME_KEY = "theme"

# mode -> (module, class, title)
SCREEN_CLASSES: dict[str, tuple[str, str, str]] = {
    "today": ("studylog.tui.screens.today", "TodayScreen", "Today"),
    "review": ("studylog.tui.screens.review", "ReviewScreen", "Review"),
    "concepts": ("studylog.tui.screens.concepts", "ConceptsScreen", "Concepts"),
    "stats": ("studylog.tui.screens.stats", "StatsScreen", "Stats"),
    "search": ("studylog.tui.screens.search", "SearchScreen", "Search"),
}


class PlaceholderScreen(Screen[None]):
    """Stands in for a screen whose module cannot be imported (yet)."""

    def __init__(self, mode: str, title: str, reason: str) -> None:
        super().__init__()
        self.mode = mode
        self.title_text = title
        self.reason = reason

    def compose(self) -> ComposeResult:
        yield ModeBar(self.mode)
        yield Static(
            Text.assemble(
                (f"\n  {self.title_text}\n\n", "bold"),
                ("  This screen is not available in this build: ", ""),
                (self.reason, "dim"),
                "\n\n  F2-F6 switch screens · F1 lists the keys.",
            ),
            id="placeholder",
        )
        yield Footer()


def _screen_factory(mode: str) -> Callable[[], Screen[None]]:
    module_name, class_name, title = SCREEN_CLASSES[mode]

    def make() -> Screen[None]:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            return PlaceholderScreen(mode, title, f"{type(error).__name__}: {error}")
        return cls()

    return make


class StudylogApp(App[None]):
    """See the module docstring."""

    CSS_PATH = "studylog.tcss"
    TITLE = "studylog"
    MODES: ClassVar[dict[str, Callable[[], Screen[None]]]] = {  # type: ignore[assignment]
        mode: _screen_factory(mode) for mode in SCREEN_CLASSES
    }
    DEFAULT_MODE = "today"
    COMMANDS = App.COMMANDS | {StudylogCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("f2", "goto('today')", "Today", id="app.today"),
        Binding("f3", "goto('review')", "Review", id="app.review"),
        Binding("f4", "goto('concepts')", "Concepts", id="app.concepts"),
        Binding("f5", "goto('stats')", "Stats", id="app.stats"),
        Binding("f6", "goto('search')", "Search", id="app.search"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
    ]

    def __init__(
        self,
        db: Database,
        *,
        now: Callable[[], datetime] | None = None,
        raise_unexpected: bool = False,
    ) -> None:
        """``db``: a prepared database; ``now``: the clock (aware UTC; fixed in tests).

        ``raise_unexpected``: let bugs (exceptions other than StudylogError) end
        the app instead of becoming notifications; tests set it.
        """
        self.db = db
        self._now = now or utcnow
        self.raise_unexpected = raise_unexpected
        self.calendar: StudyCalendar = settings.calendar(db)
        super().__init__()
        self._theme_loaded = False

    # --- the clock and the study day ---------------------------------------------------

    def now(self) -> datetime:
        """The current time, aware UTC (the fixed clock in tests)."""
        return ensure_utc(self._now())

    def today(self) -> date:
        """The current study day (the day start hour applies)."""
        return self.calendar.day_of(self.now())

    # --- startup and themes ------------------------------------------------------------

    def on_mount(self) -> None:
        try:
            saved = settings.get(self.db, THEME_KEY)
        except StudylogError as error:
            report(self, error)
            saved = None
        if isinstance(saved, str) and saved in self.available_themes:
            self.theme = saved
        self._theme_loaded = True
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        if not self._theme_loaded:
            return
        try:
            settings.put(self.db, THEME_KEY, theme.name)
        except StudylogError as error:
            report(self, error)

    # --- navigation ---------------------------------------------------------------------

    @guarded
    async def action_goto(self, mode: str) -> None:
        """Switch to screen ``mode`` (today, review, concepts, stats, search)."""
        if mode not in SCREEN_CLASSES:
            self.notify(f"no screen called {mode!r}", severity="error")
            return
        await self.switch_mode(mode)

    def action_help(self) -> None:
        from studylog.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _base_screen(self, mode: str) -> Screen[None] | None:
        stack = self._screen_stacks.get(mode)
        return stack[0] if stack else None

    def _today_screen(self):  # noqa: ANN202 - TodayScreen (imported lazily)
        """Switch to Today and return its screen, closing anything pushed over it."""
        from studylog.tui.screens.today import TodayScreen

        self.switch_mode("today")
        while len(self.screen_stack) > 1:
            self.pop_screen()
        screen = self._base_screen("today")
        return screen if isinstance(screen, TodayScreen) else None

    @guarded
    def open_day(
        self, day: date | None = None, *, entry_id: int | None = None, todo_id: int | None = None
    ) -> None:
        """Show study day ``day`` (None: today) in Today, optionally with an entry or a
        TODO under the cursor (and focused)."""
        screen = self._today_screen()
        if screen is not None:
            screen.show_day(
                day or self.today(),
                entry_id=entry_id,
                todo_id=todo_id,
                focus=entry_id is not None or todo_id is not None,
            )

    def _today_on_today(self):  # noqa: ANN202 - TodayScreen | None
        screen = self._today_screen()
        if screen is not None and screen.day != self.today():
            screen.show_day(self.today())
        return screen

    @guarded
    def action_new_entry(self) -> None:
        """Today, with a new entry in the editor."""
        screen = self._today_on_today()
        if screen is not None:
            screen.call_after_refresh(screen.action_new_entry)

    @guarded
    def action_add_todo(self) -> None:
        """Today, asking for a new TODO."""
        screen = self._today_on_today()
        if screen is not None:
            screen.call_after_refresh(screen.action_add_todo)

    @guarded
    def action_go_to_day(self) -> None:
        screen = self._today_screen()
        if screen is not None:
            screen.call_after_refresh(screen.action_go_to_day)

    @guarded
    def add_todo_today(self, text: str) -> None:
        """Add TODO ``text`` to today's list and show it."""
        from studylog.services import todos

        todo = todos.add(self.db, text, self.today(), now=self.now())
        self.notify(f"Added TODO: {todo.text}", timeout=3)
        screen = self._base_screen("today")
        invalidate = getattr(screen, "invalidate", None)
        if invalidate is not None:
            invalidate()  # the days it read ahead do not have the new TODO
        self.open_day(self.today(), todo_id=todo.id)

    def _concept_page(self, slug: str) -> Screen[None] | None:
        try:
            from studylog.tui.screens.concept_page import ConceptPageScreen
        except ImportError as error:
            self.notify(f"concept pages are not available: {error}", severity="error")
            return None
        return ConceptPageScreen(slug)

    @guarded
    def open_concept(self, slug: str) -> None:
        """Push the page of concept ``slug``."""
        page = self._concept_page(slug)
        if page is not None:
            self.push_screen(page)

    @guarded
    def run_demo(self, slug: str) -> None:
        """Open concept ``slug``'s page and run its demo there (in a worker, with progress)."""
        page = self._concept_page(slug)
        if page is None:
            return
        run = getattr(page, "action_run_demo", None)
        self.push_screen(page)
        if run is None:
            self.notify("this build cannot run demos from the palette", severity="warning")
            return
        page.call_after_refresh(run)

    @guarded
    def open_card(self, card_id: int) -> None:
        """Show card ``card_id`` (both sides, schedule, its concept)."""
        from studylog.tui.widgets.card_view import CardView

        card = card_service.get(self.db, card_id)
        self.push_screen(CardView(card))

    @guarded
    def open_link(self, href: str) -> None:
        """Follow a link of rendered markdown: ``concept:`` links open the concept."""
        target = link_target(href)
        if target is None:
            self.open_url(href)
            return
        slug = concept_service.resolve(self.db, target)
        if slug is None:
            self.notify(f"No concept called {target!r} yet.", severity="warning")
            return
        self.open_concept(slug)

    # --- quitting -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Save the entry being written, then quit."""
        for mode in SCREEN_CLASSES:
            screen = self._base_screen(mode)
            flush = getattr(screen, "flush_draft", None)
            if callable(flush):
                flush()
        self.exit()


def run_app(db: Database, now: Callable[[], datetime] | None = None) -> None:
    """Run the app on the terminal until the user quits."""
    StudylogApp(db, now=now).run()
