"""Export to a folder of markdown files, readable anywhere (Obsidian, GitHub, an editor).

Layout of ``--out FOLDER``::

    journal/2024-08-16.md     one file per study day: its entries, then its TODOs
    concepts/attention.md     one file per concept, in the concept file format, with its cards
    cards/밑바닥2 - 8장.md     cards without a concept, one file per deck (``deck:`` front matter)

A day file starts with ``# YYYY-MM-DD``; entries are separated by ``---``;
TODOs are a ``## TODO`` list of ``- [ ]``/``- [x]`` items with Obsidian
Tasks' markers for the due day (``📅``) and the day done (``✅``). Importing
the folder again with ``studylog import`` reads these back (each day file is
then one entry). Cards are written as ``::: card KEY`` / ``::: cloze KEY``
blocks (``docs/concept-format.md``); cards added outside a concept file get
the key ``card-<id>``. Schedules and review history are not in markdown:
the JSON export keeps everything.

Files are written to a temporary name and renamed, so an interrupted export
never leaves a half-written file; other files in the folder are left alone.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from studylog.errors import InvalidInputError
from studylog.interchange.names import confined
from studylog.interchange.summary import ProgressFn, no_progress
from studylog.services import cards as card_service
from studylog.services import concepts as concept_service
from studylog.services import settings
from studylog.storage.engine import Database
from studylog.storage.models import Card, JournalEntry, Todo

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f-\x9f]')


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_name(text: str) -> str:
    """A deck name as a file name: ``::`` becomes `` - ``, unsafe characters ``_``."""
    name = _UNSAFE.sub("_", text.replace("::", " - ")).strip(" .") or "Default"
    return name[:120]


def deck_file_names(decks: list[str]) -> dict[str, str]:
    """A distinct file name (without ``.md``) for each deck, in sorted deck order.

    Different decks can clean to the same name (``a/b`` and ``a:b`` are both
    ``a_b``; ``Deck`` and ``deck`` are one file on a case-insensitive disk):
    the later ones get `` (2)``, `` (3)``..., so no deck's file overwrites
    another's. Each file names its deck in its front matter, so an import
    restores the real names.
    """
    taken: set[str] = set()
    names: dict[str, str] = {}
    for deck in sorted(decks):
        base = file_name(deck)
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base} ({n})"
        taken.add(name.casefold())
        names[deck] = name
    return names


def day_markdown(day: date, bodies: list[str], todos: list[tuple]) -> str:
    """The text of one day file: ``# day``, entries, ``## TODO`` (text, due, done day)."""
    parts = [f"# {day.isoformat()}"]
    if bodies:
        parts.append("\n\n---\n\n".join(b.strip("\n") for b in bodies))
    if todos:
        lines = []
        for text, due, done_on in todos:
            mark = "x" if done_on else " "
            extra = (f" 📅 {due.isoformat()}" if due else "") + (
                f" ✅ {done_on.isoformat()}" if done_on else ""
            )
            lines.append(f"- [{mark}] {text}{extra}")
        parts.append("## TODO\n\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def deck_markdown(deck: str, blocks: list[str]) -> str:
    """A deck file: front matter naming the deck, a title, the cards (re-importable)."""
    meta = yaml.safe_dump({"deck": deck}, allow_unicode=True).strip()
    return f"---\n{meta}\n---\n\n# {deck}\n\n## Cards\n\n" + "\n\n".join(blocks) + "\n"


def _card_block(key: str, cards: list[card_service.CardInfo]) -> str:
    first = cards[0]
    if first.kind == "cloze":
        back = f"\n\n---\n\n{first.back}" if first.back.strip() else ""
        return f"::: cloze {key}\n{first.front}{back}\n:::"
    return f"::: card {key}\n{first.front}\n\n---\n\n{first.back}\n:::"


def _unkeyed_blocks(cards: list[card_service.CardInfo]) -> list[str]:
    """Blocks for cards without a key in a concept file; cloze siblings share one block."""
    groups: dict[tuple, list[card_service.CardInfo]] = {}
    for card in cards:
        group = ("cloze", card.front, card.deck) if card.kind == "cloze" else ("card", card.id)
        groups.setdefault(group, []).append(card)
    return [_card_block(f"card-{members[0].id}", members) for members in groups.values()]


def export_markdown(db: Database, dest: Path, progress: ProgressFn = no_progress) -> dict[str, int]:
    """Write the folder described in the module docstring; return counts of what was written.

    Raises:
        InvalidInputError: ``dest`` is a file, or cannot be created.
    """
    if dest.exists() and not dest.is_dir():
        raise InvalidInputError(f"{dest} is a file; markdown export needs a folder")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(f"cannot create the folder {dest}: {exc.strerror}") from None
    calendar = settings.calendar(db)
    counts = {"day files": 0, "concept files": 0, "deck files": 0, "entries": 0, "todos": 0}
    bodies: dict[date, list[str]] = defaultdict(list)
    todos: dict[date, list[tuple]] = defaultdict(list)
    with db.read() as session:
        for day, body in session.execute(
            select(JournalEntry.day, JournalEntry.body).order_by(
                JournalEntry.day, JournalEntry.created_at, JournalEntry.id
            )
        ):
            bodies[day].append(body)
            counts["entries"] += 1
        for day, text, due, done_at in session.execute(
            select(Todo.origin_day, Todo.text, Todo.due_day, Todo.done_at).order_by(
                Todo.origin_day, Todo.position, Todo.id
            )
        ):
            done_on = calendar.day_of(done_at) if done_at is not None else None
            todos[day].append((text, due, done_on))
            counts["todos"] += 1
        loose = [
            card_service.info(card)
            for card in session.scalars(
                select(Card).where(Card.concept_id.is_(None)).order_by(Card.id)
            )
        ]
    days = sorted(set(bodies) | set(todos))
    summaries = concept_service.list_concepts(db)
    by_deck: dict[str, list[card_service.CardInfo]] = defaultdict(list)
    for card in loose:
        by_deck[card.deck].append(card)
    # Every path is checked before anything is written: a slug from an old
    # import such as "../../tmp/x" refuses the export, it never escapes it.
    concept_paths = {}
    for summary in summaries:
        try:
            concept_paths[summary.slug] = confined(dest, "concepts", f"{summary.slug}.md")
        except InvalidInputError as exc:
            raise InvalidInputError(f"concept {summary.slug!r}: {exc}") from None
    deck_paths = {
        deck: confined(dest, "cards", f"{name}.md")
        for deck, name in deck_file_names(list(by_deck)).items()
    }
    for n, day in enumerate(days, 1):
        _write(
            confined(dest, "journal", f"{day.isoformat()}.md"),
            day_markdown(day, bodies[day], todos[day]),
        )
        progress("writing days", n, len(days))
    counts["day files"] = len(days)
    for n, summary in enumerate(summaries, 1):
        info = concept_service.get(db, summary.slug)
        text = concept_service.to_markdown(info)
        extra = _unkeyed_blocks([c for c in info.cards if not c.pack_key])
        if extra:
            joiner = "\n\n" if "\n## Cards\n" in text else "\n## Cards\n\n"
            text = text.rstrip("\n") + joiner + "\n\n".join(extra) + "\n"
        _write(concept_paths[summary.slug], text)
        progress("writing concepts", n, len(summaries))
    counts["concept files"] = len(summaries)
    for n, (deck, deck_cards) in enumerate(sorted(by_deck.items()), 1):
        text = deck_markdown(deck, _unkeyed_blocks(deck_cards))
        _write(deck_paths[deck], text)
        progress("writing decks", n, len(by_deck))
    counts["deck files"] = len(by_deck)
    counts["cards"] = len(loose) + sum(s.card_count for s in summaries)
    return counts
