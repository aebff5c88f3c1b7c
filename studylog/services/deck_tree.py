"""The deck tree with today's counts, inside a transaction: what the deck list, the review
session's header and ``studylog today --json`` all read.

Each deck's limits are its preset's (:class:`studylog.services.settings.DeckSettings`:
the deck's own keys, else its nearest ancestor's, else the collection's) plus the
extra new cards custom study granted today (:mod:`studylog.services.day_limits`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from studylog.scheduling import decks as deck_rules
from studylog.scheduling import settings as defs
from studylog.scheduling.card import LEARN_AHEAD
from studylog.scheduling.decks import DeckNode, Done, LimitsOf
from studylog.scheduling.settings import DailyLimits
from studylog.services import day_limits
from studylog.services import settings as settings_service
from studylog.storage import deck_rows
from studylog.storage.engine import connection_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def limits_function(reader: Session | Connection, day: date) -> tuple[DailyLimits, LimitsOf]:
    """The collection's daily limits on ``day`` and each deck's (its preset's), each with
    the extra new cards custom study granted for that day."""
    found = settings_service.deck_settings_in(reader)
    stored = settings_service.get_in(reader, day_limits.EXTEND_KEY)
    collection = defs.limits_from(found.collection)
    granted = day_limits.extra_new(stored, day, None) or bool(
        isinstance(stored, dict) and stored.get("day") == day.isoformat()
    )

    def with_extra(deck: str | None) -> DailyLimits:
        # Only the limits (no fsrs.Scheduler is built); every deck the collection's when
        # no deck has a preset and custom study granted nothing today.
        if deck is None or found.uniform:
            limits = collection
        else:
            limits = defs.limits_from(found.values(deck))
        if not granted:
            return limits
        extra = day_limits.extra_new(stored, day, deck)
        return replace(limits, new_per_day=limits.new_per_day + extra) if extra else limits

    return with_extra(None), with_extra


def tree_in(
    reader: Session | Connection, now: datetime
) -> tuple[list[DeckNode], DailyLimits, Done, date]:
    """The deck tree at ``now`` inside the caller's transaction (a Session's or a Core
    connection's): (top-level nodes, the collection's limits, everything studied today,
    the study day)."""
    calendar = settings_service.calendar_from(settings_service.values_in(reader))
    day = calendar.day_of(now)
    end = calendar.end_of(day)
    conn = connection_of(reader)
    counts = deck_rows.deck_counts(conn, day, end, now + LEARN_AHEAD)
    done = deck_rows.done_today(conn, calendar.start_of(day), end)
    limits, limits_of = limits_function(reader, day)
    roots = deck_rules.build_tree(
        counts, done, limits_of, new_ignores_review_limit=limits.new_ignores_review_limit
    )
    total_done = Done()
    for studied in done.values():
        total_done = total_done + studied
    return roots, limits, total_done, day


def counts_in(session: Session, now: datetime, deck: str | None) -> tuple[int, int, int] | None:
    """(new, learning, review) that studying ``deck`` (None: everything) shows at ``now``;
    None when the deck has no cards."""
    roots, limits, done, _day = tree_in(session, now)
    if deck is None:
        return deck_rules.cap_collection(roots, limits, done)
    for root in roots:
        node = root.find(deck)
        if node is not None:
            return node.new, node.learning, node.review
    return None
