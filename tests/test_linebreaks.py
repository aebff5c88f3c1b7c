"""Single line breaks shown as written (Obsidian's default), the stored text unchanged."""

from __future__ import annotations

from markdown_it import MarkdownIt

from studylog.linebreaks import line_breaks_plugin, note_parser

NOTE = "밑바닥2 8장\n어텐션 정리\nseq2seq 복습\n\n다음 문단\n\n```\nx = 1\ny = 2\n```\n"


def test_html_matches_markdown_its_breaks_option() -> None:
    # The reference: markdown-it's own `breaks` renderer option.
    reference = MarkdownIt("commonmark", {"breaks": True}).render(NOTE)
    ours = MarkdownIt("commonmark").use(line_breaks_plugin).render(NOTE)
    assert ours == reference
    assert "<p>밑바닥2 8장<br />\n어텐션 정리<br />\nseq2seq 복습</p>" in ours
    assert "<code>x = 1\ny = 2\n</code>" in ours  # code keeps its lines, no <br>


def test_tokens_carry_hard_breaks_for_token_walkers() -> None:
    # rich and Textual render tokens, not HTML: the soft breaks must become hard ones.
    inline = [t for t in note_parser().parse(NOTE) if t.type == "inline"]
    kinds = [c.type for c in inline[0].children or []]
    assert kinds == ["text", "hardbreak", "text", "hardbreak", "text"]
    plain = [c.type for c in (MarkdownIt("gfm-like").parse(NOTE)[1].children or [])]
    assert plain == ["text", "softbreak", "text", "softbreak", "text"]  # what CommonMark gives
