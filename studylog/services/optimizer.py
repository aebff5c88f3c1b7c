"""FSRS fitted to the learner: optimize the parameters on the review log, and evaluate them.

``optimize`` reads the review rows (:mod:`studylog.storage.fsrs_reads`), builds
the training items as Anki does (:mod:`studylog.scheduling.training`), fits
FSRS-6 with fsrs-rs and keeps the current parameters unless the new ones
lower the log loss (:mod:`studylog.scheduling.fitting`). Saved parameters
reschedule every card (:func:`studylog.services.review.configure`).

Parameters belong to a deck's preset, as in Anki: optimizing for a deck fits
the reviews of every deck that shares its preset. Until studylog has deck
presets every deck uses the collection's, so ``deck`` only checks that the
deck exists and the whole collection is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling import fitting
from studylog.scheduling.fitting import Evaluation, FitResult, TimeSplit
from studylog.scheduling.training import TrainingItems, build_training_items
from studylog.services import review
from studylog.services import settings as settings_service
from studylog.storage import fsrs_reads
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar, ensure_utc, utcnow

DEFAULT_PARAMETERS = review.SchedulerConfig().parameters
RETENTION_RANGE = (0.70, 0.99)  # what desired retention may be set to (Anki's deck options)


def check_retention(value: float) -> float:
    """``value`` if it is a desired retention studylog accepts. Raises InvalidInputError."""
    low, high = RETENTION_RANGE
    if not low <= value <= high:
        raise InvalidInputError(
            f"desired retention must be between {low:.2f} and {high:.2f} (e.g. 0.9), not {value:g}"
        )
    return float(value)


def next_day_at_ms(calendar: StudyCalendar, now: datetime) -> int:
    """Epoch ms at which the study day after ``now``'s begins (Anki's ``next_day_at``)."""
    end = calendar.end_of(calendar.day_of(now))
    return int(end.timestamp()) * 1000


@dataclass(frozen=True)
class TrainingSet:
    """The items of one fit and where they came from.

    Attributes:
        items: the training items.
        cards: cards that gave at least one item.
        scope: what was read, in words ("the collection").
        config: the scheduler settings in use (parameters, relearning steps).
    """

    items: TrainingItems
    cards: int
    scope: str
    config: review.SchedulerConfig

    @property
    def relearning_steps(self) -> int:
        """Relearning steps within a day (:func:`fitting.relearning_steps_in_day`)."""
        return fitting.relearning_steps_in_day(self.config.relearning_steps_s)


def checked_config(config: review.SchedulerConfig) -> review.SchedulerConfig:
    """``config`` if the scheduler can use it: the stored settings (parameters inside
    FSRS-6's bounds, desired retention 0.70-0.99), else InvalidInputError saying so."""
    try:
        config.validate()
        check_retention(config.desired_retention)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"the stored settings are not usable ({exc}); set them again with studylog config"
        ) from None
    return config


def training_set(
    db: Database, *, deck: str | None = None, now: datetime | None = None
) -> TrainingSet:
    """The training items of the collection (or of ``deck``'s preset) at ``now``.

    Raises:
        NotFoundError: ``deck`` has no cards.
        InvalidInputError: the stored parameters are outside FSRS-6's bounds.
    """
    moment = ensure_utc(now) if now is not None else utcnow()
    calendar = settings_service.calendar(db)
    with db.read() as session:
        if deck is not None and not fsrs_reads.deck_exists(session, deck):
            raise NotFoundError(f"no deck named {deck!r} (or it has no cards)")
        config = checked_config(review.config_in(session))
        log = fsrs_reads.load_answer_log(session)
    return training_set_of(log, config, calendar, moment, deck=deck)


def training_set_of(
    log: fsrs_reads.AnswerLog,
    config: review.SchedulerConfig,
    calendar: StudyCalendar,
    now: datetime,
    *,
    deck: str | None = None,
) -> TrainingSet:
    """The training items of a review log already read (:func:`fsrs_reads.load_answer_log`)
    at ``now`` (aware), for readers that need the log for more than the fit."""
    items = build_training_items(log.history, next_day_at_ms(calendar, now))
    scope = "the collection" if deck is None else f"deck {deck!r} (the collection's preset)"
    cards = len(set(items.card_ids.tolist()))
    return TrainingSet(items, cards, scope, config)


@dataclass(frozen=True)
class OptimizeReport:
    """What ``studylog fsrs optimize`` did.

    Attributes:
        fit: the fit and Anki's keep decision.
        items: training items; cards: cards they came from.
        applied: the new parameters were saved (and every card rescheduled).
        dry_run: nothing was saved on purpose.
        rescheduled: cards whose schedule was recomputed (0 unless applied).
        scope: what was fitted, in words.
    """

    fit: FitResult
    items: int
    cards: int
    applied: bool
    dry_run: bool
    rescheduled: int
    scope: str

    def to_json(self) -> dict[str, Any]:
        """``{"params": [21 floats], "items", "log_loss", "rmse_bins", "applied"}``.

        ``params``, ``log_loss`` and ``rmse_bins`` are those of the parameters in
        use afterwards (the fitted ones if they won, else the current ones);
        with ``--dry-run``, of the ones that would be.
        """
        score = self.fit.score
        return {
            "params": list(self.fit.params),
            "items": self.items,
            "log_loss": score.log_loss,
            "rmse_bins": score.rmse_bins,
            "applied": self.applied,
        }


def optimize(
    db: Database,
    *,
    deck: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> OptimizeReport:
    """Fit FSRS-6 to the review history; save the result if it lowers the log loss.

    Raises:
        InvalidInputError: too little history (the message says how much more
            is needed), stored parameters outside FSRS-6's bounds.
        NotFoundError: unknown deck.
    """
    data = training_set(db, deck=deck, now=now)
    fit = fitting.fit(
        data.items,
        data.config.parameters,
        num_relearning_steps=data.relearning_steps,
        where=data.scope,
    )
    applied = False
    rescheduled = 0
    if fit.adopted and not dry_run:
        _, summary = review.configure(db, parameters=fit.params)
        applied = True
        rescheduled = summary.cards if summary is not None else 0
    return OptimizeReport(
        fit=fit,
        items=len(data.items),
        cards=data.cards,
        applied=applied,
        dry_run=dry_run,
        rescheduled=rescheduled,
        scope=data.scope,
    )


@dataclass(frozen=True)
class EvaluateReport:
    """What ``studylog fsrs evaluate`` found.

    Attributes:
        items, cards: training items and the cards they came from.
        current: score of the parameters in use.
        default: score of FSRS-6's default parameters on the same items.
        time_split: fit on the past, score the future (None below 301 items).
        params: the parameters in use.
    """

    items: int
    cards: int
    current: Evaluation
    default: Evaluation
    time_split: TimeSplit | None
    params: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        """``{"items", "log_loss", "rmse_bins", "default": {...}, "time_split": {...} | null}``."""
        return {
            "items": self.items,
            "log_loss": self.current.log_loss,
            "rmse_bins": self.current.rmse_bins,
            "default": self.default.to_json(),
            "time_split": self.time_split.to_json() if self.time_split is not None else None,
        }


def evaluate(
    db: Database, *, now: datetime | None = None, time_split: bool = True
) -> EvaluateReport:
    """Score the current and the default parameters on the collection's items.

    Raises:
        InvalidInputError: no review history, stored parameters outside FSRS-6's bounds.
    """
    data = training_set(db, now=now)
    if not len(data.items):
        raise InvalidInputError(
            "no review history to evaluate FSRS on: answer cards on at least two different days"
        )
    converted = data.items.to_fsrs()
    current = fitting.evaluate(data.items, data.config.parameters, fsrs_items=converted)
    default = fitting.evaluate(data.items, DEFAULT_PARAMETERS, fsrs_items=converted)
    split = (
        fitting.time_series_split(data.items, num_relearning_steps=data.relearning_steps)
        if time_split
        else None
    )
    return EvaluateReport(
        items=len(data.items),
        cards=data.cards,
        current=current,
        default=default,
        time_split=split,
        params=data.config.parameters,
    )


__all__ = [
    "EvaluateReport",
    "OptimizeReport",
    "RETENTION_RANGE",
    "TrainingSet",
    "check_retention",
    "checked_config",
    "evaluate",
    "next_day_at_ms",
    "optimize",
    "training_set",
]
