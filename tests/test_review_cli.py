"""``studylog review``, ``studylog stats`` and ``studylog import FILE.csv`` on a real database file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from studylog.cli import cli
from studylog.services import cards, settings
from studylog.storage.models import Card, Review
from tests.conftest import REVIEW_LOG

pytestmark = pytest.mark.both_backends

JOSH = REVIEW_LOG  # the real review log, shipped in tests/data/reviews
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # the fixed clock of run_cli


@pytest.fixture
def two_cards(db, run_cli) -> list[int]:
    """Two cards of ours, alone in the queue (the built-in pack's cards are suspended)."""
    run_cli("card", "list", "--limit", "1")  # first use: creates the database and syncs the pack
    settings.put(db, settings.TIMEZONE, "UTC")
    with db.write() as s:
        s.execute(update(Card).values(suspended=True))
    made = [
        cards.create(
            db, f"What is {word}?", f"{word} answer", now=NOW - timedelta(days=1, minutes=-i)
        )[0].id
        for i, word in enumerate(("softmax", "ReLU"))
    ]
    return made


def state(db, card_id: int) -> tuple:
    with db.read() as s:
        c = s.get(Card, card_id)
        return c.state, c.step, c.reps, c.suspended


def reviews(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(Review.id)))


def test_review_shows_front_then_back_with_intervals_and_saves_each_answer(db, run_cli, two_cards):
    first, second = two_cards
    result = run_cli("review", input="\n3\n\n4\n")
    out = result.output
    assert result.exit_code == 0
    assert out.index("What is softmax?") < out.index("softmax answer") < out.index("What is ReLU?")
    assert "1 Again 1m" in out and "2 Hard 6m" in out and "3 Good 10m" in out
    assert "Good: next in 10m." in out
    assert state(db, first) == (1, 1, 1, False)  # learning, second step
    assert state(db, second)[0] == 2 and state(db, second)[2] == 1  # Easy: review
    assert reviews(db) == 2
    # input ended while the learning card was shown again (learn-ahead): nothing more written
    assert out.count("What is softmax?") == 2
    assert "Reviewed 2 cards" in out and "Good 1, Easy 1" in out


def test_undo_restores_the_card_and_removes_the_answer(db, run_cli, two_cards):
    first, _ = two_cards
    result = run_cli("review", input="\n1\nu\nq\n")
    assert "Undid the answer to card" in result.output
    assert state(db, first) == (1, 0, 0, False)
    assert reviews(db) == 0
    assert "Reviewed" not in result.output


def test_suspend_bury_quit_and_unknown_keys(db, run_cli, two_cards):
    first, second = two_cards
    result = run_cli("review", input="x\ns\nb\n")
    assert result.exit_code == 0
    assert state(db, first)[3] is True
    with db.read() as s:
        assert s.get(Card, second).buried_until is not None
    assert "Nothing more is due today." in result.output
    assert reviews(db) == 0


def test_grades_outside_1_to_4_are_not_accepted(db, run_cli, two_cards):
    first, _ = two_cards
    result = run_cli("review", input="\n9\n0\n2\nq\n")
    assert result.output.count("1-4 to answer") == 2
    assert state(db, first)[:3] == (1, 0, 1)  # Hard keeps step 0
    assert reviews(db) == 1


def test_stats_json_and_table(db, run_cli, two_cards):
    run_cli("review", input="\n3\n\n1\n")
    doc = json.loads(run_cli("stats", "--json").output)
    for key in (
        "reviews_per_day",
        "streak",
        "forecast",
        "true_retention",
        "counts",
        "total_knowledge",
        "log_loss",
        "rmse",
    ):
        assert key in doc
    assert doc["reviews_per_day"]["2026-11-21"] == 2 and doc["streak"] == 1
    assert doc["counts"]["learning"] == 2 and doc["log_loss"] is None
    table = run_cli("stats").output
    assert "True retention" in table and "streak 1 day" in table


def test_import_review_log_through_the_main_cli(db, run_cli):
    out = run_cli("import", str(JOSH)).output
    assert "review_logs_josh.csv: 12,580 rows, 1,205 cards (2024-03-29 to 2024-10-06)." in out
    assert "Added 1,205 new cards and 12,580 reviews." in out
    again = run_cli("import", str(JOSH)).output
    assert "Added 0 new cards and 0 reviews." in again and "Skipped 12,580 reviews" in again
    dry = run_cli("import", "--dry-run", str(JOSH)).output
    assert "Would add 0 new cards" in dry
    with db.read() as s:
        assert s.scalar(select(func.count(Review.id))) == 12_580


def test_import_of_a_bad_file_names_the_line_and_exits_non_zero(db, run_cli, tmp_path):
    bad = tmp_path / "review_logs.csv"
    bad.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "1,3,2024-03-29T20:32:32+00:00,10\n"
        "1,5,2024-03-30T20:32:32+00:00,10\n"
    )
    result = run_cli("import", str(bad))
    assert result.exit_code == 1
    assert "review_logs.csv:3: unknown rating '5'" in result.output
    with db.read() as s:
        assert s.scalar(select(func.count(Review.id))) == 0
        assert s.scalar(select(func.count(Card.id)).where(Card.origin == "import")) == 0


def test_stats_days_counts_only_the_period(db, run_cli, monkeypatch):
    # The real log runs 2024-03-29 to 2024-10-06; a year up to 2025-06-01 leaves out
    # its first two months, so the period has fewer inter-day answers than the whole history.
    run_cli("import", str(JOSH))
    monkeypatch.setenv("STUDYLOG_NOW", "2025-06-01T10:00:00+00:00")
    whole = json.loads(run_cli("stats", "--json").output)
    year = json.loads(run_cli("stats", "--json", "--days", "365").output)
    assert whole["period_days"] is None and year["period_days"] == 365
    assert whole["inter_day_reviews"] == 5_329  # tests/test_stats.py counts these with fsrs
    assert 0 < year["inter_day_reviews"] < whole["inter_day_reviews"]
    assert year["counts"] == whole["counts"]  # the cards' figures do not depend on it
    assert "last 365 study days only" in run_cli("stats", "--days", "365").output
    refused = CliRunner().invoke(cli, ["stats", "--days", "30"])
    assert refused.exit_code == 2 and "30 is not in the range x>=365" in refused.output
