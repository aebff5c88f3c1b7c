"""The one error a malformed search raises."""

from __future__ import annotations

from studylog.errors import InvalidInputError


class SearchSyntaxError(InvalidInputError):
    """A search that cannot be parsed, with the 0-based character ``position`` of the problem.

    ``str(err)`` is one line for the CLI: ``search error at column 7: ...``
    (columns counted from 1, as editors do).
    """

    def __init__(self, message: str, position: int, text: str) -> None:
        self.reason = message
        self.position = position
        self.text = text
        super().__init__(f"search error at column {position + 1}: {message}")
