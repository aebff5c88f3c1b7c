"""Anki's card search syntax for studylog: text to a tree (pure; no SQL, no database).

``parse(text)`` gives a :mod:`~studylog.cardsearch.nodes` tree, ``render(tree)``
the canonical text of a tree (``parse(render(t)) == t``). The SQL for a tree is
written by :mod:`studylog.storage.search_sql`. The syntax follows Anki's manual
("Searching"): words and "quoted phrases", ``-`` negation, ``OR``, ``AND`` (also
implicit), parentheses, ``*`` and ``_`` wildcards, ``\\`` escapes, and the keys
``deck: tag: concept: is: kind: prop: rated: added: introduced:`` (``kind:`` is
studylog's own: basic, cloze, exercise, computed; docs/search.md).
"""

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
from studylog.cardsearch.parser import parse
from studylog.cardsearch.render import render

__all__ = [
    "CARD_KINDS",
    "IS_KINDS",
    "OPERATORS",
    "PROPERTIES",
    "Added",
    "All",
    "And",
    "Concept",
    "Deck",
    "Introduced",
    "Is",
    "Kind",
    "Node",
    "Not",
    "Or",
    "Prop",
    "Rated",
    "SearchSyntaxError",
    "Tag",
    "Text",
    "parse",
    "render",
]
