"""FSRS memory statistics: histograms, memorised cards over time, RMSE(bins) in ``stats --json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import fsrs
import numpy as np
import pytest

from studylog.services import memory_stats, optimizer, review, stats
from tests.conftest import NOW
from tests.test_fsrs_optimize import josh  # noqa: F401 - the real-log fixture

pytestmark = pytest.mark.both_backends


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_memorised_per_day_equals_the_fsrs_package_card_by_card():
    """Three cards' histories summed per moment, against fsrs.Scheduler.get_card_retrievability."""
    scheduler = fsrs.Scheduler()
    p = review.SchedulerConfig().params()
    t0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
    rows = [  # (card, time, stability after)
        (1, t0, 2.5),
        (1, t0 + timedelta(days=3, hours=2), 9.0),
        (2, t0 + timedelta(days=1), 1.2),
        (2, t0 + timedelta(days=2), float("nan")),  # a reset: no memory after it
        (3, t0 + timedelta(days=5, hours=20), 30.0),
    ]
    moments = [t0 + timedelta(days=k, hours=19) for k in range(12)]
    got = memory_stats.memorised_per_day(
        np.array([r[0] for r in rows]),
        np.array([_ms(r[1]) for r in rows]),
        np.array([r[2] for r in rows]),
        np.array([_ms(m) for m in moments]),
        p,
    )
    for k, moment in enumerate(moments):
        expected = 0.0
        for card in (1, 2, 3):
            before = [r for r in rows if r[0] == card and r[1] <= moment]
            if before and not np.isnan(before[-1][2]):
                last = before[-1]
                c = fsrs.Card(state=fsrs.State.Review, stability=last[2], difficulty=5.0)
                c.last_review = last[1]
                expected += scheduler.get_card_retrievability(c, moment)
        assert got[k] == pytest.approx(expected, abs=1e-9), k
    assert got[0] > 0 and got[2] < got[1] + 1  # something to compare, and the reset counted as 0


def test_histograms_put_values_in_their_bins():
    d, s, r = memory_stats.histograms(
        np.array([1.0, 5.5, 10.0, 9.99]),
        np.array([0.5, 6.9, 7.0, 4000.0]),
        np.array([0.0, 0.049, 0.95, 1.0]),
    )
    assert d.counts == [1, 0, 0, 0, 0, 1, 0, 0, 0, 2]  # (D-1)/9: 0, 0.5, 1, 0.999
    assert s.labels[4:6] == ["5d-1w", "1w-2w"] and s.labels[-1] == "5y+"
    assert s.counts[0] == 1 and s.counts[4] == 1 and s.counts[5] == 1 and s.counts[-1] == 1
    assert r.counts[0] == 2 and r.counts[19] == 2 and sum(r.counts) == 4


def test_on_the_real_log_memorised_now_is_the_total_knowledge_and_rmse_is_evaluates(josh):  # noqa: F811
    now = NOW + timedelta(days=400)  # after the log's last review
    m = memory_stats.memory_stats(josh, now=now, days=30)
    s = stats.collection_stats(josh, now=now)
    assert len(m.memorised) == 30 and m.memorised[-1][0] == s.today
    assert m.memorised[-1][1] == pytest.approx(s.total_knowledge, rel=1e-9)
    # retrievability only falls when nothing is reviewed
    values = [v for _, v in m.memorised]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    assert m.retrievability.counts == s.retrievability_histogram
    assert sum(m.difficulty.counts) == sum(m.stability.counts) == 1205
    e = optimizer.evaluate(josh, now=now, time_split=False)
    assert m.items == e.items == 6276
    assert m.rmse_bins == pytest.approx(e.current.rmse_bins, abs=1e-6)  # fsrs-rs: f32


def test_stats_json_gains_the_fsrs_keys(josh, run_cli):  # noqa: F811
    data = json.loads(run_cli("stats", "--json").output)
    for key in ("rmse_bins", "difficulty_histogram", "stability_histogram", "memorised_per_day"):
        assert key in data
    assert 0 < data["rmse_bins"] < 0.2
    assert len(data["difficulty_histogram"]["counts"]) == 10
    assert len(data["memorised_per_day"]) == memory_stats.MEMORISED_DAYS
    assert "retrievability_histogram" in data and "rmse" in data  # the old keys stay


def test_an_empty_collection_has_empty_memory_stats(db):
    m = memory_stats.memory_stats(db, now=NOW, days=10)
    assert m.rmse_bins is None and m.items == 0
    assert sum(m.difficulty.counts) == 0 and [v for _, v in m.memorised] == [0.0] * 10
