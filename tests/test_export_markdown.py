"""Export to markdown: a file per study day with its TODOs, per concept with its cards, per deck."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from studylog.content.concept_file import parse_concept
from studylog.errors import InvalidInputError
from studylog.interchange.importer import import_files
from studylog.interchange.markdown_export import deck_file_names, export_markdown, file_name
from studylog.services import cards, concepts, journal, settings, todos
from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.models import JournalEntry, Todo

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CONCEPT = """---
slug: my-gelu
title: GELU 🧠
---

# GELU

x·Φ(x).

## Cards

::: card what
GELU의 식은?

---

$x\\Phi(x)$
:::
"""


@pytest.fixture
def filled(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    day = date(2024, 8, 16)
    journal.add(db, "밑바닥2 8장: 어텐션 🧠\n", day, now=NOW)
    journal.add(db, "두 번째 글", day, now=NOW + timedelta(hours=1))
    todos.add(db, "여인수 정리", day, due_day=date(2024, 8, 20), now=NOW)
    done = todos.add(db, "ITES 다시 풀기", day, now=NOW)
    todos.complete(db, done.id, now=datetime(2024, 8, 17, 12, tzinfo=UTC))
    todos.add(db, "핸즈온 1장", date(2024, 8, 18), now=NOW)
    concepts.add(db, CONCEPT, now=NOW)
    cards.create(db, "GELU는 매끄러운가?", "예 🙂", concept_slug="my-gelu", now=NOW)
    cards.create(db, "어텐션 가중치의 합은?", "1", deck="밑바닥2::8장", now=NOW)
    cards.create(db, "{{c1::Q}}와 {{c2::K}}의 내적", kind="cloze", deck="밑바닥2::8장", now=NOW)
    return db


def test_files_per_day_concept_and_deck(filled, tmp_path):
    out = tmp_path / "export"
    counts = export_markdown(filled, out)
    assert counts == {
        "day files": 2,
        "concept files": 1,
        "deck files": 1,
        "entries": 2,
        "todos": 3,
        "cards": 5,
    }
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.md"))
    assert files == [
        "cards/밑바닥2 - 8장.md",
        "concepts/my-gelu.md",
        "journal/2024-08-16.md",
        "journal/2024-08-18.md",
    ]
    assert (out / "journal" / "2024-08-16.md").read_text(encoding="utf-8") == (
        "# 2024-08-16\n\n"
        "밑바닥2 8장: 어텐션 🧠\n\n---\n\n두 번째 글\n\n"
        "## TODO\n\n"
        "- [ ] 여인수 정리 📅 2024-08-20\n"
        "- [x] ITES 다시 풀기 ✅ 2024-08-17\n"
    )
    assert (out / "journal" / "2024-08-18.md").read_text(encoding="utf-8") == (
        "# 2024-08-18\n\n## TODO\n\n- [ ] 핸즈온 1장\n"
    )
    deck = (out / "cards" / "밑바닥2 - 8장.md").read_text(encoding="utf-8")
    assert deck.startswith(
        "---\ndeck: 밑바닥2::8장\n---\n\n# 밑바닥2::8장\n\n## Cards\n\n::: card card-"
    )
    assert deck.count("::: cloze card-") == 1  # c1 and c2 are one block
    assert "{{c1::Q}}와 {{c2::K}}의 내적" in deck


def test_concept_file_is_valid_concept_format_with_all_its_cards(filled, tmp_path):
    export_markdown(filled, tmp_path)
    text = (tmp_path / "concepts" / "my-gelu.md").read_text(encoding="utf-8")
    parsed = parse_concept(text, "my-gelu.md")
    assert (parsed.slug, parsed.title) == ("my-gelu", "GELU 🧠")
    assert [(c.front, c.back) for c in parsed.cards] == [
        ("GELU의 식은?", "$x\\Phi(x)$"),
        ("GELU는 매끄러운가?", "예 🙂"),
    ]


def test_reimporting_the_journal_folder_gives_back_days_todos_and_their_state(filled, tmp_path):
    export_markdown(filled, tmp_path / "md")
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.prepare(other)
    settings.put(other, settings.TIMEZONE, "UTC")
    report = import_files(other, [tmp_path / "md" / "journal"], now=NOW)
    assert report.total("added")["entries"] == 2 and report.total("added")["todos"] == 3

    def state(db: Database) -> list[tuple]:
        with db.read() as s:
            return [
                (t.origin_day, t.text, t.due_day, t.done_at.date() if t.done_at else None)
                for t in s.scalars(select(Todo).order_by(Todo.origin_day, Todo.position))
            ]

    assert state(other) == state(filled)
    with other.read() as s:
        bodies = {e.day: e.body for e in s.scalars(select(JournalEntry))}
    assert "밑바닥2 8장: 어텐션 🧠" in bodies[date(2024, 8, 16)]
    other.dispose()


def test_importing_the_whole_folder_again_restores_concepts_cards_and_days(filled, tmp_path):
    export_markdown(filled, tmp_path / "md")
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.prepare(other)
    settings.put(other, settings.TIMEZONE, "UTC")
    report = import_files(other, [tmp_path / "md"], now=NOW)
    kinds = sorted((f.file, f.format) for f in report.files)
    assert kinds == [
        ("2024-08-16.md", "notes"),
        ("2024-08-18.md", "notes"),
        ("my-gelu.md", "concept"),
        ("밑바닥2 - 8장.md", "deck"),
    ]
    added = report.total("added")
    assert (added["entries"], added["todos"], added["concepts"], added["cards"]) == (2, 3, 1, 5)
    gelu = concepts.get(other, "my-gelu")
    assert gelu.origin == "import" and [c.front for c in gelu.cards] == [
        "GELU의 식은?",
        "GELU는 매끄러운가?",
    ]
    deck = cards.list_cards(other, deck="밑바닥2::8장")
    assert sorted((c.front, c.kind, c.cloze_ord) for c in deck) == sorted(
        (c.front, c.kind, c.cloze_ord) for c in cards.list_cards(filled, deck="밑바닥2::8장")
    )
    again = import_files(other, [tmp_path / "md"], now=NOW)
    assert again.total("added") == dict.fromkeys(again.total("added"), 0)
    other.dispose()


def test_deck_names_become_safe_file_names():
    assert file_name("밑바닥2::8장") == "밑바닥2 - 8장"
    assert file_name('a/b\\c:d*e?"<>|') == "a_b_c_d_e_____"
    assert file_name("...") == "Default"


def test_decks_whose_names_clean_alike_get_files_of_their_own(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'decks.db'}")
    migrate.prepare(db)
    for deck in ("a/b", "a:b", "A_B"):
        cards.create(db, f"{deck} 앞면", "뒷면", deck=deck, now=NOW)
    assert deck_file_names(["a/b", "a:b", "A_B"]) == {
        "A_B": "A_B",
        "a/b": "a_b (2)",
        "a:b": "a_b (3)",
    }
    export_markdown(db, tmp_path / "md")
    files = sorted(p.name for p in (tmp_path / "md" / "cards").iterdir())
    assert files == ["A_B.md", "a_b (2).md", "a_b (3).md"]
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.prepare(other)
    import_files(other, [tmp_path / "md" / "cards"], now=NOW)
    assert sorted((c.deck, c.front) for c in cards.list_cards(other)) == [
        ("A_B", "A_B 앞면"),
        ("a/b", "a/b 앞면"),
        ("a:b", "a:b 앞면"),
    ]
    db.dispose()
    other.dispose()


def test_refuses_a_file_as_the_folder(filled, tmp_path):
    target = tmp_path / "file.md"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="is a file"):
        export_markdown(filled, target)


def test_cli_export_md_and_json(run_cli, tmp_path: Path):
    assert run_cli("log", "어텐션 🧠").exit_code == 0
    out = run_cli("export", "--format", "md", "--out", str(tmp_path / "md"))
    assert out.exit_code == 0, out.output
    assert re.match(
        r"Exported 1 day file, \d\d+ concept files, 0 deck files, 1 entry, 0 TODOs, ", out.output
    )
    assert (tmp_path / "md" / "journal" / "2026-11-21.md").read_text(encoding="utf-8") == (
        "# 2026-11-21\n\n어텐션 🧠\n"
    )
    assert len(list((tmp_path / "md" / "concepts").glob("*.md"))) >= 29  # the pack
    out = run_cli("export", "--out", str(tmp_path / "all.json"))
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Exported 1 entry, 0 TODOs, ")
    assert " 0 suggested cards, 0 import records to " in out.output
