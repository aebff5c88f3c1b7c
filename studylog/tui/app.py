"""The studylog Textual app: five screens as modes, a command palette, help, themes.

``StudylogApp(db, now=...)`` takes a prepared database (migrated, pack
synced) and a clock; ``run_app`` runs it (``studylog`` on a terminal). Screens
reach the services through ``self.app.db``, ``self.app.now()`` and
``self.app.calendar``; no screen touches SQLAlchemy.

After any write, one :class:`~studylog.tui.changes.CollectionChanged` tells
every screen (:meth:`StudylogApp.collection_changed`); the database's data
version is polled about once a second, so a write by the CLI in another process
shows within two seconds.

Modes (F2-F8): today, review, concepts, stats, search, browse, decks, one registry
(:data:`SCREENS`) of plain imports: a broken screen module fails at start,
loudly, as any other bug. Errors from services are notifications (see
:mod:`studylog.tui.widgets.guard`), never a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, TypeVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.theme import Theme

from studylog.errors import StudylogError
from studylog.services import cards as card_service
from studylog.services import concepts as concept_service
from studylog.services import settings
from studylog.services import todos as todo_service
from studylog.services.changes import ChangeWatch
from studylog.services.custom_study import CustomStudy
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar, ensure_utc, utcnow
from studylog.tui import inert_render
from studylog.tui.changes import CollectionChanged, CollectionScreen, ReadCache
from studylog.tui.commands import StudylogCommands
from studylog.tui.screens.browse import BrowseScreen
from studylog.tui.screens.concept_page import ConceptPageScreen
from studylog.tui.screens.concepts import ConceptsScreen
from studylog.tui.screens.decks import DecksScreen
from studylog.tui.screens.help import HelpScreen
from studylog.tui.screens.review import ReviewScreen
from studylog.tui.screens.search import SearchScreen
from studylog.tui.screens.settings import SettingsScreen
from studylog.tui.screens.stats import StatsScreen
from studylog.tui.screens.suggested import SuggestedScreen
from studylog.tui.screens.today import TodayScreen
from studylog.tui.widgets.card_view import CardView
from studylog.tui.widgets.entry_editor import link_target
from studylog.tui.widgets.guard import guarded, report

THEME_KEY = settings.THEME
T = TypeVar("T")
POLL_SECONDS = 1.0  # how often the data version is looked at (one PRAGMA, no table read)


@dataclass(frozen=True)
class Mode:
    """One of the app's five screens: its mode name, class, title and F-key."""

    name: str
    screen: type[Screen[None]]
    title: str
    key: str


# The one registry of the app's modes (F2-F6, in this order).
SCREENS: tuple[Mode, ...] = (
    Mode("today", TodayScreen, "Today", "F2"),
    Mode("review", ReviewScreen, "Review", "F3"),
    Mode("concepts", ConceptsScreen, "Concepts", "F4"),
    Mode("stats", StatsScreen, "Stats", "F5"),
    Mode("search", SearchScreen, "Search", "F6"),
    Mode("browse", BrowseScreen, "Browse", "F7"),
    Mode("decks", DecksScreen, "Decks", "F8"),
)
MODE_NAMES = tuple(mode.name for mode in SCREENS)


class StudylogApp(App[None]):
    """See the module docstring."""

    CSS_PATH = "studylog.tcss"
    TITLE = "studylog"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        mode.name: mode.screen for mode in SCREENS
    }
    DEFAULT_MODE = "today"
    COMMANDS = App.COMMANDS | {StudylogCommands}
    MODE_REGISTRY: ClassVar[tuple[Mode, ...]] = SCREENS  # the mode bar and the palette list these
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("f2", "goto('today')", "Today", id="app.today"),
        Binding("f3", "goto('review')", "Review", id="app.review"),
        Binding("f4", "goto('concepts')", "Concepts", id="app.concepts"),
        Binding("f5", "goto('stats')", "Stats", id="app.stats"),
        Binding("f6", "goto('search')", "Search", id="app.search"),
        Binding("f7", "goto('browse')", "Browse", id="app.browse"),
        Binding("f8", "goto('decks')", "Decks", id="app.decks"),
        Binding("f9", "settings", "Settings", id="app.settings", show=False),
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
        inert_render.install()  # no terminal escape from the data reaches the screen
        self.db = db
        self._now = now or utcnow
        self.raise_unexpected = raise_unexpected
        self.calendar: StudyCalendar = settings.calendar(db)
        self.reads = ReadCache()  # reads kept until the next change (days read ahead)
        super().__init__()
        self._theme_loaded = False
        self._watch: ChangeWatch | None = None
        self._polling = False

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
        try:
            self._watch = ChangeWatch(self.db)
        except StudylogError as error:
            report(self, error)  # the app works; writes from elsewhere show on the next visit
        else:
            self.set_interval(POLL_SECONDS, self.look_for_changes)

    def on_unmount(self) -> None:
        if self._watch is not None:
            self._watch.close()

    # --- the one change signal -----------------------------------------------------------

    def collection_changed(self, origin: object | None = None) -> None:
        """Call after any write: reads made before it are dropped and every screen
        shows the collection as it is now (``origin``, the writer, has already).

        A write of this app's own (an ``origin``) is taken as seen by the
        data-version poll, so it does not come back as a second change.
        """
        if origin is not None and self._watch is not None:
            try:
                self._watch.reset()
            except StudylogError:
                pass  # the poll will report it as a change: a harmless second refresh
        self.reads.new_generation()
        self.post_message(CollectionChanged(origin))

    @on(CollectionChanged)
    def _collection_changed(self, change: CollectionChanged) -> None:
        for stack in self._screen_stacks.values():
            for screen in stack:
                if isinstance(screen, CollectionScreen):
                    screen.collection_changed(change)

    def look_for_changes(self) -> None:
        """Look (in a worker) whether another connection committed; the timer calls it."""
        if self._watch is not None and not self._polling:
            self._polling = True
            self._check_data_version()

    @work(thread=True, group="data-version", exit_on_error=False)
    def _check_data_version(self) -> None:
        """Another connection committed (the CLI, a worker): tell the screens."""
        try:
            assert self._watch is not None
            if self._watch.changed():
                self.call_from_thread(self.collection_changed)
        except StudylogError:
            pass  # locked or gone for a moment: the next look tells
        finally:
            self._polling = False

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
        if mode not in MODE_NAMES:
            self.notify(f"no screen called {mode!r}", severity="error")
            return
        await self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _base_screen(self, mode: str) -> Screen[None] | None:
        stack = self._screen_stacks.get(mode)
        return stack[0] if stack else None

    def _today_screen(self) -> TodayScreen | None:
        """Switch to Today and return its screen, closing anything pushed over it."""
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

    def _today_on_today(self) -> TodayScreen | None:
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
        todo = todo_service.add(self.db, text, self.today(), now=self.now())
        self.notify(f"Added TODO: {todo.text}", timeout=3)
        self.collection_changed(self)
        self.open_day(self.today(), todo_id=todo.id)

    @guarded
    def open_concept(self, slug: str) -> None:
        """Push the page of concept ``slug``."""
        self.push_screen(ConceptPageScreen(slug))

    @guarded
    def run_demo(self, slug: str) -> None:
        """Open concept ``slug``'s page and run its demo there (in a worker, with progress)."""
        page = ConceptPageScreen(slug)
        self.push_screen(page)
        page.call_after_refresh(page.action_run_demo)

    @guarded
    def open_review(self, *, deck: str | None = None, custom: CustomStudy | None = None) -> None:
        """Push a review screen for one deck (``deck``) or a custom study session."""
        self.push_screen(ReviewScreen(deck=deck, custom=custom))

    @guarded
    def open_suggestions(self) -> None:
        """Push the queue of suggested cards (definitions found in imported notes)."""
        if not isinstance(self.screen, SuggestedScreen):
            self.push_screen(SuggestedScreen())

    @guarded
    def open_settings(self, deck: str | None = None) -> None:
        """Push the Settings screen: the collection's settings, or ``deck``'s preset."""
        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen(deck))

    def action_settings(self) -> None:
        self.open_settings()

    def read_then(self, read: Callable[[], T], then: Callable[[T], object]) -> None:
        """Run ``read`` (service reads, no widgets) in a thread worker, then ``then(result)``
        on the UI thread. An error of either is a notification (:func:`report`)."""
        self._read_then(read, then)

    @work(thread=True, group="app-read", exit_on_error=False)
    def _read_then(self, read: Callable[[], T], then: Callable[[T], object]) -> None:
        try:
            result = read()
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.call_from_thread(report, self, error)
            return
        self.call_from_thread(guarded(lambda app: then(result)), self)

    def open_card(self, card_id: int) -> None:
        """Show card ``card_id`` (both sides, schedule, its concept); read in a worker."""
        self.read_then(
            lambda: card_service.get(self.db, card_id),
            lambda card: self.push_screen(CardView(card)),
        )

    def open_concept_named(self, name: str) -> None:
        """Open the concept ``name`` names (a slug, title or alias: a ``[[link]]``'s target),
        or say there is none; resolved in a worker."""

        def opened(slug: str | None) -> None:
            if slug is None:
                self.notify(f"No concept called {name!r} yet.", severity="warning")
            else:
                self.open_concept(slug)

        self.read_then(lambda: concept_service.resolve(self.db, name), opened)

    @guarded
    def open_link(self, href: str) -> None:
        """Follow a link of rendered markdown: ``concept:`` links open the concept."""
        target = link_target(href)
        if target is None:
            self.open_url(href)
            return
        self.open_concept_named(target)

    # --- quitting -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Save the entry being written, then quit."""
        today = self._base_screen("today")
        if isinstance(today, TodayScreen):
            today.flush_draft()
        self.exit()


def run_app(db: Database, now: Callable[[], datetime] | None = None) -> None:
    """Run the app on the terminal until the user quits."""
    StudylogApp(db, now=now).run()
