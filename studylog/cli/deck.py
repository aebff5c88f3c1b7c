"""``studylog deck``: the deck list with today's counts, rename, move cards, delete."""

from __future__ import annotations

from typing import Any

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json


@click.group()
def deck() -> None:
    """Decks (Anki's :: hierarchy): list with counts, rename, move-cards, delete."""


@deck.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_command(app: AppContext, as_json: bool) -> None:
    """Every deck with today's new / learning / due counts, daily limits applied.

    A parent's counts include its subdecks', each capped by the subdeck's own
    limits, and the total is capped by the parent's (Anki's v3 scheduler).
    """
    from rich.markup import escape
    from rich.table import Table

    from studylog.services import decks

    listing = decks.list_decks(app.database(), now=app.now())
    if as_json:
        print_json(listing)
        return
    out = console()
    if not listing.decks:
        out.print(
            '[dim]No decks yet: a card\'s deck is made with it (studylog card add ... --deck "딥러닝::RNN").[/]'
        )
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("deck", no_wrap=True, overflow="ellipsis")
    table.add_column("new", justify="right", style="blue")
    table.add_column("learn", justify="right", style="red")
    table.add_column("due", justify="right", style="green")
    table.add_column("cards", justify="right", style="dim")
    for row in listing.decks:
        table.add_row(
            "  " * (row.level - 1) + escape(row.short),
            str(row.new),
            str(row.learning),
            str(row.review),
            str(row.total),
        )
    out.print(table)
    out.print(
        f"[dim]today ({listing.day.isoformat()}), reviewing everything:[/] "
        f"[blue]{listing.new}[/] new · [red]{listing.learning}[/] learning · "
        f"[green]{listing.review}[/] due"
    )


def _two_deck_command(name: str, first: str, second: str, action: str, doc: str) -> Any:
    """A ``studylog deck NAME FIRST SECOND`` command that runs ``services.decks.<action>``
    (one undoable transaction) and prints what it did."""

    @deck.command(name, help=f"{doc}\n\nUndo with: studylog card undo")
    @click.argument(first)
    @click.argument(second)
    @pass_app
    def command(app: AppContext, **names: str) -> None:
        from studylog.services import decks

        done = getattr(decks, action)(app.database(), names[first], names[second], now=app.now())
        click.echo(f"{done.label}.")

    return command


rename_command = _two_deck_command(
    "rename",
    "old",
    "new",
    "rename",
    "Rename deck OLD to NEW; its subdecks follow (NEW may be under another deck: A::B).",
)
move_cards_command = _two_deck_command(
    "move-cards",
    "source",
    "target",
    "move_cards",
    "Move every card of deck SOURCE (and its subdecks) into deck TARGET.",
)


@deck.command("delete")
@click.argument("name")
@click.option(
    "--delete-cards",
    is_flag=True,
    help="Delete the cards too, with their review history (default: move them to Default).",
)
@click.option("--yes", is_flag=True, help="Do not ask.")
@pass_app
def delete_command(app: AppContext, name: str, delete_cards: bool, yes: bool) -> None:
    """Delete deck NAME and its subdecks; their cards move to Default (or are deleted).

    Asks first (unless --yes). Undo with: studylog card undo
    """
    from studylog.services import decks

    db = app.database()
    found = decks.find(db, name, now=app.now())
    if not yes:
        what = (
            f"and its {found.total} card(s) with their review history"
            if delete_cards
            else f"({found.total} card(s) move to Default)"
        )
        click.confirm(f"Delete deck {found.name} {what}?", abort=True)
    done = decks.delete(db, found.name, delete_cards=delete_cards, now=app.now())
    click.echo(f"{done.label}.")


@deck.command("set-preset")
@click.argument("name")
@click.argument("preset")
@pass_app
def set_preset_command(app: AppContext, name: str, preset: str) -> None:
    """Make deck NAME use PRESET (a shared preset, or Default); its subdecks inherit.

    The deck's own settings (config set --deck), if any, are dropped.
    Undo with: studylog card undo
    """
    from studylog.services import presets

    done = presets.set_deck_preset(app.database(), name, preset)
    click.echo(f"{done.label}.")
    if done.rescheduled:
        click.echo(f"Rescheduled {done.rescheduled:,} cards.")
