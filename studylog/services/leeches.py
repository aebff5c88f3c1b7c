"""The leech rule for answers that arrive in bulk (imported history), set-based.

Anki's rule (manual, "Lapses" / "Leech threshold"): a card becomes a leech
when its lapses reach the threshold, and again every half threshold more
(8, 12, 16, ... with the default 8). A leech is tagged ``leech``; with the
``suspend`` action (studylog's default, as live answers in
:mod:`studylog.services.review`) it is also suspended, with ``tag`` it only
gets the tag.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from studylog.services import tags as tag_service
from studylog.services.review import LEECH_TAG, is_leech, limits_in
from studylog.storage.models import Card, card_tags


def crossed(before: int, after: int, threshold: int) -> bool:
    """Whether going from ``before`` to ``after`` lapses passes a leech point, as the
    same lapses answered one by one would (``is_leech`` at each lapse)."""
    return any(is_leech(n, threshold) for n in range(before + 1, after + 1))


def apply_leech_rule(session: Session, lapses_before: Mapping[int, int]) -> int:
    """Tag (and with the ``suspend`` action suspend) the cards whose lapses passed a
    leech point since ``lapses_before`` (card id -> lapses then); return how many.

    Reads the cards' current lapses in one query and writes in two statements,
    inside the caller's transaction.
    """
    if not lapses_before:
        return 0
    limits = limits_in(session)
    threshold = limits.leech_threshold
    ids = sorted(lapses_before)
    leeches: list[int] = []
    for i in range(0, len(ids), 500):  # well under SQLite's parameter limit
        chunk = ids[i : i + 500]
        for cid, lapses in session.execute(
            select(Card.id, Card.lapses).where(Card.id.in_(chunk), Card.lapses >= threshold)
        ):
            if crossed(lapses_before[cid], lapses, threshold):
                leeches.append(cid)
    if not leeches:
        return 0
    (tag,) = tag_service.get_or_create(session, [LEECH_TAG])
    session.flush()
    tagged = set(
        session.scalars(
            select(card_tags.c.card_id).where(
                card_tags.c.tag_id == tag.id, card_tags.c.card_id.in_(leeches)
            )
        )
    )
    rows = [{"card_id": cid, "tag_id": tag.id} for cid in leeches if cid not in tagged]
    if rows:
        session.execute(insert(card_tags), rows)
    if limits.leech_action == "suspend":
        session.execute(update(Card).where(Card.id.in_(leeches)).values(suspended=True))
    session.expire_all()  # ORM copies of these cards are stale now
    return len(leeches)
