"""What an import added and skipped, per file and in total; and progress reporting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from studylog.studyday import StudyCalendar

# What imports count, in the order the summary names them.
KINDS = ("entries", "todos", "concepts", "cards", "suggestions", "reviews")
LABELS = {  # kind -> (singular, plural)
    "entries": ("entry", "entries"),
    "todos": ("TODO", "TODOs"),
    "concepts": ("concept", "concepts"),
    "cards": ("card", "cards"),
    "suggestions": ("suggested card", "suggested cards"),
    "reviews": ("review", "reviews"),
}
EXPORT_LABELS = {  # what exports count beyond the import kinds (section and file names)
    "suggested_cards": ("suggested card", "suggested cards"),
    "import_records": ("import record", "import records"),
    "day files": ("day file", "day files"),
    "concept files": ("concept file", "concept files"),
    "deck files": ("deck file", "deck files"),
    "notes": ("note", "notes"),
}

# progress(label, done, total): called as work advances; total None when unknown.
ProgressFn = Callable[[str, int, int | None], None]


def no_progress(label: str, done: int, total: int | None) -> None:
    """The default progress callback: report nothing."""


@dataclass
class FileSummary:
    """What importing one file did (or would do, in a dry run).

    ``added`` and ``skipped`` count per kind of :data:`KINDS`; ``skipped``
    means already imported (or already present). ``media_skipped`` lists media
    files of an Anki package that were not imported; ``notes`` are lines worth
    telling the user (e.g. cards without usable review history).
    """

    file: str
    format: str
    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    media_skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        self.added[kind] += n

    def skip(self, kind: str, n: int = 1) -> None:
        self.skipped[kind] += n


@dataclass
class ImportReport:
    """All files of one import (one transaction)."""

    files: list[FileSummary]
    dry_run: bool

    def total(self, which: str) -> dict[str, int]:
        """Sum of ``added`` or ``skipped`` over the files."""
        out = dict.fromkeys(KINDS, 0)
        for f in self.files:
            for kind, n in getattr(f, which).items():
                out[kind] += n
        return out


def describe(counts: dict[str, int]) -> str:
    """``{"entries": 2, "todos": 1, "cards": 0}`` -> ``"2 entries, 1 TODO"``; all zero: ``"nothing"``."""
    parts = []
    for kind in KINDS:
        n = counts.get(kind, 0)
        if n:
            singular, plural = LABELS[kind]
            parts.append(f"{n:,} {singular if n == 1 else plural}")
    return ", ".join(parts) or "nothing"


def describe_export(counts: dict[str, int]) -> str:
    """An export's counts in their order, zeros included: ``{"entries": 1, "todos": 0}`` ->
    ``"1 entry, 0 TODOs"`` (a name without a label is shown as it is)."""
    labels = {**LABELS, **EXPORT_LABELS}
    parts = []
    for name, n in counts.items():
        singular, plural = labels.get(name, (name, name))
        parts.append(f"{n:,} {singular if n == 1 else plural}")
    return ", ".join(parts)


@dataclass(frozen=True)
class ApplyContext:
    """What every importer needs while writing: the clock, the calendar, progress."""

    now: datetime
    calendar: StudyCalendar
    progress: ProgressFn = no_progress
