"""Statistics: the year of study days, reviews per day, the due forecast, retention, memory.

Everything comes from :func:`studylog.services.stats.collection_stats` (and
the journal's entry days for the calendar), computed in a thread worker that
posts :class:`StatsReady`: on a big collection it takes about half a second,
and the screen keeps answering keys meanwhile (a loading indicator the first
time, the previous numbers marked "updating" afterwards).

Below the tables, FSRS's own graphs (Anki's statistics: "Card Difficulty",
"Card Stability", "Card Retrievability"; :mod:`studylog.services.memory_stats`):
the three histograms and the memorised cards (sum of retrievability) over the
last year; then the workload against the desired retention (Anki's workload
graph and its recommended minimum, :mod:`studylog.services.workload`): minutes
of study and memorised cards after a year of the learner's own pace and answer
times, for each desired retention, with the recommendation next to the
current setting. Those come from two more workers (the simulations take a few
seconds on a big collection); ``m`` scrolls to them.

Definitions are the service's (Anki's statistics screen and the FSRS papers):
true retention counts the first answer of a Review card on a study day,
young < 21 days < mature; total knowledge is the sum of the retrievability of
every reviewed card; log loss and RMSE compare the predicted recall
probability with the answers (lower is better).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any, ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import LoadingIndicator, Static

from studylog.errors import StudylogError
from studylog.services import journal, memory_stats
from studylog.services import stats as stats_service
from studylog.services import workload as workload_service
from studylog.services.stats import Stats
from studylog.tui.changes import CollectionScreen
from studylog.tui.widgets.calendar import WEEKS, DayActivity, YearHeatmap, grid_start
from studylog.tui.widgets.guard import guarded
from studylog.tui.widgets.keybar import KeyBar
from studylog.tui.widgets.modebar import ModeBar
from studylog.tui.widgets.plots import BarChart, hbars

PERIODS = (
    ("today", "Today"),
    ("yesterday", "Yest."),
    ("week", "Week"),
    ("month", "Month"),
    ("year", "Year"),
    ("all", "All"),
)


class StatsReady(Message):
    """The worker computed the statistics (``seconds``: how long it took)."""

    def __init__(self, stats: Stats, entries: dict[date, int], seconds: float) -> None:
        super().__init__()
        self.stats = stats
        self.entries = entries
        self.seconds = seconds


class MemoryReady(Message):
    """The FSRS memory histograms and memorised cards over time."""

    def __init__(self, memory: memory_stats.MemoryStats) -> None:
        super().__init__()
        self.memory = memory


class WorkloadReady(Message):
    """The workload per desired retention, the current setting and the recommendation."""

    def __init__(
        self, curve: workload_service.WorkloadCurve, current: float, recommended: float | None
    ) -> None:
        super().__init__()
        self.curve = curve
        self.current = current
        self.recommended = recommended


WORKLOAD_RETENTIONS = tuple(round(0.70 + 0.02 * i, 2) for i in range(15))
"""The desired retentions of the workload graph: 0.70 to 0.98 in steps of 0.02."""
WORKLOAD_DAYS = 365
PERIOD_DAYS = 365  # `y`: the review history of the last year only (Anki's default scope)


def workload_note(current: float, recommended: float | None, curve: Any) -> Text:
    """The current desired retention next to the recommendation, with what each costs."""
    text = Text()
    retentions = [round(float(r), 2) for r in curve.retentions]

    def at(r: float) -> str:
        i = min(range(len(retentions)), key=lambda k: abs(retentions[k] - r))
        minutes = float(curve.minutes[i]) / curve.days
        return f"{minutes:.1f} min/day, {float(curve.memorized[i]):,.0f} memorised"

    text.append("Desired retention ", style="bold")
    text.append(f"{current:.2f}", style="bold green")
    text.append(f"  ({at(current)} after {curve.days} days)\n")
    if recommended is None:
        text.append("No recommendation: too little history to simulate.", style="dim")
        return text
    text.append("Recommended       ", style="bold")
    text.append(f"{recommended:.2f}", style="bold cyan")
    text.append(f"  ({at(recommended)})\n")
    text.append(
        "fsrs-rs's optimal retention (Anki's recommended minimum) for new cards at your "
        "answer times; the setting is desired_retention",
        style="dim",
    )
    return text


class FsrsFailed(Message):
    """The FSRS memory (``kind`` "memory") or workload ("workload") could not be computed."""

    def __init__(self, kind: str, error: str) -> None:
        super().__init__()
        self.kind = kind
        self.error = error


class StatsFailed(Message):
    """The statistics could not be computed (a locked database, for example)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


def study_days(stats: Stats, entries: dict[date, int]) -> dict[date, DayActivity]:
    """Reviews and journal entries per study day, for the calendar."""
    days = {d: DayActivity(reviews=n) for d, n in stats.reviews_per_day if n}
    for d, n in entries.items():
        days[d] = DayActivity(reviews=days.get(d, DayActivity()).reviews, entries=n)
    return days


def percent(value: float | None) -> str:
    """``90.4%``; ``100%`` without decimals (it is exact); ``–`` without answers."""
    if value is None:
        return "–"
    return "100%" if value >= 1.0 else f"{100 * value:.1f}%"


def retention_table(stats: Stats) -> Table:
    """True retention by period: young, mature and all Review cards (percent, answers)."""
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        header_style="bold cyan",
        title="True retention (first answer of the day)",
        title_style="bold",
        title_justify="left",
    )
    table.add_column("", style="bold", no_wrap=True)
    for key, label in PERIODS:
        if key == "all" and stats.period_days is not None:
            label = f"{stats.period_days} d"  # "all" is the period's reviews only
        table.add_column(label, justify="right", no_wrap=True, min_width=6)
    for name, pick in (
        ("Young", lambda r: r.young),
        ("Mature", lambda r: r.mature),
        ("All", lambda r: r.total),
    ):
        cells = []
        for key, _ in PERIODS:
            counts = pick(stats.true_retention[key])
            cell = Text(percent(counts.retention))
            cell.append(f"\n{counts.total:,}", style="dim")
            cells.append(cell)
        table.add_row(name, *cells)
    return table


def counts_text(stats: Stats, width: int = 28) -> Text:
    """Cards by state as labelled bars."""
    c = stats.counts
    text = Text("Cards by state\n", style="bold")
    text.append_text(
        hbars(
            [
                ("New", c.new),
                ("Learning", c.learning),
                ("Relearning", c.relearning),
                ("Young", c.young),
                ("Mature", c.mature),
                ("Suspended", c.suspended),
                ("Buried", c.buried),
            ],
            width,
        )
    )
    text.append(f"\nTotal {c.total:,}", style="dim")
    return text


def memory_text(stats: Stats) -> Text:
    """Total knowledge, inter-day retention and the scheduler's calibration."""
    text = Text("Memory\n", style="bold")

    def line(label: str, value: str, note: str = "") -> None:
        text.append(f"{label:<11}")
        text.append(value, style="bold")
        if note:
            text.append(f" {note}", style="dim")
        text.append("\n")

    line("Knowledge", f"{stats.total_knowledge:,.1f}", "cards")
    line("Retention", percent(stats.inter_day_retention), f"of {stats.inter_day_reviews:,}")
    line("Log loss", "–" if stats.log_loss is None else f"{stats.log_loss:.4f}")
    line("RMSE", "–" if stats.rmse is None else f"{stats.rmse:.4f}")
    text.append("(calibration: lower is better)\n", style="dim")
    hist = stats.retrievability_histogram
    if any(hist):
        top = max(hist)
        bars = "".join(" ▁▂▃▄▅▆▇█"[min(8, round(8 * n / top)) if n else 0] for n in hist)
        text.append("Recall chance now\n", style="dim")
        text.append(bars, style="cyan")
        text.append("\n0%" + " " * (len(hist) - 6) + "100%", style="dim")
    return text


class StatsScreen(CollectionScreen):
    """The collection's statistics, computed in a worker (again after a change, or ``r``)."""

    DEFAULT_CSS = """
    StatsScreen #stats-title {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    StatsScreen #stats-body {
        height: 1fr;
        padding: 0 1;
    }
    StatsScreen #stats-loading {
        height: 3;
    }
    StatsScreen.-loaded #stats-loading {
        display: none;
    }
    StatsScreen #stats-body > * {
        display: none;
    }
    StatsScreen.-loaded #stats-body > * {
        display: block;
    }
    StatsScreen .section {
        height: 1;
        text-style: bold;
    }
    StatsScreen YearHeatmap {
        height: 9;
        margin: 0 0 1 0;
    }
    StatsScreen #charts {
        height: 12;
    }
    StatsScreen #reviews-chart {
        width: 1fr;
        margin: 0 2 0 0;
    }
    StatsScreen #forecast-chart {
        width: 1fr;
    }
    StatsScreen #tables {
        height: auto;
        margin: 1 0 0 0;
    }
    StatsScreen #counts {
        width: 28;
        height: auto;
    }
    StatsScreen #retention {
        width: 1fr;
        height: auto;
        margin: 0 2;
    }
    StatsScreen #memory {
        width: 30;
        height: auto;
    }
    StatsScreen .fsrs-charts {
        height: 10;
        margin: 0 0 1 0;
    }
    StatsScreen .fsrs-charts > BarChart {
        width: 1fr;
        height: 10;
        margin: 0 2 0 0;
    }
    StatsScreen #memorised-chart {
        height: 10;
        margin: 0 0 1 0;
    }
    StatsScreen #workload-note {
        height: auto;
        margin: 0 0 1 0;
    }
    /* Narrower than 120 columns (80x24): the charts and the tables one under another,
       and the title may take a second line (the period's note does not fit beside it). */
    StatsScreen.-narrow #stats-title {
        height: auto;
    }
    StatsScreen.-narrow #charts {
        layout: vertical;
        height: 25;
    }
    StatsScreen.-narrow #reviews-chart {
        margin: 0 0 1 0;
    }
    StatsScreen.-narrow #tables {
        layout: vertical;
    }
    StatsScreen.-narrow #counts, StatsScreen.-narrow #retention, StatsScreen.-narrow #memory {
        width: 1fr;
        margin: 0 0 1 0;
    }
    StatsScreen.-narrow .fsrs-charts {
        layout: vertical;
        height: auto;
    }
    StatsScreen.-narrow .fsrs-charts > BarChart {
        width: 1fr;
        margin: 0 0 1 0;
    }
    """
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (120, "-wide"),
    ]
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="stats.refresh"),
        Binding("m", "memory", "FSRS memory", id="stats.memory"),
        Binding("y", "period", "Last year/all", id="stats.period"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stats: Stats | None = None
        self.computing = False
        self._fsrs_running: set[str] = set()
        self._fsrs_again: set[str] = set()
        # None: the whole review history; 365: the last year only, as Anki's statistics.
        self.period_days: int | None = None
        self._period_again = False

    def compose(self) -> ComposeResult:
        yield ModeBar("stats")
        yield Static("Statistics", id="stats-title")
        yield LoadingIndicator(id="stats-loading")
        with VerticalScroll(id="stats-body"):
            yield Static("Study days (reviews and journal entries)", classes="section")
            yield YearHeatmap(id="calendar")
            with Horizontal(id="charts"):
                yield BarChart(id="reviews-chart", color="green")
                yield BarChart(id="forecast-chart", color="blue")
            with Horizontal(id="tables"):
                yield Static(id="counts")
                yield Static(id="retention")
                yield Static(id="memory")
            yield Static("FSRS memory (reviewed cards, not suspended)", id="fsrs-section",
                         classes="section")  # fmt: skip
            with Horizontal(classes="fsrs-charts"):
                yield BarChart(id="difficulty-chart", color="magenta")
                yield BarChart(id="stability-chart", color="cyan")
                yield BarChart(id="retrievability-chart", color="green")
            yield BarChart(id="memorised-chart", color="yellow")
            yield Static(
                f"Workload by desired retention ({WORKLOAD_DAYS} days simulated)",
                classes="section",
            )
            with Horizontal(classes="fsrs-charts"):
                yield BarChart(id="workload-minutes-chart", color="red")
                yield BarChart(id="workload-memorised-chart", color="yellow")
            yield Static("Simulating…", id="workload-note")
        yield KeyBar()

    def on_mount(self) -> None:
        self.compute()

    def refresh_collection(self) -> None:
        self.compute()

    @guarded
    def action_refresh(self) -> None:
        self.compute()

    @guarded
    def action_period(self) -> None:
        """Switch the review-history figures between the last 365 days and all history."""
        self.period_days = PERIOD_DAYS if self.period_days is None else None
        if self.computing:  # the running worker has the old scope: compute once more after
            self._period_again = True
            return
        self._recompute()

    def action_memory(self) -> None:
        """Scroll to the FSRS memory graphs."""
        self.query_one("#stats-body", VerticalScroll).scroll_to_widget(
            self.query_one("#fsrs-section"), top=True, animate=False
        )

    def compute(self) -> None:
        """Start the worker (the previous numbers stay until the new ones arrive)."""
        if self.computing:
            return
        self._recompute()
        self._start_fsrs("memory")
        self._start_fsrs("workload")

    def _recompute(self) -> None:
        """Start the statistics worker alone (the FSRS graphs do not depend on the period)."""
        self.computing = True
        if self.stats is not None:
            self._title(self.stats, note="updating…")
        self._worker(self.period_days)

    def _start_fsrs(self, kind: str) -> None:
        """Start the FSRS memory or workload worker; if it is running, once more after it
        (never cancelled halfway: the simulations take seconds)."""
        if kind in self._fsrs_running:
            self._fsrs_again.add(kind)
            return
        self._fsrs_running.add(kind)
        if kind == "memory":
            self._memory_worker()
        else:
            self._workload_worker()

    def _fsrs_done(self, kind: str) -> None:
        self._fsrs_running.discard(kind)
        if kind in self._fsrs_again:
            self._fsrs_again.discard(kind)
            self._start_fsrs(kind)

    @work(thread=True, group="stats-memory")
    def _memory_worker(self) -> None:
        try:
            found = memory_stats.memory_stats(self.app.db, now=self.app.now(), with_fit=False)
        except StudylogError as err:
            self.post_message(FsrsFailed("memory", str(err)))
            return
        except Exception as exc:  # noqa: BLE001 - reported, never a crash
            self.post_message(
                FsrsFailed("memory", f"FSRS memory failed: {type(exc).__name__}: {exc}")
            )
            return
        self.post_message(MemoryReady(found))

    @work(thread=True, group="stats-workload")
    def _workload_worker(self) -> None:
        import numpy as np

        from studylog.services import settings as settings_service

        db, now = self.app.db, self.app.now()
        try:
            current = float(settings_service.value(db, "desired_retention"))
            curve = workload_service.workload_curve(
                db, retentions=np.array(WORKLOAD_RETENTIONS), days=WORKLOAD_DAYS, now=now
            )
            recommended = None
            if float(curve.memorized.max(initial=0.0)) > 0:
                report = workload_service.simulate(db, days=WORKLOAD_DAYS, now=now)
                recommended = report.optimal_retention
        except StudylogError as err:
            self.post_message(FsrsFailed("workload", str(err)))
            return
        except Exception as exc:  # noqa: BLE001 - reported, never a crash
            self.post_message(
                FsrsFailed("workload", f"workload failed: {type(exc).__name__}: {exc}")
            )
            return
        self.post_message(WorkloadReady(curve, current, recommended))

    @guarded
    def on_fsrs_failed(self, message: FsrsFailed) -> None:
        self._fsrs_done(message.kind)
        self.notify(message.error, severity="error", timeout=8)

    @guarded
    def on_memory_ready(self, message: MemoryReady) -> None:
        self._fsrs_done("memory")
        m = message.memory
        for widget_id, title, hist in (
            ("#difficulty-chart", "Difficulty (cards)", m.difficulty),
            ("#stability-chart", "Stability, days (cards)", m.stability),
            ("#retrievability-chart", "Retrievability now (cards)", m.retrievability),
        ):
            self.query_one(widget_id, BarChart).set_data(title, hist.counts, hist.labels)
        days = [d for d, _ in m.memorised]
        values = [round(v, 1) for _, v in m.memorised]
        latest = values[-1] if values else 0.0
        self.query_one("#memorised-chart", BarChart).set_data(
            f"Memorised cards (sum of retrievability) per day  ({latest:,.1f} now)",
            values,
            [_short(d) for d in days],
        )

    @guarded
    def on_workload_ready(self, message: WorkloadReady) -> None:
        self._fsrs_done("workload")
        curve = message.curve
        labels = [f"{float(r):.2f}" for r in curve.retentions]
        self.query_one("#workload-minutes-chart", BarChart).set_data(
            "Minutes per day",
            [round(float(m) / curve.days, 1) for m in curve.minutes],
            labels,
        )
        self.query_one("#workload-memorised-chart", BarChart).set_data(
            f"Memorised after {curve.days} days",
            [round(float(m)) for m in curve.memorized],
            labels,
        )
        self.query_one("#workload-note", Static).update(
            workload_note(message.current, message.recommended, curve)
        )

    @work(thread=True, exclusive=True, group="stats")
    def _worker(self, period_days: int | None) -> None:
        db = self.app.db
        now = self.app.now()
        started = time.perf_counter()
        try:
            stats = stats_service.collection_stats(db, now=now, period_days=period_days)
            first = grid_start(stats.today, WEEKS)
            entries = journal.days_with_entries(db, first, stats.today)
        except StudylogError as err:
            self.post_message(StatsFailed(str(err)))
            return
        except Exception as exc:  # noqa: BLE001 - reported, never a crash
            self.post_message(StatsFailed(f"statistics failed: {type(exc).__name__}: {exc}"))
            return
        self.post_message(StatsReady(stats, entries, time.perf_counter() - started))

    def _computed(self) -> None:
        self.computing = False
        if self._period_again:
            self._period_again = False
            self._recompute()

    @guarded
    def on_stats_failed(self, message: StatsFailed) -> None:
        self._computed()
        self.notify(message.error, severity="error", timeout=8)
        if self.stats is not None:
            self._title(self.stats)

    @guarded
    def on_stats_ready(self, message: StatsReady) -> None:
        self.stats = stats = message.stats
        self._title(stats)
        self.query_one(YearHeatmap).set_data(study_days(stats, message.entries), stats.today)
        recent = stats.reviews_per_day
        total_30 = sum(n for _, n in recent[-30:])
        self.query_one("#reviews-chart", BarChart).set_data(
            f"Reviews per day  ({total_30:,} in the last 30 days)",
            [n for _, n in recent],
            [_short(d) for d, _ in recent],
        )
        forecast = stats.forecast
        due_week = sum(n for _, n in forecast[:7])
        self.query_one("#forecast-chart", BarChart).set_data(
            f"Due forecast, next 30 days  ({due_week:,} in 7 days)",
            [n for _, n in forecast],
            [_short(d) for d, _ in forecast],
        )
        self.query_one("#counts", Static).update(counts_text(stats))
        self.query_one("#retention", Static).update(retention_table(stats))
        self.query_one("#memory", Static).update(memory_text(stats))
        self.add_class("-loaded")
        self._computed()  # last: a period switched meanwhile titles itself "updating…"

    def _title(self, stats: Stats, note: str = "") -> None:
        text = Text("Statistics  ", style="bold")
        text.append(stats.today.isoformat())
        text.append("  ·  streak ")
        text.append(f"{stats.streak} day{'s' if stats.streak != 1 else ''}", style="bold green")
        today_reviews = stats.reviews_per_day[-1][1] if stats.reviews_per_day else 0
        text.append(f"  ·  {today_reviews} reviews today")
        text.append(f"  ·  {stats.counts.total:,} cards")
        if stats.period_days is not None:
            text.append(f"  ·  history: last {stats.period_days} days", style="bold")
        if note:
            text.append(f"   {note}", style="dim italic")
        self.query_one("#stats-title", Static).update(text)


def _short(day: date) -> str:
    return day.strftime("%m-%d")
