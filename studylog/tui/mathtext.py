"""TeX math (``$...$`` and ``$$...$$``) shown as readable Unicode text, code left alone.

A terminal cannot typeset math, and a Markdown renderer drops the dollars or
shows raw TeX. Students write formulas from 밑바닥부터 시작하는 딥러닝 2 and the
papers in TeX (``$h_t = \\tanh(W_h h_{t-1} + W_x x_t + b)$``), so the app turns
them into one line of Unicode: Greek letters and operators through
pylatexenc's :class:`LatexNodes2Text`, sub- and superscripts into the Unicode
sub/superscript characters where every character has one (``h_{t-1}`` ->
``hₜ₋₁``, ``QK^\\top`` -> ``QKᵀ``), fractions as ``a/b`` with parentheses
where needed (pylatexenc would write ``a+b/c`` for ``\\frac{a+b}{c}``).

Code spans and code blocks (fenced, or indented four spaces) are never
touched, so ``$HOME`` in a shell snippet stays as written.

Pure functions, no Textual: the TUI uses them for entries, cards and concept
bodies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

__all__ = ["latex_to_unicode", "render_math", "transform_prose", "split_code"]

_SUB = dict(
    zip(
        "0123456789+-=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)
_SUP = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθιφχ⊤",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᶥᵠᵡᵀ",
        strict=True,
    )
)
_SUP.update({"′": "′", "*": "*", "'": "′"})  # x^\prime, x^*: already read as superscripts
_SUB[","] = ","  # a_{i,j} -> aᵢ,ⱼ

# Font-style macros become plain letters: math bold/italic Unicode (𝐖) is missing
# from many terminal fonts, and the letter alone reads the same in a journal.
_PLAIN_FONT = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathit|mathsf|mathtt|mathnormal)(?![A-Za-z])")
_FUNCTIONS = (
    "log ln exp max min sup inf lim arg det tanh sinh cosh sin cos tan sec csc cot "
    "dim ker deg gcd Pr".split()
)
_FUNCTION = re.compile(
    r"\\(" + "|".join(sorted(_FUNCTIONS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
# Relations and binary operators get one space on each side (pylatexenc eats the
# space after a macro: "x \geq 0" -> "x ≥0").
_SPACED = "=≠≈≡≤≥<>∈∉⊂⊆⊃⊇∝→←↦⇒⇔⟹⊙⊗⊕±∓×∣∼≪≫"
_SPACE_AROUND = re.compile(r"[ \t]*([" + re.escape(_SPACED) + r"])[ \t]*")
_OPERATORS = set("+-=/ ,·×") | set(_SPACED)

_converter = None


def _latex2text(source: str) -> str:
    global _converter
    if _converter is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _converter = LatexNodes2Text(math_mode="text", strict_latex_spaces=False)
    return _converter.latex_to_text(source)


def _skip_spaces(src: str, i: int) -> int:
    while i < len(src) and src[i] in " \t\n":
        i += 1
    return i


def _group(src: str, i: int) -> tuple[str, int] | None:
    """The brace group starting at ``src[i] == '{'``: (its inside, index after '}')."""
    depth = 0
    j = i
    while j < len(src):
        ch = src[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return src[i + 1 : j], j + 1
        j += 1
    return None


def _argument(src: str, i: int) -> tuple[str, int] | None:
    """One TeX argument at ``i``: a brace group, a macro (with its own group) or one char."""
    i = _skip_spaces(src, i)
    if i >= len(src):
        return None
    if src[i] == "{":
        return _group(src, i)
    if src[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", src[i:])
        assert m is not None
        end = i + len(m.group(0))
        after = _skip_spaces(src, end)
        if m.group(1).isalpha() and after < len(src) and src[after] == "{":
            inner = _group(src, after)
            if inner is not None:  # \mathrm{max}, \hat{y}: the macro takes its group along
                return src[i : inner[1]], inner[1]
        return src[i:end], end
    if src[i] in "}^_":
        return None
    return src[i], i + 1


def _simple(text: str) -> bool:
    """True when ``text`` reads as one factor, needing no parentheses around it."""
    return bool(text) and not any(ch in _OPERATORS for ch in text)


def _prepare(src: str) -> str:
    """Rewrite what pylatexenc renders poorly (scripts, fractions, roots) into LaTeX it reads."""
    src = _PLAIN_FONT.sub(r"\\mathrm", src)
    src = src.replace(r"\operatorname*", r"\operatorname").replace(r"\mid", "∣")
    out: list[str] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", src[i:])
            assert m is not None
            name = m.group(1)
            end = i + len(m.group(0))
            if name in ("frac", "dfrac", "tfrac", "cfrac"):
                num = _argument(src, end)
                den = _argument(src, num[1]) if num else None
                if num and den:
                    a, b = _convert(num[0]), _convert(den[0])
                    a = a if _simple(a) else f"({a})"
                    b = b if _simple(b) else f"({b})"
                    out.append("{" + a + "/" + b + "}")
                    i = den[1]
                    continue
            elif name == "sqrt":
                j = _skip_spaces(src, end)
                index = ""
                if j < len(src) and src[j] == "[":
                    close = src.find("]", j)
                    if close != -1:
                        index, j = _convert(src[j + 1 : close]), close + 1
                arg = _argument(src, j)
                if arg:
                    body = _convert(arg[0])
                    root = "".join(_SUP.get(c, c) for c in index) + "√"
                    out.append("{" + root + (body if body.isalnum() else f"({body})") + "}")
                    i = arg[1]
                    continue
            elif name in _FUNCTIONS:
                # Keep the space pylatexenc would eat: "\log p(x)" -> "log p(x)".
                nxt = _skip_spaces(src, end)
                spaced = nxt > end and nxt < len(src) and (src[nxt].isalnum() or src[nxt] == "\\")
                out.append(r"\mathrm{" + name + "}" + ("\\ " if spaced else ""))
                i = end
                continue
            out.append(m.group(0))
            i = end
            continue
        if ch in "_^":
            arg = _argument(src, i + 1)
            if arg is None:
                out.append(ch)
                i += 1
                continue
            inner = _convert(arg[0]).strip()
            table = _SUB if ch == "_" else _SUP
            # Braces keep the result apart from a macro before it (\alpha{ₜ}, not \alphaₜ).
            if inner and all(c in table for c in inner):
                out.append("{" + "".join(table[c] for c in inner) + "}")
            elif len(inner) <= 1 or inner.isalnum():
                out.append("{" + ch + inner + "}")  # d_model, x_θ: read fine as they are
            else:
                out.append("{" + f"{ch}({inner})" + "}")
            i = arg[1]
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _convert(latex: str) -> str:
    text = _latex2text(_prepare(latex))
    return text


@lru_cache(maxsize=4096)
def latex_to_unicode(latex: str) -> str:
    """One TeX math expression (without the dollars) as a line of Unicode text.

    >>> latex_to_unicode(r"\\alpha_t = \\mathrm{softmax}(e_t)")
    'αₜ = softmax(eₜ)'

    Malformed TeX never raises: what cannot be read is returned as written.
    Multi-line environments (``aligned``, ``\\\\``) keep their line breaks.
    """
    try:
        text = _convert(latex)
    except Exception:  # pylatexenc is tolerant, but a formula must never break the page
        return latex.strip()
    lines = []
    for line in text.splitlines() or [""]:
        line = _SPACE_AROUND.sub(r" \1 ", line)
        lines.append(" ".join(line.split()))
    return "\n".join(line for line in lines if line) or latex.strip()


# --- finding math outside code -------------------------------------------------------

_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)")


def split_code(text: str) -> list[tuple[bool, str]]:
    """Split markdown into (is_code, piece) runs; joining the pieces gives ``text`` back.

    Code is: fenced blocks (``` or ~~~, CommonMark: an unclosed fence runs to
    the end), indented code blocks (4+ spaces or a tab after a blank line,
    outside lists) and inline code spans (a run of N backticks up to the next
    run of exactly N).
    """
    blocks: list[tuple[bool, str]] = []
    prose: list[str] = []
    code: list[str] = []
    fence: tuple[str, int] | None = None
    prev_blank = True
    prev_indented_code = False
    in_list = False

    def flush_prose() -> None:
        if prose:
            blocks.append((False, "".join(prose)))
            prose.clear()

    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if fence is not None:
            code.append(line)
            stripped = bare.strip()
            indent = len(bare) - len(bare.lstrip(" "))
            if indent <= 3 and len(stripped) >= fence[1] and set(stripped) == {fence[0]}:
                blocks.append((True, "".join(code)))
                code.clear()
                fence = None
                prev_blank = False
            continue
        m = _FENCE_OPEN.match(bare)
        if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
            flush_prose()
            fence = (m.group(2)[0], len(m.group(2)))
            code.append(line)
            continue
        blank = not bare.strip()
        indented = bare.startswith(("    ", "\t"))
        if indented and not blank and (prev_blank or prev_indented_code) and not in_list:
            flush_prose()
            blocks.append((True, line))
            prev_indented_code = True
            prev_blank = False
            continue
        if not blank and not indented:
            in_list = bool(_LIST_ITEM.match(bare))
        prev_indented_code = False if not blank else prev_indented_code
        prev_blank = blank
        prose.append(line)
    if code:
        blocks.append((True, "".join(code)))
    flush_prose()
    # Merge neighbouring indented-code lines and split prose at code spans.
    result: list[tuple[bool, str]] = []
    for is_code, piece in blocks:
        parts = [(True, piece)] if is_code else _split_spans(piece)
        for part in parts:
            if result and result[-1][0] == part[0]:
                result[-1] = (part[0], result[-1][1] + part[1])
            else:
                result.append(part)
    return result


def _run_end(text: str, i: int) -> int:
    """Index just past the run of backticks starting at ``i``."""
    while i < len(text) and text[i] == "`":
        i += 1
    return i


def _split_spans(text: str) -> list[tuple[bool, str]]:
    parts: list[tuple[bool, str]] = []
    start = i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        if text[i] != "`":
            i += 1
            continue
        opening_end = _run_end(text, i)
        run = opening_end - i
        close = None
        j = opening_end
        while (k := text.find("`" * run, j)) != -1:
            end = _run_end(text, k)
            if end - k == run:
                close = k
                break
            j = end
        if close is None:
            i = opening_end  # no closing run: the backticks are literal
            continue
        if i > start:
            parts.append((False, text[start:i]))
        parts.append((True, text[i : close + run]))
        i = start = close + run
    if start < len(text):
        parts.append((False, text[start:]))
    return parts


def transform_prose(text: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to every piece of markdown ``text`` that is not code; keep code as is."""
    return "".join(piece if is_code else fn(piece) for is_code, piece in split_code(text))


_MD_ESCAPE = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$&])")


def _emit(text: str, markdown: bool) -> str:
    return _MD_ESCAPE.sub(r"\\\1", text) if markdown else text


def _closing_inline(text: str, start: int) -> int | None:
    """Index of the ``$`` closing inline math opened just before ``start`` (pandoc's rule:
    no space after the opening or before the closing dollar, no digit right after it)."""
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "\n" and text.startswith("\n\n", i):
            return None  # math never spans a paragraph break
        if ch == "$":
            if text[i - 1].isspace() or (i + 1 < len(text) and text[i + 1].isdigit()):
                return None
            return i
        i += 1
    return None


def _math_in(text: str, markdown: bool) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            # An escaped dollar is a dollar sign; markdown keeps the escape for its renderer.
            pair = text[i : i + 2]
            out.append(pair if markdown or pair != "\\$" else "$")
            i += 2
            continue
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if text.startswith("$$", i):
            close = text.find("$$", i + 2)
            if close != -1 and text[i + 2 : close].strip():
                out.append(_emit(latex_to_unicode(text[i + 2 : close]), markdown))
                i = close + 2
                continue
            out.append("$$")
            i += 2
            continue
        if i + 1 < n and not text[i + 1].isspace():
            inline_end = _closing_inline(text, i + 1)
            if inline_end is not None:
                out.append(_emit(latex_to_unicode(text[i + 1 : inline_end]), markdown))
                i = inline_end + 1
                continue
        out.append("$")
        i += 1
    return "".join(out)


def render_math(text: str, *, markdown: bool = True) -> str:
    """``text`` with every ``$...$`` / ``$$...$$`` outside code replaced by Unicode.

    Args:
        text: markdown (an entry, a card side, a concept body).
        markdown: True when the result goes to a Markdown renderer: the converted
            math is backslash-escaped so that ``*`` or ``_`` in it stay literal.
            False for plain text (``\\$`` becomes ``$``).

    A lone ``$`` (prices, shell variables) stays as written: inline math needs a
    closing dollar on the same paragraph, no space inside either dollar and no
    digit right after the closing one (pandoc's rule).
    """
    if "$" not in text:
        return text
    return transform_prose(text, lambda piece: _math_in(piece, markdown))
