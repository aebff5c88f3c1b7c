"""Import studylog's JSON export (``docs/export-format.md``): restore a backup, or merge one in.

Into an empty database the import reproduces the exported data field for
field, ids included (a table that already has rows gets new ids, and every
reference is mapped). Into a database with data it merges:

- **entries** and **TODOs** already there (same day and text; same day, text
  and creation time) are skipped;
- **concepts** are matched by slug. An existing one is kept, except that the
  user's edits of a pack concept (``user_modified``) are restored onto the
  pack's copy. **Trust:** a concept that brings ``demo_code`` comes in with
  origin ``import``, so that its code runs only after the user approved it
  (``studylog demo approve``): a JSON file may come from anyone. Concepts
  without code keep their origin (a pack concept stays a pack concept and is
  refreshed by the next pack sync);
- **cards** are matched by ``pack_key``, else by kind, front, back, cloze
  number and creation time. A pack card that exists but was never reviewed
  takes the backup's schedule and history (the usual restore after a fresh
  install, where the pack was synced first);
- **reviews** already stored for the card at the same time are skipped. A
  card that had reviews here and gains some from the file has its state
  replayed from the merged history; otherwise the stored states are copied;
- **settings** missing here are set; existing ones are kept;
- **suggested cards** are matched by content; **import records** by kind and key.

The whole file is read and checked first; errors name the file and the
record (``cards[12] (id 40): ...``) or, for broken JSON, the line.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studylog.content.concept_file import ComputedSpec, ExerciseSpec
from studylog.errors import InvalidInputError
from studylog.interchange.export_format import BY_NAME, FORMAT_VERSION, SECTIONS
from studylog.interchange.limits import check_json_depth
from studylog.interchange.names import check_deck, check_slug
from studylog.interchange.summary import ApplyContext, FileSummary
from studylog.services import settings as settings_service
from studylog.services import tags as tag_service
from studylog.services.reschedule import replay_in
from studylog.services.review import config_in
from studylog.storage.bulk_insert import insert_rows
from studylog.storage.import_models import ImportRecord, SuggestedCard
from studylog.storage.models import (
    Card,
    Concept,
    JournalEntry,
    Review,
    Todo,
    card_tags,
)
from studylog.storage.search_index import indexed_after
from studylog.storage.times import to_ms

_CHUNK = 500

# Field types: int, float, str, bool, date, time, list (of str); "?" = may be null.
SPEC: dict[str, dict[str, str]] = {
    section.name: {f.name: f.spec for f in section.fields} for section in SECTIONS
}
REQUIRED_SECTIONS = tuple(s.name for s in SECTIONS if s.required)
CARD_STATE = (
    "state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses",
    "suspended", "buried_until", "created_at", "updated_at",
)  # fmt: skip
# Core tables, not ORM classes: an ORM bulk INSERT leaves out None values so that column
# defaults apply (a card's step None would become 0); a restore must write them as they are.
_T_ENTRY = JournalEntry.__table__
_T_TODO = Todo.__table__
_T_CARD = Card.__table__
_T_REVIEW = Review.__table__
_T_SUGGESTION = SuggestedCard.__table__
_T_RECORD = ImportRecord.__table__
TARGETS = {"note_entry": "entries", "note_todo": "todos", "csv_card": "cards", "anki_card": "cards"}


@dataclass(frozen=True)
class ParsedJson:
    """A checked export: settings and each section's records with Python values."""

    name: str
    settings: dict[str, Any]
    sections: dict[str, list[dict[str, Any]]]


def _foreign_items(row: dict[str, Any]) -> bool:
    """Whether a concept record brings exercises or computed templates that are not the
    installed pack's own for its slug (code that must be approved before it runs)."""
    if not row["exercises"] and not row["computed"]:
        return False
    if row["origin"] != "pack":
        return True
    from studylog.content.concept_file import parse_concept
    from studylog.paths import content_dir

    path = content_dir() / "concepts" / f"{row['slug']}.md"
    if not path.is_file():
        return True
    parsed = parse_concept(path.read_text(encoding="utf-8"), str(path))

    def code(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "line"} for item in items]

    return (code(row["exercises"] or []), code(row["computed"] or [])) != (
        code([e.to_json() for e in parsed.exercises]),
        code([c.to_json() for c in parsed.computed]),
    )


def _convert(kind: str, value: Any) -> Any:
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        if nullable:
            return None
        raise ValueError("must not be null")
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "objects" and isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "list" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "time" and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("has no UTC offset")
        return moment
    raise ValueError(f"expected {kind}")


def _check_record(name: str, section: str, index: int, record: Any) -> dict[str, Any]:
    where = f"{name}: {section}[{index}]"
    if not isinstance(record, dict):
        raise InvalidInputError(f"{where}: not an object")
    if "id" in record:
        where += f" (id {record['id']})"
    elif "slug" in record:
        where += f" ({record['slug']})"
    out = {}
    for field, kind in SPEC[section].items():
        if field not in record:
            if kind.endswith("?"):
                out[field] = None
                continue
            raise InvalidInputError(f"{where}: missing field {field!r}")
        try:
            out[field] = _convert(kind, record[field])
        except ValueError as exc:
            raise InvalidInputError(
                f"{where}: bad value for {field!r} ({record[field]!r}: {exc})"
            ) from None
    # Slugs and deck names become file names on markdown export.
    if section == "concepts":
        check_slug(out["slug"], where)
        for key, spec in (("exercises", ExerciseSpec), ("computed", ComputedSpec)):
            if out.get(key) is not None:
                try:
                    out[key] = [spec.from_json(item).to_json() for item in out[key]]
                except (KeyError, TypeError, ValueError) as exc:
                    raise InvalidInputError(
                        f"{where}: bad value for {key!r} (an item lacks or mistypes {exc})"
                    ) from None
    if out.get("deck") is not None:
        check_deck(out["deck"], where)
    return out


def parse_export(data: Any, name: str) -> ParsedJson:
    """Check a decoded export document.

    Raises:
        InvalidInputError: not a studylog export, a newer format, or a bad
            record (naming the section, index and id).
    """
    if not isinstance(data, dict) or data.get("format") != "studylog-export":
        raise InvalidInputError(f'{name}: not a studylog export (no "format": "studylog-export")')
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InvalidInputError(
            f"{name}: export format version {version!r} is newer than this studylog reads "
            f"({FORMAT_VERSION}); upgrade studylog"
        )
    raw_settings = data.get("settings") or {}
    if not isinstance(raw_settings, dict):
        raise InvalidInputError(f"{name}: settings: not an object")
    try:
        # only what another collection may take (older exports carried undo steps and caches)
        settings = settings_service.portable(raw_settings)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{name}: settings: {exc}") from None
    sections: dict[str, list[dict[str, Any]]] = {}
    for section in SPEC:
        rows = data.get(section)
        if rows is None:
            if section in REQUIRED_SECTIONS:
                raise InvalidInputError(f"{name}: missing section {section!r}")
            rows = []
        if not isinstance(rows, list):
            raise InvalidInputError(f"{name}: {section}: not a list")
        sections[section] = [_check_record(name, section, i, r) for i, r in enumerate(rows)]
    _check_references(name, sections)
    return ParsedJson(name, settings, sections)


def _check_references(name: str, sections: dict[str, list[dict[str, Any]]]) -> None:
    for section in ("entries", "todos", "cards", "reviews", "suggested_cards"):
        seen: set[int] = set()
        for i, row in enumerate(sections[section]):
            if row["id"] in seen:
                raise InvalidInputError(f"{name}: {section}[{i}] (id {row['id']}): duplicate id")
            seen.add(row["id"])
    cards = {c["id"] for c in sections["cards"]}
    for i, row in enumerate(sections["reviews"]):
        if row["card"] not in cards:
            raise InvalidInputError(
                f"{name}: reviews[{i}] (id {row['id']}): card {row['card']} is not in the file"
            )
        if not 1 <= row["rating"] <= 4:
            raise InvalidInputError(
                f"{name}: reviews[{i}] (id {row['id']}): rating {row['rating']} is not 1-4"
            )
    slugs = {c["slug"] for c in sections["concepts"]}
    for i, row in enumerate(sections["cards"]):
        if row["kind"] not in ("basic", "cloze", "exercise", "computed"):
            raise InvalidInputError(
                f"{name}: cards[{i}] (id {row['id']}): unknown kind {row['kind']!r}"
            )
        if row["concept"] is not None and row["concept"] not in slugs:
            raise InvalidInputError(
                f"{name}: cards[{i}] (id {row['id']}): concept {row['concept']!r} is not in the file"
            )


def read_json(path: Path) -> ParsedJson:
    """Read and check an export file; nothing is written.

    Raises:
        InvalidInputError: unreadable, broken JSON (with line and column), or
            see :func:`parse_export`.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInputError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path.name}: not UTF-8 text") from None
    check_json_depth(text, f"{path.name}: the JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{path.name}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    return parse_export(data, path.name)


# --- writing -------------------------------------------------------------------------------


def _empty(session: Session, model: type) -> bool:
    return not session.scalar(select(func.count()).select_from(model))


class _Writer:
    """Applies one parsed export inside the caller's transaction."""

    def __init__(self, session: Session, parsed: ParsedJson, ctx: ApplyContext) -> None:
        self.s = session
        self.p = parsed
        self.ctx = ctx
        self.summary = FileSummary(parsed.name, "json")
        self.ids: dict[str, dict[int, int]] = defaultdict(dict)  # section -> file id -> here
        self.replay: set[int] = set()

    def run(self) -> FileSummary:
        self.settings()
        self.concepts()
        self.entries()
        self.todos()
        self.cards()
        self.reviews()
        self.suggestions()
        self.records()
        if self.replay:
            replay_in(self.s, config_in(self.s).params(), sorted(self.replay))
        return self.summary

    def _progress(self, section: str, done: int) -> None:
        if done % 1000 == 0 or done == len(self.p.sections[section]):
            self.ctx.progress(f"{self.p.name}: {section}", done, len(self.p.sections[section]))

    def settings(self) -> None:
        for key, value in self.p.settings.items():
            if settings_service.get_in(self.s, key) is None:
                settings_service.set_in(self.s, key, value)

    def concepts(self) -> None:
        existing = {c.slug: c for c in self.s.scalars(select(Concept))}
        for row in self.p.sections["concepts"]:
            concept = existing.get(row["slug"])
            if concept is None:
                concept = Concept(slug=row["slug"], content_hash=None)
                self.s.add(concept)
                self._fill_concept(concept, row)
                runs_code = row["demo_code"] or _foreign_items(row)
                concept.origin = "import" if runs_code else row["origin"]
                concept.user_modified = row["user_modified"]
                concept.created_at = row["created_at"]
                self.summary.add("concepts")
            elif (
                row["user_modified"]
                and concept.origin == "pack"
                and not concept.user_modified
                and row["origin"] == "pack"
            ):
                pack_items = (concept.exercises, concept.computed)
                self._fill_concept(concept, row)  # the user's edits of a pack concept
                concept.user_modified = True
                if row["demo_code"] or (
                    (concept.exercises, concept.computed) != pack_items and _foreign_items(row)
                ):
                    concept.origin = "import"  # code that is not the pack's: approve first
                self.summary.add("concepts")
            else:
                self.summary.skip("concepts")
            self.s.flush()  # tags are looked up without autoflush: one concept at a time

    def _fill_concept(self, concept: Concept, row: dict[str, Any]) -> None:
        for field in ("title", "aliases", "body", "sources", "related", "demo", "demo_code"):
            setattr(concept, field, row[field])
        for field in ("exercises", "computed"):
            if row[field] is not None:
                setattr(concept, field, row[field])
        concept.updated_at = row["updated_at"]
        with self.s.no_autoflush:
            concept.tags = tag_service.get_or_create(self.s, row["tags"])

    def entries(self) -> None:
        rows = self.p.sections["entries"]
        keep_ids = _empty(self.s, JournalEntry)
        days = sorted({r["day"] for r in rows})
        have: dict[tuple[date, str], list[int]] = defaultdict(list)
        for i in range(0, len(days), _CHUNK):
            for eid, d, b in self.s.execute(
                select(JournalEntry.id, JournalEntry.day, JournalEntry.body)
                .where(JournalEntry.day.in_(days[i : i + _CHUNK]))
                .order_by(JournalEntry.id)
            ):
                have[(d, b)].append(eid)
        fresh: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            same = have.get((row["day"], row["body"]))
            if same:
                self.ids["entries"][row["id"]] = same.pop(0)
                self.summary.skip("entries")
                continue
            value = BY_NAME["entries"].copied(row)
            if keep_ids:
                value["id"] = row["id"]
            fresh.append((row["id"], value))
        with indexed_after(self.s, "journal_entries"):
            new_ids = insert_rows(self.s, _T_ENTRY, [v for _, v in fresh])
        self.ids["entries"].update(zip((f for f, _ in fresh), new_ids, strict=True))
        self.summary.add("entries", len(fresh))
        self._progress("entries", len(rows))

    def todos(self) -> None:
        rows = self.p.sections["todos"]
        keep_ids = _empty(self.s, Todo)
        have: dict[tuple[date, str, datetime], list[int]] = defaultdict(list)
        for tid, d, t, c in self.s.execute(
            select(Todo.id, Todo.origin_day, Todo.text, Todo.created_at).order_by(Todo.id)
        ):
            have[(d, t, c)].append(tid)
        fresh: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            same = have.get((row["origin_day"], row["text"], row["created_at"]))
            if same:
                self.ids["todos"][row["id"]] = same.pop(0)
                self.summary.skip("todos")
                continue
            value = BY_NAME["todos"].copied(row)
            if keep_ids:
                value["id"] = row["id"]
            fresh.append((row["id"], value))
        with indexed_after(self.s, "todos"):
            new_ids = insert_rows(self.s, _T_TODO, [v for _, v in fresh])
        self.ids["todos"].update(zip((f for f, _ in fresh), new_ids, strict=True))
        self.summary.add("todos", len(fresh))
        self._progress("todos", len(rows))

    def cards(self) -> None:
        rows = self.p.sections["cards"]
        keep_ids = _empty(self.s, Card)
        concepts = dict(self.s.execute(select(Concept.slug, Concept.id)).all())
        by_pack = {
            k: (cid, reviewed)
            for k, cid, reviewed in self.s.execute(
                select(Card.pack_key, Card.id, func.count(Review.id))
                .outerjoin(Review, Review.card_id == Card.id)
                .where(Card.pack_key.is_not(None))
                .group_by(Card.id)
            )
        }
        natural = {
            (kind, front, back, ord_, created): cid
            for cid, kind, front, back, ord_, created in self.s.execute(
                select(Card.id, Card.kind, Card.front, Card.back, Card.cloze_ord, Card.created_at)
            )
        }
        tag_names = {t for r in rows for t in r["tags"]}
        tags = {t.name: t for t in tag_service.get_or_create(self.s, tag_names)}
        self.s.flush()
        self.reviewed_before: set[int] = set()
        fresh: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for row in rows:
            value = self._card(row, keep_ids, concepts, by_pack, natural, tags)
            if value is not None:
                fresh.append((row, value))
        with indexed_after(self.s, "cards"):
            for start in range(0, len(fresh), 5000):
                chunk = fresh[start : start + 5000]
                new_ids = insert_rows(self.s, _T_CARD, [v for _, v in chunk])
                links = []
                for (row, _value), cid in zip(chunk, new_ids, strict=True):
                    self.ids["cards"][row["id"]] = cid
                    links.extend({"card_id": cid, "tag_id": tags[t].id} for t in row["tags"])
                insert_rows(self.s, card_tags, links, returning=False)
                self.ctx.progress(f"{self.p.name}: cards", start + len(chunk), len(fresh))
        self.summary.add("cards", len(fresh))

    def _card(self, row, keep_ids, concepts, by_pack, natural, tags) -> dict[str, Any] | None:  # noqa: ANN001
        """Merge ``row`` into a card that is here (None), or return the values of a new card."""
        pack_key = row["pack_key"]
        if pack_key is not None and pack_key in by_pack:
            cid, reviewed = by_pack[pack_key]
            self.ids["cards"][row["id"]] = cid
            self.summary.skip("cards")
            if reviewed:
                self.reviewed_before.add(cid)
                return None
            # A fresh pack card: the backup's schedule, deck and tags are the user's.
            card = self.s.get(Card, cid)
            for field in CARD_STATE:
                setattr(card, field, row[field])
            card.deck = row["deck"]
            card.tags = [tags[t] for t in row["tags"]]
            return None
        key = (row["kind"], row["front"], row["back"], row["cloze_ord"], row["created_at"])
        if pack_key is None and key in natural:
            cid = natural[key]
            self.ids["cards"][row["id"]] = cid
            self.reviewed_before.add(cid)
            self.summary.skip("cards")
            return None
        value = BY_NAME["cards"].copied(row)
        value["concept_id"] = concepts.get(row["concept"]) if row["concept"] else None
        if keep_ids:
            value["id"] = row["id"]
        return value

    def reviews(self) -> None:
        rows = self.p.sections["reviews"]
        keep_ids = _empty(self.s, Review)
        mapped = self.ids["cards"]
        # times compared as epoch ms: stored times are kept to the millisecond
        stored: dict[int, set[int]] = defaultdict(set)
        targets = sorted(set(mapped.values()))
        for i in range(0, len(targets), _CHUNK):
            for cid, at in self.s.execute(
                select(Review.card_id, Review.reviewed_at_ms).where(
                    Review.card_id.in_(targets[i : i + _CHUNK])
                )
            ):
                stored[cid].add(at)
        values = []
        for row in rows:
            cid = mapped[row["card"]]
            at = to_ms(row["reviewed_at"])
            if at in stored[cid]:
                self.summary.skip("reviews")
                continue
            stored[cid].add(at)
            value = BY_NAME["reviews"].copied(row)
            value["card_id"] = cid
            if keep_ids:
                value["id"] = row["id"]
            values.append(value)
            if cid in self.reviewed_before:
                self.replay.add(cid)  # merged histories: rebuild the state from all answers
        for i in range(0, len(values), 5000):
            insert_rows(self.s, _T_REVIEW, values[i : i + 5000], returning=False)
            self.ctx.progress(f"{self.p.name}: reviews", i + len(values[i : i + 5000]), len(values))
        self.summary.add("reviews", len(values))

    def suggestions(self) -> None:
        keep_ids = _empty(self.s, SuggestedCard)
        have = set(self.s.scalars(select(SuggestedCard.content_hash)))
        values = []
        for row in self.p.sections["suggested_cards"]:
            if row["content_hash"] in have:
                self.summary.skip("suggestions")
                continue
            have.add(row["content_hash"])
            value = BY_NAME["suggested_cards"].copied(row)
            value["entry_id"] = self.ids["entries"].get(row["entry"]) if row["entry"] else None
            value["card_id"] = self.ids["cards"].get(row["card"]) if row["card"] else None
            if keep_ids:
                value["id"] = row["id"]
            values.append(value)
        insert_rows(self.s, _T_SUGGESTION, values, returning=False)
        self.summary.add("suggestions", len(values))

    def records(self) -> None:
        have = {tuple(r) for r in self.s.execute(select(ImportRecord.kind, ImportRecord.key))}
        values = []
        for row in self.p.sections["import_records"]:
            if (row["kind"], row["key"]) in have:
                continue
            have.add((row["kind"], row["key"]))
            value = dict(row)
            section = TARGETS.get(row["kind"])
            if section and row["target_id"] is not None:
                value["target_id"] = self.ids[section].get(row["target_id"], row["target_id"])
            values.append(value)
        insert_rows(self.s, _T_RECORD, values, returning=False)


def apply_json(session: Session, parsed: ParsedJson, ctx: ApplyContext) -> FileSummary:
    """Write an export into the database in the caller's transaction (see the module docstring)."""
    return _Writer(session, parsed, ctx).run()
