"""Card states and answer ratings, defined once.

The numbers are the ``fsrs`` package's (``fsrs.State``, ``fsrs.Rating``) and
are what the ``cards.state`` and ``reviews.rating`` / ``reviews.state_*``
columns store. A card that was never answered has ``last_review`` NULL and
counts as *new* whatever its state column says (Anki's "new" queue).
"""

from __future__ import annotations

from enum import IntEnum


class CardState(IntEnum):
    """The FSRS state of a card (``fsrs.State``)."""

    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class Rating(IntEnum):
    """An answer button (``fsrs.Rating``): Again 1, Hard 2, Good 3, Easy 4."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def label(self) -> str:
        """The button's name as Anki shows it ("Again", "Hard", "Good", "Easy")."""
        return self.name.capitalize()
