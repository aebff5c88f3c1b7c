"""``studylog demo``: list, run, show, approve, through click with a real database."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from studylog.cli.demo import demo
from studylog.services import demos
from studylog.storage.engine import Database
from studylog.storage.models import Concept

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


class Obj:
    """What the main CLI puts in ctx.obj: something with .database()."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def database(self) -> Database:
        return self._db


@click.group()
@click.pass_context
def root(ctx: click.Context) -> None:
    pass


root.add_command(demo)


def write(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pack = tmp_path / "demos"
    pack.mkdir()
    monkeypatch.setattr(demos, "pack_demos_dir", lambda: pack)
    # counting.py counts its runs in a file, which the kernel sandbox would
    # not let it write: these tests are about the cache, not the sandbox.
    monkeypatch.setenv("STUDYLOG_SANDBOX", "none")
    write(
        pack / "counting.py",
        f"""
        import numpy as np
        from studylog.demo import api as out

        def demo():
            with open({str(tmp_path / "runs.log")!r}, "a") as log:
                log.write("run\\n")
            out.value("answer", 42)
            out.array("odd", np.array([1.0, np.nan, np.inf]))
        """,
    )
    write(pack / "broken.py", "def demo():\n    raise ValueError('broken on purpose')\n")
    write(pack / "loop.py", "def demo():\n    while True:\n        pass\n")
    imported = (
        "from studylog.demo import api as out\n\ndef demo():\n    out.text('from a friend')\n"
    )
    with db.write() as session:
        for slug, demo_file, code, origin in (
            ("counting", "counting.py", None, "pack"),
            ("broken", "broken.py", None, "pack"),
            ("loop", "loop.py", None, "pack"),
            ("shared", None, imported, "import"),
            ("no-demo", None, None, "user"),
        ):
            session.add(
                Concept(
                    slug=slug,
                    title=slug.title(),
                    aliases=[],
                    body="",
                    sources=[],
                    related=[],
                    demo=demo_file,
                    demo_code=code,
                    origin=origin,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(root, ["demo", *args], obj=Obj(db), input=input)

    run.runs_log = tmp_path / "runs.log"  # type: ignore[attr-defined]
    return run


def strict_json(text: str):
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_list_json_and_table(cli) -> None:
    result = cli("list", "--json")
    assert result.exit_code == 0, result.output
    entries = strict_json(result.output)
    assert [e["slug"] for e in entries] == ["broken", "counting", "loop", "shared"]
    shared = entries[-1]
    assert shared["trusted"] is False and shared["demo"] is None and shared["last_status"] is None
    table = cli("list").output
    assert "pack" in table and "imported (not approved)" in table and "never" in table


def test_run_json_prints_status_duration_and_outputs(cli) -> None:
    result = cli("run", "counting", "--json")
    assert result.exit_code == 0, result.output
    data = strict_json(result.output)
    assert data["status"] == "ok" and isinstance(data["duration_ms"], int)
    assert data["outputs"][0] == {"kind": "value", "label": "answer", "value": 42, "unit": None}
    assert data["outputs"][1]["data"] == [1.0, "NaN", "Infinity"]  # strict JSON
    assert data["cached"] is False and data["stale"] is False


def test_run_reuses_a_fresh_result_unless_no_cache(cli) -> None:
    first = cli("run", "counting")
    assert first.exit_code == 0 and first.output.startswith("✓ ok")
    assert "answer: 42" in first.output
    second = cli("run", "counting")
    assert "cached" in second.output.splitlines()[0]
    assert cli.runs_log.read_text().count("run") == 1
    third = cli("run", "counting", "--no-cache")
    assert "cached" not in third.output.splitlines()[0]
    assert cli.runs_log.read_text().count("run") == 2


def test_failed_run_exits_non_zero_with_the_traceback(cli) -> None:
    result = cli("run", "broken")
    assert result.exit_code == 1
    assert result.output.startswith("✗ error")
    assert "ValueError: broken on purpose" in result.output
    assert 'File "' in result.output and "line 2, in demo" in result.output


def test_timeout_option(cli) -> None:
    result = cli("run", "loop", "--timeout", "0.5", "--json")
    assert result.exit_code == 1
    data = strict_json(result.output)
    assert data["status"] == "timeout" and "0.5 s" in data["error"]


def test_run_a_file_by_path(cli, tmp_path: Path) -> None:
    mine = write(
        tmp_path / "my_attention.py",
        """
        from studylog.demo import api as out

        def demo():
            print("내 데모")
            out.heatmap("w", [[0.5, 0.5], [0.1, 0.9]], x_labels=["나", "너"])
        """,
    )
    result = cli("run", str(mine), "--json")
    assert result.exit_code == 0, result.output
    data = strict_json(result.output)
    assert data["slug"] is None
    assert [o["kind"] for o in data["outputs"]] == ["text", "heatmap"]
    assert data["outputs"][0]["text"] == "내 데모\n"
    shown = cli("run", str(mine)).output
    assert "내 데모" in shown and "scale" in shown


def test_errors_are_one_line(cli) -> None:
    for args, message in (
        (("run", "nope"), "Error: no concept with slug 'nope'"),
        (("run", "no-demo"), "Error: concept 'no-demo' has no demo"),
        (("run", "missing.py"), "Error: no demo file at"),
        (("show", "counting"), "has not been run yet"),
    ):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert message in result.stderr
        assert "Traceback" not in result.output


def test_untrusted_code_needs_approval(cli) -> None:
    refused = cli("run", "shared")
    assert refused.exit_code == 1
    assert "studylog demo approve shared" in refused.stderr

    declined = cli("approve", "shared", input="n\n")
    assert declined.exit_code == 1
    assert "out.text('from a friend')" in declined.output  # the code is shown first
    assert "Not approved." in declined.output
    assert cli("run", "shared").exit_code == 1

    approved = cli("approve", "shared", "--yes")
    assert approved.exit_code == 0 and "Approved the demo of shared" in approved.output
    ran = cli("run", "shared", "--json")
    assert ran.exit_code == 0
    assert strict_json(ran.output)["outputs"][0]["text"] == "from a friend"
    assert "needs no approval" in cli("approve", "counting").output


def test_show_prints_the_stored_result(cli) -> None:
    cli("run", "counting")
    shown = cli("show", "counting", "--json")
    assert shown.exit_code == 0
    data = strict_json(shown.output)
    assert data["cached"] is True and data["outputs"][0]["value"] == 42
    assert cli.runs_log.read_text().count("run") == 1
