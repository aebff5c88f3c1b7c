"""Journal entries on the Today screen: the list of the day's entries, the markdown
editor, and the text the preview renders ([[concept]] links, readable math).
"""

from __future__ import annotations

import re
from datetime import tzinfo
from importlib.util import find_spec
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import TextArea

from studylog.services.journal import EntryInfo
from studylog.tui.mathtext import render_math, transform_prose
from studylog.tui.widgets.rowlist import RowList, fit

LINK_SCHEME = "concept:"
# [[target]] or [[target|label]]; the target is a slug, a title or an alias (Korean too).
WIKI_LINK = re.compile(r"\[\[([^\[\]|\n]+?)(?:\|([^\[\]\n]+?))?\]\]")


def concept_links(markdown: str) -> str:
    """``[[x]]`` -> ``[x](concept:x)`` and ``[[x|label]]`` -> ``[label](concept:x)``, outside code.

    The target is percent-encoded for spaces only (CommonMark link destinations
    end at a space); :func:`link_target` undoes it. Resolving the name to a
    slug happens on click, so the preview never waits on the database.
    """

    def link(m: re.Match[str]) -> str:
        target = m.group(1).strip()
        label = (m.group(2) or target).strip()
        label = label.replace("[", r"\[").replace("]", r"\]")
        return f"[{label}]({LINK_SCHEME}{target.replace(' ', '%20')})"

    return transform_prose(markdown, lambda piece: WIKI_LINK.sub(link, piece))


def link_target(href: str) -> str | None:
    """The concept name of a ``concept:`` link, or None for any other link."""
    if not href.startswith(LINK_SCHEME):
        return None
    return href[len(LINK_SCHEME) :].replace("%20", " ").strip() or None


def linked_names(markdown: str) -> list[str]:
    """The concept names ``[[...]]`` in ``markdown`` (outside code), first occurrence order."""
    names: list[str] = []

    def collect(piece: str) -> str:
        for m in WIKI_LINK.finditer(piece):
            name = m.group(1).strip()
            if name not in names:
                names.append(name)
        return piece

    transform_prose(markdown, collect)
    return names


def preview_markdown(text: str) -> str:
    """What the preview renders for an entry: concept links, then math as Unicode."""
    return render_math(concept_links(text))


def first_line(text: str) -> str:
    """The first non-empty line, without markdown heading marks and with readable math."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = render_math(line, markdown=False).lstrip("#").strip()
    return WIKI_LINK.sub(lambda m: (m.group(2) or m.group(1)).strip(), line)


class EntryList(RowList[EntryInfo]):
    """The day's entries, one row each: number, time written and first line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "screen.edit_entry", "Edit", id="today.entry.edit"),
        Binding("d,delete", "screen.delete_entry", "Delete", id="today.entry.delete"),
    ]

    DEFAULT_CSS = """
    EntryList { height: auto; max-height: 6; min-height: 2; }
    """

    def __init__(self, *, zone: tzinfo, id: str | None = None) -> None:
        super().__init__(empty="No entries for this day.\nPress n to write one.", id=id)
        self.zone = zone

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return max(2, len(self.rows))

    def set_rows(self, rows, *, cursor: int | None = None) -> None:  # noqa: ANN001
        before = len(self.rows)
        super().set_rows(rows, cursor=cursor)
        if max(2, before) != max(2, len(self.rows)):
            self.refresh(layout=True)  # the height follows the number of entries

    def render_row(self, row: EntryInfo, index: int, line: int, width: int) -> Text:
        when = row.created_at.astimezone(self.zone).strftime("%H:%M")
        text = Text(" ")
        text.append(f"{index + 1}.", style=self.style_of("rowlist--accent"))
        text.append(f" {when}  ", style=self.style_of("rowlist--muted"))
        return text + fit(first_line(row.body) or "(empty)", max(1, width - text.cell_len))


MARKDOWN = "markdown"


def _has_markdown_grammar() -> bool:
    """Highlighting needs tree-sitter and its markdown grammar (``textual[syntax]``);
    without them the editor is plain text (Textual would raise for a missing grammar)."""
    return find_spec("tree_sitter") is not None and find_spec("tree_sitter_markdown") is not None


class EntryEditor(TextArea):
    """The markdown editor of one entry (soft-wrapped; Escape leaves it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "screen.save_entry", "Save", id="today.entry.save"),
        Binding("escape", "screen.leave_editor", "Done", id="today.entry.leave"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            "",
            language=MARKDOWN if _has_markdown_grammar() else None,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Write what you studied… [[concept]] links, $math$ · ctrl+s saves",
            id=id,
        )
