"""``studylog todo``: TODOs that carry over to later days until they are done."""

from __future__ import annotations

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json


@click.group()
def todo() -> None:
    """Add, list, complete, reopen, edit, move and remove TODOs."""


@todo.command("add")
@click.argument("text")
@click.option("--date", "day", metavar="DAY", help="The study day it belongs to (default today).")
@click.option("--due", metavar="DAY", help="Optional due day (YYYY-MM-DD, today, tomorrow).")
@pass_app
def add(app: AppContext, text: str, day: str | None, due: str | None) -> None:
    """Add a TODO."""
    from studylog.services import todos

    item = todos.add(
        app.database(),
        text,
        app.parse_day(day),
        due_day=app.parse_day(due) if due else None,
        now=app.now(),
    )
    click.echo(f"Added TODO {item.id} to {item.origin_day.isoformat()}.")


@todo.command("list")
@click.option("--date", "day", metavar="DAY", help="The study day (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: AppContext, day: str | None, as_json: bool) -> None:
    """The day's TODOs, with open ones carried over from earlier days."""
    from studylog.services import todos

    items = todos.for_day(app.database(), app.parse_day(day), app.calendar)
    if as_json:
        print_json(items)
        return
    out = console()
    if not items:
        out.print("[dim]No TODOs.[/]")
    for item in items:
        mark = "[green]✓[/]" if item.done else "☐"
        origin = f"  [dim]↪ {item.origin_day.isoformat()}[/]" if item.carried else ""
        out.print(f"{item.id:>5} {mark} {item.text}{origin}")


def _simple(name: str, help_text: str, action: str) -> None:
    @todo.command(name, help=help_text)
    @click.argument("todo_id", type=int)
    @pass_app
    def command(app: AppContext, todo_id: int) -> None:
        from studylog.services import todos

        db = app.database()
        if action == "done":
            item = todos.complete(db, todo_id, now=app.now())
            click.echo(f"Done: {item.text}")
        elif action == "reopen":
            item = todos.reopen(db, todo_id)
            click.echo(f"Reopened: {item.text}")
        else:
            todos.delete(db, todo_id)
            click.echo(f"Removed TODO {todo_id}.")


_simple("done", "Mark a TODO done.", "done")
_simple("reopen", "Mark a done TODO open again.", "reopen")
_simple("rm", "Remove a TODO.", "rm")


@todo.command("edit")
@click.argument("todo_id", type=int)
@click.argument("text", required=False)
@click.option("--due", metavar="DAY", help="New due day.")
@pass_app
def edit(app: AppContext, todo_id: int, text: str | None, due: str | None) -> None:
    """Change a TODO's text or due day."""
    from studylog.services import todos

    item = todos.edit(
        app.database(), todo_id, text=text, due_day=app.parse_day(due) if due else None
    )
    click.echo(f"TODO {item.id}: {item.text}")


@todo.command("move")
@click.argument("todo_id", type=int)
@click.argument("direction", type=click.Choice(["up", "down"]))
@click.option("--by", "places", type=click.IntRange(min=1), default=1, help="How many places.")
@pass_app
def move(app: AppContext, todo_id: int, direction: str, places: int) -> None:
    """Move a TODO up or down in its day's list."""
    from studylog.services import todos

    item = todos.move(app.database(), todo_id, -places if direction == "up" else places)
    click.echo(f"TODO {item.id} is now at position {item.position + 1}.")
