"""Import study notes: posts become journal entries, tasks TODOs, definitions suggested cards.

Reading (:func:`read_notes`) parses the whole file first; applying
(:func:`apply_notes`) runs inside the import's one transaction. Every entry
and TODO is remembered by a content key (``import_records``), so importing
the same file again adds nothing, and a file that gained a post adds only
that post. Suggested cards are unique by content.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studylog.interchange import records
from studylog.interchange.note_dates import date_in_name
from studylog.interchange.notes import NotePost, NoteTask, parse_note
from studylog.interchange.summary import ApplyContext, FileSummary
from studylog.interchange.textio import read_text
from studylog.services import suggestions
from studylog.storage.models import Card, JournalEntry, Todo
from studylog.studyday import StudyCalendar

ENTRY_KIND = "note_entry"
TODO_KIND = "note_todo"
DATED = ("header", "front-matter", "file-name")  # dates the note itself carries


@dataclass(frozen=True)
class ParsedNotes:
    """A note file read and split into posts (nothing written yet)."""

    path: Path
    name: str
    posts: list[NotePost]
    encoding: str


def read_notes(path: Path, *, calendar: StudyCalendar, day: date | None) -> ParsedNotes:
    """Read and parse a note file.

    A post without a date of its own takes, in order: the front matter's
    ``date:``, a date in the file name, ``day`` (``--date``), the file's
    modification day.

    Raises:
        InvalidInputError: unreadable or not text (names the file).
    """
    text, encoding = read_text(path)
    if day is not None:
        fallback, source = day, "option"
    else:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        fallback, source = calendar.day_of(modified), "modified"
    posts = parse_note(
        text,
        calendar=calendar,
        fallback_day=fallback,
        fallback_source=source,
        name_day=date_in_name(path.stem),
    )
    return ParsedNotes(path, path.name, posts, encoding)


def _entry_key(post: NotePost) -> str:
    """By text alone: a dated post's text holds its date line, and an undated file
    imported again with another ``--date`` (or after a touch) is still the same note."""
    return records.digest("entry", post.text)


def _todo_keys(post: NotePost, name: str) -> list[str]:
    """One key per task: its day (or, for an undated note, the file name), text and
    occurrence. Not the post's text: a post edited since keeps its TODOs."""
    anchor = post.day.isoformat() if post.date_source in DATED else f"file:{name}"
    seen: Counter[str] = Counter()
    keys = []
    for task in post.tasks:
        seen[task.text] += 1
        keys.append(records.digest("todo", anchor, task.text, seen[task.text]))
    return keys


def apply_notes(session: Session, parsed: ParsedNotes, ctx: ApplyContext) -> FileSummary:
    """Write the posts of ``parsed`` in the caller's transaction; return what was done."""
    now, calendar = ctx.now, ctx.calendar
    summary = FileSummary(parsed.name, "notes")
    if parsed.encoding != "utf-8-sig":
        summary.notes.append(f"read as {parsed.encoding.upper()} text")
    entry_keys = [_entry_key(p) for p in parsed.posts]
    seen_entries = records.known(session, ENTRY_KIND, entry_keys)
    todo_keys = [_todo_keys(p, parsed.name) for p in parsed.posts]
    seen_todos = records.known(session, TODO_KIND, [k for keys in todo_keys for k in keys])
    positions: dict[date, int] = {}
    new_records: list[tuple[str, int | None, str | None]] = []
    new_todo_records: list[tuple[str, int | None, str | None]] = []
    total = len(parsed.posts)
    for n, (post, key, keys) in enumerate(zip(parsed.posts, entry_keys, todo_keys, strict=True)):
        if key in seen_entries:
            summary.skip("entries")
            entry_id = seen_entries[key]
        else:
            moment = post.moment or now
            entry = JournalEntry(day=post.day, body=post.text, created_at=moment, updated_at=moment)
            session.add(entry)
            session.flush()
            entry_id = entry.id
            seen_entries[key] = entry_id
            new_records.append((key, entry_id, None))
            summary.add("entries")
        for task, task_key in zip(post.tasks, keys, strict=True):
            if task_key in seen_todos:
                summary.skip("todos")
                continue
            todo = _todo(session, post, task, positions, calendar, now)
            session.flush()
            seen_todos[task_key] = todo.id
            new_todo_records.append((task_key, todo.id, None))
            summary.add("todos")
        _suggest(session, parsed.name, post, entry_id, summary, now)
        ctx.progress(parsed.name, n + 1, total)
    records.remember(session, ENTRY_KIND, new_records, source=parsed.name, now=now)
    records.remember(session, TODO_KIND, new_todo_records, source=parsed.name, now=now)
    return summary


def _todo(
    session: Session,
    post: NotePost,
    task: NoteTask,
    positions: dict[date, int],
    calendar: StudyCalendar,
    now: datetime,
) -> Todo:
    if post.day not in positions:
        last = session.scalar(select(func.max(Todo.position)).where(Todo.origin_day == post.day))
        positions[post.day] = -1 if last is None else last
    positions[post.day] += 1
    # A task ticked in the note was done on that day (at the post's time if known),
    # or on the day its "✅ YYYY-MM-DD" marker says.
    done_at = None
    if task.done_on is not None:
        done_at = calendar.start_of(task.done_on)
    elif task.done:
        done_at = post.moment or calendar.start_of(post.day)
    todo = Todo(
        text=task.text,
        origin_day=post.day,
        due_day=task.due,
        done_at=done_at,
        position=positions[post.day],
        created_at=now,
    )
    session.add(todo)
    return todo


def _suggest(
    session: Session,
    source: str,
    post: NotePost,
    entry_id: int | None,
    summary: FileSummary,
    now: datetime,
) -> None:
    for definition in post.definitions:
        exists = session.scalar(
            select(Card.id).where(
                Card.kind == definition.kind,
                Card.front == definition.front.strip(),
                Card.back == definition.back.strip(),
            )
        )
        row = None
        if exists is None:
            row = suggestions.add_in(
                session,
                front=definition.front,
                back=definition.back,
                kind=definition.kind,
                rule=definition.rule,
                source=source,
                line=definition.line,
                day=post.day,
                entry_id=entry_id,
                now=now,
            )
        if row is None:
            summary.skip("suggestions")
        else:
            session.flush()
            summary.add("suggestions")
