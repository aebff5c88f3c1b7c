"""Search text to a tree: a tokenizer and a recursive-descent parser.

Grammar (Anki's, from its manual "Searching")::

    search  := or_expr?
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary ("AND"? unary)*
    unary   := "-" unary | "(" or_expr ")" | term
    term    := word | "quoted phrase" | key ":" value | key ":" "quoted value"

``OR``/``AND`` are operators in any letter case, as in Anki. Every problem
raises :class:`SearchSyntaxError` with the position of the offending character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from studylog.cardsearch.errors import SearchSyntaxError
from studylog.cardsearch.nodes import (
    CARD_KINDS,
    IS_KINDS,
    OPERATORS,
    PROPERTIES,
    Added,
    All,
    And,
    Concept,
    Deck,
    Introduced,
    Is,
    Kind,
    Node,
    Not,
    Or,
    Prop,
    Rated,
    Tag,
    Text,
)

# Escapes kept in a pattern (they change what the wildcards mean) and those decoded.
_KEPT_ESCAPES = {"*", "_", "\\"}
_PLAIN_ESCAPES = {'"', "(", ")", ":", "-"}
_KEYS = ("deck", "tag", "concept", "is", "kind", "prop", "rated", "added", "introduced")
_MAX_DEPTH = 100  # parentheses and negations nested deeper are refused, not a RecursionError
_MAX_DAYS = 36500
_WHOLE = re.compile(r"-?[0-9]{1,9}")
_DECIMAL = re.compile(r"-?(?:[0-9]{1,9}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})")


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "-" "word"
    pos: int
    raw: str = ""  # the word's characters with escapes as written, without quotes
    quoted: bool = False
    # For a word like  deck:"a b"  the key part and where the value starts.
    value_pos: int = 0


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Token(ch, i))
            i += 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace():
            out.append(_Token("-", i))
            i += 1
        elif ch == "-":
            raise SearchSyntaxError("'-' must be followed by a term", i, text)
        elif ch == '"':
            raw, end = _quoted(text, i)
            out.append(_Token("word", i, raw, quoted=True, value_pos=i + 1))
            i = end
        else:
            start = i
            chars: list[str] = []
            while i < n and not text[i].isspace() and text[i] not in '()"':
                if text[i] == "\\":
                    if i + 1 >= n:
                        raise SearchSyntaxError("a backslash at the end escapes nothing", i, text)
                    chars.append(text[i : i + 2])
                    i += 2
                else:
                    chars.append(text[i])
                    i += 1
            raw = "".join(chars)
            if i < n and text[i] == '"':
                if not raw.endswith(":") or raw.endswith("\\:"):
                    raise SearchSyntaxError(
                        'a quote inside a word (quote the whole term, or escape it as \\")',
                        i,
                        text,
                    )
                value, end = _quoted(text, i)
                out.append(_Token("word", start, raw + value, quoted=True, value_pos=i + 1))
                i = end
            else:
                out.append(_Token("word", start, raw, value_pos=start))
    return out


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The raw characters between the quote at ``start`` and its closing quote, and the end."""
    i, n = start + 1, len(text)
    chars: list[str] = []
    while i < n:
        if text[i] == "\\":
            if i + 1 >= n:
                break
            chars.append(text[i : i + 2])
            i += 2
        elif text[i] == '"':
            return "".join(chars), i + 1
        else:
            chars.append(text[i])
            i += 1
    raise SearchSyntaxError("a quote is never closed", start, text)


def _pattern(raw: str, pos: int, text: str) -> str:
    """Decode the escapes of ``raw`` except those that keep a wildcard literal (see nodes)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            nxt = raw[i + 1]
            if nxt in _KEPT_ESCAPES:
                out.append(raw[i : i + 2])
            elif nxt in _PLAIN_ESCAPES:
                out.append(nxt)
            else:
                raise SearchSyntaxError(
                    f'unknown escape \\{nxt} (escape only \\ " * _ ( ) : -)', pos, text
                )
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _split_key(raw: str) -> tuple[str | None, str, int]:
    """(key, value raw, offset of the value in raw) at the first unescaped colon, or (None, raw, 0)."""
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == ":":
            return raw[:i], raw[i + 1 :], i + 1
        i += 1
    return None, raw, 0


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    def error(self, message: str, pos: int | None = None) -> SearchSyntaxError:
        if pos is None:
            pos = self.tokens[self.i].pos if self.i < len(self.tokens) else len(self.text)
        return SearchSyntaxError(message, pos, self.text)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def is_op(self, token: _Token | None, word: str) -> bool:
        return (
            token is not None
            and token.kind == "word"
            and not token.quoted
            and token.raw.lower() == word
        )

    def parse(self) -> Node:
        if not self.tokens:
            return All()
        node = self.or_expr()
        token = self.peek()
        if token is not None:
            raise self.error("')' without a matching '('" if token.kind == ")" else "unexpected")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.is_op(self.peek(), "or"):
            self.i += 1
            if self.peek() is None or self.peek().kind == ")":  # type: ignore[union-attr]
                raise self.error("OR needs a term after it")
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while True:
            token = self.peek()
            if token is None or token.kind == ")" or self.is_op(token, "or"):
                break
            if self.is_op(token, "and"):
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind == ")" or self.is_op(nxt, "or"):
                    raise self.error("AND needs a term after it")
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise self.error("a term is missing at the end")
        if self.is_op(token, "or") or self.is_op(token, "and"):
            raise self.error(f"{token.raw.upper()} needs a term before it")
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(f"nested more than {_MAX_DEPTH} deep")
        try:
            if token.kind == "-":
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind == ")":
                    raise self.error("'-' must be followed by a term", token.pos)
                return Not(self.unary())
            if token.kind == "(":
                self.i += 1
                if self.peek() is not None and self.peek().kind == ")":  # type: ignore[union-attr]
                    raise self.error("empty parentheses")
                node = self.or_expr()
                if self.peek() is None:
                    raise self.error("'(' is never closed", token.pos)
                self.i += 1
                return node
            if token.kind == ")":
                raise self.error("')' without a matching '('")
            self.i += 1
            return self.term(token)
        finally:
            self.depth -= 1

    def term(self, token: _Token) -> Node:
        key, value_raw, offset = _split_key(token.raw)
        if key is None:
            pattern = _pattern(token.raw, token.pos, self.text)
            if not pattern:
                raise self.error("empty search term", token.pos)
            return Text(pattern)
        name = key.lower()
        if not token.quoted:
            value_pos = token.pos + offset
        elif token.value_pos == token.pos + 1:  # "deck:a b"
            value_pos = token.pos + 1 + offset
        else:  # deck:"a b"
            value_pos = token.value_pos
        if name not in _KEYS:
            raise self.error(
                f"unknown search key {key!r} (use {', '.join(k + ':' for k in _KEYS)}; "
                "escape a colon in text as \\:)",
                token.pos,
            )
        value = _pattern(value_raw, value_pos, self.text)
        if name in ("deck", "tag", "concept"):
            if not value:
                raise self.error(f"{name}: needs a name", value_pos)
            return {"deck": Deck, "tag": Tag, "concept": Concept}[name](value)
        if name == "is":
            if value.lower() not in IS_KINDS:
                raise self.error(f"is: takes {', '.join(IS_KINDS)}, not {value!r}", value_pos)
            return Is(value.lower())
        if name == "kind":
            if value.lower() not in CARD_KINDS:
                raise self.error(f"kind: takes {', '.join(CARD_KINDS)}, not {value!r}", value_pos)
            return Kind(value.lower())
        if name == "prop":
            return self.prop(value, value_pos)
        if name == "rated":
            days_text, _, rating_text = value.partition(":")
            days = self.days(days_text, value_pos, "rated")
            if not _:
                return Rated(days)
            if rating_text not in ("1", "2", "3", "4"):
                raise self.error(
                    f"rated:N:RATING takes a rating 1-4, not {rating_text!r}",
                    value_pos + len(days_text) + 1,
                )
            return Rated(days, int(rating_text))
        days = self.days(value, value_pos, name)
        return Added(days) if name == "added" else Introduced(days)

    def days(self, value: str, pos: int, key: str) -> int:
        if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= _MAX_DAYS:
            raise self.error(f"{key}: takes a number of days 1-{_MAX_DAYS}, not {value!r}", pos)
        return int(value)

    def prop(self, value: str, pos: int) -> Node:
        lowered = value.lower()
        for name in sorted(PROPERTIES, key=len, reverse=True):
            if lowered.startswith(name):
                rest = value[len(name) :]
                break
        else:
            raise self.error(f"prop: takes {', '.join(PROPERTIES)}, not {value!r}", pos)
        for op in OPERATORS:
            if rest.startswith(op):
                number = rest[len(op) :]
                break
        else:
            raise self.error(
                f"prop:{name} needs an operator ({' '.join(OPERATORS)})", pos + len(name)
            )
        number_pos = pos + len(name) + len(op)
        whole = PROPERTIES[name]
        if not (_WHOLE if whole else _DECIMAL).fullmatch(number):
            kind = "a whole number" if whole else "a number"
            raise self.error(f"prop:{name} needs {kind}, not {number!r}", number_pos)
        parsed: int | float = int(number) if whole else float(number)
        if name in ("d", "r") and not 0.0 <= parsed <= 1.0:
            raise self.error(f"prop:{name} is between 0 and 1, not {number}", number_pos)
        return Prop(name, op, parsed)


def parse(text: str) -> Node:
    """The tree of an Anki search (an empty search is :class:`All`).

    Raises:
        SearchSyntaxError: with ``position`` (0-based) for any malformed search.
    """
    return _Parser(text).parse()
