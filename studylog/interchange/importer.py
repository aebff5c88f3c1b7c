"""``studylog import``: read every file first, then write them all in one transaction.

Formats (``docs/import.md``): study notes (``.md``, ``.markdown``, ``.txt``;
markdown with ``slug``/``title`` front matter is a concept file),
Anki packages (``.apkg``, ``.colpkg``), card CSV (``.csv`` with a
``front,back[,tags]`` header), and studylog's JSON export (``.json``). A
folder stands for the supported files in it (hidden folders such as
``.obsidian`` are left out). Review-log CSVs (``card_id,review_rating,...``)
have their own importer (:mod:`studylog.interchange.review_log`);
:func:`detect` names them so that the CLI can route them there.

Every file is parsed and checked before anything is written, so a bad line
in the last file leaves the database untouched; the error names the file and
the line or record. A dry run does all the work in the transaction and then
rolls it back, so its summary is exactly what a real run would add.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError
from studylog.interchange.summary import (
    ApplyContext,
    FileSummary,
    ImportReport,
    ProgressFn,
    no_progress,
)
from studylog.services import settings
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar, utcnow

NOTES = (".md", ".markdown", ".txt")
ANKI = (".apkg", ".colpkg")
SUPPORTED = (*NOTES, *ANKI, ".csv", ".json")
REVIEW_LOG_COLUMNS = ("card_id", "review_rating")


def is_review_log(path: Path) -> bool:
    """Whether a CSV's header names the review-log columns (``card_id``/``review_rating``)."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            header = handle.readline()
    except (OSError, UnicodeDecodeError):
        return False
    columns = {c.strip().strip('"') for c in header.split(",")}
    return any(c in columns for c in REVIEW_LOG_COLUMNS)


def detect(path: Path) -> str:
    """``notes``, ``concept``, ``deck``, ``anki``, ``cards-csv``, ``review-log`` or ``json``.

    Raises:
        InvalidInputError: an unsupported file type.
    """
    suffix = path.suffix.lower()
    if suffix in NOTES:
        from studylog.interchange.concept_import import kind_of

        return (kind_of(path) if suffix != ".txt" else None) or "notes"
    if suffix in ANKI:
        return "anki"
    if suffix == ".csv":
        return "review-log" if is_review_log(path) else "cards-csv"
    if suffix == ".json":
        return "json"
    raise InvalidInputError(
        f"{path.name}: cannot import this kind of file (supported: {', '.join(SUPPORTED)})"
    )


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files to import: the given files, and the supported files under given folders.

    Raises:
        InvalidInputError: a path that does not exist.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                inner = found.relative_to(path).parts
                if any(part.startswith(".") for part in inner):
                    continue
                if found.is_file() and found.suffix.lower() in SUPPORTED:
                    files.append(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInputError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


@dataclass
class Job:
    """One file, read and checked, with the function that writes it."""

    path: Path
    format: str
    parsed: Any
    apply: Callable[[Session, Any, ApplyContext], FileSummary]


def read_job(path: Path, *, calendar: StudyCalendar, day: date | None) -> Job:
    """Read and check one file (nothing is written).

    Raises:
        InvalidInputError: the file cannot be imported; the message names it
            and the line or record.
    """
    kind = detect(path)
    if kind == "notes":
        from studylog.interchange.notes_import import apply_notes, read_notes

        return Job(path, kind, read_notes(path, calendar=calendar, day=day), apply_notes)
    if kind == "concept":
        from studylog.interchange.concept_import import apply_concept, read_concept

        return Job(path, kind, read_concept(path), apply_concept)
    if kind == "deck":
        from studylog.interchange.concept_import import apply_deck, read_deck

        return Job(path, kind, read_deck(path), apply_deck)
    if kind == "cards-csv":
        from studylog.interchange.csv_cards import apply_cards_csv, read_cards_csv

        return Job(path, kind, read_cards_csv(path), apply_cards_csv)
    if kind == "anki":
        from studylog.interchange.anki_import import apply_anki, read_anki

        return Job(path, kind, read_anki(path), apply_anki)
    if kind == "json":
        from studylog.interchange.json_import import apply_json, read_json

        return Job(path, kind, read_json(path), apply_json)
    raise InvalidInputError(
        f"{path.name}: a review log; import it with studylog.interchange.review_log"
    )


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Leave the objects the process had before the import out of the cyclic collector.

    An import allocates objects by the hundred thousand, so the collector runs
    its full pass a few times, and each pass also walked everything that was
    there already (SQLAlchemy's and the app's objects): a sixth of a
    20,000-row CSV import. Frozen (:func:`gc.freeze`), those are skipped while
    the import's own garbage is still collected as it goes; unfrozen after, they
    are collected as before. Only the collector's work changes, no result.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _DryRun(Exception):
    """Raised inside the write transaction to roll a dry run back."""


def import_files(
    db: Database,
    paths: Iterable[Path],
    *,
    day: date | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: ProgressFn = no_progress,
) -> ImportReport:
    """Import ``paths`` (files or folders) in one transaction; see the module docstring.

    Args:
        day: the study day of notes without a date (``--date``); default: the
            file's modification day.
        dry_run: do everything, then roll back; the report says what would be added.
        progress: ``progress(label, done, total)`` as files and records go in.

    Raises:
        InvalidInputError: a file that cannot be imported (named, with its line
            or record); nothing is written then.
    """
    with _older_objects_frozen():
        moment = now or utcnow()
        calendar = settings.calendar(db)
        files = expand(paths)
        jobs = []
        for n, path in enumerate(files):
            jobs.append(read_job(path, calendar=calendar, day=day))
            progress("reading", n + 1, len(files))
        ctx = ApplyContext(moment, calendar, progress)
        summaries: list[FileSummary] = []
        try:
            with db.write() as session:
                for job in jobs:
                    summaries.append(job.apply(session, job.parsed, ctx))
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
    return ImportReport(summaries, dry_run)
