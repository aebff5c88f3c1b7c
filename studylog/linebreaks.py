"""Single line breaks kept as written, as Obsidian shows notes by default.

CommonMark joins the lines of a paragraph ("a soft break"), so a note written
line by line, or imported from plain text, reads as one run-on line. Obsidian
(its "strict line breaks" off, the default) and markdown-it's ``breaks``
option show each single newline as a line break instead. The stored text is
never changed; only what is shown.

markdown-it's ``breaks`` is a renderer option (it turns ``softbreak`` into
``<br>`` when rendering HTML), but rich and Textual walk the token stream, not
the HTML, so :func:`line_breaks_plugin` turns every ``softbreak`` token into a
``hardbreak`` token, which both render as a newline. Code blocks are not
inline tokens and keep their lines either way.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore


def _soft_to_hard(state: StateCore) -> None:
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type == "softbreak":
                child.type = "hardbreak"
                child.tag = "br"


def line_breaks_plugin(md: MarkdownIt) -> None:
    """A markdown-it plugin: every single newline inside a paragraph is a line break
    (tokens ``hardbreak``; HTML ``<br>``), as with markdown-it's ``breaks`` option."""
    md.options["breaks"] = True
    md.core.ruler.push("line_breaks", _soft_to_hard)


def note_parser(config: str = "gfm-like") -> MarkdownIt:
    """A markdown-it parser for notes (``config``: markdown-it's preset; Textual's
    Markdown widget uses ``gfm-like``) with single line breaks kept."""
    return MarkdownIt(config).use(line_breaks_plugin)


def rich_note(text: str):  # noqa: ANN201 - rich.markdown.Markdown, imported lazily
    """``text`` as a rich Markdown renderable with single line breaks kept (the CLI's
    ``studylog today``). rich imports its parser inside, so it is imported here only
    when a note is printed (``studylog --help`` stays fast)."""
    from rich.markdown import Markdown

    markdown = Markdown(text)
    # rich's own parser (commonmark with strikethrough and tables), plus the line breaks.
    parser = MarkdownIt().enable("strikethrough").enable("table").use(line_breaks_plugin)
    markdown.parsed = parser.parse(text)
    return markdown
