"""Layering: the core never imports Textual; the TUI reaches the database only through
services; the core's layers (pyproject's import-linter contracts) hold."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--config", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 5
    assert any(c["type"] == "layers" for c in contracts)  # the core's layers are checked
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / "studylog" / folder).rglob("*.py"))


def test_screens_and_widgets_use_the_typed_app_not_ignores() -> None:
    """``app = studylog_app()`` types ``self.app``: no attr-defined ignores are needed."""
    offenders = [
        f"{p.relative_to(REPO)}:{n}"
        for p in _sources("tui")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "type: ignore[attr-defined]" in line
    ]
    assert offenders == []


def test_screens_and_commands_are_plain_imports_not_importlib_fallbacks() -> None:
    """A typo in a screen or command module must fail loudly, not become a placeholder."""
    offenders = [
        str(p.relative_to(REPO))
        for p in _sources("tui", "cli")
        if any(call in p.read_text(encoding="utf-8") for call in ("import_module(", "__import__("))
    ]
    assert offenders == []


# `studylog today` is run many times a day; its start is mostly imports (issue 10's
# target: <= 0.5 s on a 100k-card database). NumPy (~0.1 s), Alembic and the markdown
# parser are needed only for bulk work, a pending migration, a changed pack, or a day
# with entries to render (this one has none). The ORM (sqlalchemy.orm and the mapped
# models, ~0.1 s with their configuration) is needed only to write: every read of
# `today` is a Core select (studylog.storage.tables).
_ORM = ("sqlalchemy.orm", "studylog.storage.models")
_TODAY_PROBE = """
import sys
from studylog.cli import cli
try:
    cli(ARGS, standalone_mode=False)
finally:
    # (the PostgreSQL dialects: a SQLite collection never needs them)
    heavy = HEAVY
    print("LOADED", sorted(m for m in heavy if m in sys.modules))
"""


def _probe(args: list[str], heavy: tuple[str, ...]) -> str:
    return _TODAY_PROBE.replace("ARGS", repr(args)).replace("HEAVY", repr(heavy))


def test_studylog_today_imports_no_numpy_alembic_markdown_parser_or_postgresql(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "STUDYLOG_DB": str(tmp_path / "s.db")}
    env["PYTHONPATH"] = str(REPO)
    first = subprocess.run(
        [sys.executable, "-m", "studylog", "today"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr  # creates the database and syncs the pack
    heavy = (
        *("numpy", "alembic", "markdown_it", "textual", "genanki"),
        *("sqlalchemy.dialects.postgresql", *_ORM),
    )
    result = subprocess.run(
        [sys.executable, "-c", _probe(["today"], heavy)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout


def test_studylog_today_with_entries_todos_decks_and_answers_never_loads_the_orm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every path of the summary runs (entries, carried and done TODOs, deck presets and
    custom study, today's answers and a streak), through Core reads only."""
    from datetime import timedelta

    from studylog.services import cards, custom_study, journal, settings, todos
    from studylog.services.review import ReviewSession
    from studylog.storage.opening import open_prepared
    from tests.conftest import NOW

    monkeypatch.setenv("TZ", "UTC")  # the same study day in this process and the probes
    path = tmp_path / "s.db"
    db = open_prepared(f"sqlite:///{path}")
    try:
        calendar = settings.calendar(db)
        day = calendar.day_of(NOW)
        journal.add(db, "yesterday", day - timedelta(days=1), now=NOW - timedelta(days=1))
        journal.add(db, "today", day, now=NOW)
        old = todos.add(db, "carried", day - timedelta(days=3), now=NOW - timedelta(days=3))
        todos.add(db, "done", day, done=True, now=NOW)
        todos.complete(db, old.id, now=NOW + timedelta(days=1))
        for deck in ("A", "A::B"):
            cards.create(db, f"q {deck}", "a", deck=deck, now=NOW - timedelta(days=2))
        settings.update_deck(db, "A::B", {"new_per_day": 1})
        custom_study.extend_new(db, 2, deck="A", now=NOW)
        session = ReviewSession(db, now=NOW)
        card = session.next_card(now=NOW)
        assert card is not None
        session.answer(card.id, 3, now=NOW)
    finally:
        db.dispose()
    env = {**os.environ, "STUDYLOG_DB": str(path), "PYTHONPATH": str(REPO)}
    env["STUDYLOG_NOW"] = NOW.isoformat()
    first = subprocess.run(
        [sys.executable, "-m", "studylog", "today"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr  # syncs the pack (a write: the ORM loads)
    assert "reviews today 1" in first.stdout and "streak 2 days" in first.stdout, first.stdout
    for args in (["today"], ["today", "--json"], ["today", "--date", "yesterday"], []):
        result = subprocess.run(
            [sys.executable, "-c", _probe(args, _ORM)], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert "LOADED []" in result.stdout, (args, result.stdout)
