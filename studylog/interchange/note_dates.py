"""Dates as Korean study blogs and notes write them, and which lines start a dated post.

Recognised forms (``docs/import.md``)::

    2024. 8. 16. 19:22     (Tistory)        2021.11.12            2021/08/16
    2021-08-16             (ISO)            2021-08-16T19:22:00+09:00
    2021년 8월 16일 (월)    2021. 8. 16. 오후 7:22 (Naver)          7:22 PM

A *post header* is a line that dates what follows it: a line that is only a
date (and time, weekday), a markdown heading with a date in it (``## TIL
2021-08-16``), or a blog byline ``author date time`` (one word before a date
*with* a time, as Tistory prints ``stop0729 2024. 8. 16. 19:22``). Lines that
merely mention a date are not headers, e.g. a blog's list of other posts
``3주차 회고  (0) 2024.08.23``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

_YEARS = range(1970, 2101)

# Each pattern names year, month, day; the first match in a line wins.
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일"),
    re.compile(r"(?<!\d)(?P<y>\d{4})\.\s*(?P<m>\d{1,2})\.\s*(?P<d>\d{1,2})(?!\d)\.?"),
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?!\d)"),
)
_ISO_MOMENT = re.compile(
    r"(?<!\d)(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2}))"
)
_TIME = re.compile(
    r"(?:(?P<ampm_ko>오전|오후)\s*)?(?<!\d)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?!\d)"
    r"(?:\s*(?P<ampm>[AaPp][Mm])\b)?"
)
_WEEKDAY = re.compile(
    r"\(?\s*(?:[월화수목금토일](?:요일)?|mon|tue|wed|thu|fri|sat|sun)"
    r"[a-z]*\s*\)?(?=\s|$|[,.)])",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_AUTHOR = re.compile(r"^[\w.@-]{1,30}$")
_FILLER = " \t|·•,-–—:[]()*_#"


@dataclass(frozen=True)
class FoundDate:
    """A date found in a line: the day, a local time or None, or an exact moment.

    ``moment`` is set when the text carried a UTC offset (ISO 8601 with
    ``+09:00`` or ``Z``); otherwise ``clock`` is the local wall-clock time,
    or None when only the day was written.
    """

    day: date
    clock: time | None = None
    moment: datetime | None = None
    span: tuple[int, int] = (0, 0)


def _valid(y: int, m: int, d: int) -> date | None:
    if y not in _YEARS:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _parse_offset_moment(text: str) -> datetime | None:
    text = text.replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def find_date(line: str) -> FoundDate | None:
    """The first real date in ``line`` (with its time if one follows), or None."""
    iso = _ISO_MOMENT.search(line)
    if iso:
        moment = _parse_offset_moment(iso.group(1))
        if moment is not None and moment.year in _YEARS:
            return FoundDate(moment.date(), moment.timetz(), moment, iso.span())
    best: FoundDate | None = None
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(line):
            day = _valid(int(match["y"]), int(match["m"]), int(match["d"]))
            if day is None:
                continue
            if best is None or match.start() < best.span[0]:
                best = FoundDate(day, span=match.span())
            break
    if best is None:
        return None
    after = line[best.span[1] :]
    clock = _TIME.search(after)
    if clock and not after[: clock.start()].strip(" \t.,(T"):
        parsed = _clock(clock)
        if parsed is not None:
            end = best.span[1] + clock.end()
            return FoundDate(best.day, parsed, None, (best.span[0], end))
    return best


def _clock(match: re.Match[str]) -> time | None:
    hour, minute = int(match["h"]), int(match["mi"])
    second = int(match["s"] or 0)
    marker = (match["ampm_ko"] or match["ampm"] or "").lower()
    if marker in ("오후", "pm") and hour < 12:
        hour += 12
    elif marker in ("오전", "am") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def header_date(line: str) -> FoundDate | None:
    """The date of a post header line (see the module docstring), or None for other lines."""
    text = line.strip()
    if not text or len(text) > 120:
        return None
    found = find_date(text)
    if found is None:
        return None
    rest = (text[: found.span[0]] + " " + text[found.span[1] :]).strip()
    rest = _WEEKDAY.sub(" ", rest).strip(_FILLER)
    rest = re.sub(r"^#+\s*", "", rest).strip(_FILLER)
    if not rest:
        return found
    if _HEADING.match(text):
        return found if len(rest) <= 40 else None
    has_time = found.clock is not None or found.moment is not None
    if has_time and _AUTHOR.match(rest) and found.span[0] > 0:
        return found  # "stop0729 2024. 8. 16. 19:22": a blog byline
    return None


def date_in_name(name: str) -> date | None:
    """A date in a file name (Obsidian daily notes: ``2021-08-16.md``), or None."""
    found = find_date(name)
    return found.day if found else None


def to_aware(found: FoundDate, zone: tzinfo) -> datetime | None:
    """The UTC-aware moment of a found date with a time, read in ``zone``; None without a time."""
    if found.moment is not None:
        return found.moment
    if found.clock is None:
        return None
    return datetime.combine(found.day, found.clock, tzinfo=zone)
