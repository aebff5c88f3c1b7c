"""Undo snapshots' arrays, stored as bytes in ``undo_data`` (revision 0012).

One NumPy archive (``np.savez``, uncompressed: a reschedule's 100,000 cards
are ~5 MB and compressing them would cost more time than the smaller WAL
saves) per key. The keys belong to their services
(``services/reschedule.py``, ``services/review_states.py``). Written and read
with Core statements inside the caller's transaction: replacing a row never
loads the old bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from studylog.errors import DatabaseError
from studylog.storage.models import UndoData


def put(session: Session, key: str, arrays: Mapping[str, np.ndarray] | None) -> None:
    """Store ``arrays`` (name -> array) under ``key``, replacing what was there; None deletes it."""
    session.execute(delete(UndoData).where(UndoData.key == key))
    if arrays is None:
        return
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    session.execute(insert(UndoData).values(key=key, data=buffer.getvalue()))


def get(session: Session, key: str, names: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key`` (None when none), never unpickled.

    ``names``: the arrays the reader needs; each must be there, one-dimensional,
    and all of one length (aligned per card or per review row).

    Raises:
        DatabaseError: the stored bytes are not a NumPy archive of plain arrays,
            or lack one of ``names``, or their lengths differ (one line naming the
            row; nothing is changed).
    """
    data = session.execute(select(UndoData.data).where(UndoData.key == key)).scalar()
    if data is None:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DatabaseError(
            f"undo_data row {key!r} is damaged (not a NumPy archive of plain arrays: {exc})"
        ) from None
    missing = [name for name in names if name not in arrays]
    if missing:
        raise DatabaseError(f"undo_data row {key!r} is damaged (no array {', '.join(missing)})")
    shapes = {arrays[name].shape for name in names}
    if len(shapes) > 1 or any(len(shape) != 1 for shape in shapes):
        raise DatabaseError(
            f"undo_data row {key!r} is damaged (arrays of different lengths: "
            f"{', '.join(f'{n} {arrays[n].shape}' for n in names)})"
        )
    return arrays
