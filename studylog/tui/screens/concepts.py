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

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Select, Static

from studylog.errors import NotFoundError, StudylogError
from studylog.services import concepts as concept_service
from studylog.services import demos as demo_service
from studylog.services.concepts import ConceptSummary
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.dialogs import NewConceptScreen
from studylog.tui.widgets.editors import ConceptFileEditorScreen
from studylog.tui.widgets.guard import guarded
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar
from studylog.tui.widgets.rowlist import RowList, fit

CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_HANGUL_FIRST, _HANGUL_LAST, _PER_INITIAL = 0xAC00, 0xD7A3, 21 * 28
COLUMNS = ("Title", "Also called (별칭)", "Tags", "Cards", "Demo")
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

    def matches(self, concept: ConceptSummary, entry: IndexEntry | None = None) -> bool:
        """Every tag present and every word found in the title, slug or an alias."""
        entry = entry or IndexEntry.of(concept)
        if any(t not in entry.tags for t in self.tags):
            return False
        for word in self.words:
            if word in entry.names:
                continue
            if _only_initials(word) and word in entry.initials:
                continue
            return False
        return True


@dataclass(frozen=True)
class IndexEntry:
    """A concept's names prepared for matching: casefolded, and as Korean initials."""

    names: str
    initials: str
    tags: frozenset[str]

    @classmethod
    def of(cls, concept: ConceptSummary) -> IndexEntry:
        names = "\n".join(n.casefold() for n in (concept.title, concept.slug, *concept.aliases))
        return cls(names, initials(names), frozenset(t.casefold() for t in concept.tags))


class ConceptIndex:
    """The concept list with its names prepared once, so filtering 20,000 concepts on
    every key press costs a few milliseconds of substring tests."""

    def __init__(self, concepts: Sequence[ConceptSummary]) -> None:
        self.concepts = list(concepts)
        entries = [IndexEntry.of(c) for c in self.concepts]
        self.names = [e.names for e in entries]
        self.initials = [e.initials for e in entries]
        self.tags = [e.tags for e in entries]

    def filter(self, text: str, tag: str | None = None) -> list[ConceptSummary]:
        """The concepts matching every ``#tag`` and every word (see :class:`Query`)."""
        query = Query.parse(text, tag)
        keep: Iterable[int] = range(len(self.concepts))
        # One tight pass per condition over the survivors of the previous one.
        for t in query.tags:
            keep = [i for i in keep if t in self.tags[i]]
        for word in query.words:
            if _only_initials(word):
                keep = [i for i in keep if word in self.names[i] or word in self.initials[i]]
            else:
                keep = [i for i in keep if word in self.names[i]]
        return [self.concepts[i] for i in keep]


def filter_concepts(
    concepts: Iterable[ConceptSummary], text: str, tag: str | None = None
) -> list[ConceptSummary]:
    """The concepts matching search ``text`` (words and ``#tags``) and the selected ``tag``."""
    return ConceptIndex(list(concepts)).filter(text, tag)


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


class ConceptsLoaded(Message):
    """The worker read the concept list and the demos' last results."""

    def __init__(
        self,
        concepts: list[ConceptSummary],
        demo_status: dict[str, tuple[str | None, bool | None]],
        index: ConceptIndex,
    ) -> None:
        super().__init__()
        self.concepts = concepts
        self.demo_status = demo_status
        self.index = index


class ConceptsFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ConceptList(RowList[ConceptSummary]):
    """The concepts as rows of columns; virtual, so 20,000 concepts cost what 20 do."""

    EMPTY = "No concept matches. Esc clears the filter; n adds one."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(empty=self.EMPTY, **kwargs)
        self.demo_status: dict[str, tuple[str | None, bool | None]] = {}

    @property
    def columns_width(self) -> int:
        """The width the columns are laid out in: the scrollbar's column is always kept
        free, so the header lines up whether or not the list scrolls."""
        return max(self.size.width - 1, 20)

    def render_row(self, row: ConceptSummary, index: int, line: int, width: int) -> Text:
        return concept_line(
            row, self.demo_status, self.columns_width, self.style_of("rowlist--muted")
        )


def column_widths(width: int) -> list[int]:
    """Widths of title, aliases, tags, cards and demo for a list ``width`` cells wide."""
    cards, demo = 5, 8
    rest = max(width - cards - demo - 5, 30)  # one space between the five columns
    title = rest * 36 // 100
    aliases = rest * 38 // 100
    return [title, aliases, rest - title - aliases, cards, demo]


def concept_line(
    c: ConceptSummary,
    status: dict[str, tuple[str | None, bool | None]],
    width: int,
    muted: Any = "dim",
) -> Text:
    """One concept as a line of columns, cut and padded by terminal cells."""
    w = column_widths(width)
    title = Text(c.title, style="italic" if c.origin == "user" or c.user_modified else "")
    line = Text(" ")
    line.append_text(fit(title, w[0]))
    line.append(" ")
    line.append_text(fit(Text(", ".join(c.aliases), style=muted), w[1]))
    line.append(" ")
    line.append_text(fit(Text(" ".join(f"#{t}" for t in c.tags), style="magenta"), w[2]))
    line.append(" ")
    line.append_text(fit(Text(str(c.card_count)), w[3], align="right"))
    line.append(" ")
    line.append_text(fit(demo_marker(c, status), w[4]))
    return line


def header_line(width: int) -> Text:
    w = column_widths(width)
    text = Text(" ", style="bold")
    for label, cells in zip(COLUMNS, w, strict=True):
        text.append_text(fit(Text(label), cells, align="right" if label == "Cards" else "left"))
        text.append(" ")
    return text


class ConceptsScreen(CollectionScreen):
    """All concepts, filterable by search text and tag; Enter opens one, ``n`` adds one.

    The list is read in a worker (a collection can hold tens of thousands of
    concepts) and shown in a virtual list; it is read again (the rows shown
    stay until it is done) only after a change to the collection.
    """

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
    ConceptsScreen #concept-header {
        height: 1;
        color: $text-accent;
        text-style: bold;
    }
    ConceptsScreen ConceptList {
        height: 1fr;
    }
    """
    AUTO_FOCUS = "ConceptList"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="concepts.search"),
        Binding("t", "focus_tag", "Tag", id="concepts.tag"),
        Binding("n", "new_concept", "New concept", id="concepts.new"),
        Binding("escape", "clear", "Clear filter", id="concepts.clear"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.concepts: list[ConceptSummary] = []
        self.index = ConceptIndex([])
        self.demo_status: dict[str, tuple[str | None, bool | None]] = {}
        self.shown: list[ConceptSummary] = []
        self.loaded = False
        self._names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        self.search_box = Input(
            placeholder="Title, slug, 별칭, ㅅㅍㅌㅁㅅ; #tag",
            id="search",
        )
        self.tag_select: Select[str] = Select[str]([], prompt="All tags", id="tag")
        self.concept_list = ConceptList(id="concept-list")
        self.concept_list.empty = "Loading the concepts…"
        self.header = Static(id="concept-header")
        yield ModeBar("concepts")
        yield Static("Concepts: loading…", id="concepts-title")
        with Horizontal(id="filters"):
            yield self.search_box
            yield self.tag_select
        yield self.header
        yield self.concept_list
        yield KeyBar()

    def on_mount(self) -> None:
        self.load()

    def on_resize(self) -> None:
        self.header.update(header_line(self.concept_list.columns_width))

    def refresh_collection(self) -> None:
        self.load()

    # --- data --------------------------------------------------------------------------

    def load(self) -> None:
        """Read the list in a worker; the filter and the cursor are kept."""
        self._load_worker()

    @work(thread=True, exclusive=True, group="concepts-list")
    def _load_worker(self) -> None:
        db = self.app.db
        try:
            listed = concept_service.list_concepts(db)
            status = {d.slug: (d.last_status, d.stale) for d in demo_service.list_demos(db)}
        except StudylogError as err:
            self.post_message(ConceptsFailed(str(err)))
            return
        self.post_message(ConceptsLoaded(listed, status, ConceptIndex(listed)))

    @guarded
    def on_concepts_failed(self, message: ConceptsFailed) -> None:
        self.notify(message.error, severity="error", timeout=8)

    @guarded
    def on_concepts_loaded(self, message: ConceptsLoaded) -> None:
        self.concepts = message.concepts
        self.index = message.index
        self.concept_list.empty = ConceptList.EMPTY
        self.demo_status = message.demo_status
        self.concept_list.demo_status = self.demo_status
        self.loaded = True
        current = self.selected_tag()
        options = self._tag_options()
        self.tag_select.set_options(options)
        if current is not None and current in {value for _, value in options}:
            self.tag_select.value = current
        self.on_resize()
        self.refilter()

    def _tag_options(self) -> list[tuple[str, str]]:
        return [(f"#{t}", t) for t in sorted({t for c in self.concepts for t in c.tags})]

    def selected_tag(self) -> str | None:
        value = self.tag_select.value
        return value if isinstance(value, str) else None

    def refilter(self) -> None:
        """Show the concepts matching the search box and the tag selector."""
        current = self.concept_list.current
        self.shown = self.index.filter(self.search_box.value, self.selected_tag())
        cursor = 0
        if current is not None:
            cursor = next((i for i, c in enumerate(self.shown) if c.slug == current.slug), 0)
        self.concept_list.set_rows(self.shown, cursor=cursor)
        total = len(self.concepts)
        if not self.loaded:
            title = "Concepts: loading…"
        elif len(self.shown) != total:
            title = f"Concepts: {len(self.shown):,} of {total:,}"
        else:
            title = f"Concepts: {total:,}"
        self.query_one("#concepts-title", Static).update(title)

    # --- events ------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.refilter()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.concept_list.focus()

    @on(Select.Changed, "#tag")
    def _tag_changed(self) -> None:
        self.refilter()

    @on(RowList.Selected)
    @guarded
    def _open(self, event: RowList.Selected) -> None:
        if 0 <= event.index < len(self.shown):
            self.open(self.shown[event.index].slug)

    def open(self, slug: str) -> None:
        """Open a concept's page."""
        self.app.call_next(self.app.open_concept, slug)

    @guarded
    def action_focus_search(self) -> None:
        self.search_box.focus()

    @guarded
    def action_focus_tag(self) -> None:
        self.tag_select.focus()

    @guarded
    def action_clear(self) -> None:
        if self.search_box.value or self.selected_tag():
            self.search_box.value = ""
            self.tag_select.clear()
        self.concept_list.focus()

    @guarded
    def action_new_concept(self) -> None:
        self.app.push_screen(NewConceptScreen(), self._named)

    @guarded
    def _named(self, named: tuple[str, str] | None) -> None:
        if named is None:
            return
        slug, title = named
        db = self.app.db

        def taken() -> bool:
            try:
                concept_service.get(db, slug)
            except NotFoundError:
                return False
            return True

        def checked(exists: bool) -> None:
            if exists:
                self.notify(f"a concept with slug {slug!r} exists already", severity="error")
                return
            try:
                text = concept_service.template(slug, title)
            except StudylogError as err:
                self.notify(str(err), severity="error")
                return
            self.app.push_screen(ConceptFileEditorScreen(text), self._created)

        self.app.read_then(taken, checked)  # the slug is looked up in a worker

    @guarded
    def _created(self, slug: str | None) -> None:
        if slug is None:
            return
        self.notify(f"Concept {slug} added.")  # the list is read again: a change
        self.open(slug)
