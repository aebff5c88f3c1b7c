"""Modal screens of the concept pages: approving imported code, naming a new concept.

* :class:`ApproveCodeScreen` shows imported demo code in full before it may
  run (the trust check of :mod:`studylog.services.demos`, like Jupyter's
  notebook trust); it dismisses with True only on an explicit approval.
* :class:`NewConceptScreen` asks for a slug and a title; the concept file
  editor then opens with :func:`studylog.services.concepts.template`.
"""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from studylog.content.concept_file import SLUG


def code_syntax(code: str, *, line_numbers: bool = True) -> Syntax:
    """Python source, syntax-highlighted by rich (pygments), for a read-only view.

    Long lines wrap (under their line number): code shown for reading or for
    approval must be visible in full, never cut at the edge.
    """
    return Syntax(
        code,
        "python",
        theme="ansi_dark",
        line_numbers=line_numbers,
        word_wrap=True,
        background_color="default",
        indent_guides=True,
    )


class ApproveCodeScreen(ModalScreen[bool]):
    """Imported demo code shown for approval; dismisses True (approve and run) or False."""

    DEFAULT_CSS = """
    ApproveCodeScreen {
        align: center middle;
    }
    ApproveCodeScreen > Vertical {
        width: 92%;
        height: 90%;
        border: thick $warning;
        background: $surface;
        padding: 0 1;
    }
    ApproveCodeScreen #why {
        height: auto;
        margin: 0 0 1 0;
    }
    ApproveCodeScreen #code {
        height: 1fr;
        border: round $panel;
    }
    ApproveCodeScreen #buttons {
        height: auto;
        align-horizontal: right;
        margin: 1 0 0 0;
    }
    ApproveCodeScreen Button {
        margin: 0 0 0 2;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="approve.cancel"),
        Binding("a", "approve", "Approve and run", id="approve.approve"),
    ]

    def __init__(
        self, title: str, code: str, digest: str, *, what: str = "demo", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.code_title = title
        self.code = code
        self.digest = digest
        self.what = what  # "demo", "exercise's checks", "computed card's template"

    def compose(self) -> ComposeResult:
        lines = self.code.count("\n") + 1
        why = Text.assemble(
            (f"This {self.what} came from an import and has not been approved.\n", "bold"),
            f"Read all {lines} lines of {self.code_title}'s code. It runs as a separate process "
            "with time and memory limits, but it can read and write your files. ",
            "Approve it only if you trust it; the approval is for this exact code ",
            (f"(sha256 {self.digest[:12]}…)", "dim"),
            ".",
        )
        with Vertical():
            yield Label(Text(f"Approve the {self.what} of {self.code_title}?", style="bold"))
            yield Static(why, id="why")
            with VerticalScroll(id="code"):
                yield Static(code_syntax(self.code), id="code-text")
            with Horizontal(id="buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Approve and run (a)", id="approve", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#code", VerticalScroll).focus()

    @on(Button.Pressed, "#approve")
    def action_approve(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class NewConceptScreen(ModalScreen[tuple[str, str] | None]):
    """Asks for a new concept's slug and title; dismisses (slug, title) or None."""

    DEFAULT_CSS = """
    NewConceptScreen {
        align: center middle;
    }
    NewConceptScreen > Vertical {
        width: 70;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    NewConceptScreen Input {
        margin: 0 0 1 0;
    }
    NewConceptScreen #hint {
        color: $text-muted;
        height: auto;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new-concept.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("New concept", style="bold"))
            yield Label("Title (한국어도 됩니다)")
            yield Input(placeholder="e.g. Batch Normalization", id="title")
            yield Label("Slug (lowercase letters, digits, dashes)")
            yield Input(placeholder="e.g. batch-normalization", id="slug")
            yield Static("Enter: continue to the concept file editor · Esc: cancel", id="hint")

    @on(Input.Changed, "#title")
    def _suggest_slug(self, event: Input.Changed) -> None:
        slug_input = self.query_one("#slug", Input)
        if not slug_input.value or slug_input.value == getattr(self, "_suggested", ""):
            self._suggested = suggest_slug(event.value)
            slug_input.value = self._suggested

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if event.input.id == "title":
            self.query_one("#slug", Input).focus()
            return
        title = self.query_one("#title", Input).value.strip()
        slug = self.query_one("#slug", Input).value.strip()
        if not SLUG.match(slug):
            self.notify(
                f"the slug {slug!r} must be lowercase letters, digits and dashes (like batch-norm)",
                severity="error",
            )
            return
        self.dismiss((slug, title or slug))

    def action_cancel(self) -> None:
        self.dismiss(None)


def suggest_slug(title: str) -> str:
    """A slug from the ASCII words of ``title`` ('Batch Norm (배치 정규화)' -> 'batch-norm')."""
    words = []
    for raw in title.lower().replace("_", " ").replace("-", " ").split():
        word = "".join(ch for ch in raw if ch.isascii() and ch.isalnum())
        if word:
            words.append(word)
    return "-".join(words)
