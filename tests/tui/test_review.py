"""Review screen: reveal, grade with the previewed intervals, undo, suspend, bury, summary.

Every check of the database goes through the services (cards.get, review
history through a fresh ReviewSession), and the expected intervals come from
the fsrs package's scheduler directly, not from the screen.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from textual.widgets import Button, Markdown

from studylog.interchange.json_export import write_json
from studylog.services import cards, review, settings
from studylog.tui.screens.concept_page import ConceptPageScreen
from studylog.tui.screens.review import MAX_ANSWER_MS, ReviewScreen, back_markdown, front_markdown
from tests.tui.conftest import press, settle, steps_done

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


async def open_review(app, pilot) -> ReviewScreen:  # noqa: ANN001
    """Switch the app shell to the Review screen (F3) and let its worker open the session."""
    await press(pilot, "f3")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


@pytest.fixture
def review_db(db, monkeypatch):  # noqa: ANN001, ANN201
    """Three new cards (basic with math, Korean, cloze) added a day before NOW, in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    settings.put(db, settings.TIMEZONE, "UTC")
    review.configure(db, enable_fuzzing=False)
    day_before = NOW - timedelta(days=1)
    ids = [
        cards.create(
            db, "What does $\\sigma(x)$ squash to?", "The interval (0, 1).", now=day_before
        ),
        cards.create(
            db, "소프트맥스의 출력의 합은?", "1 (확률 분포)", now=day_before + timedelta(seconds=1)
        ),
        cards.create(
            db,
            "The LSTM keeps its memory in the {{c1::cell state}}.",
            kind="cloze",
            now=day_before + timedelta(seconds=2),
        ),
    ]
    db.card_ids = [made[0].id for made in ids]
    return db


def expected_seconds(card_id: int, db, rating: int) -> float:  # noqa: ANN001
    """The interval the fsrs package itself gives this card for ``rating`` at NOW."""
    info = cards.get(db, card_id)
    card = fsrs.Card(
        card_id=info.id,
        state=fsrs.State(info.state),
        step=info.step,
        stability=info.stability,
        difficulty=info.difficulty,
        due=info.due,
        last_review=info.last_review,
    )
    after, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(card, fsrs.Rating(rating), NOW)
    return (after.due - NOW).total_seconds()


async def test_review_three_cards_with_different_grades_and_undo_one(review_db, make_app) -> None:
    db = review_db
    first, second, third = db.card_ids
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        assert screen.card is not None and screen.card.id == first
        assert not screen.revealed

        # Grading is not possible before the answer is shown.
        await press(pilot, "3")
        assert cards.get(db, first).reps == 0

        await press(pilot, "space")
        assert screen.revealed
        labels = {b.id: str(b.label) for b in screen.query("#answer-bar Button").results(Button)}
        # New card, default learning steps 1m, 10m: Again 1m, Hard 6m, Good 10m, Easy by FSRS.
        assert labels["grade-1"] == "Again 1m"
        assert labels["grade-2"] == "Hard 6m"
        assert labels["grade-3"] == "Good 10m"
        easy_days = round(expected_seconds(first, db, 4) / 86400)
        assert labels["grade-4"] == f"Easy {easy_days}d"

        await press(pilot, "1")  # Again
        assert screen.card is not None and screen.card.id == second
        await press(pilot, "space", "3")  # Good
        assert screen.card is not None and screen.card.id == third
        await press(pilot, "space", "4")  # Easy

        after_first = cards.get(db, first)
        after_second = cards.get(db, second)
        after_third = cards.get(db, third)
        assert after_first.reps == after_second.reps == after_third.reps == 1
        assert after_first.state == 1 and after_first.due == NOW + timedelta(minutes=1)
        assert after_second.state == 1 and after_second.due == NOW + timedelta(minutes=10)
        assert after_third.state == 2  # Easy graduates a new card to Review
        assert round((after_third.due - NOW).total_seconds() / 86400) == easy_days

        # Undo the last answer (Easy): the card is back as new and shown again.
        await press(pilot, "u")
        restored = cards.get(db, third)
        assert restored.reps == 0 and restored.last_review is None and restored.state == 1
        assert screen.card is not None and screen.card.id == third and not screen.revealed
        assert [a.rating for a in screen.answers] == [1, 3]

        # Grade it Hard instead: (1m + 10m) / 2 = 5.5 min for a new card, labelled '6m'.
        hard = expected_seconds(third, db, 2)
        assert hard == 330
        await press(pilot, "space", "2")
        regraded = cards.get(db, third)
        assert regraded.reps == 1 and regraded.due == NOW + timedelta(seconds=hard)
        assert [a.rating for a in screen.answers] == [1, 3, 2]
        assert all(0 <= a.duration_ms <= MAX_ANSWER_MS for a in screen.answers)
        answered = [(a.card_id, a.rating, a.duration_ms) for a in screen.answers]

    # The review log, read through the JSON export: the undone Easy is gone, and each
    # answer carries the time the screen measured.
    out = io.StringIO()
    write_json(db, out)
    log = json.loads(out.getvalue())["reviews"]
    assert [(r["card"], r["rating"], r["duration_ms"]) for r in log] == answered
    assert [r["card"] for r in log] == [first, second, third]

    # The answers are in the review log: a new session sees today's three answers as
    # learning cards (none due yet at NOW, all within the 20-minute learn-ahead).
    session = review.ReviewSession(db, now=NOW)
    counts = session.counts(now=NOW)
    assert (counts.learning, counts.new, counts.review) == (3, 0, 0)


async def test_undo_several_steps_in_order(review_db, make_app) -> None:
    db = review_db
    first, second, _ = db.card_ids
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        await press(pilot, "space", "3", "space", "3")
        assert cards.get(db, first).reps == 1 and cards.get(db, second).reps == 1
        await press(pilot, "u")
        assert cards.get(db, second).reps == 0 and cards.get(db, first).reps == 1
        await press(pilot, "u")
        assert cards.get(db, first).reps == 0
        assert screen.card is not None and screen.card.id == first
        assert screen.answers == []
        await press(pilot, "u")  # nothing left: a notice, no change
        assert cards.get(db, first).reps == 0 and cards.get(db, second).reps == 0


async def test_keys_pressed_while_an_answer_is_saved_run_after_it_in_order(
    review_db, make_app, monkeypatch
) -> None:
    """A fast "space 3 space 3" while the first answer's write is slow (another process
    holds the write lock): nothing is lost, the second card gets the second Good."""
    db = review_db
    first, second, third = db.card_ids
    slow = threading.Event()
    original = review.ReviewSession.answer

    def slow_answer(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        slow.wait(5)  # held until every key below was pressed
        return original(self, *args, **kwargs)

    monkeypatch.setattr(review.ReviewSession, "answer", slow_answer)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        await pilot.press("space", "3", "space", "3")
        assert screen.card is not None and screen.card.id == first  # still being saved
        assert cards.get(db, first).reps == 0
        slow.set()
        await steps_done(pilot)
        assert [(a.card_id, a.rating) for a in screen.answers] == [(first, 3), (second, 3)]
        assert cards.get(db, second).reps == 1
        assert screen.card is not None and screen.card.id == third and not screen.revealed


async def test_the_session_is_read_and_written_off_the_ui_thread(
    review_db, make_app, monkeypatch
) -> None:
    """Answer, undo, suspend, bury, the next card, its previews and the header's counts:
    every call into the session runs in a worker thread, never on the app's."""
    on_ui: list[str] = []
    for name in ("next_card", "preview", "counts", "answer", "undo", "suspend", "bury"):
        original = getattr(review.ReviewSession, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if threading.current_thread() is threading.main_thread():
                on_ui.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(review.ReviewSession, name, spy)
    app = make_app(review_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        await press(pilot, "space", "3", "u", "s", "b", "u", "u")
        await settle(pilot)
        header = str(screen.query_one("#review-header").render())
        assert "3 new" in header  # the counts arrived, read by the worker
    assert on_ui == []


async def test_suspend_and_bury_leave_the_queue_and_undo_brings_them_back(
    review_db, make_app
) -> None:
    db = review_db
    first, second, third = db.card_ids
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        await press(pilot, "s")
        assert cards.get(db, first).suspended
        assert screen.card is not None and screen.card.id == second
        await press(pilot, "b")
        assert cards.get(db, second).buried_until == NOW.date() + timedelta(days=1)
        assert screen.card is not None and screen.card.id == third

        await press(pilot, "u")  # unbury: the buried card is shown again
        assert cards.get(db, second).buried_until is None
        assert screen.card is not None and screen.card.id == second
        await press(pilot, "space", "3")
        assert cards.get(db, second).reps == 1
        await press(pilot, "u", "u")  # the answer, then the suspend
        assert not cards.get(db, first).suspended
        assert screen.card is not None and screen.card.id == first


async def test_cloze_front_hides_the_deletion_and_back_reveals_it(review_db, make_app) -> None:
    cloze = cards.get(review_db, review_db.card_ids[2])
    assert "**[...]**" in front_markdown(cloze)
    assert "cell state" not in front_markdown(cloze)
    question, extra = back_markdown(cloze)
    assert "**cell state**" in question and extra == ""
    app = make_app(review_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        await press(pilot, "space", "3", "space", "3")
        assert screen.card.id == cloze.id
        front = screen.query_one("#front", Markdown)
        assert "[...]" in _text(front) and "cell state" not in _text(front)
        await press(pilot, "space")
        assert "cell state" in _text(front) and "[...]" not in _text(front)


async def test_session_summary_counts_ratings(review_db, make_app) -> None:
    app = make_app(review_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        for rating in ("4", "4", "1"):
            await press(pilot, "space", rating)
        # Two graduated; the Again card is learning, due in 1 minute (learn-ahead shows it).
        assert screen.card is not None and screen.card.id == review_db.card_ids[2]
        await press(pilot, "space", "4")
        assert screen.card is None
        assert screen.query_one("#summary-text").display
        assert not screen.query_one("#card").display
        summary = str(screen.query_one("#summary-text").render())
        assert "Reviewed 4 cards" in summary
        assert "Again 1" in summary and "Hard 0" in summary and "Easy 3" in summary


def _text(markdown: Markdown) -> str:
    """The text a Markdown widget shows (its blocks' content)."""
    return markdown.source


async def test_c_on_the_answer_side_opens_the_cards_concept(seeded_db, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        for _ in range(12):
            assert screen.card is not None
            if screen.card.concept_slug:
                break
            await press(pilot, "space", "3")
        card = screen.card
        assert card is not None and card.concept_slug == "scaled-dot-product-attention"
        await press(pilot, "c")  # not on the question side
        assert app.screen is screen
        await press(pilot, "space", "c")
        await pilot.pause()
        page = app.screen
        assert isinstance(page, ConceptPageScreen) and page.slug == card.concept_slug
        await press(pilot, "escape")
        await pilot.pause()
        assert app.screen is screen and screen.revealed and screen.card.id == card.id
        await press(pilot, "3")
        assert cards.get(seeded_db, card.id).reps == 1


async def test_the_session_and_its_first_card_are_read_off_the_ui_thread(
    review_db, make_app, monkeypatch
) -> None:  # noqa: ANN001
    """ReviewScreen opens its session (and a custom study session gathers its cards) in a
    thread worker that posts a message; the UI thread only shows what it read."""
    import threading

    from studylog.services import custom_study
    from studylog.tui.screens import review as review_screen

    opened: list[tuple[str, bool]] = []

    def recording(cls):  # noqa: ANN001, ANN202
        class Recording(cls):  # type: ignore[misc, valid-type]
            def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
                opened.append((cls.__name__, threading.current_thread() is threading.main_thread()))
                super().__init__(*args, **kwargs)

        return Recording

    monkeypatch.setattr(review_screen, "ReviewSession", recording(review.ReviewSession))
    monkeypatch.setattr(review_screen, "CustomSession", recording(custom_study.CustomSession))
    app = make_app(review_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(app, pilot)
        assert screen.card is not None and screen.card.id == review_db.card_ids[0]
        labels = [str(b.label) for b in screen.query("#answer-bar Button").results(Button)]
        assert labels[0].startswith("Again") and "m" in labels[0]  # the previews came too
        study = custom_study.CustomStudy(
            kind="search", query="deck:Default", reschedule=False, limit=9999, title="Preview"
        )
        app.push_screen(ReviewScreen(custom=study))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        custom = app.screen
        assert isinstance(custom, ReviewScreen) and custom.card is not None
        assert custom.session.counts(now=NOW).total == 3
    assert opened == [("ReviewSession", False), ("CustomSession", False)]
