"""The README's Quickstart commands are the ones CI runs."""

from __future__ import annotations

from tests.conftest import REPO


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    setup = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]"'
    command = f"{setup} && pytest -n auto"
    assert command in readme
    assert any(line.strip() == command for line in ci.splitlines())
    assert f"{setup} && studylog" in readme


def test_ci_checks_the_style_and_the_layers() -> None:
    ci = [
        line.split("#")[0].strip()
        for line in (REPO / ".ci" / "run").read_text("utf-8").splitlines()
    ]
    for check in ("ruff format --check .", "ruff check .", "lint-imports"):
        assert check in ci, check
    assert "set -euo pipefail" in ci  # any failing step fails the run
