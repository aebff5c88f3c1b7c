"""``studylog config``: list/get/set/reset for the collection and per deck (--deck)."""

from __future__ import annotations

import json

import pytest

from studylog.scheduling import settings as defs
from studylog.services import cards, settings

pytestmark = pytest.mark.both_backends


def test_list_json_is_an_object_of_every_key_to_its_value(run_cli):
    result = run_cli("config", "list", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert list(found) == list(defs.SETTINGS)
    assert found["desired_retention"] == 0.9
    assert found["learning_steps"] == "1m 10m" and found["relearning_steps"] == "10m"
    assert found["new_per_day"] == 20 and found["enable_fuzz"] is True
    assert found["timezone"] == "system" and found["leech_action"] == "suspend"
    assert len(found["fsrs_parameters"]) == 21


def test_set_get_reset_round_trip(run_cli, db):
    assert run_cli("config", "set", "learning_steps", "30s 5m 1h").exit_code == 0
    assert run_cli("config", "get", "learning_steps").output.strip() == "30s 5m 1h"
    assert settings.value(db, "learning_steps") == (30, 300, 3600)
    assert run_cli("config", "set", "leech_action", "tag").exit_code == 0
    assert json.loads(run_cli("config", "list", "--json").output)["leech_action"] == "tag"
    result = run_cli("config", "reset", "learning_steps", "leech_action")
    assert result.exit_code == 0 and "learning_steps = 1m 10m." in result.output
    assert settings.values(db) == defs.defaults()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("desired_retention", "1.2"),
            "desired_retention: 1.2 is not allowed (desired retention: a number from 0.7 to 0.99)",
        ),
        (
            ("new_per_day", "-1"),
            "new_per_day: -1 is not allowed (new per day: a whole number from 0 to 9999)",
        ),
        (("day_start_hour", "24"), "day_start_hour: 24 is not allowed"),
        (("timezone", "Mars/Base"), "timezone: 'Mars/Base' is not allowed: unknown time zone"),
        (("learning_steps", "1m soon"), "learning_steps: '1m soon' is not allowed"),
        (("leech_action", "delete"), "leech_action: 'delete' is not allowed"),
        (("enable_fuzz", "maybe"), "enable_fuzz: 'maybe' is not allowed"),
        (("bogus", "1"), "bogus: no such setting (known: desired_retention"),
    ],
)
def test_a_bad_key_or_value_is_one_line_nonzero_and_nothing_changes(run_cli, db, args, line):
    before = settings.values(db)
    result = run_cli("config", "set", *args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: " + line), result.output
    assert "Traceback" not in result.output
    assert settings.values(db) == before


def test_per_deck_set_is_inherited_by_subdecks_and_reset_inherits_again(run_cli, db):
    cards.create(db, "q", "a", deck="딥러닝::RNN::LSTM")
    cards.create(db, "q", "a", deck="기타")
    result = run_cli("config", "set", "--deck", "딥러닝::RNN", "new_per_day", "5")
    assert result.exit_code == 0, result.output
    child = json.loads(run_cli("config", "list", "--deck", "딥러닝::RNN::LSTM", "--json").output)
    assert child["new_per_day"] == 5 and "timezone" not in child
    assert (
        json.loads(run_cli("config", "list", "--deck", "기타", "--json").output)["new_per_day"]
        == 20
    )
    got = json.loads(
        run_cli("config", "get", "new_per_day", "--deck", "딥러닝::RNN::LSTM", "--json").output
    )
    assert got == {"key": "new_per_day", "value": 5, "source": "딥러닝::RNN"}
    text = run_cli("config", "get", "new_per_day", "--deck", "딥러닝::RNN::LSTM").output
    assert text.strip() == "5 (from 딥러닝::RNN)"
    assert json.loads(run_cli("config", "presets", "--json").output) == {
        "딥러닝::RNN": {"new_per_day": 5}
    }
    assert run_cli("config", "reset", "--deck", "딥러닝::RNN", "new_per_day").exit_code == 0
    assert settings.effective(db, "딥러닝::RNN::LSTM").values["new_per_day"] == 20
    assert json.loads(run_cli("config", "presets", "--json").output) == {}


def test_per_deck_errors_change_nothing(run_cli, db):
    cards.create(db, "q", "a", deck="A")
    run_cli("config", "set", "--deck", "A", "new_per_day", "5")
    stored = settings.get(db, settings.DECK_PRESETS)
    for args, start in [
        (("--deck", "A", "timezone", "UTC"), "Error: timezone: only the collection has"),
        (("--deck", "Nope", "new_per_day", "3"), "Error: no deck named 'Nope'"),
        (("--deck", "A", "new_per_day", "x"), "Error: new_per_day: 'x' is not allowed"),
    ]:
        result = run_cli("config", "set", *args)
        assert result.exit_code == 1 and result.output.startswith(start), result.output
        assert len(result.output.strip().splitlines()) == 1
    assert settings.get(db, settings.DECK_PRESETS) == stored


@pytest.mark.parametrize("command", ["list", "presets", "get", "set", "reset"])
def test_every_config_command_has_help(run_cli, command):
    result = run_cli("config", command, "--help")
    assert result.exit_code == 0 and "Usage: " in result.output
    if command in ("list", "presets", "get"):
        assert "--json" in result.output
