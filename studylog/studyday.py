"""Study days: the local calendar day a moment belongs to, with a day start hour as in Anki.

A study day starts at ``day_start_hour`` local time (default 04:00), so a review
at 01:30 belongs to the previous day. All stored times are timezone-aware UTC;
only this module turns them into days.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from studylog.errors import InvalidInputError

DEFAULT_DAY_START_HOUR = 4


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_utc(moment: datetime) -> datetime:
    """Return ``moment`` as aware UTC; naive datetimes are taken to be UTC already.

    SQLite has no time zone type, so values read back may be naive; they were
    written as UTC.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_zone(name: str | None = None) -> tzinfo:
    """The user's time zone: an IANA name if given, else ``$TZ``, else the system's zone.

    Raises:
        InvalidInputError: if ``name`` is not a known IANA zone.
    """
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(
                f"unknown time zone {name!r} (use an IANA name such as Asia/Seoul)"
            ) from None
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a POSIX TZ string such as "KST-9": the system zone below honours it
    return datetime.now().astimezone().tzinfo or UTC


@dataclass(frozen=True)
class StudyCalendar:
    """Maps UTC moments to study days and back.

    Attributes:
        day_start_hour: local hour (0-23) at which a new study day begins.
        zone: the user's time zone.
    """

    day_start_hour: int = DEFAULT_DAY_START_HOUR
    zone: tzinfo = UTC

    def day_of(self, moment: datetime) -> date:
        """The study day (local date) that the UTC ``moment`` belongs to."""
        local = ensure_utc(moment).astimezone(self.zone)
        return (local - timedelta(hours=self.day_start_hour)).date()

    def today(self, now: datetime | None = None) -> date:
        """The current study day."""
        return self.day_of(now or utcnow())

    def start_of(self, day: date) -> datetime:
        """The UTC moment at which study day ``day`` begins."""
        local = datetime.combine(day, time(self.day_start_hour), tzinfo=self.zone)
        return local.astimezone(UTC)

    def end_of(self, day: date) -> datetime:
        """The UTC moment at which study day ``day`` ends (the next day's start)."""
        return self.start_of(day + timedelta(days=1))


def streak_length(is_active: Callable[[date], bool], today: date, *, limit_days: int = 3660) -> int:
    """Consecutive active study days counting back from ``today``.

    Today without activity yet does not break the streak: it then counts from
    yesterday (the day is not over). ``limit_days`` bounds the walk.
    """
    day = today if is_active(today) else today - timedelta(days=1)
    count = 0
    while count < limit_days and is_active(day):
        count += 1
        day -= timedelta(days=1)
    return count


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str, today: date) -> date:
    """Parse ``today``, ``yesterday``, ``tomorrow`` or ``YYYY-MM-DD``.

    Raises:
        InvalidInputError: for any other format or an impossible date.
    """
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    if word == "tomorrow":
        return today + timedelta(days=1)
    if _ISO.match(word):
        try:
            return date.fromisoformat(word)
        except ValueError as exc:
            raise InvalidInputError(f"not a real date: {text!r} ({exc})") from None
    raise InvalidInputError(f"unknown date format: {text!r} (use today, yesterday or YYYY-MM-DD)")
