"""Today's daily limits of a deck: the settings' limits plus custom study's extra new cards.

Anki's custom study "Increase today's new card limit" raises a deck's new-card
limit for the current day only (rslib ``extend_limits``: ``new_limit_today``
with the day it is for, on the deck and its subdecks). studylog keeps the same in
the ``settings`` table under :data:`EXTEND_KEY`:
``{"day": "2026-12-02", "new": {"<deck or ''>": 10}}``, where ``''`` is the whole
collection (every deck). An extension of another day counts for nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from studylog.errors import InvalidInputError
from studylog.scheduling import decks as deck_rules
from studylog.scheduling.settings import DailyLimits
from studylog.services import settings as settings_service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

EXTEND_KEY = "review.extend_today"
MAX_EXTRA = 9999


def _granted(stored: Any, day: date) -> dict[str, int]:
    if not isinstance(stored, dict) or stored.get("day") != day.isoformat():
        return {}
    grants = stored.get("new") or {}
    return {k: v for k, v in grants.items() if isinstance(v, int) and v > 0}


def extra_new(stored: Any, day: date, deck: str | None) -> int:
    """Extra new cards for ``deck`` (None: the whole collection) on ``day``: what was
    granted to it, to a deck above it and to the whole collection (an extension of a
    deck extends its subdecks too, as Anki's ``extend_limits``)."""
    total = 0
    for key, extra in _granted(stored, day).items():
        if key == "" or (deck is not None and deck_rules.is_within(deck, key)):
            total += extra
    return total


def limits_in(session: Session, day: date, deck: str | None = None) -> DailyLimits:
    """The daily limits of ``deck`` (None: the collection) on ``day``: its preset's
    (inherited key by key), today's extra new cards included."""
    limits = settings_service.deck_settings_in(session).limits(deck)
    extra = extra_new(settings_service.get_in(session, EXTEND_KEY), day, deck)
    return replace(limits, new_per_day=limits.new_per_day + extra) if extra else limits


def extend_new_in(session: Session, day: date, deck: str | None, extra: int) -> int:
    """Add ``extra`` new cards to today's limit of ``deck`` (None: the collection);
    returns today's extra in all. Raises InvalidInputError for a count outside 1-9999."""
    if not 1 <= extra <= MAX_EXTRA:
        raise InvalidInputError(f"extra new cards: {extra} is not allowed (1 to {MAX_EXTRA})")
    grants = _granted(settings_service.get_in(session, EXTEND_KEY), day)
    grants[deck or ""] = min(grants.get(deck or "", 0) + extra, MAX_EXTRA)
    settings_service.set_in(session, EXTEND_KEY, {"day": day.isoformat(), "new": grants})
    return grants[deck or ""]
