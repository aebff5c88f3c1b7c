"""A Python code editor: Textual's code TextArea that indents the next line as Python does.

Textual's ``TextArea`` inserts a bare newline on ``enter``. Here ``enter`` keeps the
current line's indentation and adds one level (``indent_width`` spaces, 4) after a
line whose code ends with ``:`` (``def``, ``for``, ``if``, ``with``, ...), as IDLE and
most editors do. Subclassing and handling the key in ``_on_key`` is how Textual's
TextArea guide extends typing (its auto-closing brackets example).
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea


def next_line_indent(line_before_cursor: str, indent_width: int = 4) -> str:
    """The indentation for the line after ``line_before_cursor`` (the text left of the cursor).

    The same leading whitespace, plus ``indent_width`` spaces when the code ends with ``:``
    (a comment after it is ignored; a ``#`` inside a string is taken as code).
    """
    indent = line_before_cursor[: len(line_before_cursor) - len(line_before_cursor.lstrip())]
    code = line_before_cursor.strip()
    if "#" in code and not any(q in code for q in ("'", '"')):
        code = code.split("#", 1)[0].rstrip()
    if code.endswith(":"):
        indent += " " * indent_width
    return indent


class PythonEditor(TextArea):
    """``TextArea.code_editor(text, language="python")`` with auto-indent on ``enter``."""

    @classmethod
    def python(cls, text: str = "", **kwargs: object) -> PythonEditor:
        """A code editor for Python (Textual's ``code_editor`` defaults: line numbers, tab
        indents, soft wrap off)."""
        editor = cls.code_editor(text, language="python", **kwargs)  # type: ignore[arg-type]
        assert isinstance(editor, PythonEditor)
        return editor

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            row, column = min(start, end)
            before = self.document[row][:column]
            self.replace(
                "\n" + next_line_indent(before, self.indent_width),
                start,
                end,
                maintain_selection_offset=False,
            )
            return
        await super()._on_key(event)
