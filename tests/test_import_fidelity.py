"""Imported text reads and searches as written: Anki HTML keeps intraword underscores and
the meaning of sub- and superscripts; ``studylog search`` finds what the card says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studylog.interchange.anki_html import html_to_markdown, script_text

pytestmark = pytest.mark.both_backends


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        # CommonMark never reads an intraword underscore as emphasis: no escape needed.
        ("num_heads와 hidden_size로 나눈다", "num_heads와 hidden_size로 나눈다"),
        ("W_hh · snake_case_name", "W_hh · snake_case_name"),
        # Underscores that could open or close emphasis are still escaped.
        ("_강조_ 와 __init__", "\\_강조\\_ 와 \\_\\_init\\_\\_"),
        ("<b>num</b>_heads", "**num**\\_heads"),  # "_" starts its text node: kept safe
        ("<code>a_b</code>", "`a_b`"),
        # Sub- and superscripts: Unicode where every character has one.
        ("d<sub>k</sub> 차원", "dₖ 차원"),
        ("h<sub>t-1</sub>", "hₜ₋₁"),
        ("q<sub>i</sub>k<sub>j</sub>", "qᵢkⱼ"),
        ("W<sup>T</sup>, x<sup>2</sup>, e<sup>-x</sup>", "Wᵀ, x², e⁻ˣ"),
        # Else the plain-text convention: d_model, x_{i,j}, 2^{n/2}.
        ("d<sub>model</sub>", "d_model"),
        ("x<sub>i,j</sub>", "x_{i,j}"),
        ("2<sup>n/2</sup>", "2^{n/2}"),
    ],
)
def test_anki_html_reads_as_written(html: str, markdown: str) -> None:
    assert html_to_markdown(html) == markdown


def test_script_text_falls_back_per_whole_run() -> None:
    assert script_text("k", "_") == "ₖ"
    assert script_text("kq", "_") == "_kq"  # q has no Unicode subscript: none is used
    assert script_text(" ", "^") == ""


def _deck_with_attention_card(folder: Path) -> Path:
    """A real Anki package (made by Anki's own backend) with one card about heads."""
    from anki.collection import Collection, ExportAnkiPackageOptions
    from anki.import_export_pb2 import ExportLimit

    col = Collection(str(folder / "collection.anki2"))
    try:
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"] = "multi-head attention에서 head 하나의 차원은?"
        note["Back"] = "hidden_size / num_heads = d<sub>k</sub>"
        col.add_note(note, col.decks.id("Transformer"))
        path = folder / "heads.apkg"
        col.export_anki_package(
            out_path=str(path),
            options=ExportAnkiPackageOptions(
                with_scheduling=False, with_deck_configs=False, with_media=False, legacy=False
            ),
            limit=ExportLimit(),
        )
    finally:
        col.close()
    return path


def test_search_finds_num_heads_in_an_imported_anki_card(run_cli, tmp_path: Path) -> None:
    deck = _deck_with_attention_card(tmp_path)
    assert run_cli("import", str(deck)).exit_code == 0
    cards = json.loads(run_cli("card", "list", "--deck", "Transformer", "--json").output)
    (card,) = cards
    assert card["back"] == "hidden_size / num_heads = dₖ"
    for query in ("num_heads", "hidden_size", "dₖ"):
        hits = json.loads(run_cli("search", query, "--json").output)
        assert ("card", str(card["id"])) in [(h["kind"], str(h["ref"])) for h in hits], query
