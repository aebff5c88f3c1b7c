"""Anki card text: render a note's templates, and turn the HTML into studylog's markdown.

HTML -> markdown is done by ``markdownify`` (an HTML parser based converter,
BeautifulSoup underneath). Two things must survive it untouched and are
protected by placeholders while it runs:

- MathJax, ``\\(...\\)`` and ``\\[...\\]``, which becomes studylog's ``$...$`` and
  ``$$...$$`` (entities such as ``&lt;`` inside are decoded);
- cloze deletions ``{{c1::text::hint}}``, which are the same syntax in
  studylog (their inner HTML is converted like the rest).

Templates use Anki's syntax (``{{Field}}``, ``{{#Field}}..{{/Field}}``,
``{{^Field}}..{{/Field}}``, filters such as ``{{text:Field}}``,
``{{type:Field}}``, ``{{cloze:Field}}``, ``{{FrontSide}}``); see the Anki
manual, "Card Templates" > "Field Replacements".
"""

from __future__ import annotations

import html
import re

from markdownify import markdownify

_MATH = re.compile(r"\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\]", re.DOTALL)
_SOUND = re.compile(r"\[sound:(?P<name>[^\]]+)\]")
_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?(?P<name>[^"'>\s]+)""", re.IGNORECASE)
_TAG = re.compile(r"\{\{(?P<sigil>[#^/]?)\s*(?P<body>[^{}]*?)\s*\}\}")
_HR_ANSWER = re.compile(r"<hr\s+id\s*=\s*[\"']?answer[\"']?\s*/?>", re.IGNORECASE)
_PLACEHOLDER = "STUDYLOGMATH{}X"


def media_references(text: str) -> list[str]:
    """Media file names a field refers to (``<img src>``, ``[sound:...]``)."""
    return [m["name"] for m in _IMG.finditer(text)] + [m["name"] for m in _SOUND.finditer(text)]


def html_to_markdown(text: str) -> str:
    """Anki field HTML as markdown (math as ``$...$``, cloze syntax kept), stripped."""
    if not text:
        return ""
    maths: list[str] = []

    def stash(match: re.Match[str]) -> str:
        inline = match["inline"]
        body = html.unescape(
            re.sub(r"<br\s*/?>", " ", inline if inline is not None else match["display"])
        )
        maths.append(f"${body.strip()}$" if inline is not None else f"$${body.strip()}$$")
        return _PLACEHOLDER.format(len(maths) - 1)

    protected = _MATH.sub(stash, text)
    out = markdownify(
        protected,
        heading_style="ATX",
        bullets="-",
        escape_misc=False,
        strip=["script", "style"],
    )
    for i, math in enumerate(maths):
        out = out.replace(_PLACEHOLDER.format(i), math)
    # No-break spaces are how Anki's editor keeps double spaces; plain ones read the same.
    out = out.replace("\xa0", " ")
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def _field_value(name: str, fields: dict[str, str], side: str) -> str:
    """A ``{{...}}`` replacement: filters first (``text:``, ``type:``...), then the field."""
    parts = [p.strip() for p in name.split(":")]
    field, filters = parts[-1], [p.lower() for p in parts[:-1]]
    if "type" in filters:
        return fields.get(field, "") if side == "answer" else ""
    if any(f.startswith("tts") for f in filters):
        return ""
    return fields.get(field, "")


def render(template: str, fields: dict[str, str], side: str) -> str:
    """Render an Anki template with ``fields`` (HTML values); ``side`` is question or answer.

    ``{{FrontSide}}`` renders empty (studylog shows the front above the back
    anyway), ``{{cloze:Field}}`` renders empty here (the cloze field is the
    card's front); conditional sections follow Anki: ``{{#F}}`` shows its
    content when field F is not empty, ``{{^F}}`` when it is.
    """
    out: list[str] = []
    pos = 0
    stack: list[tuple[str, bool]] = []  # (field, showing) of open sections

    def showing() -> bool:
        return all(show for _name, show in stack)

    for match in _TAG.finditer(template):
        if showing():
            out.append(template[pos : match.start()])
        pos = match.end()
        sigil, body = match["sigil"], match["body"]
        if sigil in ("#", "^"):
            filled = bool(re.sub(r"<[^>]*>|\s|&nbsp;", "", fields.get(body, "")))
            stack.append((body, filled if sigil == "#" else not filled))
        elif sigil == "/":
            if stack:
                stack.pop()
        elif showing():
            lowered = body.lower()
            if lowered == "frontside" or lowered.startswith("cloze:"):
                continue
            out.append(_field_value(body, fields, side))
    if showing():
        out.append(template[pos:])
    return "".join(out)


def answer_part(rendered: str) -> str:
    """The part of a rendered answer after ``<hr id=answer>`` (all of it when there is none)."""
    parts = _HR_ANSWER.split(rendered, maxsplit=1)
    return parts[-1]


def cloze_field(template: str) -> str | None:
    """The field named by ``{{cloze:Field}}`` in a cloze template, or None."""
    match = re.search(r"\{\{\s*(?:[^{}:]+:)*cloze:\s*(?P<field>[^{}]+?)\s*\}\}", template)
    return match["field"] if match else None
