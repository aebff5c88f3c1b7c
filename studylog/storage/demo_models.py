"""Models for demo runs: the result cache and the code the user approved.

Created by migration ``0002_demo_cache``. Imported by
:mod:`studylog.services.demos` so that they are part of ``Base.metadata``
whenever demos are used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studylog.storage.models import Base
from studylog.storage.types import UTCDateTime


class DemoResult(Base):
    """The last result of running one version of a demo's code.

    ``key`` is sha256 over the code hash and the Python and NumPy versions
    (:func:`studylog.demo.cache.cache_key`), so the same code under another
    NumPy is a different entry. ``code_hash`` covers the demo file and the
    modules of its folder it imports; a concept's entry is *stale* when the
    code hash of its current code differs. ``duration_ms`` is wall-clock
    milliseconds; ``outputs`` the list of output dicts (docs/demos.md).
    """

    __tablename__ = "demo_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    concept_slug: Mapped[str | None] = mapped_column(String(200), index=True)
    source_path: Mapped[str | None] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64))
    python_version: Mapped[str] = mapped_column(String(40))
    numpy_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    duration_ms: Mapped[int] = mapped_column(Integer)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    limit_hit: Mapped[str | None] = mapped_column(String(20))
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrustedCode(Base):
    """Imported demo code the user has read and approved, by sha256 of its text."""

    __tablename__ = "trusted_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
