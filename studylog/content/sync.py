"""Load the built-in concept pack (``content/concepts/*.md``) into the database.

Runs on every start, so the common case must be cheap: a fingerprint of all
concept files is compared with the one stored at the last sync, and nothing
is parsed when they are equal. Changed files are applied by slug and content
hash. A concept the user edited (``user_modified``) is never overwritten, and
cards keep their schedule and review history (they are matched by key).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from studylog.paths import content_dir
from studylog.storage.engine import Database
from studylog.studyday import utcnow

FINGERPRINT_KEY = "pack.fingerprint"
# Part of the fingerprint: bumped when what a sync makes of the same files changes
# (2: exercise and computed cards, migration 0007), so every database syncs once more.
SYNC_VERSION = b"2"


@dataclass
class SyncReport:
    """What a sync did, by slug."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept_user_copy: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: bool = False  # the fingerprint matched: nothing was read


def _files(root: Path) -> list[Path]:
    return sorted((root / "concepts").glob("*.md"))


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256(SYNC_VERSION + b"\0")
    for path in files:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def sync_pack(db: Database, root: Path | None = None, *, force: bool = False) -> SyncReport:
    """Bring the pack's concepts and cards into ``db`` in one transaction.

    Raises:
        ConceptFormatError: a pack file is malformed (names the file and line);
            nothing is written then.
    """
    from studylog.services import settings

    root = root or content_dir()
    files = _files(root)
    mark = fingerprint(files)
    report = SyncReport()
    if not force and settings.get(db, FINGERPRINT_KEY) == mark:
        report.skipped = True
        return report
    # Imported only when the pack changed: the common start skips the parser and the ORM.
    from studylog.content.concept_file import parse_concept
    from studylog.services.concepts import apply_file
    from studylog.storage.models import Concept

    now = utcnow()
    with db.write() as session:
        known = {
            slug: (content_hash, user_modified or origin != "pack", exercises is None)
            for slug, content_hash, user_modified, origin, exercises in session.execute(
                select(
                    Concept.slug,
                    Concept.content_hash,
                    Concept.user_modified,
                    Concept.origin,
                    Concept.exercises,
                )
            )
        }
        for path in files:
            parsed = parse_concept(path.read_text(encoding="utf-8"), str(path))
            seen = known.get(parsed.slug)
            if seen is None:
                apply_file(session, parsed, origin="pack", now=now)
                report.added.append(parsed.slug)
            elif seen[1]:
                report.kept_user_copy.append(parsed.slug)
            elif seen[0] != parsed.content_hash or seen[2]:
                # Changed, or applied before exercise cards existed (0007).
                apply_file(session, parsed, origin="pack", now=now)
                report.updated.append(parsed.slug)
            else:
                report.unchanged += 1
        settings.set_in(session, FINGERPRINT_KEY, mark)
    return report
