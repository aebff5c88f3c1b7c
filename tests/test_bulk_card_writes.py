"""The whole collection's history read in the table's order, and card writes that skip what
did not change: the same arrays and the same rows as the plain way, fewer rows written."""

from __future__ import annotations

import shutil
from datetime import timedelta

import numpy as np
from sqlalchemy import select, text

from studylog.scheduling import batch
from studylog.services import card_actions, cards, review, settings
from studylog.storage import bulk, fsrs_reads
from studylog.storage.engine import Database
from studylog.storage.models import Card
from tests.conftest import NOW


def _interleaved_collection(db) -> list[int]:
    """Five cards answered in turns (review ids alternate between cards), one deleted."""
    settings.put(db, settings.TIMEZONE, "UTC")
    ids = [cards.create(db, f"카드 {i} 🧠", "답", now=NOW)[0].id for i in range(5)]
    moment = NOW
    for rating in (3, 1, 3, 4, 2, 3):
        for k, cid in enumerate(ids):
            moment += timedelta(hours=1)
            review.answer(db, cid, 1 + (rating + k) % 4, now=moment)
    card_actions.delete_cards(db, ids=[ids[2]], now=moment)  # its history stays in the log
    return [i for i in ids if i != ids[2]]


def _reference(db) -> list[tuple[int, int, int, int, int, int]]:
    """The rows as the old joined, ordered query read them (card, id, rating, time ms,
    due before ms or the card's due, the card's due)."""
    with db.read() as s:
        return [
            tuple(int(v) for v in row)
            for row in s.execute(
                text(
                    "SELECT r.card_id, r.id, r.rating, r.reviewed_at_ms, "
                    "COALESCE(r.due_before_ms, c.due_ms), c.due_ms "
                    "FROM reviews r JOIN cards c ON c.id = r.card_id "
                    "ORDER BY r.card_id, r.reviewed_at, r.id"
                )
            )
        ]


def test_the_whole_collections_read_matches_the_joined_query_and_the_per_card_read(db):
    kept = _interleaved_collection(db)
    with db.write() as s:  # a first review without its due before: the card's due stands in
        s.execute(text("UPDATE reviews SET due_before_ms = NULL, due_before = NULL WHERE id = 2"))
    ref = _reference(db)
    assert len(ref) == 4 * 6 and {r[0] for r in ref} == set(kept)
    with db.read() as s:
        whole = bulk.load_replay_histories(s, with_state_codes=True)
        seek = bulk.load_replay_histories(s, kept, with_state_codes=True)
        current = bulk.load_card_snapshot(s)
        shared = bulk.load_replay_histories(s, with_state_codes=True, current=current)
    starts = whole.offsets[:-1]
    rows = np.repeat(np.arange(whole.card_ids.size), np.diff(whole.offsets))
    got = list(
        zip(
            whole.card_ids[rows].tolist(),
            whole.review_ids.tolist(),
            whole.ratings.tolist(),
            (whole.times_us // 1000).tolist(),
            strict=True,
        )
    )
    assert got == [r[:4] for r in ref]
    assert (whole.initial_due_us // 1000).tolist() == [ref[i][4] for i in starts.tolist()]
    assert (whole.current_due_us // 1000).tolist() == [ref[i][5] for i in starts.tolist()]
    second = whole.card_ids.tolist().index(kept[1])  # the card whose first row lost it
    assert whole.review_ids[whole.offsets[second]] == 2
    assert whole.initial_due_us[second] == whole.current_due_us[second]
    for other in (seek, shared):
        for name in (
            "card_ids",
            "offsets",
            "review_ids",
            "ratings",
            "times_us",
            "initial_due_us",
            "current_due_us",
            "state_codes",
        ):
            assert np.array_equal(getattr(whole, name), getattr(other, name)), name


def _card_rows(db) -> list[tuple]:
    with db.read() as s:
        return [
            (
                c.id,
                c.state,
                c.step,
                c.stability,
                c.difficulty,
                c.due,
                c.due_ms,
                c.last_review,
                c.last_review_ms,
                c.reps,
                c.lapses,
            )
            for c in s.scalars(select(Card).order_by(Card.id))
        ]


def _changed_arrays(snapshot: bulk.CardSnapshot):
    """The snapshot with card 0's due a day later and card 1's stability changed."""
    c = snapshot.cards
    due, stability = c.due.copy(), c.stability.copy()
    due[0] += batch.DAY_US
    stability[1] *= 1.5
    new = batch.CardArrays(
        state=c.state.copy(),
        step=c.step.copy(),
        stability=stability,
        difficulty=c.difficulty.copy(),
        due=due,
        last_review=c.last_review.copy(),
    )
    return new, snapshot.reps.copy(), snapshot.lapses.copy()


def test_a_card_write_with_the_current_cards_writes_only_what_changed(db, tmp_path):
    _interleaved_collection(db)
    db.dispose()
    other_path = tmp_path / "other.db"
    shutil.copy(db.engine.url.database, other_path)
    other = Database(f"sqlite:///{other_path}")
    statements: list[str] = []
    changes = {}
    for target, use_current in ((db, True), (other, False)):
        with target.write() as s:
            snapshot = bulk.load_card_snapshot(s)
            new, reps, lapses = _changed_arrays(snapshot)
            raw = bulk.raw_connection(s)
            before = raw.total_changes
            if use_current:
                raw.set_trace_callback(statements.append)
            bulk.write_card_states(
                s,
                snapshot.card_ids,
                new,
                reps,
                lapses,
                current=snapshot if use_current else None,
            )
            raw.set_trace_callback(None)
            changes[use_current] = raw.total_changes - before
    assert changes == {True: 2, False: 4}  # two cards differ; the plain write writes all four
    updates = [q for q in statements if q.startswith("UPDATE cards")]
    assert len(updates) == 2
    assert all(q.startswith("UPDATE cards SET stability = ") for q in updates)
    assert "due = " in updates[0] and "state" not in updates[0] and "reps" not in updates[0]
    rows, plain = _card_rows(db), _card_rows(other)
    assert rows == plain
    assert rows[0][6] == int(new.due[0] // 1000)  # the moved due is there (ms twin)
    other.dispose()


def test_a_card_write_with_nothing_changed_writes_nothing(db):
    _interleaved_collection(db)
    before = _card_rows(db)
    with db.write() as s:
        snapshot = bulk.load_card_snapshot(s)
        raw = bulk.raw_connection(s)
        n = raw.total_changes
        bulk.write_card_states(
            s, snapshot.card_ids, snapshot.cards, snapshot.reps, snapshot.lapses, current=snapshot
        )
        assert raw.total_changes == n
    assert _card_rows(db) == before


def test_a_bulk_card_write_keeps_a_small_partial_index_in_place(db, monkeypatch):
    _interleaved_collection(db)
    with db.write() as s:  # one card without text: the partial index holds it
        s.execute(text("UPDATE cards SET front = '' WHERE id = (SELECT min(id) FROM cards)"))
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 2)  # 4 cards: a rebuild; 1 row: small
    statements: list[str] = []
    with db.write() as s:
        snapshot = bulk.load_card_snapshot(s)
        new, reps, lapses = _changed_arrays(snapshot)
        new.due[:] += batch.DAY_US  # every card moves: more than the threshold
        raw = bulk.raw_connection(s)
        raw.set_trace_callback(statements.append)
        bulk.write_card_states(s, snapshot.card_ids, new, reps, lapses, current=snapshot)
        raw.set_trace_callback(None)
    dropped = sorted(q.split('"')[1] for q in statements if q.startswith("DROP INDEX"))
    assert dropped == ["ix_cards_deck", "ix_cards_due"]
    with db.read() as s:
        assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        in_index = s.execute(
            text("SELECT due_ms FROM cards INDEXED BY ix_cards_no_text WHERE front = ''")
        ).scalar()
    assert in_index == int(new.due[0] // 1000)


def test_the_answer_log_of_a_deck_matches_the_joined_query(db):
    """Unsuspended cards of a deck and its subdecks, deleted cards' reviews left out."""
    settings.put(db, settings.TIMEZONE, "UTC")
    decks = ["DL", "DL::RNN", "DLX", "NLP", "DL"]
    ids = [cards.create(db, f"카드 {i}", "답", deck=d, now=NOW)[0].id for i, d in enumerate(decks)]
    moment = NOW
    for turn in range(4):
        for k, cid in enumerate(ids):
            moment += timedelta(minutes=30)
            review.answer(db, cid, 1 + (turn + k) % 4, now=moment, duration_ms=1000 * k or None)
    card_actions.suspend(db, ids=[ids[4]], now=moment)
    card_actions.delete_cards(db, ids=[ids[1]], now=moment)
    with db.read() as s:
        log = fsrs_reads.load_answer_log(s, deck="DL")
        everything = fsrs_reads.load_answer_log(s)
        ref = [
            tuple(row)
            for row in s.execute(
                text(
                    "SELECT r.card_id, r.id, r.reviewed_at_ms, r.rating, r.duration_ms "
                    "FROM reviews r JOIN cards c ON c.id = r.card_id "
                    "WHERE NOT c.suspended AND (c.deck = 'DL' OR c.deck LIKE 'DL::%') "
                    "ORDER BY r.card_id, r.reviewed_at, r.id"
                )
            )
        ]
    assert {r[0] for r in ref} == {ids[0]}  # DL::RNN deleted, DL's second suspended, DLX not
    h = log.history
    got = list(
        zip(
            h.card_ids.tolist(),
            h.review_ids.tolist(),
            h.times_ms.tolist(),
            h.ratings.tolist(),
            [None if np.isnan(d) else int(d) for d in log.duration_ms],
            strict=True,
        )
    )
    assert got == ref and len(got) == 4
    assert sorted(set(everything.history.card_ids.tolist())) == [ids[0], ids[2], ids[3]]


def test_the_memory_states_of_a_snapshot_are_the_querys(db):
    ids = _interleaved_collection(db)
    with db.write() as s:  # one card suspended, one forgotten (no memory state): both kinds
        s.execute(text("UPDATE cards SET suspended = 1 WHERE id = :i"), {"i": ids[0]})
        s.execute(
            text("UPDATE cards SET stability = NULL, difficulty = NULL, state = 1 WHERE id = :i"),
            {"i": ids[1]},
        )
    with db.read() as s:
        snapshot = bulk.load_card_snapshot(s)
        for review_only in (False, True):
            want = bulk.load_memory_states(s, review_only=review_only)
            got = bulk.snapshot_memory_states(snapshot, review_only=review_only)
            assert 0 < want.card_ids.size < snapshot.card_ids.size
            for name in ("card_ids", "stability", "last_review_us", "reps", "due_us"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), name
