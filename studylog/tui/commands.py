"""The command palette (ctrl+p): screens, concepts (by title or alias, Korean too), days,
a new entry or TODO, and a concept's demo.

Typing a date (``2026-11-03``, ``yesterday``, ``-3`` for three days back)
offers to jump to that study day; ``todo <text>`` offers to add that TODO to
today. Concepts are read once when the palette opens, in a thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from studylog.errors import StudylogError
from studylog.services import concepts as concept_service
from studylog.services.concepts import ConceptSummary
from studylog.studyday import parse_day
from studylog.tui.access import as_studylog_app

if TYPE_CHECKING:
    from studylog.tui.app import StudylogApp

_OFFSET = re.compile(r"^[-+]\d{1,4}$")


def day_from_query(query: str, today: date) -> date | None:
    """The study day a palette query names: ISO date, today/yesterday/tomorrow, or ``-N``."""
    text = query.strip().lower()
    for prefix in ("day ", "go ", "date "):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    if _OFFSET.match(text):
        return today + timedelta(days=int(text))
    try:
        return parse_day(text, today)
    except StudylogError:
        return None


class StudylogCommands(Provider):
    """See the module docstring."""

    @property
    def studylog(self) -> StudylogApp:
        """The app, typed (a provider is not a widget; Textual types its ``app`` loosely)."""
        return as_studylog_app(self.app, self)

    async def startup(self) -> None:
        self.concepts: list[ConceptSummary] = []
        try:
            self.concepts = await asyncio.to_thread(
                concept_service.list_concepts,
                self.studylog.db,
            )
        except StudylogError as error:
            self.app.notify(f"concepts unavailable: {error}", severity="error")

    def _static_commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = self.studylog
        commands: list[tuple[str, Callable[[], Any], str]] = [
            (
                f"Go to {mode.title} ({mode.key})",
                partial(app.action_goto, mode.name),
                f"Switch to the {mode.title} screen",
            )
            for mode in app.MODE_REGISTRY
        ]
        commands += [
            ("New journal entry", app.action_new_entry, "Write a new entry for today"),
            ("Add TODO", app.action_add_todo, "Add a TODO to today's list"),
            ("Go to today", partial(app.open_day, None), "Today on the current study day"),
            ("Go to date…", app.action_go_to_day, "Jump to a study day (YYYY-MM-DD)"),
            (
                "Suggested cards",
                app.open_suggestions,
                "Accept or reject the cards found in your imported notes",
            ),
            (
                "Settings",
                app.open_settings,
                "Desired retention, steps, daily limits, day start, per-deck presets (F9)",
            ),
            ("Help: keys", app.action_help, "Every key of the app (F1)"),
        ]
        return commands

    async def discover(self) -> Hits:
        for text, callback, help_text in self._static_commands():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        app = self.studylog
        matcher = self.matcher(query)
        for text, callback, help_text in self._static_commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)

        day = day_from_query(query, app.today())
        if day is not None:
            text = f"Go to study day {day.isoformat()} ({day.strftime('%a')})"
            yield Hit(1.0, text, partial(app.open_day, day), text=text)

        lowered = query.strip()
        if lowered.lower().startswith("todo ") and lowered[5:].strip():
            todo_text = lowered[5:].strip()
            text = f"Add TODO to today: {todo_text}"
            yield Hit(1.0, text, partial(app.add_todo_today, todo_text), text=text)

        for concept in self.concepts:
            names = " ".join([concept.title, concept.slug, *concept.aliases])
            score = max(matcher.match(concept.title), _alias_score(query, concept, matcher))
            if score > 0:
                alias = _matching_alias(query, concept)
                label = concept.title + (f"  ({alias})" if alias else "")
                yield Hit(
                    score,
                    matcher.highlight(label) if not alias else label,
                    partial(app.open_concept, concept.slug),
                    text=f"Concept: {names}",
                    help=f"Open the concept page · {', '.join(concept.tags) or concept.slug}",
                )
            if concept.has_demo:
                run_label = f"Run demo: {concept.title}"
                run_score = max(matcher.match(run_label), score * 0.9)
                if run_score > 0:
                    yield Hit(
                        run_score,
                        matcher.highlight(run_label),
                        partial(app.run_demo, concept.slug),
                        text=run_label,
                        help="Open the concept page and run its demo",
                    )


def _matching_alias(query: str, concept: ConceptSummary) -> str | None:
    wanted = query.strip().lower()
    if not wanted or wanted in concept.title.lower():
        return None
    for alias in [concept.slug, *concept.aliases]:
        if wanted in alias.lower():
            return alias
    return None


def _alias_score(query: str, concept: ConceptSummary, matcher) -> float:  # noqa: ANN001
    """Substring hits on an alias or the slug score high (Korean aliases such as 어텐션
    are how students name concepts); fuzzy hits on them a little lower."""
    wanted = query.strip().lower()
    best = 0.0
    for alias in [concept.slug, *concept.aliases]:
        if wanted and wanted in alias.lower():
            best = max(best, 0.9 if alias.lower() == wanted else 0.7)
        else:
            best = max(best, matcher.match(alias) * 0.8)
    return best
