"""TODOs that carry over: an open item of an earlier day shows in every later day until done.

A TODO belongs to its ``origin_day`` for good: carrying over is a view, old
days are never rewritten. Viewing study day D shows
- the items whose origin day is D, and
- the items of earlier days that were still open on D: not done, or done on
  D or later (``done_at`` falls on or after the start of D).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Row, func, or_, select

from studylog.errors import InvalidInputError, NotFoundError
from studylog.storage.engine import Database
from studylog.storage.tables import todos
from studylog.studyday import StudyCalendar, utcnow

if TYPE_CHECKING:
    # The day's list and the open count are Core selects (``studylog today`` loads no
    # ORM); the model is imported by the functions that change or load one TODO.
    from sqlalchemy.orm import Session

    from studylog.storage.models import Todo


@dataclass(frozen=True)
class TodoInfo:
    """A TODO as shown on a study day; ``carried`` is True when it comes from an earlier day."""

    id: int
    text: str
    origin_day: date
    due_day: date | None
    done_at: datetime | None
    position: int
    carried: bool

    @property
    def done(self) -> bool:
        return self.done_at is not None


def _info(
    todo: Todo | Row, viewed_day: date | None = None, view_end: datetime | None = None
) -> TodoInfo:
    carried = viewed_day is not None and todo.origin_day < viewed_day
    done_at = todo.done_at
    if view_end is not None and done_at is not None and done_at >= view_end:
        done_at = None  # done on a later day: on the viewed day it was still open
    return TodoInfo(
        todo.id, todo.text, todo.origin_day, todo.due_day, done_at, todo.position, carried
    )


def _load(session: Session, todo_id: int) -> Todo:
    from studylog.storage.models import Todo

    todo = session.get(Todo, todo_id)
    if todo is None:
        raise NotFoundError(f"no TODO with id {todo_id}")
    return todo


def _check(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInputError("the TODO text is empty")
    return text


def add(
    db: Database,
    text: str,
    day: date,
    *,
    due_day: date | None = None,
    done: bool = False,
    now: datetime | None = None,
) -> TodoInfo:
    """Add a TODO to study day ``day`` at the end of that day's list.

    Raises:
        InvalidInputError: for empty text.
    """
    from studylog.storage.models import Todo

    text = _check(text)
    moment = now or utcnow()
    with db.write() as session:
        last = session.scalar(select(func.max(Todo.position)).where(Todo.origin_day == day))
        todo = Todo(
            text=text,
            origin_day=day,
            due_day=due_day,
            done_at=moment if done else None,
            position=(last + 1) if last is not None else 0,
            created_at=moment,
        )
        session.add(todo)
        session.flush()
        return _info(todo)


def complete(db: Database, todo_id: int, *, now: datetime | None = None) -> TodoInfo:
    """Mark a TODO done now (done again keeps the first time)."""
    with db.write() as session:
        todo = _load(session, todo_id)
        if todo.done_at is None:
            todo.done_at = now or utcnow()
        session.flush()
        return _info(todo)


def reopen(db: Database, todo_id: int) -> TodoInfo:
    """Mark a done TODO open again."""
    with db.write() as session:
        todo = _load(session, todo_id)
        todo.done_at = None
        session.flush()
        return _info(todo)


def toggle(db: Database, todo_id: int, *, now: datetime | None = None) -> TodoInfo:
    """Done <-> open."""
    with db.read() as session:
        done = _load(session, todo_id).done_at is not None
    return reopen(db, todo_id) if done else complete(db, todo_id, now=now)


def edit(
    db: Database, todo_id: int, *, text: str | None = None, due_day: date | None = None
) -> TodoInfo:
    """Change a TODO's text or due day."""
    with db.write() as session:
        todo = _load(session, todo_id)
        if text is not None:
            todo.text = _check(text)
        if due_day is not None:
            todo.due_day = due_day
        session.flush()
        return _info(todo)


def delete(db: Database, todo_id: int) -> None:
    """Delete a TODO. Raises NotFoundError."""
    with db.write() as session:
        session.delete(_load(session, todo_id))


def move(db: Database, todo_id: int, offset: int) -> TodoInfo:
    """Move a TODO ``offset`` places up (negative) or down in its origin day's list."""
    from studylog.storage.models import Todo

    with db.write() as session:
        todo = _load(session, todo_id)
        siblings = list(
            session.scalars(
                select(Todo)
                .where(Todo.origin_day == todo.origin_day)
                .order_by(Todo.position, Todo.id)
            )
        )
        index = siblings.index(todo)
        target = max(0, min(len(siblings) - 1, index + offset))
        siblings.insert(target, siblings.pop(index))
        for position, item in enumerate(siblings):
            item.position = position
        session.flush()
        return _info(todo)


def for_day(db: Database, day: date, calendar: StudyCalendar) -> list[TodoInfo]:
    """The TODO list of study day ``day``: carried-over items first (oldest origin first),
    then the day's own, each in its list order."""
    start, end = calendar.start_of(day), calendar.end_of(day)
    t = todos.c
    with db.read_connection() as conn:
        # Plain rows, not ORM objects: years of carried-over items stay cheap.
        rows = conn.execute(
            select(t.id, t.text, t.origin_day, t.due_day, t.done_at, t.position)
            .where(
                or_(
                    t.origin_day == day,
                    (t.origin_day < day) & (or_(t.done_at.is_(None), t.done_at >= start)),
                )
            )
            .order_by(t.origin_day, t.position, t.id)
        )
        return [_info(row, day, end) for row in rows]


def open_count(db: Database) -> int:
    """How many TODOs are not done."""
    t = todos.c
    with db.read_connection() as conn:
        return conn.scalar(select(func.count(t.id)).where(t.done_at.is_(None))) or 0
