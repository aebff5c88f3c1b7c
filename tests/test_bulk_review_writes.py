"""The bulk write path of a reschedule: time texts, id order, and rows left alone when unchanged.

References: Python's ``datetime`` for the texts SQLAlchemy stores; the ``fsrs``
package (through ``test_review_scheduling``'s helpers) for the replayed states.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import select

from studylog.scheduling import batch
from studylog.scheduling import settings as defs
from studylog.services import reschedule, settings
from studylog.storage import bulk
from studylog.storage.models import Card, Review
from tests.test_reschedule_undo import changed_params, reviews_now, valid_reviews_now
from tests.test_review_scheduling import _history, no_fuzz

pytestmark = pytest.mark.both_backends


def _reference_text(ms: int) -> str:
    whole, rest = divmod(ms, 1000)
    moment = datetime.fromtimestamp(whole, UTC).replace(microsecond=rest * 1000, tzinfo=None)
    return moment.isoformat(" ", "microseconds")


def test_time_texts_are_those_of_datetime():
    rng = np.random.default_rng(3)
    edges = [
        0,
        951_782_400_000,  # 2000-02-29 00:00:00 (a leap day of a century year)
        1_709_251_199_999,  # 2024-02-29 23:59:59.999
        253_402_300_799_999,  # 9999-12-31 23:59:59.999, the last time the fast path takes
    ]
    values = np.concatenate([edges, rng.integers(0, 253_402_300_800_000, 20_000)])
    assert bulk.ms_to_text(values) == [_reference_text(int(v)) for v in values]
    # outside 1970-9999 NumPy formats them: a negative time and NULL
    assert bulk.ms_to_text(np.array([-1, batch.NO_TIME, 1_000])) == [
        "1969-12-31 23:59:59.999000",
        None,
        "1970-01-01 00:00:01.000000",
    ]
    assert bulk.ms_to_text(np.zeros(0, dtype=np.int64)) == []


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def _all_cards(s) -> list[int]:
    return list(s.scalars(select(Card.id)))


def test_a_replay_that_changes_nothing_writes_no_review_row(utc_db):
    no_fuzz(utc_db)
    _history(utc_db, 12, seed=5)
    p = defs.config_from(settings.values(utc_db)).params()
    with utc_db.write() as s:  # first replay: makes every row exactly the replay's
        reschedule.replay_in(s, p, _all_cards(s))
    rows = reviews_now(utc_db)
    with utc_db.write() as s:
        if bulk.is_postgres(s):
            pytest.skip("the unchanged-row filter is SQLite's statement")
        raw = bulk.raw_connection(s)
        # count the review rows written (the replay's temporary id table also counts in
        # total_changes)
        raw.execute("CREATE TEMP TABLE n_updates (n INTEGER)")
        raw.execute("INSERT INTO n_updates VALUES (0)")
        raw.execute(
            "CREATE TEMP TRIGGER count_updates AFTER UPDATE ON reviews "
            "BEGIN UPDATE n_updates SET n = n + 1; END"
        )
        # the cards by id: a replay that writes the review rows (a whole-collection one
        # writes none: review_states)
        done = reschedule.replay_in(s, p, _all_cards(s))
        changed = raw.execute("SELECT n FROM n_updates").fetchone()[0]
        raw.execute("DROP TRIGGER count_updates")
        raw.execute("DROP TABLE n_updates")
    # the card rows are written; no review row
    assert done.reviews == len(rows) > done.cards
    assert changed == 0
    assert reviews_now(utc_db) == rows


def test_new_parameters_change_every_review_state_that_changes_without_writing_a_row(utc_db):
    """The contract changed with issue 13's last target: a whole-collection replay no
    longer rewrites the review rows (their memory columns are a cache, derived when
    read: ``review_states``); the states every reader sees change as the rewrite did."""
    no_fuzz(utc_db)
    _history(utc_db, 12, seed=6)
    with utc_db.write() as s:  # the rows as a replay with the current settings derives them
        reschedule.replay_in(s, defs.config_from(settings.values_in(s)).params(), _all_cards(s))
    rows = reviews_now(utc_db)
    assert valid_reviews_now(utc_db) == rows  # nothing stale: the stored rows
    settings.update(utc_db, {"fsrs_parameters": tuple(changed_params())})
    assert reviews_now(utc_db) == rows  # no review row written (state and step unchanged)
    after = valid_reviews_now(utc_db)
    changed = [i for i in rows if rows[i] != after[i]]
    # w0 (the first Again's stability) and w8/w20 change every row after a first Again
    assert len(changed) > len(rows) // 2
    with utc_db.read() as s:
        first = s.scalars(select(Review).order_by(Review.card_id, Review.reviewed_at)).first()
        assert first is not None and first.stability_before is None  # a new card's first answer
        assert after[first.id][2] is None  # and so it stays
    # and the undo makes the stored rows valid again as they are
    settings.undo_reschedule(utc_db)
    assert reviews_now(utc_db) == rows == valid_reviews_now(utc_db)


def test_iso_times_are_those_of_datetime_isoformat():
    rng = np.random.default_rng(4)
    values = np.concatenate(
        [
            rng.integers(0, 253_402_300_800_000, 20_000),
            rng.integers(0, 2**41, 2_000) // 1000 * 1000,  # whole seconds: no fraction
            [0, 951_782_400_000, 253_402_300_799_999, batch.NO_TIME],
        ]
    )
    want = [
        None if ms == batch.NO_TIME else batch.from_us(ms * 1000).isoformat()
        for ms in values.tolist()
    ]
    assert bulk.ms_to_iso(values) == want
    with pytest.raises(ValueError, match="outside"):
        bulk.ms_to_iso(np.array([-1]))
