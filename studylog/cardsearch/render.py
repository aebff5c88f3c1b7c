"""A tree back to search text: the canonical form, with ``parse(render(t)) == t``."""

from __future__ import annotations

from studylog.cardsearch.nodes import (
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

_SAFE_EXTRA = set("*_\\:.+=<>!/~#&@%^$,;'?[]{}|`")


def _quote_pattern(pattern: str, *, keyed: bool) -> str:
    """The pattern as a word, quoted when it must be (spaces, quotes, parens, operators)."""
    # Inside a word only these need escapes: a quote; a colon in a plain word
    # (it would start a key); a leading dash (it would negate).
    escaped = pattern.replace('"', '\\"')
    if not keyed:
        escaped = _escape_colons(escaped)
    if escaped.startswith("-"):
        escaped = "\\" + escaped
    plain = (
        escaped
        and all(c.isalnum() or c in _SAFE_EXTRA or c == "-" for c in escaped)
        and (keyed or escaped.lower() not in ("or", "and"))
    )
    return escaped if plain else f'"{escaped}"'


def _escape_colons(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":  # a kept escape (\* \_ \\): copy both characters
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append("\\:" if pattern[i] == ":" else pattern[i])
        i += 1
    return "".join(out)


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:.9f}".rstrip("0")
    return text


def render(node: Node) -> str:
    """The canonical search text of ``node`` (AND implicit, OR upper case, minimal quotes)."""
    if isinstance(node, All):
        return ""
    if isinstance(node, Text):
        return _quote_pattern(node.pattern, keyed=False)
    if isinstance(node, Deck | Tag | Concept):
        key = {Deck: "deck", Tag: "tag", Concept: "concept"}[type(node)]
        return f"{key}:{_quote_pattern(node.pattern, keyed=True)}"
    if isinstance(node, Is):
        return f"is:{node.kind}"
    if isinstance(node, Kind):
        return f"kind:{node.kind}"
    if isinstance(node, Prop):
        return f"prop:{node.name}{node.op}{_number(node.value)}"
    if isinstance(node, Rated):
        return f"rated:{node.days}" + (f":{node.rating}" if node.rating is not None else "")
    if isinstance(node, Added):
        return f"added:{node.days}"
    if isinstance(node, Introduced):
        return f"introduced:{node.days}"
    if isinstance(node, Not):
        inner = render(node.child)
        return f"-({inner})" if isinstance(node.child, And | Or | Not | All) else f"-{inner}"
    if isinstance(node, And | Or):
        parts = [f"({render(c)})" if isinstance(c, And | Or) else render(c) for c in node.children]
        return (" OR " if isinstance(node, Or) else " ").join(parts)
    raise TypeError(f"not a search node: {node!r}")
