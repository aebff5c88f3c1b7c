"""Concepts list and concept pages: filtering (Korean too), opening a page, running a demo in
the worker and seeing its outputs, approving imported code, editing code and concepts.

Expected sets come from the pack's concept files read with PyYAML (not from the
screen's filter), and demo outputs are compared with the stored run read through
the demo service.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import sys
from pathlib import Path

import pytest
import yaml
from textual.widgets import Input, Markdown, TextArea

from studylog.content.concept_file import parse_concept
from studylog.paths import content_dir
from studylog.services import concepts, demos
from studylog.services.concepts import apply_file
from studylog.storage.engine import Database
from studylog.tui.screens.concept_page import ConceptPageScreen
from studylog.tui.screens.concepts import ConceptsScreen, filter_concepts, initials
from studylog.tui.widgets.card_text import for_markdown
from studylog.tui.widgets.dialogs import ApproveCodeScreen, NewConceptScreen
from studylog.tui.widgets.editors import CodeEditorScreen, ConceptFileEditorScreen
from studylog.tui.widgets.outputs import DemoResultView, OutputView, kinds

from .conftest import NOW, SIZE, settle

SMALL_DEMO = (
    "import numpy as np\n"
    "from studylog.demo import api as out\n\n"
    "def demo():\n"
    "    out.value('합계', int(np.arange(5).sum()))\n"
    "    out.array('x', np.arange(3))\n"
)


def pack_front_matter() -> dict[str, dict]:
    """slug -> front matter of every pack concept file, read with PyYAML."""
    out = {}
    for path in sorted((content_dir() / "concepts").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        meta = yaml.safe_load(text.split("---", 2)[1])
        out[meta["slug"]] = meta
    return out


def table_slugs(screen: ConceptsScreen) -> list[str]:
    return [c.slug for c in screen.concept_list.rows]


async def open_concepts(pilot) -> ConceptsScreen:  # noqa: ANN001
    await pilot.press("f4")
    await pilot.app.workers.wait_for_complete()  # the list is read in a worker
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ConceptsScreen) and screen.loaded
    return screen


async def open_page(app, slug: str) -> None:  # noqa: ANN001
    """Open a concept page through the shell (its opener may be sync or async)."""
    result = app.open_concept(slug)
    if inspect.isawaitable(result):
        await result


def add_imported(db: Database, slug: str, code: str) -> None:
    """A concept as an import would bring it: origin 'import', demo code not yet approved."""
    text = f"---\nslug: {slug}\ntitle: Imported {slug}\n---\n\nFrom a friend's deck.\n"
    with db.write() as session:
        # As the importers do: the code arrives with the concept, nobody has read it.
        apply_file(session, parse_concept(text), origin="import", now=NOW).demo_code = code


def test_korean_initials() -> None:
    # U+AC00 + 588 * index: 소 = U+C18C -> index 9 = ㅅ; 프 = U+D504 -> 17 = ㅍ.
    assert initials("소프트맥스") == "ㅅㅍㅌㅁㅅ"
    assert initials("GRU 게이트") == "GRU ㄱㅇㅌ"


async def test_filter_by_text_korean_initials_and_tag(seeded_db: Database, make_app) -> None:
    meta = pack_front_matter()
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_concepts(pilot)
        assert sorted(table_slugs(screen)) == sorted(meta)

        await pilot.press("slash", *"소프트맥스")
        assert table_slugs(screen) == ["softmax"]

        screen.query_one("#search", Input).value = ""
        await pilot.press(*"ㅅㅍㅌㅁㅅ")
        assert table_slugs(screen) == ["softmax"]

        # A tag written in the search box: exactly the files whose front matter has it.
        screen.query_one("#search", Input).value = ""
        await pilot.press(*"#rnn")
        with_rnn = sorted(slug for slug, m in meta.items() if "rnn" in m.get("tags", []))
        assert len(with_rnn) >= 3
        assert sorted(table_slugs(screen)) == with_rnn

        # Text and tag together: attention concepts whose aliases say 어텐션.
        screen.query_one("#search", Input).value = ""
        await pilot.press(*"어텐션 #attention")
        expected = sorted(
            slug
            for slug, m in meta.items()
            if "attention" in m.get("tags", [])
            and any("어텐션" in name for name in [m["title"], slug, *m.get("aliases", [])])
        )
        assert expected and sorted(table_slugs(screen)) == expected

        await pilot.press("escape")
        assert len(table_slugs(screen)) == len(meta)


def test_filter_function_matches_slug_title_aliases_case_insensitively(seeded_db: Database) -> None:
    listed = concepts.list_concepts(seeded_db)
    assert [c.slug for c in filter_concepts(listed, "LSTM")] == [
        c.slug for c in listed if "lstm" in (c.slug + c.title + " ".join(c.aliases)).lower()
    ]
    assert [c.slug for c in filter_concepts(listed, "장단기")] == ["lstm"]
    assert filter_concepts(listed, "no-such-thing") == []


async def test_enter_opens_the_concept_page(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_concepts(pilot)
        await pilot.press("slash", *"softmax", "enter")  # enter in the box: to the table
        await pilot.press("enter")
        await pilot.pause()
        page = app.screen
        assert isinstance(page, ConceptPageScreen) and page.slug == "softmax"
        assert page.data is not None and page.data.info.title.startswith("Softmax")
        assert "Softmax" in str(page.query_one("#page-title").render())
        # Pack concept never run here: no outputs yet.
        assert page.query_one(DemoResultView).output_views == []
        await pilot.press("escape")
        assert app.screen is screen


async def test_run_a_demo_in_the_worker_and_see_its_outputs(seeded_db: Database, make_app) -> None:
    concepts.add(
        seeded_db,
        concepts.template("my-sum", "내 합계").replace("sources: []", "sources: []\ntags: [mine]"),
        now=NOW,
    )
    # Three seconds of sleep: long enough to see that the page stays usable meanwhile,
    # even on a machine busy with the rest of the suite.
    slow = SMALL_DEMO.replace("def demo():\n", "def demo():\n    import time; time.sleep(3.0)\n")
    concepts.set_demo_code(seeded_db, "my-sum", slow, now=NOW)
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "my-sum")
        await settle(pilot)  # the page is read in a worker
        page = app.screen
        assert isinstance(page, ConceptPageScreen)
        await pilot.press("r")
        assert page.running and page.has_class("-running")
        progress = page.query_one("#progress")
        assert progress.display  # the progress bar shows while it runs
        code = page.query_one("#implementation")
        folded = code.collapsed
        await pilot.press("i")  # the UI answers keys while the demo runs
        assert code.collapsed is not folded and page.running
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not page.running
        view = page.query_one(DemoResultView)
        stored = demos.cached(seeded_db, "my-sum")
        assert stored is not None and stored.result.status == "ok" and not stored.stale
        assert kinds(view.output_views) == ["value", "array"]
        assert [w.output for w in view.output_views] == stored.result.outputs
        assert stored.result.outputs[0]["value"] == 10  # 0 + 1 + 2 + 3 + 4
        assert "ok" in str(view.query_one("#status").render())


async def test_pack_demo_runs_and_every_output_gets_a_widget(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "softmax")
        await settle(pilot)  # the page is read in a worker
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        page = app.screen
        stored = demos.cached(seeded_db, "softmax")
        assert stored is not None and stored.result.status == "ok"
        views = page.query(OutputView)
        assert kinds(views) == [o["kind"] for o in stored.result.outputs]
        assert {"table", "heatmap", "line", "array", "value", "text"} <= set(kinds(views))


async def test_untrusted_code_is_shown_for_approval_before_it_runs(
    seeded_db: Database, make_app
) -> None:
    add_imported(seeded_db, "shared", SMALL_DEMO)
    assert not demos.is_trusted(seeded_db, "shared")
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "shared")
        await settle(pilot)  # the page is read in a worker
        page = app.screen
        assert "untrusted" in str(page.query_one("#page-title").render())

        await pilot.press("r")
        modal = app.screen
        assert isinstance(modal, ApproveCodeScreen)
        assert modal.code == SMALL_DEMO  # the whole code is shown
        await pilot.press("escape")  # declined: nothing runs, nothing is approved
        await app.workers.wait_for_complete()
        assert app.screen is page
        assert demos.cached(seeded_db, "shared") is None
        assert not demos.is_trusted(seeded_db, "shared")

        await pilot.press("r")
        assert isinstance(app.screen, ApproveCodeScreen)
        await pilot.press("a")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert demos.is_trusted(seeded_db, "shared")
        assert "untrusted" not in str(page.query_one("#page-title").render())
        stored = demos.cached(seeded_db, "shared")
        assert stored is not None and stored.result.status == "ok"
        assert kinds(page.query_one(DemoResultView).output_views) == ["value", "array"]


async def test_edit_pack_demo_code_and_run_makes_a_user_copy(seeded_db: Database, make_app) -> None:
    pack_file = content_dir() / "demos" / "np_dot_shapes.py"
    before = hashlib.sha256(pack_file.read_bytes()).hexdigest()
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "np-dot-shapes")
        await settle(pilot)  # the page is read in a worker
        page = app.screen
        await pilot.press("e")
        editor = app.screen
        assert isinstance(editor, CodeEditorScreen)
        area = editor.query_one(TextArea)
        assert area.text == pack_file.read_text(encoding="utf-8")  # starts from the pack's code
        area.text = SMALL_DEMO
        await pilot.press("ctrl+r")  # save and run, like a notebook cell
        await pilot.pause()
        assert app.screen is page
        await app.workers.wait_for_complete()
        await pilot.pause()

        info = concepts.get(seeded_db, "np-dot-shapes")
        assert info.demo_code == SMALL_DEMO and info.user_modified
        assert kinds(page.query_one(DemoResultView).output_views) == ["value", "array"]
        assert "your copy" in str(page.query_one("#page-title").render())
    assert hashlib.sha256(pack_file.read_bytes()).hexdigest() == before


async def test_changed_code_marks_the_cached_outputs_stale(seeded_db: Database, make_app) -> None:
    concepts.add(seeded_db, concepts.template("stale-one", "Stale"), now=NOW)
    concepts.set_demo_code(seeded_db, "stale-one", SMALL_DEMO, now=NOW)
    demos.run(seeded_db, "stale-one", now=NOW)
    concepts.set_demo_code(seeded_db, "stale-one", SMALL_DEMO + "\n# changed\n", now=NOW)
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "stale-one")
        await settle(pilot)  # the page is read in a worker
        view = app.screen.query_one(DemoResultView)
        assert view.has_class("-stale")
        assert "stale: code changed" in str(view.query_one("#status").render())
        assert kinds(view.output_views) == ["value", "array"]  # shown at once, marked


async def test_edit_the_concept_file_in_the_app(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "gru")
        await settle(pilot)  # the page is read in a worker
        page = app.screen
        await pilot.press("m")
        editor = app.screen
        assert isinstance(editor, ConceptFileEditorScreen)
        area = editor.query_one(TextArea)
        area.text = area.text.replace("title: GRU", "title: 내 GRU 노트", 1)
        await pilot.press("ctrl+s")
        await settle(pilot)  # the page reads the saved concept again in its worker
        assert app.screen is page
        info = concepts.get(seeded_db, "gru")
        assert info.title.startswith("내 GRU 노트") and info.user_modified
        assert "내 GRU 노트" in str(page.query_one("#page-title").render())


async def test_a_format_error_keeps_the_editor_open(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "gru")
        await settle(pilot)  # the page is read in a worker
        await pilot.press("m")
        editor = app.screen
        area = editor.query_one(TextArea)
        area.text = area.text.replace("title:", "titel:", 1)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is editor  # not saved: the error is shown, the text kept
        assert concepts.get(seeded_db, "gru").title.startswith("GRU")


async def test_edit_demo_code_in_external_editor(
    seeded_db: Database, make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "editor" is a script that replaces the file it is given.
    script = tmp_path / "fake_editor.py"
    script.write_text(
        "import sys, pathlib\n"
        f"pathlib.Path(sys.argv[1]).write_text({SMALL_DEMO!r}, encoding='utf-8')\n"
    )
    monkeypatch.setenv("VISUAL", f"{sys.executable} {script}")
    concepts.add(seeded_db, concepts.template("ext-edit", "External"), now=NOW)
    app = make_app(seeded_db)
    # A headless test has no terminal to hand over; the editor runs all the same.
    monkeypatch.setattr(type(app), "suspend", lambda self: contextlib.nullcontext())
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "ext-edit")
        await settle(pilot)  # the page is read in a worker
        await pilot.press("E")
        await pilot.pause()
        assert concepts.get(seeded_db, "ext-edit").demo_code == SMALL_DEMO
        assert "your code" in str(app.screen.query_one("#implementation").title)


async def test_new_concept_from_the_list(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_concepts(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NewConceptScreen)
        await pilot.press(*"Batch Norm (배치 정규화)", "enter")
        assert app.screen.query_one("#slug", Input).value == "batch-norm"
        await pilot.press("enter")
        await app.workers.wait_for_complete()  # the slug is looked up in a worker
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, ConceptFileEditorScreen)
        area = editor.query_one(TextArea)
        assert "slug: batch-norm" in area.text
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        page = app.screen
        assert isinstance(page, ConceptPageScreen) and page.slug == "batch-norm"
        info = concepts.get(seeded_db, "batch-norm")
        assert info.origin == "user" and info.title == "Batch Norm (배치 정규화)"
        assert len(info.cards) == 1  # the template's example card
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert "batch-norm" in table_slugs(screen)


async def test_a_new_concept_with_a_taken_slug_is_refused(seeded_db: Database, make_app) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_concepts(pilot)
        await pilot.press("n", *"Softmax", "enter")
        assert app.screen.query_one("#slug", Input).value == "softmax"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen  # no editor: the pack has softmax
        assert "a concept with slug 'softmax' exists already" in [
            n.message for n in app._notifications
        ]


def test_concept_text_keeps_display_math_lines_and_makes_links() -> None:
    body = (content_dir() / "concepts" / "lstm.md").read_text(encoding="utf-8").split("---", 2)[2]
    text = for_markdown(body)
    assert "[a plain RNN](concept:rnn)" in text
    assert "[vanishing-exploding-gradients](concept:vanishing-exploding-gradients)" in text
    # The aligned block of six equations stays six lines (CommonMark hard breaks).
    block = text[text.index("iₜ = σ") :].split("\n\n", 1)[0]
    lines = block.split("\\\n")
    assert len(lines) == 6
    assert lines[4] == "cₜ = fₜ ⊙ cₜ₋₁ \\+ iₜ ⊙ gₜ"  # '+' escaped for markdown
    assert "$" not in block


async def test_a_concept_link_in_the_explanation_opens_that_concept(
    seeded_db: Database, make_app
) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_page(app, "lstm")
        await settle(pilot)  # the page is read in a worker
        page = app.screen
        body = page.query_one("#body", Markdown)
        body.post_message(Markdown.LinkClicked(body, "concept:rnn"))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ConceptPageScreen) and app.screen.slug == "rnn"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is page
