"""The model of exercise attempts (migration ``0006_exercise_attempts``).

Imported by :mod:`studylog.services.exercises` so that it is part of
``Base.metadata`` whenever attempts are stored or read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studylog.storage.models import Base
from studylog.storage.types import UTCDateTime


class ExerciseAttempt(Base):
    """One checked attempt at an exercise: the code as checked, and the outcome.

    ``exercise_id`` is ``SLUG.FUNCTION``; ``status`` one of pass, fail, error,
    timeout; ``duration_ms`` wall-clock milliseconds of the check; ``result``
    the check's JSON (``{"status", "duration_ms", "checks": [...]}``);
    ``attempted_at`` aware UTC.
    """

    __tablename__ = "exercise_attempts"
    __table_args__ = (Index("ix_exercise_attempts_exercise_time", "exercise_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(300))
    code: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    duration_ms: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
