"""Untrusted text is inert on the terminal (issue 14): no escape from a note reaches it.

The notes below carry what the reliability run used: a terminal retitle
(``ESC]0;…BEL``), a clipboard write (``ESC]52;c;…``), a screen clear
(``ESC[2J``), their 8-bit C1 forms and stray control characters. They go in
through a real notes import, as an attacker's file would, and come out of
``today``, ``todo list``, ``search``, ``card suggested`` and the JSON forms.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from studylog.inert import inert, is_inert

pytestmark = pytest.mark.both_backends

RETITLE = "\x1b]0;pwned\x07"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x1b\\"
CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b31m"
STRAY = "\x07\x08\x0b\x0c\x7f\x85\x9c"
HOSTILE = f"어텐션{RETITLE} 정리{CLIPBOARD} 끝{CLEAR}{C1_CSI}!{STRAY}"
# Any control character but newline and tab (C0, DEL, C1).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_inert_removes_whole_sequences_and_keeps_korean_and_emoji() -> None:
    assert inert(HOSTILE) == "어텐션 정리 끝!"
    assert inert("한국어 🧠\tok\nnext") == "한국어 🧠\tok\nnext"
    assert inert("윈도우\r\n줄") == "윈도우\n줄"
    # A string sequence without its terminator loses only the introducer.
    assert inert("\x1b]0;no terminator, the rest is text") == "0;no terminator, the rest is text"
    assert inert("\x1bPqDCS data\x1b\\after") == "after"
    assert inert("\x1bcreset") == "reset"
    assert is_inert(inert(HOSTILE + "\x1b[?1049h\x1b(B\x1b7"))


def test_inert_is_linear_on_a_long_unterminated_sequence() -> None:
    # The OSC pattern is bounded ({0,4096}): no quadratic rescans.
    text = ("\x1b]" + "a" * 5000) * 200
    assert is_inert(inert(text))


@pytest.fixture
def hostile_data(run_cli, tmp_path: Path):
    note = tmp_path / "hostile.md"
    note.write_text(
        "# 2026-11-21\n\n"
        f"오늘 공부 {HOSTILE}\n\n"
        f"- [ ] 할 일 {HOSTILE}\n\n"
        f"어텐션{CLEAR} :: 가중합{RETITLE}\n",
        encoding="utf-8",
    )
    result = run_cli("import", str(note))
    assert result.exit_code == 0, result.output
    return run_cli


@pytest.mark.parametrize(
    "args",
    [
        ("today",),
        ("todo", "list"),
        ("search", "어텐션"),
        ("search", "할 일"),
        ("card", "suggested"),
        ("today", "--json"),
        ("todo", "list", "--json"),
        ("search", "어텐션", "--json"),
        ("card", "suggested", "--json"),
    ],
)
def test_cli_output_has_no_control_characters(hostile_data, args) -> None:
    result = hostile_data(*args)
    assert result.exit_code == 0, result.output
    assert CONTROL.search(result.output) is None, repr(result.output)
    assert "어텐션" in result.output or "할 일" in result.output


def test_json_keeps_the_exact_text_as_escapes(hostile_data) -> None:
    # The data is not changed, only written so the terminal cannot act on it.
    todos = json.loads(hostile_data("todo", "list", "--json").output)
    assert todos[0]["text"].startswith("할 일 어텐션\x1b]0;pwned\x07")
    assert "\\u009b" in hostile_data("todo", "list", "--json").output


def test_an_error_message_naming_hostile_data_is_inert(run_cli) -> None:
    result = run_cli("concept", "show", f"no-such{RETITLE}")
    assert result.exit_code != 0
    assert CONTROL.search(result.output) is None
    assert "no-such" in result.output


def test_the_console_keeps_its_own_colours_on_a_terminal() -> None:
    from rich.style import Style
    from rich.text import Text

    from studylog.cli import output

    buffer = io.StringIO()
    console = output.console(file=buffer, force_terminal=True, color_system="standard")
    console.print(Text("ok ", style="bold red") + Text(HOSTILE))
    console.print(Text("link", style=Style(link=f"https://example.org/{RETITLE}")))
    written = buffer.getvalue()
    assert "\x1b[1;31mok" in written  # rich's own SGR escape survives
    assert "\x1b]8;" in written  # the link itself is kept...
    assert "pwned\x07" not in written and "\x1b]0;" not in written  # ...without the retitle
    assert "]52;" not in written and "\x1b[2J" not in written and "\x9b" not in written
    # rich's Text drops BEL when it is built; studylog cleans the text first
    # (inert.harden_rich_text), so the retitle goes whole, words and all.
    assert "\x1b[1;31mok 어텐션 " in written and "pwned" not in written
    assert "정리" in written
    assert written.count("\x1b[") == 2  # rich's bold red and reset, nothing else


def test_no_cli_module_builds_its_own_rich_console() -> None:
    # output.console() is the one choke point: any other Console would print raw.
    cli_dir = Path(__file__).resolve().parents[1] / "studylog" / "cli"
    offenders = [
        p.name
        for p in cli_dir.glob("*.py")
        if p.name != "output.py" and re.search(r"\bConsole\(", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
