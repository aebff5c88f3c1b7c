"""Import Anki packages: notes become cards, review history rebuilds each card's FSRS state.

- **Cards.** Every Anki card becomes one studylog card. Standard note types
  (Basic, Basic (and reversed card), Basic (optional reversed card), type-in,
  and others) are rendered through their templates: the question side is the
  front, the answer side after ``<hr id=answer>`` the back. Cloze note types
  keep their ``{{cN::...}}`` text as the front of a cloze card with
  ``cloze_ord`` N; the rest of the answer (Back Extra) is the back. HTML
  becomes markdown (:mod:`studylog.interchange.anki_html`). The deck
  (``Parent::Child``) and the note's tags are kept; a suspended card stays
  suspended. ``external_id`` is the Anki card id, the id that review logs
  exported from Anki (py-fsrs' CSV format) use too, and the note's GUID is
  remembered so that the ``.apkg`` export updates the same notes in Anki.
- **History.** Each card's review log is filtered as Anki's own FSRS does for
  memory states (``reviews_for_fsrs`` in ``rslib/src/scheduler/fsrs/params.rs``,
  without a cutoff date): entries before a reset ("Forget") and cramming in
  filtered decks without rescheduling are dropped, as are manual
  rescheduling entries (no rating). The kept answers become ``reviews`` rows
  and the card's state is replayed from them with studylog's scheduler
  (:func:`studylog.services.reschedule.replay_in`, the function the review-log
  import uses; it equals ``fsrs.Scheduler.reschedule_card``).
- **Again.** A card whose Anki id is already a studylog card is not added
  again; answers newer than the stored ones are added and its state rebuilt.
  A card the user deleted after an earlier import is not brought back.
- **Not imported.** Media files (listed as skipped), cards whose answer side
  is empty (studylog cards need a back), image-occlusion cards.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.content.cloze import cloze_ords
from studylog.errors import InvalidInputError
from studylog.interchange import anki_html, records
from studylog.interchange.anki_package import (
    MAX_COLLECTION_BYTES,
    AnkiCard,
    AnkiCollection,
    Note,
    Notetype,
    RevlogEntry,
    read_collection,
)
from studylog.interchange.names import check_deck
from studylog.interchange.review_log import existing_cards, stored_times
from studylog.interchange.summary import ApplyContext, FileSummary
from studylog.scheduling.states import CardState
from studylog.services import cards as card_service
from studylog.services import tags as tag_service
from studylog.services.reschedule import replay_in
from studylog.services.review import config_in
from studylog.storage.bulk_insert import insert_rows
from studylog.storage.models import Card, Review, card_tags
from studylog.storage.search_index import indexed_after
from studylog.storage.times import to_ms

KIND = "anki_card"
LEARN, REVIEW_KIND, RELEARN, FILTERED, MANUAL, RESCHEDULED = range(6)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 500  # ids per IN (...) query
_BATCH = 5000  # cards per batch of inserts


@dataclass(frozen=True)
class AnkiReview:
    """One kept answer: aware UTC time (from the revlog id, ms), rating 1-4, answer time in ms."""

    time: datetime
    rating: int
    duration_ms: int | None


@dataclass(frozen=True)
class AnkiCardSpec:
    """An Anki card ready to become a studylog card."""

    anki_id: int
    guid: str
    ord: int
    kind: str
    front: str
    back: str
    cloze_ord: int | None
    deck: str
    tags: tuple[str, ...]
    suspended: bool
    created_at: datetime
    reviews: list[AnkiReview]
    scheduled_in_anki: bool  # Anki had it out of "new"

    @property
    def external_id(self) -> str:
        return str(self.anki_id)


@dataclass(frozen=True)
class ParsedAnki:
    """A package read and converted (nothing written yet)."""

    name: str
    member: str
    cards: list[AnkiCardSpec]
    media: list[str]
    notes: list[str] = field(default_factory=list)


def _moment(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def fsrs_history(entries: list[RevlogEntry]) -> list[RevlogEntry]:
    """The entries Anki's FSRS uses for a card's memory state, oldest first.

    Mirrors ``reviews_for_fsrs`` (rslib, memory-state mode, no cutoff date):
    walking back from the newest entry, the history starts at the first
    learning answer of the last run of learning answers, or, when a reset
    ("Forget", a manual entry with ease factor 0) comes first, after it; with
    no learning answers at all, at the first graded inter-day answer. Then
    only answers with a rating that affect scheduling are kept (no cramming:
    a filtered-deck entry with ease factor 0; no manual entries: rating 0).
    """
    entries = sorted(entries, key=lambda e: e.id)
    first_learn: int | None = None
    first_grade: int | None = None
    for i in range(len(entries) - 1, -1, -1):
        e = entries[i]
        if e.type == FILTERED and e.factor == 0:
            continue  # cramming
        graded = e.ease > 0
        if graded and (e.ivl >= 1 or e.ivl <= -86400):
            first_grade = i
        if graded and e.type == LEARN:
            first_learn = i
        elif e.type == MANUAL and e.factor == 0:  # a reset
            if first_learn is not None or first_grade is not None:
                break
            return []
        elif first_learn is not None:
            break
    if first_learn is not None:
        entries = entries[first_learn:]
    elif first_grade is not None:
        entries = entries[first_grade:]
    else:
        return []
    return [
        e
        for e in entries
        if 1 <= e.ease <= 4 and not (e.type == FILTERED and e.factor == 0) and e.type < MANUAL
    ]


def _texts(
    note: Note, notetype: Notetype, card: AnkiCard, deck: str, cache: dict[int, dict[str, str]]
) -> tuple[str, str, str, int | None]:
    """(kind, front markdown, back markdown, cloze ord) of one card."""
    fields = dict(zip(notetype.fields, note.fields, strict=False))
    fields.update({"Tags": " ".join(note.tags), "Deck": deck, "Subdeck": deck.split("::")[-1]})
    if notetype.kind == "cloze":
        question = notetype.templates[0][1] if notetype.templates else "{{cloze:Text}}"
        answer = notetype.templates[0][2] if notetype.templates else ""
        source = anki_html.cloze_field(question) or (notetype.fields[0] if notetype.fields else "")
        if note.id not in cache:
            cache[note.id] = {"front": anki_html.html_to_markdown(fields.get(source, ""))}
        front = cache[note.id]["front"]
        back_html = anki_html.answer_part(anki_html.render(answer, fields, "answer"))
        return "cloze", front, anki_html.html_to_markdown(back_html), card.ord + 1
    if card.ord >= len(notetype.templates):
        return "basic", "", "", None
    _name, question, answer = notetype.templates[card.ord]
    front_html = anki_html.render(question, fields, "question")
    back_html = anki_html.answer_part(anki_html.render(answer, fields, "answer"))
    return (
        "basic",
        anki_html.html_to_markdown(front_html),
        anki_html.html_to_markdown(back_html),
        None,
    )


def _created(card: AnkiCard, fallback: datetime) -> datetime:
    """Anki ids are creation times in ms; ids made otherwise (tests, tools) fall back."""
    if 946_684_800_000 <= card.id <= fallback.timestamp() * 1000 + 86_400_000:
        return _moment(card.id)
    return fallback


def convert(col: AnkiCollection, name: str, now: datetime | None = None) -> ParsedAnki:
    """Turn a read collection into card specs; cards that cannot be cards are counted in notes.

    Raises:
        InvalidInputError: a card whose note or a note whose note type is
            missing (a damaged collection), naming the package and the record.
    """
    moment = now or datetime.now(UTC)
    history: dict[int, list[RevlogEntry]] = defaultdict(list)
    for entry in col.revlog:
        history[entry.card_id].append(entry)
    cache: dict[int, dict[str, str]] = {}
    specs: list[AnkiCardSpec] = []
    empty_back, occlusion, lost_cloze = [], 0, []
    for card in col.cards:
        note = col.notes.get(card.note_id)
        if note is None:
            raise InvalidInputError(
                f"{name}: card {card.id} belongs to a missing note {card.note_id}"
            )
        notetype = col.notetypes.get(note.notetype_id)
        if notetype is None:
            raise InvalidInputError(
                f"{name}: note {note.id} has a missing note type {note.notetype_id}"
            )
        if "image occlusion" in notetype.name.lower() or any(
            "image-occlusion:" in f for f in note.fields
        ):
            occlusion += 1
            continue
        deck = check_deck(
            col.decks.get(card.deck_id, "Default") or "Default",
            f"{name}: card {card.id} (deck {card.deck_id})",
        )
        kind, front, back, cloze_ord = _texts(note, notetype, card, deck, cache)
        if kind == "cloze" and (cloze_ord not in cloze_ords(front)):
            lost_cloze.append(card.id)
            continue
        if not front.strip() or (kind == "basic" and not back.strip()):
            empty_back.append(card.id)
            continue
        kept = fsrs_history(history.get(card.id, []))
        specs.append(
            AnkiCardSpec(
                anki_id=card.id,
                guid=note.guid,
                ord=card.ord,
                kind=kind,
                front=front,
                back=back,
                cloze_ord=cloze_ord,
                deck=deck,
                tags=tuple(tag_service.normalise(note.tags)),
                suspended=card.queue == -1,
                created_at=_created(card, moment),
                reviews=[AnkiReview(_moment(e.id), e.ease, e.time or None) for e in kept],
                scheduled_in_anki=card.type != 0,
            )
        )
    notes = []
    if empty_back:
        notes.append(
            f"{len(empty_back)} card(s) with an empty front or answer skipped "
            f"(Anki card ids {', '.join(map(str, empty_back[:5]))}{'...' if len(empty_back) > 5 else ''})"
        )
    if lost_cloze:
        notes.append(
            f"{len(lost_cloze)} cloze card(s) whose deletion is gone from the text skipped"
        )
    if occlusion:
        notes.append(f"{occlusion} image-occlusion card(s) skipped (they are images)")
    return ParsedAnki(name, col.member, specs, col.media, notes)


def read_anki(path: Path, *, cap: int = MAX_COLLECTION_BYTES) -> ParsedAnki:
    """Read and convert a package (see the module docstring); nothing is written.

    Raises:
        InvalidInputError: not a readable Anki package, or a damaged one.
        UnsafePackageError: unsafe member names or oversized contents.
    """
    return convert(read_collection(path, cap=cap), path.name)


# --- writing -------------------------------------------------------------------------------


def _fill_placeholders(session: Session, specs: dict[int, AnkiCardSpec], now: datetime) -> int:
    """Give review-log cards (no text yet) the text of the same Anki card; return how many."""
    ids = sorted(specs)
    waiting: list[int] = []
    for i in range(0, len(ids), _CHUNK):
        waiting.extend(
            session.scalars(
                select(Card.id).where(Card.id.in_(ids[i : i + _CHUNK]), card_service.no_text())
            )
        )
    for card_id in waiting:
        spec = specs[card_id]
        card = session.get(Card, card_id)
        card.front, card.back, card.kind = spec.front, spec.back, spec.kind
        card.cloze_ord, card.deck, card.updated_at = spec.cloze_ord, spec.deck, now
        with session.no_autoflush:
            card.tags = tag_service.get_or_create(session, spec.tags)
        session.flush()
    return len(waiting)


def apply_anki(session: Session, parsed: ParsedAnki, ctx: ApplyContext) -> FileSummary:
    """Write the cards and answers of ``parsed`` in the caller's transaction."""
    summary = FileSummary(parsed.name, "anki")
    summary.media_skipped = list(parsed.media)
    summary.notes.extend(parsed.notes)
    specs = parsed.cards
    existing = existing_cards(session, [s.external_id for s in specs])
    recorded = records.known(session, KIND, [s.external_id for s in specs])
    fresh = [s for s in specs if s.external_id not in existing and s.external_id not in recorded]
    deleted = sum(1 for s in specs if s.external_id in recorded and s.external_id not in existing)
    summary.skip("cards", len(specs) - len(fresh))
    if deleted:
        summary.notes.append(f"{deleted} card(s) deleted since an earlier import not re-added")
    ids = dict(existing)
    ids.update(_insert_cards(session, fresh, ctx))
    summary.add("cards", len(fresh))
    filled = _fill_placeholders(
        session, {existing[s.external_id]: s for s in specs if s.external_id in existing}, ctx.now
    )
    if filled:
        summary.notes.append(f"{filled} review-log card(s) got their text from this package")
    # Record every card of the package, so a later export finds the note GUIDs.
    missing = [s for s in specs if s.external_id in ids and s.external_id not in recorded]
    records.remember(
        session,
        KIND,
        [(s.external_id, ids[s.external_id], f"{s.guid}#{s.ord}") for s in missing],
        source=parsed.name,
        now=ctx.now,
    )
    touched = _insert_reviews(session, [s for s in specs if s.external_id in ids], ids, summary)
    if touched:
        ctx.progress(f"{parsed.name}: replaying histories", 0, len(touched))
        replay_in(session, config_in(session).params(), sorted(touched))
        ctx.progress(f"{parsed.name}: replaying histories", len(touched), len(touched))
    without = sum(1 for s in fresh if s.scheduled_in_anki and not s.reviews)
    if without:
        summary.notes.append(
            f"{without} card(s) were scheduled in Anki but have no usable review history; "
            "they start as new cards"
        )
    return summary


def _insert_cards(session: Session, fresh: list[AnkiCardSpec], ctx: ApplyContext) -> dict[str, int]:
    if not fresh:
        return {}
    tags = tag_service.get_or_create(session, {t for s in fresh for t in s.tags})
    session.flush()
    tag_ids = {t.name: t.id for t in tags}
    ids: dict[str, int] = {}
    with indexed_after(session, "cards"):
        for start in range(0, len(fresh), _BATCH):
            chunk = fresh[start : start + _BATCH]
            made = insert_rows(
                session,
                Card.__table__,
                [
                    {
                        "front": s.front,
                        "back": s.back,
                        "kind": s.kind,
                        "cloze_ord": s.cloze_ord,
                        "deck": s.deck,
                        "external_id": s.external_id,
                        "origin": "import",
                        "state": CardState.LEARNING,
                        "step": 0,
                        # The replay starts from a new card due at its first answer.
                        "due": s.reviews[0].time if s.reviews else ctx.now,
                        "reps": 0,
                        "lapses": 0,
                        "suspended": s.suspended,
                        "created_at": min([s.created_at, *(r.time for r in s.reviews[:1])]),
                        "updated_at": ctx.now,
                    }
                    for s in chunk
                ],
            )
            ids.update(zip((s.external_id for s in chunk), made, strict=True))
            links = [
                {"card_id": ids[s.external_id], "tag_id": tag_ids[t]} for s in chunk for t in s.tags
            ]
            insert_rows(session, card_tags, links, returning=False)
            ctx.progress("importing cards", start + len(chunk), len(fresh))
    return ids


def _insert_reviews(
    session: Session, specs: list[AnkiCardSpec], ids: dict[str, int], summary: FileSummary
) -> set[int]:
    """Insert answers not stored yet (by card and time); return the cards that got any."""
    card_ids = [ids[s.external_id] for s in specs]
    stored = stored_times(session, card_ids)
    rows, touched = [], set()
    for spec in specs:
        cid = ids[spec.external_id]
        have = stored.get(cid, set())
        for r in spec.reviews:
            at = to_ms(r.time)
            if at in have:
                summary.skip("reviews")
                continue
            have.add(at)
            touched.add(cid)
            # State columns are placeholders; the replay fills in every touched card's rows.
            rows.append(
                {
                    "card_id": cid,
                    "rating": r.rating,
                    "reviewed_at": r.time,
                    "duration_ms": r.duration_ms,
                    "state_before": CardState.LEARNING,
                    "state_after": CardState.LEARNING,
                }
            )
    # time order across cards, so review ids follow time (as in review_log.import_review_log)
    rows.sort(key=lambda row: row["reviewed_at"])
    insert_rows(session, Review.__table__, rows, returning=False)
    summary.add("reviews", len(rows))
    return touched
