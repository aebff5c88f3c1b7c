"""``studylog review`` (a plain terminal review loop), ``studylog stats`` and the review-log import.

The loop, per card: the front; Enter shows the back and the four answer
buttons with their intervals ('1 Again 1m  2 Hard 6m  3 Good 10m  4 Easy 3d');
1-4 answers (saved at once), ``u`` undoes the last answer, ``s`` suspends the
card, ``b`` buries it until tomorrow, ``q`` quits. On a terminal single keys
are read; otherwise (pipes, tests) one line per key, an empty line being Enter.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json
from studylog.errors import StudylogError

if TYPE_CHECKING:
    from studylog.interchange.review_log import ReviewLogSummary
    from studylog.services.cards import CardInfo
    from studylog.storage.engine import Database

QUIT_KEYS = {"q", "\x1b", "\x03", "\x04"}  # q, Esc, Ctrl-C, Ctrl-D


def _now(app: AppContext) -> datetime:
    """The app's clock (STUDYLOG_NOW fixes it for tests), else the real one."""
    clock = getattr(app, "now", None)
    if callable(clock):
        return clock()
    from studylog.studyday import utcnow

    return utcnow()


class Keys:
    """Reads one key at a time: ``click.getchar`` on a terminal, one line otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdin.isatty()

    def read(self) -> str:
        if self.tty:
            key = click.getchar()
            return "\n" if key in ("\r", "\n", " ") else key.lower()
        line = sys.stdin.readline()
        if line == "":
            return "q"  # end of input
        return line.strip().lower()[:1] or "\n"


def _sides(card: CardInfo) -> tuple[str, str]:
    if card.kind == "cloze":
        from studylog.content.cloze import cloze_back, cloze_front

        back = cloze_back(card.front, card.cloze_ord)
        if card.back.strip():
            back += "\n\n" + card.back
        return cloze_front(card.front, card.cloze_ord), back
    return card.front, card.back


def _show(out, title: str, text: str, style: str) -> None:  # noqa: ANN001 - rich Console
    from rich.markdown import Markdown
    from rich.panel import Panel

    out.print(Panel(Markdown(text), title=title, title_align="left", border_style=style))


@click.command("review")
@pass_app
def review(app: AppContext) -> None:
    """Review due cards in the terminal: Enter shows the answer, 1-4 grade it.

    Keys: 1 Again, 2 Hard, 3 Good, 4 Easy (the interval each gives is shown),
    u undo the last answer, s suspend, b bury until tomorrow, q quit. Every
    answer is saved the moment it is given.
    """
    from studylog.services.review import RATINGS, ReviewSession

    db = app.database()
    out = console()
    keys = Keys()
    try:
        session = ReviewSession(db, now=_now(app))
    except StudylogError as exc:
        raise click.ClickException(str(exc)) from None
    answered: list[int] = []  # ratings given, newest last (undo pops)
    started = time.monotonic()
    while True:
        now = _now(app)
        card = session.next_card(now=now)
        if card is None:
            out.print("[green]Nothing more is due today.[/green]")
            break
        counts = session.counts(now=now)
        front, back = _sides(card)
        out.print(
            f"[dim]card {card.id} · learning {counts.learning} · review {counts.review} · new {counts.new}[/dim]"
        )
        _show(out, "Front", front, "cyan")
        shown = time.monotonic()
        out.print("[dim]Enter: show answer · u undo · s suspend · b bury · q quit[/dim]")
        key = keys.read()
        while key not in ("\n", "u", "s", "b", *QUIT_KEYS):
            key = keys.read()
        if key == "\n":
            _show(out, "Back", back or "(no back)", "green")
            buttons = session.preview(card.id, now=now)
            out.print(
                "   ".join(
                    f"[bold]{b.rating}[/bold] {b.label} [cyan]{b.text}[/cyan]" for b in buttons
                )
            )
            key = keys.read()
            while key not in ("1", "2", "3", "4", "u", "s", "b", *QUIT_KEYS):
                out.print("[dim]1-4 to answer · u undo · s suspend · b bury · q quit[/dim]")
                key = keys.read()
        if key in QUIT_KEYS:
            break
        try:
            if key in ("1", "2", "3", "4"):
                rating = int(key)
                result = session.answer(
                    card.id,
                    rating,
                    now=_now(app),
                    duration_ms=int((time.monotonic() - shown) * 1000),
                )
                answered.append(rating)
                note = " [red]leech: tagged and suspended[/red]" if result.leech else ""
                out.print(f"{RATINGS[rating]}: next in {result.interval_text}.{note}\n")
            elif key == "u":
                if not session.can_undo:
                    out.print("[yellow]Nothing to undo.[/yellow]\n")
                    continue
                restored = session.undo()
                if answered:
                    answered.pop()
                out.print(f"[yellow]Undid the answer to card {restored.id}.[/yellow]\n")
            elif key == "s":
                session.suspend(card.id)
                out.print(f"[yellow]Card {card.id} suspended.[/yellow]\n")
            elif key == "b":
                session.bury(card.id, now=_now(app))
                out.print(f"[yellow]Card {card.id} buried until tomorrow.[/yellow]\n")
        except StudylogError as exc:
            raise click.ClickException(str(exc)) from None
    done = Counter(answered)
    total = len(answered)
    if total:
        minutes = (time.monotonic() - started) / 60
        parts = ", ".join(f"{RATINGS[r]} {done[r]}" for r in sorted(done))
        out.print(
            f"Reviewed {total} card{'s' if total != 1 else ''} in {minutes:.1f} min ({parts})."
        )


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def stats(app: AppContext, as_json: bool) -> None:
    """Statistics: reviews per day, streak, forecast, true retention, memory, calibration."""
    from studylog.services import memory_stats
    from studylog.services import stats as stats_service

    try:
        result = stats_service.collection_stats(app.database(), now=_now(app))
        memory = memory_stats.memory_stats(app.database(), now=_now(app))
    except StudylogError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        print_json({**result.to_json(), **memory.to_json()})
        return
    _print_stats(result)
    _print_memory(memory)


def _print_memory(m) -> None:  # noqa: ANN001 - memory_stats.MemoryStats
    from rich.table import Table

    out = console()
    if m.rmse_bins is not None:
        out.print(
            f"FSRS fit on {m.items:,} reviews: log loss {m.log_loss:.4f}, "
            f"RMSE(bins) {m.rmse_bins * 100:.2f} % (Anki's binning; lower is better)"
        )
    for title, hist in (("Difficulty", m.difficulty), ("Stability", m.stability)):
        if not any(hist.counts):
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("bin")
        table.add_column("cards", justify="right")
        table.add_column("")
        top = max(hist.counts)
        for label, n in zip(hist.labels, hist.counts, strict=True):
            table.add_row(label, str(n), "█" * (round(30 * n / top) if n else 0))
        out.print(table)
    if m.memorised:
        year_ago, now = m.memorised[0][1], m.memorised[-1][1]
        out.print(f"Memorised cards (sum of R): {year_ago:,.1f} a year ago, {now:,.1f} now")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _print_stats(s) -> None:  # noqa: ANN001 - stats.Stats
    from rich.table import Table

    out = console()
    week = sum(n for _, n in s.reviews_per_day[-7:])
    year = sum(n for _, n in s.reviews_per_day)
    active = sum(1 for _, n in s.reviews_per_day if n)
    out.print(
        f"[bold]{s.today}[/bold]  streak [bold]{s.streak}[/bold] day{'s' if s.streak != 1 else ''} · "
        f"reviews today {s.reviews_per_day[-1][1]}, last 7 days {week}, last 365 days {year} "
        f"(on {active} days)"
    )

    counts = Table(title="Cards", title_justify="left")
    for name in (
        "new",
        "learning",
        "relearning",
        "young",
        "mature",
        "suspended",
        "buried",
        "total",
    ):
        counts.add_column(name, justify="right")
    c = s.counts
    counts.add_row(
        *(
            str(v)
            for v in (
                c.new,
                c.learning,
                c.relearning,
                c.young,
                c.mature,
                c.suspended,
                c.buried,
                c.total,
            )
        )
    )
    out.print(counts)

    retention = Table(
        title="True retention (first answer of a review card per day)", title_justify="left"
    )
    retention.add_column("period")
    for name in ("young", "mature", "all"):
        retention.add_column(name, justify="right")
    retention.add_column("answers", justify="right")
    for period, r in s.true_retention.items():
        retention.add_row(
            period,
            _pct(r.young.retention),
            _pct(r.mature.retention),
            _pct(r.total.retention),
            str(r.total.total),
        )
    out.print(retention)

    forecast = Table(title="Due (next 30 days; today includes overdue)", title_justify="left")
    for d, _ in s.forecast[:10]:
        forecast.add_column(d.strftime("%m-%d"), justify="right")
    forecast.add_row(*(str(n) for _, n in s.forecast[:10]))
    out.print(forecast)
    out.print(f"next 30 days: {sum(n for _, n in s.forecast)} reviews")

    memory = Table(title="Memory", title_justify="left")
    memory.add_column("measure")
    memory.add_column("value", justify="right")
    reviewed = sum(s.retrievability_histogram)
    memory.add_row(
        "estimated total knowledge (sum of R)", f"{s.total_knowledge:,.1f} of {reviewed:,} cards"
    )
    memory.add_row("inter-day answers", f"{s.inter_day_reviews:,}")
    memory.add_row("their observed retention", _pct(s.inter_day_retention))
    memory.add_row(
        "log loss of predicted recall", "-" if s.log_loss is None else f"{s.log_loss:.4f}"
    )
    memory.add_row("RMSE of predicted recall", "-" if s.rmse is None else f"{s.rmse:.4f}")
    out.print(memory)
    if reviewed:
        bars = Table(title="Retrievability now", title_justify="left")
        bars.add_column("R")
        bars.add_column("cards", justify="right")
        bars.add_column("")
        top = max(s.retrievability_histogram)
        for i, n in enumerate(s.retrievability_histogram):
            if n:
                bars.add_row(f"{i * 5}-{i * 5 + 5} %", str(n), "█" * max(1, round(30 * n / top)))
        out.print(bars)


def run_review_log_import(db: Database, path: Path, dry_run: bool) -> ReviewLogSummary:
    """Import a review-log CSV for ``studylog import`` (ClickException on bad input)."""
    from studylog.interchange.review_log import import_review_log

    try:
        return import_review_log(db, path, dry_run=dry_run)
    except StudylogError as exc:
        raise click.ClickException(str(exc)) from None


def print_review_log_summary(summary: ReviewLogSummary, path: Path, dry_run: bool) -> None:
    """One or two lines: what the import added (or would add) and what it skipped."""
    verb = "Would add" if dry_run else "Added"
    span = ""
    if summary.first_review is not None and summary.last_review is not None:
        span = f" ({summary.first_review.date()} to {summary.last_review.date()})"
    click.echo(
        f"{path.name}: {summary.rows:,} rows, {summary.cards_in_file:,} cards{span}. "
        f"{verb} {summary.cards_created:,} new cards and {summary.reviews_added:,} reviews"
        + (
            f"; {summary.cards_updated:,} existing cards get new reviews"
            if summary.cards_updated
            else ""
        )
        + "."
    )
    if summary.reviews_skipped:
        click.echo(f"Skipped {summary.reviews_skipped:,} reviews already in the database.")


__all__ = ["review", "stats", "run_review_log_import", "print_review_log_summary"]
