"""Revision 0012: the undo snapshots' arrays move from base64 JSON in ``settings`` to
bytes in ``undo_data``; a reschedule saved on either side of the upgrade (or of the
downgrade) can still be undone, putting every card back as it was."""

from __future__ import annotations

import base64
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS

from studylog.services import reschedule, review_states, settings
from studylog.storage import bulk, migrate
from studylog.storage.engine import Database
from tests.test_reschedule_undo import cards_now
from tests.test_review_scheduling import _history, no_fuzz


def _rescheduled(tmp_path: Path) -> tuple[Database, Path, dict[int, tuple], dict]:
    """A collection whose last settings change (new parameters and relearning steps, which
    rewrites some review rows' steps) can be undone; the cards and settings before it."""
    path = tmp_path / "s.db"
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    settings.put(db, settings.TIMEZONE, "UTC")
    no_fuzz(db)
    _history(db, 20, seed=21)
    before, values = cards_now(db), settings.values(db)
    params = list(DEFAULT_PARAMETERS)
    params[0], params[8], params[20] = 0.4, 1.5, 0.3
    settings.update(db, {"fsrs_parameters": tuple(params), "relearning_steps": (300, 1200)})
    assert cards_now(db) != before
    return db, path, before, values


def _blobs(path: Path) -> dict[str, bytes]:
    with sqlite3.connect(path) as con:
        return dict(con.execute("SELECT key, data FROM undo_data").fetchall())


def _settings_json(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as con:
        return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM settings")}


def test_the_arrays_are_bytes_in_undo_data_and_not_in_the_settings(tmp_path: Path) -> None:
    _, path, _, _ = _rescheduled(tmp_path)
    blobs = _blobs(path)
    assert set(blobs) == {reschedule.UNDO_KEY, review_states.UNDO_KEY}
    assert blobs[reschedule.UNDO_KEY][:2] == b"PK"  # a NumPy archive (a zip)
    stored = _settings_json(path)
    assert "cards" not in stored[reschedule.UNDO_KEY]
    assert review_states.UNDO_KEY not in stored


def test_downgrade_and_upgrade_carry_the_undo_across(tmp_path: Path) -> None:
    db, path, before, values = _rescheduled(tmp_path)
    blobs = _blobs(path)
    migrate.downgrade(db.engine, "0011")
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "undo_data" not in tables
    old = _settings_json(path)  # the 0011 layout, exactly as that revision wrote it
    assert base64.b64decode(old[reschedule.UNDO_KEY]["cards"]) == blobs[reschedule.UNDO_KEY]
    assert base64.b64decode(old[review_states.UNDO_KEY]) == blobs[review_states.UNDO_KEY]

    assert migrate.prepare(db) is not None  # backed up, then upgraded
    assert _blobs(path) == blobs
    assert "cards" not in _settings_json(path)[reschedule.UNDO_KEY]
    assert settings.undo_reschedule(db) is not None
    assert cards_now(db) == before
    assert settings.values(db) == values
    assert _blobs(path) == {}


def test_damaged_undo_bytes_are_one_clear_error_and_change_nothing(tmp_path: Path) -> None:
    from studylog.errors import DatabaseError

    db, path, _, _ = _rescheduled(tmp_path)
    after = cards_now(db)
    with sqlite3.connect(path) as con:
        con.execute(
            "UPDATE undo_data SET data = ? WHERE key = ?",
            (b"PK\x03\x04 not a zip", reschedule.UNDO_KEY),
        )
    with pytest.raises(DatabaseError, match="undo_data row 'undo.reschedule' is damaged") as caught:
        settings.undo_reschedule(db)
    assert "\n" not in str(caught.value)
    assert cards_now(db) == after


@pytest.mark.parametrize(
    ("arrays", "why"),
    [
        ({"card_ids": np.arange(3)}, r"no array state, step, stability"),
        (
            {n: np.arange(3 if n != "due" else 2) for n in bulk.CardSnapshot.ARRAYS},
            r"arrays of different lengths: .*due \(2,\)",
        ),
    ],
)
def test_an_undo_archive_without_its_arrays_is_one_clear_error(tmp_path: Path, arrays, why) -> None:
    """A valid archive that lacks an array (or holds misaligned ones) refuses as damaged
    bytes do: one line naming the row, no KeyError or IndexError, nothing changed."""
    from studylog.errors import DatabaseError

    db, path, _, _ = _rescheduled(tmp_path)
    after = cards_now(db)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with sqlite3.connect(path) as con:
        con.execute(
            "UPDATE undo_data SET data = ? WHERE key = ?", (buffer.getvalue(), reschedule.UNDO_KEY)
        )
    with pytest.raises(DatabaseError, match=rf"undo_data row 'undo.reschedule' is damaged \({why}"):
        settings.undo_reschedule(db)
    assert cards_now(db) == after
