"""Workload of a desired retention: the collection simulated forward, and the recommended retention.

The simulation starts from the collection as it is today (every unsuspended
card's memory state and due date, :mod:`studylog.storage.fsrs_reads`) and
uses the learner's own habits from the review log: how often each button is
pressed and how long each answer takes (fsrs-rs's
``extract_simulator_config``), with the scheduler's settings (parameters,
steps, limits, maximum interval, leech rule). New cards come ``new_per_day``
a day, as if there were always new cards to learn.

The recommended retention is fsrs-rs's ``optimal_retention`` (Anki's
"minimum recommended retention", as Anki 23.12-24.06 computed it): the desired
retention, within 0.70-0.95, that costs the least time per memorised card for
a deck of new cards learned over the same number of days, with the same
habits and no daily limits. (fsrs-rs's ``optimal_retention`` cannot take the
existing cards into account: it applies its candidate retention only to the
cards it creates itself.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from studylog.errors import InvalidInputError
from studylog.scheduling import fitting
from studylog.scheduling import simulation as sim
from studylog.scheduling.states import CardState
from studylog.services import review
from studylog.services import settings as settings_service
from studylog.services.optimizer import (
    RETENTION_RANGE,
    check_retention,
    checked_config,
    next_day_at_ms,
)
from studylog.storage import fsrs_reads
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar, ensure_utc, utcnow

MAX_DAYS = 3650
MAX_NEW_PER_DAY = 9999
DAY_MS = 86_400_000
OPTIMAL_NEW_PER_DAY = (
    2  # the deck fsrs-rs's optimal retention simulates (see recommended_retention)
)
UNLIMITED = 1 << 30


@dataclass(frozen=True)
class WorkloadInputs:
    """Everything a simulation of this collection needs."""

    params: tuple[float, ...]
    desired_retention: float
    config: sim.SimulatorConfig
    existing: sim.ExistingCards
    new_cards_now: int


def _steps_in_day(steps_s: tuple[int, ...]) -> int:
    return fitting.relearning_steps_in_day(steps_s)


def existing_cards(
    states: fsrs_reads.CardStates, calendar: StudyCalendar, now: datetime
) -> sim.ExistingCards:
    """Learned cards relative to today's study day (Anki's ``Card::convert``).

    A review card is due on its due date's study day minus today's (negative
    when overdue) and was last reviewed its interval before that (at most
    today); a learning or relearning card is due today.
    """
    learned = ~states.new & ~np.isnan(states.stability) & ~np.isnan(states.difficulty)
    idx = np.flatnonzero(learned)
    today_start_ms = int(calendar.start_of(calendar.day_of(now)).timestamp() * 1000)
    due_day = np.floor((states.due_ms[idx] - today_start_ms) / DAY_MS)
    interval = np.maximum(np.rint((states.due_ms[idx] - states.last_review_ms[idx]) / DAY_MS), 1)
    review_state = states.state[idx] == CardState.REVIEW
    last_day = np.where(review_state, np.minimum(due_day - interval, 0.0), 0.0)
    due_day = np.where(review_state, due_day, 0.0)
    return sim.ExistingCards(
        stability=states.stability[idx],
        difficulty=states.difficulty[idx],
        last_day=last_day,
        due_day=due_day,
        lapses=states.lapses[idx],
    )


def inputs(
    db: Database, *, new_per_day: int | None = None, now: datetime | None = None
) -> WorkloadInputs:
    """The collection's cards, habits and settings for :func:`simulate`."""
    moment = ensure_utc(now) if now is not None else utcnow()
    calendar = settings_service.calendar(db)
    with db.read() as session:
        config = review.config_in(session)
        limits = review.limits_in(session)
        log = fsrs_reads.load_answer_log(session)
        states = fsrs_reads.load_card_states(session)
    checked_config(config)
    per_day = limits.new_per_day if new_per_day is None else new_per_day
    habits = sim.extract_config(
        log.history,
        log.duration_ms,
        next_day_at_ms(calendar, moment),
        learning_steps=_steps_in_day(config.learning_steps_s),
        relearning_steps=_steps_in_day(config.relearning_steps_s),
        learn_limit=per_day,
        review_limit=limits.reviews_per_day,
        max_interval=config.maximum_interval_d,
        suspend_after_lapses=limits.leech_threshold,
    )
    return WorkloadInputs(
        params=config.parameters,
        desired_retention=config.desired_retention,
        config=habits,
        existing=existing_cards(states, calendar, moment),
        new_cards_now=int(states.new.sum()),
    )


@dataclass(frozen=True)
class WorkloadReport:
    """What ``studylog fsrs simulate`` found.

    Attributes:
        desired_retention, days, new_per_day: what was simulated.
        simulation: per-day reviews, new cards, cost (s) and memorised cards.
        optimal_retention: the recommendation (None when not computed).
        costs_s: seconds per answer by state and rating, from the learner's times.
        cards_now: learned cards the simulation starts from.
    """

    desired_retention: float
    days: int
    new_per_day: int
    simulation: sim.Simulation
    optimal_retention: float | None
    costs_s: tuple[tuple[float, ...], ...]
    cards_now: int

    def to_json(self) -> dict[str, Any]:
        s = self.simulation
        return {
            "desired_retention": self.desired_retention,
            "days": self.days,
            "new_per_day": self.new_per_day,
            "reviews_per_day": s.reviews.tolist(),
            "new_cards_per_day": s.learned.tolist(),
            "minutes_per_day": [round(m, 3) for m in s.minutes.tolist()],
            "memorized": [round(m, 3) for m in s.memorized.tolist()],
            "total_reviews": int(s.reviews.sum()),
            "total_minutes": round(float(s.minutes.sum()), 3),
            "optimal_retention": self.optimal_retention,
        }


def _check(days: int, new_per_day: int | None) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days to simulate must be between 1 and {MAX_DAYS}, not {days}")
    if new_per_day is not None and not 0 <= new_per_day <= MAX_NEW_PER_DAY:
        raise InvalidInputError(
            f"new cards per day must be between 0 and {MAX_NEW_PER_DAY}, not {new_per_day}"
        )


def recommended_retention(data: WorkloadInputs, days: int) -> float:
    """fsrs-rs's optimal retention for a deck of new cards with the learner's habits.

    Without daily limits every card's reviews are independent of the others',
    so time and memorised cards both grow in proportion to the number of new
    cards and their ratio, the target, does not depend on the pace: fsrs-rs
    simulates :data:`OPTIMAL_NEW_PER_DAY` new cards a day, which keeps its 16
    runs per candidate retention fast.
    """
    config = replace(data.config, learn_limit=OPTIMAL_NEW_PER_DAY, review_limit=UNLIMITED)
    return sim.optimal_retention(
        data.params, config, days=days, new_cards=OPTIMAL_NEW_PER_DAY * days
    )


def simulate(
    db: Database,
    *,
    retention: float | None = None,
    days: int = 365,
    new_per_day: int | None = None,
    now: datetime | None = None,
    recommend: bool = True,
    seed: int = 42,
) -> WorkloadReport:
    """Simulate the collection ``days`` days ahead at ``retention`` (default: the setting).

    Raises:
        InvalidInputError: a retention outside 0.70-0.99, days outside 1-3650,
            new cards per day outside 0-9999, or stored parameters outside FSRS-6's bounds.
    """
    if retention is not None:
        check_retention(retention)
    _check(days, new_per_day)
    data = inputs(db, new_per_day=new_per_day, now=now)
    r = data.desired_retention if retention is None else retention
    result = sim.simulate(
        data.params,
        r,
        data.config,
        days=days,
        new_cards=data.config.learn_limit * days,
        existing=data.existing,
        seed=seed,
    )
    return WorkloadReport(
        desired_retention=r,
        days=days,
        new_per_day=data.config.learn_limit,
        simulation=result,
        optimal_retention=recommended_retention(data, days) if recommend else None,
        costs_s=data.config.costs,
        cards_now=len(data.existing),
    )


@dataclass(frozen=True)
class WorkloadCurve:
    """Minutes of study and memorised cards at the end, per desired retention (Anki's
    workload graph, ``simulate_workload``): aligned arrays over ``retentions``."""

    retentions: np.ndarray
    minutes: np.ndarray
    memorized: np.ndarray
    days: int


def workload_curve(
    db: Database,
    *,
    retentions: np.ndarray | None = None,
    days: int = 365,
    now: datetime | None = None,
    seed: int = 42,
) -> WorkloadCurve:
    """Total minutes and memorised cards after ``days`` for each desired retention."""
    _check(days, None)
    grid = np.round(np.arange(0.70, 0.991, 0.01), 2) if retentions is None else retentions
    data = inputs(db, now=now)
    minutes, memorized = [], []
    for r in grid.tolist():
        result = sim.simulate(
            data.params,
            float(r),
            data.config,
            days=days,
            new_cards=data.config.learn_limit * days,
            existing=data.existing,
            seed=seed,  # the same random numbers for every retention: a smooth curve
            track_memorized=False,
        )
        minutes.append(float(result.minutes.sum()))
        memorized.append(float(result.memorized[-1]))
    return WorkloadCurve(np.asarray(grid), np.asarray(minutes), np.asarray(memorized), days)


__all__ = [
    "RETENTION_RANGE",
    "WorkloadCurve",
    "WorkloadReport",
    "check_retention",
    "simulate",
    "workload_curve",
]
