"""The concept file format and syncing the pack without overwriting the user's work."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from studylog.content.concept_file import ConceptFormatError, parse_concept
from studylog.content.sync import sync_pack
from studylog.services import cards, concepts
from studylog.storage.engine import Database
from studylog.storage.models import Card, Review

pytestmark = pytest.mark.both_backends

LSTM = """---
slug: lstm
title: LSTM
aliases: [장단기 메모리]
tags: [rnn]
sources: ["밑바닥부터 시작하는 딥러닝 2, 6.2"]
related: [rnn]
demo: lstm.py
---

# LSTM

The cell state $c_t$ (기억 셀).

## Cards

::: card forget-gate
What does the forget gate decide?

---

How much of $c_{t-1}$ to keep.
:::

::: card setext
Which gate writes new information?
---
The input gate $i_t$ with the candidate $g_t$.
:::

::: cloze cell
The {{c1::cell state}} is changed only by {{c2::element-wise}} operations.
:::

## Notes

Written after the cards.
"""


def write_pack(root: Path, files: dict[str, str]) -> Path:
    (root / "concepts").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / "concepts" / name).write_text(text, encoding="utf-8")
    return root


class TestParse:
    def test_front_matter_body_and_cards(self) -> None:
        c = parse_concept(LSTM, "lstm.md")
        assert (c.slug, c.title, c.aliases, c.tags, c.demo) == (
            "lstm",
            "LSTM",
            ["장단기 메모리"],
            ["rnn"],
            "lstm.py",
        )
        assert (
            c.body
            == "# LSTM\n\nThe cell state $c_t$ (기억 셀).\n\n## Notes\n\nWritten after the cards."
        )
        assert [(s.key, s.kind, s.cloze_ord) for s in c.cards] == [
            ("forget-gate", "basic", None),
            ("setext", "basic", None),
            ("cell", "cloze", 1),
            ("cell", "cloze", 2),
        ]
        assert c.cards[0].front == "What does the forget gate decide?"
        assert c.cards[0].back == "How much of $c_{t-1}$ to keep."
        assert c.cards[1].front == "Which gate writes new information?"
        assert c.cards[1].back == "The input gate $i_t$ with the candidate $g_t$."

    @pytest.mark.parametrize(
        ("broken", "message"),
        [
            (LSTM.replace("slug: lstm\n", ""), "lstm.md:1: 'slug' is missing"),
            (LSTM.replace("title: LSTM\n", ""), "lstm.md:1: 'title' is missing"),
            (LSTM.replace("tags: [rnn]", "tags: [rnn"), "lstm.md:6: invalid YAML"),
            (LSTM.replace("::: card forget-gate", "::: card"), "lstm.md:17: a card needs a key"),
            (LSTM.replace("::: card setext", "::: card forget-gate"), "lstm.md:25: duplicate card key"),
            (LSTM.replace("---\n\nHow much", "\nHow much"), "lstm.md:17: card 'forget-gate' needs a front and a back"),
            (LSTM.replace("{{c1::cell state}}", "cell state").replace("{{c2::element-wise}}", "x"), "lstm.md:31: cloze 'cell' has no deletion"),
            ("# no front matter\n", "x.md:1: missing front matter"),
        ],
    )  # fmt: skip
    def test_errors_name_the_file_and_line(self, broken: str, message: str) -> None:
        name = "x.md" if broken.startswith("#") else "lstm.md"
        with pytest.raises(ConceptFormatError) as err:
            parse_concept(broken, name)
        assert str(err.value).startswith(message)


class TestSync:
    def test_first_sync_adds_concepts_and_cards_then_skips(
        self, db: Database, tmp_path: Path
    ) -> None:
        root = write_pack(tmp_path / "pack", {"lstm.md": LSTM})
        report = sync_pack(db, root)
        assert report.added == ["lstm"]
        info = concepts.get(db, "lstm")
        assert len(info.cards) == 4 and info.origin == "pack"
        assert {c.pack_key for c in info.cards} == {
            "lstm/forget-gate",
            "lstm/setext",
            "lstm/cell/c1",
            "lstm/cell/c2",
        }
        assert sync_pack(db, root).skipped

    def test_a_changed_pack_keeps_schedules_and_reviewed_cards(
        self, db: Database, tmp_path: Path
    ) -> None:
        root = write_pack(tmp_path / "pack", {"lstm.md": LSTM})
        sync_pack(db, root)
        forget = next(c for c in concepts.get(db, "lstm").cards if c.pack_key == "lstm/forget-gate")
        setext = next(c for c in concepts.get(db, "lstm").cards if c.pack_key == "lstm/setext")
        when = datetime(2026, 1, 1, tzinfo=UTC)
        with db.write() as session:
            card = session.get(Card, setext.id)
            card.stability, card.last_review, card.state = 12.5, when, 2
            session.add(
                Review(card_id=card.id, rating=3, reviewed_at=when, state_before=1, state_after=2)
            )
        # The author rewords one card and drops the reviewed one and the cloze.
        changed = LSTM.replace(
            "What does the forget gate decide?", "What does the forget gate f_t decide?"
        )
        changed = changed[: changed.index("::: card setext")]
        write_pack(root, {"lstm.md": changed})
        report = sync_pack(db, root)
        assert report.updated == ["lstm"]
        info = concepts.get(db, "lstm")
        assert [(c.id, c.front) for c in info.cards if c.pack_key] == [
            (forget.id, "What does the forget gate f_t decide?")
        ]
        kept = cards.get(db, setext.id)  # reviewed: kept with its history, detached from the file
        assert kept.pack_key is None and kept.stability == 12.5

    def test_the_users_edit_is_never_overwritten(self, db: Database, tmp_path: Path) -> None:
        root = write_pack(tmp_path / "pack", {"lstm.md": LSTM})
        sync_pack(db, root)
        mine = concepts.to_markdown(concepts.get(db, "lstm")).replace(
            "The cell state", "내 설명: the cell state"
        )
        concepts.edit(db, "lstm", mine)
        write_pack(root, {"lstm.md": LSTM.replace("(기억 셀)", "(memory cell)")})
        report = sync_pack(db, root)
        assert report.kept_user_copy == ["lstm"]
        info = concepts.get(db, "lstm")
        assert "내 설명" in info.body and info.user_modified
        assert (root / "concepts" / "lstm.md").read_text(encoding="utf-8").count("내 설명") == 0

    def test_a_broken_pack_file_writes_nothing(self, db: Database, tmp_path: Path) -> None:
        broken = LSTM.replace("slug: lstm", "slug: gru").replace("::: card forget-gate", "::: card")
        root = write_pack(tmp_path / "pack", {"a.md": LSTM, "b.md": broken})
        with pytest.raises(ConceptFormatError, match="b.md:17"):
            sync_pack(db, root)
        assert concepts.list_concepts(db) == []

    def test_the_real_pack_syncs(self, db: Database) -> None:
        report = sync_pack(db)
        listed = concepts.list_concepts(db)
        assert len(listed) == len(report.added) > 0
        assert all(c.card_count >= 3 for c in listed)


def test_to_markdown_round_trips(db: Database, tmp_path: Path) -> None:
    sync_pack(db, write_pack(tmp_path / "pack", {"lstm.md": LSTM}))
    text = concepts.to_markdown(concepts.get(db, "lstm"))
    again = parse_concept(text, "out.md")
    original = parse_concept(LSTM, "lstm.md")
    assert again.body == original.body
    assert [(c.key, c.kind, c.front, c.back, c.cloze_ord) for c in again.cards] == [
        (c.key, c.kind, c.front, c.back, c.cloze_ord) for c in original.cards
    ]
    assert (again.aliases, again.tags, again.sources, again.related, again.demo) == (
        original.aliases, original.tags, original.sources, original.related, original.demo
    )  # fmt: skip


def test_user_concepts_can_be_added_and_resolved_by_korean_alias(db: Database) -> None:
    text = concepts.template("my-gelu", "GELU").replace("aliases: []", "aliases: [겔루]")
    info = concepts.add(db, text)
    assert info.origin == "user" and len(info.cards) == 1
    assert concepts.resolve(db, "겔루") == "my-gelu"
    assert concepts.resolve(db, "gelu") == "my-gelu"
    assert concepts.resolve(db, "nope") is None


def test_reverting_a_pack_concept_takes_the_pack_text_back(db: Database) -> None:
    sync_pack(db)
    slug = "softmax"
    original = concepts.get(db, slug)
    concepts.edit(db, slug, concepts.to_markdown(original).replace(original.body, "내 설명"))
    concepts.set_demo_code(db, slug, "def demo():\n    print('mine')\n")
    assert concepts.get(db, slug).user_modified
    back = concepts.revert_to_pack(db, slug)
    assert (back.body, back.user_modified, back.demo_code) == (original.body, False, None)
    assert [c.id for c in back.cards] == [c.id for c in original.cards]


def test_saving_code_of_an_imported_concept_makes_it_the_users(db: Database) -> None:
    text = concepts.template("imported", "Imported")
    concepts.add(db, text)
    with db.write() as session:
        from sqlalchemy import select

        from studylog.storage.models import Concept

        session.scalar(select(Concept).where(Concept.slug == "imported")).origin = "import"
    concepts.set_demo_code(db, "imported", "def demo():\n    pass\n")
    assert concepts.get(db, "imported").origin == "user"
    with pytest.raises(Exception, match="not a pack concept"):
        concepts.revert_to_pack(db, "imported")
