"""``studylog config``: list, get, set and reset the scheduler settings, for the
collection or for one deck's preset (``--deck``; subdecks inherit).

The keys, their types, ranges and explanations are the registry's
(:data:`studylog.scheduling.settings.SETTINGS`): a key added there shows up
here with nothing else to change.
"""

from __future__ import annotations

from typing import Any

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import print_json

DECK_HELP = "A deck's preset instead of the collection ('::' for subdecks, e.g. 딥러닝::RNN)."


@click.group("config")
def config() -> None:
    """Scheduler settings: list, get, set, reset (per deck with --deck; subdecks inherit)."""


def json_value(key: str, value: Any) -> Any:
    """A typed value as JSON: numbers, booleans and names as they are, steps as Anki
    writes them (``"1m 10m"``), the system time zone as ``"system"``, sequences as lists."""
    from studylog.scheduling import settings as defs

    definition = defs.SETTINGS[key]
    if definition.kind in ("durations", "timezone"):
        return definition.format(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _source_note(source: str, deck: str | None) -> str:
    if deck is None or source == deck:
        return ""
    return " (collection)" if source == "collection" else f" (from {source})"


@config.command("list")
@click.option("--deck", metavar="DECK", help=DECK_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object of key to value.")
@pass_app
def list_command(app: AppContext, deck: str | None, as_json: bool) -> None:
    """Every setting with its value and what it means.

    With --deck, the values that deck's cards are scheduled with: its own
    preset's, else its nearest parent's, else the collection's (shown after
    the value). Keys only the collection has are left out.
    """
    from studylog.scheduling import settings as defs
    from studylog.services import settings

    found = settings.effective(app.database(), deck)
    keys = list(defs.SETTINGS) if deck is None else list(defs.DECK_KEYS)
    if as_json:
        print_json({k: json_value(k, found.values[k]) for k in keys})
        return
    width = max(map(len, keys))
    for key in keys:
        definition = defs.SETTINGS[key]
        shown = definition.format(found.values[key])
        if definition.kind == "floats":
            shown = f"{len(found.values[key])} values (config get {key})"
        note = _source_note(found.sources[key], deck)
        click.echo(f"{key:<{width}}  {shown}{note}")
        click.echo(f"{'':<{width}}  {definition.help}; {definition.allowed}")


@config.command("presets")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: deck -> {key: value}.")
@pass_app
def presets_command(app: AppContext, as_json: bool) -> None:
    """The decks that set settings of their own, and what each sets."""
    from studylog.scheduling import settings as defs
    from studylog.services import settings

    found = settings.deck_settings(app.database()).presets
    if as_json:
        print_json({d: {k: json_value(k, v) for k, v in ks.items()} for d, ks in found.items()})
        return
    if not found:
        click.echo("No deck sets its own settings (config set --deck DECK KEY VALUE).")
        return
    for deck, keys in sorted(found.items()):
        click.echo(deck)
        for key, value in keys.items():
            click.echo(f"  {key} = {defs.SETTINGS[key].format(value)}")


@config.command("get")
@click.argument("key")
@click.option("--deck", metavar="DECK", help=DECK_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: key, value, source.")
@pass_app
def get_command(app: AppContext, key: str, deck: str | None, as_json: bool) -> None:
    """One setting's value (with --deck, the value that deck's cards use)."""
    from studylog.scheduling import settings as defs
    from studylog.services import settings

    definition = defs.setting(key) if deck is None else defs.deck_setting(key)
    found = settings.effective(app.database(), deck)
    value = found.values[definition.key]
    if as_json:
        print_json(
            {
                "key": definition.key,
                "value": json_value(definition.key, value),
                "source": found.sources[definition.key],
            }
        )
        return
    click.echo(definition.format(value) + _source_note(found.sources[definition.key], deck))


def _report(done: Any) -> None:
    if done.reschedule is not None and done.reschedule.cards:
        r = done.reschedule
        how = "history replayed" if r.full_replay else "due dates recomputed"
        click.echo(f"Rescheduled {r.cards:,} cards ({how}; {r.due_changed:,} due dates moved).")


@config.command("set", context_settings={"ignore_unknown_options": True})
@click.option("--deck", metavar="DECK", help=DECK_HELP)
@click.option("--preset", metavar="NAME", help="A shared preset (studylog preset list).")
@click.argument("key")
@click.argument("value")
@pass_app
def set_command(
    app: AppContext, deck: str | None, preset: str | None, key: str, value: str
) -> None:
    """Set KEY to VALUE, for the collection, one deck's preset or a shared preset.

    VALUE as you would type it: 0.85, '1m 10m' (steps: s, m, h, d), true/false,
    Asia/Seoul. A bad key or value changes nothing. Changing retention, steps,
    maximum interval or fuzz reschedules the cards concerned.

    --deck edits the deck's own preset; when the deck uses a shared preset
    (deck set-preset), the deck first gets its own copy of it (as Anki's
    Clone) and the shared preset stays as it is. --preset edits a shared
    preset for every deck that uses it (undo with: studylog card undo).

    \b
    Examples:
      studylog config set desired_retention 0.85
      studylog config set learning_steps "1m 10m 1h"
      studylog config set --deck "딥러닝::RNN" new_per_day 5
      studylog config set --preset 시험 desired_retention 0.95
    """
    from studylog.errors import InvalidInputError
    from studylog.scheduling import settings as defs
    from studylog.services import settings

    if deck is not None and preset is not None:
        raise InvalidInputError("config set: give --deck or --preset, not both")
    definition = defs.setting(key) if deck is None and preset is None else defs.deck_setting(key)
    typed = definition.parse(value)
    db = app.database()
    if preset is not None:
        from studylog.services import presets

        done = presets.update(db, preset, {definition.key: typed})
        click.echo(f"{definition.key} = {definition.format(typed)} in preset {preset.strip()}.")
        if done.rescheduled:
            click.echo(f"Rescheduled {done.rescheduled:,} cards.")
        return
    if deck is None:
        done = settings.update(db, {definition.key: typed})
        where = ""
    else:
        done = settings.update_deck(db, deck, {definition.key: typed})
        where = f" for deck {deck} and the subdecks that inherit it"
    click.echo(f"{definition.key} = {definition.format(done.values[definition.key])}{where}.")
    _report(done)


@config.command("reset")
@click.option("--deck", metavar="DECK", help=DECK_HELP)
@click.argument("keys", metavar="KEY...", nargs=-1, required=True)
@pass_app
def reset_command(app: AppContext, deck: str | None, keys: tuple[str, ...]) -> None:
    """Put KEYs back to their defaults; with --deck, the deck inherits them again
    (from its nearest parent that sets them, else the collection)."""
    from studylog.scheduling import settings as defs
    from studylog.services import settings

    db = app.database()
    if deck is None:
        names = [defs.setting(k).key for k in keys]
        done = settings.reset(db, *names)
    else:
        names = [defs.deck_setting(k).key for k in keys]
        done = settings.reset_deck(db, deck, *names)
    for key in names:
        found = defs.SETTINGS[key].format(done.values[key])
        click.echo(f"{key} = {found}" + ("" if deck is None else f" for deck {deck}") + ".")
    _report(done)
