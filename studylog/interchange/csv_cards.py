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

from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.content.concept_file import cloze_ords
from studylog.errors import InvalidInputError
from studylog.interchange import records
from studylog.interchange.names import check_deck
from studylog.interchange.summary import ApplyContext, FileSummary
from studylog.interchange.textio import read_text
from studylog.services import cards as card_service
from studylog.services import tags as tag_service
from studylog.storage.models import Card

KIND = "csv_card"
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
    try:
        header = next(reader)
        columns = [ALIASES.get(h.strip().lower()) for h in header]
        if "front" not in columns or "back" not in columns:
            raise _fail(name, 1, "the first row must name the columns front,back[,tags][,deck]")
        for record in reader:
            line = reader.line_num
            if not any(v.strip() for v in record):
                continue
            if len(record) > len(columns):
                raise _fail(name, line, f"too many fields ({len(columns)} columns in the header)")
            values = {c: v for c, v in zip(columns, record, strict=False) if c}
            rows.append(_row(name, line, values))
    except csv.Error as exc:
        raise _fail(name, reader.line_num, f"not a readable CSV row ({exc})") from None
    return ParsedCsv(name, rows, encoding)


def _row(name: str, line: int, values: dict[str, str]) -> CsvCard:
    front = values.get("front", "").strip()
    back = values.get("back", "").strip()
    if not front:
        raise _fail(name, line, "missing front")
    kind = "cloze" if cloze_ords(front) else "basic"
    if kind == "basic" and not back:
        raise _fail(name, line, "missing back (only a cloze front {{c1::...}} may go without)")
    try:
        tags = tuple(tag_service.normalise(re.split(r"[\s,;]+", values.get("tags", ""))))
    except InvalidInputError as exc:
        raise _fail(name, line, str(exc)) from None
    deck = check_deck(values.get("deck", "").strip() or "Default", f"{name}:{line}")
    return CsvCard(line, kind, front, back, tags, deck)


def apply_cards_csv(session: Session, parsed: ParsedCsv, ctx: ApplyContext) -> FileSummary:
    """Add the cards of ``parsed`` in the caller's transaction; return what was done."""
    summary = FileSummary(parsed.name, "cards-csv")
    if parsed.encoding != "utf-8-sig":
        summary.notes.append(f"read as {parsed.encoding.upper()} text")
    keys = [records.digest("csv", r.kind, r.front, r.back) for r in parsed.rows]
    seen = records.known(session, KIND, keys)
    new_records: list[tuple[str, int | None, str | None]] = []
    for n, (row, key) in enumerate(zip(parsed.rows, keys, strict=True)):
        ords: list[int | None] = cloze_ords(row.front) if row.kind == "cloze" else [None]
        if key in seen or _exists(session, row):
            summary.skip("cards", len(ords))
            continue
        made = []
        for o in ords:
            made.append(
                card_service.new_card(
                    session,
                    front=row.front,
                    back=row.back,
                    kind=row.kind,
                    cloze_ord=o,
                    deck=row.deck,
                    tags=row.tags,
                    origin="import",
                    now=ctx.now,
                )
            )
            session.flush()  # new_card looks tags up without autoflush: one card at a time
        seen[key] = made[0].id
        new_records.append((key, made[0].id, None))
        summary.add("cards", len(made))
        ctx.progress(parsed.name, n + 1, len(parsed.rows))
    records.remember(session, KIND, new_records, source=parsed.name, now=ctx.now)
    return summary


def _exists(session: Session, row: CsvCard) -> bool:
    """An identical card (kind, front, back) is there already, e.g. added by hand."""
    return (
        session.scalar(
            select(Card.id).where(
                Card.kind == row.kind, Card.front == row.front, Card.back == row.back
            )
        )
        is not None
    )
