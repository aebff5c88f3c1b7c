"""The README's Quickstart commands are the ones CI runs."""

from __future__ import annotations

from tests.conftest import REPO


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && pytest'
    assert command in readme
    assert any(line.strip() == command for line in ci.splitlines())
    assert command.replace("&& pytest", "&& studylog") in readme
