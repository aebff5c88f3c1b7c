"""Names from imported data that end up in file paths: checked at import, confined at export.

A concept's slug names its file on markdown export (``concepts/<slug>.md``)
and a deck's name names a deck file (``cards/<deck>.md``). An imported file
could carry ``"slug": "../../../../tmp/x"`` or ``"/tmp/x"``; so

* importers check every slug (:func:`check_slug`: lowercase letters, digits
  and dashes, as the concept file format requires) and every deck name
  (:func:`check_deck`: no control characters, not empty, at most
  :data:`MAX_DECK` characters) and refuse the file with one line naming the
  record;
* exporters build every path with :func:`confined`, which refuses a name that
  is not a single plain file name or a path that would resolve outside the
  export folder (through ``..``, an absolute name or a symlink).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from studylog.errors import InvalidInputError

MAX_SLUG = 100
MAX_DECK = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_slug(slug: object, where: str) -> str:
    """``slug`` if it is a valid concept slug, else InvalidInputError naming ``where``."""
    # Here, not at the top: the concept file format loads the markdown parser, which
    # a CSV import (deck names only) does not need.
    from studylog.content.concept_file import SLUG

    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > MAX_SLUG:
        raise InvalidInputError(
            f"{where}: slug {slug!r} is not lowercase letters, digits and dashes "
            f"(at most {MAX_SLUG}); nothing was imported"
        )
    return slug


def check_deck(deck: object, where: str) -> str:
    """``deck`` if it is a usable deck name, else InvalidInputError naming ``where``."""
    if not isinstance(deck, str) or not deck.strip():
        raise InvalidInputError(f"{where}: the deck name is empty; nothing was imported")
    if _CONTROL.search(deck):
        raise InvalidInputError(
            f"{where}: the deck name {deck!r} contains control characters; nothing was imported"
        )
    if len(deck) > MAX_DECK:
        raise InvalidInputError(
            f"{where}: the deck name is {len(deck)} characters long (at most {MAX_DECK}); "
            "nothing was imported"
        )
    return deck


def confined(root: Path, folder: str, name: str) -> Path:
    """``root/folder/name``, refused unless it stays inside ``root``.

    ``name`` must be one plain file name: no separator, not ``.``/``..``, not
    absolute, no NUL. Symlinks already in ``root`` are followed when checking.

    Raises:
        InvalidInputError: the name or the resolved path leaves ``root``.
    """
    bad = (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)
        or Path(name).name != name
    )
    if bad:
        raise InvalidInputError(f"{name!r} is not a plain file name; nothing was exported")
    base = Path(os.path.realpath(root))
    path = Path(os.path.realpath(root / folder / name))
    if base not in path.parents:
        raise InvalidInputError(
            f"{folder}/{name} would be written outside {root} (at {path}); nothing was exported"
        )
    return root / folder / name
