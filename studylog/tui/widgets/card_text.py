"""Card and concept text prepared for the Markdown widget: cloze deletions, [[links]], math.

* Cloze cards (Anki's syntax ``{{c1::text}}`` / ``{{c1::text::hint}}``): the
  front hides the card's own deletion as ``[...]`` (or ``[hint]``) and shows
  the other deletions as plain text; the back shows the deletion highlighted.
* ``[[slug]]`` and ``[[slug|text]]`` become markdown links with the
  ``concept:`` scheme; the screens open the concept when one is clicked.
* ``$...$`` math becomes readable Unicode (:mod:`studylog.tui.mathtext`).

Code spans and fenced code blocks are left alone.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, set_cell_size

from studylog.content.cloze import cloze_back, cloze_front
from studylog.tui.mathtext import latex_to_unicode, render_math, transform_prose

__all__ = ["cloze_back", "cloze_front"]  # re-exported for the screens

LINK_SCHEME = "concept:"
WIKI_LINK = re.compile(r"\[\[([^\[\]|]+?)(?:\|([^\[\]]+?))?\]\]")


def concept_links(text: str) -> str:
    """``[[slug]]`` -> ``[slug](concept:slug)``; ``[[slug|the text]]`` -> ``[the text](concept:slug)``."""

    def link(m: re.Match[str]) -> str:
        target = m.group(1).strip()
        label = (m.group(2) or target).strip()
        href = LINK_SCHEME + target.replace(" ", "%20")
        return f"[{label}]({href})"

    return transform_prose(text, lambda part: WIKI_LINK.sub(link, part))


def link_target(href: str) -> str | None:
    """The concept name of a ``concept:`` link, or None for any other link."""
    if not href.startswith(LINK_SCHEME):
        return None
    return href[len(LINK_SCHEME) :].replace("%20", " ").strip() or None


def readable_math(text: str, *, markdown: bool = True) -> str:
    """``$...$`` and ``$$...$$`` outside code as readable Unicode (escaped for markdown)."""
    return render_math(text, markdown=markdown)


_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$&])")


def display_math(text: str) -> str:
    """``$$...$$`` blocks as paragraphs of their own, one line per formula line.

    A multi-line block (``aligned``, ``\\``) converts to several lines, which
    markdown would join into one paragraph; here they are kept apart with hard
    line breaks (a backslash at the end of a line, CommonMark).
    """

    def block(m: re.Match[str]) -> str:
        lines = [ln for ln in latex_to_unicode(m.group(1)).splitlines() if ln.strip()]
        if not lines:
            return m.group(0)
        return "\n\n" + "\\\n".join(_MD_SPECIAL.sub(r"\\\1", ln) for ln in lines) + "\n\n"

    return transform_prose(text, lambda part: _DISPLAY_MATH.sub(block, part))


def for_markdown(text: str) -> str:
    """Text for the Markdown widget: concept links, display math blocks, then inline math."""
    return readable_math(display_math(concept_links(text)))


def one_line(text: str, width: int = 80) -> str:
    """The first non-empty line of markdown ``text`` as plain text, cut to ``width`` cells.

    Cells, not characters: a Korean syllable takes two.
    """
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = readable_math(line, markdown=False).lstrip("#").strip()
    if cell_len(line) <= width:
        return line
    return set_cell_size(line, width - 1).rstrip() + "…"
