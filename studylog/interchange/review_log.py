"""Import a review log in the ``fsrs`` package's CSV format and rebuild each card's FSRS state.

Format (py-fsrs, ``ReviewLog`` as CSV)::

    card_id,review_rating,review_time,review_duration
    1711684180217,1,2024-03-29T20:32:32.250000+00:00,25060

``review_rating`` is 1-4 (Again, Hard, Good, Easy), ``review_time`` ISO 8601
with a UTC offset, ``review_duration`` milliseconds (may be empty).

Each ``card_id`` becomes one card (its ``external_id``); the card's state is
rebuilt from its whole history with the collection's scheduler, the same
result as ``fsrs.Scheduler.reschedule_card`` (computed for all cards at once by
:func:`studylog.scheduling.batch.replay`). Every review becomes a ``reviews``
row with the state before and after, as if it had been answered in studylog.

The whole file is read and checked before anything is written, and the import
is one transaction. Importing the same file again adds nothing: a review
already stored for the card at the same time is skipped. A later export with
more reviews adds only the new ones and rebuilds those cards' state from the
merged history. The leech rule is not applied to imported history.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError
from studylog.scheduling.states import CardState
from studylog.services.reschedule import replay_in
from studylog.services.review import config_in
from studylog.storage.engine import Database
from studylog.storage.models import Card, Review
from studylog.studyday import utcnow

COLUMNS = ("card_id", "review_rating", "review_time", "review_duration")
REQUIRED = COLUMNS[:3]
DECK = "Review log"
BACK = "(no text: this card came from a review log; edit it to add the question and answer)"
_CHUNK = 500  # ids per IN (...) query, well under SQLite's parameter limit


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
    skipped: int


def existing_cards(session: Session, external_ids: list[str]) -> dict[str, int]:
    """External id -> studylog card id for the ids already stored (looked up in chunks)."""
    found: dict[str, int] = {}
    for i in range(0, len(external_ids), _CHUNK):
        chunk = external_ids[i : i + _CHUNK]
        for cid, ext in session.execute(
            select(Card.id, Card.external_id).where(Card.external_id.in_(chunk)).order_by(Card.id)
        ):
            found.setdefault(ext, cid)  # the oldest card wins if several share the id
    return found


def stored_times(session: Session, card_ids: list[int]) -> dict[int, set[datetime]]:
    """Card id -> the times of its stored reviews (how re-imports recognise known answers)."""
    times: dict[int, set[datetime]] = defaultdict(set)
    for i in range(0, len(card_ids), _CHUNK):
        chunk = card_ids[i : i + _CHUNK]
        for cid, at in session.execute(
            select(Review.card_id, Review.reviewed_at).where(Review.card_id.in_(chunk))
        ):
            times[cid].add(at)
    return times


def _plan(session: Session, rows: list[ReviewLogRow]) -> _Plan:
    grouped: dict[str, list[ReviewLogRow]] = defaultdict(list)
    for row in rows:
        grouped[row.card_id].append(row)
    existing = existing_cards(session, list(grouped))
    stored = stored_times(session, list(existing.values()))
    by_card: dict[str, list[ReviewLogRow]] = {}
    skipped = 0
    for ext, card_rows in grouped.items():
        have = set(stored.get(existing[ext], ())) if ext in existing else set()
        fresh = []
        for row in sorted(card_rows, key=lambda r: (r.time, r.line)):
            if row.time in have:
                skipped += 1
                continue
            have.add(row.time)
            fresh.append(row)
        if fresh:
            by_card[ext] = fresh
    return _Plan(by_card, existing, skipped)


def _summary(name: str, rows: list[ReviewLogRow], plan: _Plan, dry_run: bool) -> ReviewLogSummary:
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
    )


def import_review_log(
    db: Database, path: Path, *, dry_run: bool = False, now: datetime | None = None
) -> ReviewLogSummary:
    """Import ``path`` (see the module docstring); with ``dry_run`` only report.

    Raises:
        InvalidInputError: any bad row (naming file and line); nothing is written.
    """
    rows = parse_review_log(path)
    if dry_run:
        with db.read() as session:
            return _summary(path.name, rows, _plan(session, rows), True)
    with db.write() as session:
        plan = _plan(session, rows)
        if plan.by_card:
            _apply(session, plan, now or utcnow())
        return _summary(path.name, rows, plan, False)


def _apply(session: Session, plan: _Plan, now: datetime) -> None:
    """Create the cards, insert the reviews and rebuild every touched card's state."""
    params = config_in(session).params()
    new_ext = [ext for ext in plan.by_card if ext not in plan.existing]
    ids = dict(plan.existing)
    if new_ext:
        created = session.execute(
            insert(Card).returning(Card.id, Card.external_id, sort_by_parameter_order=True),
            [
                {
                    "front": f"Review-log card {ext}",
                    "back": BACK,
                    "kind": "basic",
                    "deck": DECK,
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
        ).all()
        ids.update({ext: cid for cid, ext in created})
    # New rows go in with placeholder state; the replay below fills in every
    # touched card's rows (old and new), so merged histories stay consistent.
    session.execute(
        insert(Review),
        [
            {
                "card_id": ids[ext],
                "rating": row.rating,
                "reviewed_at": row.time,
                "duration_ms": row.duration_ms,
                "state_before": CardState.LEARNING,
                "state_after": CardState.LEARNING,
            }
            for ext, card_rows in plan.by_card.items()
            for row in card_rows
        ],
    )
    replay_in(session, params, sorted(ids[ext] for ext in plan.by_card))
