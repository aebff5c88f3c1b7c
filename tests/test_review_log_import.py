"""Importing the real py-fsrs review log: card states equal ``Scheduler.reschedule_card``."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import fsrs
import pytest
from sqlalchemy import func, select

from studylog.errors import InvalidInputError
from studylog.interchange.review_log import import_review_log, parse_review_log
from studylog.scheduling import fuzz
from studylog.services import review, settings
from studylog.storage.models import Card, Review
from tests.conftest import REVIEW_LOG

pytestmark = pytest.mark.both_backends

JOSH = REVIEW_LOG  # the real review log, shipped in tests/data/reviews
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def package_logs() -> dict[str, list[fsrs.ReviewLog]]:
    """The log read independently with the csv module, as py-fsrs ReviewLog objects."""
    logs: dict[str, list[fsrs.ReviewLog]] = defaultdict(list)
    with JOSH.open(newline="") as handle:
        for row in csv.DictReader(handle):
            logs[row["card_id"]].append(
                fsrs.ReviewLog(
                    card_id=int(row["card_id"]),
                    rating=fsrs.Rating(int(row["review_rating"])),
                    review_datetime=datetime.fromisoformat(row["review_time"]),
                    review_duration=int(row["review_duration"]),
                )
            )
    return logs


FIELDS = (
    "id",
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
    "suspended",
    "origin",
    "created_at",
)


def cards_by_external_id(db) -> dict[str, SimpleNamespace]:
    """Plain snapshots of the stored cards (the read session expires ORM objects)."""
    with db.read() as s:
        return {
            c.external_id: SimpleNamespace(**{f: getattr(c, f) for f in FIELDS})
            for c in s.scalars(select(Card))
        }


def counts(db) -> tuple[int, int]:
    with db.read() as s:
        return s.scalar(select(func.count(Card.id))), s.scalar(select(func.count(Review.id)))


@pytest.fixture
def utc_db(db):
    settings.put(db, settings.TIMEZONE, "UTC")
    return db


def test_real_log_without_fuzz_equals_reschedule_card_for_every_card(utc_db):
    review.configure(utc_db, enable_fuzzing=False)
    summary = import_review_log(utc_db, JOSH, now=NOW)
    assert (summary.rows, summary.cards_in_file, summary.cards_created) == (12_580, 1_205, 1_205)
    assert (summary.reviews_added, summary.reviews_skipped, summary.cards_updated) == (12_580, 0, 0)
    assert summary.first_review.date().isoformat() == "2024-03-29"
    assert summary.last_review.date().isoformat() == "2024-10-06"
    assert counts(utc_db) == (1_205, 12_580)

    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    stored = cards_by_external_id(utc_db)
    for ext, logs in package_logs().items():
        want = scheduler.reschedule_card(fsrs.Card(card_id=int(ext)), logs)
        got = stored[ext]
        assert (got.state, got.step, got.due, got.last_review) == (
            int(want.state),
            want.step,
            want.due,
            want.last_review,
        )
        assert got.stability == pytest.approx(want.stability, rel=1e-9)
        assert got.difficulty == pytest.approx(want.difficulty, rel=1e-9)
        assert got.reps == len(logs)
        assert got.origin == "import" and got.created_at == min(log.review_datetime for log in logs)


def test_review_rows_replay_the_history(utc_db):
    """Each row's state before/after chains, and the row count per card matches the file."""
    review.configure(utc_db, enable_fuzzing=False)
    import_review_log(utc_db, JOSH, now=NOW)
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    logs = package_logs()
    sample = sorted(logs)[::40]  # ~30 cards, checked review by review
    with utc_db.read() as s:
        for ext in sample:
            card_id = s.scalar(select(Card.id).where(Card.external_id == ext))
            rows = s.scalars(
                select(Review).where(Review.card_id == card_id).order_by(Review.reviewed_at)
            ).all()
            card = fsrs.Card(card_id=int(ext))
            for row, log in zip(
                rows, sorted(logs[ext], key=lambda x: x.review_datetime), strict=True
            ):
                assert (row.rating, row.reviewed_at, row.duration_ms) == (
                    int(log.rating),
                    log.review_datetime,
                    log.review_duration,
                )
                assert (row.state_before, row.last_review_before) == (
                    int(card.state),
                    card.last_review,
                )
                if card.stability is None:
                    assert row.stability_before is None
                else:
                    assert row.stability_before == pytest.approx(card.stability, rel=1e-9)
                card, _ = scheduler.review_card(card, log.rating, log.review_datetime)
                assert (row.state_after, row.due_after) == (int(card.state), card.due)
                assert row.stability_after == pytest.approx(card.stability, rel=1e-9)
        # 5,329 inter-day reviews (elapsed >= 1 day), as the shared README measured with fsrs 6.3
        inter_day = sum(
            1
            for at, before in s.execute(select(Review.reviewed_at, Review.last_review_before))
            if before is not None and (at - before).days >= 1
        )
    assert inter_day == 5_329


def test_lapses_count_again_on_review_cards(utc_db):
    review.configure(utc_db, enable_fuzzing=False)
    import_review_log(utc_db, JOSH, now=NOW)
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    stored = cards_by_external_id(utc_db)
    for ext, logs in list(package_logs().items())[::10]:
        card, lapses = fsrs.Card(card_id=int(ext)), 0
        for log in sorted(logs, key=lambda x: x.review_datetime):
            lapses += card.state == fsrs.State.Review and log.rating == fsrs.Rating.Again
            card, _ = scheduler.review_card(card, log.rating, log.review_datetime)
        assert stored[ext].lapses == lapses
    assert max(c.lapses for c in stored.values()) == 8


def test_with_fuzz_the_due_is_the_seeded_fuzz_of_the_package_interval(utc_db):
    import_review_log(utc_db, JOSH, now=NOW)  # default settings: fuzz on
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    stored = cards_by_external_id(utc_db)
    fuzzed = 0
    for ext, logs in list(package_logs().items())[::5]:
        want = scheduler.reschedule_card(fsrs.Card(card_id=int(ext)), logs)
        got = stored[ext]
        assert got.stability == pytest.approx(want.stability, rel=1e-9)
        if want.state == fsrs.State.Review:
            days = (want.due - want.last_review).days
            u = fuzz.fuzz_unit(got.id, len(logs))
            assert got.due == want.last_review + timedelta(days=fuzz.fuzzed_day(days, u, 36500))
            fuzzed += got.due != want.due
        else:
            assert got.due == want.due
    assert fuzzed > 50


def test_importing_again_adds_nothing(utc_db):
    first = import_review_log(utc_db, JOSH, now=NOW)
    with utc_db.read() as s:
        before = [tuple(r) for r in s.execute(select(Card.id, Card.due, Card.stability, Card.reps))]
    again = import_review_log(utc_db, JOSH, now=NOW + timedelta(days=1))
    assert first.reviews_added == 12_580
    assert (
        again.cards_created,
        again.cards_updated,
        again.reviews_added,
        again.reviews_skipped,
    ) == (0, 0, 0, 12_580)
    with utc_db.read() as s:
        assert [
            tuple(r) for r in s.execute(select(Card.id, Card.due, Card.stability, Card.reps))
        ] == before
    assert counts(utc_db) == (1_205, 12_580)


def test_a_longer_export_adds_only_new_reviews_and_rebuilds_the_card(utc_db, tmp_path):
    review.configure(utc_db, enable_fuzzing=False)
    lines = JOSH.read_text().splitlines()
    header, body = lines[0], lines[1:]
    early = tmp_path / "early.csv"
    early.write_text("\n".join([header, *body[:6000]]) + "\n")
    import_review_log(utc_db, early, now=NOW)
    summary = import_review_log(utc_db, JOSH, now=NOW)
    assert summary.reviews_added == 12_580 - 6000 and summary.reviews_skipped == 6000
    assert summary.cards_updated > 0
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    stored = cards_by_external_id(utc_db)
    for ext, logs in list(package_logs().items())[::7]:
        want = scheduler.reschedule_card(fsrs.Card(card_id=int(ext)), logs)
        assert (stored[ext].due, stored[ext].reps) == (want.due, len(logs))
        assert stored[ext].stability == pytest.approx(want.stability, rel=1e-9)


def test_dry_run_writes_nothing(utc_db):
    summary = import_review_log(utc_db, JOSH, dry_run=True)
    assert summary.dry_run and summary.cards_created == 1_205 and summary.reviews_added == 12_580
    assert counts(utc_db) == (0, 0)


GOOD = (
    "card_id,review_rating,review_time,review_duration\n1,3,2024-03-29T20:32:32.250000+00:00,1000\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "review_logs.csv: empty file"),
        (
            "card_id,review_time\n1,2024-03-29T20:32:32+00:00\n",
            "review_logs.csv:1: missing column(s) review_rating",
        ),
        (GOOD + "2,5,2024-03-29T20:33:00+00:00,10\n", "review_logs.csv:3: unknown rating '5'"),
        (
            GOOD + "2,Good,2024-03-29T20:33:00+00:00,10\n",
            "review_logs.csv:3: unknown rating 'Good'",
        ),
        (GOOD + "2,3,yesterday,10\n", "review_logs.csv:3: unparsable review_time 'yesterday'"),
        (
            GOOD + "2,3,2024-03-29T20:33:00,10\n",
            "review_logs.csv:3: review_time '2024-03-29T20:33:00' has no UTC offset",
        ),
        (GOOD + "2,3,2024-02-30T20:33:00+00:00,10\n", "review_logs.csv:3: unparsable review_time"),
        (GOOD + ",3,2024-03-29T20:33:00+00:00,10\n", "review_logs.csv:3: missing card_id"),
        (
            GOOD + "2,3,2024-03-29T20:33:00+00:00,-4\n",
            "review_logs.csv:3: bad review_duration '-4'",
        ),
        (GOOD + "2,3,2024-03-29T20:33:00+00:00,10,extra\n", "review_logs.csv:3: too many fields"),
        (
            GOOD + "1,1,2024-03-29T20:32:32.250000+00:00,9\n",
            "review_logs.csv:3: card 1 has rating 3 at the same time on line 2",
        ),
    ],
)
def test_bad_files_name_the_line_and_write_nothing(utc_db, tmp_path, text, message):
    path = tmp_path / "review_logs.csv"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as caught:
        import_review_log(utc_db, path)
    assert str(caught.value).startswith(message)
    assert counts(utc_db) == (0, 0)


def test_an_error_deep_in_a_real_file_writes_nothing(utc_db, tmp_path):
    path = tmp_path / "review_logs.csv"
    shutil.copy(JOSH, path)
    lines = path.read_text().splitlines()
    lines[9000] = (
        lines[9000].replace(",3,", ",7,", 1)
        if ",3," in lines[9000]
        else lines[9000].replace(",1,", ",7,", 1)
    )
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidInputError, match=r"^review_logs.csv:9001: unknown rating '7'"):
        import_review_log(utc_db, path)
    assert counts(utc_db) == (0, 0)


def test_parse_accepts_blank_lines_bom_and_empty_duration(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(("\ufeff" + GOOD + "\n2,4,2024-03-30T01:00:00Z,\n").encode())
    rows = parse_review_log(path)
    assert [(r.line, r.card_id, r.rating, r.duration_ms) for r in rows] == [
        (2, "1", 3, 1000),
        (4, "2", 4, None),
    ]
    assert rows[1].time == datetime(2024, 3, 30, 1, tzinfo=UTC)


# --- cards without text, the deck, the queue, the leech rule (issue 12, item 6) ---------------


def package_lapses() -> dict[str, int]:
    """Lapses per card id from the package's scheduler (Again on a Review card)."""
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    out = {}
    for ext, logs in package_logs().items():
        card, lapses = fsrs.Card(card_id=int(ext)), 0
        for log in sorted(logs, key=lambda x: x.review_datetime):
            lapses += card.state == fsrs.State.Review and log.rating == fsrs.Rating.Again
            card, _ = scheduler.review_card(card, log.rating, log.review_datetime)
        out[ext] = lapses
    return out


def tag_names(db) -> dict[str, set[str]]:
    with db.read() as s:
        return {c.external_id: {t.name for t in c.tags} for c in s.scalars(select(Card))}


def test_leech_rule_applies_to_imported_history(utc_db):
    review.configure(utc_db, enable_fuzzing=False)
    summary = import_review_log(utc_db, JOSH, now=NOW)
    want = {ext for ext, n in package_lapses().items() if n >= 8}  # default threshold 8
    assert len(want) == 3 and summary.leeches == 3
    stored, tags = cards_by_external_id(utc_db), tag_names(utc_db)
    assert {ext for ext, c in stored.items() if c.suspended} == want
    assert {ext for ext, names in tags.items() if "leech" in names} == want


def test_leech_action_tag_only_tags_and_a_lower_threshold_finds_more(utc_db):
    settings.put(utc_db, "review.leech_action", "tag")
    review.set_limits(utc_db, leech_threshold=5)
    summary = import_review_log(utc_db, JOSH, now=NOW)
    # threshold 5: leech points 5, 7, 9, ... (every half threshold, at least 1)
    want = {ext for ext, n in package_lapses().items() if n >= 5}
    assert summary.leeches == len(want) > 3
    assert not any(c.suspended for c in cards_by_external_id(utc_db).values())
    assert {ext for ext, names in tag_names(utc_db).items() if "leech" in names} == want


def test_a_leech_unsuspended_by_the_user_stays_so_on_reimport(utc_db):
    import_review_log(utc_db, JOSH, now=NOW)
    leech = next(ext for ext, c in cards_by_external_id(utc_db).items() if c.suspended)
    review.unsuspend(utc_db, cards_by_external_id(utc_db)[leech].id)
    again = import_review_log(utc_db, JOSH, now=NOW)
    assert again.leeches == 0 and not cards_by_external_id(utc_db)[leech].suspended


def test_cards_without_text_go_to_their_own_deck_and_stay_out_of_the_queue(utc_db):
    summary = import_review_log(utc_db, JOSH, now=NOW)
    assert summary.deck == "Imported review history"
    with utc_db.read() as s:
        rows = s.execute(select(Card.deck, Card.front, Card.back)).all()
    assert {tuple(r) for r in rows} == {("Imported review history", "", "")}
    # 1,202 unsuspended cards, all overdue by 2026, yet nothing to review
    session = review.ReviewSession(utc_db, now=NOW)
    assert session.next_card(now=NOW) is None
    assert session.counts(now=NOW).total == 0
    from studylog.services import today

    cal = settings.calendar(utc_db)
    assert today.due_counts(utc_db, cal.day_of(NOW), cal) == (0, 0)


def test_a_card_that_gets_text_joins_the_queue(utc_db):
    from studylog.services import cards as card_service

    import_review_log(utc_db, JOSH, now=NOW)
    stored = cards_by_external_id(utc_db)
    ext = next(e for e, c in stored.items() if c.state == 2 and not c.suspended)
    card_service.edit(
        utc_db, stored[ext].id, front="기울기 소실이란? 🧠", back="vanishing gradient"
    )
    session = review.ReviewSession(utc_db, now=NOW)
    shown = session.next_card(now=NOW)
    assert shown is not None and shown.id == stored[ext].id
    assert session.counts(now=NOW).review == 1


def test_history_attaches_to_an_existing_card_by_external_id(utc_db):
    from studylog.services import cards as card_service

    review.configure(utc_db, enable_fuzzing=False)
    made = card_service.create(utc_db, front="RNN의 은닉 상태는?", back="h_t", deck="딥러닝::RNN")
    first_ext = next(iter(package_logs()))
    with utc_db.write() as s:
        s.get(Card, made[0].id).external_id = first_ext
    summary = import_review_log(utc_db, JOSH, now=NOW)
    assert (summary.cards_created, summary.cards_updated) == (1_204, 1)
    stored = cards_by_external_id(utc_db)[first_ext]
    want = fsrs.Scheduler(enable_fuzzing=False).reschedule_card(
        fsrs.Card(card_id=int(first_ext)), package_logs()[first_ext]
    )
    assert stored.id == made[0].id and stored.reps == len(package_logs()[first_ext])
    assert stored.stability == pytest.approx(want.stability, rel=1e-9)
    with utc_db.read() as s:
        card = s.get(Card, made[0].id)
        assert (card.front, card.deck) == ("RNN의 은닉 상태는?", "딥러닝::RNN")


def test_deck_option_and_cli_report(run_cli, utc_db):
    out = run_cli("import", "--deck", "밑바닥2::리뷰 기록 📚", str(JOSH))
    assert out.exit_code == 0, out.output
    assert "The 1,205 new cards have no text yet: they wait in deck '밑바닥2::리뷰 기록 📚'" in (
        out.output
    )
    assert "3 cards became leeches" in out.output
    with utc_db.read() as s:
        imported = select(Card.deck).where(Card.origin == "import").distinct()
        assert set(s.scalars(imported)) == {"밑바닥2::리뷰 기록 📚"}
    bad = run_cli("import", "--deck", "  ", str(JOSH))
    assert bad.exit_code == 1 and "--deck: the deck name is empty" in bad.output
