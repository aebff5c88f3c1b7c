"""``studylog search``: entries, TODOs, cards and concepts, Korean included."""

from __future__ import annotations

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["entry", "todo", "card", "concept"]),
    help="Only these kinds (repeatable).",
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def search_command(
    app: AppContext, query: tuple[str, ...], kinds: tuple[str, ...], limit: int, as_json: bool
) -> None:
    """Find QUERY (every word must occur) in entries, TODOs, cards and concepts."""
    from rich.text import Text

    from studylog.services import search

    hits = search.search(app.database(), " ".join(query), kinds=kinds or search.KINDS, limit=limit)
    if as_json:
        print_json(hits)
        return
    out = console()
    if not hits:
        out.print("[dim]No matches.[/]")
        return
    for hit in hits:
        line = Text.assemble(
            (f"{hit.kind:<7} ", "cyan"), (hit.title, "bold"), (f" ({hit.ref})", "dim")
        )
        snippet = Text("        " + hit.snippet)
        snippet.highlight_regex(r"\[[^\]]*\]", "bold yellow")
        out.print(line)
        out.print(snippet)
