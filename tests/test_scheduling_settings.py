"""The typed scheduler settings (studylog.scheduling.settings) and their service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from studylog.errors import InvalidInputError
from studylog.scheduling import settings as defs
from studylog.scheduling.settings import SettingError, format_durations, parse_durations
from studylog.services import cards, review, settings

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ISSUE_12_KEYS = [
    "desired_retention",
    "learning_steps",
    "relearning_steps",
    "maximum_interval",
    "enable_fuzz",
    "new_per_day",
    "reviews_per_day",
    "new_ignores_review_limit",
    "day_start_hour",
    "timezone",
    "leech_threshold",
    "leech_action",
    "bury_siblings",
]


def test_every_key_of_issue_12_is_defined_with_help_and_a_default_that_passes():
    for key in ISSUE_12_KEYS:
        d = defs.setting(key)
        assert d.key == key and d.help and d.allowed
        assert d.validate(d.default) == d.default
        assert d.parse(d.format(d.default)) == d.default


def test_defaults_are_what_studylog_did_before():
    assert defs.config_from(defs.defaults()) == review.SchedulerConfig()
    assert defs.limits_from(defs.defaults()) == review.DailyLimits(20, 200, 8)
    assert defs.SETTINGS["day_start_hour"].default == 4
    assert defs.SETTINGS["fsrs_parameters"].default == tuple(fsrs.scheduler.DEFAULT_PARAMETERS)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1m 10m", (60, 600)),
        ("10m", (600,)),
        ("30s, 5m 1h 2d", (30, 300, 3600, 172800)),
        ("1.5m", (90,)),
        ("15", (900,)),  # a bare number is minutes, as in Anki
        ("", ()),
    ],
)
def test_steps_parse_as_anki_writes_them(text, seconds):
    assert parse_durations(text) == seconds
    assert parse_durations(format_durations(seconds)) == seconds


def test_steps_format_with_the_largest_whole_unit():
    assert format_durations((60, 600, 90, 3600, 86400 * 3)) == "1m 10m 90s 1h 3d"


@given(st.lists(st.integers(1, defs.MAX_STEP_S), max_size=6))
def test_steps_round_trip(steps):
    d = defs.SETTINGS["learning_steps"]
    assert d.parse(d.format(tuple(steps))) == tuple(steps)


@given(st.floats(0.70, 0.99))
def test_retention_round_trips_exactly(r):
    d = defs.SETTINGS["desired_retention"]
    assert d.parse(d.format(r)) == r


@pytest.mark.parametrize(
    ("key", "text", "allowed"),
    [
        ("desired_retention", "1.2", "a number from 0.7 to 0.99"),
        ("desired_retention", "0.5", "a number from 0.7 to 0.99"),
        ("desired_retention", "nan", "a number from 0.7 to 0.99"),
        ("desired_retention", "high", "a number from 0.7 to 0.99"),
        ("learning_steps", "1m ten", "steps like '1m 10m'"),
        ("learning_steps", "0m", "steps like '1m 10m'"),
        ("learning_steps", "400d", "steps like '1m 10m'"),
        ("maximum_interval", "0", "a whole number from 1 to 36500 days"),
        ("maximum_interval", "2.5", "a whole number from 1 to 36500 days"),
        ("enable_fuzz", "maybe", "true or false"),
        ("new_per_day", "-1", "a whole number from 0 to 9999"),
        ("day_start_hour", "24", "a whole number from 0 to 23"),
        ("timezone", "Mars/Olympus", "an IANA time zone"),
        ("leech_threshold", "0", "a whole number from 1 to 9999 lapses"),
        ("leech_action", "delete", "suspend or tag"),
        ("fsrs_parameters", "0.2 0.3", "Expected 21 parameters"),
    ],
)
def test_a_bad_value_names_the_key_and_what_is_allowed(key, text, allowed):
    with pytest.raises(SettingError) as caught:
        defs.setting(key).parse(text)
    message = str(caught.value)
    assert message.startswith(f"{key}: ")
    assert allowed in message
    assert "\n" not in message
    assert caught.value.key == key
    assert isinstance(caught.value, InvalidInputError)


def test_an_unknown_key_lists_the_known_ones():
    with pytest.raises(
        SettingError, match=r"^retention: no such setting \(known: desired_retention"
    ):
        defs.setting("retention")


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("enable_fuzz", "off", False),
        ("enable_fuzz", "YES", True),
        ("timezone", "Asia/Seoul", "Asia/Seoul"),
        ("timezone", "system", None),
        ("leech_action", "Tag", "tag"),
        ("day_start_hour", " 0 ", 0),
        ("relearning_steps", "5m 20m", (300, 1200)),
    ],
)
def test_good_values_parse(key, text, value):
    assert defs.setting(key).parse(text) == value


def test_stored_values_keep_the_old_keys_and_json_shapes():
    d = defs.SETTINGS["learning_steps"]
    assert d.stored_as == "fsrs.learning_steps_s" == review.K_LEARNING_STEPS
    assert d.to_stored((60, 600)) == [60, 600]
    assert d.from_stored([60, 600]) == (60, 600)
    assert d.from_stored(None) == (60, 600)
    # An old out-of-range value is read as it is, never an error on read.
    assert defs.SETTINGS["desired_retention"].from_stored(0.5) == 0.5


# --- the service ---------------------------------------------------------------------


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def test_values_are_the_defaults_on_a_new_collection(db):
    assert settings.values(db) == defs.defaults()


def test_update_stores_typed_values_and_reset_brings_the_default_back(utc_db):
    done = settings.update(utc_db, {"new_per_day": 5, "learning_steps": (30, 300)})
    assert done.changed == ("learning_steps", "new_per_day")
    assert settings.value(utc_db, "new_per_day") == 5
    assert settings.get(utc_db, "fsrs.learning_steps_s") == [30, 300]
    assert review.load_limits(utc_db).new_per_day == 5
    assert review.load_config(utc_db).learning_steps_s == (30, 300)
    assert settings.value(utc_db, "timezone") == "UTC"
    back = settings.reset(utc_db, "new_per_day", "learning_steps")
    assert back.changed == ("learning_steps", "new_per_day")
    assert settings.get(utc_db, "review.new_per_day") is None
    assert settings.values(utc_db)["new_per_day"] == 20


def test_a_bad_value_changes_nothing(utc_db):
    with pytest.raises(SettingError, match="^day_start_hour: "):
        settings.update(utc_db, {"new_per_day": 3, "day_start_hour": 30})
    assert settings.values(utc_db)["new_per_day"] == 20


def test_day_start_hour_and_timezone_drive_the_calendar(utc_db):
    settings.update(utc_db, {"day_start_hour": 6, "timezone": "Asia/Seoul"})
    calendar = settings.calendar(utc_db)
    assert calendar.day_start_hour == 6 and str(calendar.zone) == "Asia/Seoul"
    # 2026-03-02 20:30 UTC is 05:30 on 03-03 in Seoul: still the study day 03-02.
    assert calendar.day_of(datetime(2026, 3, 2, 20, 30, tzinfo=UTC)).isoformat() == "2026-03-02"


def test_retention_change_moves_review_dues_as_the_fsrs_package(utc_db):
    settings.update(utc_db, {"enable_fuzz": False})
    made = cards.create(utc_db, "q", "a", now=NOW)[0]
    review.answer(utc_db, made.id, 3, now=NOW)
    answered = review.answer(utc_db, made.id, 3, now=NOW + timedelta(minutes=10)).card
    assert answered.state == 2
    done = settings.update(utc_db, {"desired_retention": 0.8})
    assert done.reschedule is not None and not done.reschedule.full_replay
    sched = fsrs.Scheduler(desired_retention=0.8, enable_fuzzing=False)
    days = sched._next_interval(stability=answered.stability)
    assert cards.get(utc_db, made.id).due == answered.last_review + timedelta(days=days)


def test_nothing_moves_when_a_value_is_set_to_what_it_is(utc_db):
    done = settings.update(utc_db, {"desired_retention": 0.9, "new_per_day": 20})
    assert done.changed == () and done.reschedule is None


def test_leech_action_tag_tags_without_suspending(utc_db):
    settings.update(utc_db, {"leech_threshold": 1, "leech_action": "tag", "enable_fuzz": False})
    made = cards.create(utc_db, "q", "a", now=NOW)[0]
    at = NOW
    review.answer(utc_db, made.id, 4, now=at)  # Easy: straight to Review
    result = review.answer(utc_db, made.id, 1, now=at + timedelta(days=30))
    assert result.leech and "leech" in result.card.tags and not result.card.suspended
