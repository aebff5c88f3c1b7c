"""Cards from CSV: a header row naming ``front``, ``back`` and optionally ``tags`` and ``deck``.

::

    front,back,tags
    어텐션 가중치의 합은?,항상 1 (softmax),밑바닥2 attention
    "{{c1::Q}}와 {{c2::K}}의 내적",,attention

Tags are separated by spaces (as in Anki), commas or semicolons. A front with
cloze deletions ``{{c1::...}}`` makes a cloze card per deletion (the back is
then optional extra text). The delimiter may be a comma, semicolon or tab.
Files are UTF-8, or CP949 as Korean Excel saves them. Every row is checked
before anything is written (errors name the file and line); a row imported
before (same kind, front and back) is skipped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from studylog.content.cloze import cloze_ords
from studylog.errors import InvalidInputError
from studylog.interchange import records
from studylog.interchange.names import check_deck
from studylog.interchange.summary import ApplyContext, FileSummary
from studylog.interchange.textio import read_text
from studylog.services import cards as card_service
from studylog.services import tags as tag_service
from studylog.storage.bulk_insert import insert_rows, is_postgres, raw_connection
from studylog.storage.models import Card, card_tags
from studylog.storage.search_index import indexed_after

KIND = "csv_card"
BATCH = 5000  # rows per batch of inserts (and per progress report)
ALIASES = {
    "front": "front", "question": "front", "앞면": "front", "질문": "front",
    "back": "back", "answer": "back", "뒷면": "back", "답": "back",
    "tags": "tags", "tag": "tags", "태그": "tags",
    "deck": "deck", "덱": "deck",
}  # fmt: skip


@dataclass(frozen=True)
class CsvCard:
    """One checked row: its line, kind, text, tags and deck."""

    line: int
    kind: str
    front: str
    back: str
    tags: tuple[str, ...]
    deck: str


@dataclass(frozen=True)
class ParsedCsv:
    name: str
    rows: list[CsvCard]
    encoding: str


def _fail(name: str, line: int, message: str) -> InvalidInputError:
    return InvalidInputError(f"{name}:{line}: {message}")


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def read_cards_csv(path: Path) -> ParsedCsv:
    """Read and check every row of a card CSV.

    Raises:
        InvalidInputError: naming the file and line: no header with front and
            back, a missing front or back, a bad tag, a malformed CSV row.
    """
    name = path.name
    text, encoding = read_text(path)
    if not text.strip():
        raise InvalidInputError(f"{name}: empty file (expected the header front,back,tags)")
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    rows: list[CsvCard] = []
    # Rows share their tags and decks: check each distinct text once (the first
    # row with a bad one is the line named).
    seen_tags: dict[str, tuple[str, ...]] = {}
    seen_decks: dict[str, str] = {}
    try:
        header = next(reader)
        columns = [ALIASES.get(h.strip().lower()) for h in header]
        if "front" not in columns or "back" not in columns:
            raise _fail(name, 1, "the first row must name the columns front,back[,tags][,deck]")
        width = len(columns)
        named = [c for c in columns if c]
        if len(named) == len(set(named)):  # each column once: take the fields by position
            at = {c: columns.index(c) for c in ("front", "back", "tags", "deck") if c in columns}
            front_at, back_at = at["front"], at["back"]
            tags_at, deck_at = at.get("tags", width), at.get("deck", width)
            for record in reader:
                if not "".join(record).strip():
                    continue
                n = len(record)
                if n > width:
                    raise _fail(
                        name, reader.line_num, f"too many fields ({width} columns in the header)"
                    )
                rows.append(
                    _row(
                        name,
                        reader.line_num,
                        record[front_at] if front_at < n else "",
                        record[back_at] if back_at < n else "",
                        record[tags_at] if tags_at < n else "",
                        record[deck_at] if deck_at < n else "",
                        seen_tags,
                        seen_decks,
                    )
                )
        else:  # a column named twice (front and question): the last field given wins
            for record in reader:
                if not "".join(record).strip():
                    continue
                if len(record) > width:
                    raise _fail(
                        name, reader.line_num, f"too many fields ({width} columns in the header)"
                    )
                values = {c: v for c, v in zip(columns, record, strict=False) if c}
                rows.append(
                    _row(
                        name,
                        reader.line_num,
                        values.get("front", ""),
                        values.get("back", ""),
                        values.get("tags", ""),
                        values.get("deck", ""),
                        seen_tags,
                        seen_decks,
                    )
                )
    except csv.Error as exc:
        raise _fail(name, reader.line_num, f"not a readable CSV row ({exc})") from None
    return ParsedCsv(name, rows, encoding)


def _row(
    name: str,
    line: int,
    front: str,
    back: str,
    raw_tags: str,
    raw_deck: str,
    seen_tags: dict[str, tuple[str, ...]],
    seen_decks: dict[str, str],
) -> CsvCard:
    front = front.strip()
    back = back.strip()
    if not front:
        raise _fail(name, line, "missing front")
    kind = "cloze" if "{{c" in front and cloze_ords(front) else "basic"
    if kind == "basic" and not back:
        raise _fail(name, line, "missing back (only a cloze front {{c1::...}} may go without)")
    tags = seen_tags.get(raw_tags)
    if tags is None:
        try:
            tags = tuple(tag_service.normalise(re.split(r"[\s,;]+", raw_tags)))
        except InvalidInputError as exc:
            raise _fail(name, line, str(exc)) from None
        seen_tags[raw_tags] = tags
    deck = seen_decks.get(raw_deck)
    if deck is None:
        deck = check_deck(raw_deck.strip() or "Default", f"{name}:{line}")
        seen_decks[raw_deck] = deck
    return CsvCard(line, kind, front, back, tags, deck)


def apply_cards_csv(session: Session, parsed: ParsedCsv, ctx: ApplyContext) -> FileSummary:
    """Add the cards of ``parsed`` in the caller's transaction; return what was done.

    Set-based, so the cost grows linearly with the rows: one lookup of the
    rows' keys among the import records, one of their text among the cards
    (:func:`_already_there`), the tags created once, the cards and their tag
    links inserted in batches, and the new cards added to the search index in
    one statement (:func:`studylog.storage.search_index.indexed_after`).
    """
    summary = FileSummary(parsed.name, "cards-csv")
    if parsed.encoding != "utf-8-sig":
        summary.notes.append(f"read as {parsed.encoding.upper()} text")
    keys = [records.digest("csv", r.kind, r.front, r.back) for r in parsed.rows]
    seen = records.known(session, KIND, keys)
    there = _already_there(
        session, [r for r, k in zip(parsed.rows, keys, strict=True) if k not in seen]
    )
    fresh: list[tuple[CsvCard, str, list[int | None]]] = []
    for row, key in zip(parsed.rows, keys, strict=True):
        ords: list[int | None] = cloze_ords(row.front) if row.kind == "cloze" else [None]
        if key in seen or (row.kind, row.front, row.back) in there:
            summary.skip("cards", len(ords))
            continue
        seen[key] = None  # a repeat later in the file is skipped too
        fresh.append((row, key, ords))
    tags = tag_service.get_or_create(session, {t for r, _, _ in fresh for t in r.tags})
    session.flush()  # the new tags get their ids
    tag_ids = {t.name: t.id for t in tags}
    new_records: list[tuple[str, int | None, str | None]] = []
    with indexed_after(session, "cards"):
        for start in range(0, len(fresh), BATCH):
            chunk = fresh[start : start + BATCH]
            values = [
                card_service.new_card_values(
                    front=row.front,
                    back=row.back,
                    kind=row.kind,
                    cloze_ord=o,
                    deck=row.deck,
                    origin="import",
                    now=ctx.now,
                )
                for row, _, ords in chunk
                for o in ords
            ]
            ids = insert_rows(session, Card.__table__, values)
            links = []
            at = 0  # the first id of the row's cards
            for row, key, ords in chunk:
                if row.tags:
                    links.extend(
                        [
                            {"card_id": c, "tag_id": tag_ids[t]}
                            for c in ids[at : at + len(ords)]
                            for t in row.tags
                        ]
                    )
                new_records.append((key, ids[at], None))
                at += len(ords)
            summary.add("cards", at)
            insert_rows(session, card_tags, links, returning=False)
            ctx.progress(parsed.name, min(start + BATCH, len(fresh)), len(fresh))
    records.remember(session, KIND, new_records, source=parsed.name, now=ctx.now)
    return summary


def _already_there(session: Session, rows: list[CsvCard]) -> set[tuple[str, str, str]]:
    """The (kind, front, back) of ``rows`` that a card has already, e.g. one added by hand.

    When there are no more cards than rows (a first import, say), the cards'
    texts are read and compared in Python: cheaper than filling the temporary
    table. Otherwise one join against a temporary table of the rows, so SQLite
    reads the cards once, instead of one unindexed lookup per row. Either way
    a text matches when it is equal (SQLite's BINARY collation, PostgreSQL's
    text equality).
    """
    if not rows:
        return set()
    raw = raw_connection(session)
    (count,) = raw.execute("SELECT count(*) FROM cards").fetchone()
    if count <= len(rows):
        if not count:
            return set()
        wanted = {(r.kind, r.front, r.back) for r in rows}
        cards = raw.execute("SELECT kind, front, back FROM cards").fetchall()
        return {t for t in map(tuple, cards) if t in wanted}
    postgres = is_postgres(session)
    raw.execute(
        "CREATE TEMP TABLE IF NOT EXISTS csv_import_rows "
        "(front TEXT, back TEXT, kind TEXT, PRIMARY KEY (front, back, kind))"
        + ("" if postgres else " WITHOUT ROWID")
    )
    raw.execute("DELETE FROM csv_import_rows")
    raw.executemany(
        "INSERT INTO csv_import_rows (kind, front, back) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(r.kind, r.front, r.back) for r in rows],
    )
    # CROSS JOIN keeps the cards as the outer loop in SQLite: one scan of the
    # cards, each probing the temporary table's key.
    found = raw.execute(
        "SELECT DISTINCT c.kind, c.front, c.back FROM cards c "
        + ("JOIN" if postgres else "CROSS JOIN")
        + " csv_import_rows t ON t.front = c.front AND t.back = c.back AND t.kind = c.kind"
    ).fetchall()
    raw.execute("DELETE FROM csv_import_rows")
    return {tuple(r) for r in found}
