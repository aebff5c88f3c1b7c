"""Training items built as Anki builds them, checked against Anki's own cases and Anki itself.

The first tests are the cases of Anki's unit tests for ``reviews_for_fsrs``
in training mode (``rslib/src/scheduler/fsrs/params.rs``, module ``tests``),
with Anki's expected items. The last ones write random histories into an
Anki collection and compare Anki's item count and log loss with ours.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from studylog.scheduling.training import (
    EntryKind,
    ReviewHistory,
    build_training_items,
    days_elapsed,
    outlier_split,
)

L, R, RL = EntryKind.LEARNING, EntryKind.REVIEW, EntryKind.RELEARNING
NEXT_DAY_AT_MS = 86_400 * 1000 * 1000  # Anki's test constant: TimestampSecs(86400 * 1000)


def history(*cards: list[tuple[EntryKind, float, int]]) -> ReviewHistory:
    """Entries (kind, days ago, rating) per card; card ids 1, 2, ..."""
    rows = [
        (cid, int(NEXT_DAY_AT_MS - days_ago * 86_400_000), rating, kind)
        for cid, entries in enumerate(cards, start=1)
        for kind, days_ago, rating in entries
    ]
    a = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return ReviewHistory(
        card_ids=a[:, 0],
        review_ids=np.arange(len(rows), dtype=np.int64),
        times_ms=a[:, 1],
        ratings=a[:, 2],
        kinds=a[:, 3].astype(np.int8),
    )


def e(kind: EntryKind, days_ago: float, rating: int | None = None) -> tuple[EntryKind, float, int]:
    """One entry; rating 3 (Good) for answers, 0 for entries without a rating (as Anki's tests)."""
    unrated = kind in (EntryKind.MANUAL, EntryKind.RESCHEDULED, EntryKind.RESET)
    return (kind, days_ago, (0 if unrated else 3) if rating is None else rating)


def items_of(h: ReviewHistory) -> list[list[tuple[int, int]]]:
    built = build_training_items(h, NEXT_DAY_AT_MS)
    return [built.item(i) for i in range(len(built))]


def good(*deltas: int) -> list[tuple[int, int]]:
    return [(3, d) for d in deltas]


def test_delta_t_is_counted_in_days_before_the_next_day():
    assert items_of(history([e(L, 1), e(R, 0)])) == [good(0, 1)]
    assert items_of(history([e(L, 15), e(L, 13), e(R, 10), e(R, 5)])) == [
        good(0, 2),
        good(0, 2, 3),
        good(0, 2, 3, 5),
    ]
    assert items_of(history([e(L, 15), e(L, 13)])) == [good(0, 2)]


def test_items_are_in_time_order_with_their_card_ids():
    built = build_training_items(
        history([e(L, 10), e(R, 7), e(R, 1)], [e(L, 9), e(R, 8)]), NEXT_DAY_AT_MS
    )
    assert built.card_ids.tolist() == [2, 1, 1]
    assert [built.ends[i] - built.starts[i] for i in range(len(built))] == [2, 2, 3]
    assert built.reviews_used == 5


def test_cramming_and_a_set_due_date_are_left_out():
    expected = [good(0, 1), good(0, 1, 5)]
    assert items_of(history([e(L, 10), e(R, 9), e(EntryKind.CRAM, 7), e(R, 4)])) == expected
    assert items_of(history([e(L, 10), e(R, 9), e(EntryKind.MANUAL, 7), e(R, 4)])) == expected


def test_a_reset_drops_the_history_before_it():
    assert items_of(history([e(L, 10), e(EntryKind.RESET, 7), e(L, 4), e(R, 0)])) == [good(0, 4)]
    # reviews after a reset but no learning step: nothing to train on
    assert items_of(history([e(L, 10), e(R, 9), e(EntryKind.RESET, 7), e(R, 1), e(RL, 0)])) == []


def test_a_history_without_a_learning_step_gives_no_items():
    assert items_of(history([e(L, 1)])) == []
    assert items_of(history([e(R, 10), e(R, 8), e(R, 6)])) == []


def test_learning_again_after_reviews_without_a_reset_entry_starts_there():
    # old Anki versions logged no entry for "Forget": the last run of learning steps counts
    h = history([e(R, 20), e(R, 17), e(L, 11.5, 1), e(L, 11.5 - 2 / 1440), e(R, 9.5), e(R, 4.5)])
    assert items_of(h) == [[(1, 0), (3, 0), (3, 2)], [(1, 0), (3, 0), (3, 2), (3, 5)]]


def test_same_day_reviews_stay_in_the_history_as_short_term_reviews():
    minutes = 1 / 1440
    h = history(
        [
            e(L, 5.5, 1),
            e(L, 5.5 - 1 * minutes),
            e(L, 5.5 - 11 * minutes),
            e(R, 2.5),
            e(R, 2.5 - minutes, 1),
        ]
    )
    # the Again on day -2 is the same study day as the Good before it: no item of its own
    assert items_of(h) == [[(1, 0), (3, 0), (3, 0), (3, 3)]]


def test_study_days_follow_the_day_start_hour_and_time_zone():
    from zoneinfo import ZoneInfo

    from studylog.services.optimizer import next_day_at_ms
    from studylog.studyday import StudyCalendar

    seoul = StudyCalendar(day_start_hour=4, zone=ZoneInfo("Asia/Seoul"))
    next_day = next_day_at_ms(seoul, datetime(2024, 5, 10, 12, 0, tzinfo=UTC))
    assert (
        next_day
        == int(datetime(2024, 5, 11, 4, 0, tzinfo=ZoneInfo("Asia/Seoul")).timestamp()) * 1000
    )

    def ms(hour: int, minute: int, day: int = 1) -> int:
        local = datetime(2024, 5, day, hour, minute, tzinfo=ZoneInfo("Asia/Seoul"))
        return int(local.timestamp() * 1000)

    # 03:59 and 04:01 Seoul time fall on two study days; 23:00 and 03:00 on one
    d = days_elapsed(np.array([ms(3, 59), ms(4, 1), ms(23, 0, 2), ms(3, 0, 3)]), next_day)
    assert (d[0] - d[1], d[2] - d[3]) == (1, 0)


def test_ratings_out_of_range_and_rated_resets_are_refused():
    bad = history([e(L, 2), e(R, 1)])
    with pytest.raises(ValueError, match="ratings"):
        build_training_items(
            ReviewHistory(bad.card_ids, bad.review_ids, bad.times_ms, bad.ratings + 3, bad.kinds),
            NEXT_DAY_AT_MS,
        )
    with pytest.raises(ValueError, match="no rating"):
        build_training_items(history([e(L, 2), (EntryKind.RESET, 1, 3)]), NEXT_DAY_AT_MS)


def test_outlier_filter_equals_fsrs_rs():
    """fsrs-rs's own ``filter_outlier`` (through fsrs-rs-python) on random items."""
    import fsrs_rs_python as fsrs_rs

    rng = np.random.default_rng(7)
    cards = []
    for _ in range(400):
        first = int(rng.choice([1, 2, 3, 4], p=[0.2, 0.05, 0.6, 0.15]))
        gaps = rng.choice([1, 1, 2, 3, 5, 8, 13, 40, 120, 400], size=rng.integers(1, 6))
        days, entries = 600.0, [e(L, 600.0, first)]
        for gap in gaps:
            days -= float(gap)
            entries.append(e(R, days, int(rng.choice([1, 3, 3, 3, 4]))))
        cards.append(entries)
    built = build_training_items(history(*cards), NEXT_DAY_AT_MS)
    split = outlier_split(built)
    converted = built.to_fsrs()
    single = [converted[i] for i in np.flatnonzero(built.long_term_counts() == 1)]
    initialization, train = fsrs_rs.filter_outlier(single, converted)
    assert split.removed  # the case exercises the filter
    assert int(split.train.sum()) == len(train)
    assert int(split.initialization.sum()) == len(initialization)
    # the items themselves, compared by their Rust Debug text (FSRSReview has no getters)
    kept = [repr(converted[i]) for i in np.flatnonzero(split.train)]
    assert sorted(kept) == sorted(repr(item) for item in train)


# --- against Anki itself ---------------------------------------------------------------------


def random_history(seed: int, n_cards: int) -> ReviewHistory:
    """Histories with every kind of entry: learning runs, reviews, lapses, resets, cramming,
    manual due dates, filtered-deck answers, same-day repeats and histories that start late."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 1, 1, 9, tzinfo=UTC).timestamp() * 1000
    cards = []
    for cid in range(1, n_cards + 1):
        t = start + rng.integers(0, 30) * 86_400_000 + rng.integers(0, 86_400_000)
        entries = []
        state = L if rng.random() > 0.1 else R  # some histories begin with a review
        for _ in range(int(rng.integers(1, 14))):
            roll = rng.random()
            if roll < 0.04:
                entries.append((cid, t, 0, EntryKind.RESET))
                state = L
            elif roll < 0.07:
                entries.append((cid, t, int(rng.integers(1, 5)), EntryKind.CRAM))
            elif roll < 0.09:
                entries.append((cid, t, 0, EntryKind.MANUAL))
            elif roll < 0.11:
                entries.append((cid, t, int(rng.integers(2, 5)), EntryKind.FILTERED))
            else:
                rating = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.1, 0.65, 0.1]))
                entries.append((cid, t, rating, state))
                if state == R and rating == 1:
                    state = RL
                elif rating > 1 and rng.random() < 0.6:
                    state = R
            same_day = rng.random() < 0.3
            t += rng.integers(60_000, 3_600_000) if same_day else rng.integers(1, 40) * 86_400_000
        cards.extend(entries)
    a = np.array(cards, dtype=np.int64)
    return ReviewHistory(
        card_ids=a[:, 0],
        review_ids=np.arange(len(a), dtype=np.int64),
        times_ms=a[:, 1],
        ratings=a[:, 2],
        kinds=a[:, 3].astype(np.int8),
    )


@pytest.mark.parametrize(
    ("seed", "tz", "hour"), [(1, "UTC", 4), (2, "Asia/Seoul", 4), (3, "UTC", 0)]
)
def test_items_and_log_loss_equal_ankis_on_random_histories(seed, tz, hour):
    from zoneinfo import ZoneInfo

    from studylog.scheduling import fitting
    from studylog.services.optimizer import DEFAULT_PARAMETERS, next_day_at_ms
    from studylog.studyday import StudyCalendar
    from tests.fixtures.anki_fsrs import anki_fsrs

    h = random_history(seed, 300)
    # Anki computes next_day_at from its own clock: today, in the same zone and hour
    calendar = StudyCalendar(day_start_hour=hour, zone=ZoneInfo(tz))
    built = build_training_items(h, next_day_at_ms(calendar, datetime.now(UTC)))
    anki = anki_fsrs(
        {
            "tz": tz,
            "day_start_hour": hour,
            "params": list(DEFAULT_PARAMETERS),
            "entries": [
                [int(c), int(t), int(r), int(k), 1]
                for c, t, r, k in zip(h.card_ids, h.times_ms, h.ratings, h.kinds, strict=True)
            ],
        }
    )
    assert len(built) > 300
    assert len(built) == anki["items"]
    ours = fitting.evaluate(built, DEFAULT_PARAMETERS)
    assert ours.log_loss == pytest.approx(anki["log_loss"], abs=2e-3)
    assert ours.rmse_bins == pytest.approx(anki["rmse_bins"], abs=2e-3)
