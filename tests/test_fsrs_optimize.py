"""``studylog fsrs optimize`` and ``evaluate`` on a real review log, checked against Anki.

The real log (12,580 reviews of 1,205 cards, py-fsrs' sample, MIT) is read
from ``tests/data/reviews`` or else ``../shared/data/reviews``; the tests that
need it skip when neither is there. The same history is written into an
Anki collection (``tests/fixtures/anki_fsrs.py``) and Anki's backend computes
the items, the parameters and the log loss.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from studylog.interchange.review_log import import_review_log
from studylog.scheduling.training import EntryKind
from studylog.services import optimizer, review
from studylog.storage import fsrs_reads
from studylog.storage.engine import Database
from tests.conftest import NOW, REPO, SHARED

pytestmark = pytest.mark.both_backends

LOG_NAME = "review_logs_josh.csv"
REAL_LOGS = [REPO / "tests" / "data" / "reviews" / LOG_NAME, SHARED / "data" / "reviews" / LOG_NAME]


def real_log() -> Path:
    for path in REAL_LOGS:
        if path.is_file():
            return path
    pytest.skip(f"the real review log {LOG_NAME} is in neither tests/data/reviews nor ../shared")


@pytest.fixture
def josh(db: Database) -> Database:
    """The real review log imported into an empty collection (UTC, study days from 04:00)."""
    from studylog.services import settings

    settings.put(db, settings.TIMEZONE, "UTC")
    # Leeches only tagged: suspending the log's 3 leeches would leave their reviews
    # out of the fit (Anki's -is:suspended), and these tests fit the whole log.
    settings.put(db, "review.leech_action", "tag")
    import_review_log(db, real_log(), now=NOW)
    return db


def anki_spec(db: Database, **extra: object) -> dict[str, object]:
    with db.read() as session:
        h = fsrs_reads.load_answer_log(session).history
    return {
        "tz": "UTC",
        "day_start_hour": 4,
        "params": list(optimizer.DEFAULT_PARAMETERS),
        "entries": [
            [int(c), int(t), int(r), int(k), 1]
            for c, t, r, k in zip(h.card_ids, h.times_ms, h.ratings, h.kinds, strict=True)
        ],
        **extra,
    }


def test_evaluate_and_optimize_equal_ankis_on_the_real_log(josh):
    from tests.fixtures.anki_fsrs import anki_fsrs

    anki = anki_fsrs(anki_spec(josh, time_split=True))
    report = optimizer.evaluate(josh, now=datetime.now(UTC))
    assert report.items == anki["items"] == 6276
    assert report.current.log_loss == pytest.approx(anki["log_loss"], abs=2e-3)
    assert report.current.rmse_bins == pytest.approx(anki["rmse_bins"], abs=2e-3)
    assert report.time_split is not None
    assert report.time_split.score.log_loss == pytest.approx(
        anki["time_split"]["log_loss"], abs=2e-3
    )
    # the fit itself: the same 21 parameters as Anki's (fsrs-rs is deterministic)
    fitted = optimizer.optimize(josh, dry_run=True, now=datetime.now(UTC)).fit.fitted
    assert fitted == pytest.approx(anki["params"], abs=1e-4)


def test_optimize_saves_better_parameters_and_keeps_them_when_nothing_improves(josh):
    before = review.load_config(josh).parameters
    first = optimizer.optimize(josh, now=NOW)
    assert first.applied and first.fit.adopted
    assert first.fit.fitted_score.log_loss < first.fit.current_score.log_loss
    assert review.load_config(josh).parameters == first.fit.params != before
    assert first.rescheduled == 1205
    # fitting again on the same reviews cannot beat the parameters just fitted
    again = optimizer.optimize(josh, now=NOW)
    assert not again.fit.adopted and not again.applied
    assert review.load_config(josh).parameters == first.fit.params


def test_dry_run_saves_nothing(josh):
    before = review.load_config(josh)
    report = optimizer.optimize(josh, dry_run=True, now=NOW)
    assert report.fit.adopted and not report.applied
    assert review.load_config(josh) == before


def test_optimize_json_shape(josh, run_cli):
    # run_cli uses the same database file as the josh fixture
    result = run_cli("fsrs", "optimize", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"params", "items", "log_loss", "rmse_bins", "applied"}
    assert len(data["params"]) == 21 and data["items"] == 6276 and data["applied"] is False
    assert 0.3 < data["log_loss"] < 0.5 and 0 < data["rmse_bins"] < 0.1


def test_evaluate_json_shape_and_text(josh, run_cli):
    data = json.loads(run_cli("fsrs", "evaluate", "--json").output)
    assert set(data) == {"items", "log_loss", "rmse_bins", "default", "time_split"}
    assert set(data["default"]) == {"log_loss", "rmse_bins"}
    assert data["log_loss"] == data["default"]["log_loss"]  # nothing fitted yet
    assert data["time_split"]["log_loss"] < data["log_loss"]
    text = run_cli("fsrs", "evaluate").output
    assert "6,276 reviews of 1,174 cards" in text and "time-series split" in text


# --- bad input: one line, non-zero exit, nothing changed ---------------------------------------


def add_answered_cards(db: Database, n_cards: int, days: int) -> None:
    """Cards answered Good every third day, ``days`` times (each card gives days - 1 items)."""
    from datetime import timedelta

    from studylog.services import cards

    ids = [
        cards.create(db, f"front {i}", f"back {i}", now=NOW - timedelta(days=60))[0].id
        for i in range(n_cards)
    ]
    for day in range(days):
        for cid in ids:
            review.answer(db, cid, 3, now=NOW - timedelta(days=50 - 3 * day))


def test_no_history_says_so(db, run_cli):
    result = run_cli("fsrs", "optimize")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "no review history" in result.output and "64" in result.output
    result = run_cli("fsrs", "evaluate")
    assert result.exit_code == 1 and "no review history to evaluate" in result.output


def test_too_little_history_says_how_much_more_is_needed(db, run_cli):
    # 25 items, all kept by the outlier filter (one group of 25 >= 20: Good, 3 days)
    add_answered_cards(db, 25, 2)
    before = review.load_config(db)
    result = run_cli("fsrs", "optimize", "--deck", "Default")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "25 usable reviews, 64 needed; about 39 more" in result.output
    assert review.load_config(db) == before


def test_unknown_deck(db, run_cli):
    result = run_cli("fsrs", "optimize", "--deck", "딥러닝::없음")
    assert result.exit_code == 1 and "no deck named '딥러닝::없음'" in result.output


def test_hand_edited_parameters_out_of_bounds_are_refused(josh, run_cli):
    from studylog.services import settings

    bad = list(optimizer.DEFAULT_PARAMETERS)
    bad[3] = 500.0  # w3, an initial stability: at most 100 days
    settings.put(josh, review.K_PARAMETERS, bad)
    for command in ("optimize", "evaluate"):
        result = run_cli("fsrs", command)
        assert result.exit_code == 1
        assert result.output.count("\n") == 1
        assert "parameters[3] = 500.0 is out of bounds" in result.output
    assert settings.get(josh, review.K_PARAMETERS) == bad


def test_the_reader_maps_states_to_anki_kinds(josh):
    with josh.read() as session:
        h = fsrs_reads.load_answer_log(session).history
    import numpy as np

    first = np.r_[True, h.card_ids[1:] != h.card_ids[:-1]]
    # every imported card starts new: its first answer is a learning answer
    assert set(h.kinds[first].tolist()) == {EntryKind.LEARNING}
    assert set(h.kinds.tolist()) == {EntryKind.LEARNING, EntryKind.REVIEW, EntryKind.RELEARNING}


def test_fsrs_rs_python_is_a_bounded_dependency_and_torch_is_not():
    from importlib.metadata import requires

    wanted = [r for r in requires("studylog") if r.startswith("fsrs-rs-python")]
    assert wanted and "<" in wanted[0]
    assert not any("torch" in r for r in requires("studylog"))
