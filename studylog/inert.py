"""Make untrusted text inert before it reaches a terminal.

Text from imports, from other machines and from demo outputs may carry
terminal control sequences: ``ESC]0;…BEL`` retitles the terminal,
``ESC]52;c;…`` writes the clipboard, ``ESC[2J`` clears the screen, ``ESC P``
device-control strings can reprogram some terminals. :func:`inert` removes
them whole (ECMA-48: CSI, OSC, DCS/SOS/PM/APC strings and two-character
escape sequences, in their 7-bit and 8-bit C1 forms) and then drops every
other C0 and C1 control character except newline and tab, and DEL.

What remains is printable text; Korean, emoji and combining marks are kept.
The CLI applies it to everything it prints (:mod:`studylog.cli.output`) and
the app to everything it draws (:mod:`studylog.tui.inert_render`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Any character that could start or be part of a control function.
_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Whole sequences first, so that their parameters do not show as text. String
# sequences (OSC, DCS, ...) need their terminator within 4 KiB; without one,
# only the introducer is removed (below) and the rest shows as plain text.
_SEQUENCES = re.compile(
    r"""
      \x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]              # CSI: ESC [ params final
    | \x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]                # CSI, C1 form
    | (?:\x1b\]|\x9d)[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)   # OSC ... BEL or ST
    | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]{0,4096}(?:\x1b\\|\x9c)  # DCS SOS PM APC
    | \x1b[\x20-\x2f]*[\x30-\x7e]                            # ESC c, ESC 7, ESC ( B ...
    """,
    re.VERBOSE,
)


def inert(text: str) -> str:
    """``text`` without terminal control sequences and control characters.

    Newline and tab are kept; ``\\r\\n`` becomes ``\\n``. Text without any
    control character is returned as it is (one regex scan, no copy).

    >>> inert("title\\x1b]0;pwned\\x07 ok\\x1b[2J")
    'title ok'
    """
    if _ANY_CONTROL.search(text) is None:
        return text
    text = _SEQUENCES.sub("", text)
    return _ANY_CONTROL.sub("", text)


def inert_keeping_width(text: str) -> str:
    """:func:`inert`, but the visible characters of a removed sequence become spaces.

    For text already laid out in cells (a line of the app, a rich segment):
    the line keeps its width, so borders and columns stay where they were.
    Control characters themselves take no cell and are dropped.
    """
    if _ANY_CONTROL.search(text) is None:
        return text
    from rich.cells import cell_len

    text = _SEQUENCES.sub(lambda m: " " * cell_len(_ANY_CONTROL.sub("", m.group())), text)
    return _ANY_CONTROL.sub("", text)


def is_inert(text: str) -> bool:
    """True if ``text`` has no control character but newline and tab."""
    return _ANY_CONTROL.search(text) is None


def sequences_removed_first(strip: Callable[..., str]) -> Callable[..., str]:
    """``strip`` (a library's control-code stripper) that first removes whole sequences.

    Rich and Textual drop BEL (and a few other C0 controls) from text when
    they build it, before any render hook sees it. A retitle ``ESC]0;…BEL``
    then loses its terminator, and later cleaning can remove only its
    introducer, leaving ``0;…`` visible. Wrapping the function they call
    removes the sequence whole first.
    """

    def stripped(text: str, *args: Any, **kwargs: Any) -> str:
        return strip(text if is_inert(text) else _SEQUENCES.sub("", text), *args, **kwargs)

    return stripped


_rich_hardened = False


def harden_rich_text() -> None:
    """Make :class:`rich.text.Text` remove whole sequences when it is built (idempotent).

    See :func:`sequences_removed_first`. Rich is imported only here, when a
    caller that already uses rich asks for it.
    """
    global _rich_hardened
    if _rich_hardened:
        return
    import rich.text

    rich.text.strip_control_codes = sequences_removed_first(rich.text.strip_control_codes)
    _rich_hardened = True
