"""``studylog card``: create, list, show, edit and remove flashcards."""

from __future__ import annotations

import click

from studylog.cli.context import AppContext, pass_app
from studylog.cli.output import console, print_json


@click.group()
def card() -> None:
    """Flashcards: add, list, show, edit, rm."""


@card.command("add")
@click.argument("front")
@click.argument("back", required=False, default="")
@click.option("--cloze", is_flag=True, help="FRONT has cloze deletions like {{c1::text}}.")
@click.option("--deck", default="Default", show_default=True)
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--concept", "concept_slug", metavar="SLUG", help="The concept it belongs to.")
@pass_app
def add(
    app: AppContext,
    front: str,
    back: str,
    cloze: bool,
    deck: str,
    tags: tuple[str, ...],
    concept_slug: str | None,
) -> None:
    """Add a card: FRONT and BACK (markdown), or a cloze FRONT with --cloze."""
    from studylog.services import cards

    made = cards.create(
        app.database(),
        front,
        back,
        kind="cloze" if cloze else "basic",
        deck=deck,
        tags=tags,
        concept_slug=concept_slug,
        now=app.now(),
    )
    ids = ", ".join(str(c.id) for c in made)
    click.echo(f"Added card{'s' if len(made) > 1 else ''} {ids}.")


# browse.SORTS, repeated so that `studylog --help` need not import the services (a test
# checks they agree).
SORT_CHOICES = (
    "added",
    "modified",
    "due",
    "interval",
    "stability",
    "difficulty",
    "retrievability",
    "lapses",
    "reviews",
)


@card.command("list")
@click.option(
    "--search",
    "-s",
    "query",
    default="",
    metavar="QUERY",
    help='Anki\'s search syntax: words, "phrases", -not, OR, ( ), deck: tag: concept: '
    "is:new|learn|review|due|suspended|buried|leech, kind:basic|cloze|exercise|computed, "
    "prop:ivl|due|reps|lapses|s|d|r>=N, "
    "rated:N[:R], added:N, introduced:N.",
)
@click.option(
    "--sort",
    type=click.Choice(SORT_CHOICES),
    default="added",
    show_default=True,
    help="The column to sort by (ties by card id).",
)
@click.option("--desc", "descending", is_flag=True, help="Sort descending.")
@click.option("--deck", help="Only this deck and its subdecks (as deck:NAME).")
@click.option("--tag", help="Only this tag (as tag:NAME).")
@click.option(
    "--concept", "concept_slug", metavar="SLUG", help="Only this concept (as concept:SLUG)."
)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of cards).")
@pass_app
def list_(
    app: AppContext,
    query: str,
    sort: str,
    descending: bool,
    deck: str | None,
    tag: str | None,
    concept_slug: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List cards matching a search, sorted (the browser's list).

    Example: studylog card list -s 'deck:딥러닝 -is:suspended prop:r<0.9' --sort retrievability
    """
    from rich.table import Table

    from studylog.cardsearch import Concept, Deck, Tag, render
    from studylog.services import browse

    extra = [
        render(node)
        for node in (
            Deck(_literal(deck)) if deck else None,
            Tag(_literal(tag.lstrip("#"))) if tag else None,
            Concept(_literal(concept_slug)) if concept_slug else None,
        )
        if node is not None
    ]
    if extra:
        query = " ".join([f"({query})" if query.strip() else "", *extra]).strip()
    page = browse.search(
        app.database(),
        query,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
        now=app.now(),
    )
    if as_json:
        print_json(page.rows)
        return
    table = Table(box=None, header_style="bold", expand=True)
    for name in ("id", "front", "deck", "due", "ivl", "state", "S", "D", "R"):
        # The front takes what is left; the deck is cut first on a narrow terminal.
        table.add_column(
            name,
            overflow="ellipsis",
            no_wrap=True,
            ratio=1 if name == "front" else None,
            min_width=12 if name == "front" else None,
            max_width=24 if name == "deck" else None,
        )
    for row in page.rows:
        front = row.front.replace("\n", " ")
        table.add_row(
            str(row.id),
            front if len(front) <= 60 else front[:59] + "…",
            row.deck,
            row.due.strftime("%Y-%m-%d"),
            f"{row.interval_days}d" if row.interval_days else "-",
            row_state(row),
            f"{row.stability:.1f}" if row.stability is not None else "-",
            f"{(row.difficulty - 1) / 9:.0%}" if row.difficulty is not None else "-",
            f"{row.retrievability:.0%}" if row.retrievability is not None else "-",
        )
    console().print(table)
    shown = f"{offset + 1}-{offset + len(page.rows)}" if page.rows else "none"
    click.echo(f"{page.total} card{'s' if page.total != 1 else ''} match; showing {shown}.")


def _literal(name: str) -> str:
    """A name as a search pattern that matches it literally (its * and _ escaped)."""
    return name.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def row_state(row) -> str:  # noqa: ANN001 - a browse.BrowseRow
    """The state column: new/learning/review/relearning, or suspended/buried first."""
    if row.suspended:
        return "suspended"
    if row.buried:
        return "buried"
    return row.state


_STATE = {1: "learning", 2: "review", 3: "relearning"}


@card.command("info")
@click.argument("card_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def info(app: AppContext, card_id: int, as_json: bool) -> None:
    """Card info: fields, state, FSRS memory, every review, and what each answer would give now."""
    from rich.table import Table

    from studylog.services import browse

    detail = browse.card_info(app.database(), card_id, now=app.now())
    if as_json:
        print_json(detail)
        return
    c = detail.card
    out = console()
    out.print(f"[bold]card {c.id}[/] · {c.kind} · deck {c.deck} · tags {' '.join(c.tags) or '-'}")
    click.echo(f"front: {c.front}")
    click.echo(f"back:  {c.back or '-'}")
    click.echo(
        f"concept: {c.concept_slug or '-'} · state: {row_state(c)} · reps {c.reps} · lapses {c.lapses}"
    )
    stability = f"{c.stability:.2f} days" if c.stability is not None else "-"
    difficulty = (
        f"{c.difficulty:.2f} ({(c.difficulty - 1) / 9:.0%})" if c.difficulty is not None else "-"
    )
    r = f"{c.retrievability:.1%}" if c.retrievability is not None else "-"
    click.echo(f"stability: {stability} · difficulty: {difficulty} · retrievability: {r}")
    click.echo(f"due: {c.due:%Y-%m-%d %H:%M} UTC · interval: {c.interval_days} days")
    click.echo("now: " + "  ".join(f"{name} {days:.2f}d" for name, days in detail.preview.items()))
    if detail.exercise_id is not None:
        click.echo(f"exercise {detail.exercise_id}: {len(detail.attempts)} attempt(s)")
        for a in detail.attempts:
            click.echo(
                f"  {a.attempted_at:%Y-%m-%d %H:%M} UTC  {a.status:<7}  "
                f"{a.checks_passed}/{a.checks} checks  {a.duration_ms} ms"
            )
    if not detail.reviews:
        click.echo("No reviews yet.")
        return
    table = Table(box=None, header_style="bold")
    for name in ("answered (UTC)", "rating", "state after", "S", "D", "interval"):
        table.add_column(name, no_wrap=True)
    for entry in detail.reviews:
        table.add_row(
            f"{entry.reviewed_at:%Y-%m-%d %H:%M}",
            entry.rating_name,
            entry.state_after,
            f"{entry.stability_after:.2f}" if entry.stability_after is not None else "-",
            f"{entry.difficulty_after:.2f}" if entry.difficulty_after is not None else "-",
            f"{entry.interval_days:.2f}d" if entry.interval_days is not None else "-",
        )
    out.print(table)


@card.command("show")
@click.argument("card_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, card_id: int, as_json: bool) -> None:
    """Show one card with its schedule."""
    from rich.markdown import Markdown

    from studylog.services import cards

    c = cards.get(app.database(), card_id)
    if as_json:
        print_json(c)
        return
    out = console()
    out.print(f"[bold]card {c.id}[/] · {c.kind} · deck {c.deck} · tags {' '.join(c.tags) or '-'}")
    out.print(Markdown(c.front))
    out.rule()
    out.print(Markdown(c.back or "-"))
    stability = f"{c.stability:.2f} d" if c.stability is not None else "-"
    difficulty = f"{c.difficulty:.2f}" if c.difficulty is not None else "-"
    out.print(
        f"[dim]state {_STATE.get(c.state, '?')} · due {c.due.isoformat()} · stability "
        f"{stability} · difficulty {difficulty} · reps {c.reps} · lapses {c.lapses}[/]"
    )


@card.command("edit")
@click.argument("card_id", type=int)
@click.option("--front")
@click.option("--back")
@click.option("--deck")
@click.option("--tag", "tags", multiple=True, help="Replace the tags (repeatable).")
@pass_app
def edit(
    app: AppContext,
    card_id: int,
    front: str | None,
    back: str | None,
    deck: str | None,
    tags: tuple[str, ...],
) -> None:
    """Edit a card's text, deck or tags (its schedule is kept). Without options: $EDITOR."""
    from studylog.services import cards

    db = app.database()
    if front is None and back is None and deck is None and not tags:
        current = cards.get(db, card_id)
        edited = click.edit(f"{current.front}\n\n---\n\n{current.back}\n", extension=".md")
        if edited is None:
            click.echo("Unchanged.")
            return
        head, sep, tail = edited.partition("\n---\n")
        if not sep:
            raise click.ClickException("keep the line '---' between the front and the back")
        front, back = head.strip(), tail.strip()
    updated = cards.edit(
        db, card_id, front=front, back=back, deck=deck, tags=tags or None, now=app.now()
    )
    click.echo(f"Card {updated.id} saved.")


@card.command("rm")
@click.argument("card_id", type=int)
@pass_app
def rm(app: AppContext, card_id: int) -> None:
    """Remove a card and its review history."""
    from studylog.services import cards

    cards.delete(app.database(), card_id)
    click.echo(f"Removed card {card_id}.")


@card.command("suggested")
@click.option(
    "--status",
    type=click.Choice(["pending", "accepted", "rejected", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def suggested(app: AppContext, status: str, limit: int, offset: int, as_json: bool) -> None:
    """Cards suggested by imported notes, waiting for accept or reject."""
    from rich.table import Table

    from studylog.services import suggestions

    items = suggestions.list_suggestions(
        app.database(), status=None if status == "all" else status, limit=limit, offset=offset
    )
    if as_json:
        print_json(items)
        return
    if not items:
        click.echo("No suggested cards." if status == "pending" else f"No {status} suggestions.")
        return
    out = console()
    # Fixed widths: one line per suggestion, the back gets what is left.
    widths = {"id": 5, "front": 22, "from": 22, "status": 9}
    widths["back"] = max(20, out.width - sum(widths.values()) - 2 * len(widths) - 2)
    table = Table(box=None, header_style="bold")
    for name in ("id", "front", "back", "from", "status"):
        table.add_column(name, overflow="ellipsis", no_wrap=True, width=widths[name])
    for s in items:
        where = f"{s.source}:{s.line}" if s.line else s.source
        back = s.back.replace("\n", " ")
        table.add_row(
            str(s.id),
            s.front.replace("\n", " "),
            back,
            where,
            s.status if s.kind == "basic" else f"{s.status} (cloze)",
        )
    out.print(table)
    if status == "pending":
        click.echo("Accept with: studylog card accept ID... (or --all); reject with: card reject")


def _ids_or_all(ids: tuple[int, ...], all_: bool) -> list[int] | None:
    if all_ and ids:
        raise click.UsageError("give suggestion ids or --all, not both")
    if not all_ and not ids:
        raise click.UsageError("give suggestion ids (see: studylog card suggested) or --all")
    return None if all_ else list(ids)


@card.command("accept")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Accept every pending suggestion.")
@click.option("--front", help="Replace the front (one suggestion only).")
@click.option("--back", help="Replace the back (one suggestion only).")
@click.option("--deck", help="Deck of the new cards (default: the suggestion's).")
@click.option("--tag", "tags", multiple=True, help="Tags of the new cards (repeatable).")
@click.option("--concept", "concept_slug", metavar="SLUG", help="The concept they belong to.")
@pass_app
def accept(
    app: AppContext,
    ids: tuple[int, ...],
    all_: bool,
    front: str | None,
    back: str | None,
    deck: str | None,
    tags: tuple[str, ...],
    concept_slug: str | None,
) -> None:
    """Make cards of suggested cards (they are new cards, due now)."""
    from studylog.services import suggestions

    made = suggestions.accept(
        app.database(),
        _ids_or_all(ids, all_),
        front=front,
        back=back,
        deck=deck,
        tags=tags or None,
        concept_slug=concept_slug,
        now=app.now(),
    )
    card_ids = ", ".join(str(c.id) for c in made)
    click.echo(
        f"Added {len(made)} card{'s' if len(made) != 1 else ''}"
        + (f": {card_ids}." if made else ".")
    )


@card.command("reject")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Reject every pending suggestion.")
@pass_app
def reject(app: AppContext, ids: tuple[int, ...], all_: bool) -> None:
    """Dismiss suggested cards (importing the same note again will not suggest them again)."""
    from studylog.services import suggestions

    n = suggestions.reject(app.database(), _ids_or_all(ids, all_), now=app.now())
    click.echo(f"Rejected {n} suggestion{'s' if n != 1 else ''}.")


# --- bulk actions (the browser's, on a search or on card ids) ---------------------------


def _bulk_target(query: str | None, ids: tuple[int, ...]) -> dict[str, object]:
    if (query is None) == (not ids):
        raise click.UsageError("give --search QUERY or card ids (one of them)")
    return {"query": query} if query is not None else {"ids": list(ids)}


def _bulk_report(result, as_json: bool) -> None:  # noqa: ANN001 - card_actions.ActionResult
    if as_json:
        print_json(result)
        return
    if not result.matched:
        click.echo("No cards match.")
    elif not result.changed:
        click.echo(
            f"{result.matched} card{'s' if result.matched != 1 else ''} match; none changed."
        )
    else:
        click.echo(f"{result.label} (of {result.matched} matching). Undo with: studylog card undo")


def _bulk_command(name: str, action: str, help_text: str, argument: str | None = None):  # noqa: ANN202
    """A ``card NAME [ARG] [IDS]... [--search QUERY]`` command calling ``card_actions.ACTION``."""

    @click.argument("ids", nargs=-1, type=int)
    @click.option("--search", "-s", "query", metavar="QUERY", help="The cards of an Anki search.")
    @click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
    @pass_app
    def command(app: AppContext, ids: tuple[int, ...], query: str | None, as_json: bool, **extra):  # noqa: ANN003
        from studylog.services import card_actions

        target = _bulk_target(query, ids)
        function = getattr(card_actions, action)
        if argument == "tags":
            result = function(app.database(), extra["tags"], now=app.now(), **target)
        elif argument:
            result = function(app.database(), extra[argument], now=app.now(), **target)
        elif action == "forget":
            result = function(
                app.database(), reset_counts=extra["reset_counts"], now=app.now(), **target
            )
        else:
            result = function(app.database(), now=app.now(), **target)
        _bulk_report(result, as_json)

    command.__doc__ = help_text
    if argument == "deck":
        command = click.option("--deck", required=True, help="The deck (:: for subdecks).")(command)
    elif argument == "tags":
        command = click.option(
            "--tag", "tags", multiple=True, required=True, help="A tag (repeatable)."
        )(command)
    elif argument == "days":
        command = click.option(
            "--days", required=True, metavar="N|N-M", help="Study days from today (0 = today)."
        )(command)
    elif action == "forget":
        command = click.option(
            "--reset-counts",
            is_flag=True,
            help="Also set reviews and lapses to 0 (as Anki's option).",
        )(command)
    return card.command(name)(command)


_bulk_command("suspend", "suspend", "Suspend cards (a search or ids): out of every queue.")
_bulk_command("unsuspend", "unsuspend", "Unsuspend cards: back with the schedule they had.")
_bulk_command("bury", "bury", "Bury cards until the next study day.")
_bulk_command("move", "move", "Move cards to another deck (--deck).", "deck")
_bulk_command("tag", "add_tags", "Add tags to cards (--tag, repeatable).", "tags")
_bulk_command("untag", "remove_tags", "Remove tags from cards (--tag, repeatable).", "tags")
_bulk_command("forget", "forget", "Make cards new again, due now (their history is kept).")
_bulk_command(
    "set-due", "set_due", "Set the due date of reviewed cards (--days N or N-M, as Anki).", "days"
)
_bulk_command(
    "delete",
    "delete_cards",
    "Delete cards (undo brings them back); their review history stays in the log, as in Anki.",
)


@card.command("undo")
@pass_app
def undo(app: AppContext) -> None:
    """Undo the newest bulk card action (of the CLI or the app's browser)."""
    from studylog.services import card_actions

    label = card_actions.undo(app.database())
    click.echo(f"Undone: {label}.")
