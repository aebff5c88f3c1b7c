"""The ``studylog`` command line: parses arguments, calls services, prints with rich.

The command modules are imported plainly (a typo fails at once, loudly); they
import only click and the standard library at module level. Heavy modules
(SQLAlchemy, NumPy, Textual) are imported inside the commands that need them,
so ``studylog --help`` starts fast (``benchmarks/bench_cli.py`` measures it).
"""

from __future__ import annotations

import sys

import click

from studylog import __version__
from studylog.cli import (
    card,
    concept,
    config,
    data,
    deck,
    demo,
    exercise,
    fsrs,
    journal,
    preset,
    review,
    search,
    todo,
)
from studylog.cli.context import AppContext, pass_app
from studylog.errors import StudylogError


class StudylogGroup(click.Group):
    """Turns :class:`StudylogError` into one line on stderr and exit code 1, no traceback.

    Everything a command prints goes through :func:`studylog.cli.output.inert_streams`:
    no terminal escape from imported data reaches the terminal, piped or not.
    """

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        from studylog.cli.output import inert_streams
        from studylog.inert import inert

        try:
            with inert_streams():
                return super().invoke(ctx)
        except StudylogError as exc:
            # Printed by click after this returns, outside the wrapped streams.
            raise click.ClickException(inert(str(exc))) from None
        except KeyboardInterrupt:
            raise click.Abort() from None


@click.group(cls=StudylogGroup, invoke_without_command=True)
@click.option(
    "--db",
    "db_path",
    metavar="PATH|URL",
    envvar="STUDYLOG_DB",
    help="The database file or SQLAlchemy URL (default: studylog.db in the user data folder; "
    "env STUDYLOG_DB).",
)
@click.version_option(__version__, prog_name="studylog")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """studylog: a study journal, TODOs that carry over, spaced-repetition concept cards
    and runnable NumPy demos, in the terminal.

    Without a command, opens the app (or prints today's summary when not on a terminal).
    """
    ctx.obj = AppContext(db_path)
    # Close the database when the command ends: the last connection folds the
    # write-ahead log into the file, so no WAL outlives a command.
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        from studylog.cli.journal import open_app_or_summary

        open_app_or_summary(ctx.obj)


# The one registry of commands (``studylog --help`` lists them by name).
COMMANDS: tuple[click.Command, ...] = (
    journal.log,
    journal.today,
    todo.todo,
    card.card,
    deck.deck,
    concept.concept,
    search.search_command,
    data.export_command,
    data.import_command,
    data.db_group,
    demo.demo,
    exercise.exercise,
    review.review,
    review.stats,
    fsrs.fsrs,
    config.config,
    preset.preset,
)
for _command in COMMANDS:
    cli.add_command(_command)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # A normal exit: open transactions roll back and temporary files are
    # removed by their ``finally`` blocks (the default action skips them).
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point."""
    import signal

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    cli.main(prog_name="studylog")


__all__ = ["cli", "main", "pass_app", "AppContext"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
