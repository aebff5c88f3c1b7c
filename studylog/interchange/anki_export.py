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
- **Exercise and computed cards** become "studylog Basic" notes, since Anki
  cannot run code: an exercise's front is its task and starter (signature and
  docstring), its back the reference implementation and the command that
  checks an attempt in studylog; a computed card's front is its template (Anki
  cannot draw fresh values at each review, so the learner predicts what the
  template computes), its back the card's note. The counts say how many.
- **Not exported:** schedules, review history and suspension (genanki writes notes only;
  Anki schedules them as new). The JSON export keeps everything.
"""

from __future__ import annotations

import ast
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

from studylog.errors import InvalidInputError, NotFoundError
from studylog.interchange import records
from studylog.interchange.anki_import import KIND as ANKI_KIND
from studylog.interchange.summary import ProgressFn, no_progress
from studylog.services import computed as computed_service
from studylog.services import exercises as exercise_service
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
        for member in members:
            if member.kind in ITEM_KINDS:  # one note each, keyed like a basic card
                own = guid if len(members) == 1 else genanki.guid_for("studylog-card", member.id)
                out.append((own, member.kind, [member]))
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


ITEM_KINDS = ("exercise", "computed")


def _code(source: str) -> str:
    return f'<pre><code class="language-python">{html.escape(source.rstrip(), quote=False)}</code></pre>'


def _function_def(source: str, name: str) -> str | None:
    """The whole ``def name`` (decorators included) in ``source``, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    lines = source.splitlines()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            return "\n".join(lines[start : node.end_lineno])
    return None


def _reference_source(exercise: exercise_service.Exercise) -> str | None:
    """The reference implementation's source (the checks' ``reference`` or the pack's function)."""
    if "def reference" in exercise.checks:
        return _function_def(exercise.checks, "reference")
    module, _, func = exercise.reference.rpartition(".")
    own = dict(exercise.files).get(f"{module}.py")
    path = exercise.demo_dir / f"{module}.py"
    if own is None and path.is_file():
        own = path.read_text(encoding="utf-8")
    return _function_def(own, func) if own is not None else None


def _exercise_fields(db: Database, row: _Row) -> list[str]:
    """Front: the task and the starter; back: the reference and how to check in studylog."""
    exercise_id = exercise_service.card_exercise_id(row.kind, row.pack_key)
    exercise = None
    if exercise_id is not None:
        try:
            exercise = exercise_service.find(db, exercise_id)
        except (NotFoundError, InvalidInputError):
            exercise = None
    if exercise is None:  # detached from its concept: the card's own text
        return [markdown_to_html(row.front), markdown_to_html(row.back)]
    front = f"<b>Exercise</b> ({html.escape(exercise.id, quote=False)}): {html.escape(exercise.title, quote=False)}<br>\n"
    front += markdown_to_html(exercise.task)
    try:
        front += "\n" + _code(exercise_service.starter(exercise))
    except InvalidInputError:
        pass
    reference = _reference_source(exercise)
    back = _code(reference) if reference else ""
    back += markdown_to_html(
        f"Checked by running it in studylog: `studylog exercise check {exercise.id} FILE`"
    )
    return [front, back]


def _computed_fields(db: Database, row: _Row) -> list[str]:
    """Front: the template (what to predict); back: the card's note."""
    template = None
    template_id = computed_service.card_template_id(row.kind, row.pack_key)
    if template_id is not None:
        try:
            template = computed_service.resolve(db, template_id)
        except (NotFoundError, InvalidInputError):
            template = next(
                (t for t in computed_service.pack_templates() if t.id == template_id), None
            )
    if template is None:
        return [markdown_to_html(row.front), markdown_to_html(row.back)]
    front = (
        f"<b>Predict the output</b>: {html.escape(template.title or row.front, quote=False)}<br>\n"
        "In studylog this card draws fresh values at every review; here, predict what "
        "<code>card(rng)</code> returns for values of your choosing.\n" + _code(template.template)
    )
    return [front, markdown_to_html(template.note or row.back)]


def export_apkg(db: Database, dest: Path, progress: ProgressFn = no_progress) -> dict[str, int]:
    """Write every card to ``dest`` as an Anki package; return counts of notes and cards.

    The counts: ``notes``, ``cards``, ``decks``, and of the notes ``exercise notes`` and
    ``computed notes`` (exercise and computed cards written as Basic notes, see the
    module docstring).

    Raises:
        InvalidInputError: the destination folder does not exist or cannot be written.
    """
    folder = dest.resolve().parent
    if not folder.is_dir():
        raise InvalidInputError(f"cannot write {dest}: the folder {folder} does not exist")
    rows, refs = _rows(db)
    decks: dict[str, genanki.Deck] = {}
    notes = 0
    items = dict.fromkeys(ITEM_KINDS, 0)
    groups = _groups(rows, refs)
    for n, (guid, kind, members) in enumerate(groups, 1):
        first = members[0]
        tags = sorted({t for m in members for t in m.tags})
        mod = int(max(m.updated_at for m in members).timestamp())
        if kind in ITEM_KINDS:
            fields = (_exercise_fields if kind == "exercise" else _computed_fields)(db, first)
            items[kind] += 1
            note = _StampedNote(model=BASIC, fields=fields, guid=guid, tags=tags, mod=mod)
        elif kind == "cloze":
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
    return {
        "notes": notes,
        "cards": len(rows),
        "decks": len(decks),
        **{f"{kind} notes": n for kind, n in items.items() if n},
    }
