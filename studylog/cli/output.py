"""Printing helpers shared by commands: JSON with Korean kept readable, a rich console.

This module is the CLI's one way to the terminal, and where untrusted text is
made inert (:func:`studylog.inert.inert`: no escape sequences, no control
characters but newline and tab):

* :func:`inert_streams` wraps ``sys.stdout`` and ``sys.stderr`` for the
  duration of a command, so ``click.echo``, ``print`` and error messages are
  cleaned wherever they come from;
* :func:`console` is the only rich console the CLI makes (a test checks that
  no other module builds one). It writes to the unwrapped stream, so that
  rich's own colours survive, and cleans the text of every segment it renders
  (and link targets) before rich adds its styles.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import click

from studylog.inert import inert


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# json.dumps escapes C0 controls itself; DEL and C1 it leaves raw.
_JSON_RAW_CONTROL = re.compile(r"[\x7f-\x9f]")


def to_json(data: Any) -> str:
    """Indented JSON, Korean kept as it is, every control character as a ``\\u`` escape.

    The data stays exact (a parser gets the same strings back); only the
    terminal never sees a raw control character.
    """
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        data = dataclasses.asdict(data)
    elif isinstance(data, list):
        data = [dataclasses.asdict(d) if dataclasses.is_dataclass(d) else d for d in data]
    text = json.dumps(data, ensure_ascii=False, indent=2, default=_default)
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(data: Any) -> None:
    click.echo(to_json(data))


class InertStream(io.TextIOBase):
    """A text stream that passes everything written through :func:`inert`.

    An escape sequence split over two writes cannot survive either: ESC and
    every C1 control are removed on their own as well.
    """

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(inert(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(getattr(self.raw, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.raw, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.raw, "errors", None)


def unwrapped(stream: Any) -> Any:
    """The stream under an :class:`InertStream` (the stream itself otherwise)."""
    return stream.raw if isinstance(stream, InertStream) else stream


@contextmanager
def inert_streams() -> Iterator[None]:
    """While inside, ``sys.stdout`` and ``sys.stderr`` write only inert text."""
    saved = sys.stdout, sys.stderr
    sys.stdout = InertStream(unwrapped(sys.stdout))  # type: ignore[assignment]
    sys.stderr = InertStream(unwrapped(sys.stderr))  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextmanager
def raw_streams() -> Iterator[None]:
    """While inside, the streams are the real ones (the app draws through its own driver)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = unwrapped(sys.stdout), unwrapped(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def console(*, stderr: bool = False, **options: Any):  # noqa: ANN201 - rich Console, lazily
    """The rich console for CLI output: untrusted text in it is made inert, rich's styles kept.

    ``options`` go to :class:`rich.console.Console` (``file``, ``force_terminal``...).
    """
    from rich.console import Console

    from studylog.cli.inert_console import InertHook
    from studylog.inert import harden_rich_text

    harden_rich_text()
    options.setdefault("file", unwrapped(sys.stderr if stderr else sys.stdout))
    out = Console(highlight=False, stderr=stderr, **options)
    out.push_render_hook(InertHook())
    return out


def read_text_arg(text: str | None, what: str) -> str:
    """TEXT argument; ``-`` reads standard input (UTF-8)."""
    if text == "-":
        stream = sys.stdin
        raw = getattr(stream, "buffer", None)
        return raw.read().decode("utf-8") if raw is not None else stream.read()
    if text is None:
        raise click.UsageError(f"give the {what}, or - to read it from standard input")
    return text
