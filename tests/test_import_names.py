"""Names from imported data never leave the export folder (issue 14).

The reliability run imported ``"slug": "../../../../tmp/x"`` (and ``"/tmp/x"``)
and a routine ``export --format md`` then wrote ``x.md`` outside ``--out``.
Now the import refuses such a record with one line naming it, and the export
refuses any path that would leave its folder, before writing anything.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from studylog.errors import InvalidInputError
from studylog.interchange.importer import import_files
from studylog.interchange.json_export import export_json
from studylog.interchange.markdown_export import export_markdown
from studylog.interchange.names import check_deck, check_slug, confined
from studylog.services import concepts
from studylog.storage.engine import Database
from studylog.storage.models import Card, Concept

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CONCEPT = "---\nslug: my-gelu\ntitle: GELU\n---\n\n# GELU\n\nx·Φ(x)\n"


@pytest.fixture
def backup(db: Database, tmp_path: Path) -> dict:
    concepts.add(db, CONCEPT, now=NOW)
    path = tmp_path / "backup.json"
    export_json(db, path)
    return json.loads(path.read_text(encoding="utf-8"))


def counts(db: Database) -> tuple[int, int]:
    with db.read() as s:
        return s.scalar(select(func.count(Concept.id))), s.scalar(select(func.count(Card.id)))


@pytest.mark.parametrize("slug", ["../../../../tmp/x", "/tmp/x", "a/b", "..", "x\x1b]0;t\x07"])
def test_a_json_concept_whose_slug_is_a_path_is_refused(
    backup: dict, tmp_path: Path, slug: str
) -> None:
    from studylog.storage import migrate

    doc = dict(backup)
    doc["concepts"] = [dict(c) for c in backup["concepts"]]
    mine = next(c for c in doc["concepts"] if c["slug"] == "my-gelu")
    mine["slug"] = slug
    index = doc["concepts"].index(mine)
    bad = tmp_path / "evil.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    target = Database(f"sqlite:///{tmp_path / 'target.db'}")
    migrate.prepare(target)
    with pytest.raises(InvalidInputError) as caught:
        import_files(target, [bad], now=NOW)
    message = str(caught.value)
    assert message.startswith(f"evil.json: concepts[{index}] ")
    assert "is not lowercase letters, digits and dashes" in message
    assert counts(target) == (0, 0)
    target.dispose()


def test_cli_import_names_the_record_and_exits_non_zero(
    backup: dict, tmp_path: Path, run_cli
) -> None:
    doc = dict(backup)
    doc["concepts"] = [
        dict(c, slug="/tmp/x") if c["slug"] == "my-gelu" else c for c in doc["concepts"]
    ]
    bad = tmp_path / "evil.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("import", str(bad))
    assert result.exit_code == 1
    assert "evil.json: concepts[" in result.output and "'/tmp/x'" in result.output
    assert "Traceback" not in result.output


def test_export_refuses_a_stored_slug_that_leaves_the_folder(db: Database, tmp_path: Path) -> None:
    # A database written by an older studylog, which did not check slugs on import.
    concepts.add(db, CONCEPT, now=NOW)
    escape = tmp_path / "outside"
    escape.mkdir()
    with db.write() as s:
        s.execute(
            Concept.__table__.update()
            .where(Concept.slug == "my-gelu")
            .values(slug=f"../../{escape.name}/x")
        )
    out = tmp_path / "vault" / "export"
    with pytest.raises(
        InvalidInputError, match=r"concept '\.\./\.\./outside/x': .*nothing was exported"
    ):
        export_markdown(db, out)
    assert list(escape.iterdir()) == []
    assert not out.exists() or list(out.rglob("*.md")) == []  # nothing half-written either


def test_export_refuses_a_symlink_that_points_out(db: Database, tmp_path: Path) -> None:
    concepts.add(db, CONCEPT, now=NOW)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "concepts")
    with pytest.raises(InvalidInputError, match="would be written outside"):
        export_markdown(db, out)
    assert list(elsewhere.iterdir()) == []


def test_confined_accepts_plain_names_and_refuses_the_rest(tmp_path: Path) -> None:
    assert confined(tmp_path, "concepts", "lstm.md") == tmp_path / "concepts" / "lstm.md"
    assert confined(tmp_path, "cards", "밑바닥2 - 8장.md").name == "밑바닥2 - 8장.md"
    for name in ("../x.md", "/tmp/x.md", "..", "", "a\\b.md", "nul\x00.md"):
        with pytest.raises(InvalidInputError):
            confined(tmp_path, "concepts", name)


def test_deck_names_are_checked_and_named(tmp_path: Path, db: Database) -> None:
    assert check_deck("밑바닥2::8장", "x") == "밑바닥2::8장"
    assert check_slug("attention-2", "x") == "attention-2"
    with pytest.raises(InvalidInputError, match="cards.csv:3: the deck name .* control characters"):
        check_deck("evil\x1b[2J", "cards.csv:3")
    csv = tmp_path / "cards.csv"
    csv.write_text('front,back,deck\n질문,답,좋은 덱\n질문2,답2,"bad\x07deck"\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"^cards.csv:3: the deck name"):
        import_files(db, [csv], now=NOW)
    assert counts(db)[1] == 0
