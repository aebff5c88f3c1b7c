"""The Settings screen: every setting of the registry, inline validation, per-deck presets.

The seeded collection of tests/tui/conftest.py, with its own cards moved into
``딥러닝::RNN`` so there is a deck tree to set presets on.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from studylog.scheduling import settings as defs
from studylog.services import card_actions, settings
from studylog.storage.engine import Database
from studylog.tui.screens.settings import SettingRow, SettingsScreen
from tests.tui.conftest import NOW, SIZE, settle

SMALL = (80, 24)


@pytest.fixture
def decked_db(seeded_db: Database) -> Database:
    """The seeded collection with its twelve own cards in 딥러닝::RNN."""
    card_actions.move(seeded_db, "딥러닝::RNN", query="deck:Default", now=NOW)
    return seeded_db


async def _open(app, pilot, key: str = "f9") -> SettingsScreen:  # noqa: ANN001
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, SettingsScreen) and screen.loaded is not None
    return screen


def _row(screen: SettingsScreen, key: str) -> SettingRow:
    return screen.query_one(f"#row-{key}", SettingRow)


async def _type(pilot, screen: SettingsScreen, key: str, text: str) -> None:  # noqa: ANN001
    field = _row(screen, key).input
    field.focus()
    await pilot.pause()
    field.value = ""
    await pilot.press(*text)
    await settle(pilot)


async def test_every_registry_key_is_shown_with_its_value_and_explanation(
    decked_db: Database, make_app
) -> None:
    app = make_app(decked_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        rows = list(screen.query(SettingRow))
        assert [r.definition.key for r in rows] == list(defs.SETTINGS)
        assert _row(screen, "learning_steps").input.value == "1m 10m"
        assert _row(screen, "desired_retention").input.value == "0.9"
        assert _row(screen, "timezone").input.value == "system"
        help_text = str(_row(screen, "leech_action").query_one(".st-help").render())
        assert "suspend or tag" in help_text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SettingsScreen)


async def test_a_bad_value_is_shown_inline_and_nothing_is_saved(
    decked_db: Database, make_app
) -> None:
    app = make_app(decked_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        before = settings.values(decked_db)
        await _type(pilot, screen, "desired_retention", "1.2")
        row = _row(screen, "desired_retention")
        assert row.has_class("-error") and row.input.has_class("-invalid")
        assert row.error.startswith("desired_retention: 1.2 is not allowed")
        assert "0.7 to 0.99" in str(row.query_one(".st-error").render())
        await pilot.press("enter")
        await settle(pilot)
        await _type(pilot, screen, "learning_steps", "1m soon")
        await pilot.press("ctrl+s")  # one bad field: nothing at all is saved
        await settle(pilot)
        assert settings.values(decked_db) == before
        # Corrected: the error goes, enter saves that field.
        await _type(pilot, screen, "desired_retention", "0.85")
        assert not _row(screen, "desired_retention").has_class("-error")
        await pilot.press("enter")
        await settle(pilot)
        assert settings.value(decked_db, "desired_retention") == 0.85
        assert settings.value(decked_db, "learning_steps") == (60, 600)


async def test_save_all_and_reset(decked_db: Database, make_app) -> None:
    app = make_app(decked_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        await _type(pilot, screen, "new_per_day", "7")
        await _type(pilot, screen, "leech_action", "tag")
        await pilot.press("ctrl+s")
        await settle(pilot)
        found = settings.values(decked_db)
        assert (found["new_per_day"], found["leech_action"]) == (7, "tag")
        _row(screen, "new_per_day").input.focus()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert settings.value(decked_db, "new_per_day") == 20
        assert _row(screen, "new_per_day").input.value == "20"


async def test_a_deck_preset_is_set_here_and_inherited_by_its_subdecks(
    decked_db: Database, make_app
) -> None:
    app = make_app(decked_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        scope = screen.query_one("#st-scope", Select)
        assert ("딥러닝", "딥러닝") in [(str(p), v) for p, v in scope._options]
        scope.value = "딥러닝"
        await settle(pilot)
        assert screen.deck == "딥러닝"
        assert not _row(screen, "timezone").display  # only the collection has it
        assert _row(screen, "new_per_day").query_one(".st-source").render().plain == "collection"
        await _type(pilot, screen, "new_per_day", "5")
        await pilot.press("enter")
        await settle(pilot)
        assert settings.deck_settings(decked_db).presets == {"딥러닝": {"new_per_day": 5}}
        assert str(_row(screen, "new_per_day").query_one(".st-source").render()) == "this deck"

        scope.value = "딥러닝::RNN"
        await settle(pilot)
        row = _row(screen, "new_per_day")
        assert row.input.value == "5" and str(row.query_one(".st-source").render()) == "from 딥러닝"
        assert settings.effective(decked_db, "딥러닝::RNN").values["new_per_day"] == 5

        scope.value = "딥러닝"
        await settle(pilot)
        _row(screen, "new_per_day").input.focus()
        await pilot.press("ctrl+r")  # inherited again
        await settle(pilot)
        assert settings.deck_settings(decked_db).presets == {}


async def test_a_deck_picks_a_shared_preset_here(decked_db: Database, make_app) -> None:
    from studylog.services import presets

    presets.add(decked_db, "시험")
    presets.update(decked_db, "시험", {"new_per_day": 3})
    app = make_app(decked_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot)
        chooser = screen.query_one("#st-preset", Select)
        assert not chooser.display  # the collection is Default itself
        screen.query_one("#st-scope", Select).value = "딥러닝"
        await settle(pilot)
        assert chooser.display and chooser.value == "Default"
        assert [v for _p, v in chooser._options] == ["Default", "시험"]
        chooser.value = "시험"
        await settle(pilot)
        assert settings.get(decked_db, settings.DECK_PRESET_NAMES) == {"딥러닝": "시험"}
        assert _row(screen, "new_per_day").input.value == "3"
        screen.query_one("#st-scope", Select).value = "딥러닝::RNN"
        await settle(pilot)
        assert _row(screen, "new_per_day").input.value == "3"  # inherited from 딥러닝's preset
        assert chooser.value == "Default"


async def test_the_palette_and_help_know_settings(decked_db: Database, make_app) -> None:
    from studylog.tui.screens.help import key_groups

    app = make_app(decked_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        groups = dict(key_groups(app))
        assert ("f9", "Settings") in [(k.lower(), d) for k, d in groups["Everywhere"]]
        assert any(d == "Save all" for _, d in groups["Settings (F9)"])
        app.open_settings("딥러닝::RNN")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen) and app.screen.deck == "딥러닝::RNN"
        value = app.screen.query_one("#st-scope", Select).value
        assert value == "딥러닝::RNN"
        assert isinstance(app.focused, Input)


def test_snapshot_120x40(decked_db: Database, make_app, snap_compare) -> None:
    app = make_app(decked_db)

    async def run(pilot) -> None:  # noqa: ANN001
        screen = await _open(app, pilot)
        await _type(pilot, screen, "desired_retention", "1.2")

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_snapshot_80x24(decked_db: Database, make_app, snap_compare) -> None:
    settings.update_deck(decked_db, "딥러닝", {"new_per_day": 5})
    app = make_app(decked_db)

    async def run(pilot) -> None:  # noqa: ANN001
        screen = await _open(app, pilot)
        screen.query_one("#st-scope", Select).value = "딥러닝::RNN"
        await settle(pilot)
        await _type(pilot, screen, "learning_steps", "1m 10m 1h")

    assert snap_compare(app, terminal_size=SMALL, run_before=run)


async def test_up_and_down_move_between_settings(decked_db: Database, make_app) -> None:
    app = make_app(decked_db)
    async with app.run_test(size=SMALL) as pilot:
        screen = await _open(app, pilot)
        assert app.focused is _row(screen, "desired_retention").input
        await pilot.press("down", "down")
        assert app.focused is _row(screen, "relearning_steps").input
        await pilot.press("up")
        assert app.focused is _row(screen, "learning_steps").input
