"""The command line against a real database file: commands, JSON output, clear errors."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.both_backends


def test_log_today_and_korean_round_trip(run_cli, tmp_path: Path) -> None:
    text = "밑바닥2 8장: 어텐션 🧠 $\\mathrm{softmax}(QK^T)$"
    assert run_cli("log", text).output == "Added entry 1 to 2026-11-21.\n"
    assert run_cli("log", "-", "--date", "yesterday", input="어제 한 일\n").exit_code == 0
    today = json.loads(run_cli("today", "--json").output)
    assert today["day"] == "2026-11-21"
    assert [e["body"] for e in today["entries"]] == [text]
    assert today["streak"] == 2

    hits = json.loads(run_cli("search", "어텐션", "--json").output)
    assert [(h["kind"], h["ref"]) for h in hits if h["kind"] == "entry"] == [("entry", "1")]

    out = tmp_path / "export.json"
    assert run_cli("export", "--format", "json", "--out", str(out)).exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {e["body"] for e in data["entries"]} == {text, "어제 한 일\n"}
    assert "어텐션" in out.read_text(encoding="utf-8")  # written as UTF-8, not \\u escapes


def test_today_shows_single_line_breaks_as_written(run_cli) -> None:
    # A note written line by line (as pasted from a plain-text file): CommonMark would
    # join the lines into one; studylog shows them as written, as Obsidian does.
    note = "밑바닥2 8장\n어텐션 정리\nseq2seq 복습\n\n다음 문단"
    assert run_cli("log", "-", input=note).exit_code == 0
    lines = [line.strip("│ ") for line in run_cli("today").output.splitlines()]
    at = lines.index("밑바닥2 8장")
    assert lines[at : at + 5] == ["밑바닥2 8장", "어텐션 정리", "seq2seq 복습", "", "다음 문단"]
    # What is stored is what was written.
    assert [e["body"] for e in json.loads(run_cli("today", "--json").output)["entries"]] == [note]


def test_todo_commands_carry_over(run_cli) -> None:
    run_cli("todo", "add", "밑바닥2 8장 읽기", "--date", "2026-11-19")
    run_cli("todo", "add", "ITES 다시 풀기")
    listed = json.loads(run_cli("todo", "list", "--json").output)
    assert [(t["text"], t["carried"], t["origin_day"]) for t in listed] == [
        ("밑바닥2 8장 읽기", True, "2026-11-19"),
        ("ITES 다시 풀기", False, "2026-11-21"),
    ]
    assert "↪ 2026-11-19" in run_cli("todo", "list").output
    assert run_cli("todo", "done", "1").output == "Done: 밑바닥2 8장 읽기\n"
    assert run_cli("todo", "reopen", "1").exit_code == 0
    assert run_cli("todo", "edit", "2", "ITES (unsigned int)").exit_code == 0
    assert run_cli("todo", "rm", "1").exit_code == 0
    assert [t["text"] for t in json.loads(run_cli("todo", "list", "--json").output)] == [
        "ITES (unsigned int)"
    ]


def test_card_commands(run_cli) -> None:
    first = run_cli("card", "add", "어텐션 가중치의 합은?", "1", "--tag", "my-attention").output
    assert re.fullmatch(r"Added card \d+\.\n", first)
    one = int(re.findall(r"\d+", first)[0])
    assert run_cli(
        "card", "add", "{{c1::Q}}, {{c2::K}}, V", "--cloze", "--tag", "새태그"
    ).output == (f"Added cards {one + 1}, {one + 2}.\n")
    assert run_cli("card", "edit", str(one), "--back", "항상 1 (softmax)").exit_code == 0
    cards = json.loads(run_cli("card", "list", "--tag", "my-attention", "--json").output)
    assert [(c["id"], c["back"], c["tags"]) for c in cards] == [
        (one, "항상 1 (softmax)", ["my-attention"])
    ]
    assert run_cli("card", "rm", str(one + 2)).exit_code == 0
    listed = json.loads(run_cli("card", "list", "--deck", "Default", "--json").output)
    assert [c["id"] for c in listed] == [one, one + 1]


def test_concepts_from_the_pack_are_there(run_cli) -> None:
    listed = json.loads(run_cli("concept", "list", "--json").output)
    assert len(listed) > 0 and all(c["origin"] == "pack" for c in listed)
    slug = listed[0]["slug"]
    shown = json.loads(run_cli("concept", "show", slug, "--json").output)
    assert shown["slug"] == slug and len(shown["cards"]) >= 3


def test_user_concept_from_a_file(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "gelu.md"
    path.write_text(
        "---\nslug: gelu\ntitle: GELU\naliases: [겔루]\n---\n\nx Φ(x)\n\n## Cards\n\n"
        "::: card def\nGELU(x)?\n\n---\n\nx Φ(x)\n:::\n",
        encoding="utf-8",
    )
    assert (
        run_cli("concept", "add", "--file", str(path)).output
        == "Added concept gelu with 1 card(s).\n"
    )
    assert json.loads(run_cli("concept", "show", "gelu", "--json").output)["aliases"] == ["겔루"]


def _error(result) -> str:  # noqa: ANN001
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("log", "x", "--date", "16/08/2024"), "Error: unknown date format: '16/08/2024'"),
        (("log", "x", "--date", "2023-02-29"), "Error: not a real date: '2023-02-29'"),
        (("log", "   "), "Error: the entry is empty"),
        (("todo", "done", "42"), "Error: no TODO with id 42"),
        (("todo", "add", ""), "Error: the TODO text is empty"),
        (("card", "edit", "70000", "--front", "x"), "Error: no card with id 70000"),
        (("card", "add", "front only"), "Error: the card's back is empty"),
        (("card", "add", "no deletion", "--cloze"), "Error: a cloze card needs a deletion"),
        (("concept", "show", "nope"), "Error: no concept with slug 'nope'"),
        (("search", "   "), "Error: the search query is empty"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(
    run_cli, db_path: Path, args, message
) -> None:
    result = run_cli(*args)
    assert _error(result).startswith(message)
    con = sqlite3.connect(db_path)
    counts = [
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("journal_entries", "todos")
    ]
    con.close()
    assert counts == [0, 0]


def _studylog(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studylog", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_a_db_that_is_not_sqlite(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello", encoding="utf-8")
    result = _studylog("--db", str(bogus), "today", env={})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {bogus} is not a studylog database (file is not a database)"
    ]
    assert bogus.read_text(encoding="utf-8") == "hello"


def test_a_db_that_cannot_be_written(tmp_path: Path) -> None:
    # A read-only file system: even root cannot write under /proc.
    result = _studylog("--db", "/proc/studylog-test/s.db", "log", "x", env={})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot create the database folder /proc/studylog-test")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_db_path_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = _studylog("--db", str(blocker / "sub" / "s.db"), "log", "x", env={})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot create the database folder")
    assert len(result.stderr.strip().splitlines()) == 1


def test_data_lives_under_xdg_data_home_by_default(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "STUDYLOG_DB": ""}
    result = _studylog("log", "기본 위치", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "xdg" / "studylog" / "studylog.db").exists()


def test_db_commands(run_cli, db_path: Path, tmp_path: Path) -> None:
    run_cli("log", "x")
    assert "is the newest" in run_cli("db", "check").output
    current = json.loads(run_cli("db", "current", "--json").output)
    assert current["current"] == current["head"]
    copy = tmp_path / "copy.db"
    assert run_cli("db", "backup", "--out", str(copy)).exit_code == 0
    con = sqlite3.connect(copy)
    assert con.execute("SELECT body FROM journal_entries").fetchall() == [("x",)]
    con.close()
    assert run_cli("db", "upgrade").output.startswith("Already at the newest revision")


def test_version_and_help() -> None:
    result = _studylog("--version", env={})
    assert result.returncode == 0 and result.stdout.startswith("studylog, version ")
    for command in ("log", "today", "todo", "card", "concept", "search", "export", "import", "db"):
        assert _studylog(command, "--help", env={}).returncode == 0


def test_concept_revert(run_cli, tmp_path: Path) -> None:
    edited = tmp_path / "bleu.md"
    shown = json.loads(run_cli("concept", "show", "bleu", "--json").output)
    run_cli("concept", "show", "bleu")
    from studylog.content.concept_file import parse_concept
    from studylog.paths import content_dir

    text = (content_dir() / "concepts" / "bleu.md").read_text(encoding="utf-8")
    edited.write_text(text.replace(parse_concept(text).body, "# BLEU\n\n내 메모"), encoding="utf-8")
    assert run_cli("concept", "edit", "bleu", "--file", str(edited)).exit_code == 0
    assert json.loads(run_cli("concept", "show", "bleu", "--json").output)["user_modified"]
    assert run_cli("concept", "revert", "bleu").output == "Reverted bleu to the pack's version.\n"
    again = json.loads(run_cli("concept", "show", "bleu", "--json").output)
    assert (again["body"], again["user_modified"]) == (shown["body"], False)
    assert _error(run_cli("concept", "revert", "nope")) == "Error: no concept with slug 'nope'"
