"""Concept and deck files (``docs/concept-format.md``) among imported markdown.

A markdown file whose YAML front matter names a ``slug`` and a ``title`` is
a concept file (as the markdown export writes them, or as shared by others):
it becomes a concept with origin ``import`` and its ``::: card`` blocks become
its cards, which the file defines explicitly. A concept whose slug exists is
left alone (skipped), so importing the same folder again adds nothing.

A file whose front matter names a ``deck`` (and no slug) is a deck file of the
markdown export: its ``## Cards`` blocks become cards of that deck, each
remembered by content so that a second import adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.content.concept_file import CardSpec, ConceptFile, load_front_matter, parse_concept
from studylog.errors import InvalidInputError
from studylog.interchange import records
from studylog.interchange.names import check_deck
from studylog.interchange.summary import ApplyContext, FileSummary
from studylog.interchange.textio import read_text
from studylog.services import cards as card_service
from studylog.services.concepts import apply_file
from studylog.storage.models import Card, Concept

_FRONT = re.compile(r"\A---\n(?P<meta>.*?)\n---\n", re.DOTALL)


def front_matter_keys(path: Path) -> set[str]:
    """The top-level keys of the YAML front matter at the top of a file (empty if none)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8", "ignore").replace("\r\n", "\n")
    except OSError:
        return set()
    match = _FRONT.match(head.lstrip("\ufeff"))
    if not match:
        return set()
    return {
        line.split(":", 1)[0].strip()
        for line in match["meta"].splitlines()
        if ":" in line and not line.startswith((" ", "-"))
    }


def kind_of(path: Path) -> str | None:
    """``concept``, ``deck`` or None (plain notes) for a markdown file."""
    keys = front_matter_keys(path)
    if {"slug", "title"} <= keys:
        return "concept"
    if "deck" in keys and "slug" not in keys:
        return "deck"
    return None


@dataclass(frozen=True)
class ParsedConcept:
    name: str
    concept: ConceptFile


def read_concept(path: Path) -> ParsedConcept:
    """Parse a concept file. Raises ConceptFormatError naming the file and line."""
    text, _encoding = read_text(path)
    return ParsedConcept(path.name, parse_concept(text, path.name))


def apply_concept(session: Session, parsed: ParsedConcept, ctx: ApplyContext) -> FileSummary:
    """Add the concept and its cards (origin ``import``) unless its slug exists."""
    summary = FileSummary(parsed.name, "concept")
    concept = parsed.concept
    if session.scalar(select(Concept.id).where(Concept.slug == concept.slug)) is not None:
        summary.skip("concepts")
        summary.skip("cards", len(concept.cards))
        return summary
    apply_file(session, concept, origin="import", now=ctx.now)
    summary.add("concepts")
    summary.add("cards", len(concept.cards))
    return summary


DECK_KIND = "md_card"


@dataclass(frozen=True)
class ParsedDeck:
    name: str
    deck: str
    cards: list[CardSpec]


def read_deck(path: Path) -> ParsedDeck:
    """Parse a deck file. Raises ConceptFormatError / InvalidInputError naming the file and line."""
    text, _encoding = read_text(path)
    match = _FRONT.match(text.lstrip("\ufeff"))
    if match is None:
        raise InvalidInputError(f"{path.name}:1: missing front matter (a '---' block at the top)")
    meta = load_front_matter(match["meta"], path.name)
    deck = str(meta.get("deck", "")).strip()
    if not deck:
        raise InvalidInputError(f"{path.name}:2: 'deck' is empty")
    check_deck(deck, f"{path.name}:2")
    # The deck file is a concept file without slug and title; parse it as one.
    as_concept = "---\nslug: deck\ntitle: deck\n---\n" + text.lstrip("\ufeff")[match.end() :]
    return ParsedDeck(path.name, deck, parse_concept(as_concept, path.name).cards)


def apply_deck(session: Session, parsed: ParsedDeck, ctx: ApplyContext) -> FileSummary:
    """Add the deck file's cards (origin ``import``) that were not imported before."""
    summary = FileSummary(parsed.name, "deck")
    keys = [records.digest("md-card", c.kind, c.front, c.back, c.cloze_ord) for c in parsed.cards]
    seen = records.known(session, DECK_KIND, keys)
    fresh = []
    for spec, key in zip(parsed.cards, keys, strict=True):
        exists = session.scalar(
            select(Card.id).where(
                Card.kind == spec.kind,
                Card.front == spec.front,
                Card.back == spec.back,
                Card.cloze_ord.is_(spec.cloze_ord),
            )
        )
        if key in seen or exists is not None:
            summary.skip("cards")
            continue
        card = card_service.new_card(
            session,
            front=spec.front,
            back=spec.back,
            kind=spec.kind,
            cloze_ord=spec.cloze_ord,
            deck=parsed.deck,
            origin="import",
            now=ctx.now,
        )
        session.flush()
        seen[key] = card.id
        fresh.append((key, card.id, None))
        summary.add("cards")
    records.remember(session, DECK_KIND, fresh, source=parsed.name, now=ctx.now)
    return summary
