"""``studylog log`` and ``studylog today``: the journal and the study day's summary."""

from __future__ import annotations

import sys

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json, read_text_arg


@click.command()
@click.argument("text", required=False)
@click.option("--date", "day", metavar="DAY", help="today (default), yesterday or YYYY-MM-DD.")
@pass_app
def log(app: AppContext, text: str | None, day: str | None) -> None:
    """Add a journal entry (markdown). TEXT - reads the entry from standard input."""
    from studylog.services import journal

    body = read_text_arg(text, "entry text")
    target = app.parse_day(day)
    entry = journal.add(app.database(), body, target, now=app.now())
    click.echo(f"Added entry {entry.id} to {entry.day.isoformat()}.")


@click.command()
@click.option("--date", "day", metavar="DAY", help="today (default), yesterday or YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def today(app: AppContext, day: str | None, as_json: bool) -> None:
    """The study day's entries, TODOs (carried-over ones marked) and review counts."""
    from studylog.services import today as today_service

    target = app.parse_day(day)
    summary = today_service.summary(app.database(), target, app.calendar, now=app.now())
    if as_json:
        print_json(summary)
        return
    print_summary(summary)


MAX_CARRIED_SHOWN = 30  # the newest carried-over TODOs; the rest are one line away


def print_summary(summary) -> None:  # noqa: ANN001 - DaySummary
    # rich's Panel and Table are imported only when there is an entry or a TODO to show
    # (a few ms of a cold start that has neither).
    out = console()
    queue = summary.queue  # today: what Review shows, the daily limits applied
    due = summary.due if queue is None else queue.learning + queue.review
    new = summary.new_cards if queue is None else queue.new
    out.print(
        f"[bold]{summary.day.isoformat()} ({summary.day.strftime('%a')})[/]  "
        f"reviews today [bold]{summary.reviews_done}[/] · due [bold]{due}[/] · "
        f"new [bold]{new}[/] · streak [bold]{summary.streak}[/] day"
        + ("s" if summary.streak != 1 else "")
    )
    if summary.entries:
        from rich.panel import Panel

        from studylog.linebreaks import rich_note  # the markdown parser, only for entries

        for entry in summary.entries:
            out.print(Panel(rich_note(entry.body), title=f"entry {entry.id}", title_align="left"))
    else:
        out.print('[dim]No entries yet. Add one with: studylog log "what I studied"[/]')
    if summary.todos:
        from rich.markup import escape
        from rich.table import Table

        carried = [t for t in summary.todos if t.carried]
        shown = carried[-MAX_CARRIED_SHOWN:] + [t for t in summary.todos if not t.carried]
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("id", justify="right")
        table.add_column("", width=3)
        table.add_column("TODO")
        table.add_column("from", style="dim")
        for todo in shown:
            mark = "[green]✓[/]" if todo.done else "☐"
            origin = f"↪ {todo.origin_day.isoformat()}" if todo.carried else ""
            table.add_row(str(todo.id), mark, escape(todo.text), origin)
        out.print(table)
        hidden = len(carried) - MAX_CARRIED_SHOWN
        if hidden > 0:
            out.print(f"[dim]… and {hidden} older carried-over TODOs: studylog todo list[/]")
    else:
        out.print('[dim]No TODOs. Add one with: studylog todo add "..."[/]')


def quit_backup(db) -> None:  # noqa: ANN001 - Database
    """When the app quits: a backup if the database changed since the newest one (as Anki)."""
    from studylog.errors import StudylogError
    from studylog.storage import backups

    if db.path is None or getattr(db, "read_only", False):
        return
    try:
        backups.maybe_backup(db.path, force=True)
    except StudylogError as exc:
        click.echo(f"warning: {exc}", err=True)


def open_app_or_summary(app: AppContext) -> None:
    """``studylog`` alone: the app on a terminal, else today's summary."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        try:
            from studylog.tui.app import run_app
        except ImportError:
            run_app = None
        if run_app is not None:
            from studylog.cli.output import raw_streams

            db = app.database()
            with raw_streams():  # the app makes its text inert itself (studylog.tui)
                run_app(db, now=app.now)
            quit_backup(db)
            return
    from studylog.services import today as today_service

    print_summary(today_service.summary(app.database(), app.today(), app.calendar, now=app.now()))
