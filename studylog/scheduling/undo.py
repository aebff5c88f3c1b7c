"""One undo model for every change to cards: answers, suspend, bury, and bulk operations.

As Anki's (rslib ``undo``: an ``UndoableOp`` is a label plus the changes it
made, each a before-image of a row), an operation is

- a **label** the user sees ("Answer", "Suspend", "Forget 120 cards");
- the **before-images** of the rows it changed (table, primary key, the values
  of the columns it changed, as they were);
- the **after-images** of the same columns (what the operation left), so that
  undo can refuse when something else changed those rows since;
- the **keys of the rows it inserted** (a review row, a tag link), deleted on undo;
- whole images of rows it deleted (a card deleted in the browser), put back on undo.

Undo writes the before-images back and deletes the inserted rows, in one
transaction (:func:`studylog.storage.undo_rows.undo_in`). The model is generic
over tables and row counts, so a bulk action over 10,000 cards is one
operation with 10,000 images. This module is pure: it holds and orders
operations; the storage module reads and writes the rows.

:class:`UndoStack` is the one undo list used by the app's Review screen, the
``studylog review`` loop and :class:`studylog.services.review.ReviewSession`
(the newest operation is undone first).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Key = tuple[Any, ...]
"""A primary key as a tuple of column values, e.g. ``(card_id,)`` or ``(card_id, tag_id)``."""


@dataclass(frozen=True)
class RowImage:
    """Some columns of one row: ``table``, its primary ``key`` and ``values`` (column -> value)."""

    table: str
    key: Key
    values: Mapping[str, Any]


@dataclass(frozen=True)
class UndoOp:
    """One undoable operation (see the module docstring).

    Attributes:
        label: what the user did, as shown after "Undo ..." ("Answer", "Suspend").
        before: the changed columns of each changed row, as they were.
        after: the same columns as the operation left them (same order as ``before``);
            empty to skip the check that nothing changed them since.
        inserted: (table, key) of every row the operation inserted (deleted on undo).
        deleted: whole rows the operation deleted (inserted again on undo, in
            this order: parents before children).
        card_ids: the cards concerned (shown again after undoing an answer).
        kind: a short machine name (``answer``, ``suspend``, ``bury``, ...).
    """

    label: str
    before: tuple[RowImage, ...] = ()
    after: tuple[RowImage, ...] = ()
    inserted: tuple[tuple[str, Key], ...] = ()
    deleted: tuple[RowImage, ...] = ()
    card_ids: tuple[int, ...] = ()
    kind: str = ""

    def __post_init__(self) -> None:
        if self.after and len(self.after) != len(self.before):
            raise ValueError("an UndoOp's after-images must match its before-images one to one")

    def inserted_ids(self, table: str) -> list[Key]:
        """The keys of the rows inserted into ``table``."""
        return [key for t, key in self.inserted if t == table]


def changed_columns(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of ``after`` whose values differ from ``before`` (for a compact image)."""
    return {k: v for k, v in after.items() if before.get(k) != v}


@dataclass
class UndoStack:
    """The operations that can be undone, newest last.

    ``limit``: the most operations kept (the oldest are dropped); None keeps all
    (a study session's answers). Anki keeps 30 steps of non-review operations.
    """

    limit: int | None = None
    _ops: list[UndoOp] = field(default_factory=list)

    def push(self, op: UndoOp) -> None:
        """Record ``op`` as the newest operation."""
        self._ops.append(op)
        if self.limit is not None and len(self._ops) > self.limit:
            del self._ops[: len(self._ops) - self.limit]

    def peek(self) -> UndoOp | None:
        """The operation :meth:`pop` would return, or None."""
        return self._ops[-1] if self._ops else None

    def pop(self) -> UndoOp:
        """Remove and return the newest operation. Raises IndexError when empty."""
        return self._ops.pop()

    @property
    def can_undo(self) -> bool:
        return bool(self._ops)

    @property
    def label(self) -> str | None:
        """The newest operation's label ("Answer"), for an "Undo Answer" menu item."""
        return self._ops[-1].label if self._ops else None

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[UndoOp]:
        """Oldest first."""
        return iter(self._ops)
