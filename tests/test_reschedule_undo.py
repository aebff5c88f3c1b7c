"""Rescheduling on a change of parameters or desired retention: memory states only, and undo.

References: the ``fsrs`` package's ``Scheduler.reschedule_card`` for the memory
states; the collection's own rows from before the change for the undo.
"""

from __future__ import annotations

from datetime import timedelta

import fsrs
import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import select

from studylog.errors import InvalidInputError
from studylog.services import review, review_states, settings
from studylog.storage.models import Card, Review
from tests.test_review_scheduling import NOW, _history, _package_reschedule, no_fuzz

pytestmark = pytest.mark.both_backends

CARD_COLUMNS = (
    "state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses",
)  # fmt: skip
REVIEW_COLUMNS = (
    "state_before", "step_before", "stability_before", "difficulty_before", "due_before",
    "last_review_before", "state_after", "step_after", "stability_after", "difficulty_after",
    "due_after", "interval_days",
)  # fmt: skip


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def cards_now(db) -> dict[int, tuple]:
    with db.read() as s:
        return {c.id: tuple(getattr(c, k) for k in CARD_COLUMNS) for c in s.scalars(select(Card))}


def reviews_now(db) -> dict[int, tuple]:
    with db.read() as s:
        return {
            r.id: tuple(getattr(r, k) for k in REVIEW_COLUMNS) for r in s.scalars(select(Review))
        }


def valid_reviews_now(db) -> dict[int, tuple]:
    """The review rows' derived columns as every reader sees them (stale ones derived)."""
    with db.read() as s:
        return {
            rid: tuple(v[k] for k in REVIEW_COLUMNS)
            for rid, v in review_states.valid_states_in(s).items()
        }


def changed_params() -> list[float]:
    params = list(DEFAULT_PARAMETERS)
    params[0], params[8], params[20] = 0.4, 1.5, 0.3
    return params


def test_without_moving_dues_only_the_memory_states_follow_the_new_parameters(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 20, seed=11)
    settings.update(utc_db, {"reschedule_on_change": False})
    before, rows_before = cards_now(utc_db), reviews_now(utc_db)
    done = settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    assert done.reschedule is not None and done.reschedule.due_changed == 0
    reference = fsrs.Scheduler(parameters=changed_params(), enable_fuzzing=False)
    after = cards_now(utc_db)
    moved_memory = 0
    for cid, log in logs.items():
        want = _package_reschedule(reference, cid, log)
        got = after[cid]
        assert got[2] == pytest.approx(want.stability, rel=1e-9)
        assert got[3] == pytest.approx(want.difficulty, rel=1e-9)
        assert got[:2] + got[4:] == before[cid][:2] + before[cid][4:]  # state, due, reps stay
        moved_memory += got[2] != before[cid][2]
    assert moved_memory > 10  # the parameters really changed the memory states
    assert reviews_now(utc_db) == rows_before  # the history is not rewritten


def test_without_moving_dues_a_new_retention_moves_nothing(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 10, seed=12)
    settings.update(utc_db, {"reschedule_on_change": False})
    before = cards_now(utc_db)
    done = settings.update(utc_db, {"desired_retention": 0.8})
    assert done.reschedule is not None and done.reschedule.cards == 0
    assert cards_now(utc_db) == before
    assert settings.value(utc_db, "desired_retention") == 0.8


@pytest.mark.parametrize(
    "change",
    [
        {"fsrs_parameters": tuple(changed_params())},
        {"desired_retention": 0.8},
        {"fsrs_parameters": tuple(changed_params()), "relearning_steps": (300, 1200)},
    ],
)
def test_undo_puts_settings_cards_and_review_rows_back(utc_db, change):
    no_fuzz(utc_db)
    _history(utc_db, 20, seed=13)
    before, rows_before, values_before = (
        cards_now(utc_db),
        reviews_now(utc_db),
        settings.values(utc_db),
    )
    done = settings.update(utc_db, change)
    assert done.reschedule is not None and done.reschedule.due_changed > 0
    assert cards_now(utc_db) != before
    label = settings.last_reschedule(utc_db)
    assert label is not None and next(iter(change)) in label
    assert settings.undo_reschedule(utc_db) == label
    assert cards_now(utc_db) == before
    assert settings.values(utc_db) == values_before
    after_rows = reviews_now(utc_db)
    assert after_rows.keys() == rows_before.keys()
    for rid, row in rows_before.items():
        assert after_rows[rid] == pytest.approx(row, rel=1e-9)
    assert settings.last_reschedule(utc_db) is None
    with pytest.raises(InvalidInputError, match="nothing to undo"):
        settings.undo_reschedule(utc_db)


def test_undo_is_refused_after_an_answer_and_changes_nothing(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 8, seed=14)
    settings.update(utc_db, {"desired_retention": 0.85})
    review.answer(utc_db, next(iter(logs)), 3, now=NOW + timedelta(days=400))
    before, values = cards_now(utc_db), settings.values(utc_db)
    with pytest.raises(InvalidInputError, match="answered since") as info:
        settings.undo_reschedule(utc_db)
    assert "desired_retention 0.9 -> 0.85" in str(info.value)
    assert cards_now(utc_db) == before and settings.values(utc_db) == values


def test_cli_fsrs_undo(run_cli, db):
    no_fuzz(db)  # a change that reschedules: then cards are answered
    _history(db, 5, seed=16)
    result = run_cli("fsrs", "undo")
    assert result.exit_code == 1 and "enable_fuzz true -> false" in result.output
    assert "answered since" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    settings.update(db, {"desired_retention": 0.85})
    result = run_cli("fsrs", "undo")
    assert result.exit_code == 0, result.output
    assert "desired_retention 0.9 -> 0.85" in result.output
    assert settings.value(db, "desired_retention") == 0.9
    result = run_cli("fsrs", "undo")
    assert result.exit_code == 1 and "nothing to undo" in result.output


def test_undo_writes_each_card_once(utc_db, monkeypatch):
    """Undoing a replay rewrites the review rows from the history and puts the cards back
    from the snapshot alone: no card is replayed and then overwritten."""
    from studylog.storage import bulk

    no_fuzz(utc_db)
    _history(utc_db, 20, seed=14)
    before = cards_now(utc_db)
    done = settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    assert done.reschedule is not None and done.reschedule.full_replay
    written: list[int] = []
    original = bulk.write_card_states

    def counting(session, card_ids, *args, **kwargs):
        written.append(len(card_ids))
        return original(session, card_ids, *args, **kwargs)

    monkeypatch.setattr(bulk, "write_card_states", counting)
    settings.undo_reschedule(utc_db)
    assert written == [len(before)] == [20]  # the snapshot's one write (a replay first: two)
    assert cards_now(utc_db) == before
