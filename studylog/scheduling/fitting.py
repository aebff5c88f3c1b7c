"""Fitting and scoring FSRS-6 parameters with fsrs-rs (``fsrs-rs-python``), as Anki does.

fsrs-rs is the open-spaced-repetition Rust implementation that Anki itself
links (``rslib/src/scheduler/fsrs/params.rs``); this module calls it with the
settings Anki uses and applies Anki's rules around it:

- training: 8 epochs (Anki's ``TrainingConfig { num_epochs: 8 }``), short-term
  (same-day) reviews modelled, the number of relearning steps that fit in one
  day (Anki's deck options count them: :func:`relearning_steps_in_day`), card
  ids passed so that fsrs-rs batches each card's items together;
- keep rule (``Collection::compute_params``): the fitted parameters replace
  the current ones only if their log loss on the same items is lower; with
  more than one relearning step a tie may still switch when the current
  parameters would let a lapse raise stability (:func:`_current_is_unsafe`);
- scores (``FSRS::evaluate``): log loss weighted towards recent items and
  RMSE over Anki's bins (interval, review count, lapses);
- time-series split (``evaluate_with_time_series_splits``): five folds, each
  fitted on the items before it and scored on the next segment; Anki runs it
  as a "health check" above 300 items and calls the fit good when the
  adjusted log loss <= 1.11 or the adjusted RMSE <= 1.53.

Parameters come back from fsrs-rs as 32-bit floats; they are rounded to 6
decimals so that a value fsrs-rs clamped to a bound (0.8 as f32 is
0.800000011920929) is inside the ``fsrs`` package's bounds again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studylog.errors import InvalidInputError
from studylog.scheduling.training import TrainingItems, outlier_split

if TYPE_CHECKING:
    import fsrs_rs_python

NUM_EPOCHS = 8  # Anki's compute_params and evaluate_params
MIN_TRAIN_ITEMS = 64  # fsrs-rs fits only the initial stabilities below this (training.rs)
HEALTH_CHECK_ITEMS = 300  # Anki runs the time-series split above this many items
TIME_SPLIT_FOLDS = 5
DAY_MINUTES = 1440


def relearning_steps_in_day(relearning_steps_s: Sequence[int]) -> int:
    """How many relearning steps fall within one day, as Anki's deck options count them.

    Steps are added up in minutes (``FsrsOptions.svelte``: the count stops
    when the running total reaches 1440 minutes).
    """
    total = 0.0
    count = 0
    for seconds in relearning_steps_s:
        total += seconds / 60
        if total >= DAY_MINUTES:
            break
        count += 1
    return count


@dataclass(frozen=True)
class Evaluation:
    """How well parameters predict recall on a set of items.

    Attributes:
        log_loss: recency-weighted binary cross-entropy (nats), lower is better.
        rmse_bins: RMSE between predicted and actual recall over Anki's bins (0-1).
    """

    log_loss: float
    rmse_bins: float

    def to_json(self) -> dict[str, float]:
        return {"log_loss": self.log_loss, "rmse_bins": self.rmse_bins}


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes:
        fitted: the parameters fsrs-rs found (21 floats).
        current: the parameters in use before.
        params: what to use from now on: ``fitted`` if it scores a lower log
            loss than ``current`` (Anki's rule), else ``current``.
        fitted_score, current_score: both scored on the same items.
        adopted: ``params`` is ``fitted``.
    """

    fitted: tuple[float, ...]
    current: tuple[float, ...]
    params: tuple[float, ...]
    fitted_score: Evaluation
    current_score: Evaluation
    adopted: bool

    @property
    def score(self) -> Evaluation:
        """The score of :attr:`params`."""
        return self.fitted_score if self.adopted else self.current_score


@dataclass(frozen=True)
class TimeSplit:
    """The time-series split: every fold fitted on the past and scored on the next segment.

    Attributes:
        score: log loss and RMSE(bins) over all scored segments together.
        folds: number of folds (5).
        items_scored: items in the scored segments.
        good_fit: Anki's health check (adjusted log loss <= 1.11 or adjusted RMSE <= 1.53).
    """

    score: Evaluation
    folds: int
    items_scored: int
    good_fit: bool

    def to_json(self) -> dict[str, object]:
        return {
            **self.score.to_json(),
            "folds": self.folds,
            "items_scored": self.items_scored,
            "good_fit": self.good_fit,
        }


def trainable_count(items: TrainingItems) -> int:
    """Items left for training after fsrs-rs's outlier filter."""
    return int(outlier_split(items).train.sum()) if len(items) else 0


def check_enough(items: TrainingItems, *, where: str = "the collection") -> int:
    """The trainable item count. Raises InvalidInputError saying how much more is needed.

    Each review made a study day or more after the card's previous review adds
    about one item, so the shortfall is given in those reviews.
    """
    n = trainable_count(items)
    if n < MIN_TRAIN_ITEMS:
        if not len(items):
            raise InvalidInputError(
                f"no review history to fit FSRS to in {where}: answer cards on at least two "
                f"different days ({MIN_TRAIN_ITEMS} reviews a day or more after the previous one "
                "are needed)"
            )
        raise InvalidInputError(
            f"not enough review history in {where} to optimize FSRS: {n} usable reviews, "
            f"{MIN_TRAIN_ITEMS} needed; about {MIN_TRAIN_ITEMS - n} more reviews made a day or "
            "more after the card's previous review"
        )
    return n


def _model(params: Sequence[float]) -> fsrs_rs_python.FSRS:
    import fsrs_rs_python as fsrs_rs

    try:
        return fsrs_rs.FSRS(list(params))
    except ValueError as exc:
        raise InvalidInputError(f"FSRS parameters rejected by fsrs-rs: {exc}") from None


def _training_config() -> fsrs_rs_python.TrainingConfig:
    import fsrs_rs_python as fsrs_rs

    return fsrs_rs.TrainingConfig(num_epochs=NUM_EPOCHS)


def evaluate(
    items: TrainingItems,
    params: Sequence[float],
    *,
    fsrs_items: list[fsrs_rs_python.FSRSItem] | None = None,
) -> Evaluation:
    """Score ``params`` on ``items`` (fsrs-rs ``FSRS::evaluate``, Anki's "Evaluate").

    ``fsrs_items``: the same items already converted (:meth:`TrainingItems.to_fsrs`).
    Raises InvalidInputError for no items or parameters fsrs-rs rejects.
    """
    if not len(items):
        raise InvalidInputError("no review history to evaluate FSRS on")
    converted = fsrs_items if fsrs_items is not None else items.to_fsrs()
    result = _model(params).evaluate(converted)
    return Evaluation(float(result.log_loss), float(result.rmse_bins))


def rounded(params: Sequence[float]) -> tuple[float, ...]:
    """fsrs-rs's f32 parameters as floats rounded to 6 decimals (see the module docstring)."""
    return tuple(round(float(w), 6) for w in params)


def _current_is_unsafe(current: Sequence[float], num_relearning_steps: int) -> bool:
    """Anki's extra check when the fit is not better: whether the current parameters
    let ``num_relearning_steps`` same-day Good answers after a lapse end above the
    stability before the lapse (``compute_params``: ``s_short_term >= 1``)."""
    import fsrs_rs_python as fsrs_rs

    model = _model(current)
    state = fsrs_rs.MemoryState(1.0, 1.0)
    short = model.next_states(state, 0.9, 2).again.memory
    for _ in range(num_relearning_steps):
        short = model.next_states(short, 0.9, 0).good.memory
    return short.stability >= state.stability


def fit(
    items: TrainingItems,
    current: Sequence[float],
    *,
    num_relearning_steps: int = 1,
    where: str = "the collection",
) -> FitResult:
    """Fit FSRS-6 to ``items`` with fsrs-rs and apply Anki's keep rule.

    Args:
        items: training items (:func:`studylog.scheduling.training.build_training_items`).
        current: the 21 parameters in use now.
        num_relearning_steps: relearning steps within a day (:func:`relearning_steps_in_day`).
        where: what the items came from, for the "not enough history" message.
    Raises:
        InvalidInputError: too little history (:func:`check_enough`), or
            parameters fsrs-rs rejects.
    """
    check_enough(items, where=where)
    converted = items.to_fsrs()
    import fsrs_rs_python as fsrs_rs

    try:
        raw = fsrs_rs.FSRS(list(fsrs_rs.DEFAULT_PARAMETERS)).compute_parameters(
            converted,
            card_ids=items.card_ids.tolist(),
            enable_short_term=True,
            num_relearning_steps=num_relearning_steps,
            training_config=_training_config(),
        )
    except ValueError as exc:
        raise InvalidInputError(f"fsrs-rs could not fit these reviews: {exc}") from None
    fitted = rounded(raw)
    current = tuple(float(w) for w in current)
    fitted_score = evaluate(items, fitted, fsrs_items=converted)
    current_score = evaluate(items, current, fsrs_items=converted)
    adopted = fitted_score.log_loss < current_score.log_loss
    if not adopted and num_relearning_steps > 1:
        adopted = _current_is_unsafe(current, num_relearning_steps)
    return FitResult(
        fitted=fitted,
        current=current,
        params=fitted if adopted else current,
        fitted_score=fitted_score,
        current_score=current_score,
        adopted=adopted,
    )


def _log_loss_adjustment(r: float) -> float:
    return 0.623 * (4.0 * r * (1.0 - r)) ** 0.738


def _rmse_adjustment(r: float, count: int) -> float:
    return 0.0135 / (r**0.504 - 1.14) + 0.176 / ((count / 1000.0) ** 0.825 + 2.22) + 0.101


def time_series_split(items: TrainingItems, *, num_relearning_steps: int = 1) -> TimeSplit | None:
    """fsrs-rs's time-series split (Anki's health check); None with too few items.

    Needs more than :data:`HEALTH_CHECK_ITEMS` items, as Anki's health check.
    """
    n = len(items)
    if n <= HEALTH_CHECK_ITEMS:
        return None
    import fsrs_rs_python as fsrs_rs

    try:
        result = fsrs_rs.evaluate_with_time_series_splits(
            items.to_fsrs(),
            card_ids=items.card_ids.tolist(),
            enable_short_term=True,
            num_relearning_steps=num_relearning_steps,
            training_config=_training_config(),
        )
    except ValueError:
        return None
    score = Evaluation(float(result.log_loss), float(result.rmse_bins))
    r = float(items.labels().mean())
    adjusted_loss = score.log_loss / _log_loss_adjustment(r) if 0 < r < 1 else math.inf
    adjusted_rmse = score.rmse_bins / _rmse_adjustment(r, n)
    segment = n // (TIME_SPLIT_FOLDS + 1)
    return TimeSplit(
        score=score,
        folds=TIME_SPLIT_FOLDS,
        items_scored=n - segment,
        good_fit=adjusted_loss <= 1.11 or adjusted_rmse <= 1.53,
    )


__all__ = [
    "Evaluation",
    "FitResult",
    "TimeSplit",
    "check_enough",
    "evaluate",
    "fit",
    "relearning_steps_in_day",
    "time_series_split",
    "trainable_count",
]
