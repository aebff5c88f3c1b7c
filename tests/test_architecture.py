"""Layering: the core never imports Textual; the TUI reaches the database only through
services; the core's layers (pyproject's import-linter contracts) hold."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

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
# with entries to render (this one has none).
_TODAY_PROBE = """
import sys
from studylog.cli import cli
try:
    cli(["today"], standalone_mode=False)
finally:
    # (the PostgreSQL dialects: a SQLite collection never needs them)
    heavy = ("numpy", "alembic", "markdown_it", "textual", "genanki", "sqlalchemy.dialects.postgresql")
    print("LOADED", sorted(m for m in heavy if m in sys.modules))
"""


def test_studylog_today_imports_no_numpy_alembic_markdown_parser_or_postgresql(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "STUDYLOG_DB": str(tmp_path / "s.db")}
    env["PYTHONPATH"] = str(REPO)
    first = subprocess.run(
        [sys.executable, "-m", "studylog", "today"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr  # creates the database and syncs the pack
    result = subprocess.run(
        [sys.executable, "-c", _TODAY_PROBE], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout
