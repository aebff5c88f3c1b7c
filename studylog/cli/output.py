"""Printing helpers shared by commands: JSON with Korean kept readable, a rich console."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from typing import Any

import click


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(data: Any) -> str:
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        data = dataclasses.asdict(data)
    elif isinstance(data, list):
        data = [dataclasses.asdict(d) if dataclasses.is_dataclass(d) else d for d in data]
    return json.dumps(data, ensure_ascii=False, indent=2, default=_default)


def print_json(data: Any) -> None:
    click.echo(to_json(data))


def console():  # noqa: ANN201 - rich.console.Console, imported lazily
    from rich.console import Console

    return Console(highlight=False)


def read_text_arg(text: str | None, what: str) -> str:
    """TEXT argument; ``-`` reads standard input (UTF-8)."""
    if text == "-":
        stream = sys.stdin
        raw = getattr(stream, "buffer", None)
        return raw.read().decode("utf-8") if raw is not None else stream.read()
    if text is None:
        raise click.UsageError(f"give the {what}, or - to read it from standard input")
    return text
