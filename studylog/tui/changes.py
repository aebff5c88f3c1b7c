"""One change signal: after any write, what is on screen shows the collection as it is.

* A screen that writes calls ``self.app.collection_changed(self)``; it has
  already updated itself in place (a toggled TODO, a saved entry).
* The app polls the database's data version about once a second
  (:class:`studylog.services.changes.ChangeWatch`): a write by the CLI in
  another process, or by a worker of this one, is seen within a second.

Either way the app posts one :class:`CollectionChanged` and handles it in one
place (``StudylogApp._collection_changed``): it starts a new generation of
:class:`ReadCache` (reads made before the change are never shown again) and
tells every :class:`CollectionScreen`, which re-reads now if it is on screen and
when it is shown again otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from textual import on
from textual.events import ScreenResume
from textual.message import Message
from textual.screen import Screen

from studylog.tui.access import studylog_app


class CollectionChanged(Message):
    """Something in the collection was written.

    ``origin``: the screen that wrote it and has shown it already, or None when
    the data-version poll saw a commit (another process, a worker, any screen).
    """

    def __init__(self, origin: object | None = None) -> None:
        super().__init__()
        self.origin = origin


class ReadCache:
    """Reads kept for the current generation of the collection (at most ``size``).

    :meth:`new_generation` (on every :class:`CollectionChanged`) drops them all;
    a read begun in an older generation is not stored when it arrives.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.generation = 0
        self._values: OrderedDict[Hashable, Any] = OrderedDict()

    def new_generation(self) -> None:
        self.generation += 1
        self._values.clear()

    def get(self, key: Hashable) -> Any | None:
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def put(self, generation: int, key: Hashable, value: Any) -> bool:
        """Keep ``value`` read in ``generation``; False (not kept) when that is over."""
        if generation != self.generation:
            return False
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)
        return True

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values


class CollectionScreen(Screen[None]):
    """A screen that shows collection data: :meth:`refresh_collection` re-reads it.

    It is called after a change made elsewhere, at once when the screen is shown,
    else when it is shown again; a change the screen made itself (``origin``) is
    already on it.
    """

    app = studylog_app()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stale = False  # the collection changed while another screen was shown

    def collection_changed(self, change: CollectionChanged) -> None:
        if change.origin is self:
            return
        if self.is_current:
            self.refresh_collection()
        else:
            self.stale = True

    def refresh_collection(self) -> None:
        """Re-read what the screen shows (in a worker), keeping cursors and unsaved text."""

    @on(ScreenResume)
    def _refresh_if_stale(self) -> None:
        if self.stale:
            self.stale = False
            self.refresh_collection()
