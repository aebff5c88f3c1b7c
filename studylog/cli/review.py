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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
@click.option("--deck", metavar="NAME", help="Review this deck and its subdecks only.")
@click.option(
    "--ahead", type=int, metavar="DAYS", help="Custom study: cards due in the next DAYS days."
)
@click.option(
    "--forgotten",
    type=int,
    metavar="DAYS",
    help="Custom study: cards answered Again in the last DAYS days.",
)
@click.option(
    "--search",
    "query",
    metavar="QUERY",
    help="Custom study: the cards of a search (deck:, tag:, any), due or not.",
)
@click.option(
    "--preview",
    is_flag=True,
    help="With custom study: do not reschedule (nothing is written; Again 1m, Hard 10m).",
)
@click.option("--limit", type=int, default=None, help="Custom study: at most this many cards.")
@click.option(
    "--extra-new", type=int, metavar="N", help="Custom study: N more new cards today (then review)."
)
@pass_app
def review(app: AppContext, **options: Any) -> None:
    """Review due cards in the terminal: Enter shows the answer, 1-4 grade it.

    Keys: 1 Again, 2 Hard, 3 Good, 4 Easy (the interval each gives is shown),
    u undo the last answer, suspend or bury, s suspend, b bury until tomorrow, q quit. Every
    answer is saved the moment it is given.

    Custom study, as Anki's: --ahead DAYS, --forgotten DAYS or --search QUERY (with
    --deck to keep to a deck; --preview to leave the schedule alone), --extra-new N.

    Example: studylog review --search 'deck:딥러닝::RNN tag:lstm' --preview
    """
    from studylog.services.review import RATINGS

    db = app.database()
    out = console()
    keys = Keys()
    try:
        session = _session(db, app, StudyOptions(**options))
        if getattr(session, "title", None):
            out.print(f"[bold]{session.title}[/bold]")
    except StudylogError as exc:
        raise click.ClickException(str(exc)) from None
    started = time.monotonic()
    while True:
        now = _now(app)
        card = session.next_card(now=now)
        if card is None:
            done_text = (
                "Nothing more in this session."
                if getattr(session, "title", None)
                else "Nothing more is due today."
            )
            out.print(f"[green]{done_text}[/green]")
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
                note = " [red]leech: tagged and suspended[/red]" if result.leech else ""
                if result.review_id == 0:  # a preview answer: nothing is saved
                    again = result.interval_seconds
                    when = f"again in {result.interval_text}" if again else "done"
                    out.print(f"{RATINGS[rating]}: {when} (preview: not saved).\n")
                else:
                    out.print(f"{RATINGS[rating]}: next in {result.interval_text}.{note}\n")
            elif key == "u":
                if not session.can_undo:
                    out.print("[yellow]Nothing to undo.[/yellow]\n")
                    continue
                op = session.undo_stack.peek()
                restored = session.undo()
                what = {"suspend": "suspending", "bury": "burying"}.get(
                    op.kind if op else "", "the answer to"
                )
                out.print(f"[yellow]Undid {what} card {restored.id}.[/yellow]\n")
            elif key == "s":
                session.suspend(card.id)
                out.print(f"[yellow]Card {card.id} suspended.[/yellow]\n")
            elif key == "b":
                session.bury(card.id, now=_now(app))
                out.print(f"[yellow]Card {card.id} buried until tomorrow.[/yellow]\n")
        except StudylogError as exc:
            raise click.ClickException(str(exc)) from None
    answered = [a.rating for a in session.answers]
    session.close()
    done = Counter(answered)
    total = len(answered)
    if total:
        minutes = (time.monotonic() - started) / 60
        parts = ", ".join(f"{RATINGS[r]} {done[r]}" for r in sorted(done))
        out.print(
            f"Reviewed {total} card{'s' if total != 1 else ''} in {minutes:.1f} min ({parts})."
        )


@dataclass(frozen=True)
class StudyOptions:
    """``studylog review``'s options: the deck, and at most one custom study."""

    deck: str | None
    ahead: int | None
    forgotten: int | None
    query: str | None
    preview: bool
    limit: int | None
    extra_new: int | None


def _session(db: Database, app: AppContext, options: StudyOptions):  # noqa: ANN202 - a ReviewSession
    """The session the options ask for (one custom study at a time)."""
    from studylog.services import custom_study
    from studylog.services.review import ReviewSession

    deck, ahead, forgotten, query = options.deck, options.ahead, options.forgotten, options.query
    preview, limit, extra_new = options.preview, options.limit, options.extra_new

    chosen = [
        name
        for name, v in (("--ahead", ahead), ("--forgotten", forgotten), ("--search", query))
        if v is not None
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one custom study, not {' and '.join(chosen)}")
    if (preview or limit is not None) and not chosen:
        raise click.UsageError("--preview and --limit go with --ahead, --forgotten or --search")
    if extra_new is not None:
        total = custom_study.extend_new(db, extra_new, deck=deck, now=_now(app))
        click.echo(f"New cards today: up to {total}{f' in {deck}' if deck else ''}.")
    if not chosen:
        return ReviewSession(db, now=_now(app), deck=deck)
    limits = {} if limit is None else {"limit": limit}
    if ahead is not None:
        study = custom_study.review_ahead(ahead, deck=deck, reschedule=not preview, **limits)
    elif forgotten is not None:
        study = custom_study.forgotten(forgotten, deck=deck, reschedule=not preview, **limits)
    else:
        text = query if deck is None else f"{custom_study.deck_term(deck)}({query})"
        study = custom_study.search(text, reschedule=not preview, **limits)
    return custom_study.CustomSession(db, study, now=_now(app))


@click.command("stats")
@click.option(
    "--days",
    "period_days",
    type=click.IntRange(min=365),
    default=None,
    metavar="N",
    help="Count the review history of the last N study days only (at least 365; Anki's "
    "statistics show one year). Default: the whole history.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def stats(app: AppContext, period_days: int | None, as_json: bool) -> None:
    """Statistics: reviews per day, streak, forecast, true retention, memory, calibration."""
    from studylog.services import memory_stats
    from studylog.services import stats as stats_service

    try:
        result = stats_service.collection_stats(
            app.database(), now=_now(app), period_days=period_days
        )
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
    if s.period_days is not None:
        out.print(
            f"[dim]Retention, log loss and RMSE over the last {s.period_days} study days only "
            "(--days).[/dim]"
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


def run_review_log_import(
    db: Database, path: Path, dry_run: bool, deck: str | None = None
) -> ReviewLogSummary:
    """Import a review-log CSV for ``studylog import`` (ClickException on bad input)."""
    from studylog.interchange.review_log import import_review_log

    try:
        return import_review_log(db, path, dry_run=dry_run, deck=deck)
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
    if summary.cards_created:
        click.echo(
            f"The {summary.cards_created:,} new cards have no text yet: they wait in deck "
            f"{summary.deck!r} and stay out of review until you add their text "
            "(studylog card edit ID, or import the Anki package they came from)."
        )
    if summary.leeches:
        click.echo(
            f"{summary.leeches:,} cards became leeches (tagged leech): "
            "see them with studylog card list --tag leech."
        )


__all__ = ["review", "stats", "run_review_log_import", "print_review_log_summary"]
