"""Models for imports: what was imported already (content hashes), and suggested cards.

Created by migration ``0003_imports``. Imported by the interchange modules and
by :mod:`studylog.services.suggestions`, so that they are part of
``Base.metadata`` whenever imports or suggestions are used.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from studylog.storage.models import Base
from studylog.storage.types import UTCDateTime


class ImportRecord(Base):
    """One thing an import added, remembered by a key so that importing it again adds nothing.

    ``kind`` says what was imported (``note_entry``, ``note_todo``,
    ``csv_card``, ``anki_card``...); ``key`` is a SHA-256 hex digest of the
    record's content (or, for Anki cards, the Anki card id). ``target_id`` is
    the row it became (an entry, TODO or card id; not a foreign key, since the
    user may delete that row and the record must still say "seen"). ``ref``
    keeps one extra reference, e.g. the Anki note GUID that the ``.apkg``
    export reuses so that Anki updates the note instead of duplicating it.
    """

    __tablename__ = "import_records"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_import_records_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(200))
    target_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ref: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SuggestedCard(Base):
    """A card proposed by a notes import, waiting for the user to accept or reject it.

    Nothing becomes a scheduled card without consent: accepting creates the
    card(s) (a cloze front with c1..cN makes N cards), rejecting keeps the row
    so that importing the same note again does not propose it again.
    ``status`` is ``pending``, ``accepted`` or ``rejected``; ``content_hash``
    (SHA-256 of kind, front and back) makes suggestions unique. ``source`` is
    the file name and ``line`` the 1-based line the definition was found on;
    ``day`` the study day of the note.
    """

    __tablename__ = "suggested_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10), default="basic")
    deck: Mapped[str] = mapped_column(String(200), default="Default")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    rule: Mapped[str] = mapped_column(String(30), default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    line: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date | None] = mapped_column(Date)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="SET NULL", name="fk_suggested_cards_entry")
    )
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    card_id: Mapped[int | None] = mapped_column(
        ForeignKey("cards.id", ondelete="SET NULL", name="fk_suggested_cards_card")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
