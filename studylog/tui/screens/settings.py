"""Settings (F9, or "Settings" in the palette): every scheduler setting, for the
collection or for one deck's preset, with inline validation and what each means.

The keys, their explanations and what they allow are the registry's
(:data:`studylog.scheduling.settings.SETTINGS`): a key added there shows up
here without a change to this screen. Each field is checked as it is typed
(:meth:`SettingDef.parse`, pure, no database); ``enter`` saves that field and
``ctrl+s`` every changed one, in one transaction
(:func:`studylog.services.settings.update`, or
:func:`~studylog.services.settings.update_deck` when a deck is chosen);
``ctrl+r`` puts the field back to its default (for a deck: inherited again).

With a deck chosen, only the keys a deck may set are shown, each with where
its value comes from (the deck itself, a parent deck or the collection),
as in Anki's deck options, and a preset selector: the deck's own settings,
``Default`` (nothing of its own: inherited) or a shared preset
(:func:`studylog.services.presets.set_deck_preset`, undoable with ``studylog
card undo``). Reads and writes run in thread workers; after a write the app's
one change signal tells the other screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from studylog.scheduling import settings as defs
from studylog.services import presets as presets_service
from studylog.services import settings as settings_service
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.guard import guarded, report
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar

COLLECTION = "\x00collection"  # the Select value of "the whole collection" (never a deck name)
OWN = "\x00own"  # the preset Select's value of "the deck's own settings" (never a preset name)


@dataclass(frozen=True)
class Loaded:
    """What a worker read: the scope's values and sources, and the deck names."""

    deck: str | None
    values: dict[str, Any]
    sources: dict[str, str]
    own: dict[str, Any]
    decks: list[str]
    presets: tuple[str, ...] = ()  # Default and the shared presets' names
    preset: str | None = None  # the deck's shared preset (Default: none of its own), or None


class SettingsRead(Message):
    def __init__(self, loaded: Loaded) -> None:
        super().__init__()
        self.loaded = loaded


class SettingsSaved(Message):
    """A worker saved (``changed`` keys whose value changed; ``moved`` due dates moved)."""

    def __init__(self, deck: str | None, changed: tuple[str, ...], moved: int) -> None:
        super().__init__()
        self.deck, self.changed, self.moved = deck, changed, moved


class SettingsFailed(Message):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


def source_text(source: str, deck: str | None) -> str:
    """Where a value comes from, in words, for a deck's row ("" for the collection's)."""
    if deck is None:
        return ""
    if source == deck:
        return "this deck"
    return "collection" if source == defs.COLLECTION else f"from {source}"


class SettingRow(Vertical):
    """One setting: its name, an input, where its value comes from, what it means, and
    the error of what was typed (if any)."""

    DEFAULT_CSS = """
    SettingRow { height: auto; padding: 0 1; }
    SettingRow > Horizontal { height: 1; }
    SettingRow .st-key { width: 26; text-style: bold; }
    SettingRow Input { width: 1fr; padding: 0 1; }
    SettingRow Input.-invalid { background: $error 30%; }
    SettingRow .st-source { width: auto; min-width: 10; padding: 0 0 0 1; color: $text-muted; }
    SettingRow .st-help { color: $text-muted; padding: 0 0 0 26; height: auto; }
    SettingRow .st-error { color: $text-error; padding: 0 0 0 26; height: auto; display: none; }
    SettingRow.-error .st-error { display: block; }
    SettingRow.-narrow .st-help, SettingRow.-narrow .st-error { padding: 0 0 0 2; }
    """

    def __init__(self, definition: defs.SettingDef) -> None:
        super().__init__(id=f"row-{definition.key}")
        self.definition = definition
        self.saved_text = ""
        self.error = ""

    def compose(self) -> ComposeResult:
        d = self.definition
        with Horizontal():
            yield Label(d.key, classes="st-key")
            field = Input(id=f"in-{d.key}", select_on_focus=False, compact=True)
            field.cursor_blink = False  # a steady cursor (and stable snapshots)
            yield field
            yield Label("", classes="st-source")
        yield Static(f"{d.help}. Allowed: {d.allowed}.", classes="st-help", markup=False)
        yield Static("", classes="st-error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def show(self, text: str, source: str) -> None:
        """The stored value (as text) and its source; what the user typed is replaced."""
        self.saved_text = text
        self.input.value = text
        self.input.cursor_position = len(text)
        self.query_one(".st-source", Label).update(source)
        self.check()

    @property
    def dirty(self) -> bool:
        return self.input.value != self.saved_text

    def check(self) -> Any:
        """The typed value, checked; shows the error inline and returns None when bad."""
        error = self.query_one(".st-error", Static)
        try:
            value = self.definition.parse(self.input.value)
        except defs.SettingError as exc:
            self.error = str(exc)
            error.update(self.error)
            self.add_class("-error")
            self.input.add_class("-invalid")
            return None
        self.error = ""
        error.update("")
        self.remove_class("-error")
        self.input.remove_class("-invalid")
        return value


class SettingsScreen(CollectionScreen):
    """See the module docstring."""

    DEFAULT_CSS = """
    SettingsScreen #st-scope-bar { height: 1; padding: 0 1; margin: 0 0 1 0; }
    SettingsScreen #st-scope-bar Label { width: auto; padding: 0 1 0 0; }
    SettingsScreen #st-scope { width: 1fr; }
    SettingsScreen #st-preset { width: 1fr; }
    SettingsScreen #st-preset-label { padding: 0 1; }
    SettingsScreen #st-note { height: auto; padding: 0 1; color: $text-muted; }
    SettingsScreen #st-rows { height: 1fr; overflow-y: auto; }
    SettingsScreen SettingRow { margin: 0 0 1 0; }
    """
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (100, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "save_field", "Save field", id="settings.save_field", show=False),
        Binding("ctrl+s", "save_all", "Save all", id="settings.save_all"),
        Binding("ctrl+r", "reset_field", "Reset field", id="settings.reset"),
        Binding("down", "move(1)", "Next setting", id="settings.next", show=False),
        Binding("up", "move(-1)", "Previous setting", id="settings.previous", show=False),
        Binding("escape", "back", "Back", id="settings.back"),
    ]

    def __init__(self, deck: str | None = None) -> None:
        super().__init__()
        self.deck = deck
        self.loaded: Loaded | None = None

    def compose(self) -> ComposeResult:
        yield ModeBar(None)
        with Horizontal(id="st-scope-bar"):
            yield Label("Settings for")
            options = [("the whole collection", COLLECTION)]
            if self.deck is not None:
                options.append((self.deck, self.deck))
            yield Select(
                options,
                value=COLLECTION if self.deck is None else self.deck,
                allow_blank=False,
                compact=True,
                id="st-scope",
            )
            # A deck's preset (Anki's deck options): its own settings, Default or a shared one.
            yield Label("preset", id="st-preset-label")
            yield Select([("own", OWN)], value=OWN, allow_blank=False, compact=True, id="st-preset")
        yield Static("", id="st-note", markup=False)
        with Vertical(id="st-rows"):  # scrolls, with no keys of its own: up/down move fields
            for definition in defs.SETTINGS.values():
                yield SettingRow(definition)
        yield KeyBar()

    def on_mount(self) -> None:
        self._narrow(self.size.width)
        self.load()

    def on_resize(self) -> None:
        self._narrow(self.size.width)

    def _narrow(self, width: int) -> None:
        for row in self.query(SettingRow):
            row.set_class(width < 100, "-narrow")

    # --- reading ------------------------------------------------------------------------

    def refresh_collection(self) -> None:
        self.load()

    def load(self) -> None:
        self._read(self.deck)

    @work(thread=True, exclusive=True, group="settings-read", exit_on_error=False)
    def _read(self, deck: str | None) -> None:
        db = self.app.db
        try:
            found = settings_service.effective(db, deck)
            decks = settings_service.deck_names(db)
            names, chosen = presets_service.preset_choice(db, deck)
        except Exception as error:  # noqa: BLE001 - shown on the UI thread
            self.post_message(SettingsFailed(error))
            return
        if deck is not None and chosen is None and not found.own:
            chosen = presets_service.DEFAULT
        loaded = Loaded(deck, found.values, found.sources, found.own, decks, names, chosen)
        self.post_message(SettingsRead(loaded))

    @on(SettingsRead)
    def _show(self, message: SettingsRead) -> None:
        loaded = message.loaded
        if loaded.deck != self.deck:
            return  # the scope changed since
        self.loaded = loaded
        scope = self.query_one("#st-scope", Select)
        options = [("the whole collection", COLLECTION)] + [(d, d) for d in loaded.decks]
        with self.prevent(Select.Changed):
            scope.set_options(options)
            scope.value = COLLECTION if self.deck is None else self.deck
        self._show_preset(loaded)
        for row in self.query(SettingRow):
            d = row.definition
            visible = self.deck is None or d.scope == "deck"
            row.display = visible
            if not visible or (row.dirty and row.saved_text):
                continue  # keep what the user is typing
            source = source_text(loaded.sources[d.key], self.deck)
            row.show(d.format(loaded.values[d.key]), source)
        note = self.query_one("#st-note", Static)
        if self.deck is None:
            note.update("For every deck that does not set its own. enter saves a field.")
        else:
            note.update(f"{self.deck}: its own values, else its parent's, else the collection's.")
        if self.focused is None or not isinstance(self.focused, Input):
            first = next((r for r in self.query(SettingRow) if r.display), None)
            if first is not None:
                first.input.focus()

    def _show_preset(self, loaded: Loaded) -> None:
        chooser = self.query_one("#st-preset", Select)
        label = self.query_one("#st-preset-label", Label)
        chooser.display = label.display = loaded.deck is not None
        if loaded.deck is None:
            return
        options = [("own", OWN)] if loaded.preset is None else []
        options += [(name, name) for name in loaded.presets]
        with self.prevent(Select.Changed):
            chooser.set_options(options)
            chooser.value = OWN if loaded.preset is None else loaded.preset

    @on(Select.Changed, "#st-preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        if self.deck is None or self.loaded is None or event.value in (OWN, Select.BLANK):
            return
        if event.value != self.loaded.preset:
            self._use_preset(self.deck, str(event.value))

    @work(thread=True, group="settings-write", exit_on_error=False)
    def _use_preset(self, deck: str, preset: str) -> None:
        try:
            done = presets_service.set_deck_preset(self.app.db, deck, preset)
        except Exception as error:  # noqa: BLE001 - shown on the UI thread
            self.post_message(SettingsFailed(error))
            return
        self.post_message(SettingsSaved(deck, (f"preset {preset}",), done.rescheduled))

    @on(SettingsFailed)
    def _failed(self, message: SettingsFailed) -> None:
        report(self.app, message.error)

    @on(Select.Changed, "#st-scope")
    def _scope_changed(self, event: Select.Changed) -> None:
        value = event.value
        deck = None if value == COLLECTION or value is Select.BLANK else str(value)
        if deck != self.deck:
            self.deck = deck
            for row in self.query(SettingRow):
                row.saved_text = ""  # the new scope's values replace what is shown
                row.input.value = ""
            self.load()

    # --- typing and saving ----------------------------------------------------------------

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        row = self._row_of(event.input)
        if row is not None:
            row.check()

    def _row_of(self, widget: object) -> SettingRow | None:
        for row in self.query(SettingRow):
            if row.input is widget:
                return row
        return None

    def _focused_row(self) -> SettingRow | None:
        return self._row_of(self.focused)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save_field()

    @guarded
    def action_save_field(self) -> None:
        """Save the focused field, if what it holds is allowed."""
        row = self._focused_row()
        if row is None:
            return
        value = row.check()
        if value is None:
            self.app.notify(row.error, severity="error")
            return
        self._save({row.definition.key: value}, ())

    @guarded
    def action_save_all(self) -> None:
        """Save every changed field in one transaction (nothing if one is not allowed)."""
        changes = {}
        for row in self.query(SettingRow):
            if not row.display or not row.dirty:
                continue
            value = row.check()
            if value is None:
                row.input.focus()
                self.app.notify(f"{row.definition.key}: not saved, see the field", severity="error")
                return
            changes[row.definition.key] = value
        if not changes:
            self.app.notify("Nothing changed.", timeout=2)
            return
        self._save(changes, ())

    @guarded
    def action_reset_field(self) -> None:
        """The focused setting back to its default (for a deck: inherited again)."""
        row = self._focused_row()
        if row is not None:
            self._save({}, (row.definition.key,))

    def action_move(self, step: int) -> None:
        rows = [r for r in self.query(SettingRow) if r.display]
        current = self._focused_row()
        index = rows.index(current) if current in rows else -1
        target = rows[max(0, min(len(rows) - 1, index + step))]
        target.input.focus()
        target.scroll_visible()

    def action_back(self) -> None:
        self.dismiss(None)

    def _save(self, changes: dict[str, Any], reset: tuple[str, ...]) -> None:
        self._write(self.deck, changes, reset)

    @work(thread=True, group="settings-write", exit_on_error=False)
    def _write(self, deck: str | None, changes: dict[str, Any], reset: tuple[str, ...]) -> None:
        db = self.app.db
        try:
            if deck is None:
                done = settings_service.update(db, changes, reset=reset)
            else:
                done = settings_service.update_deck(db, deck, changes, reset=reset)
        except Exception as error:  # noqa: BLE001 - shown on the UI thread
            self.post_message(SettingsFailed(error))
            return
        moved = done.reschedule.due_changed if done.reschedule is not None else 0
        self.post_message(SettingsSaved(deck, done.changed, moved))

    @on(SettingsSaved)
    def _saved(self, message: SettingsSaved) -> None:
        for row in self.query(SettingRow):
            row.saved_text = ""  # take the stored values as they are now
        if message.changed:
            text = "Saved: " + ", ".join(message.changed)
            if message.moved:
                text += f" ({message.moved:,} due dates moved)"
        else:
            text = "Saved (no value changed)."
        self.app.notify(text, timeout=3)
        if message.deck is None:
            self.app.calendar = settings_service.calendar(self.app.db)
        self.app.collection_changed(self)
        self.load()
