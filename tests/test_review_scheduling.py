"""Answers, previews, configuration and bad input, checked against the ``fsrs`` package."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import func, select

from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling import fuzz
from studylog.services import cards, review, review_states, settings
from studylog.storage.models import Card, Review

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def no_fuzz(db) -> None:
    review.configure(db, enable_fuzzing=False)


def card_state(db, card_id: int) -> tuple:
    with db.read() as s:
        c = s.get(Card, card_id)
        return (c.state, c.step, c.stability, c.difficulty, c.due, c.last_review, c.reps, c.lapses)


def review_count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(Review.id)))


def package_state(card: fsrs.Card) -> tuple:
    return (int(card.state), card.step, card.stability, card.difficulty, card.due, card.last_review)


def test_answers_follow_the_package_step_by_step(utc_db):
    no_fuzz(utc_db)
    (made,) = cards.create(
        utc_db, "What does softmax do?", "Turns scores into probabilities", now=NOW
    )
    reference = fsrs.Scheduler(enable_fuzzing=False)
    ref_card = fsrs.Card(card_id=made.id, due=NOW)
    rng = random.Random(7)
    moment = NOW
    visited = set()
    for i in range(40):
        rating = rng.choice([1, 2, 3, 3, 3, 4])
        result = review.answer(utc_db, made.id, rating, now=moment, duration_ms=1500 + i)
        ref_card, _ = reference.review_card(ref_card, fsrs.Rating(rating), moment)
        state = card_state(utc_db, made.id)
        assert state[:6] == package_state(ref_card)
        assert state[6] == i + 1
        visited.add(state[0])
        assert result.interval_seconds == (ref_card.due - moment).total_seconds()
        # next answer: sometimes minutes later (same day), sometimes days later
        moment += rng.choice(
            [
                timedelta(minutes=3),
                timedelta(hours=5),
                ref_card.due - moment + timedelta(hours=rng.randint(0, 72)),
            ]
        )
    assert review_count(utc_db) == 40
    assert visited == {1, 2, 3}  # learning, review and relearning were all exercised


def test_review_row_holds_state_before_and_after(utc_db):
    no_fuzz(utc_db)
    (made,) = cards.create(utc_db, "front", "back", now=NOW)
    review.answer(utc_db, made.id, 3, now=NOW, duration_ms=4200)
    later = NOW + timedelta(minutes=12)
    result = review.answer(utc_db, made.id, 3, now=later, duration_ms=900)
    with utc_db.read() as s:
        row = s.get(Review, result.review_id)
        assert (row.rating, row.duration_ms, row.reviewed_at) == (3, 900, later)
        assert (row.state_before, row.step_before) == (1, 1)
        assert row.last_review_before == NOW
        assert row.due_before == NOW + timedelta(minutes=10)
        assert row.state_after == 2 and row.step_after is None
        assert row.due_after == s.get(Card, made.id).due
        assert row.interval_days == pytest.approx((row.due_after - later).total_seconds() / 86400)


def test_fuzz_is_the_package_fuzz_with_a_per_card_seed(utc_db, monkeypatch):
    """With the package's random() replaced by studylog's seeded uniform, both agree exactly."""
    (made,) = cards.create(utc_db, "front", "back", now=NOW)
    reference = fsrs.Scheduler(enable_fuzzing=True)
    unfuzzed = fsrs.Scheduler(enable_fuzzing=False)
    ref_card = fsrs.Card(card_id=made.id, due=NOW)
    moment = NOW
    moved = 0
    for reps, rating in enumerate([4, 3, 3, 2, 3, 3], start=1):
        monkeypatch.setattr(fsrs.scheduler, "random", lambda r=reps: fuzz.fuzz_unit(made.id, r))
        plain, _ = unfuzzed.review_card(ref_card, fsrs.Rating(rating), moment)
        ref_card, _ = reference.review_card(ref_card, fsrs.Rating(rating), moment)
        review.answer(utc_db, made.id, rating, now=moment)
        assert card_state(utc_db, made.id)[4] == ref_card.due
        moved += plain.due != ref_card.due
        moment = ref_card.due + timedelta(hours=2)
    assert moved >= 3  # the fuzz really changed intervals


def test_preview_matches_the_answer_for_every_rating(utc_db):
    (made,) = cards.create(utc_db, "front", "back", now=NOW)
    # bring the card into Review so fuzz applies
    review.answer(utc_db, made.id, 4, now=NOW)
    moment = NOW + timedelta(days=9)
    shown = review.preview(utc_db, made.id, now=moment)
    assert [p.label for p in shown] == ["Again", "Hard", "Good", "Easy"]
    for p in shown:
        result = review.answer(utc_db, made.id, p.rating, now=moment)
        assert result.card.due == p.due
        assert result.interval_text == p.text
        review.undo_review(utc_db, result.review_id)


def test_preview_of_a_new_card_with_default_steps(utc_db):
    no_fuzz(utc_db)
    (made,) = cards.create(utc_db, "front", "back", now=NOW)
    # Anki shows 1m / 6m (mean of 1m and 10m, rounded) / 10m; Easy graduates at S0 = w3.
    days = round(DEFAULT_PARAMETERS[3])
    assert [p.text for p in review.preview(utc_db, made.id, now=NOW)] == [
        "1m",
        "6m",
        "10m",
        f"{days}d",
    ]


@pytest.mark.parametrize("bad", [0, 5, -1, "3", 3.0, True, None])
def test_bad_rating_is_refused_and_nothing_written(utc_db, bad):
    (made,) = cards.create(utc_db, "front", "back", now=NOW)
    before = card_state(utc_db, made.id)
    with pytest.raises(InvalidInputError, match="rating must be 1"):
        review.answer(utc_db, made.id, bad, now=NOW)
    assert card_state(utc_db, made.id) == before
    assert review_count(utc_db) == 0


def test_suspended_and_unknown_cards_cannot_be_answered(utc_db):
    (made,) = cards.create(utc_db, "front", "back", now=NOW)
    review.suspend(utc_db, made.id)
    with pytest.raises(InvalidInputError, match=f"card {made.id} is suspended"):
        review.answer(utc_db, made.id, 3, now=NOW)
    with pytest.raises(NotFoundError, match="no card with id 999"):
        review.answer(utc_db, 999, 3, now=NOW)
    assert review_count(utc_db) == 0
    review.unsuspend(utc_db, made.id)
    assert review.answer(utc_db, made.id, 3, now=NOW).card.reps == 1


def test_configuration_is_stored_per_collection(utc_db):
    assert review.load_config(utc_db) == review.SchedulerConfig()
    assert review.load_limits(utc_db) == review.DailyLimits(20, 200, 8)
    config, _ = review.configure(utc_db, desired_retention=0.85, learning_steps_s=[30, 300, 1800])
    assert review.load_config(utc_db) == config
    assert config.desired_retention == 0.85 and config.learning_steps_s == (30, 300, 1800)
    assert settings.get(utc_db, review.K_RETENTION) == 0.85
    scheduler = config.scheduler()
    assert scheduler.learning_steps == (
        timedelta(seconds=30),
        timedelta(minutes=5),
        timedelta(minutes=30),
    )
    assert review.set_limits(utc_db, new_per_day=5).new_per_day == 5
    assert review.load_limits(utc_db).new_per_day == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"desired_retention": 1.2}, "desired retention"),
        ({"desired_retention": 0.0}, "desired retention"),
        ({"learning_steps_s": [60, -5]}, "learning steps"),
        ({"maximum_interval_d": 0}, "maximum interval"),
        ({"parameters": [0.2] * 19}, "Expected 21 parameters"),
        ({"parameters": [*DEFAULT_PARAMETERS[:20], 5.0]}, "out of bounds"),
    ],
)
def test_bad_configuration_is_refused_and_nothing_stored(utc_db, change, message):
    with pytest.raises(InvalidInputError, match=message):
        review.configure(utc_db, **change)
    assert review.load_config(utc_db) == review.SchedulerConfig()


def _history(db, n_cards: int, seed: int) -> dict[int, list[tuple[datetime, int]]]:
    """Answer ``n_cards`` cards along random histories; return each card's (time, rating) list."""
    rng = random.Random(seed)
    made = [cards.create(db, f"q{i}", f"a{i}", now=NOW)[0].id for i in range(n_cards)]
    logs: dict[int, list[tuple[datetime, int]]] = {cid: [] for cid in made}
    for cid in made:
        moment = NOW + timedelta(minutes=rng.randint(0, 600))
        for _ in range(rng.randint(1, 12)):
            rating = rng.choice([1, 2, 3, 3, 4])
            result = review.answer(db, cid, rating, now=moment)
            logs[cid].append((moment, rating))
            moment = max(result.card.due, moment + timedelta(minutes=1)) + timedelta(
                hours=rng.randint(0, 60)
            )
    return logs


def _package_reschedule(scheduler: fsrs.Scheduler, cid: int, log) -> fsrs.Card:
    return scheduler.reschedule_card(
        fsrs.Card(card_id=cid), [fsrs.ReviewLog(cid, fsrs.Rating(r), t, None) for t, r in log]
    )


def test_changing_retention_reschedules_like_the_package(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 25, seed=3)
    _, summary = review.configure(utc_db, desired_retention=0.8)
    assert summary is not None and not summary.full_replay and summary.due_changed > 0
    reference = fsrs.Scheduler(desired_retention=0.8, enable_fuzzing=False)
    for cid, log in logs.items():
        assert card_state(utc_db, cid)[:6] == pytest.approx(
            package_state(_package_reschedule(reference, cid, log))
        )


def test_changing_parameters_replays_every_history_like_the_package(utc_db):
    no_fuzz(utc_db)
    logs = _history(utc_db, 25, seed=4)
    params = list(DEFAULT_PARAMETERS)
    params[0], params[8], params[20] = 0.4, 1.5, 0.3
    _, summary = review.configure(utc_db, parameters=params, relearning_steps_s=[300, 1200])
    assert summary.full_replay and summary.reviews == sum(len(v) for v in logs.values())
    reference = fsrs.Scheduler(
        parameters=params,
        relearning_steps=(timedelta(minutes=5), timedelta(minutes=20)),
        enable_fuzzing=False,
    )
    for cid, log in logs.items():
        got = card_state(utc_db, cid)
        want = package_state(_package_reschedule(reference, cid, log))
        assert got[:2] == want[:2] and got[4:6] == want[4:6]
        assert got[2] == pytest.approx(want[2], rel=1e-9) and got[3] == pytest.approx(
            want[3], rel=1e-9
        )
    # the review rows' states follow too: the last row's "after" is the card's state. The
    # rows are no longer rewritten (their memory columns are a cache derived when read:
    # studylog.services.review_states), so this reads them as every reader does.
    with utc_db.read() as s:
        for cid in logs:
            last = s.scalars(
                select(Review).where(Review.card_id == cid).order_by(Review.reviewed_at.desc())
            ).first()
            valid = review_states.valid_states_in(s, [cid])[last.id]
            c = s.get(Card, cid)
            assert (valid["state_after"], valid["stability_after"], valid["due_after"]) == (
                c.state,
                c.stability,
                c.due,
            )


def test_nothing_is_rescheduled_when_nothing_changes(utc_db):
    assert review.configure(utc_db, desired_retention=0.9) == (review.SchedulerConfig(), None)
