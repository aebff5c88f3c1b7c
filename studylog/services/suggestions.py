"""Suggested cards: definitions found in imported notes, waiting for the user's consent.

A notes import never schedules a card by itself. It stores *suggestions*
(:class:`~studylog.storage.import_models.SuggestedCard`); the user accepts
them (each becomes a card, a cloze suggestion one card per deletion) or
rejects them. Decided suggestions stay, so importing the same note again does
not propose them again (``content_hash`` over kind, front and back is unique).

Public API (CLI ``studylog card suggested|accept|reject`` and the app):

- :func:`list_suggestions` / :func:`get` / :func:`count` - read;
- :func:`accept` - make cards of pending suggestions (optionally edited);
- :func:`reject` - dismiss pending suggestions;
- :func:`in_context` - the pending ones with the passage of the note each came
  from and the concept it names (the app's Suggested cards screen).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studylog.content.cloze import cloze_ords
from studylog.errors import InvalidInputError, NotFoundError
from studylog.services import cards as card_service
from studylog.storage.engine import Database
from studylog.storage.import_models import SuggestedCard
from studylog.storage.models import Concept, JournalEntry
from studylog.studyday import utcnow

STATUSES = ("pending", "accepted", "rejected")
ORIGIN = "import"  # the cards' origin: their text came in through an import


@dataclass(frozen=True)
class SuggestionInfo:
    """A suggested card as the CLI and the app show it.

    ``source`` is the note's file name and ``line`` the 1-based line the
    definition was found on; ``day`` the note's study day; ``rule`` the
    pattern that found it (``colon``, ``double-colon``, ``qa``, ``deflist``,
    ``cloze``, ``gloss``, ``dash``, ``question``). ``card_id`` is the first
    card made when accepted. Times are aware UTC.
    """

    id: int
    front: str
    back: str
    kind: str
    deck: str
    tags: list[str]
    rule: str
    source: str
    line: int | None
    day: date | None
    entry_id: int | None
    status: str
    card_id: int | None
    created_at: datetime
    decided_at: datetime | None


def _info(row: SuggestedCard) -> SuggestionInfo:
    return SuggestionInfo(
        id=row.id,
        front=row.front,
        back=row.back,
        kind=row.kind,
        deck=row.deck,
        tags=list(row.tags or []),
        rule=row.rule,
        source=row.source,
        line=row.line,
        day=row.day,
        entry_id=row.entry_id,
        status=row.status,
        card_id=row.card_id,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def content_hash(kind: str, front: str, back: str) -> str:
    """SHA-256 hex over (kind, front, back), white space at the ends ignored."""
    text = json.dumps([kind, front.strip(), back.strip()], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_in(
    session: Session,
    *,
    front: str,
    back: str,
    kind: str = "basic",
    rule: str = "",
    source: str = "",
    line: int | None = None,
    day: date | None = None,
    entry_id: int | None = None,
    deck: str = "Default",
    tags: Iterable[str] = (),
    now: datetime,
) -> SuggestedCard | None:
    """Add a pending suggestion in the caller's transaction; None if it exists already.

    A suggestion that would not make a valid card (empty front, a basic card
    without back, a cloze without deletions) is not added either.
    """
    if kind not in card_service.KINDS or not front.strip():
        return None
    if kind == "basic" and not back.strip():
        return None
    if kind == "cloze" and not cloze_ords(front):
        return None
    digest = content_hash(kind, front, back)
    if session.scalar(select(SuggestedCard.id).where(SuggestedCard.content_hash == digest)):
        return None
    row = SuggestedCard(
        front=front.strip(),
        back=back.strip(),
        kind=kind,
        deck=deck,
        tags=list(tags),
        rule=rule,
        source=source[:500],
        line=line,
        day=day,
        entry_id=entry_id,
        status="pending",
        content_hash=digest,
        created_at=now,
    )
    session.add(row)
    return row


def list_suggestions(
    db: Database, *, status: str | None = "pending", limit: int = 100, offset: int = 0
) -> list[SuggestionInfo]:
    """Suggestions with ``status`` (None: all), oldest note day first, one page at a time.

    Raises:
        InvalidInputError: unknown status.
    """
    if status is not None and status not in STATUSES:
        raise InvalidInputError(f"unknown status {status!r} (use {', '.join(STATUSES)})")
    with db.read() as session:
        query = select(SuggestedCard).order_by(
            SuggestedCard.day.is_(None), SuggestedCard.day, SuggestedCard.id
        )
        if status is not None:
            query = query.where(SuggestedCard.status == status)
        return [_info(r) for r in session.scalars(query.limit(limit).offset(offset))]


def count(db: Database, status: str = "pending") -> int:
    """How many suggestions have ``status``."""
    with db.read() as session:
        return (
            session.scalar(
                select(func.count(SuggestedCard.id)).where(SuggestedCard.status == status)
            )
            or 0
        )


def get(db: Database, suggestion_id: int) -> SuggestionInfo:
    """One suggestion. Raises NotFoundError."""
    with db.read() as session:
        return _info(_load(session, suggestion_id))


def _load(session: Session, suggestion_id: int) -> SuggestedCard:
    row = session.get(SuggestedCard, suggestion_id)
    if row is None:
        raise NotFoundError(f"no suggested card with id {suggestion_id}")
    return row


def _pending(session: Session, ids: Sequence[int]) -> list[SuggestedCard]:
    rows = []
    for suggestion_id in dict.fromkeys(ids):
        row = _load(session, suggestion_id)
        if row.status != "pending":
            raise InvalidInputError(f"suggested card {suggestion_id} was already {row.status}")
        rows.append(row)
    return rows


def _all_pending_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(SuggestedCard.id)
            .where(SuggestedCard.status == "pending")
            .order_by(SuggestedCard.id)
        )
    )


def accept(
    db: Database,
    ids: Sequence[int] | None,
    *,
    front: str | None = None,
    back: str | None = None,
    deck: str | None = None,
    tags: Iterable[str] | None = None,
    concept_slug: str | None = None,
    now: datetime | None = None,
) -> list[card_service.CardInfo]:
    """Turn pending suggestions into cards (new, due now); ``ids`` None takes every pending one.

    ``front``/``back`` replace the text (only when accepting one suggestion);
    ``deck``, ``tags`` and ``concept_slug`` apply to all the cards made. One
    transaction: if any id is unknown or already decided, nothing changes.

    Returns:
        The cards made, in suggestion order (a cloze suggestion gives one card
        per deletion c1..cN).

    Raises:
        NotFoundError: unknown suggestion or concept.
        InvalidInputError: already decided; edits with several ids; empty text.
    """
    moment = now or utcnow()
    tags = list(tags) if tags is not None else None
    if (front is not None or back is not None) and (ids is None or len(set(ids)) != 1):
        raise InvalidInputError("edit the front or back of one suggestion at a time")
    with db.write() as session:
        rows = _pending(session, _all_pending_ids(session) if ids is None else ids)
        concept = card_service.concept_by_slug(session, concept_slug) if concept_slug else None
        made = []
        for row in rows:
            text_front = row.front if front is None else front
            text_back = row.back if back is None else back
            ords: list[int | None] = cloze_ords(text_front) if row.kind == "cloze" else [None]
            if row.kind == "cloze" and not ords:
                raise InvalidInputError(
                    f"suggested card {row.id}: a cloze card needs a deletion like {{{{c1::text}}}}"
                )
            cards = []
            for n in ords:
                cards.append(
                    card_service.new_card(
                        session,
                        front=text_front,
                        back=text_back,
                        kind=row.kind,
                        cloze_ord=n,
                        deck=deck or row.deck,
                        tags=list(row.tags or []) if tags is None else tags,
                        concept=concept,
                        origin=ORIGIN,
                        now=moment,
                    )
                )
                # Flush each card: new_card looks tags up without autoflush, so a
                # second card would otherwise create the same new tag again.
                session.flush()
            row.status, row.decided_at, row.card_id = "accepted", moment, cards[0].id
            made.extend(cards)
        session.flush()
        return [card_service.info(c) for c in made]


def reject(db: Database, ids: Sequence[int] | None, *, now: datetime | None = None) -> int:
    """Dismiss pending suggestions (``ids`` None: every pending one); return how many.

    Raises:
        NotFoundError, InvalidInputError: unknown or already decided id (nothing changes).
    """
    moment = now or utcnow()
    with db.write() as session:
        rows = _pending(session, _all_pending_ids(session) if ids is None else ids)
        for row in rows:
            row.status, row.decided_at = "rejected", moment
        return len(rows)


# --- the review queue of the app: each suggestion in its note, with the concept it names ----

CONTEXT_RADIUS = 2  # lines of the note shown above and below the suggestion's own lines
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)
_WORD = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class SuggestionContext:
    """A pending suggestion with the passage of the note it was found in.

    ``lines`` are the note's lines around the definition, as written;
    ``first_line`` the 1-based file line of ``lines[0]`` (None when the
    definition's own line is not in the entry any more: then ``lines`` is
    empty); ``marked`` the indices in ``lines`` of the definition itself (the
    term's line, and the definition's lines when it starts on the next ones);
    ``concept`` the slug of the concept whose title or alias the front names
    (:func:`concept_named`), or None.
    """

    suggestion: SuggestionInfo
    lines: list[str]
    first_line: int | None
    marked: list[int]
    concept: str | None


def _plain_front(suggestion: SuggestionInfo) -> str:
    front = _CLOZE.sub(r"\1", suggestion.front) if suggestion.kind == "cloze" else suggestion.front
    return next((ln.strip() for ln in front.splitlines() if ln.strip()), "")


def passage(
    body: str, suggestion: SuggestionInfo, radius: int = CONTEXT_RADIUS
) -> tuple[list[str], int | None, list[int]]:
    """The lines of entry ``body`` around ``suggestion``: (lines, first file line, marked).

    The entry is the note's text, so the definition is found by its text (the
    front's first line, else the back's), not by the file's line number;
    the file line number is then carried over. (``[]``, None, ``[]``) when
    the text is not in the entry (it was edited since the import).
    """
    lines = body.splitlines()
    front = _plain_front(suggestion)
    back = next((ln.strip() for ln in suggestion.back.splitlines() if ln.strip()), "")
    # Best first: the line with both term and definition, a line that starts with the
    # term (after list marks), a line with the term, a line with the definition.
    tests = [
        lambda ln: bool(front and back) and front in ln and back[:20] in ln,
        lambda ln: bool(front) and ln.lstrip(" -*>#\t").startswith(front),
        lambda ln: bool(front) and front in ln,
        lambda ln: bool(back) and back in ln,
    ]
    at = next((i for test in tests for i, ln in enumerate(lines) if test(ln)), None)
    if at is None:
        return [], None, []
    # The definition's own lines: the term's, then on to the line holding the back's end.
    last_back = next(
        (ln.strip() for ln in reversed(suggestion.back.splitlines()) if ln.strip()), ""
    )
    end = at
    if last_back and last_back not in lines[at]:
        end = next(
            (i for i in range(at + 1, min(len(lines), at + 12)) if last_back in lines[i]), at
        )
    start, stop = max(0, at - radius), min(len(lines), end + radius + 1)
    first = None if suggestion.line is None else suggestion.line - (at - start)
    return lines[start:stop], first, list(range(at - start, end - start + 1))


def concept_named(text: str, concepts: Iterable[tuple[str, Iterable[str]]]) -> str | None:
    """The slug of the concept ``text`` names: the longest slug, title or alias in it.

    ``concepts``: (slug, names) pairs. Case is ignored; a Latin name matches
    only as a whole word (``GRU`` is not found in ``GRUB``), a Korean one
    anywhere (Korean attaches particles: ``망각 게이트는``). Names of one
    character never match. ``"forget 게이트(망각 게이트)"`` gives ``lstm``,
    whose aliases include 망각 게이트.
    """
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for slug, names in concepts:
        for name in names:
            wanted = name.strip().lower()
            if len(wanted) < 2 or (best is not None and len(wanted) <= best[0]):
                continue
            begin = _WORD.search(wanted[0]) is not None
            end = _WORD.search(wanted[-1]) is not None
            pattern = (
                (r"(?<![a-z0-9])" if begin else "")
                + re.escape(wanted)
                + (r"(?![a-z0-9])" if end else "")
            )
            if re.search(pattern, lowered):
                best = (len(wanted), slug)
    return None if best is None else best[1]


def in_context(
    db: Database, *, limit: int = 500, radius: int = CONTEXT_RADIUS
) -> tuple[list[SuggestionContext], int]:
    """The pending suggestions (oldest note day first, at most ``limit``) each with its
    passage and the concept it names, and how many are pending in all. One read."""
    with db.read() as session:
        rows = session.scalars(
            select(SuggestedCard)
            .where(SuggestedCard.status == "pending")
            .order_by(SuggestedCard.day.is_(None), SuggestedCard.day, SuggestedCard.id)
            .limit(limit)
        ).all()
        total = (
            session.scalar(
                select(func.count(SuggestedCard.id)).where(SuggestedCard.status == "pending")
            )
            or 0
        )
        infos = [_info(r) for r in rows]
        entry_ids = {i.entry_id for i in infos if i.entry_id is not None}
        bodies = {
            entry_id: body
            for entry_id, body in session.execute(
                select(JournalEntry.id, JournalEntry.body).where(JournalEntry.id.in_(entry_ids))
            )
        }
        concepts = [
            (slug, [slug, title, *(aliases or [])])
            for slug, title, aliases in session.execute(
                select(Concept.slug, Concept.title, Concept.aliases)
            )
        ]
    out = []
    for info in infos:
        lines, first, marked = passage(bodies.get(info.entry_id or -1, ""), info, radius)
        out.append(
            SuggestionContext(info, lines, first, marked, concept_named(info.front, concepts))
        )
    return out, total
