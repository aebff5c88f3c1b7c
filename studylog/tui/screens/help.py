"""The help screen (F1): every key of the app, grouped by where it applies.

The tables are built from the ``BINDINGS`` of the app, screens and widgets
themselves, so they can never drift from what the keys really do. Screens
that are not there (yet) are left out.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# (group title, "module:Class" whose BINDINGS to list)
GROUPS: tuple[tuple[str, str], ...] = (
    ("Everywhere", "studylog.tui.app:StudylogApp"),
    ("Today", "studylog.tui.screens.today:TodayScreen"),
    ("Today · entry list", "studylog.tui.widgets.entry_editor:EntryList"),
    ("Today · editor", "studylog.tui.widgets.entry_editor:EntryEditor"),
    ("Today · TODO list", "studylog.tui.widgets.todo_list:TodoList"),
    ("Review", "studylog.tui.screens.review:ReviewScreen"),
    ("Concepts", "studylog.tui.screens.concepts:ConceptsScreen"),
    ("Concept page", "studylog.tui.screens.concept_page:ConceptPageScreen"),
    ("Stats", "studylog.tui.screens.stats:StatsScreen"),
    ("Search", "studylog.tui.screens.search:SearchScreen"),
    ("Lists", "studylog.tui.widgets.rowlist:RowList"),
)

EXTRA: dict[str, list[tuple[str, str]]] = {
    "Everywhere": [
        ("ctrl+p", "Command palette: screens, concepts, days, new entry/TODO, demos, theme"),
        ("tab / shift+tab", "Next / previous field"),
    ],
    "Today · editor": [("ctrl+z / ctrl+y", "Undo / redo")],
}


def _bindings(target: str) -> list[Binding] | None:
    module_name, _, name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None
    found: list[Binding] = []
    for item in getattr(cls, "BINDINGS", []):
        found.extend(Binding.make_bindings([item]))
    return found


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
    """Every group that exists, with its (keys, description) rows."""
    groups = []
    for title, target in GROUPS:
        bindings = _bindings(target)
        if bindings is None:
            continue
        rows = _rows(app, bindings) + EXTRA.get(title, [])
        if rows:
            groups.append((title, rows))
    return groups


class HelpScreen(ModalScreen[None]):
    """All keys, grouped; Escape, F1 or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 110; height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $text-accent; height: 1; }
    HelpScreen VerticalScroll { height: 1fr; }
    HelpScreen .help-columns { layout: grid; grid-size: 2; grid-gutter: 0 2; height: auto; }
    HelpScreen .help-group { height: auto; margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "studylog keys   (esc closes · F2-F6 switch screens · ctrl+p finds any command)",
                id="help-title",
            )
            with VerticalScroll():
                with Vertical(classes="help-columns"):
                    for title, rows in key_groups(self.app):
                        yield Static(key_table(self.app, title, rows), classes="help-group")

    def action_close(self) -> None:
        self.dismiss(None)
