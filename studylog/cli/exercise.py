"""``studylog exercise``: list, show, start and check the exercises of the concept pack.

Heavy modules are imported inside the commands. ``check`` exits with 1
unless every check passed (like ``demo run`` unless ok).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from studylog.cli.output import print_json
from studylog.errors import InvalidInputError

EXIT_NOT_PASSED = 1


@click.group()
def exercise() -> None:
    """Exercises: write a function of the pack (an LSTM step, layer norm, ...) and check it.

    The checks run your code in the demo sandbox against the pack's reference
    on random inputs (see docs/exercises.md).
    """


def _console():  # noqa: ANN202 - rich Console, imported lazily
    from studylog.cli.output import console

    return console()


@exercise.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{id, concept, title}].")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the exercises (ids are SLUG.FUNCTION)."""
    from rich.table import Table

    from studylog.services import exercises

    found = exercises.catalog()
    known = {e.id for e in found}
    # The learner's own concepts' exercises (and imported ones) after the pack's.
    found += [e for e in exercises.of_collection(ctx.obj.database()) if e.id not in known]
    if as_json:
        print_json([e.to_json() for e in found])
        return
    console = _console()
    if not found:
        console.print("No exercises.")
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("title")
    for e in found:
        table.add_row(e.id, e.title)
    console.print(table)


@exercise.command()
@click.argument("exercise_id", metavar="ID")
@click.pass_context
def show(ctx: click.Context, exercise_id: str) -> None:
    """Show an exercise's task and its starter code."""
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    from studylog.services import exercises

    found = exercises.find(ctx.obj.database(), exercise_id)
    console = _console()
    console.print(f"[bold]{found.id}[/bold]: {found.title}  ({found.concept})", markup=True)
    console.print(Markdown(found.task))
    console.print()
    console.print(Syntax(exercises.starter(found), "python", word_wrap=True))


def _write_new(path: Path, text: str, force: bool) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file renamed into place)."""
    if path.exists() and not force:
        raise InvalidInputError(f"{path} exists already (use --force to replace it)")
    if not path.parent.is_dir():
        raise InvalidInputError(f"{path.parent} is not a folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@exercise.command()
@click.argument("exercise_id", metavar="ID")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("--starter", "fresh", is_flag=True, help="The starter even if there is an attempt.")
@click.pass_context
def start(ctx: click.Context, exercise_id: str, out: Path | None, force: bool, fresh: bool) -> None:
    """Print your last attempt, or the starter code (signature, docstring, NotImplementedError).

    With --out FILE, write it there instead (whole or not at all).
    """
    from studylog.services import exercises

    found = exercises.find(ctx.obj.database(), exercise_id)
    last = None if fresh else exercises.last_attempt(ctx.obj.database(), found.id)
    text = last.code if last is not None else exercises.starter(found)
    if out is None:
        click.echo(text, nl=False)
        return
    _write_new(out, text, force)
    click.echo(f"wrote {out}; check it with: studylog exercise check {found.id} {out}")


def _read_attempt(file: str) -> str:
    import sys

    try:
        if file == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        return Path(file).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InvalidInputError(f"{file}: cannot read ({exc.strerror})") from None


@exercise.command()
@click.argument("exercise_id", metavar="ID")
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {status, duration_ms, checks}.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10.0,
    show_default=True,
    help="Wall-clock limit in seconds.",
)
@click.pass_context
def check(ctx: click.Context, exercise_id: str, file: str, as_json: bool, timeout: float) -> None:
    """Check FILE (or - for standard input) against exercise ID. Exits with 1 unless all pass.

    The attempt is stored (see `exercise history`); `exercise start` gives it back.
    """
    from studylog.demo.limits import Limits
    from studylog.services import demos, exercises

    found = exercises.find(ctx.obj.database(), exercise_id)
    code = _read_attempt(file)
    db = ctx.obj.database()
    result = exercises.check(
        found, code, limits=Limits(timeout_s=timeout), hidden=demos.private_folders(db)
    )
    exercises.record(db, found, code, result)
    if as_json:
        print_json(result.to_json())
    else:
        _print_result(found, result)
    if result.status != "pass":
        ctx.exit(EXIT_NOT_PASSED)


def _print_result(found: Any, result: Any) -> None:
    from rich.text import Text

    console = _console()
    for item in result.checks:
        line = Text("  ✓ " if item.passed else "  ✗ ", style="green" if item.passed else "red")
        line.append(item.name, style="bold")
        line.append(f": {item.message}")
        console.print(line)
    colour = {"pass": "green", "fail": "red"}.get(result.status, "yellow")
    summary = Text(f"{found.id}: {result.status}", style=f"bold {colour}")
    summary.append(f" ({result.duration_ms} ms)", style="dim")
    if result.error and result.status in ("error", "timeout"):
        summary.append(f": {result.error}")
    console.print(summary)


@exercise.command()
@click.argument("exercise_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def history(app: Any, exercise_id: str, as_json: bool) -> None:
    """List your checked attempts at exercise ID, oldest first."""
    from studylog.services import exercises

    found = exercises.find(app.database(), exercise_id)
    rows = exercises.attempts(app.database(), found.id)
    if as_json:
        print_json([a.to_json() for a in rows])
        return
    console = _console()
    if not rows:
        console.print(f"No attempts at {found.id} yet.")
        return
    for a in rows:
        passed = sum(c.passed for c in a.result.checks)
        console.print(
            f"{a.attempted_at:%Y-%m-%d %H:%M} UTC  {a.status:<7}  "
            f"{passed}/{len(a.result.checks)} checks  {a.duration_ms} ms",
            markup=False,
        )
