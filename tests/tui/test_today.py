"""The Today screen, driven by keys as a person would; the database is the judge."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownParagraph

from studylog.services import cards, journal, todos
from studylog.services import concepts as concept_service
from studylog.storage.engine import Database
from studylog.tui.screens.today import TodayScreen, display_order, relative_day
from studylog.tui.widgets.prompts import Confirm, TextPrompt
from tests.tui.conftest import (
    ENTRY_TODAY,
    ENTRY_YESTERDAY,
    NOW,
    SIZE,
    TODAY,
    settle,
)


def plain_row(widget, index: int) -> str:  # noqa: ANN001 - a RowList
    return widget.render_row(widget.rows[index], index, 0, 60).plain


async def test_the_study_day_with_entries_todos_and_summary(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TodayScreen) and screen.loaded
        assert screen.day == TODAY
        assert "2026-11-21 Sat" in str(screen.query_one("#day-label").render())
        # Entries in the order written; the first is in the editor and the preview.
        assert [e.body for e in screen.entries.rows][0] == ENTRY_TODAY
        assert screen.editor.text == ENTRY_TODAY
        preview = screen.query_one("#preview-md").source
        assert "αₜ = softmax\\(eₜ\\)" in preview  # math as Unicode
        assert "[어텐션](concept:어텐션)" in preview  # [[link]] as a link
        assert "# $not math$" in preview  # code untouched
        # TODOs: the day's own first, then carried ones with their origin day.
        texts = [t.text for t in screen.todo_list.rows]
        assert texts == [
            "8장 어텐션 다시 읽기",
            "softmax 구현 테스트",
            "Transformer 논문 3.2절 (Scaled Dot-Product)",
            "LSTM 셀 그림 그리기",
            "BPTT 손으로 계산해 보기",
            "밑바닥2 7장 연습문제 풀기",
        ]
        assert "↪ 2026-11-19" in plain_row(screen.todo_list, 4)
        assert "↪" not in plain_row(screen.todo_list, 0)
        assert plain_row(screen.todo_list, 1).startswith(" ✓ ")
        # Summary: 2 answers this morning; 4 learnt cards due again + 2 in learning;
        # every card never answered is new; entries on the 19th, 20th and 21st.
        never_answered = cards.count(seeded_db) - 8
        summary = str(screen.query_one("#day-summary").render())
        # Today: what Review shows, the daily limits applied (20 new a day, 2 done today)
        assert never_answered > 18
        assert summary == "reviews 2 · due 6 · new 18 · streak 3 days"
        assert screen.todo_list.border_title == "TODO 2/6 · ↪ 3 carried"


async def test_write_an_entry_and_ctrl_s_saves_it(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("n")
        assert screen.editor.has_focus and screen.editor.text == ""
        await pilot.press(*"어텐션 $a_t$ [[softmax]]")
        assert "unsaved" in screen.editor.border_subtitle
        await pilot.press("ctrl+s")
        await settle(pilot)
        bodies = [e.body for e in journal.on_day(seeded_db, TODAY)]
        assert bodies[-1] == "어텐션 $a_t$ [[softmax]]"
        assert len(bodies) == 3
        assert screen.editor.border_subtitle == ""
        assert screen.entries.current.body == bodies[-1]
        assert "aₜ" in screen.query_one("#preview-md").source


async def test_edit_an_entry_and_leaving_the_editor_saves(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        first = screen.entries.rows[0]
        await pilot.press("e")
        assert screen.editor.has_focus
        await pilot.press("end", *" 추가")
        await pilot.press("escape")
        assert screen.entries.has_focus
        assert journal.get(seeded_db, first.id).body.splitlines()[0] == "# 8장 어텐션 추가"


async def test_unsaved_text_is_saved_when_moving_to_another_day(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"draft")
        await pilot.press("escape")  # back to the entry list, where [ works
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert app.screen.day == TODAY - timedelta(days=1)
        assert [e.body for e in journal.on_day(seeded_db, TODAY)][-1] == "draft"


async def test_previous_next_and_today_keys(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.day == TODAY - timedelta(days=1)
        assert [e.body for e in screen.entries.rows] == [ENTRY_YESTERDAY]
        assert screen.editor.text == ENTRY_YESTERDAY
        # On the 20th, the LSTM TODO (done on the 21st) is still open and not carried.
        lstm = next(t for t in screen.todo_list.rows if t.text == "LSTM 셀 그림 그리기")
        assert not lstm.done and not lstm.carried
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert screen.day == TODAY - timedelta(days=3)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.day == TODAY - timedelta(days=2)
        await pilot.press("t")
        await settle(pilot)
        assert screen.day == TODAY
        assert "today" in str(screen.query_one("#day-label").render())


async def test_an_empty_day_says_what_to_do(empty_db: Database, make_app) -> None:
    app = make_app(empty_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.entries.rows == [] and screen.todo_list.rows == []
        assert "Press n" in plain_empty(screen.entries)
        assert "Press a" in plain_empty(screen.todo_list)
        assert "Press **n**" in screen.query_one("#preview-md").source
        await pilot.press("ctrl+s")  # nothing to save: a warning, no entry, no crash
        assert journal.on_day(empty_db, TODAY) == []


def plain_empty(widget) -> str:  # noqa: ANN001 - a RowList
    return "\n".join(widget.render_empty(i, 60).plain for i in range(3))


async def test_delete_an_entry_after_confirming(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first, second = journal.on_day(seeded_db, TODAY)
        await pilot.press("d")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")  # changed my mind
        assert [e.id for e in journal.on_day(seeded_db, TODAY)] == [first.id, second.id]
        await pilot.press("d")
        await pilot.press("y")
        await settle(pilot)
        assert [e.id for e in journal.on_day(seeded_db, TODAY)] == [second.id]
        assert app.screen.editor.text == second.body


async def test_add_toggle_edit_and_delete_a_todo(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("a")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"어텐션 복습", "enter")
        stored = todos.for_day(seeded_db, TODAY, app.calendar)
        added = next(t for t in stored if t.text == "어텐션 복습")
        assert added.origin_day == TODAY and not added.done
        assert added.position == 3  # after the day's three
        assert screen.todo_list.has_focus and screen.todo_list.current.id == added.id
        assert screen.todo_list.cursor == 3  # right after the day's own items

        await pilot.press("space")
        assert todos.for_day(seeded_db, TODAY, app.calendar)[-1].done_at == NOW
        assert screen.todo_list.current.done
        assert screen.todo_list.border_title == "TODO 3/7 · ↪ 3 carried"
        await pilot.press("x")
        assert not next(
            t for t in todos.for_day(seeded_db, TODAY, app.calendar) if t.id == added.id
        ).done

        await pilot.press("e")
        assert app.screen.query_one("Input").value == "어텐션 복습"
        await pilot.press("ctrl+u", *"8장 다시", "enter")
        assert (
            next(t for t in todos.for_day(seeded_db, TODAY, app.calendar) if t.id == added.id).text
            == "8장 다시"
        )

        await pilot.press("d", "y")
        assert added.id not in [t.id for t in todos.for_day(seeded_db, TODAY, app.calendar)]
        assert added.id not in [t.id for t in screen.todo_list.rows]


async def test_reorder_todos_with_shift_arrows_and_k_j(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.todo_list.focus()

        def own() -> list[str]:
            rows = todos.for_day(seeded_db, TODAY, app.calendar)
            return [t.text for t in rows if not t.carried]

        before = own()
        await pilot.press("shift+down")
        assert own() == [before[1], before[0], before[2]]
        await pilot.press("J")
        assert own() == [before[1], before[2], before[0]]
        await pilot.press("K", "K")
        assert own() == before
        # The screen shows the same order as the database.
        assert [t.text for t in screen.todo_list.rows[:3]] == before
        # A carried item moves only among the items of its own day: J on the last one of
        # its day does nothing.
        await pilot.press("end", "J")
        assert screen.todo_list.current.text == "밑바닥2 7장 연습문제 풀기"


async def test_a_carried_todo_done_today_seen_from_an_earlier_day(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("left_square_bracket")
        await settle(pilot)
        screen.todo_list.focus()
        target = next(i for i, t in enumerate(screen.todo_list.rows) if t.text.startswith("BPTT"))
        screen.todo_list.cursor = target
        await pilot.press("space")
        # Done now (the 21st): stored as done, but on the 20th it was still open.
        stored = todos.for_day(seeded_db, TODAY, app.calendar)
        assert next(t for t in stored if t.text.startswith("BPTT")).done_at == NOW
        assert not screen.todo_list.rows[target].done


async def test_links_in_the_entry_open_the_concept_page(seeded_db: Database, make_app) -> None:
    from studylog.tui.screens.concept_page import ConceptPageScreen
    from studylog.tui.widgets.prompts import Picker

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")  # the entry links [[어텐션]] and [[softmax|소프트맥스]]
        assert isinstance(app.screen, Picker)
        await pilot.press("enter")  # the first: 어텐션
        await settle(pilot)
        assert isinstance(app.screen, ConceptPageScreen)
        assert app.screen.slug == concept_service.resolve(seeded_db, "어텐션")
        await pilot.press("escape")
        await settle(pilot)
        # A click on a link of the preview does the same.

        preview = app.screen.query_one("#preview-md", Markdown)
        preview.post_message(Markdown.LinkClicked(preview, "concept:softmax"))
        await settle(pilot)
        assert isinstance(app.screen, ConceptPageScreen) and app.screen.slug == "softmax"


async def test_hundreds_of_carried_todos_render_only_what_is_visible(
    seeded_db: Database, make_app, monkeypatch
) -> None:
    from studylog.tui.widgets.todo_list import TodoList

    path = seeded_db.path
    with sqlite3.connect(path) as con:  # 3,000 open TODOs of a year ago: carried into today
        old = (TODAY - timedelta(days=365)).isoformat()
        con.executemany(
            "INSERT INTO todos(text, origin_day, position, created_at) VALUES (?,?,?,?)",
            [(f"오래된 할 일 {i}", old, i, "2025-11-21 10:00:00.000000") for i in range(3000)],
        )
    drawn: list[int] = []
    original = TodoList.render_row

    def counting(self, row, index, line, width):  # noqa: ANN001, ANN202
        drawn.append(index)
        return original(self, row, index, line, width)

    monkeypatch.setattr(TodoList, "render_row", counting)
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert len(screen.todo_list.rows) == 3006
        assert screen.todo_list.border_title == "TODO 2/3006 · ↪ 3003 carried"
        assert max(drawn) < 50  # only the rows on screen were drawn
        screen.todo_list.focus()
        await pilot.pause()
        drawn.clear()
        await pilot.press("end")
        await pilot.pause()
        assert screen.todo_list.current.text == "오래된 할 일 2999"
        assert min(drawn) > 2900  # the end of the list, not everything before it


def test_relative_day_and_display_order() -> None:
    assert relative_day(TODAY, TODAY) == "today"
    assert relative_day(TODAY - timedelta(days=1), TODAY) == "yesterday"
    assert relative_day(TODAY + timedelta(days=1), TODAY) == "tomorrow"
    assert relative_day(TODAY - timedelta(days=3), TODAY) == "3 days ago"
    assert relative_day(TODAY + timedelta(days=2), TODAY) == "in 2 days"
    assert display_order([], TODAY) == []


async def test_days_read_ahead_do_not_hide_a_new_todo(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert ("day", TODAY + timedelta(days=1)) in app.reads  # read ahead
        await pilot.press("a", *"내일 할 일", "enter")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        carried = [t.text for t in screen.todo_list.rows if t.carried]
        assert "내일 할 일" in carried  # read again after the write, not the stale copy


async def test_counts_are_read_again_after_reviews_on_another_screen(
    seeded_db: Database, make_app
) -> None:
    from studylog.services import review

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        due = review.next_card(seeded_db, now=NOW)
        review.answer(seeded_db, due.id, 3, now=NOW)  # as another process would
        app.look_for_changes()  # what the app's one-second timer does: the data version moved
        await app.workers.wait_for_complete()
        await pilot.press("f2")
        await settle(pilot)
        summary = str(app.screen.query_one("#day-summary").render())
        assert summary.startswith("reviews 3 · ")


async def test_go_to_a_typed_date_and_a_bad_date_is_explained(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g", *"2026-11-19", "enter")
        await settle(pilot)
        assert app.screen.day == TODAY - timedelta(days=2)
        await pilot.press("g", *"2026-13-01", "enter")
        await settle(pilot)
        assert app.screen.day == TODAY - timedelta(days=2)  # unchanged
        assert any("not a real date" in n.message for n in app._notifications)


async def test_the_preview_shows_single_line_breaks_as_written(
    empty_db: Database, make_app
) -> None:
    # A note written line by line, as imported from a plain-text file.
    note = "밑바닥2 8장\n어텐션 정리\nseq2seq 복습\n\n다음 문단"
    journal.add(empty_db, note, TODAY, now=NOW)
    app = make_app(empty_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        preview = app.screen.query_one("#preview-md", Markdown)
        paragraphs = [str(block._content) for block in preview.query(MarkdownParagraph)]
        assert paragraphs == ["밑바닥2 8장\n어텐션 정리\nseq2seq 복습", "다음 문단"]
        assert preview.source == note  # the text as stored; only the rendering differs
        assert journal.on_day(empty_db, TODAY)[0].body == note


def _summary_line(screen: TodayScreen) -> str:
    return str(screen.query_one("#day-summary").render())


async def test_a_days_first_entry_and_its_delete_update_the_streak(
    seeded_db: Database, make_app
) -> None:
    """The screen that writes shows its own change without the collection-changed
    refresh: the summary line kept the old streak until the day was read again
    (found in tmux: "streak 0 days" next to the entry just saved)."""
    from studylog.services import today as today_service

    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        for _ in range(3):
            await pilot.press("[")
            await settle(pilot)
        day = TODAY - timedelta(days=3)
        assert screen.day == day and journal.on_day(seeded_db, day) == []
        before = today_service.summary(seeded_db, day, app.calendar, now=NOW).streak
        await pilot.press("n", *"18일: BPTT 복습", "ctrl+s")
        await settle(pilot)
        after = today_service.summary(seeded_db, day, app.calendar, now=NOW).streak
        assert after == before + 1  # the 18th joins the run that reaches it
        assert _summary_line(screen).endswith(f"streak {after} day{'s' if after != 1 else ''}")
        await pilot.press("escape", "d", "y")
        await settle(pilot)
        assert journal.on_day(seeded_db, day) == []
        assert _summary_line(screen).endswith(f"streak {before} day{'s' if before != 1 else ''}")
