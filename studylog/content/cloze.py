"""The two sides of a cloze card, as Anki shows them.

Card ``cN`` hides its own deletions as ``[...]`` (or ``[hint]``) on the
question side and shows them in bold on the answer side; the other deletions
show their text on both sides. Shared by the app and ``studylog review``.
"""

from __future__ import annotations

import re

# Anki's cloze deletion: {{c1::text}} or {{c1::text::hint}} (group 1 the number, 2 the
# text, 3 the hint). Defined here, not with the concept file format, so that the card
# services can use it without importing the markdown parser (`studylog today` starts
# faster).
CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


def cloze_ords(text: str) -> list[int]:
    """The distinct cloze numbers in ``text`` (``{{c1::...}}`` -> 1), ascending."""
    return sorted({int(m.group(1)) for m in CLOZE.finditer(text)})


def cloze_front(text: str, ord_: int | None, *, markdown: bool = True) -> str:
    """The question side of cloze card ``ord_``: its deletion as ``[...]`` or ``[hint]``.

    In bold for markdown; plain with ``markdown=False``.

    >>> cloze_front("The {{c1::cell state}} and {{c2::gates}}", 1)
    'The **[...]** and gates'
    """

    def hide(m: re.Match[str]) -> str:
        if ord_ is not None and int(m.group(1)) == ord_:
            hidden = f"[{m.group(3) or '...'}]"
            return f"**{hidden}**" if markdown else hidden
        return m.group(2)

    return CLOZE.sub(hide, text)


def cloze_back(text: str, ord_: int | None) -> str:
    """The answer side of cloze card ``ord_``: the deletion shown in bold.

    >>> cloze_back("The {{c1::cell state}} and {{c2::gates}}", 1)
    'The **cell state** and gates'
    """

    def show(m: re.Match[str]) -> str:
        if ord_ is not None and int(m.group(1)) == ord_:
            return f"**{m.group(2)}**"
        return m.group(2)

    return CLOZE.sub(show, text)
