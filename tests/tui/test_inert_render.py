"""The app draws untrusted text inert (issue 14): an entry's escapes never reach the terminal.

The reliability run's note retitled the terminal from the Today screen. Here
an entry and a TODO carry a retitle, a clipboard write and a screen clear; the
whole screen is rendered to the terminal sequences Textual would write, and
none of the data's sequences is in them, while the text around them is.
"""

from __future__ import annotations

from studylog.services import journal, todos
from studylog.storage.engine import Database
from studylog.tui import inert_render
from tests.tui.conftest import SIZE, TODAY, settle

RETITLE = "\x1b]0;pwned\x07"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
CLEAR = "\x1b[2J"
HOSTILE = f"맥락 벡터{RETITLE} 정리{CLIPBOARD}{CLEAR}\x9b31m 끝"
DATA_SEQUENCES = ("\x1b]0;", "\x1b]52;", "\x1b[2J", "\x9b", "\x07")


def screen_output(app) -> str:  # noqa: ANN001 - StudylogApp
    """Everything Textual would write to draw the current screen, as one string."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


async def test_entries_and_todos_with_escapes_draw_inert(empty_db: Database, make_app) -> None:
    journal.add(empty_db, f"# 오늘\n\n{HOSTILE}", TODAY)
    todos.add(empty_db, f"할 일 {HOSTILE}", TODAY)
    app = make_app(empty_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        drawn = screen_output(app)
        assert "맥락 벡터" in drawn and "정리" in drawn  # the text is shown...
        for sequence in DATA_SEQUENCES:
            assert sequence not in drawn, repr(sequence)  # ...its escapes are not
        assert "pwned" not in drawn  # the retitle goes whole, not just its introducer
        assert "\x1b[" in drawn  # Textual's own escapes (cursor moves, colours) stay


def test_strip_render_is_the_choke_point_and_textuals_own_passes_escapes() -> None:
    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style
    from textual.strip import Strip

    inert_render.install()
    console = Console(force_terminal=True, color_system="truecolor")

    def strip() -> Strip:
        return Strip([Segment(HOSTILE), Segment(HOSTILE, Style(bold=True))])

    raw = inert_render.TEXTUAL_RENDER(strip(), console)
    assert all(sequence in raw for sequence in DATA_SEQUENCES)  # the fault, without the fix
    drawn = strip().render(console)
    assert not any(sequence in drawn for sequence in DATA_SEQUENCES)
    # Textual's bold kept; the sequences' visible characters are blanks, so the
    # line keeps the width Textual laid it out with.
    assert "\x1b[1m맥락 벡터" in drawn
    assert drawn.count("맥락 벡터") == 2
    cells = len(raw.replace("\x1b[1m", "").replace("\x1b[0m", ""))
    assert cells > 0
    from rich.cells import cell_len

    plain = drawn.replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert cell_len(plain) == cell_len(raw.replace("\x1b[1m", "").replace("\x1b[0m", ""))
