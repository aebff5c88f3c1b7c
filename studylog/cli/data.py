"""``studylog export``, ``studylog import`` and ``studylog db``."""

from __future__ import annotations

from pathlib import Path

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import print_json

EXPORT_FORMATS = ("json",)


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="json", show_default=True
)
@click.option("--out", "dest", type=click.Path(path_type=Path), required=True, help="The file.")
@pass_app
def export_command(app: AppContext, fmt: str, dest: Path) -> None:
    """Export everything stored (format: docs/export-format.md)."""
    from studylog.interchange.json_export import export_json

    counts = export_json(app.database(), dest)
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    click.echo(f"Exported {summary} to {dest}.")


def _is_review_log(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            header = handle.readline()
    except (OSError, UnicodeDecodeError):
        return False
    columns = {c.strip() for c in header.split(",")}
    return "review_rating" in columns or "card_id" in columns


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing.")
@pass_app
def import_command(app: AppContext, paths: tuple[Path, ...], dry_run: bool) -> None:
    """Import a review log (CSV: card_id,review_rating,review_time,review_duration)."""
    for path in paths:
        if not path.is_file():
            raise click.ClickException(f"{path}: no such file")
    db = app.database()
    for path in paths:
        if path.suffix.lower() == ".csv" and _is_review_log(path):
            from studylog.cli.review import print_review_log_summary, run_review_log_import

            summary = run_review_log_import(db, path, dry_run)
            print_review_log_summary(summary, path, dry_run)
        else:
            raise click.ClickException(
                f"{path}: cannot import this kind of file yet (supported: review-log .csv)"
            )


@click.group("db")
def db_group() -> None:
    """The database file: upgrade, current, check, backup."""


def _plain_db(app: AppContext):  # noqa: ANN202 - Database, without the automatic upgrade
    from studylog.paths import resolve_db_url
    from studylog.storage.engine import Database

    return Database(resolve_db_url(app.db_arg))


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def db_current(app: AppContext, as_json: bool) -> None:
    """The schema revision of the database and the newest one this studylog knows."""
    from studylog.storage import migrate

    db = _plain_db(app)
    current = migrate.current_revision_of(db.path) if db.path else None
    head = migrate.head_revision()
    if as_json:
        print_json({"path": str(db.path), "current": current, "head": head})
        return
    click.echo(f"{db.path}: revision {current or '(none)'}; newest {head}")


@db_group.command("check")
@pass_app
def db_check(app: AppContext) -> None:
    """Exit 1 if a migration is pending (for scripts); runs SQLite's integrity check."""
    from studylog.storage import migrate

    db = _plain_db(app)
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
    before = migrate.current_revision_of(db.path) if db.path else None
    made = migrate.prepare(db)
    after = migrate.current_revision_of(db.path) if db.path else None
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
    from studylog.storage import migrate

    db = _plain_db(app)
    if db.path is None or not db.path.exists():
        raise click.ClickException(f"{db.path}: no database to back up")
    made = migrate.backup(db.path, dest)
    click.echo(f"Backed up to {made}.")
