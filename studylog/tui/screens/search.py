"""The Search screen: one query across entries, TODOs, cards and concepts, Korean too.

Typing searches after a short pause (:data:`DEBOUNCE` s) in a thread worker
(the FTS index of a large collection answers in 0.1-0.2 s, which must not
stall typing); Enter searches at once and moves to the results. Each hit has
two lines: its kind and title, then a snippet with the matched words
highlighted. Enter on a hit opens it: an entry or a TODO on its study day in
Today, a concept on its page, a card in the card view.

Words of three or more characters go through the trigram index; shorter ones
(the two-syllable '개념') fall back to LIKE in the service.
"""

from __future__ import annotations

import re
import time
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from studylog.errors import StudylogError
from studylog.services import search as search_service
from studylog.services.search import SearchHit
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.guard import guarded, report
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar
from studylog.tui.widgets.rowlist import RowList, fit

DEBOUNCE = 0.3  # seconds of no typing before a search runs
LIMIT = 100
KIND_WIDTH = 9
KIND_LABEL = {"entry": "entry", "todo": "TODO", "card": "card", "concept": "concept"}
PLURAL = {"entry": "entries", "todo": "TODOs", "card": "cards", "concept": "concepts"}
HELP = (
    "Type to search entries, TODOs, cards and concepts.\n"
    "Korean works (어텐션, 개념); every word must appear. Enter opens a hit."
)


def highlight_snippet(snippet: str, query: str, style: str) -> Text:
    """The service's snippet (matches in [brackets]) with the brackets turned into ``style``.

    Only brackets around a query word are taken as marks, so ``[[links]]`` and
    other brackets in the text stay as written.
    """
    words = sorted({w for w in query.split() if w}, key=len, reverse=True)
    text = Text()
    if not words:
        text.append(snippet)
        return text
    pattern = re.compile(r"\[(" + "|".join(re.escape(w) for w in words) + r")\]", re.IGNORECASE)
    last = 0
    for m in pattern.finditer(snippet):
        text.append(snippet[last : m.start()])
        text.append(m.group(1), style=style)
        last = m.end()
    text.append(snippet[last:])
    return text


class SearchResults(RowList[SearchHit]):
    """Two lines per hit: kind and title, then the highlighted snippet."""

    row_height = 2
    words = ""  # the query shown (its words are highlighted in the snippets)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(empty=HELP, id=id)

    def render_row(self, row: SearchHit, index: int, line: int, width: int) -> Text:
        if line == 0:
            text = Text(" ")
            text.append_text(
                fit(
                    Text(
                        KIND_LABEL.get(row.kind, row.kind), style=self.style_of("rowlist--accent")
                    ),
                    KIND_WIDTH,
                )
            )
            title = row.title
            if row.kind == "entry" and row.day is not None:
                title = f"{row.day.isoformat()} {row.day.strftime('%a')}"
            text.append_text(fit(Text(title, style="bold"), max(1, width - KIND_WIDTH - 1)))
            return text
        snippet = highlight_snippet(row.snippet, self.words, str(self.style_of("rowlist--match")))
        snippet.stylize_before(self.style_of("rowlist--muted"))
        return Text(" " * (KIND_WIDTH + 1)) + fit(snippet, max(1, width - KIND_WIDTH - 1))


class SearchDone(Message):
    def __init__(self, seq: int, query: str, hits: list[SearchHit], seconds: float) -> None:
        super().__init__()
        self.seq = seq
        self.query = query
        self.hits = hits
        self.seconds = seconds


class SearchFailed(Message):
    def __init__(self, seq: int, error: Exception) -> None:
        super().__init__()
        self.seq = seq
        self.error = error


class SearchScreen(CollectionScreen):
    """See the module docstring."""

    AUTO_FOCUS = "#search-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_input", "Edit query", key_display="/", id="search.focus"),
        Binding("down", "focus_results", "Results", show=False, id="search.results"),
        Binding("escape", "clear", "Clear", id="search.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._seq = 0
        self._timer: Timer | None = None
        self.hits: list[SearchHit] = []
        self.searched = ""  # the query whose results are shown
        self.busy = False
        self._focus_after = self._keep_cursor = False

    def compose(self) -> ComposeResult:
        yield ModeBar("search")
        with Horizontal(id="search-bar"):
            yield Input(
                placeholder="Search entries, TODOs, cards, concepts… (어텐션, 개념, softmax)",
                id="search-input",
            )
        yield Static(id="search-status")
        yield SearchResults(id="search-results")
        yield KeyBar()

    @property
    def results(self) -> SearchResults:
        return self.query_one("#search-results", SearchResults)

    def on_mount(self) -> None:
        self.results.border_title = "Results"

    def refresh_collection(self) -> None:
        """The collection changed: search the shown query again (the cursor stays)."""
        if self.searched:
            self.search(self.searched, keep_cursor=True)

    # --- searching --------------------------------------------------------------------

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, lambda: self.search(event.value))

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.search(event.value, focus_results=True)

    def search(self, query: str, *, focus_results: bool = False, keep_cursor: bool = False) -> None:
        """Run ``query`` in a worker (an empty query clears the results)."""
        self._seq += 1
        query = query.strip()
        self._focus_after = focus_results
        self._keep_cursor = keep_cursor
        if not query:
            self._show(query, [], None)
            return
        self.busy = True
        self.query_one("#search-status", Static).update(Text(f" searching for {query!r}…", "dim"))
        self._run(self._seq, query)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _run(self, seq: int, query: str) -> None:
        start = time.perf_counter()
        try:
            hits = search_service.search(self.app.db, query, limit=LIMIT)
        except Exception as error:  # noqa: BLE001 - reported on the UI thread
            self.post_message(SearchFailed(seq, error))
            return
        self.post_message(SearchDone(seq, query, hits, time.perf_counter() - start))

    @on(SearchDone)
    def _done(self, message: SearchDone) -> None:
        if message.seq == self._seq:
            self._show(message.query, message.hits, message.seconds)

    @on(SearchFailed)
    def _failed(self, message: SearchFailed) -> None:
        if message.seq != self._seq:
            return
        self.busy = False
        error = message.error
        if isinstance(error, StudylogError):
            self.query_one("#search-status", Static).update(Text(f" {error}", "red"))
        report(self, error)

    def _show(self, query: str, hits: list[SearchHit], seconds: float | None) -> None:
        self.busy = False
        self.hits = hits
        self.searched = query
        results = self.results
        results.words = query
        results.empty = (
            HELP if not query else f"No results for {query!r}.\nTry fewer or shorter words."
        )
        results.set_rows(hits, cursor=results.cursor if self._keep_cursor else 0)
        status = Text(" ")
        if query:
            counts: dict[str, int] = {}
            for hit in hits:
                counts[hit.kind] = counts.get(hit.kind, 0) + 1
            more = "+" if len(hits) >= LIMIT else ""
            status.append(f"{len(hits)}{more} result{'s' if len(hits) != 1 else ''}", "bold")
            status.append(f" for {query!r}")
            if counts:
                parts = ", ".join(
                    f"{n} {PLURAL[k] if n != 1 else KIND_LABEL[k]}" for k, n in counts.items()
                )
                status.append(f"  ({parts})", "dim")
        self.query_one("#search-status", Static).update(status)
        if hits and self._focus_after:
            results.focus()

    # --- opening ----------------------------------------------------------------------

    @on(RowList.Selected, "#search-results")
    @guarded
    def _open(self, event: RowList.Selected) -> None:
        self.open_hit(self.hits[event.index])

    def open_hit(self, hit: SearchHit) -> None:
        """Jump to ``hit``: Today on its day, the concept page or the card view."""
        app = self.app
        if hit.kind == "entry" and hit.day is not None:
            app.open_day(hit.day, entry_id=int(hit.ref))
        elif hit.kind == "todo" and hit.day is not None:
            app.open_day(hit.day, todo_id=int(hit.ref))
        elif hit.kind == "concept":
            app.open_concept(hit.ref)
        elif hit.kind == "card":
            app.open_card(int(hit.ref))

    def action_focus_input(self) -> None:
        self.query_one("#search-input", Input).focus()

    def action_focus_results(self) -> None:
        if self.hits:
            self.results.focus()

    def action_clear(self) -> None:
        field = self.query_one("#search-input", Input)
        if field.has_focus and field.value:
            field.value = ""
        field.focus()
