"""``studylog fsrs``: fit FSRS-6 to your own reviews, evaluate the fit, simulate the workload."""

from __future__ import annotations

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import print_json


@click.group("fsrs")
def fsrs() -> None:
    """FSRS fitted to your reviews: optimize, evaluate."""


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
        click.echo(f"Saved; {report.rescheduled:,} cards rescheduled with them.")


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
