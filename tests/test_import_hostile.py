"""Hostile and broken import files (issue 14): each cause the reliability run found, reproduced.

79 of 3,795 fuzzed files ended in a traceback, from six causes; four more
made an import hang, fill /tmp, run superlinearly or leave a temporary
collection behind. Each test builds the file that did it and checks the fix:
one line naming the file (and the record), a non-zero exit from the CLI,
nothing written, nothing left in the temporary folder.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from studylog.errors import InvalidInputError
from studylog.interchange import anki_package
from studylog.interchange.importer import import_files
from studylog.storage.engine import Database
from studylog.storage.models import Card, JournalEntry, Todo
from tests.hostile_files import (
    BASIC_ID,
    MODELS,
    collection_bytes,
    negative_offset_zip,
    write_apkg,
    write_bomb_apkg,
)

pytestmark = pytest.mark.both_backends

REPO = Path(__file__).resolve().parents[1]


def table_counts(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) for m in (Card, JournalEntry, Todo)
        )


def refused(db: Database, path: Path, pattern: str) -> str:
    """Import ``path``, expect InvalidInputError matching ``pattern``; nothing written."""
    before = table_counts(db)
    with pytest.raises(InvalidInputError) as caught:
        import_files(db, [path])
    message = str(caught.value)
    assert message.startswith(path.name + ":"), message
    assert "\n" not in message
    import re

    assert re.search(pattern, message), message
    assert table_counts(db) == before
    return message


def test_a_valid_tiny_package_imports(db: Database, tmp_path: Path) -> None:
    # The builder's packages are real enough: the hostile ones below differ in one thing.
    path = write_apkg(tmp_path / "ok.apkg", collection_bytes())
    report = import_files(db, [path])
    assert table_counts(db)[0] == 2
    assert report.files[0].format == "anki"


# --- the six causes of tracebacks -----------------------------------------------------------


def test_json_nested_100000_deep(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(
        '{"format": "studylog-export", "format_version": 1, "x": '
        + "[" * 100_000
        + "]" * 100_000
        + "}",
        encoding="utf-8",
    )
    refused(db, path, r"nests deeper than 64 levels")


def test_anki_col_table_without_its_row(db: Database, tmp_path: Path) -> None:
    path = write_apkg(tmp_path / "norow.apkg", collection_bytes(col_row=False))
    refused(db, path, r"the col table has no row")


def test_yaml_python_tag_in_front_matter(db: Database, tmp_path: Path) -> None:
    deck = tmp_path / "evil-deck.md"
    deck.write_text(
        '---\ndeck: !!python/object/apply:os.system ["touch pwned"]\n---\n\n# x\n',
        encoding="utf-8",
    )
    refused(db, deck, r"evil-deck.md:2: invalid YAML in front matter")
    concept = tmp_path / "evil-concept.md"
    concept.write_text(
        "---\nslug: x\ntitle: !!python/name:os.system\n---\n\n# x\n", encoding="utf-8"
    )
    refused(db, concept, r"evil-concept.md:3: invalid YAML in front matter")
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_zip_with_a_negative_header_offset(db: Database, tmp_path: Path) -> None:
    path = negative_offset_zip(tmp_path / "offset.apkg")
    refused(db, path, r"(damaged zip|not a readable zip)")


def test_deck_front_matter_that_is_a_scalar(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "scalar-deck.md"
    path.write_text("---\ndeck:x\n---\n\n# x\n", encoding="utf-8")
    refused(db, path, r"scalar-deck.md:1: front matter must be a mapping")


def test_anki_note_whose_note_type_id_is_0(db: Database, tmp_path: Path) -> None:
    models = {"0": dict(MODELS[str(BASIC_ID)], id=0)}
    notes = [(1, "guid-a", 0, "", "앞\x1f뒤"), (2, "guid-b", 0, "", "앞2\x1f뒤2")]
    path = write_apkg(tmp_path / "mid0.apkg", collection_bytes(models=models, notes=notes))
    # Note type id 0 is odd but not wrong: the notes import like any other.
    import_files(db, [path])
    assert table_counts(db)[0] == 2
    # A note whose note type is missing is named.
    notes = [(1, "guid-c", 0, "", "앞\x1f뒤")]
    missing = write_apkg(tmp_path / "missing.apkg", collection_bytes(notes=notes))
    refused(db, missing, r"note 1 has a missing note type 0")


def test_anki_values_of_the_wrong_type_name_the_record(db: Database, tmp_path: Path) -> None:
    notes = [(1, "guid-a", "not a number", "", "앞\x1f뒤")]
    path = write_apkg(tmp_path / "types.apkg", collection_bytes(notes=notes))
    refused(db, path, r"malformed note 1")


def test_the_cli_prints_one_line_and_exits_non_zero(run_cli, tmp_path: Path) -> None:
    path = write_apkg(tmp_path / "norow.apkg", collection_bytes(col_row=False))
    result = run_cli("import", str(path))
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "norow.apkg" in result.output and "Traceback" not in result.output


# --- resource exhaustion -------------------------------------------------------------------

RECURSIVE_NOTES = (
    "CREATE VIEW notes AS WITH RECURSIVE r(id, guid, mid, tags, flds) AS "
    "(SELECT 1, 'g', 1001, '', 'a' UNION ALL SELECT id + 1, 'g' || id, 1001, '', "
    "hex(randomblob(512)) FROM r) SELECT * FROM r"
)


def test_a_notes_table_that_is_a_recursive_view_is_refused(db: Database, tmp_path: Path) -> None:
    path = write_apkg(tmp_path / "view.apkg", collection_bytes(notes_sql=RECURSIVE_NOTES))
    refused(db, path, r"notes is a view, not a table")


def test_a_slow_statement_is_interrupted_by_the_time_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever a collection makes SQLite do, no statement runs past the budget.
    monkeypatch.setattr(anki_package, "READ_BUDGET_S", 0.3)
    path = write_apkg(tmp_path / "ok.apkg", collection_bytes())
    with anki_package.opened_collection(path) as (con, _member, _media):
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            con.execute(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                "SELECT count(*) FROM r"
            ).fetchone()
        assert con.budget.fired


def test_a_zstd_bomb_is_refused_while_streaming(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_bomb_apkg(tmp_path / "bomb.apkg", 1 << 30)  # 1 GiB of zeros
    assert path.stat().st_size < 200 * 1024
    written = []
    real_copy = anki_package._copy_capped

    def counting_copy(source, dest, cap, what):  # noqa: ANN001, ANN202
        class Counter:
            def write(self, chunk: bytes) -> None:
                written.append(len(chunk))
                dest.write(chunk)

        return real_copy(source, Counter(), cap, what)

    monkeypatch.setattr(anki_package, "_copy_capped", counting_copy)
    refused(db, path, r"decompresses to more than 67,108,864 bytes")
    assert sum(written) <= anki_package.RATIO_FLOOR_BYTES  # never more than 64 MiB on disk


def test_the_bomb_cap_follows_the_compressed_size() -> None:
    assert anki_package.collection_cap(160 * 1024) == 64 * 1024**2
    assert anki_package.collection_cap(10 * 1024**2) == 1000 * 1024**2
    assert anki_package.collection_cap(1 << 40) == anki_package.MAX_COLLECTION_BYTES


def test_a_2mb_line_of_repeated_dates_parses_in_linear_time(db: Database, tmp_path: Path) -> None:
    from studylog.interchange.notes_import import read_notes
    from studylog.studyday import StudyCalendar

    def cpu_seconds(size: int) -> float:
        path = tmp_path / f"line-{size}.md"
        unit = "2024-08-16 오후 3:00 "
        path.write_text(unit * (size // len(unit.encode())) + "\n", encoding="utf-8")
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            read_notes(path, calendar=StudyCalendar(), day=None)
            best = min(best, time.process_time() - start)
        return best

    one, two = cpu_seconds(1_000_000), cpu_seconds(2_000_000)
    # Linear: twice the input costs about twice the CPU; quadratic would be 4x
    # (it took 41 s at 2 MB before). CPU time, not wall time, so load does not count.
    assert two < 3.0 * max(one, 0.01), (one, two)


SLOW_IMPORT = """
import sys, time
from studylog.interchange import anki_package
def slow_read(self):
    print("reading", flush=True)
    time.sleep(60)
anki_package._Reader.read = slow_read
sys.argv = ["studylog", "--db", sys.argv[1], "import", sys.argv[2]]
from studylog.cli import main
main()
"""


def _temp_collections(folder: Path) -> list[Path]:
    return sorted(folder.glob("studylog-anki-*"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_no_temporary_collection_is_left_when_an_import_is_interrupted(
    tmp_path: Path, sig: signal.Signals
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    package = write_apkg(tmp_path / "ok.apkg", collection_bytes())
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_IMPORT, str(tmp_path / "s.db"), str(package)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"reading\n"  # the collection is on disk now
    assert len(_temp_collections(tmp)) == 1
    proc.send_signal(sig)
    proc.wait(30)
    assert proc.returncode != 0
    if sig == signal.SIGKILL:
        # Nothing can run on SIGKILL; the next import removes the orphan.
        assert len(_temp_collections(tmp)) == 1
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "studylog",
                "--db",
                str(tmp_path / "s.db"),
                "import",
                str(package),
            ],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    assert _temp_collections(tmp) == []
