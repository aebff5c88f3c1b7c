"""Collection settings stored in the ``settings`` table as JSON values.

Two levels:

- raw JSON values by stored key (:func:`get`, :func:`put`, :func:`get_in`,
  :func:`set_in`), for anything that is not a scheduler setting;
- the typed scheduler settings defined once in :mod:`studylog.scheduling.settings`
  (:func:`values`, :func:`value`, :func:`update`, :func:`reset`): checked on
  write, one transaction, and the cards rescheduled when a setting that moves
  them changed (desired retention, steps, maximum interval, fuzz, parameters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.scheduling import settings as defs
from studylog.services.reschedule import RescheduleSummary, reschedule_in
from studylog.storage.engine import Database
from studylog.storage.models import Setting
from studylog.studyday import StudyCalendar, local_zone

DAY_START_HOUR = defs.SETTINGS["day_start_hour"].stored_as
TIMEZONE = defs.SETTINGS["timezone"].stored_as


def get_in(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.value


def get(db: Database, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, or ``default``."""
    with db.read() as session:
        return get_in(session, key, default)


def set_in(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def put(db: Database, key: str, value: Any) -> None:
    """Store ``value`` (JSON-able) under ``key``."""
    with db.write() as session:
        set_in(session, key, value)


# --- typed scheduler settings ---------------------------------------------------------


def values_in(session: Session) -> dict[str, Any]:
    """Every scheduler setting's value (setting key -> typed value), in one SELECT."""
    stored = {d.stored_as for d in defs.SETTINGS.values()}
    rows = session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(stored)))
    return defs.from_stored({key: raw for key, raw in rows})


def values(db: Database) -> dict[str, Any]:
    """Every scheduler setting (key -> typed value, defaults for what is not stored)."""
    with db.read() as session:
        return values_in(session)


def value(db: Database, key: str) -> Any:
    """One scheduler setting's typed value. Raises SettingError for an unknown key."""
    definition = defs.setting(key)
    with db.read() as session:
        return definition.from_stored(get_in(session, definition.stored_as))


@dataclass(frozen=True)
class SettingsUpdate:
    """The result of :func:`update`: every value after it, the keys that changed,
    and what rescheduling did (None when nothing had to move)."""

    values: dict[str, Any]
    changed: tuple[str, ...]
    reschedule: RescheduleSummary | None


def update_in(
    session: Session, changes: Mapping[str, Any], reset: Iterable[str] = ()
) -> SettingsUpdate:
    """:func:`update` inside the caller's transaction."""
    resets = [defs.setting(k).key for k in reset]
    checked = {defs.setting(k).key: defs.setting(k).validate(v) for k, v in changes.items()}
    old = values_in(session)
    new = dict(old)
    new.update({k: defs.SETTINGS[k].default for k in resets})
    new.update(checked)
    config = defs.config_from(new)
    config.validate()  # the combination (e.g. parameters with steps) must build a scheduler
    changed = tuple(k for k in defs.SETTINGS if new[k] != old[k])
    for key in resets:
        if key not in checked:
            row = session.get(Setting, defs.SETTINGS[key].stored_as)
            if row is not None:
                session.delete(row)
    for key in checked:
        if key in changed or get_in(session, defs.SETTINGS[key].stored_as) is None:
            set_in(session, defs.SETTINGS[key].stored_as, defs.SETTINGS[key].to_stored(new[key]))
    kind = defs.reschedule_kind(old, new)
    summary = None
    if kind:
        session.flush()
        summary = reschedule_in(session, config.params(), full=kind == "full")
    return SettingsUpdate(new, changed, summary)


def update(
    db: Database, changes: Mapping[str, Any], *, reset: Iterable[str] = ()
) -> SettingsUpdate:
    """Set scheduler settings (key -> typed value) and reset others to their defaults.

    One transaction: every value is checked first (nothing is stored when one
    is bad); then the changed ones are stored and, if desired retention,
    maximum interval or fuzz changed, the due dates of Review cards move; if
    steps or parameters changed, every card's history is replayed
    (:func:`studylog.services.reschedule.reschedule_in`). To set from text,
    parse first: ``update(db, {key: setting(key).parse(text)})``.

    Raises:
        SettingError: an unknown key or a value it does not allow (names both).
    """
    with db.write() as session:
        return update_in(session, changes, reset)


def reset(db: Database, *keys: str) -> SettingsUpdate:
    """Put ``keys`` back to their defaults (as :func:`update`). Raises SettingError."""
    return update(db, {}, reset=keys)


def calendar_from(found: Mapping[str, Any]) -> StudyCalendar:
    """The study calendar of typed setting values (see :func:`calendar`)."""
    return StudyCalendar(
        day_start_hour=int(found["day_start_hour"]), zone=local_zone(found["timezone"])
    )


def calendar(db: Database) -> StudyCalendar:
    """The study calendar: day start hour (default 4) and time zone (default: the system's).

    Raises:
        InvalidInputError: the stored time zone is unknown.
    """
    return calendar_from(values(db))
