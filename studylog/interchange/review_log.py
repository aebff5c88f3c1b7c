"""Import a review log in the ``fsrs`` package's CSV format and rebuild each card's FSRS state.

Format (py-fsrs, ``ReviewLog`` as CSV)::

    card_id,review_rating,review_time,review_duration
    1711684180217,1,2024-03-29T20:32:32.250000+00:00,25060

``review_rating`` is 1-4 (Again, Hard, Good, Easy), ``review_time`` ISO 8601
with a UTC offset, ``review_duration`` milliseconds (may be empty).

History attaches to the card whose ``external_id`` is the ``card_id`` (an
Anki import stores Anki's card id there, the id Anki's review logs use). A
``card_id`` no card has becomes a card *without text* (empty front and back) in
a deck of its own (:data:`DECK`, or the ``deck`` argument); such cards keep
their history and FSRS state but stay out of the daily queue until they get
text (:func:`studylog.services.cards.has_text`), by ``card edit`` or by
importing the Anki package they came from.

Each touched card's state is rebuilt from its whole history with the
collection's scheduler, the same result as ``fsrs.Scheduler.reschedule_card``
(computed for all cards at once by :func:`studylog.scheduling.batch.replay`).
Every review becomes a ``reviews`` row with the state before and after, as if
it had been answered in studylog. The leech rule applies as to live answers:
a card whose lapses pass a leech point (Anki: the threshold, then every half
threshold more) in the imported history is tagged ``leech`` and, with the
``suspend`` action, suspended.

The whole file is read and checked before anything is written, and the import
is one transaction, set-based: one query finds the matching cards and their
stored review times (to skip answers already there), inserts go in batches.
Importing the same file again adds nothing: a review already stored for the
card at the same time is skipped. A later export with more reviews adds only
the new ones and rebuilds those cards' state from the merged history.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError
from studylog.scheduling.states import CardState
from studylog.services.leeches import apply_leech_rule
from studylog.services.reschedule import replay_in
from studylog.services.review import config_in
from studylog.storage.bulk_insert import insert_rows
from studylog.storage.engine import Database
from studylog.storage.models import Card, Review
from studylog.storage.times import to_ms
from studylog.studyday import utcnow

COLUMNS = ("card_id", "review_rating", "review_time", "review_duration")
REQUIRED = COLUMNS[:3]
DECK = "Imported review history"  # where cards without text go (``--deck`` overrides)


@dataclass(frozen=True)
class ReviewLogRow:
    """One checked row: its line in the file, the card, rating 1-4, aware UTC time, ms or None."""

    line: int
    card_id: str
    rating: int
    time: datetime
    duration_ms: int | None


@dataclass(frozen=True)
class ReviewLogSummary:
    """What an import did (or, with ``dry_run``, would do).

    Attributes:
        file: the file's name.
        rows: data rows in the file.
        cards_in_file: distinct card ids in the file.
        cards_created: cards added (one per new card id).
        cards_updated: existing cards that got new reviews (their state rebuilt).
        reviews_added: review rows added.
        reviews_skipped: rows already stored (same card and time) or repeated in the file.
        first_review, last_review: the time span of the file (aware UTC), None if empty.
        dry_run: nothing was written.
        deck: the deck of the cards created without text.
        leeches: cards that became leeches (None on a dry run: not computed).
    """

    file: str
    rows: int
    cards_in_file: int
    cards_created: int
    cards_updated: int
    reviews_added: int
    reviews_skipped: int
    first_review: datetime | None
    last_review: datetime | None
    dry_run: bool
    deck: str = DECK
    leeches: int | None = 0


def _fail(name: str, line: int, message: str) -> InvalidInputError:
    return InvalidInputError(f"{name}:{line}: {message}")


def _parse_time(name: str, line: int, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(
            name,
            line,
            f"unparsable review_time {text!r} (expected ISO 8601 like 2024-03-29T20:32:32.250000+00:00)",
        ) from None
    if moment.tzinfo is None:
        raise _fail(name, line, f"review_time {text!r} has no UTC offset (add +00:00)")
    return moment.astimezone(UTC)


def _parse_row(name: str, line: int, record: dict[str | None, object]) -> ReviewLogRow:
    if record.get(None):
        raise _fail(name, line, f"too many fields ({len(COLUMNS)} expected)")
    values = {k: (record.get(k) or "") for k in COLUMNS}
    for column in REQUIRED:
        if not str(values[column]).strip():
            raise _fail(name, line, f"missing {column}")
    card_id = str(values["card_id"]).strip()
    if len(card_id) > 200:
        raise _fail(name, line, "card_id is longer than 200 characters")
    rating_text = str(values["review_rating"]).strip()
    if rating_text not in ("1", "2", "3", "4"):
        raise _fail(
            name,
            line,
            f"unknown rating {rating_text!r} (expected 1 Again, 2 Hard, 3 Good or 4 Easy)",
        )
    moment = _parse_time(name, line, str(values["review_time"]).strip())
    duration_text = str(values["review_duration"]).strip()
    duration = None
    if duration_text:
        if not duration_text.isdigit():
            raise _fail(
                name,
                line,
                f"bad review_duration {duration_text!r} (expected whole milliseconds >= 0)",
            )
        duration = int(duration_text)
    return ReviewLogRow(line, card_id, int(rating_text), moment, duration)


def parse_review_log(path: Path) -> list[ReviewLogRow]:
    """Read and check every row of a review-log CSV.

    Raises:
        InvalidInputError: naming the file and line: unreadable file, missing
            columns, missing values, unknown ratings, unparsable times or
            durations, two different ratings for one card at one time.
    """
    name = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames
            if not header:
                raise InvalidInputError(
                    f"{name}: empty file (expected the header {','.join(COLUMNS)})"
                )
            missing = [c for c in REQUIRED if c not in [h.strip() for h in header]]
            if missing:
                raise _fail(
                    name,
                    1,
                    f"missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})",
                )
            reader.fieldnames = [h.strip() for h in header]
            rows = []
            for record in reader:
                if not any((v or "").strip() for k, v in record.items() if k is not None):
                    continue  # blank line
                rows.append(_parse_row(name, reader.line_num, record))
    except OSError as exc:
        raise InvalidInputError(f"{name}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{name}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise InvalidInputError(f"{name}: not a readable CSV file ({exc})") from None
    _check_conflicts(name, rows)
    return rows


def _check_conflicts(name: str, rows: list[ReviewLogRow]) -> None:
    seen: dict[tuple[str, datetime], ReviewLogRow] = {}
    for row in rows:
        other = seen.setdefault((row.card_id, row.time), row)
        if other is not row and other.rating != row.rating:
            raise _fail(
                name,
                row.line,
                f"card {row.card_id} has rating {other.rating} at the same time on line {other.line}",
            )


@dataclass
class _Plan:
    by_card: dict[str, list[ReviewLogRow]]  # new rows per card id, time order, no duplicates
    existing: dict[str, int]  # card id in file -> studylog card id
    lapses: dict[int, int]  # studylog card id -> its lapses before this import
    skipped: int


def _id_list(session: Session, ids: list) -> tuple[str, object]:  # noqa: ANN001
    """(SQL after ``column``, the ``:ids`` parameter) matching any of ``ids`` in one
    parameter: a JSON array through ``json_each`` on SQLite, an array on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return "= ANY(:ids)", list(ids)
    return "IN (SELECT value FROM json_each(:ids))", json.dumps(ids)


def existing_cards(session: Session, external_ids: list[str]) -> dict[str, int]:
    """External id -> studylog card id for the ids already stored (the oldest card wins)."""
    return {ext: cid for ext, (cid, _, _) in _lookup(session, external_ids).items()}


def _lookup(session: Session, external_ids: list[str]) -> dict[str, tuple[int, int, set[int]]]:
    """External id -> (card id, lapses, times of its stored reviews as epoch ms), one query.

    The ids go in as one JSON array (SQLite's ``json_each``), so the lookup is a
    single indexed join whatever the file's size: no chunking, no per-card query.
    If several cards share an external id the oldest wins, as it always did.
    """
    found: dict[str, tuple[int, int, set[int]]] = {}
    if not external_ids:
        return found
    ids_in, ids = _id_list(session, external_ids)
    rows = session.execute(
        text(
            "SELECT c.id, c.external_id, c.lapses, r.reviewed_at_ms FROM cards AS c "
            "LEFT JOIN reviews AS r ON r.card_id = c.id "
            f"WHERE c.external_id {ids_in} ORDER BY c.id"
        ),
        {"ids": ids},
    )
    for cid, ext, lapses, at in rows:
        entry = found.setdefault(ext, (cid, lapses, set()))
        if entry[0] == cid and at is not None:
            entry[2].add(at)
    return found


def stored_times(session: Session, card_ids: list[int]) -> dict[int, set[int]]:
    """Card id -> the times of its stored reviews as epoch ms (how re-imports recognise
    known answers: compare with :func:`studylog.storage.times.to_ms` of the new time)."""
    times: dict[int, set[int]] = defaultdict(set)
    if not card_ids:
        return times
    ids_in, ids = _id_list(session, card_ids)
    for cid, at in session.execute(
        text(f"SELECT card_id, reviewed_at_ms FROM reviews WHERE card_id {ids_in}"),
        {"ids": ids},
    ):
        times[cid].add(at)
    return times


def _plan(session: Session, rows: list[ReviewLogRow]) -> _Plan:
    grouped: dict[str, list[ReviewLogRow]] = defaultdict(list)
    for row in rows:
        grouped[row.card_id].append(row)
    known = _lookup(session, list(grouped))
    by_card: dict[str, list[ReviewLogRow]] = {}
    skipped = 0
    for ext, card_rows in grouped.items():
        have = set(known[ext][2]) if ext in known else set()
        fresh = []
        for row in sorted(card_rows, key=lambda r: (r.time, r.line)):
            at = to_ms(row.time)
            if at in have:
                skipped += 1
                continue
            have.add(at)
            fresh.append(row)
        if fresh:
            by_card[ext] = fresh
    existing = {ext: cid for ext, (cid, _, _) in known.items()}
    lapses = {cid: n for cid, n, _ in known.values()}
    return _Plan(by_card, existing, lapses, skipped)


def _summary(
    name: str,
    rows: list[ReviewLogRow],
    plan: _Plan,
    dry_run: bool,
    deck: str,
    leeches: int | None,
) -> ReviewLogSummary:
    times = [r.time for r in rows]
    return ReviewLogSummary(
        file=name,
        rows=len(rows),
        cards_in_file=len({r.card_id for r in rows}),
        cards_created=sum(1 for ext in plan.by_card if ext not in plan.existing),
        cards_updated=sum(1 for ext in plan.by_card if ext in plan.existing),
        reviews_added=sum(len(v) for v in plan.by_card.values()),
        reviews_skipped=plan.skipped,
        first_review=min(times) if times else None,
        last_review=max(times) if times else None,
        dry_run=dry_run,
        deck=deck,
        leeches=leeches,
    )


def check_deck(deck: str | None) -> str:
    """The deck for cards without text: ``deck`` trimmed, or :data:`DECK`.

    Raises:
        InvalidInputError: an empty name, or one longer than 200 characters.
    """
    if deck is None:
        return DECK
    name = deck.strip()
    if not name:
        raise InvalidInputError("--deck: the deck name is empty")
    if len(name) > 200:
        raise InvalidInputError("--deck: the deck name is longer than 200 characters")
    return name


def import_review_log(
    db: Database,
    path: Path,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    deck: str | None = None,
) -> ReviewLogSummary:
    """Import ``path`` (see the module docstring); with ``dry_run`` only report.

    ``deck`` is where cards without text go (default :data:`DECK`); cards that
    already exist keep their deck and text.

    Raises:
        InvalidInputError: any bad row (naming file and line), a bad deck name;
            nothing is written.
    """
    target = check_deck(deck)
    rows = parse_review_log(path)
    if dry_run:
        with db.read() as session:
            return _summary(path.name, rows, _plan(session, rows), True, target, None)
    with db.write() as session:
        plan = _plan(session, rows)
        leeches = _apply(session, plan, now or utcnow(), target) if plan.by_card else 0
        return _summary(path.name, rows, plan, False, target, leeches)


def _apply(session: Session, plan: _Plan, now: datetime, deck: str) -> int:
    """Create the cards, insert the reviews, rebuild every touched card's state and
    apply the leech rule; return how many cards became leeches."""
    params = config_in(session).params()
    new_ext = [ext for ext in plan.by_card if ext not in plan.existing]
    ids = dict(plan.existing)
    if new_ext:
        created = insert_rows(
            session,
            Card.__table__,
            [
                {
                    "front": "",  # no text: out of the daily queue until it gets some
                    "back": "",
                    "kind": "basic",
                    "deck": deck,
                    "external_id": ext,
                    "origin": "import",
                    "state": CardState.LEARNING,
                    "step": 0,
                    "due": plan.by_card[ext][0].time,
                    "reps": 0,
                    "lapses": 0,
                    "suspended": False,
                    "created_at": plan.by_card[ext][0].time,
                    "updated_at": now,
                }
                for ext in new_ext
            ],
        )
        ids.update(zip(new_ext, created, strict=True))
    # New rows go in with placeholder state; the replay below fills in every
    # touched card's rows (old and new), so merged histories stay consistent.
    insert_rows(
        session,
        Review.__table__,
        [
            {
                "card_id": ids[ext],
                "rating": row.rating,
                "reviewed_at": row.time,
                "duration_ms": row.duration_ms,
                "state_before": CardState.LEARNING,
                "state_after": CardState.LEARNING,
            }
            # In time order across cards (a stable sort keeps each card's order): review ids
            # then follow time, as live answers' do and Anki's revlog ids (times) do, so a
            # time range is a run of neighbouring rows (the statistics read it in id order).
            for ext, row in sorted(
                ((ext, row) for ext, card_rows in plan.by_card.items() for row in card_rows),
                key=lambda pair: pair[1].time,
            )
        ],
        returning=False,
    )
    touched = sorted(ids[ext] for ext in plan.by_card)
    replay_in(session, params, touched)
    return apply_leech_rule(session, {cid: plan.lapses.get(cid, 0) for cid in touched})
