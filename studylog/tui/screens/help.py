"""The help screen (F1): every key of the app, grouped by where it applies.

The tables are built from the ``BINDINGS`` of the app, screens and widgets
themselves, so they can never drift from what the keys really do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

from studylog.tui.screens.browse import BrowseScreen
from studylog.tui.screens.concept_page import ConceptPageScreen
from studylog.tui.screens.concepts import ConceptsScreen
from studylog.tui.screens.decks import DecksScreen
from studylog.tui.screens.exercise import ExerciseScreen
from studylog.tui.screens.review import ReviewScreen
from studylog.tui.screens.search import SearchScreen
from studylog.tui.screens.settings import SettingsScreen
from studylog.tui.screens.stats import StatsScreen
from studylog.tui.screens.suggested import SuggestedScreen
from studylog.tui.screens.today import TodayScreen
from studylog.tui.widgets.entry_editor import EntryEditor, EntryList
from studylog.tui.widgets.rowlist import RowList
from studylog.tui.widgets.todo_list import TodoList

# (group title, the class whose BINDINGS to list); "Everywhere" is the app's own.
GROUPS: tuple[tuple[str, type[DOMNode]], ...] = (
    ("Today", TodayScreen),
    ("Today · entry list", EntryList),
    ("Today · editor", EntryEditor),
    ("Today · TODO list", TodoList),
    ("Review", ReviewScreen),
    ("Concepts", ConceptsScreen),
    ("Concept page", ConceptPageScreen),
    ("Exercise (e in Review, x on a concept page)", ExerciseScreen),
    ("Stats", StatsScreen),
    ("Search", SearchScreen),
    ("Suggested cards (ctrl+p)", SuggestedScreen),
    ("Browse", BrowseScreen),
    ("Decks", DecksScreen),
    ("Settings (F9)", SettingsScreen),
    ("Lists", RowList),
)

EXTRA: dict[str, list[tuple[str, str]]] = {
    "Everywhere": [
        ("ctrl+p", "Command palette: screens, concepts, days, new entry/TODO, demos, theme"),
        ("tab / shift+tab", "Next / previous field"),
    ],
    "Today · editor": [("ctrl+z / ctrl+y", "Undo / redo")],
}


def _bindings(cls: type[DOMNode]) -> list[Binding]:
    return list(Binding.make_bindings(cls.BINDINGS))


def _rows(app: App[object], bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """(keys, description) rows; bindings of one action are merged ("space / x")."""
    by_action: dict[str, tuple[list[str], str]] = {}
    for binding in bindings:
        if not binding.description:
            continue
        keys, _ = by_action.setdefault(binding.action, ([], binding.description))
        display = binding.key_display or app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    return [(" / ".join(keys), description) for keys, description in by_action.values()]


def key_table(app: App[object], title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(
        title=Text(title, style="bold"),
        title_justify="left",
        show_header=False,
        box=None,
        padding=(0, 2, 0, 0),
        expand=False,
    )
    table.add_column(style="bold", no_wrap=True, min_width=16)
    table.add_column()
    for keys, description in rows:
        table.add_row(Text(keys), Text(description))  # text, not markup: "[[link]]"
    return table


def key_groups(app: App[object]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every group, with its (keys, description) rows; the first is the app's own keys."""
    groups = []
    for title, cls in (("Everywhere", type(app)), *GROUPS):
        bindings = _bindings(cls)
        rows = _rows(app, bindings) + EXTRA.get(title, [])
        if rows:
            groups.append((title, rows))
    return groups


class HelpScreen(ModalScreen[None]):
    """All keys, grouped; Escape, F1 or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 100%; max-width: 110; height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $text-accent; height: 1; }
    HelpScreen VerticalScroll { height: 1fr; }
    HelpScreen .help-columns { layout: grid; grid-size: 2; grid-gutter: 0 2; height: auto; }
    HelpScreen .help-group { height: auto; margin-bottom: 1; }
    HelpScreen.-narrow .help-columns { grid-size: 1; }
    """
    # Two columns of key tables need about 100 cells; below that, one column.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (100, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "studylog keys  (esc closes · ctrl+p finds any command)",
                id="help-title",
            )
            with VerticalScroll():
                with Vertical(classes="help-columns"):
                    for title, rows in key_groups(self.app):
                        yield Static(key_table(self.app, title, rows), classes="help-group")

    def action_close(self) -> None:
        self.dismiss(None)
