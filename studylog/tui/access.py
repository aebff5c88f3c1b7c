"""Typed access to the studylog app from its screens and widgets.

A screen or widget class that uses the app's own API says so with one line::

    class TodayScreen(Screen[None]):
        app = studylog_app()

and ``self.app`` is then a :class:`~studylog.tui.app.StudylogApp` for the type
checker (``self.app.db``, ``self.app.now()``, ``self.app.open_concept(...)``)
and is checked at run time: a screen mounted in another app fails with a
clear TypeError instead of an AttributeError somewhere later.

This is Textual's ``textual.getters.app`` with one difference: that one needs
the app class when the screen class is created, but the app module imports
the screens (its registry of modes), so here the class is looked up the
first time ``app`` is read, then kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from studylog.tui.app import StudylogApp

_APP_CLASS: list[type[StudylogApp]] = []  # the class, once resolved


def _app_class() -> type[StudylogApp]:
    if not _APP_CLASS:
        # Imported on first use: studylog.tui.app imports every screen module.
        from studylog.tui.app import StudylogApp

        _APP_CLASS.append(StudylogApp)
    return _APP_CLASS[0]


class studylog_app:  # noqa: N801 - used like a property: ``app = studylog_app()``
    """The ``app`` of a screen, widget or palette provider, typed as the studylog app
    (see the module docstring). Textual's own ``app`` (of the base class) finds it."""

    _owner: type[Any]

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._owner = owner

    @overload
    def __get__(self, obj: None, objtype: type) -> studylog_app: ...

    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> StudylogApp: ...

    def __get__(self, obj: Any, objtype: type | None = None) -> StudylogApp | studylog_app:
        if obj is None:
            return self
        base: Any = super(self._owner, obj)  # Textual's own ``app`` of the base class
        return as_studylog_app(base.app, obj)


def as_studylog_app(app: object, user: object) -> StudylogApp:
    """``app`` as the studylog app; TypeError naming ``user`` when it is another app."""
    if not isinstance(app, _app_class()):
        raise TypeError(f"{type(user).__name__} runs only inside the studylog app, not {app!r}")
    return app
