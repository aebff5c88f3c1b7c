"""Epoch milliseconds: the integer twins of the card and review time columns.

Bulk work (statistics, the whole-collection replay, the FSRS optimizer) needs
a million review times as numbers. Decoding SQLAlchemy's datetime text
(``YYYY-MM-DD HH:MM:SS.ffffff``) for that cost most of the statistics' time,
so the times that bulk work reads are also stored as integer milliseconds
since the Unix epoch (UTC), as Anki stores its review log ids:

=====================  ==========================
text column            integer twin
=====================  ==========================
cards.due              cards.due_ms
cards.last_review      cards.last_review_ms
reviews.reviewed_at    reviews.reviewed_at_ms
reviews.due_before     reviews.due_before_ms
reviews.last_review_before  reviews.last_review_before_ms
=====================  ==========================

**The rule:** ``twin == floor(text / 1 ms)`` on every row, NULL with NULL.
New times are stored to the millisecond (:class:`MillisecondUTCDateTime`
floors them), so text and twin are the same instant and an elapsed-day count
from the twins equals the ``fsrs`` package's ``timedelta.days`` on the
datetimes exactly. (Rows written before revision 0004 keep their microseconds
in the text; their twin is the floor.)

Who keeps them in step: the ORM sets the twin whenever a time attribute is
assigned (:mod:`studylog.storage.models` listens for it), and every Core or
DB-API write of these columns goes through :func:`with_ms` or sets the twin
from :func:`to_ms` itself (:mod:`studylog.storage.bulk`,
:mod:`studylog.storage.bulk_insert`, the review hot path).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
DAY_MS = 86_400_000

# text column -> integer twin, per table
TWINS: dict[str, dict[str, str]] = {
    "cards": {"due": "due_ms", "last_review": "last_review_ms"},
    "reviews": {
        "reviewed_at": "reviewed_at_ms",
        "due_before": "due_before_ms",
        "last_review_before": "last_review_before_ms",
    },
}


def to_ms(moment: datetime | None) -> int | None:
    """An aware datetime as integer milliseconds since the epoch, floored (None stays None).

    Raises:
        ValueError: for a naive datetime (its zone would be a guess).
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: studylog stores aware UTC times only")
    return (moment - EPOCH) // _MS


def from_ms(ms: int | None) -> datetime | None:
    """Integer epoch milliseconds as an aware UTC datetime (None stays None)."""
    return None if ms is None else EPOCH + timedelta(milliseconds=int(ms))


def floor_ms(moment: datetime | None) -> datetime | None:
    """``moment`` with its microseconds below the millisecond dropped (None stays None)."""
    if moment is None:
        return None
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def with_ms(table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` for a Core INSERT/UPDATE of ``table`` with the integer twins added.

    Every time column in ``values`` that has a twin (:data:`TWINS`) gets it
    (floored milliseconds, None for None); the times themselves are floored to
    the millisecond so text and twin agree. Other keys pass through.
    """
    out = dict(values)
    for column, twin in TWINS[table].items():
        if column in out:
            moment = out[column]
            out[column] = floor_ms(moment)
            out[twin] = to_ms(moment)
    return out
