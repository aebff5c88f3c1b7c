"""Tags shared by cards and concepts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError
from studylog.storage.models import Tag


def normalise(names: Iterable[str]) -> list[str]:
    """Trim, drop empties and duplicates (keeping order); a leading '#' is dropped.

    Raises:
        InvalidInputError: for a tag containing white space.
    """
    seen: dict[str, None] = {}
    for raw in names:
        name = raw.strip().lstrip("#")
        if not name:
            continue
        if any(ch.isspace() for ch in name):
            raise InvalidInputError(f"a tag cannot contain spaces: {raw!r}")
        seen.setdefault(name, None)
    return list(seen)


def get_or_create(session: Session, names: Iterable[str]) -> list[Tag]:
    """The Tag rows for ``names``, creating the missing ones."""
    wanted = normalise(names)
    if not wanted:
        return []
    # Tags added earlier in this transaction but not flushed yet (callers may
    # run with autoflush off) count as existing too.
    found = {t.name: t for t in session.new if isinstance(t, Tag) and t.name in wanted}
    found.update((t.name, t) for t in session.scalars(select(Tag).where(Tag.name.in_(wanted))))
    tags = []
    for name in wanted:
        tag = found.get(name)
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
            found[name] = tag
        tags.append(tag)
    return tags
