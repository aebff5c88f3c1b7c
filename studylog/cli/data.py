"""``studylog export``, ``studylog import`` and ``studylog db``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json

if TYPE_CHECKING:
    from studylog.interchange.summary import ImportReport

EXPORT_FORMATS = ("json", "md", "apkg")


class _ProgressBar:
    """A rich progress bar on stderr, one row per label; nothing when stderr is not a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._bar = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> _ProgressBar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console(stderr=True),
                transient=True,
            )
            self._bar.start()
        return self

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self._bar is None:
            return
        task = self._tasks.get(label)
        if task is None:
            task = self._tasks[label] = self._bar.add_task(label, total=total)
        self._bar.update(task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="json", show_default=True
)
@click.option(
    "--out",
    "dest",
    type=click.Path(path_type=Path),
    required=True,
    help="The file (json, apkg) or folder (md).",
)
@pass_app
def export_command(app: AppContext, fmt: str, dest: Path) -> None:
    """Export everything stored: json (complete backup, docs/export-format.md), md (a folder:
    one file per study day with its TODOs, one per concept with its cards) or apkg (the cards,
    for Anki; exporting again updates the same notes in Anki)."""
    db = app.database()
    with _ProgressBar() as progress:
        if fmt == "json":
            from studylog.interchange.json_export import export_json

            counts = export_json(db, dest, progress=progress)
        elif fmt == "md":
            from studylog.interchange.markdown_export import export_markdown

            counts = export_markdown(db, dest, progress=progress)
        else:
            from studylog.interchange.anki_export import export_apkg

            counts = export_apkg(db, dest, progress=progress)
    from studylog.interchange.summary import describe_export

    click.echo(f"Exported {describe_export(counts)} to {dest}.")


def _print_report(report: ImportReport) -> None:
    from studylog.interchange.summary import describe

    verb = "would add" if report.dry_run else "added"
    for f in report.files:
        click.echo(
            f"{f.file} ({f.format}): {verb} {describe(f.added)}; skipped {describe(f.skipped)}."
        )
        if f.media_skipped:
            shown = ", ".join(f.media_skipped[:10])
            more = f" and {len(f.media_skipped) - 10} more" if len(f.media_skipped) > 10 else ""
            click.echo(
                f"  {len(f.media_skipped)} media file(s) skipped (studylog keeps text only): "
                f"{shown}{more}"
            )
        for note in f.notes:
            click.echo(f"  {note}")
    if len(report.files) > 1:
        click.echo(
            f"Total: {verb} {describe(report.total('added'))}; "
            f"skipped {describe(report.total('skipped'))}."
        )
    if report.dry_run:
        click.echo("Dry run: nothing was written.")
    elif report.total("added")["suggestions"]:
        click.echo("Review the suggested cards with: studylog card suggested")


def _review_log_import(db, path: Path, dry_run: bool, deck: str | None) -> None:  # noqa: ANN001 - Database
    try:
        from studylog.cli.review import print_review_log_summary, run_review_log_import
    except ImportError:  # the review CLI is not there: import and report here
        from studylog.interchange.review_log import import_review_log

        summary = import_review_log(db, path, dry_run=dry_run, deck=deck)
        verb = "would add" if dry_run else "added"
        click.echo(
            f"{summary.file} (review log): {verb} {summary.cards_created} cards, "
            f"{summary.reviews_added} reviews; skipped {summary.reviews_skipped} reviews."
        )
        return
    summary = run_review_log_import(db, path, dry_run, deck)
    print_review_log_summary(summary, path, dry_run)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--date", "day_text", metavar="DAY", help="Study day of notes without a date (YYYY-MM-DD)."
)
@click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--deck",
    metavar="DECK",
    help="Review logs: the deck for cards that have no text yet "
    "(default 'Imported review history').",
)
@pass_app
def import_command(
    app: AppContext,
    paths: tuple[Path, ...],
    day_text: str | None,
    dry_run: bool,
    as_json: bool,
    deck: str | None,
) -> None:
    """Import study notes (.md, .txt), Anki packages (.apkg, .colpkg), card CSV
    (front,back,tags), a JSON export, or a review log (CSV: card_id,review_rating,...).

    All files are read and checked first and written in one transaction: on any
    error nothing is written. Importing the same file again adds nothing.
    Folders import the supported files in them. See docs/import.md.
    """
    from studylog.interchange.importer import detect, expand, import_files

    for path in paths:
        if not path.exists():
            raise click.ClickException(f"{path}: no such file or folder")
    day = app.parse_day(day_text) if day_text else None
    files = expand(paths)
    kinds = {path: detect(path) for path in files}
    logs = [p for p in files if kinds[p] == "review-log"]
    others = [p for p in files if kinds[p] != "review-log"]
    db = app.database()
    if logs:
        from studylog.interchange.review_log import check_deck, parse_review_log

        check_deck(deck)
        for path in logs:  # check them before anything is written
            parse_review_log(path)
    report = None
    if others:
        with _ProgressBar() as progress:
            report = import_files(
                db, others, day=day, dry_run=dry_run, now=app.now(), progress=progress
            )
    if report is not None:
        if as_json:
            print_json(report)
        else:
            _print_report(report)
    for path in logs:
        _review_log_import(db, path, dry_run, deck)


@click.group("db")
def db_group() -> None:
    """The database: upgrade, current, check, backup, backups, restore, new, copy."""


def _plain_db(app: AppContext):  # noqa: ANN202 - Database, without the automatic upgrade
    from studylog.paths import resolve_db_url
    from studylog.storage.engine import Database

    return Database(resolve_db_url(app.db_arg))


PG_DUMP = (
    "a PostgreSQL database is backed up and restored with pg_dump and pg_restore, "
    "not by studylog (docs/postgres.md)"
)


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def db_current(app: AppContext, as_json: bool) -> None:
    """The schema revision of the database and the newest one this studylog knows."""
    from studylog.storage import migrate

    db = _plain_db(app)
    current = migrate.revision_of(db)
    head = migrate.head_revision()
    if as_json:
        where = str(db.path) if not db.is_postgres else db.display_name
        print_json({"path": where, "current": current, "head": head})
        return
    click.echo(
        f"{db.display_name if db.is_postgres else db.path}: revision {current or '(none)'}; newest {head}"
    )


@db_group.command("check")
@pass_app
def db_check(app: AppContext) -> None:
    """Exit 1 if a migration is pending (for scripts); runs SQLite's integrity check."""
    from studylog.storage import migrate

    db = _plain_db(app)
    if db.is_postgres:
        current, head = migrate.revision_of(db), migrate.head_revision()
        if current != head:
            raise click.ClickException(
                f"{db.display_name}: at revision {current or '(none)'}, {head} is pending"
            )
        click.echo(
            f"{db.display_name}: revision {current} is the newest "
            "(the server keeps its own integrity: see pg_amcheck)."
        )
        return
    if db.path is None or not db.path.exists():
        raise click.ClickException(f"{db.path}: no database yet (it is created on first use)")
    current = migrate.current_revision_of(db.path)
    head = migrate.head_revision()
    problems = migrate.integrity_problems(db.path)
    if problems:
        raise click.ClickException(f"{db.path}: integrity check failed: {problems[0]}")
    if current != head:
        raise click.ClickException(f"{db.path}: at revision {current}, {head} is pending")
    click.echo(f"{db.path}: revision {current} is the newest; integrity ok.")


@db_group.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """Bring the database to the newest revision (a backup is made first)."""
    from studylog.storage import migrate

    db = _plain_db(app)
    before = migrate.revision_of(db)
    made = migrate.prepare(db)
    after = migrate.revision_of(db)
    if before == after:
        click.echo(f"Already at the newest revision {after}.")
    else:
        click.echo(
            f"Upgraded {before or '(new)'} -> {after}." + (f" Backup: {made}" if made else "")
        )


@db_group.command("backup")
@click.option("--out", "dest", type=click.Path(path_type=Path), help="Where to write the copy.")
@pass_app
def db_backup(app: AppContext, dest: Path | None) -> None:
    """Copy the database with SQLite's online backup API (safe while the app is open)."""
    from studylog.storage import backups, migrate

    db = _plain_db(app)
    if db.is_postgres:
        raise click.ClickException(PG_DUMP)
    if db.path is None or not db.path.exists():
        raise click.ClickException(f"{db.path}: no database to back up")
    if dest is None:
        made = backups.make_backup(db.path).path
    else:
        backups.refuse_live_target(db.path, dest, "backup --out")
        made = migrate.backup(db.path, dest)
    click.echo(f"Backed up to {made}.")


@db_group.command("backups")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def db_backups(app: AppContext, as_json: bool) -> None:
    """List the backups of the database, newest first (automatic ones and `db backup`)."""
    from studylog.storage import backups

    path = _db_file(app)
    found = backups.list_backups(path)
    if as_json:
        print_json([b.to_json() for b in found])
        return
    if not found:
        click.echo(f"No backups of {path} yet (in {backups.folder_of(path)}).")
        return
    for b in found:
        click.echo(f"{b.taken_at:%Y-%m-%d %H:%M:%S} UTC  {b.size / 1024:>9.0f} KiB  {b.path}")


@db_group.command("restore")
@click.argument("backup", metavar="PATH|latest")
@click.option("--yes", is_flag=True, help="Restore without asking.")
@pass_app
def db_restore(app: AppContext, backup: str, yes: bool) -> None:
    """Put a backup back in place of the database (the current one is backed up first).

    Close the app first. The backup is checked (integrity, a schema this
    studylog reads); the database's write-ahead log is folded in and removed
    so nothing of the old file mixes with the restored one.
    """
    from studylog.storage import backups, continuity

    path = _db_file(app)
    if backup == "latest":
        newest = backups.latest(path)
        if newest is None:
            raise click.ClickException(f"no backups of {path} in {backups.folder_of(path)}")
        source = newest.path
    else:
        source = Path(backup).expanduser().resolve()
    backups.refuse_live_target(path, source, "restore")
    backups.check_backup(source)
    if not yes:
        click.confirm(
            f"Replace {path} with {source}? (the current file is backed up first)", abort=True
        )
    done = backups.restore(path, source)
    continuity.remember(path)
    saved = (
        f" The replaced database was backed up to {done.safety_backup}."
        if done.safety_backup
        else ""
    )
    click.echo(f"Restored {path} from {source}.{saved}")


@db_group.command("copy")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="PATH|URL",
    help="The database to copy into: an SQLite file or postgresql+psycopg://USER@HOST/DB.",
)
@click.option("--replace", is_flag=True, help="Delete the target's rows first (one transaction).")
@pass_app
def db_copy(app: AppContext, target: str, replace: bool) -> None:
    """Copy the whole collection into another database (SQLite <-> PostgreSQL), every row
    with its id: entries, TODOs, cards, the review history, the demo cache, settings.

    The target is created or migrated first and must be empty unless --replace.
    """
    from studylog.paths import resolve_db_url
    from studylog.storage.copy import copy_collection
    from studylog.storage.engine import Database

    source = app.database(sync_pack=False)
    into = Database(resolve_db_url(target))
    try:
        report = copy_collection(source, into, replace=replace)
    finally:
        into.dispose()
    counts = ", ".join(f"{n} {t}" for t, n in report.rows.items() if n)
    click.echo(
        f"Copied {report.total} rows from {source.display_name} to {into.display_name}"
        + (f" ({counts})." if counts else ".")
    )


@db_group.command("new")
@click.option("--yes", is_flag=True, help="Do not ask.")
@pass_app
def db_new(app: AppContext, yes: bool) -> None:
    """Start a new, empty journal at the database path, on purpose (its backups are kept)."""
    from studylog.storage import backups, continuity, migrate
    from studylog.storage.engine import Database

    path = _db_file(app)
    if path.exists() and path.stat().st_size > 0:
        if backups.is_sqlite_file(path):
            raise click.ClickException(f"{path} already holds a database; nothing changed")
        if not yes:
            click.confirm(
                f"{path} is not a database. Move it aside and start a new journal?", abort=True
            )
        aside = path.with_name(path.name + ".not-a-database")
        path.replace(aside)
        click.echo(f"Moved the old file to {aside}.")
    elif not yes and backups.latest(path) is not None:
        click.confirm(f"{path} has backups; start an empty journal anyway?", abort=True)
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    db.dispose()
    continuity.remember(path)
    click.echo(f"Started a new journal at {path}.")


def _db_file(app: AppContext) -> Path:
    db = _plain_db(app)
    if db.is_postgres:
        db.dispose()
        raise click.ClickException(PG_DUMP)
    if db.path is None:
        raise click.ClickException("backups need a database file, not an in-memory database")
    db.dispose()
    return db.path
