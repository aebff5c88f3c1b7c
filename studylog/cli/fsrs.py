"""``studylog fsrs``: fit FSRS-6 to your own reviews, evaluate the fit, simulate the workload."""

from __future__ import annotations

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import print_json


@click.group("fsrs")
def fsrs() -> None:
    """FSRS fitted to your reviews: optimize, evaluate, simulate, undo a rescheduling."""


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %"


def _params_line(params: tuple[float, ...]) -> str:
    return ", ".join(f"{w:.4f}" for w in params)


@fsrs.command("optimize")
@click.option("--deck", metavar="DECK", help="Optimize the preset this deck uses.")
@click.option("--dry-run", is_flag=True, help="Fit and report, save nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def optimize(app: AppContext, deck: str | None, dry_run: bool, as_json: bool) -> None:
    """Fit the 21 FSRS-6 parameters to your review history (fsrs-rs, as Anki does).

    The new parameters replace the current ones only if they predict your
    answers better (a lower log loss, Anki's rule); then every card is
    rescheduled with them.
    """
    from studylog.services import optimizer

    report = optimizer.optimize(app.database(), deck=deck, dry_run=dry_run, now=app.now())
    if as_json:
        print_json(report.to_json())
        return
    fit = report.fit
    click.echo(
        f"Fitted FSRS-6 to {report.items:,} reviews of {report.cards:,} cards in {report.scope}: "
        f"log loss {fit.current_score.log_loss:.4f} -> {fit.fitted_score.log_loss:.4f}, "
        f"RMSE(bins) {_pct(fit.current_score.rmse_bins)} -> {_pct(fit.fitted_score.rmse_bins)}."
    )
    if not fit.adopted:
        click.echo(
            "Kept the current parameters: the fitted ones do not lower the log loss "
            f"({fit.fitted_score.log_loss:.4f} vs {fit.current_score.log_loss:.4f})."
        )
        return
    click.echo(f"Parameters: {_params_line(fit.params)}")
    if report.dry_run:
        click.echo("Not saved (--dry-run).")
    else:
        click.echo(
            f"Saved; {report.rescheduled:,} cards rescheduled with them (undo: studylog fsrs undo)."
        )


@fsrs.command("undo")
@pass_app
def undo(app: AppContext) -> None:
    """Undo the latest change of parameters or desired retention and its rescheduling.

    The settings get their old values back and every card its schedule as it
    was before. Refused when cards were answered since.
    """
    from studylog.services import settings as settings_service

    label = settings_service.undo_reschedule(app.database())
    click.echo(f"Undone: {label}; every card's schedule is back as it was.")


@fsrs.command("evaluate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def evaluate(app: AppContext, as_json: bool) -> None:
    """How well the current parameters predict your answers (log loss, RMSE over Anki's bins).

    Also scores FSRS-6's default parameters on the same reviews, and, with
    more than 300 of them, a time-series split: fitted on the past, scored
    on the reviews that came after.
    """
    from studylog.services import optimizer

    report = optimizer.evaluate(app.database(), now=app.now())
    if as_json:
        print_json(report.to_json())
        return
    click.echo(f"{report.items:,} reviews of {report.cards:,} cards (lower is better):")
    rows = [
        ("current parameters", report.current),
        ("default parameters", report.default),
    ]
    if report.time_split is not None:
        rows.append(("time-series split", report.time_split.score))
    for name, score in rows:
        click.echo(
            f"  {name:<20} log loss {score.log_loss:.4f}   RMSE(bins) {_pct(score.rmse_bins)}"
        )
    split = report.time_split
    if split is None:
        click.echo("  time-series split: needs more than 300 reviews")
    else:
        verdict = "a good fit" if split.good_fit else "a poor fit (Anki's health check)"
        click.echo(
            f"  the split fitted {split.folds} times on the past and scored "
            f"{split.items_scored:,} later reviews: {verdict}"
        )


@fsrs.command("simulate")
@click.option("--retention", type=float, metavar="R", help="Desired retention (default: yours).")
@click.option("--days", type=int, default=365, show_default=True, help="Days to simulate.")
@click.option("--new-per-day", type=int, metavar="K", help="New cards a day (default: yours).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def simulate(
    app: AppContext, retention: float | None, days: int, new_per_day: int | None, as_json: bool
) -> None:
    """Simulate your reviews ahead: reviews and minutes a day, memorised cards.

    Starts from your cards as they are today and uses your own answer times
    and button use; also recommends a desired retention (fsrs-rs's optimal
    retention, 0.70-0.95).
    """
    from studylog.services import workload

    report = workload.simulate(
        app.database(), retention=retention, days=days, new_per_day=new_per_day, now=app.now()
    )
    if as_json:
        print_json(report.to_json())
        return
    _print_simulation(report)


def _print_simulation(report) -> None:  # noqa: ANN001 - workload.WorkloadReport
    from rich.table import Table

    from studylog.cli.output import console

    s = report.simulation
    out = console()
    out.print(
        f"{report.days} days at desired retention {report.desired_retention:.2f} with "
        f"{report.new_per_day} new cards a day, from {report.cards_now:,} cards learned so far:"
    )
    out.print(
        f"  {int(s.reviews.sum()):,} reviews ({s.reviews.mean():.0f} a day), "
        f"{s.minutes.sum() / 60:.1f} hours ({s.minutes.mean():.0f} min a day); memorised "
        f"cards {s.memorized[0]:,.0f} -> {s.memorized[-1]:,.0f}"
    )
    table = Table(title_justify="left")
    for name in ("days", "reviews/day", "new/day", "min/day", "memorised"):
        table.add_column(name, justify="right")
    step = 7 if report.days <= 60 else 30
    for start in range(0, report.days, step):
        end = min(start + step, report.days)
        table.add_row(
            f"{start + 1}-{end}",
            f"{s.reviews[start:end].mean():.0f}",
            f"{s.learned[start:end].mean():.0f}",
            f"{s.minutes[start:end].mean():.1f}",
            f"{s.memorized[end - 1]:,.0f}",
        )
    out.print(table)
    if report.optimal_retention is not None:
        out.print(
            f"Recommended desired retention: {report.optimal_retention:.2f} (the least time "
            "per memorised card, fsrs-rs's optimal retention within 0.70-0.95)"
        )
