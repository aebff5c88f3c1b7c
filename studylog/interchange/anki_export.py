"""Export cards to an Anki package (``.apkg``) with genanki.

- **Notes.** A basic card is a note of the "studylog Basic" type (Front,
  Back); the cloze cards c1..cN of one text are one note of the "studylog
  Cloze" type (Text, Back Extra), so they stay cloze in Anki. Two cards that
  came from one Anki "Basic (and reversed card)" note go back as one note of
  that shape.
- **GUIDs are stable,** so importing a later export into Anki updates the
  notes instead of adding duplicates: a card that came from Anki keeps its
  note's GUID; a pack card's GUID derives from its pack key (the same on
  every machine); any other card's from its studylog id.
- **Text.** Markdown becomes HTML (markdown-it-py); ``$...$`` and ``$$...$$``
  become MathJax ``\\(...\\)`` and ``\\[...\\]``; cloze syntax is the same.
  Decks (``Parent::Child``) and tags are kept.
- **Not exported:** schedules, review history and suspension (genanki writes notes only;
  Anki schedules them as new). The JSON export keeps everything.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import genanki
from markdown_it import MarkdownIt
from sqlalchemy import select

from studylog.errors import InvalidInputError
from studylog.interchange import records
from studylog.interchange.anki_import import KIND as ANKI_KIND
from studylog.interchange.summary import ProgressFn, no_progress
from studylog.storage.engine import Database
from studylog.storage.models import Card, Tag, card_tags

# Fixed ids: Anki recognises the note types again on every import.
BASIC_ID, REVERSED_ID, CLOZE_ID = 1_733_190_001, 1_733_190_002, 1_733_190_003
CSS = ".card { font-family: sans-serif; font-size: 20px; text-align: left; }\n.cloze { color: #1565c0; font-weight: bold; }"
ANSWER = "{{FrontSide}}<hr id=answer>"

BASIC = genanki.Model(
    BASIC_ID,
    "studylog Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": ANSWER + "{{Back}}"}],
    css=CSS,
)
REVERSED = genanki.Model(
    REVERSED_ID,
    "studylog Basic (and reversed card)",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {"name": "Card 1", "qfmt": "{{Front}}", "afmt": ANSWER + "{{Back}}"},
        {"name": "Card 2", "qfmt": "{{Back}}", "afmt": ANSWER + "{{Front}}"},
    ],
    css=CSS,
)
CLOZE = genanki.Model(
    CLOZE_ID,
    "studylog Cloze",
    fields=[{"name": "Text"}, {"name": "Back Extra"}],
    templates=[
        {"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>\n{{Back Extra}}"}
    ],
    css=CSS,
    model_type=genanki.Model.CLOZE,
)

_MATH = re.compile(
    r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^\s$](?:[^$]*?[^\s\\$])?)\$", re.S
)
_PLACEHOLDER = "STUDYLOGMATH{}X"


@cache
def _md() -> MarkdownIt:
    # breaks: a line break in a note is a line break on the card, as the user wrote it.
    return MarkdownIt("commonmark", {"breaks": True, "html": False}).enable("table")


def markdown_to_html(text: str) -> str:
    """studylog markdown as Anki field HTML (math as MathJax; one paragraph without ``<p>``)."""
    maths: list[str] = []

    def stash(match: re.Match[str]) -> str:
        if match["display"] is not None:
            maths.append(f"\\[{html.escape(match['display'].strip(), quote=False)}\\]")
        else:
            maths.append(f"\\({html.escape(match['inline'], quote=False)}\\)")
        return _PLACEHOLDER.format(len(maths) - 1)

    rendered = _md().render(_MATH.sub(stash, text)).strip()
    for i, math in enumerate(maths):
        rendered = rendered.replace(_PLACEHOLDER.format(i), math)
    if rendered.count("<p>") == 1 and rendered.startswith("<p>") and rendered.endswith("</p>"):
        rendered = rendered[3:-4]
    return rendered


class _StampedNote(genanki.Note):
    """A note whose modification time is its cards' last change (not the export's time).

    Anki updates an existing note (same GUID and note type) only when the
    incoming one is newer, so an edited card updates its note and an
    unchanged one is left alone, however often the collection is exported.
    """

    def __init__(self, *args, mod: int, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.mod = mod

    def write_to_db(self, cursor, timestamp: float, deck_id, id_gen) -> None:  # noqa: ANN001
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def deck_id(name: str) -> int:
    """A stable Anki deck id for a deck name (the same name gives the same id).

    "Default" is id 1, Anki's own default deck, so it is not imported as "Default_".
    """
    if name == "Default":
        return 1
    return 1 << 30 | int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:7], 16)


@dataclass
class _Row:
    id: int
    front: str
    back: str
    kind: str
    cloze_ord: int | None
    deck: str
    pack_key: str | None
    updated_at: datetime
    tags: list[str]


def _rows(db: Database) -> tuple[list[_Row], dict[int, str]]:
    with db.read() as session:
        tags: dict[int, list[str]] = defaultdict(list)
        for card_id, name in session.execute(
            select(card_tags.c.card_id, Tag.name).join(Tag, Tag.id == card_tags.c.tag_id)
        ):
            tags[card_id].append(name)
        rows = [
            _Row(*values, sorted(tags.get(values[0], [])))
            for values in session.execute(
                select(
                    Card.id,
                    Card.front,
                    Card.back,
                    Card.kind,
                    Card.cloze_ord,
                    Card.deck,
                    Card.pack_key,
                    Card.updated_at,
                ).order_by(Card.id)
            )
        ]
        refs = records.refs(session, ANKI_KIND, [r.id for r in rows])
    return rows, refs


def _groups(rows: list[_Row], refs: dict[int, str]) -> list[tuple[str, str, list[_Row]]]:
    """(guid, model kind, cards) per Anki note to write."""
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        ref = refs.get(row.id)
        if ref is not None:
            key = "anki:" + ref.rsplit("#", 1)[0]
        elif row.kind == "cloze" and row.pack_key:
            key = "pack:" + row.pack_key.rsplit("/c", 1)[0]
        elif row.kind == "cloze":
            key = f"cloze:{row.deck}\x1f{row.front}"
        elif row.pack_key:
            key = "pack:" + row.pack_key
        else:
            key = f"card:{row.id}"
        groups.setdefault(key, []).append(row)
    out = []
    for key, members in groups.items():
        if key.startswith("anki:"):
            guid = key[5:]
        elif key.startswith("cloze:"):
            guid = genanki.guid_for("studylog-card", min(m.id for m in members))
        elif key.startswith("card:"):
            guid = genanki.guid_for("studylog-card", members[0].id)
        else:
            guid = genanki.guid_for("studylog-pack", key[5:])
        cloze = [m for m in members if m.kind == "cloze"]
        basic = [m for m in members if m.kind == "basic"]
        if cloze:
            out.append((guid, "cloze", cloze))
        if len(basic) == 2 and (basic[0].front, basic[0].back) == (basic[1].back, basic[1].front):
            out.append((guid if not cloze else genanki.guid_for(guid, "basic"), "reversed", basic))
            continue
        for i, member in enumerate(basic):
            # Extra members (not a reversed pair) get GUIDs of their own, stable by card id.
            own = guid if i == 0 and not cloze else genanki.guid_for("studylog-card", member.id)
            out.append((own, "basic", [member]))
    return out


def export_apkg(db: Database, dest: Path, progress: ProgressFn = no_progress) -> dict[str, int]:
    """Write every card to ``dest`` as an Anki package; return counts of notes and cards.

    Raises:
        InvalidInputError: the destination folder does not exist or cannot be written.
    """
    folder = dest.resolve().parent
    if not folder.is_dir():
        raise InvalidInputError(f"cannot write {dest}: the folder {folder} does not exist")
    rows, refs = _rows(db)
    decks: dict[str, genanki.Deck] = {}
    notes = 0
    groups = _groups(rows, refs)
    for n, (guid, kind, members) in enumerate(groups, 1):
        first = members[0]
        tags = sorted({t for m in members for t in m.tags})
        mod = int(max(m.updated_at for m in members).timestamp())
        if kind == "cloze":
            note = _StampedNote(
                model=CLOZE,
                fields=[markdown_to_html(first.front), markdown_to_html(first.back)],
                guid=guid,
                tags=tags,
                mod=mod,
            )
        else:
            pair = sorted(members, key=lambda m: m.id) if kind == "reversed" else members
            note = _StampedNote(
                model=REVERSED if kind == "reversed" else BASIC,
                fields=[markdown_to_html(pair[0].front), markdown_to_html(pair[0].back)],
                guid=guid,
                tags=tags,
                mod=mod,
            )
        deck = decks.get(first.deck)
        if deck is None:
            deck = decks[first.deck] = genanki.Deck(deck_id(first.deck), first.deck)
        deck.add_note(note)
        notes += 1
        if n % 500 == 0 or n == len(groups):
            progress("writing notes", n, len(groups))
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".apkg", dir=folder)
        os.close(handle)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {dest}: {exc.strerror}") from None
    try:
        genanki.Package(list(decks.values())).write_to_file(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"notes": notes, "cards": len(rows), "decks": len(decks)}
