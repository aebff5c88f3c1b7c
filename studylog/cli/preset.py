"""``studylog preset``: named scheduling presets that several decks share (Anki's deck
options presets): list, add, rename, delete; ``deck set-preset`` picks a deck's preset and
``config set --preset NAME KEY VALUE`` edits one. Every change is undoable
(``studylog card undo``)."""

from __future__ import annotations

from typing import Any

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import print_json


@click.group("preset")
def preset() -> None:
    """Named presets of scheduling settings, shared by decks (Default: the collection's)."""


def _changed(done: Any) -> None:
    click.echo(f"{done.label}.")
    if done.rescheduled:
        click.echo(f"Rescheduled {done.rescheduled:,} cards. Undo with: studylog card undo")


@preset.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the presets.")
@pass_app
def list_command(app: AppContext, as_json: bool) -> None:
    """Every preset, the keys it sets and the decks that use it.

    Default is the collection's settings (config set KEY VALUE); a deck's own
    preset (config set --deck) is listed under the deck's name.
    """
    from studylog.cli.config import json_value
    from studylog.scheduling import settings as defs
    from studylog.services import presets

    found = presets.list_presets(app.database())
    if as_json:
        print_json(
            [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "values": {k: json_value(k, v) for k, v in p.values.items()},
                    "decks": list(p.decks),
                }
                for p in found
            ]
        )
        return
    for p in found:
        kind = {"default": "the collection's settings", "shared": "shared", "own": "deck's own"}
        used = ", ".join(p.decks) if p.decks else "no deck"
        if len(p.decks) > 5:  # Default's are often most decks: the JSON lists them all
            used = f"{', '.join(p.decks[:3])} and {len(p.decks) - 3} more decks"
        click.echo(f"{p.name} ({kind[p.kind]}; used by {used})")
        if p.kind == "default":
            continue
        if not p.values:
            click.echo("  (sets nothing: every key is the collection's)")
        for key, value in p.values.items():
            click.echo(f"  {key} = {defs.SETTINGS[key].format(value)}")


@preset.command("add")
@click.argument("name")
@click.option("--from", "source", metavar="PRESET", help="Copy the keys of PRESET (a clone).")
@pass_app
def add_command(app: AppContext, name: str, source: str | None) -> None:
    """Add shared preset NAME (empty: the collection's values, or a copy of --from)."""
    from studylog.services import presets

    _changed(presets.add(app.database(), name, from_preset=source))


@preset.command("rename")
@click.argument("old")
@click.argument("new")
@pass_app
def rename_command(app: AppContext, old: str, new: str) -> None:
    """Rename shared preset OLD to NEW (the decks that use it follow)."""
    from studylog.services import presets

    _changed(presets.rename(app.database(), old, new))


@preset.command("delete")
@click.argument("name")
@pass_app
def delete_command(app: AppContext, name: str) -> None:
    """Delete shared preset NAME; its decks fall back to Default (inheriting from their parent)."""
    from studylog.services import presets

    _changed(presets.delete(app.database(), name))
