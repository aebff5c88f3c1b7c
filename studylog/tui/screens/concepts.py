"""The concept list: title, Korean aliases, tags, card count and demo, filtered as you type.

The search box matches titles, slugs and aliases (case-insensitive, Korean
included; a query of Korean initial consonants such as ``ㅅㅍㅌㅁㅅ`` matches
소프트맥스, as Korean phone keyboards search), and ``#tag`` words in it filter by
tag, as does the tag selector. Enter opens the concept's page; ``n`` writes a
new concept in the concept file format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from studylog.errors import NotFoundError, StudylogError
from studylog.services import concepts as concept_service
from studylog.services import demos as demo_service
from studylog.services.concepts import ConceptSummary
from studylog.tui.screens.concept_page import open_concept
from studylog.tui.widgets.dialogs import NewConceptScreen
from studylog.tui.widgets.editors import ConceptFileEditorScreen
from studylog.tui.widgets.modebar import ModeBar

CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_HANGUL_FIRST, _HANGUL_LAST, _PER_INITIAL = 0xAC00, 0xD7A3, 21 * 28
COLUMNS = (("Title", 34), ("Also called (별칭)", 36), ("Tags", 22), ("Cards", 5), ("Demo", 8))
ALL_TAGS = "__all__"


def initials(text: str) -> str:
    """The initial consonant of every Hangul syllable (others kept): '소프트맥스' -> 'ㅅㅍㅌㅁㅅ'.

    Unicode's Hangul syllables are laid out as 19 initials x 21 vowels x 28 finals
    from U+AC00, so the initial is ``(code - 0xAC00) // 588``.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if _HANGUL_FIRST <= code <= _HANGUL_LAST:
            out.append(CHOSEONG[(code - _HANGUL_FIRST) // _PER_INITIAL])
        else:
            out.append(ch)
    return "".join(out)


def _only_initials(word: str) -> bool:
    return bool(word) and all(ch in CHOSEONG for ch in word)


@dataclass(frozen=True)
class Query:
    """A parsed search: words that must all match, and tags that must all be present."""

    words: tuple[str, ...]
    tags: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, tag: str | None = None) -> Query:
        words, tags = [], []
        for raw in text.split():
            if raw.startswith("#") and len(raw) > 1:
                tags.append(raw[1:].casefold())
            else:
                words.append(raw.casefold())
        if tag:
            tags.append(tag.casefold())
        return cls(tuple(words), tuple(tags))

    def matches(self, concept: ConceptSummary) -> bool:
        """Every tag present and every word found in the title, slug or an alias."""
        tags = {t.casefold() for t in concept.tags}
        if any(t not in tags for t in self.tags):
            return False
        names = [concept.title, concept.slug, *concept.aliases]
        haystack = "\n".join(n.casefold() for n in names)
        for word in self.words:
            if word in haystack:
                continue
            if _only_initials(word) and word in initials(haystack):
                continue
            return False
        return True


def filter_concepts(
    concepts: Iterable[ConceptSummary], text: str, tag: str | None = None
) -> list[ConceptSummary]:
    """The concepts matching search ``text`` (words and ``#tags``) and the selected ``tag``."""
    query = Query.parse(text, tag)
    return [c for c in concepts if query.matches(c)]


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells with an ellipsis (Korean counts double)."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip() + "…"


def demo_marker(summary: ConceptSummary, status: dict[str, tuple[str | None, bool | None]]) -> Text:
    """``▶ ok``, ``▶ stale``, ``▶ error`` or ``▶`` (never run); empty without a demo."""
    if not summary.has_demo:
        return Text("")
    last, stale = status.get(summary.slug, (None, None))
    if last is None:
        return Text("▶", style="cyan")
    if stale:
        return Text("▶ stale", style="yellow")
    return Text(f"▶ {last}", style="green" if last == "ok" else "red")


class ConceptsScreen(Screen[None]):
    """All concepts, filterable by search text and tag; Enter opens one, ``n`` adds one."""

    DEFAULT_CSS = """
    ConceptsScreen #concepts-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    ConceptsScreen #filters {
        height: auto;
    }
    ConceptsScreen #search {
        width: 1fr;
    }
    ConceptsScreen #tag {
        width: 30;
    }
    ConceptsScreen DataTable {
        height: 1fr;
    }
    """
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="concepts.search"),
        Binding("t", "focus_tag", "Tag", id="concepts.tag"),
        Binding("n", "new_concept", "New concept", id="concepts.new"),
        Binding("escape", "clear", "Clear filter", id="concepts.clear"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.concepts: list[ConceptSummary] = []
        self.demo_status: dict[str, tuple[str | None, bool | None]] = {}
        self.shown: list[ConceptSummary] = []

    def compose(self) -> ComposeResult:
        # Read while composing: the tag list is part of the Select from the start
        # (nested widgets may not be mounted yet in on_mount).
        error = self._read()
        self.search_box = Input(
            placeholder="Search title, slug or 별칭 (Korean, ㅅㅍㅌㅁㅅ too); #tag filters",
            id="search",
        )
        self.tag_select: Select[str] = Select[str](
            self._tag_options(), prompt="All tags", id="tag", allow_blank=True
        )
        yield ModeBar("concepts")
        yield Static("Concepts", id="concepts-title")
        with Horizontal(id="filters"):
            yield self.search_box
            yield self.tag_select
        table: DataTable[Any] = DataTable(id="concept-table", cursor_type="row", zebra_stripes=True)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        yield table
        yield Footer()
        if error:
            self.notify(error, severity="error")

    def on_mount(self) -> None:
        self.refilter()
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        # Back from a concept page or the editor: counts, titles or demos may have changed.
        self.load()

    # --- data --------------------------------------------------------------------------

    def _read(self) -> str | None:
        """Read the concept list and the demos' last results; an error message or None."""
        try:
            self.concepts = concept_service.list_concepts(self.app.db)  # type: ignore[attr-defined]
            self.demo_status = {
                d.slug: (d.last_status, d.stale)
                for d in demo_service.list_demos(self.app.db)  # type: ignore[attr-defined]
            }
        except StudylogError as err:
            return str(err)
        return None

    def _tag_options(self) -> list[tuple[str, str]]:
        return [(f"#{t}", t) for t in sorted({t for c in self.concepts for t in c.tags})]

    def load(self) -> None:
        """Read the list again; keep the filter and the cursor."""
        error = self._read()
        if error:
            self.notify(error, severity="error")
            return
        current = self.selected_tag()
        options = self._tag_options()
        self.tag_select.set_options(options)
        if current is not None and current in {value for _, value in options}:
            self.tag_select.value = current
        self.refilter()

    def selected_tag(self) -> str | None:
        value = self.tag_select.value
        return value if isinstance(value, str) else None

    def refilter(self) -> None:
        """Show the concepts matching the search box and the tag selector."""
        text = self.search_box.value
        self.shown = filter_concepts(self.concepts, text, self.selected_tag())
        table = self.query_one(DataTable)
        keep = None
        if table.row_count and table.cursor_row >= 0:
            try:
                keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            except Exception:  # noqa: BLE001 - no cursor row yet
                keep = None
        table.clear()
        for c in self.shown:
            table.add_row(*self._cells(c), key=c.slug)
        if keep is not None and keep in {c.slug for c in self.shown}:
            table.move_cursor(row=table.get_row_index(keep))
        total = len(self.concepts)
        title = (
            f"Concepts: {len(self.shown)} of {total}"
            if len(self.shown) != total
            else f"Concepts: {total}"
        )
        self.query_one("#concepts-title", Static).update(title)

    def _cells(self, c: ConceptSummary) -> Sequence[Any]:
        widths = [w for _, w in COLUMNS]
        title = Text(fit(c.title, widths[0]))
        if c.origin == "user" or c.user_modified:
            title.stylize("italic")
        return (
            title,
            Text(fit(", ".join(c.aliases), widths[1]), style="dim"),
            Text(fit(" ".join(f"#{t}" for t in c.tags), widths[2]), style="magenta"),
            Text(str(c.card_count), justify="right"),
            demo_marker(c, self.demo_status),
        )

    # --- events ------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.refilter()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(DataTable).focus()

    @on(Select.Changed, "#tag")
    def _tag_changed(self) -> None:
        self.refilter()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            open_concept(self.app, str(event.row_key.value))

    def action_focus_search(self) -> None:
        self.search_box.focus()

    def action_focus_tag(self) -> None:
        self.tag_select.focus()

    def action_clear(self) -> None:
        if self.search_box.value or self.selected_tag():
            self.search_box.value = ""
            self.tag_select.clear()
        self.query_one(DataTable).focus()

    def action_new_concept(self) -> None:
        self.app.push_screen(NewConceptScreen(), self._named)

    def _named(self, named: tuple[str, str] | None) -> None:
        if named is None:
            return
        slug, title = named
        try:
            concept_service.get(self.app.db, slug)  # type: ignore[attr-defined]
        except NotFoundError:
            pass
        else:
            self.notify(f"a concept with slug {slug!r} exists already", severity="error")
            return
        try:
            text = concept_service.template(slug, title)
        except StudylogError as err:
            self.notify(str(err), severity="error")
            return
        self.app.push_screen(ConceptFileEditorScreen(text), self._created)

    def _created(self, slug: str | None) -> None:
        if slug is None:
            return
        self.load()
        self.notify(f"Concept {slug} added.")
        open_concept(self.app, slug)
