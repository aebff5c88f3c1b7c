"""Bulk actions on the cards of a search or a selection, each one transaction and undoable.

Suspend, unsuspend, bury, move to a deck, add or remove tags, forget (back to
new), set the due date and delete, as Anki's browser (manual, "Browsing":
Cards and Notes menus). Each action reads the rows it will change, writes them
with set-based statements (SQLAlchemy Core ``executemany``: 10,000 cards in
well under a second) and records, in the same transaction, an undo step:

* the **before-images** of the card columns it changed (only the rows that
  really change: suspending a suspended card changes nothing);
* the **keys of the rows it inserted** (tag links);
* **whole rows it deleted** (tag links);
* for a delete of cards, the id of their **grave**: the cards and their tag
  links moved set-based into the graveyard tables (migration 0010,
  :mod:`studylog.storage.graves`), not copied into the step; the suggestions
  that pointed at them are before-images. Their reviews stay in ``reviews``
  (revision 0011, as Anki keeps the revlog of deleted notes): undo brings the
  cards back and they find their history by id.

**How long deleted rows are kept:** exactly as long as their undo step. A grave
goes when its step is undone (the rows move back) or pushed off the stack by
newer steps (at most :data:`UNDO_LIMIT`; :func:`_push` purges it in the same
transaction), so no start-up or ``check`` work is needed and nothing is kept
that could no longer be undone. The reviews of deleted cards are kept for good,
as Anki keeps its revlog; statistics, the optimizer and the day's counts read
only the reviews of cards that exist (they join ``cards``).

The undo steps are kept in the collection (the ``settings`` table, key
:data:`UNDO_KEY`, newest last, at most :data:`UNDO_LIMIT`), so an action of the
CLI can be undone by the app and the other way round (``studylog card undo``,
``u`` in the browser). The step's shape follows the undo model of Anki's
rslib (a label plus before-images of rows), which is also the shape of
``studylog.scheduling.undo.UndoOp``; this module's store is the browser's
until that model has a persistent store of its own.

Forget follows Anki's "Reset" (Forget): the card becomes new, due now, its
review history is kept; ``reset_counts`` also zeroes reps and lapses (Anki's
"Reset repetition and lapse counts", off by default).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError, NotFoundError
from studylog.services import browse
from studylog.services import settings as settings_service
from studylog.services import tags as tag_service
from studylog.storage import graves
from studylog.storage.engine import Database
from studylog.storage.import_models import SuggestedCard
from studylog.storage.models import Card, Review, card_tags
from studylog.storage.times import with_ms
from studylog.studyday import ensure_utc, utcnow

UNDO_KEY = "undo.card_actions"
UNDO_LIMIT = 5  # steps kept (with their graveyard rows: the deleted cards and tag links)
_CHUNK = 500  # ids per IN (...) list: far below every database's limit on bound values
_CARDS = Card.__table__
_REVIEWS = Review.__table__
_SUGGESTED = SuggestedCard.__table__
LEARNING = 1


@dataclass(frozen=True)
class RowImage:
    """Some columns of one row: ``table``, primary ``key`` and ``values`` (column -> value)."""

    table: str
    key: tuple[Any, ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class UndoStep:
    """One bulk action as it can be undone (see the module docstring)."""

    label: str
    kind: str
    before: tuple[RowImage, ...] = ()
    inserted: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    deleted: tuple[RowImage, ...] = ()
    # A delete's rows are in the graveyard tables under this id (storage/graves.py),
    # not in the step: ``grave_cards`` cards with their reviews and tag links.
    grave: int | None = None
    grave_cards: int = 0

    @property
    def changed_cards(self) -> int:
        """How many cards the step changed, deleted or buried in the graveyard."""
        return (
            len({i.key[0] for i in self.before if i.table == "cards"})
            + len({i.key[0] for i in self.deleted if i.table == "cards"})
            + self.grave_cards
        )


@dataclass(frozen=True)
class ActionResult:
    """What a bulk action did: ``matched`` cards were targeted, ``changed`` of them changed.

    ``label`` is what ``undo`` would undo ("Suspend 120 cards").
    """

    label: str
    kind: str
    matched: int
    changed: int


# --- targets -------------------------------------------------------------------------


def _targets(
    session: Session, query: str | None, ids: Sequence[int] | None, now: datetime
) -> list[int]:
    """The card ids a bulk action works on: those of ``query``, or ``ids`` that exist."""
    if (query is None) == (ids is None):
        raise InvalidInputError("give a search or card ids (not both)")
    if query is not None:
        return browse.matching_ids_in(session, query, browse.context_in(session, now))
    wanted = sorted({int(i) for i in ids or ()})
    found: list[int] = []
    for chunk in _chunks(wanted):
        found.extend(session.scalars(select(Card.id).where(Card.id.in_(chunk))))
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise NotFoundError(f"no card with id {missing[0]}")
    return sorted(found)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _rows(session: Session, table: Any, column: Any, ids: Sequence[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        out.extend(
            dict(r._mapping) for r in session.execute(select(table).where(column.in_(chunk)))
        )
    return out


# --- the undo store ------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": ensure_utc(value).isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
    return value


def _image_json(image: RowImage) -> list[Any]:
    return [image.table, list(image.key), {k: _encode(v) for k, v in image.values.items()}]


def _image_from(data: list[Any]) -> RowImage:
    table, key, values = data
    return RowImage(table, tuple(key), {k: _decode(v) for k, v in values.items()})


def _step_json(step: UndoStep) -> dict[str, Any]:
    return {
        "label": step.label,
        "kind": step.kind,
        "before": [_image_json(i) for i in step.before],
        "inserted": [[t, list(k)] for t, k in step.inserted],
        "deleted": [_image_json(i) for i in step.deleted],
        "grave": step.grave,
        "grave_cards": step.grave_cards,
    }


def _step_from(data: dict[str, Any]) -> UndoStep:
    return UndoStep(
        label=data["label"],
        kind=data["kind"],
        before=tuple(_image_from(i) for i in data["before"]),
        inserted=tuple((t, tuple(k)) for t, k in data["inserted"]),
        deleted=tuple(_image_from(i) for i in data["deleted"]),
        grave=data.get("grave"),
        grave_cards=data.get("grave_cards", 0),
    )


def _push(session: Session, step: UndoStep) -> None:
    stack = list(settings_service.get_in(session, UNDO_KEY) or [])
    stack.append(_step_json(step))
    dropped = stack[:-UNDO_LIMIT]
    settings_service.set_in(session, UNDO_KEY, stack[-UNDO_LIMIT:])
    if any(s.get("grave") is not None for s in dropped):
        # A delete's graveyard rows live as long as its undo step (revision 0010).
        graves.purge_all_but(session, [s["grave"] for s in stack[-UNDO_LIMIT:] if s.get("grave")])


def last_undo(db: Database) -> str | None:
    """The label of the bulk action ``undo`` would undo, or None."""
    with db.read() as session:
        stack = settings_service.get_in(session, UNDO_KEY) or []
        return stack[-1]["label"] if stack else None


def undo(db: Database) -> str:
    """Undo the newest bulk action (one transaction) and return its label.

    Raises:
        NotFoundError: nothing to undo.
    """
    with db.write() as session:
        stack = list(settings_service.get_in(session, UNDO_KEY) or [])
        if not stack:
            raise NotFoundError("no card action to undo")
        step = _step_from(stack.pop())
        before = settings_service.deck_settings_in(session) if step.kind == "preset" else None
        _apply_undo(session, step)
        if before is not None:  # the restored presets may schedule some decks differently
            session.flush()
            after = settings_service.deck_settings_in(session)
            settings_service.reschedule_changed_in(session, before, after)
        settings_service.set_in(session, UNDO_KEY, stack)
        return step.label


_TABLES = {
    "cards": _CARDS,
    "reviews": _REVIEWS,
    "card_tags": card_tags,
    "suggested_cards": _SUGGESTED,
}


def _apply_undo(session: Session, step: UndoStep) -> None:
    if step.grave is not None:  # cards first: the suggestions' before-images point at them
        graves.restore(session, step.grave)
    # Deleted rows come back parents first (cards, then reviews and links).
    for name in ("cards", "reviews", "card_tags"):
        rows = [dict(i.values) for i in step.deleted if i.table == name]
        if rows:
            session.execute(insert(_TABLES[name]), rows)
    links = [k for t, k in step.inserted if t == "card_tags"]
    if links:
        session.execute(
            delete(card_tags).where(
                card_tags.c.card_id == bindparam("b_card"), card_tags.c.tag_id == bindparam("b_tag")
            ),
            [{"b_card": c, "b_tag": t} for c, t in links],
        )
    by_columns: dict[tuple[str, tuple[str, ...]], list[RowImage]] = {}
    for image in step.before:
        if image.table == "settings":  # a settings row as it was (None: there was none)
            _restore_setting(session, image.key[0], image.values["value"])
            continue
        by_columns.setdefault((image.table, tuple(sorted(image.values))), []).append(image)
    for (name, columns), images in by_columns.items():
        table = _TABLES[name]
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns}),
            [{"b_id": i.key[0], **{f"b_{c}": i.values[c] for c in columns}} for i in images],
        )


def push_settings_step(session: Session, label: str, kind: str, images: Sequence[RowImage]) -> None:
    """Record an undo step that puts ``settings`` rows back (``images``: from
    :func:`setting_image`, taken before the change), inside the caller's transaction.
    Undoing a step of kind ``preset`` also reschedules the cards whose deck settings
    the restored rows change (:mod:`studylog.services.presets`)."""
    _push(session, UndoStep(label, kind, tuple(images)))


def setting_image(session: Session, key: str) -> RowImage:
    """The ``settings`` row ``key`` as it is now, for an undo step's before-images
    (a deck rename or delete changes the deck presets with the cards)."""
    return RowImage("settings", (key,), {"value": settings_service.get_in(session, key)})


def _restore_setting(session: Session, key: str, value: Any) -> None:
    if value is not None:
        settings_service.set_in(session, key, value)
    else:
        settings_service.delete_in(session, key)


# --- the actions ---------------------------------------------------------------------


def _plural(n: int) -> str:
    return f"{n} card{'s' if n != 1 else ''}"


def _set_columns(
    session: Session,
    ids: Sequence[int],
    new_values: dict[str, Any] | None,
    *,
    per_card: Any = None,
    now: datetime,
) -> tuple[RowImage, ...]:
    """Set columns of the cards ``ids`` (the same values, or ``per_card(row) -> values``).

    Only cards whose values change are written; their ``updated_at`` becomes
    ``now``. Returns the before-images. Time columns get their integer twins.
    """
    if new_values is not None:
        return _set_same(session, ids, with_ms("cards", new_values), now)
    rows = _rows(session, _CARDS, _CARDS.c.id, ids)
    before: list[RowImage] = []
    params: list[dict[str, Any]] = []
    columns: tuple[str, ...] | None = None
    for row in rows:
        target = with_ms("cards", per_card(row))
        if all(_same(row[c], v) for c, v in target.items()):
            continue
        target["updated_at"] = now
        columns = columns or tuple(sorted(target))
        before.append(RowImage("cards", (row["id"],), {c: row[c] for c in columns}))
        params.append({"b_id": row["id"], **{f"b_{c}": target[c] for c in columns}})
    if params and columns:
        session.execute(
            update(_CARDS)
            .where(_CARDS.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns}),
            params,
        )
    return tuple(before)


def _set_same(
    session: Session, ids: Sequence[int], target: dict[str, Any], now: datetime
) -> tuple[RowImage, ...]:
    """:func:`_set_columns` with the same values for every card: reads only the columns
    it sets, and writes one ``UPDATE ... WHERE id IN (...)`` per chunk of changed cards
    (on 10,000 cards a third of the time of a row-by-row update and whole-row reads)."""
    columns = tuple(sorted({*target, "updated_at"}))
    before: list[RowImage] = []
    for chunk in _chunks(ids):
        query = select(_CARDS.c.id, *(_CARDS.c[c] for c in columns)).where(_CARDS.c.id.in_(chunk))
        for row in session.execute(query).mappings():
            if not all(_same(row[c], v) for c, v in target.items()):
                before.append(RowImage("cards", (row["id"],), {c: row[c] for c in columns}))
    changed = [image.key[0] for image in before]
    for chunk in _chunks(changed):
        session.execute(
            update(_CARDS).where(_CARDS.c.id.in_(chunk)).values({**target, "updated_at": now})
        )
    return tuple(before)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return ensure_utc(old) == ensure_utc(new)
    return old == new


def _run(
    db: Database,
    query: str | None,
    ids: Sequence[int] | None,
    now: datetime | None,
    kind: str,
    verb: str,
    body: Any,
) -> ActionResult:
    moment = ensure_utc(now) if now is not None else utcnow()
    with db.write() as session:
        targets = _targets(session, query, ids, moment)
        step = body(session, targets, moment)
        changed = step.changed_cards
        if kind in ("tag", "untag"):
            changed = len({k[0] for _t, k in step.inserted}) + len(
                {i.key[0] for i in step.deleted if i.table == "card_tags"}
            )
        label = f"{verb} {_plural(changed)}"
        if changed:
            _push(session, _labelled(step, label, kind))
        return ActionResult(label, kind, len(targets), changed)


def _labelled(step: UndoStep, label: str, kind: str) -> UndoStep:
    return UndoStep(
        label, kind, step.before, step.inserted, step.deleted, step.grave, step.grave_cards
    )


def suspend(
    db: Database,
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Suspend the cards (out of every queue until unsuspended; the schedule is kept).

    Raises:
        SearchSyntaxError: a malformed search. NotFoundError: an unknown id.
    """
    return _run(
        db,
        query,
        ids,
        now,
        "suspend",
        "Suspend",
        lambda s, t, m: UndoStep("", "", _set_columns(s, t, {"suspended": True}, now=m)),
    )


def unsuspend(
    db: Database,
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Unsuspend the cards (they come back with the schedule they had)."""
    return _run(
        db,
        query,
        ids,
        now,
        "unsuspend",
        "Unsuspend",
        lambda s, t, m: UndoStep("", "", _set_columns(s, t, {"suspended": False}, now=m)),
    )


def bury(
    db: Database,
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Bury the cards until the next study day (Anki's "Bury")."""

    def body(session: Session, targets: list[int], moment: datetime) -> UndoStep:
        tomorrow = browse.context_in(session, moment).today + timedelta(days=1)
        return UndoStep(
            "", "", _set_columns(session, targets, {"buried_until": tomorrow}, now=moment)
        )

    return _run(db, query, ids, now, "bury", "Bury", body)


def move(
    db: Database,
    deck: str,
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Move the cards to ``deck`` (``::`` for subdecks). Raises InvalidInputError for an empty name."""
    name = deck.strip()
    if not name or any(not part.strip() for part in name.split("::")):
        raise InvalidInputError(f"not a deck name: {deck!r} (e.g. 딥러닝::RNN)")
    return _run(
        db,
        query,
        ids,
        now,
        "move",
        f"Move to {name}:",
        lambda s, t, m: UndoStep("", "", _set_columns(s, t, {"deck": name}, now=m)),
    )


def forget(
    db: Database,
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    reset_counts: bool = False,
    now: datetime | None = None,
) -> ActionResult:
    """Make the cards new again, due now (Anki's Forget); their review history is kept.

    Cards never reviewed keep their due time. Set-based: the reviewed and the
    never-reviewed cards each get the same values, so each group is one
    ``UPDATE ... WHERE id IN (...)`` per chunk (:func:`_set_same`).
    """

    def body(session: Session, targets: list[int], moment: datetime) -> UndoStep:
        values: dict[str, Any] = {
            "state": LEARNING,
            "step": 0,
            "stability": None,
            "difficulty": None,
            "last_review": None,
        }
        if reset_counts:
            values.update(reps=0, lapses=0)
        reviewed = _reviewed(session, targets)
        fresh = [i for i in targets if i not in reviewed]
        before = (
            *_set_columns(session, fresh, values, now=moment),
            *_set_columns(session, sorted(reviewed), {**values, "due": moment}, now=moment),
        )
        return UndoStep("", "", before)

    return _run(db, query, ids, now, "forget", "Forget", body)


def _reviewed(session: Session, ids: Sequence[int]) -> set[int]:
    """The cards of ``ids`` that have been reviewed (``last_review`` set)."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(
            session.scalars(
                select(_CARDS.c.id).where(_CARDS.c.id.in_(chunk), _CARDS.c.last_review.is_not(None))
            )
        )
    return found


_MAX_DUE_GROUPS = 64  # distinct due days written set-based; a wider spread goes card by card


def set_due(
    db: Database,
    days: str,
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Set the due date of reviewed cards to ``days`` study days from today (Anki's Set Due Date).

    ``days`` is ``N`` or a range ``N-M`` (each card gets a day in it, spread as
    Anki does by drawing; the draw is seeded by the card id, so it repeats).
    The card is due at the start of that study day. New cards are left alone
    (they have no memory state for FSRS to schedule from).

    Raises:
        InvalidInputError: ``days`` is not ``N`` or ``N-M`` with 0 <= N <= M <= 36500.
    """
    low, high = _day_range(days)

    def offset_of(card_id: int) -> int:
        return low if low == high else random.Random(card_id).randint(low, high)

    def body(session: Session, targets: list[int], moment: datetime) -> UndoStep:
        calendar = browse.calendar_in(session)
        today = calendar.day_of(moment)

        def due_of(offset: int) -> datetime:
            return calendar.start_of(today + timedelta(days=offset))

        reviewed = sorted(_reviewed(session, targets))
        if high - low + 1 > _MAX_DUE_GROUPS:

            def values(row: dict[str, Any]) -> dict[str, Any]:
                return {"due": due_of(offset_of(row["id"]))}

            return UndoStep(
                "", "", _set_columns(session, reviewed, None, per_card=values, now=moment)
            )
        groups: dict[int, list[int]] = {}
        for card_id in reviewed:
            groups.setdefault(offset_of(card_id), []).append(card_id)
        before: list[RowImage] = []
        for offset, group in sorted(groups.items()):
            before.extend(_set_columns(session, group, {"due": due_of(offset)}, now=moment))
        return UndoStep("", "", tuple(before))

    return _run(db, query, ids, now, "set-due", "Set due date of", body)


def _day_range(days: str) -> tuple[int, int]:
    text = days.strip()
    low_text, dash, high_text = text.partition("-")
    try:
        low = int(low_text)
        high = int(high_text) if dash else low
    except ValueError:
        raise InvalidInputError(
            f"due days must be N or N-M (e.g. 0, 3 or 1-7), not {days!r}"
        ) from None
    if not 0 <= low <= high <= 36500:
        raise InvalidInputError(f"due days must be 0-36500 with N <= M, not {days!r}")
    return low, high


def add_tags(
    db: Database,
    names: Iterable[str],
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Add tags to the cards (missing tags are created). Raises InvalidInputError for a bad tag."""
    wanted = tag_service.normalise(names)
    if not wanted:
        raise InvalidInputError("give at least one tag")

    def body(session: Session, targets: list[int], moment: datetime) -> UndoStep:
        tag_ids = [t.id for t in _tags(session, wanted, create=True)]
        have = {
            (r["card_id"], r["tag_id"])
            for r in _rows(session, card_tags, card_tags.c.card_id, targets)
        }
        new = [(c, t) for c in targets for t in tag_ids if (c, t) not in have]
        if new:
            session.execute(insert(card_tags), [{"card_id": c, "tag_id": t} for c, t in new])
        return UndoStep("", "", inserted=tuple(("card_tags", k) for k in new))

    return _run(db, query, ids, now, "tag", f"Add {' '.join(wanted)} to", body)


def remove_tags(
    db: Database,
    names: Iterable[str],
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Remove tags from the cards (the tags themselves stay)."""
    wanted = tag_service.normalise(names)
    if not wanted:
        raise InvalidInputError("give at least one tag")

    def body(session: Session, targets: list[int], moment: datetime) -> UndoStep:
        tag_ids = {t.id for t in _tags(session, wanted, create=False)}
        links = [
            r
            for r in _rows(session, card_tags, card_tags.c.card_id, targets)
            if r["tag_id"] in tag_ids
        ]
        if links:
            session.execute(
                delete(card_tags).where(
                    card_tags.c.card_id == bindparam("b_card"),
                    card_tags.c.tag_id == bindparam("b_tag"),
                ),
                [{"b_card": r["card_id"], "b_tag": r["tag_id"]} for r in links],
            )
        return UndoStep(
            "",
            "",
            deleted=tuple(RowImage("card_tags", (r["card_id"], r["tag_id"]), r) for r in links),
        )

    return _run(db, query, ids, now, "untag", f"Remove {' '.join(wanted)} from", body)


def _tags(session: Session, names: list[str], *, create: bool) -> list[Any]:
    if create:
        tags = tag_service.get_or_create(session, names)
        session.flush()
        return tags
    from studylog.storage.models import Tag

    return list(session.scalars(select(Tag).where(Tag.name.in_(names))))


def delete_rows(session: Session, targets: Sequence[int]) -> UndoStep:
    """Delete the cards ``targets`` with their tag links inside the caller's
    transaction; suggestions that pointed at them are unlinked. Returns the undo step.

    The rows move into the graveyard tables set-based (:func:`studylog.storage.graves.bury`:
    one ``INSERT ... SELECT`` and one ``DELETE`` per table); the step holds only the grave
    id and the suggestions' links, which undo restores. The graveyard rows are kept as
    long as the step is on the undo stack (the newest :data:`UNDO_LIMIT` steps). The
    cards' reviews stay where they are (revision 0011) and count nowhere while their
    card is gone.
    """
    suggested = _rows(session, _SUGGESTED, _SUGGESTED.c.card_id, targets)
    for chunk in _chunks([r["id"] for r in suggested]):
        session.execute(update(_SUGGESTED).where(_SUGGESTED.c.id.in_(chunk)).values(card_id=None))
    grave, moved = graves.bury(session, targets)
    return UndoStep(
        "",
        "",
        before=tuple(
            RowImage("suggested_cards", (r["id"],), {"card_id": r["card_id"]}) for r in suggested
        ),
        grave=grave if moved else None,
        grave_cards=moved,
    )


def delete_cards(
    db: Database,
    *,
    query: str | None = None,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Delete the cards and their tag links (undo brings them back). Their review
    history stays in the log, out of every statistic, as Anki's revlog does."""
    return _run(db, query, ids, now, "delete", "Delete", lambda s, t, _m: delete_rows(s, t))


def set_columns(
    session: Session,
    ids: Sequence[int],
    new_values: dict[str, Any] | None = None,
    *,
    per_card: Any = None,
    now: datetime,
) -> tuple[RowImage, ...]:
    """Set columns of the cards ``ids`` inside the caller's transaction: the same
    ``new_values`` for all, or ``per_card(row) -> values``. Only cards that change are
    written (``updated_at`` becomes ``now``); returns their before-images for an undo step."""
    return _set_columns(session, ids, new_values, per_card=per_card, now=now)


def run_in_transaction(
    db: Database,
    kind: str,
    label: Any,
    body: Any,
) -> ActionResult:
    """Run a card action that picks its own cards, in one transaction, with an undo step.

    ``body(session)`` returns ``(source, target, card ids, UndoStep)``; ``label(source,
    target, changed)`` names the action ("Rename deck A to B (3 cards)"). Nothing is
    recorded when nothing changed. Errors ``body`` raises roll everything back.
    """
    with db.write() as session:
        source, target, targets, step = body(session)
        changed = step.changed_cards
        text = label(source, target, changed)
        if changed:
            _push(session, _labelled(step, text, kind))
        return ActionResult(text, kind, len(targets), changed)


__all__ = [
    "UNDO_KEY",
    "ActionResult",
    "add_tags",
    "bury",
    "delete_cards",
    "delete_rows",
    "forget",
    "last_undo",
    "move",
    "push_settings_step",
    "remove_tags",
    "run_in_transaction",
    "set_columns",
    "set_due",
    "setting_image",
    "suspend",
    "undo",
    "unsuspend",
]
