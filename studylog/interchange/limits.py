"""Bounds on what an imported file may make studylog do: nesting depth, sizes, lines.

Imported files come from other people; every parse of them is bounded so
that none can exhaust the stack, the memory or the time (issue 14).
"""

from __future__ import annotations

import re

from studylog.errors import InvalidInputError

MAX_JSON_DEPTH = 64  # studylog's own export nests 6 levels deep
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def check_json_depth(text: str, what: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON text nesting deeper than ``limit``, before it is parsed.

    ``json.loads`` recurses once per level and dies with RecursionError at
    about 1,000; this scan is linear (strings are skipped first, so brackets
    inside them do not count) and cheap next to the parse itself.

    Raises:
        InvalidInputError: ``what`` nests deeper than ``limit`` levels.
    """
    if text.count("[") + text.count("{") <= limit:
        return
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                raise InvalidInputError(f"{what} nests deeper than {limit} levels; refusing it")
        else:
            depth -= 1
