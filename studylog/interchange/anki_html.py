"""Anki card text: render a note's templates, and turn the HTML into studylog's markdown.

HTML -> markdown is done by ``markdownify`` (an HTML parser based converter,
BeautifulSoup underneath). Two things must survive it untouched and are
protected by placeholders while it runs:

- MathJax, ``\\(...\\)`` and ``\\[...\\]``, which becomes studylog's ``$...$`` and
  ``$$...$$`` (entities such as ``&lt;`` inside are decoded);
- cloze deletions ``{{c1::text::hint}}``, which are the same syntax in
  studylog (their inner HTML is converted like the rest).

Text is kept as it reads and searches (``studylog search num_heads`` finds a
card with ``num_heads``): markdownify escapes every underscore, but CommonMark
never reads an underscore between two letters or digits as emphasis, so only
the others are escaped. Sub- and superscripts keep their meaning: Unicode
(``d<sub>k</sub>`` -> ``dₖ``, ``x<sup>2</sup>`` -> ``x²``) where every
character has one, else ``d_model`` / ``d_{t-1}`` and ``x^n`` / ``x^{n+1}``.

Templates use Anki's syntax (``{{Field}}``, ``{{#Field}}..{{/Field}}``,
``{{^Field}}..{{/Field}}``, filters such as ``{{text:Field}}``,
``{{type:Field}}``, ``{{cloze:Field}}``, ``{{FrontSide}}``); see the Anki
manual, "Card Templates" > "Field Replacements".
"""

from __future__ import annotations

import html
import re

from markdownify import MarkdownConverter

_MATH = re.compile(r"\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\]", re.DOTALL)
_SOUND = re.compile(r"\[sound:(?P<name>[^\]]+)\]")
_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?(?P<name>[^"'>\s]+)""", re.IGNORECASE)
_TAG = re.compile(r"\{\{(?P<sigil>[#^/]?)\s*(?P<body>[^{}]*?)\s*\}\}")
_HR_ANSWER = re.compile(r"<hr\s+id\s*=\s*[\"']?answer[\"']?\s*/?>", re.IGNORECASE)
_PLACEHOLDER = "STUDYLOGMATH{}X"
# An underscore that is not between two letters or digits (those never open emphasis).
_LOOSE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_SUBSCRIPTS = dict(
    zip(
        "0123456789+-=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)
_SUPERSCRIPTS = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγδθφχ",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᵟᶿᵠᵡ",
        strict=True,
    )
)


def script_text(text: str, mark: str) -> str:
    """``text`` as a subscript (``mark`` ``_``) or superscript (``^``): Unicode when
    every character has one (``k`` -> ``ₖ``), else ``_k``/``^k`` for one word and
    ``_{t-1}``/``^{n+1}`` for anything else."""
    table = _SUBSCRIPTS if mark == "_" else _SUPERSCRIPTS
    text = text.strip()
    if not text:
        return ""
    if all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    if re.fullmatch(r"[^\W_]+", text):
        return mark + text
    return f"{mark}{{{text}}}"


class _AnkiConverter(MarkdownConverter):
    """markdownify, escaping only what would misparse (see the module docstring)."""

    def escape(self, text: str, parent_tags: set[str]) -> str:
        text = super().escape(text, parent_tags)  # escape_underscores is off: see below
        return _LOOSE_UNDERSCORE.sub(r"\_", text) if text else text

    def convert_sub(self, el: object, text: str, parent_tags: set[str]) -> str:
        return text if "_noformat" in parent_tags else script_text(text, "_")

    def convert_sup(self, el: object, text: str, parent_tags: set[str]) -> str:
        return text if "_noformat" in parent_tags else script_text(text, "^")


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
    out = _AnkiConverter(
        heading_style="ATX",
        bullets="-",
        escape_misc=False,
        escape_underscores=False,
        strip=["script", "style"],
    ).convert(protected)
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
