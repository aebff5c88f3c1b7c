"""The review rows' derived states: stored, or stale since a whole-collection replay.

A review row holds the facts of an answer (card, rating, time, duration) and
the card's state around it: state and step, stability, difficulty, due and
last review before, the same after, and the interval. Those are derived: a
replay of the card's history gives them again. Rewriting them for a whole
collection costs seconds (1,000,000 rows: 6-9 s, 1.7 s for the bare SQL
``UPDATE``), so a whole-collection replay after new parameters
(:func:`studylog.services.reschedule.replay_in`) writes the cards but not the
rows' memory states. It stores a marker instead (settings key
:data:`STALE_KEY`, :class:`StaleStates`):

- ``through_id``: the newest review id at the replay. Rows with a larger id
  were written by an answer from the replayed card, so they are valid.
- ``params``: the parameters of that replay (weights, steps, desired
  retention, maximum interval, fuzz). A stale row's valid state is its place
  in the replay of its card's history with these parameters, which is what
  the rewrite would have stored; a later desired-retention change, which
  does not replay, leaves it as it is (as it left the rewritten rows).
- ``fresh``: cards whose rows were rewritten since (an import, an answer older
  than the card's last review, its undo: partial replays write the rows).

State and step depend on the learning steps, not on the weights: the replay
writes those that differ from the stored ones (none when only the
parameters changed), so the SQL readers of ``state_before`` (counts, the
optimizer's items, the statistics' kinds) read the rows. The memory columns
(stability, difficulty, due, interval) of stale rows are derived when read:
:func:`derived_states_in` replays the cards that need it (one card for card
info or an answer's undo, all for the statistics, the memory statistics and
the JSON export) without writing anything. The packing of state and step
(:func:`studylog.storage.bulk.state_codes`) assumes step indexes below 63.

Undo: the reschedule's undo snapshot keeps the marker before
(:func:`marker_json_in`); :func:`pop_in` puts it back and writes back the
state and step columns the replay changed (kept under :data:`UNDO_KEY`), so
rows that were never rewritten are valid again without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from studylog.scheduling import batch
from studylog.storage import bulk, undo_data
from studylog.storage.models import Review, Setting

STALE_KEY = "reviews.stale_states"
"""The ``settings`` key of the marker (:class:`StaleStates` as JSON); absent: every row is valid."""

UNDO_KEY = "reviews.stale_states.undo"
"""The ``undo_data`` key (:mod:`studylog.storage.undo_data`) of the state/step codes whole
replays overwrote since the last reschedule undo snapshot (:func:`store_in`, :func:`pop_in`)."""

_US = timedelta(microseconds=1)

DERIVED_COLUMNS = (
    "state_before",
    "step_before",
    "stability_before",
    "difficulty_before",
    "due_before",
    "last_review_before",
    "state_after",
    "step_after",
    "stability_after",
    "difficulty_after",
    "due_after",
    "interval_days",
)
"""The derived columns of a review row (:meth:`DerivedStates.row`'s keys)."""


@dataclass(frozen=True)
class StaleStates:
    """Which review rows hold states that are not those of the last whole replay.

    Attributes:
        through_id: rows with ``id <= through_id`` of cards not in ``fresh`` are stale.
        params: the parameters their valid states are derived with.
        fresh: int64 card ids, sorted, whose rows were rewritten since.
    """

    through_id: int
    params: batch.Params
    fresh: np.ndarray

    def to_json(self) -> dict[str, Any]:
        """The marker as stored (steps as integer µs, so they come back exactly)."""
        p = self.params
        return {
            "through_id": int(self.through_id),
            "params": {
                "w": list(p.w),
                "desired_retention": p.desired_retention,
                "learning_steps_us": [s // _US for s in p.learning_steps],
                "relearning_steps_us": [s // _US for s in p.relearning_steps],
                "maximum_interval": p.maximum_interval,
                "enable_fuzzing": p.enable_fuzzing,
            },
            "fresh": self.fresh.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StaleStates:
        """The inverse of :meth:`to_json`."""
        q = data["params"]
        params = batch.Params(
            w=tuple(float(x) for x in q["w"]),
            desired_retention=float(q["desired_retention"]),
            learning_steps=tuple(timedelta(microseconds=int(s)) for s in q["learning_steps_us"]),
            relearning_steps=tuple(
                timedelta(microseconds=int(s)) for s in q["relearning_steps_us"]
            ),
            maximum_interval=int(q["maximum_interval"]),
            enable_fuzzing=bool(q["enable_fuzzing"]),
        )
        return cls(int(data["through_id"]), params, np.asarray(data["fresh"], dtype=np.int64))


def marker_json_in(session: Session) -> dict[str, Any] | None:
    """The stored marker as JSON (None: every review row holds valid states)."""
    row = session.get(Setting, STALE_KEY)
    return row.value if row is not None and isinstance(row.value, dict) else None


def load_in(session: Session) -> StaleStates | None:
    """The marker, or None when every review row holds valid states."""
    data = marker_json_in(session)
    return None if data is None else StaleStates.from_json(data)


def _store(session: Session, key: str, value: Any) -> None:
    """Set (or, for None, delete) one ``settings`` row inside the caller's transaction."""
    row = session.get(Setting, key)
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()


def store_in(
    session: Session, marker: StaleStates | None, overwritten: tuple[np.ndarray, np.ndarray]
) -> None:
    """Store a new marker and the state/step codes its replay overwrote (review ids, codes).

    The codes are :func:`studylog.storage.bulk.state_codes` of the rows before;
    :func:`pop_in` writes them back. They add up until the next undo snapshot
    (:func:`clear_overwritten_in`): a row overwritten twice keeps its first
    code, the one the snapshot's time had.
    """
    _store(session, STALE_KEY, None if marker is None else marker.to_json())
    ids, codes = (np.asarray(a, dtype=np.int64) for a in overwritten)
    old_ids, old_codes = _overwritten(session)
    all_ids = np.concatenate([old_ids, ids])
    all_codes = np.concatenate([old_codes, codes])
    keep_ids, first = np.unique(all_ids, return_index=True)  # the older code wins
    undo_data.put(session, UNDO_KEY, {"ids": keep_ids, "codes": all_codes[first]})


def _overwritten(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """The (review ids, codes) kept under :data:`UNDO_KEY` (empty when none)."""
    arrays = undo_data.get(session, UNDO_KEY, ("ids", "codes"))
    if arrays is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return arrays["ids"].astype(np.int64), arrays["codes"].astype(np.int64)


def clear_overwritten_in(session: Session) -> None:
    """Start a new undo point: forget the state/step codes kept for the previous one."""
    undo_data.put(session, UNDO_KEY, None)


def drop_in(session: Session) -> None:
    """Forget the marker and its undo (every review row holds valid states again)."""
    _store(session, STALE_KEY, None)
    undo_data.put(session, UNDO_KEY, None)


def mark_fresh_in(session: Session, card_ids: np.ndarray) -> None:
    """Record that the rows of ``card_ids`` were just rewritten (a partial replay)."""
    marker = load_in(session)
    if marker is None or not len(card_ids):
        return
    fresh = np.union1d(marker.fresh, np.asarray(card_ids, dtype=np.int64))
    if fresh.size == marker.fresh.size:
        return
    stale = StaleStates(marker.through_id, marker.params, fresh)
    _store(session, STALE_KEY, stale.to_json())


def pop_in(session: Session, before: dict[str, Any] | None) -> np.ndarray | None:
    """Undo the newest marker: put ``before`` back (the marker when the undo snapshot was saved).

    Returns None when the marker is still ``before`` (the change being undone
    wrote its rows: the caller replays them as before). Otherwise the state
    and step columns that replay overwrote are written back and the result
    is the card ids whose rows were rewritten since (they are not valid under
    ``before``: the caller replays them with the old settings).
    """
    current = marker_json_in(session)
    if current == before:
        return None
    ids, codes = _overwritten(session)
    bulk.write_state_codes(session, ids, codes)
    undo_data.put(session, UNDO_KEY, None)
    _store(session, STALE_KEY, before)
    bulk.drop_stats_cache(session)  # the statistics aggregate the states just put back
    fresh_now = np.asarray(current["fresh"] if current else [], dtype=np.int64)
    fresh_before = np.asarray(before["fresh"] if before else [], dtype=np.int64)
    return np.setdiff1d(fresh_now, fresh_before)


# --- reading valid states ---------------------------------------------------------------


@dataclass(frozen=True)
class DerivedStates:
    """The valid states of the stale review rows, ordered by review id.

    ``review_ids`` int64 (n,); ``times_ms`` their review times (epoch ms);
    ``before``/``after`` the card's state around each (µs times, :data:`NO_TIME`,
    -1 and NaN for NULL, as :class:`~studylog.scheduling.batch.CardArrays`);
    ``interval_days`` float64 (due after - review time, days).
    """

    review_ids: np.ndarray
    times_ms: np.ndarray
    before: batch.CardArrays
    after: batch.CardArrays
    interval_days: np.ndarray

    def index_of(self, review_ids: np.ndarray) -> np.ndarray:
        """For each of ``review_ids``: its position here, or -1 when its stored row is valid."""
        ids = np.asarray(review_ids, dtype=np.int64)
        if not self.review_ids.size:
            return np.full(ids.shape, -1, dtype=np.int64)
        pos = np.searchsorted(self.review_ids, ids)
        pos = np.minimum(pos, self.review_ids.size - 1)
        return np.where(self.review_ids[pos] == ids, pos, -1)

    def columns(
        self, order: np.ndarray | None = None, *, iso_times: bool = False
    ) -> dict[str, list[Any]]:
        """The derived columns as Python lists (rows in ``order``, default id order), with
        the values :meth:`row` gives: built per column, for a million rows at once.

        ``iso_times``: times as the text ``datetime.isoformat()`` gives for them
        (what the JSON export writes), built as NumPy bytes: 3,000,000 aware
        datetimes cost seconds.
        """
        take = np.arange(self.review_ids.size) if order is None else np.asarray(order)
        b, a = self.before.take(take), self.after.take(take)

        def opt(x: np.ndarray) -> list[float | None]:
            out = x.astype(object)
            out[np.isnan(x)] = None
            return out.tolist()

        def step(x: np.ndarray) -> list[int | None]:
            out = x.astype(object)
            out[x < 0] = None
            return out.tolist()

        def ms_time(us: np.ndarray) -> list[Any]:
            missing = us == batch.NO_TIME
            if iso_times:
                return bulk.ms_to_iso(np.where(missing, batch.NO_TIME, us // 1000))
            naive = np.where(missing, 0, us // 1000).astype("datetime64[ms]").tolist()
            return [
                None if m else d.replace(tzinfo=UTC)
                for d, m in zip(naive, missing.tolist(), strict=True)
            ]

        return {
            "state_before": b.state.astype(np.int64).tolist(),
            "step_before": step(b.step),
            "stability_before": opt(b.stability),
            "difficulty_before": opt(b.difficulty),
            "due_before": ms_time(b.due),
            "last_review_before": ms_time(b.last_review),
            "state_after": a.state.astype(np.int64).tolist(),
            "step_after": step(a.step),
            "stability_after": opt(a.stability),
            "difficulty_after": opt(a.difficulty),
            "due_after": ms_time(a.due),
            "interval_days": self.interval_days[take].tolist(),
        }

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i``'s derived columns as the ORM gives them (aware UTC datetimes, None for NULL)."""
        b, a = self.before, self.after

        def opt(x: float) -> float | None:
            return None if np.isnan(x) else float(x)

        def step(x: int) -> int | None:
            return None if x < 0 else int(x)

        def ms_time(us: int) -> Any:
            return None if us == batch.NO_TIME else batch.from_us(int(us) // 1000 * 1000)

        return {
            "state_before": int(b.state[i]),
            "step_before": step(b.step[i]),
            "stability_before": opt(b.stability[i]),
            "difficulty_before": opt(b.difficulty[i]),
            "due_before": ms_time(b.due[i]),
            "last_review_before": ms_time(b.last_review[i]),
            "state_after": int(a.state[i]),
            "step_after": step(a.step[i]),
            "stability_after": opt(a.stability[i]),
            "difficulty_after": opt(a.difficulty[i]),
            "due_after": ms_time(a.due[i]),
            "interval_days": float(self.interval_days[i]),
        }


def derived_states_in(
    session: Session, card_ids: np.ndarray | list[int] | None = None
) -> DerivedStates | None:
    """The valid states of the stale review rows of ``card_ids`` (all cards if None).

    None when no row of them is stale (read the rows). Otherwise each card
    that has stale rows is replayed with the marker's parameters
    (:func:`studylog.scheduling.batch.replay`, the replay the rows would have
    been rewritten with) and the stale rows' states are returned; nothing is
    written. Cost: reading and replaying those cards' histories (one card:
    about a millisecond; 1,000,000 reviews: about 2 s).
    """
    marker = load_in(session)
    if marker is None:
        return None
    if card_ids is not None:
        wanted = np.setdiff1d(np.asarray(card_ids, dtype=np.int64), marker.fresh)
        if not wanted.size:
            return None
        h = bulk.load_replay_histories(session, wanted.tolist())
    else:
        h = bulk.load_replay_histories(session)
    assert h.initial_due_us is not None
    result = batch.replay(
        h.offsets,
        h.ratings,
        h.times_us,
        marker.params,
        card_ids=h.card_ids,
        initial_due_us=h.initial_due_us,
    )
    assert result.before is not None and result.after is not None
    card_of_review = np.repeat(h.card_ids, np.diff(h.offsets))
    stale = h.review_ids <= marker.through_id
    if marker.fresh.size:
        stale &= ~np.isin(card_of_review, marker.fresh)
    if not stale.any():
        return None
    keep = np.flatnonzero(stale)
    keep = keep[np.argsort(h.review_ids[keep], kind="stable")]
    after = result.after.take(keep)
    times = h.times_us[keep]
    return DerivedStates(
        review_ids=h.review_ids[keep],
        times_ms=times // 1000,
        before=result.before.take(keep),
        after=after,
        interval_days=(after.due - times) / batch.DAY_US,
    )


def valid_states_in(
    session: Session, card_ids: list[int] | None = None
) -> dict[int, dict[str, Any]]:
    """Each review row's valid derived columns (:data:`DERIVED_COLUMNS`), by review id.

    The stored values, with those of stale rows derived as
    :func:`derived_states_in` does; rows of ``card_ids`` (every row if None).
    One ORM object per row: for a card, a test or a small collection, not
    for a million rows (the statistics and the export use the arrays).
    """
    query = select(Review)
    if card_ids is not None:
        query = query.where(Review.card_id.in_(card_ids))
    out = {r.id: {c: getattr(r, c) for c in DERIVED_COLUMNS} for r in session.scalars(query)}
    derived = derived_states_in(session, card_ids)
    if derived is not None:
        for i, review_id in enumerate(derived.review_ids.tolist()):
            if review_id in out:
                out[review_id] = derived.row(i)
    return out
