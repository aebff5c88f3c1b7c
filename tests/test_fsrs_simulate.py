"""The workload simulator, checked against fsrs-rs's own simulator and Anki's habit extraction.

fsrs-rs's ``simulate`` is random, so the checks compare means over many runs
(different seeds on each side) with a tolerance of a few standard errors.
Runs with existing cards go through fsrs-rs's ``optimal_retention``, the only
fsrs-rs-python entry point that takes existing cards: each simulation it makes
is captured by the target callback (every card carries its own desired
retention, so fsrs-rs's candidate retention changes nothing in them).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from studylog.scheduling import simulation as sim
from studylog.storage import fsrs_reads
from tests.conftest import NOW
from tests.test_fsrs_optimize import josh  # noqa: F401 - the real-log fixture

pytestmark = pytest.mark.both_backends

fsrs_rs = pytest.importorskip("fsrs_rs_python")
W = tuple(fsrs_rs.DEFAULT_PARAMETERS)


def rs_config(deck_size: int, days: int, **fields: object):  # noqa: ANN201
    config = fsrs_rs.default_simulator_config()
    config.deck_size = deck_size
    config.learn_span = days
    config.learn_limit = 20
    config.max_cost_perday = 3.0e38
    for name, value in fields.items():
        setattr(config, name, value)
    return config


def within(ours: np.ndarray, theirs: np.ndarray, se: float = 4.0) -> bool:
    """Means equal within ``se`` standard errors of their difference."""
    diff = abs(ours.mean() - theirs.mean())
    err = np.sqrt(ours.var(ddof=1) / ours.size + theirs.var(ddof=1) / theirs.size)
    return bool(diff <= se * err)


@pytest.mark.parametrize(("retention", "review_limit"), [(0.9, 9999), (0.8, 9999), (0.9, 60)])
def test_a_deck_of_new_cards_equals_fsrs_rs(retention, review_limit):
    runs = 24
    theirs = [
        fsrs_rs.simulate(list(W), retention, rs_config(2000, 365, review_limit=review_limit), seed)
        for seed in range(runs)
    ]
    config = sim.SimulatorConfig(review_limit=review_limit)
    ours = [
        sim.simulate(W, retention, config, days=365, new_cards=2000, seed=1000 + seed)
        for seed in range(runs)
    ]
    for measure, a, b in (
        ("reviews", [o.reviews.sum() for o in ours], [sum(t.review_cnt_per_day) for t in theirs]),
        ("cost", [o.cost_s.sum() for o in ours], [sum(t.cost_per_day) for t in theirs]),
        (
            "memorised",
            [o.memorized[-1] for o in ours],
            [t.memorized_cnt_per_day[-1] for t in theirs],
        ),
        (
            "day 100",
            [o.memorized[100] for o in ours],
            [t.memorized_cnt_per_day[100] for t in theirs],
        ),
        ("new", [o.learned.sum() for o in ours], [sum(t.learn_cnt_per_day) for t in theirs]),
    ):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        assert within(a, b), (measure, a.mean(), b.mean())
        assert a.mean() == pytest.approx(b.mean(), rel=0.03), measure
    if review_limit < 9999:
        assert max(int(o.reviews.max()) for o in ours) == review_limit


def existing_deck(seed: int, n_old: int, n_new: int, retention: float):  # noqa: ANN201
    rng = np.random.default_rng(seed)
    stability = rng.lognormal(2, 1.2, n_old)
    interval = np.maximum(1, np.rint(stability * rng.uniform(0.5, 1.5, n_old)))
    due = rng.integers(-10, 60, n_old).astype(float)
    ours = sim.ExistingCards(
        stability=stability,
        difficulty=rng.uniform(1, 10, n_old),
        last_day=np.minimum(due - interval, 0),
        due_day=due,
        lapses=rng.integers(0, 3, n_old),
    )
    return ours


def test_existing_cards_equal_fsrs_rs():
    retention, days, n_new = 0.85, 120, 600
    existing = existing_deck(3, 800, n_new, retention)
    config = sim.SimulatorConfig()
    rs, cards = sim._fsrs_rs_inputs(
        W, config, days=days, new_cards=n_new, existing=existing, desired_retention=retention
    )
    captured: list[tuple[float, ...]] = []

    def capture(result, _w) -> float:  # noqa: ANN001
        captured.append(
            (
                sum(result.review_cnt_per_day),
                sum(result.cost_per_day),
                result.memorized_cnt_per_day[-1],
                result.review_cnt_per_day[0],
            )
        )
        return 1.0

    fsrs_rs.optimal_retention(rs, list(W), cards, capture)
    theirs = np.asarray(captured[:32])
    assert len(theirs) >= 16
    ours = np.asarray(
        [
            (r.reviews.sum(), r.cost_s.sum(), r.memorized[-1], r.reviews[0])
            for r in (
                sim.simulate(
                    W, retention, config, days=days, new_cards=n_new, existing=existing, seed=s
                )
                for s in range(24)
            )
        ]
    )
    # overdue cards all come on day 0: exactly the same number on both sides
    assert set(ours[:, 3]) == set(theirs[:, 3]) == {int((existing.due_day <= 0).sum())}
    for k in range(3):
        assert within(ours[:, k], theirs[:, k]), (k, ours[:, k].mean(), theirs[:, k].mean())
        assert ours[:, k].mean() == pytest.approx(theirs[:, k].mean(), rel=0.03)


def test_habits_equal_ankis_from_the_real_log(josh):  # noqa: F811
    """Button use, step transitions and answer costs: Anki's ``get_optimal_retention_parameters``."""
    from studylog.services.optimizer import DEFAULT_PARAMETERS, next_day_at_ms
    from studylog.studyday import StudyCalendar
    from tests.fixtures.anki_fsrs import anki_fsrs

    with josh.read() as session:
        log = fsrs_reads.load_answer_log(session)
    h = log.history
    ours = sim.extract_config(
        h, log.duration_ms, next_day_at_ms(StudyCalendar(4, UTC), datetime.now(UTC))
    )
    taken = np.nan_to_num(log.duration_ms).astype(np.int64)
    anki = anki_fsrs(
        {
            "tz": "UTC",
            "day_start_hour": 4,
            "params": list(DEFAULT_PARAMETERS),
            "simulator_config": True,
            "entries": [
                [int(c), int(t), int(r), int(k), 1, int(x)]
                for c, t, r, k, x in zip(
                    h.card_ids, h.times_ms, h.ratings, h.kinds, taken, strict=True
                )
            ],
        }
    )["simulator_config"]
    assert np.allclose(ours.first_rating_prob, anki["first_rating_prob"], atol=1e-5)
    assert np.allclose(ours.review_rating_prob, anki["review_rating_prob"], atol=1e-5)
    assert np.allclose(
        np.ravel(ours.learning_transitions), anki["learning_step_transitions"], atol=1e-5
    )
    assert np.allclose(
        np.ravel(ours.relearning_transitions), anki["relearning_step_transitions"], atol=1e-5
    )
    assert np.allclose(np.ravel(ours.costs), anki["state_rating_costs"], atol=1e-4)
    # the learner's own times differ from fsrs-rs's defaults
    assert ours.costs != sim.SimulatorConfig().costs


def test_a_log_without_answer_times_uses_the_defaults_as_fsrs_rs_does():
    from studylog.scheduling.training import ReviewHistory

    empty = sim.extract_config(ReviewHistory.empty(), np.zeros(0), 0, learn_limit=7)
    assert empty.costs == sim.SimulatorConfig().costs and empty.learn_limit == 7


# --- the command ---------------------------------------------------------------------------


def test_simulate_json(josh, run_cli):  # noqa: F811
    result = run_cli("fsrs", "simulate", "--days", "60", "--new-per-day", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["days"] == 60 and data["new_per_day"] == 5 and data["desired_retention"] == 0.9
    for key in ("reviews_per_day", "new_cards_per_day", "minutes_per_day", "memorized"):
        assert len(data[key]) == 60
    assert data["new_cards_per_day"] == [5] * 60
    # every card is long overdue at NOW: day 0 takes the daily review limit (200)
    assert data["reviews_per_day"][0] == 200
    assert 0.70 <= data["optimal_retention"] <= 0.95
    assert data["total_reviews"] == sum(data["reviews_per_day"])


def test_higher_retention_costs_more(josh):  # noqa: F811
    from studylog.services import workload

    curve = workload.workload_curve(josh, retentions=np.array([0.75, 0.85, 0.95]), days=90, now=NOW)
    assert curve.minutes[0] < curve.minutes[1] < curve.minutes[2]
    # (memorised cards need not grow: the daily review limit of 200 binds on this backlog)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--retention", "0.5"),
            "desired retention must be between 0.70 and 0.99 (e.g. 0.9), not 0.5",
        ),
        (("--retention", "0.995"), "not 0.995"),
        (("--days", "0"), "days to simulate must be between 1 and 3650, not 0"),
        (("--new-per-day", "-1"), "new cards per day must be between 0 and 9999, not -1"),
    ],
)
def test_bad_input(db, run_cli, args, message):
    result = run_cli("fsrs", "simulate", *args)
    assert result.exit_code == 1
    assert message in result.output and result.output.count("\n") == 1


def test_existing_cards_are_placed_relative_to_today():
    from studylog.services.workload import existing_cards
    from studylog.studyday import StudyCalendar

    calendar = StudyCalendar(4, UTC)
    start = calendar.start_of(calendar.day_of(NOW))

    def ms(moment: datetime) -> int:
        return int(moment.timestamp() * 1000)

    states = fsrs_reads.CardStates(
        state=np.array([2, 2, 1, 2]),
        stability=np.array([10.0, 3.0, 0.5, np.nan]),
        difficulty=np.array([5.0, 7.0, 6.0, np.nan]),
        last_review_ms=np.array(
            [ms(start - timedelta(days=5)), ms(start - timedelta(days=9)), ms(NOW), -1]
        ),
        due_ms=np.array(
            [
                ms(start + timedelta(days=5, hours=2)),
                ms(start - timedelta(days=6)),
                ms(NOW + timedelta(minutes=10)),
                ms(NOW),
            ]
        ),
        lapses=np.array([0, 2, 0, 0]),
    )
    cards = existing_cards(states, calendar, NOW)
    assert len(cards) == 3  # the new card is not an existing one
    assert cards.due_day.tolist() == [5.0, -6.0, 0.0]  # overdue by 6 days; learning: today
    assert cards.last_day.tolist() == [-5.0, -9.0, 0.0]
    assert cards.lapses.tolist() == [0, 2, 0]


def _dues(db) -> list[tuple[int, int]]:  # noqa: ANN001
    with db.read() as session:
        sql = "SELECT id, due_ms FROM cards ORDER BY id"
        return [tuple(r) for r in session.connection().exec_driver_sql(sql).fetchall()]


@pytest.mark.parametrize(
    ("key_value", "fragments"),
    [
        (("parameters", 3, 500.0), ["parameters[3] = 500.0 is out of bounds"]),
        (("retention", None, 0.5), ["0.5", "0.7", "0.99"]),
        (("retention", None, 0.995), ["0.995", "0.99"]),
    ],
)
def test_hand_edited_settings_are_refused_by_every_fsrs_command(
    josh,  # noqa: F811
    run_cli,
    key_value,
    fragments,
):
    """Settings edited by hand outside FSRS-6's bounds or 0.70-0.99: one line, exit 1, no change."""
    from studylog.services import optimizer, review, settings

    what, index, value = key_value
    if what == "parameters":
        key = review.K_PARAMETERS
        bad: object = list(optimizer.DEFAULT_PARAMETERS)
        bad[index] = value  # type: ignore[index]
    else:
        key, bad = review.K_RETENTION, value
    settings.put(josh, key, bad)
    dues = _dues(josh)
    for command in (("simulate", "--days", "30"), ("optimize",), ("evaluate",)):
        result = run_cli("fsrs", *command)
        assert result.exit_code == 1, (command, result.output)
        assert result.output.count("\n") == 1, result.output
        line = result.output
        assert line.startswith("Error: the stored settings are not usable (")
        assert line.rstrip().endswith("; set them again with studylog config")
        assert all(f in line for f in fragments), line
        assert "Traceback" not in line
    assert settings.get(josh, key) == bad
    # (the CLI's start adds the built-in concept pack's cards; the imported ones did not move)
    assert _dues(josh)[: len(dues)] == dues


def test_simulate_without_history_uses_the_default_habits(db, run_cli):
    """No reviews yet: the simulation is of new cards only (Anki's too), not an error."""
    data = json.loads(run_cli("fsrs", "simulate", "--days", "10", "--json").output)
    assert data["new_cards_per_day"] == [20] * 10 and data["memorized"][0] > 0


def test_answers_without_times_simulate_with_the_default_costs(db, run_cli):
    """Reviews whose answer times are unknown (none given, as the app's seeded data):
    the habits are fsrs-rs's defaults, and the simulation runs (it raised before)."""
    from studylog.services import cards, review

    ids = [cards.create(db, f"카드 {i}", "답", now=NOW)[0].id for i in range(5)]
    for cid in ids:
        review.answer(db, cid, 3, now=NOW)  # no duration
    result = run_cli("fsrs", "simulate", "--days", "10", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["reviews_per_day"]) == 10 and data["memorized"][0] > 0
