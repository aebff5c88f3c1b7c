"""Search over journal entries, TODOs, cards and concepts, Korean included.

The index is an FTS5 table with the trigram tokenizer (kept current by
triggers, see ``db/versions/0001_initial.py``). Trigrams match any substring
of 3 or more characters, which suits Korean, where words carry particles
('어텐션은', '어텐션을'). Shorter terms, such as the two-syllable '개념', cannot
be found through trigrams, so queries with one fall back to LIKE.

The user's words are always quoted before they reach FTS5, so no input can be
a syntax error: each whitespace-separated word must occur (AND).

On PostgreSQL the index is a plain table with GIN ``pg_trgm`` indexes on
title and body (migration 0001): every word becomes a ``LIKE``/``ILIKE
'%word%'`` (escaped), which those indexes answer for words of 3+ characters
and which finds two-syllable words such as '개념' too, as the LIKE fallback
does on SQLite. The ranking rule is the same: FTS5's BM25 (title weight 5,
body 1) when every word has 3+ characters, computed by the server from the
same counts (:mod:`studylog.storage.search_rank`), else newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError
from studylog.storage import search_rank
from studylog.storage.engine import Database
from studylog.storage.models import Concept, JournalEntry, Todo

KINDS = ("entry", "todo", "card", "concept")
SNIPPET_WIDTH = 60


@dataclass(frozen=True)
class SearchHit:
    """One result. ``ref`` is the entry/TODO/card id, or the concept's slug;
    ``day`` is the study day of entries and the origin day of TODOs.
    ``snippet`` marks matches with [ and ]."""

    kind: str
    ref: str
    title: str
    snippet: str
    day: date | None = None


def _terms(query: str) -> list[str]:
    terms = [t for t in query.split() if t]
    if not terms:
        raise InvalidInputError("the search query is empty")
    return terms


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _snippet(body: str, terms: list[str]) -> str:
    """A window of ``body`` around the first term found, with the terms bracketed."""
    flat = " ".join(body.split())
    lower = flat.lower()
    hits = [(lower.find(t.lower()), t) for t in terms]
    found = [(i, t) for i, t in hits if i >= 0]
    if not found:
        return flat[:SNIPPET_WIDTH] + ("…" if len(flat) > SNIPPET_WIDTH else "")
    first = min(i for i, _ in found)
    start = max(0, first - SNIPPET_WIDTH // 3)
    window = flat[start : start + SNIPPET_WIDTH]
    for _, term in found:
        index = window.lower().find(term.lower())
        if index >= 0:
            window = (
                window[:index]
                + "["
                + window[index : index + len(term)]
                + "]"
                + window[index + len(term) :]
            )
    return ("…" if start else "") + window + ("…" if start + SNIPPET_WIDTH < len(flat) else "")


def search(
    db: Database, query: str, *, kinds: tuple[str, ...] = KINDS, limit: int = 50
) -> list[SearchHit]:
    """Find ``query`` in entries, TODOs, cards and concepts.

    Every word must occur (case-insensitively, as a substring). Results are
    ranked by BM25 when every word has 3+ characters, else newest first.

    Raises:
        InvalidInputError: an empty query or an unknown kind.
    """
    terms = _terms(query)
    for kind in kinds:
        if kind not in KINDS:
            raise InvalidInputError(f"unknown search kind {kind!r} (use {', '.join(KINDS)})")
    if not kinds:
        return []  # nothing asked for (PostgreSQL refuses an empty IN list)
    if db.is_postgres:
        return _search_postgres(db, terms, kinds, limit)
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    params: dict[str, object] = {"limit": limit}
    where = []
    if long_terms:
        where.append("search_index MATCH :match")
        params["match"] = " ".join(_quote(t) for t in long_terms)
    for n, term in enumerate(short_terms):
        where.append(f"(title LIKE :l{n} ESCAPE '\\' OR body LIKE :l{n} ESCAPE '\\')")
        params[f"l{n}"] = search_rank.like_pattern(term)
    kind_list = ", ".join(f"'{k}'" for k in kinds)
    where.append(f"kind IN ({kind_list})")
    # Deleted cards keep their index rows while their undo step lives (storage/graves.py).
    where.append("(kind <> 'card' OR ref_id IN (SELECT id FROM cards))")
    order = "bm25(search_index, 0, 0, 5.0, 1.0)" if long_terms and not short_terms else "rowid DESC"
    sql = text(
        f"SELECT kind, ref_id, title, body FROM search_index WHERE {' AND '.join(where)} "
        f"ORDER BY {order} LIMIT :limit"
    )
    with db.read() as session:
        rows = session.execute(sql, params).all()
        return _hits(session, rows, terms)


def _search_postgres(
    db: Database, terms: list[str], kinds: tuple[str, ...], limit: int
) -> list[SearchHit]:
    """:func:`search` on PostgreSQL: one statement (:mod:`studylog.storage.search_rank`)
    that finds the rows and, when every word has 3+ characters, ranks them."""
    sql = search_rank.statement(terms, kinds, all_kinds=set(kinds) >= set(KINDS))
    with db.read() as session:
        rows = session.execute(text(sql), search_rank.parameters(terms, limit)).all()
        return _hits(session, [tuple(r) for r in rows], terms)


def _column(session: Session, key, value, ids: list[int]) -> dict:  # noqa: ANN001
    """``{key: value}`` for the rows whose ``key`` is in ``ids`` (one query)."""
    if not ids:
        return {}
    return dict(session.execute(select(key, value).where(key.in_(ids))).all())


def _hits(session: Session, rows, terms: list[str]) -> list[SearchHit]:  # noqa: ANN001
    """Turn index rows into hits; the index row already holds each item's text."""
    ids: dict[str, list[int]] = {k: [] for k in KINDS}
    for kind, ref_id, _title, _body in rows:
        ids[kind].append(int(ref_id))
    entry_days = _column(session, JournalEntry.id, JournalEntry.day, ids["entry"])
    todo_days = _column(session, Todo.id, Todo.origin_day, ids["todo"])
    slugs = _column(session, Concept.id, Concept.slug, ids["concept"])
    titles = _column(session, Concept.id, Concept.title, ids["concept"])
    aliases = _column(session, Concept.id, Concept.aliases, ids["concept"])
    hits = []
    for kind, ref_id, title, body in rows:
        ref_id = int(ref_id)
        if kind == "entry":
            day = entry_days[ref_id]
            hits.append(SearchHit(kind, str(ref_id), f"entry {day}", _snippet(body, terms), day))
        elif kind == "todo":
            day = todo_days[ref_id]
            hits.append(SearchHit(kind, str(ref_id), f"TODO of {day}", _snippet(body, terms), day))
        elif kind == "card":  # title = front, body = back
            snippet = _snippet(f"{title} {body}", terms)
            hits.append(SearchHit(kind, str(ref_id), _first_line(title), snippet))
        else:  # the index title is "title slug [aliases as JSON]": show it readably
            shown = f"{titles[ref_id]} ({', '.join(aliases[ref_id])})"
            snippet = _snippet(f"{shown} {body}", terms)
            hits.append(SearchHit(kind, slugs[ref_id], titles[ref_id], snippet))
    return hits


def _first_line(text: str, width: int = SNIPPET_WIDTH) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
