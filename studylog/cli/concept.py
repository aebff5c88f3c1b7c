"""``studylog concept``: the pack's concepts and the user's own."""

from __future__ import annotations

from pathlib import Path

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json


@click.group()
def concept() -> None:
    """Concepts: add, list, show, edit (in the concept file format, docs/concept-format.md)."""


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None


@concept.command("add")
@click.option("--file", "file", type=click.Path(path_type=Path), help="A concept file to add.")
@click.option("--slug", help="With --title and no --file: start from a template in $EDITOR.")
@click.option("--title")
@pass_app
def add(app: AppContext, file: Path | None, slug: str | None, title: str | None) -> None:
    """Add your own concept from a file, or write one in $EDITOR."""
    from studylog.services import concepts

    if file is not None:
        text = _read_file(file)
    else:
        edited = click.edit(concepts.template(slug or "", title or ""), extension=".md")
        if edited is None:
            click.echo("Nothing added.")
            return
        text = edited
    info = concepts.add(app.database(), text, now=app.now())
    click.echo(f"Added concept {info.slug} with {len(info.cards)} card(s).")


@concept.command("list")
@click.option("--tag")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: AppContext, tag: str | None, as_json: bool) -> None:
    """List concepts."""
    from rich.table import Table

    from studylog.services import concepts

    items = concepts.list_concepts(app.database(), tag=tag)
    if as_json:
        print_json(items)
        return
    table = Table(box=None, header_style="bold")
    for name in ("slug", "title", "aliases", "cards", "demo", "from"):
        table.add_column(name, no_wrap=name in ("slug", "cards", "demo", "from"))
    for c in items:
        origin = "yours (edited pack)" if c.user_modified else c.origin
        table.add_row(
            c.slug,
            c.title,
            ", ".join(c.aliases[:3]),
            str(c.card_count),
            "▶" if c.has_demo else "",
            origin,
        )
    console().print(table)


@concept.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, slug: str, as_json: bool) -> None:
    """Show a concept's explanation and cards."""
    from rich.markdown import Markdown

    from studylog.services import concepts

    info = concepts.get(app.database(), slug)
    if as_json:
        print_json(info)
        return
    out = console()
    out.print(f"[bold]{info.title}[/]  [dim]{info.slug} · {', '.join(info.aliases)}[/]")
    if info.tags:
        out.print("[dim]tags: " + " ".join(f"#{t}" for t in info.tags) + "[/]")
    out.print(Markdown(info.body))
    if info.sources:
        out.print("[bold]Sources[/]")
        for source in info.sources:
            out.print(f"  • {source}")
    if info.cards:
        out.print(f"[bold]Cards ({len(info.cards)})[/]")
        for c in info.cards:
            out.print(f"  [dim]{c.id:>5}[/] {c.front.splitlines()[0][:90]}")
    if info.demo or info.demo_code:
        out.print(f"[dim]Run its demo: studylog demo run {info.slug}[/]")


@concept.command("edit")
@click.argument("slug")
@click.option(
    "--file", "file", type=click.Path(path_type=Path), help="Take the new text from a file."
)
@pass_app
def edit(app: AppContext, slug: str, file: Path | None) -> None:
    """Edit a concept in $EDITOR (a pack concept becomes your own copy; the pack file is untouched)."""
    from studylog.services import concepts

    db = app.database()
    if file is not None:
        text = _read_file(file)
    else:
        original = concepts.to_markdown(concepts.get(db, slug))
        edited = click.edit(original, extension=".md")
        if edited is None or edited == original:
            click.echo("Unchanged.")
            return
        text = edited
    info = concepts.edit(db, slug, text, now=app.now())
    click.echo(f"Saved concept {info.slug} ({len(info.cards)} card(s)).")


@concept.command("revert")
@click.argument("slug")
@pass_app
def revert(app: AppContext, slug: str) -> None:
    """Drop your edits of a pack concept and take the pack's version again (cards keep their history)."""
    from studylog.services import concepts

    info = concepts.revert_to_pack(app.database(), slug, now=app.now())
    click.echo(f"Reverted {info.slug} to the pack's version.")


@concept.command("approve")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Approve without asking (after showing the code).")
@pass_app
def approve(app: AppContext, slug: str, yes: bool) -> None:
    """Read the code an imported concept brings (its exercises' checks, its computed-card
    templates), then approve it so that it may run.

    Like `demo approve`: code that came in through an import runs only once approved,
    and the approval is for this exact code (by sha256). The demo itself is approved with
    `studylog demo approve SLUG`.
    """
    from rich.syntax import Syntax

    from studylog.services import computed, exercises
    from studylog.services import concepts as concept_service

    db = app.database()
    concept_service.get(db, slug)  # NotFoundError for an unknown slug
    waiting_exercises = [e for e in exercises.of_concept(db, slug) if not e.trusted]
    waiting_templates = [t for t in computed.of_concept(db, slug) if not t.trusted]
    if not waiting_exercises and not waiting_templates:
        click.echo(f"Nothing of {slug} waits for approval (its exercises and templates may run).")
        return
    out = console()
    for exercise in waiting_exercises:
        out.print(f"[bold]Checks of exercise {exercise.id}[/bold] (from an import)")
        out.print(Syntax(exercise.checks, "python", line_numbers=True, word_wrap=True))
        for name, code in exercise.files:
            out.print(f"[bold]{name}[/bold] (the concept's demo code, the reference)")
            out.print(Syntax(code, "python", line_numbers=True, word_wrap=True))
    for template in waiting_templates:
        out.print(f"[bold]Template of computed card {template.id}[/bold] (from an import)")
        out.print(Syntax(template.template, "python", line_numbers=True, word_wrap=True))
    if not yes and not click.confirm(
        "Allow this code to run on your computer when you ask for it?", default=False
    ):
        click.echo("Not approved.")
        click.get_current_context().exit(1)
    for exercise in waiting_exercises:
        exercises.approve(db, exercise, now=app.now())
    for template in waiting_templates:
        computed.approve(db, template, now=app.now())
    click.echo(
        f"Approved {len(waiting_exercises)} exercise(s) and {len(waiting_templates)} "
        f"template(s) of {slug}."
    )
