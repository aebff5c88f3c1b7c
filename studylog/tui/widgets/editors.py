"""Editing a concept's demo code and its concept file, in the app or in $EDITOR.

* :class:`CodeEditorScreen`: the demo code in a code TextArea, like a notebook
  cell. ``ctrl+s`` saves it with :func:`studylog.services.concepts.set_demo_code`
  (a pack concept becomes the user's own copy; the pack's file is never
  written), ``ctrl+r`` saves and runs, ``escape`` goes back.
* :class:`ConceptFileEditorScreen`: a whole concept in the concept file format
  (``docs/concept-format.md``); ``ctrl+s`` saves it with ``concepts.add`` (new)
  or ``concepts.edit``. A format error is shown with its line and the cursor
  moves there.
* :func:`edit_in_editor`: hand a text to ``$VISUAL``/``$EDITOR`` while the app
  is suspended (``App.suspend``) and read it back.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static, TextArea

from studylog.errors import StudylogError
from studylog.services import concepts as concept_service
from studylog.tui.access import studylog_app
from studylog.tui.widgets.guard import guarded
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.python_editor import PythonEditor

DEFAULT_EDITOR = "vi"
_LINE = re.compile(r"^<[^>]*>:(\d+):")

DEMO_TEMPLATE = '''"""{title}: a small NumPy demo (outputs show on the concept page)."""

import numpy as np

from studylog.demo import api as out


def demo():
    x = np.linspace(-3.0, 3.0, 7)
    out.text("Write your demo here; ctrl+r saves and runs it.")
    out.array("x", x)
    out.line("tanh(x)", x=x.tolist(), series={{"tanh": np.tanh(x).tolist()}})
'''


def editor_command() -> list[str]:
    """``$VISUAL`` or ``$EDITOR`` split like a shell would, else ``vi``."""
    raw = os.environ.get("VISUAL") or os.environ.get("EDITOR") or DEFAULT_EDITOR
    return shlex.split(raw) or [DEFAULT_EDITOR]


def edit_in_editor(app: App, text: str, *, suffix: str) -> str | None:
    """Open ``text`` in the user's editor with the app suspended; the edited text, or None.

    None means the editor failed or the text is unchanged. Raises
    ``textual.app.SuspendNotSupported`` where the terminal cannot be handed
    over (Textual Web, headless); callers turn that into a notification.
    """
    with tempfile.TemporaryDirectory(prefix="studylog-") as folder:
        path = Path(folder) / f"edit{suffix}"
        path.write_text(text, encoding="utf-8")
        with app.suspend():
            try:
                code = subprocess.call([*editor_command(), str(path)])
            except OSError as exc:
                app.notify(
                    f"cannot start the editor {editor_command()[0]!r}: {exc}", severity="error"
                )
                return None
        if code != 0:
            app.notify(
                f"the editor exited with status {code}; nothing was saved", severity="warning"
            )
            return None
        edited = path.read_text(encoding="utf-8")
    return None if edited == text else edited


class EditorScreen(Screen[str | None]):
    """A full-screen TextArea with a title line; tracks unsaved changes."""

    app = studylog_app()

    DEFAULT_CSS = """
    EditorScreen #editor-title {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    EditorScreen TextArea {
        height: 1fr;
    }
    EditorScreen #editor-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """
    language: str | None = None

    def __init__(self, title: str, text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.editor_title = title
        self.initial = text
        self.saved_text = text
        self.saved = False
        self._warned = False

    def compose(self) -> ComposeResult:
        yield Static(Text(self.editor_title, style="bold"), id="editor-title")
        editor = PythonEditor if self.language == "python" else TextArea  # auto-indent
        yield editor.code_editor(
            self.initial, language=self.language, id="editor-text", soft_wrap=False
        )
        yield Static(self.hint(), id="editor-status")
        yield KeyBar()

    def hint(self) -> str:
        return "ctrl+s save · escape back"

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text

    def set_status(self, message: str) -> None:
        self.query_one("#editor-status", Static).update(message)

    @guarded
    def action_back(self) -> None:
        if self.dirty and not self._warned:
            self._warned = True
            self.notify("Unsaved changes: ctrl+s saves them, escape again discards them.")
            return
        self.dismiss(self.result())

    def result(self) -> str | None:
        """What the screen dismisses with on Back: ``"saved"`` after a save, else None."""
        return "saved" if self.saved else None


class CodeEditorScreen(EditorScreen):
    """A concept's demo code in a code editor; dismisses "run", "saved" or None."""

    language = "python"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="code-editor.save", priority=True),
        Binding("ctrl+r", "save_and_run", "Save and run", id="code-editor.run", priority=True),
        Binding("escape", "back", "Back", id="code-editor.back"),
    ]

    def __init__(self, slug: str, title: str, code: str, **kwargs: Any) -> None:
        super().__init__(f"Demo code of {title} ({slug})", code, **kwargs)
        self.slug = slug

    def hint(self) -> str:
        return "ctrl+s save · ctrl+r save and run (outputs on the concept page) · escape back"

    def save(self) -> bool:
        text = self.text
        if not text.strip():
            self.notify("the demo code is empty; nothing was saved", severity="error")
            return False
        try:
            concept_service.set_demo_code(self.app.db, self.slug, text, now=self.app.now())
        except StudylogError as err:
            self.notify(str(err), severity="error")
            return False
        self.app.collection_changed(self)
        self.saved_text = text
        self.saved = True
        self._warned = False
        self.set_status(f"Saved ({text.count(chr(10)) + 1} lines) · ctrl+r run · escape back")
        return True

    @guarded
    def action_save(self) -> None:
        if self.save():
            self.notify("Demo code saved (your own copy of this concept).")

    @guarded
    def action_save_and_run(self) -> None:
        # Unchanged code runs as it is: no copy of a pack concept is made for nothing.
        if self.dirty and not self.save():
            return
        self.dismiss("run")


class ConceptFileEditorScreen(EditorScreen):
    """A concept in the concept file format; dismisses the saved concept's slug or None.

    With ``slug=None`` it adds a new concept (``concepts.add``); otherwise it
    replaces concept ``slug`` (``concepts.edit``, which makes a pack concept
    the user's own copy).
    """

    language = "markdown"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="concept-editor.save", priority=True),
        Binding("escape", "back", "Back", id="concept-editor.back"),
    ]

    def __init__(self, text: str, *, slug: str | None = None, **kwargs: Any) -> None:
        title = f"Edit concept {slug}" if slug else "New concept"
        super().__init__(
            f"{title} (concept file format: front matter, text, ## Cards)", text, **kwargs
        )
        self.slug = slug
        self.saved_slug: str | None = None

    @guarded
    def action_save(self) -> None:
        text = self.text
        try:
            if self.slug is None:
                info = concept_service.add(self.app.db, text, now=self.app.now())
            else:
                info = concept_service.edit(self.app.db, self.slug, text, now=self.app.now())
        except StudylogError as err:
            self.notify(str(err), severity="error", timeout=8)
            line = error_line(str(err))
            if line is not None:
                self.query_one(TextArea).move_cursor((max(line - 1, 0), 0), center=True)
            return
        self.app.collection_changed(self)
        self.saved_text = text
        self.saved = True
        self.saved_slug = info.slug
        self.dismiss(info.slug)

    def result(self) -> str | None:
        """The saved concept's slug, or None when nothing was saved."""
        return self.saved_slug


def error_line(message: str) -> int | None:
    """The line number of a concept format error (``<name>:12: ...``), if it has one."""
    m = _LINE.match(message)
    return int(m.group(1)) if m else None
