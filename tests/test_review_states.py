"""The review rows' derived states after a whole-collection replay: a cache, derived when read.

References: the rows as the old reschedule stored them (the replay with the
new parameters written into every row by ``bulk.write_review_states``, kept
only here as :func:`rewrite_the_old_way`), and the ``fsrs`` package's
``Scheduler.reschedule_card`` on each prefix of a card's history.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import fsrs
import numpy as np
import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from studylog.errors import InvalidInputError
from studylog.interchange import json_export
from studylog.scheduling import batch
from studylog.services import browse, memory_stats, reschedule, review, review_states, settings
from studylog.services import stats as stats_service
from studylog.storage import bulk, migrate
from studylog.storage.engine import Database
from studylog.storage.models import Card, Review
from tests.test_reschedule_undo import (
    cards_now,
    changed_params,
    reviews_now,
    valid_reviews_now,
)
from tests.test_review_scheduling import NOW, _history, _package_reschedule, no_fuzz

LATER = NOW + timedelta(days=500)


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def rewrite_the_old_way(db) -> None:
    """What a reschedule stored before the marker: every stale row rewritten from the
    replay with the marker's parameters (then nothing is stale)."""
    with db.write() as s:
        marker = review_states.load_in(s)
        if marker is None:
            return
        h = bulk.load_replay_histories(s)
        r = batch.replay(
            h.offsets,
            h.ratings,
            h.times_us,
            marker.params,
            card_ids=h.card_ids,
            initial_due_us=h.initial_due_us,
        )
        assert r.before is not None and r.after is not None
        card_of = np.repeat(h.card_ids, np.diff(h.offsets))
        keep = np.flatnonzero((h.review_ids <= marker.through_id) & ~np.isin(card_of, marker.fresh))
        bulk.write_review_states(
            s, h.review_ids[keep], h.times_us[keep], r.before.take(keep), r.after.take(keep)
        )
        review_states.drop_in(s)
        bulk.drop_stats_cache(s)


def readers(db) -> dict:
    """What every reader of the review rows' states shows."""
    with db.read() as s:
        card_ids = list(s.scalars(select(Card.id).order_by(Card.id)))
    out = io.StringIO()
    json_export.write_json(db, out)
    export = json.loads(out.getvalue())
    return {
        "rows": valid_reviews_now(db),
        "card_info": {c: browse.card_info(db, c, now=LATER).reviews for c in card_ids},
        "memory": repr(memory_stats.memory_stats(db, now=LATER, with_fit=False)),
        "stats": repr(stats_service.collection_stats(db, now=LATER, use_cache=False)),
        "export": export["reviews"],
    }


@pytest.mark.both_backends
def test_new_parameters_write_no_review_row_and_every_reader_sees_the_rewrite(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 15, seed=21)
    stored = reviews_now(utc_db)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    assert reviews_now(utc_db) == stored  # no review row written
    with utc_db.read() as s:
        assert review_states.load_in(s) is not None
    seen = readers(utc_db)
    assert seen["rows"] != stored  # the states did change
    rewrite_the_old_way(utc_db)
    assert reviews_now(utc_db) == seen["rows"]  # exactly what the rewrite stores
    assert readers(utc_db) == seen


def test_derived_states_are_the_package_replay_of_each_prefix(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 6, seed=22)
    params = changed_params()
    settings.update(utc_db, {"fsrs_parameters": tuple(params)})
    reference = fsrs.Scheduler(parameters=params, enable_fuzzing=False)
    with utc_db.read() as s:
        for cid, log in logs.items():
            valid = review_states.valid_states_in(s, [cid])
            ids = list(
                s.scalars(
                    select(Review.id)
                    .where(Review.card_id == cid)
                    .order_by(Review.reviewed_at, Review.id)
                )
            )
            for k, rid in enumerate(ids):
                want = _package_reschedule(reference, cid, log[: k + 1])
                got = valid[rid]
                assert got["state_after"] == int(want.state)
                assert got["stability_after"] == pytest.approx(want.stability, rel=1e-9)
                assert got["difficulty_after"] == pytest.approx(want.difficulty, rel=1e-9)
                assert got["due_after"] == want.due.replace(
                    microsecond=want.due.microsecond // 1000 * 1000
                )


def test_reschedule_twice_then_undo_puts_the_first_marker_back(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 10, seed=23)
    stored = reviews_now(utc_db)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    first = valid_reviews_now(utc_db)
    cards_first = cards_now(utc_db)
    other = list(DEFAULT_PARAMETERS)
    other[2], other[10] = 2.0, 1.2
    settings.update(utc_db, {"fsrs_parameters": tuple(other)})
    second = valid_reviews_now(utc_db)
    assert second != first
    settings.undo_reschedule(utc_db)
    assert valid_reviews_now(utc_db) == first and cards_now(utc_db) == cards_first
    assert reviews_now(utc_db) == stored  # never written


@pytest.mark.both_backends
def test_undo_of_a_reschedule_makes_the_stored_rows_valid_again(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 10, seed=24)
    stored, cards = reviews_now(utc_db), cards_now(utc_db)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    settings.undo_reschedule(utc_db)
    with utc_db.read() as s:
        assert review_states.load_in(s) is None
    assert reviews_now(utc_db) == stored == valid_reviews_now(utc_db)
    assert cards_now(utc_db) == cards


def test_an_answer_after_a_reschedule_is_stored_valid_and_its_undo_restores_the_card(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 8, seed=25)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    cid = next(iter(logs))
    before = cards_now(utc_db)[cid]
    review.answer(utc_db, cid, 3, now=LATER)
    with utc_db.read() as s:
        rid = s.scalar(select(func.max(Review.id)))
        marker = review_states.load_in(s)
        assert marker is not None and rid > marker.through_id
        assert review_states.derived_states_in(s, [cid]) is not None  # the older rows
    review.undo_review(utc_db, rid)
    assert cards_now(utc_db)[cid] == before


@pytest.mark.both_backends
def test_undoing_an_answer_older_than_the_reschedule_uses_its_derived_state(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 8, seed=26)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    cid = next(iter(logs))
    with utc_db.read() as s:
        rid = s.scalar(select(func.max(Review.id)).where(Review.card_id == cid))
    want = valid_reviews_now(utc_db)[rid]  # (state, step, stability, difficulty, due, last) before
    review.undo_review(utc_db, rid)
    with utc_db.read() as s:
        c = s.get(Card, cid)
        got = (c.state, c.step, c.stability, c.difficulty, c.due, c.last_review)
    assert got == want[:6]
    assert rid not in reviews_now(utc_db)


def test_a_retention_change_after_a_reschedule_leaves_the_derived_states(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 10, seed=27)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    seen = valid_reviews_now(utc_db)
    settings.update(utc_db, {"desired_retention": 0.8})  # dues move, no replay
    assert valid_reviews_now(utc_db) == seen  # as the rewritten rows stayed
    settings.undo_reschedule(utc_db)
    assert valid_reviews_now(utc_db) == seen


def test_new_steps_write_the_state_columns_that_change_and_the_undo_puts_them_back(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 12, seed=28)
    stored = reviews_now(utc_db)
    settings.update(utc_db, {"learning_steps": (180,)})
    now = reviews_now(utc_db)
    assert now != stored
    seen = valid_reviews_now(utc_db)
    for rid, row in now.items():  # state and step stored as derived; memory columns not written
        assert row[0:2] == seen[rid][0:2] and row[6:8] == seen[rid][6:8]
        assert row[2:6] == stored[rid][2:6] and row[8:] == stored[rid][8:]
    rewrite_the_old_way(utc_db)
    assert reviews_now(utc_db) == seen


@pytest.mark.both_backends
def test_undo_of_new_steps_puts_the_state_columns_back(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 12, seed=29)
    stored = reviews_now(utc_db)
    settings.update(utc_db, {"learning_steps": (180,)})
    settings.undo_reschedule(utc_db)
    assert reviews_now(utc_db) == stored == valid_reviews_now(utc_db)


def test_a_partial_replay_after_a_reschedule_writes_its_rows_and_marks_them_fresh(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 8, seed=30)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    seen = valid_reviews_now(utc_db)
    cid = next(iter(logs))
    with utc_db.write() as s:  # an import's replay of the cards it touched
        marker = review_states.load_in(s)
        assert marker is not None
        reschedule.replay_in(s, marker.params, [cid])
    with utc_db.read() as s:
        marker = review_states.load_in(s)
        assert marker is not None and marker.fresh.tolist() == [cid]
        assert review_states.derived_states_in(s, [cid]) is None  # stored rows are valid
    assert valid_reviews_now(utc_db) == seen
    settings.undo_reschedule(utc_db)  # the card's rows are replayed with the old parameters
    with utc_db.read() as s:
        assert review_states.load_in(s) is None


def test_memory_states_only_leave_the_rows_valid(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 8, seed=31)
    stored = reviews_now(utc_db)
    settings.update(utc_db, {"reschedule_on_change": False})
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    with utc_db.read() as s:
        assert review_states.load_in(s) is None
    assert valid_reviews_now(utc_db) == stored


@hsettings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    ops=st.lists(st.sampled_from(["params", "other", "retention", "answer", "undo"]), max_size=5),
)
def test_any_sequence_reads_what_the_rewrite_would_store(tmp_path_factory, seed, ops):
    """Whatever mix of reschedules, answers and undos: the readers' states equal the
    old rewrite's, done at the end (answers after a replay are stored valid)."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('seq') / 'c.db'}")
    migrate.prepare(db)
    settings.put(db, settings.TIMEZONE, "UTC")
    no_fuzz(db)
    logs = _history(db, 4, seed=seed)
    other = list(DEFAULT_PARAMETERS)
    other[2] = 2.5
    for k, op in enumerate(ops):
        if op == "params":
            settings.update(db, {"fsrs_parameters": tuple(changed_params())})
        elif op == "other":
            settings.update(db, {"fsrs_parameters": tuple(other)})
        elif op == "retention":
            settings.update(db, {"desired_retention": 0.85 if k % 2 else 0.9})
        elif op == "answer":
            review.answer(db, list(logs)[k % len(logs)], 3, now=LATER + timedelta(days=k))
        elif settings.last_reschedule(db) is not None:
            try:
                settings.undo_reschedule(db)
            except InvalidInputError:  # answered since: refused, nothing changed
                pass
    seen = valid_reviews_now(db)
    rewrite_the_old_way(db)
    got = reviews_now(db)
    db.dispose()
    assert got.keys() == seen.keys()
    for rid, row in seen.items():
        assert got[rid] == pytest.approx(row, rel=1e-12)


def test_the_columns_at_once_are_the_rows_one_by_one(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 10, seed=32)
    settings.update(utc_db, {"learning_steps": (180,), "fsrs_parameters": tuple(changed_params())})
    with utc_db.read() as s:
        derived = review_states.derived_states_in(s)
    assert derived is not None and derived.review_ids.size > 10
    order = np.arange(derived.review_ids.size)[::-1]
    columns = derived.columns(order)
    for k, i in enumerate(order.tolist()):
        assert {c: v[k] for c, v in columns.items()} == derived.row(i)


def test_undo_puts_back_the_state_columns_of_every_replay_since_its_snapshot(utc_db):
    """A second whole replay without an undo snapshot of its own (a deck preset's undo,
    a direct call) between a steps change and its undo: every state column comes back."""
    no_fuzz(utc_db)
    _history(utc_db, 12, seed=33)
    stored = reviews_now(utc_db)
    settings.update(utc_db, {"learning_steps": (180,)})
    with utc_db.write() as s:
        marker = review_states.load_in(s)
        assert marker is not None
        other = batch.Params(
            w=marker.params.w,
            learning_steps=(timedelta(minutes=2), timedelta(minutes=7), timedelta(hours=1)),
            relearning_steps=(),
            enable_fuzzing=False,
        )
        reschedule.replay_in(s, other)
    assert reviews_now(utc_db) != stored
    settings.undo_reschedule(utc_db)
    assert reviews_now(utc_db) == stored == valid_reviews_now(utc_db)


def test_a_card_deleted_across_a_reschedule_comes_back_with_derived_states(utc_db):
    """Revision 0011 keeps a deleted card's reviews; the whole-collection replay skips
    them (no card). After the delete is undone, every reader shows what the old
    rewrite would store for all cards, the restored one included."""
    from studylog.services import card_actions

    no_fuzz(utc_db)
    logs = _history(utc_db, 8, seed=23)
    gone = sorted(logs)[3]
    card_actions.delete_cards(utc_db, ids=[gone], now=LATER)
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    card_actions.undo(utc_db)
    seen = readers(utc_db)
    assert len(seen["card_info"][gone]) == len(logs[gone])  # its whole history is back
    rewrite_the_old_way(utc_db)
    assert readers(utc_db) == seen
