"""``studylog demo``: list, run, show and approve concept demos.

The database comes from the click context object (``ctx.obj.database()``).
Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import os
from typing import Any

import click

from studylog.cli.output import print_json
from studylog.errors import StudylogError

# Exit code of `demo run` when the demo did not end with status ok.
EXIT_NOT_OK = 1
MAX_WIDTH = 120


class _DemoGroup(click.Group):
    """Turns StudylogError into one line on stderr and exit code 1, also when used on its own."""

    def invoke(self, ctx: click.Context) -> Any:
        from studylog.cli.output import inert_streams
        from studylog.inert import inert

        try:
            with inert_streams():
                return super().invoke(ctx)
        except StudylogError as exc:
            raise click.ClickException(inert(str(exc))) from None


@click.group(cls=_DemoGroup)
def demo() -> None:
    """Concept demos: small NumPy programs whose outputs show like a notebook cell.

    Write your own with the output API in docs/demos.md and run it by path.
    """


def _console():  # noqa: ANN202 - rich Console, imported lazily
    from studylog.cli.output import console

    return console()


def _looks_like_path(target: str) -> bool:
    return target.endswith(".py") or os.sep in target or "/" in target


def _print_json(data: Any) -> None:
    from studylog.demo.runner import json_safe

    print_json(json_safe(data))


_LIST_COLUMNS = ("slug", "code", "last run", "title")


@demo.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(app: Any, as_json: bool) -> None:
    """List the concepts that have a demo, with their last result."""
    from rich.cells import cell_len
    from rich.table import Table

    from studylog.services import demos

    entries = demos.list_demos(app.database())
    if as_json:
        _print_json(
            [
                {
                    "slug": e.slug,
                    "title": e.title,
                    "origin": e.origin,
                    "demo": e.demo,
                    "trusted": e.trusted,
                    "last_status": e.last_status,
                    "last_duration_ms": e.last_duration_ms,
                    "stale": e.stale,
                    "ran_at": e.ran_at.isoformat() if e.ran_at else None,
                }
                for e in entries
            ]
        )
        return
    console = _console()
    if not entries:
        console.print("No demos yet.")
        return
    rows = []
    for e in entries:
        # The file name is in --json; here only where the code comes from.
        code = "pack" if e.demo else ("own code" if e.origin != "import" else "imported")
        if not e.trusted:
            code += " (not approved)"
        if e.last_status is None:
            last = "never"
        else:
            last = f"{e.last_status} · {e.last_duration_ms} ms"
            if e.stale:
                last += " · stale"
        rows.append((e.slug, code, last, e.title))
    table = Table(box=None, header_style="bold", pad_edge=False)
    # Slug, code and last run keep their full width; the title gets the rest
    # (explicit widths: rich would otherwise squeeze the short columns away).
    widths = [
        max(cell_len(name), *(cell_len(r[k]) for r in rows)) for k, name in enumerate(_LIST_COLUMNS)
    ]
    title_width = max(8, console.width - sum(widths[:3]) - 2 * 3)
    widths[3] = min(widths[3], title_width)
    for name, width in zip(_LIST_COLUMNS, widths, strict=True):
        table.add_column(name, no_wrap=True, width=width, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@demo.command("run")
@click.argument("target", metavar="SLUG|PATH")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=3600),
    default=10.0,
    show_default=True,
    help="Wall-clock limit in seconds.",
)
@click.option(
    "--no-cache", is_flag=True, help="Run even if a fresh result of the same code is stored."
)
@click.pass_context
def run(ctx: click.Context, target: str, as_json: bool, timeout: float, no_cache: bool) -> None:
    """Run a concept's demo (SLUG) or a demo file you wrote (PATH, ending in .py).

    A fresh stored result of the same code (same Python and NumPy) is shown
    instead of running again, unless --no-cache. Exits with 1 unless the
    status is ok.
    """
    from studylog.demo.limits import Limits
    from studylog.services import demos

    db = ctx.obj.database()
    limits = Limits(timeout_s=timeout)
    if _looks_like_path(target):
        outcome = demos.run_path(db, target, limits=limits, use_cache=not no_cache)
    else:
        outcome = demos.run(db, target, limits=limits, use_cache=not no_cache)
    if not outcome.cached:
        notice = demos.sandbox_notice(outcome.result)
        if notice:
            click.echo(f"warning: {notice}", err=True)
    if as_json:
        _print_json(outcome.to_json())
    else:
        _print_run(outcome)
    if not outcome.result.ok:
        ctx.exit(EXIT_NOT_OK)


def _print_run(outcome: Any) -> None:
    from studylog.demo.render import render_result

    console = _console()
    width = min(console.width, MAX_WIDTH)
    console.print(
        render_result(
            outcome.result,
            width=width,
            cached=outcome.cached,
            stale=outcome.stale,
            stale_reason=outcome.stale_reason,
            ran_at=outcome.ran_at,
        ),
        width=width,
    )


@demo.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def show(app: Any, slug: str, as_json: bool) -> None:
    """Show the stored result of a concept's demo without running it."""
    from studylog.services import demos

    outcome = demos.cached(app.database(), slug)
    if outcome is None:
        raise click.ClickException(
            f"{slug} has not been run yet; run it with: studylog demo run {slug}"
        )
    if as_json:
        _print_json(outcome.to_json())
    else:
        _print_run(outcome)


@demo.command("approve")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Approve without asking (after showing the code).")
@click.pass_obj
def approve(app: Any, slug: str, yes: bool) -> None:
    """Read an imported demo's code, then approve it so that it may run.

    Demos that came in through an import (notes, an Anki package, a backup)
    do not run until approved; the approval is for this exact code.
    """
    from rich.syntax import Syntax

    from studylog.services import demos

    db = app.database()
    source = demos.resolve(db, slug)
    if source.trusted:
        click.echo(f"The demo of {slug} needs no approval ({_trust_reason(source.origin)}).")
        return
    console = _console()
    console.print(
        f"[bold]Demo code of {slug}[/bold] (from an import, sha256 {source.trust_hash[:12]})"
    )
    console.print(Syntax(source.code, "python", line_numbers=True, word_wrap=True))
    if not yes and not click.confirm(
        "Allow this code to run on your computer when you ask for it?", default=False
    ):
        click.echo("Not approved.")
        ctx = click.get_current_context()
        ctx.exit(EXIT_NOT_OK)
    demos.approve(db, slug, expected_hash=source.trust_hash)
    click.echo(f"Approved the demo of {slug}; run it with: studylog demo run {slug}")


def _trust_reason(origin: str) -> str:
    return {
        "pack": "it is part of the built-in pack",
        "user": "it is your own code",
    }.get(origin, "it was approved before")
