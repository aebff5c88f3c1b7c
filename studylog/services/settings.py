"""Collection settings stored in the ``settings`` table as JSON values."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from studylog.storage.engine import Database
from studylog.storage.models import Setting
from studylog.studyday import DEFAULT_DAY_START_HOUR, StudyCalendar, local_zone

DAY_START_HOUR = "day_start_hour"
TIMEZONE = "timezone"


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


def calendar(db: Database) -> StudyCalendar:
    """The study calendar: day start hour (default 4) and time zone (default: the system's)."""
    with db.read() as session:
        hour = int(get_in(session, DAY_START_HOUR, DEFAULT_DAY_START_HOUR))
        zone_name = get_in(session, TIMEZONE)
    return StudyCalendar(day_start_hour=hour, zone=local_zone(zone_name))
