"""Errors become notifications at the UI edge: a failing service call never ends the app.

Textual stops a widget's message loop and exits the app on an exception that
escapes a handler, so every handler that calls a service is wrapped with
:func:`guarded`. :class:`~studylog.errors.StudylogError` (bad input, a missing
record, a locked or unreadable database) is shown as an error notification.
Anything else is a bug: it is shown too (the user keeps their unsaved text and
the app keeps running) unless the app sets ``raise_unexpected`` (the tests
do), so that bugs still fail tests.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode

from studylog.errors import StudylogError

F = TypeVar("F", bound=Callable[..., Any])


def report(node: DOMNode, error: BaseException) -> None:
    """Notify ``error`` on ``node``'s app, or re-raise it when it is a bug and the app wants bugs."""
    app = node.app
    if isinstance(error, StudylogError):
        app.notify(str(error), title="studylog", severity="error", timeout=8)
        return
    if getattr(app, "raise_unexpected", False):
        raise error
    app.log.error(f"unexpected error: {error!r}")
    app.notify(
        f"{type(error).__name__}: {error}",
        title="Unexpected error (the app keeps running)",
        severity="error",
        timeout=12,
    )


def guarded(method: F) -> F:
    """Wrap a handler or action (sync or async) of a widget, screen or app with :func:`report`."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(self: DOMNode, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except Exception as error:  # noqa: BLE001 - the UI edge
                report(self, error)
                return None

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(method)
    def wrapper(self: DOMNode, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the UI edge
            report(self, error)
            return None

    return wrapper  # type: ignore[return-value]
