"""Collection settings stored in the ``settings`` table as JSON values.

Two levels:

- raw JSON values by stored key (:func:`get`, :func:`put`, :func:`get_in`,
  :func:`set_in`), for anything that is not a scheduler setting;
- the typed scheduler settings defined once in :mod:`studylog.scheduling.settings`
  (:func:`values`, :func:`value`, :func:`update`, :func:`reset`): checked on
  write, one transaction, and the cards rescheduled when a setting that moves
  them changed (desired retention, steps, maximum interval, fuzz, parameters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, or_, select

from studylog.errors import NotFoundError
from studylog.scheduling import settings as defs
from studylog.storage import tables
from studylog.storage.engine import Database
from studylog.studyday import StudyCalendar, local_zone

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from studylog.services.reschedule import RescheduleSummary
    from studylog.storage import bulk

DAY_START_HOUR = defs.SETTINGS["day_start_hour"].stored_as
TIMEZONE = defs.SETTINGS["timezone"].stored_as
DECK_PRESETS = "deck_presets"
"""The ``settings`` row holding each deck's own preset: {deck: {setting key: stored JSON}}."""
SHARED_PRESETS = "shared_presets"
"""Named presets several decks can share (Anki's deck options presets): {name: {key: stored}}."""
DECK_PRESET_NAMES = "deck_preset_names"
"""Which shared preset a deck uses: {deck: preset name}. A deck listed here has no own preset."""
PRESET_ROWS = (DECK_PRESETS, SHARED_PRESETS, DECK_PRESET_NAMES)
THEME = "theme"
"""The app's colour theme: a Textual theme name (the app ignores a name it does not know)."""
_MAX_NAME = 200  # characters of a theme, deck or preset name taken from an export


# The reads here take a Session or a Core Connection: ``studylog today`` reads the
# settings through a Core connection and never imports the ORM (models are imported
# only where a row is written, inside the functions). The writes take a Session.
_settings = tables.settings
_cards = tables.cards


def get_in(reader: Session | Connection, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, or ``default``, in the caller's transaction.

    A Session answers as ``Session.get`` does (from its identity map when it holds
    the row, so its unflushed changes count); a Connection reads the row.
    """
    if isinstance(reader, Connection):
        found = reader.execute(select(_settings.c.value).where(_settings.c.key == key)).first()
        return default if found is None else found[0]
    from studylog.storage.models import Setting

    row = reader.get(Setting, key)
    return default if row is None else row.value


def get(db: Database, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, or ``default``."""
    with db.read_connection() as conn:
        return get_in(conn, key, default)


def set_in(session: Session, key: str, value: Any) -> None:
    from studylog.storage.models import Setting

    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def delete_in(session: Session, key: str) -> None:
    """Remove the row ``key`` (nothing happens when there is none)."""
    from studylog.storage.models import Setting

    row = session.get(Setting, key)
    if row is not None:
        session.delete(row)


def put(db: Database, key: str, value: Any) -> None:
    """Store ``value`` (JSON-able) under ``key``."""
    with db.write() as session:
        set_in(session, key, value)


# --- typed scheduler settings ---------------------------------------------------------


def values_in(reader: Session | Connection) -> dict[str, Any]:
    """Every scheduler setting's value (setting key -> typed value), in one SELECT."""
    stored = {d.stored_as for d in defs.SETTINGS.values()}
    rows = reader.execute(
        select(_settings.c.key, _settings.c.value).where(_settings.c.key.in_(stored))
    )
    return defs.from_stored({key: raw for key, raw in rows})


def values(db: Database) -> dict[str, Any]:
    """Every scheduler setting (key -> typed value, defaults for what is not stored)."""
    with db.read_connection() as conn:
        return values_in(conn)


def value(db: Database, key: str) -> Any:
    """One scheduler setting's typed value. Raises SettingError for an unknown key."""
    definition = defs.setting(key)
    with db.read() as session:
        return definition.from_stored(get_in(session, definition.stored_as))


@dataclass(frozen=True)
class SettingsUpdate:
    """The result of :func:`update`: every value after it, the keys that changed,
    and what rescheduling did (None when nothing had to move)."""

    values: dict[str, Any]
    changed: tuple[str, ...]
    reschedule: RescheduleSummary | None


def update_in(
    session: Session, changes: Mapping[str, Any], reset: Iterable[str] = ()
) -> SettingsUpdate:
    """:func:`update` inside the caller's transaction."""
    from studylog.services import reschedule as reschedule_service  # lazy: NumPy

    resets = [defs.setting(k).key for k in reset]
    checked = {defs.setting(k).key: defs.setting(k).validate(v) for k, v in changes.items()}
    old = values_in(session)
    new = dict(old)
    new.update({k: defs.SETTINGS[k].default for k in resets})
    new.update(checked)
    config = defs.config_from(new)
    config.validate()  # the combination (e.g. parameters with steps) must build a scheduler
    changed = tuple(k for k in defs.SETTINGS if new[k] != old[k])
    presets = deck_presets_in(session)
    before, after = DeckSettings(old, presets), DeckSettings(new, presets)
    for deck in presets:  # a deck's preset with the new collection values must still work
        after.config(deck).validate()
    kind = defs.reschedule_kind(old, new)
    if kind:  # the undo snapshot: the stored values before, every card before
        touched = {defs.SETTINGS[k].stored_as for k in (*resets, *checked)}
        label = "; ".join(
            f"{k} {defs.SETTINGS[k].format(old[k])} -> {defs.SETTINGS[k].format(new[k])}"
            for k in changed
            if defs.SETTINGS[k].scheduler
        )
        move_due = bool(new.get("reschedule_on_change", True))
        current = reschedule_service.save_undo_in(
            session,
            label,
            {key: get_in(session, key) for key in sorted(touched)},
            replayed=kind == "full" and move_due,
        )
    for key in resets:
        if key not in checked:
            delete_in(session, defs.SETTINGS[key].stored_as)
    for key in checked:
        if key in changed or get_in(session, defs.SETTINGS[key].stored_as) is None:
            set_in(session, defs.SETTINGS[key].stored_as, defs.SETTINGS[key].to_stored(new[key]))
    summary = None
    if kind:
        session.flush()
        summary = reschedule_changed_in(
            session,
            before,
            after,
            move_due=bool(new.get("reschedule_on_change", True)),
            current=current,
        )
    return SettingsUpdate(new, changed, summary)


def update(
    db: Database, changes: Mapping[str, Any], *, reset: Iterable[str] = ()
) -> SettingsUpdate:
    """Set scheduler settings (key -> typed value) and reset others to their defaults.

    One transaction: every value is checked first (nothing is stored when one
    is bad); then the changed ones are stored and, if desired retention,
    maximum interval or fuzz changed, the due dates of Review cards move; if
    steps or parameters changed, every card's history is replayed
    (:func:`studylog.services.reschedule.reschedule_in`). With
    ``reschedule_on_change`` false only the memory states are updated and no
    due date moves (Anki's "Reschedule cards on change" unticked). A change
    that reschedules can be undone once (:func:`undo_reschedule`). To set from
    text, parse first: ``update(db, {key: setting(key).parse(text)})``.

    Raises:
        SettingError: an unknown key or a value it does not allow (names both).
    """
    with db.write() as session:
        return update_in(session, changes, reset)


def reset(db: Database, *keys: str) -> SettingsUpdate:
    """Put ``keys`` back to their defaults (as :func:`update`). Raises SettingError."""
    return update(db, {}, reset=keys)


def calendar_from(found: Mapping[str, Any]) -> StudyCalendar:
    """The study calendar of typed setting values (see :func:`calendar`)."""
    return StudyCalendar(
        day_start_hour=int(found["day_start_hour"]), zone=local_zone(found["timezone"])
    )


def calendar(db: Database) -> StudyCalendar:
    """The study calendar: day start hour (default 4) and time zone (default: the system's).

    Raises:
        InvalidInputError: the stored time zone is unknown.
    """
    return calendar_from(values(db))


# --- deck presets -----------------------------------------------------------------------


class DeckSettings:
    """The collection's settings and every deck's preset, read once; each deck's
    effective settings computed on demand and cached.

    Args:
        collection: every setting's collection value (key -> typed value).
        presets: deck -> the keys its preset sets (typed values).
    """

    def __init__(
        self, collection: Mapping[str, Any], presets: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.collection = dict(collection)
        self.presets = {d: dict(v) for d, v in presets.items()}
        self._values: dict[str | None, tuple[dict[str, Any], dict[str, str]]] = {}
        self._built: dict[str | None, tuple[defs.SchedulerConfig, Any, defs.DailyLimits]] = {}

    def _resolved(self, deck: str | None) -> tuple[dict[str, Any], dict[str, str]]:
        found = self._values.get(deck)
        if found is None:
            found = self._values[deck] = defs.resolve(self.collection, self.presets, deck)
        return found

    def values(self, deck: str | None) -> dict[str, Any]:
        """Every setting's effective value for ``deck`` (None: the collection's)."""
        return self._resolved(deck)[0]

    def sources(self, deck: str | None) -> dict[str, str]:
        """Where each value of ``deck`` comes from: a deck name or ``"collection"``."""
        return self._resolved(deck)[1]

    def _build(self, deck: str | None) -> tuple[defs.SchedulerConfig, Any, defs.DailyLimits]:
        built = self._built.get(deck)
        if built is None:
            values = self.values(deck)
            config = defs.config_from(values)
            built = self._built[deck] = (config, config.scheduler(), defs.limits_from(values))
        return built

    def config(self, deck: str | None) -> defs.SchedulerConfig:
        """The FSRS settings the cards of ``deck`` are scheduled with."""
        return self._build(deck)[0]

    def scheduler(self, deck: str | None) -> Any:
        """``config(deck).scheduler()``, built once per deck (an ``fsrs.Scheduler``)."""
        return self._build(deck)[1]

    def limits(self, deck: str | None) -> defs.DailyLimits:
        """The daily limits, leech and sibling rules of ``deck``."""
        return self._build(deck)[2]

    @property
    def uniform(self) -> bool:
        """True when no deck sets anything: every deck has the collection's settings."""
        return not any(self.presets.values())


@dataclass(frozen=True)
class EffectiveSettings:
    """The settings a deck's cards are scheduled with (:func:`effective`).

    Attributes:
        deck: the deck (None: the collection).
        values: every setting key -> typed value (as :func:`values`).
        sources: key -> the deck whose preset set it, or ``"collection"``.
        own: the keys this deck's own preset sets (typed values).
    """

    deck: str | None
    values: dict[str, Any]
    sources: dict[str, str]
    own: dict[str, Any]

    @property
    def config(self) -> defs.SchedulerConfig:
        """Desired retention, steps, maximum interval, fuzz and parameters."""
        return defs.config_from(self.values)

    @property
    def limits(self) -> defs.DailyLimits:
        """New and review cards per day, the leech rule and sibling burying."""
        return defs.limits_from(self.values)


def deck_presets_in(reader: Session | Connection) -> dict[str, dict[str, Any]]:
    """Every deck's preset as the scheduler sees it: deck -> {setting key: typed value}
    (decks that set nothing left out): the keys of the shared preset the deck uses
    (:data:`DECK_PRESET_NAMES`; ``Default`` sets nothing), else its own preset's.

    Lenient as :meth:`SettingDef.from_stored`: a key that is unknown (or no
    longer per deck) is ignored, a value that cannot be read is left out.
    """
    view = typed_presets(get_in(reader, DECK_PRESETS, {}))
    assigned = preset_names_in(reader)
    if assigned:
        shared = typed_presets(get_in(reader, SHARED_PRESETS, {}))
        for deck, name in assigned.items():
            view.pop(deck, None)
            if shared.get(name):
                view[deck] = dict(shared[name])
    return view


def preset_names_in(reader: Session | Connection) -> dict[str, str]:
    """Deck -> the shared preset it uses (decks with their own or no preset left out)."""
    raw = get_in(reader, DECK_PRESET_NAMES, {}) or {}
    if not isinstance(raw, dict):
        return {}
    return {str(d): str(n) for d, n in raw.items() if isinstance(n, str)}


def store_preset_names_in(session: Session, names: Mapping[str, str]) -> None:
    """Store deck -> shared preset name (the row is dropped when empty)."""
    if names:
        set_in(session, DECK_PRESET_NAMES, dict(sorted(names.items())))
    else:
        delete_in(session, DECK_PRESET_NAMES)


def typed_presets(raw: Any) -> dict[str, dict[str, Any]]:
    """A stored {name: {key: stored JSON}} row as {name: {key: typed value}} (lenient)."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(raw, dict):
        return out
    for deck, stored in raw.items():
        if not isinstance(stored, dict):
            continue
        typed = {}
        for key, value in stored.items():
            definition = defs.SETTINGS.get(key)
            if definition is None or definition.scope != "deck" or value is None:
                continue
            typed[key] = definition.from_stored(value)
        if typed:
            out[str(deck)] = typed
    return out


def deck_settings_in(reader: Session | Connection) -> DeckSettings:
    """The collection's settings and every preset, in two primary-key reads."""
    return DeckSettings(values_in(reader), deck_presets_in(reader))


def deck_settings(db: Database) -> DeckSettings:
    """:func:`deck_settings_in` in a read transaction."""
    with db.read() as session:
        return deck_settings_in(session)


def effective_in(session: Session, deck: str | None) -> EffectiveSettings:
    """:func:`effective` inside the caller's transaction."""
    found = deck_settings_in(session)
    own = dict(found.presets.get(deck, {})) if deck is not None else {}
    return EffectiveSettings(deck, found.values(deck), found.sources(deck), own)


def effective(db: Database, deck: str | None) -> EffectiveSettings:
    """The settings the cards of ``deck`` are scheduled with.

    Each setting a deck may set (``scope == "deck"``) comes from the deck's
    own preset, else from its nearest ancestor's (``딥러닝::RNN`` takes
    ``new_per_day`` from ``딥러닝`` when it does not set it), else from the
    collection (``config set`` without ``--deck``), else the default. The
    deck need not exist (a deck with no cards yet has its inherited values).

    ``deck`` None gives the collection's values (as :func:`values`).
    """
    with db.read() as session:
        return effective_in(session, deck)


def deck_names(db: Database) -> list[str]:
    """:func:`deck_names_in` in a read transaction."""
    with db.read() as session:
        return deck_names_in(session)


def deck_names_in(session: Session) -> list[str]:
    """Every deck that has cards, and every ancestor of one, sorted."""
    names: set[str] = set()
    for (deck,) in session.execute(select(_cards.c.deck).distinct()):
        names.update(defs.deck_path(deck))
    return sorted(names)


def _deck_exists(session: Session, deck: str) -> bool:
    like = deck.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(_cards.c.id).where(
        or_(_cards.c.deck == deck, _cards.c.deck.like(f"{like}{defs.DECK_SEPARATOR}%", escape="\\"))
    )
    return session.execute(query.limit(1)).first() is not None


def store_typed_presets_in(
    session: Session, key: str, presets: Mapping[str, Mapping[str, Any]]
) -> None:
    """Store ``presets`` (name -> {setting key: typed value}) under the settings row
    ``key`` (:data:`DECK_PRESETS` or :data:`SHARED_PRESETS`) in their stored form, or
    delete the row when there are none."""
    stored = {
        name: {k: defs.SETTINGS[k].to_stored(v) for k, v in keys.items()}
        for name, keys in sorted(presets.items())
    }
    if stored:
        set_in(session, key, stored)
    else:
        delete_in(session, key)


def _store_presets(session: Session, presets: Mapping[str, Mapping[str, Any]]) -> None:
    # Decks that use a shared preset have no own preset (their keys are the shared one's).
    shared_users = preset_names_in(session)
    own = {d: keys for d, keys in presets.items() if keys and d not in shared_users}
    store_typed_presets_in(session, DECK_PRESETS, own)


def update_deck_in(
    session: Session,
    deck: str,
    changes: Mapping[str, Any],
    reset: Iterable[str] = (),
) -> SettingsUpdate:
    """:func:`update_deck` inside the caller's transaction."""
    name = deck.strip()
    resets = [defs.deck_setting(k).key for k in reset]
    checked = {defs.deck_setting(k).key: defs.SETTINGS[k].validate(v) for k, v in changes.items()}
    if not name or not _deck_exists(session, name):
        raise NotFoundError(f"no deck named {deck!r} (decks: studylog deck list)")
    collection = values_in(session)
    presets = deck_presets_in(session)
    before = DeckSettings(collection, presets)
    own = dict(presets.get(name, {}))
    for key in resets:
        own.pop(key, None)
    own.update(checked)
    presets_after = {**presets, name: own}
    after = DeckSettings(collection, presets_after)
    after.config(name).validate()
    old, new = before.values(name), after.values(name)
    changed = tuple(k for k in defs.SETTINGS if new[k] != old[k])
    if own != presets.get(name, {}):
        assigned = preset_names_in(session)
        if name in assigned:  # a shared preset: the deck gets its own clone of it (as Anki's Clone)
            store_preset_names_in(session, {d: n for d, n in assigned.items() if d != name})
        _store_presets(session, presets_after)
    summary = None
    if any(
        defs.reschedule_kind(before.values(d), after.values(d))
        for d in after.presets.keys() | before.presets.keys() | {name}
    ):
        session.flush()
        summary = reschedule_changed_in(session, before, after)
    return SettingsUpdate(new, changed, summary)


def update_deck(
    db: Database, deck: str, changes: Mapping[str, Any], *, reset: Iterable[str] = ()
) -> SettingsUpdate:
    """Set (``changes``) or clear (``reset``) keys of ``deck``'s own preset.

    One transaction, as :func:`update`: every key and value is checked first
    (nothing is stored when one is bad). A cleared key is inherited again
    (from the nearest ancestor that sets it, else the collection). The cards
    of the deck and of the subdecks that inherit a changed scheduling key are
    rescheduled with their new settings (:func:`reschedule_changed_in`).

    Returns:
        the deck's effective values after it, the keys whose effective value
        changed, and what rescheduling did.
    Raises:
        SettingError: an unknown key, a collection-only key, or a bad value.
        NotFoundError: no deck of that name (no card is in it or under it).
    """
    with db.write() as session:
        return update_deck_in(session, deck, changes, reset)


def reset_deck(db: Database, deck: str, *keys: str) -> SettingsUpdate:
    """Clear ``keys`` from ``deck``'s preset (they are inherited again). See :func:`update_deck`."""
    return update_deck(db, deck, {}, reset=keys)


def rename_deck_presets_in(session: Session, old: str, new: str) -> None:
    """Move the presets of ``old`` and its subdecks to ``new`` (a deck renamed or moved).

    A preset already on the target name is replaced (the moved deck's wins).
    Call it in the transaction that renames the cards' decks.
    """
    presets = deck_presets_in(session)
    moved = {}
    for deck, keys in presets.items():
        if defs.is_in_deck(deck, old):
            moved[new + deck[len(old) :]] = keys
        else:
            moved.setdefault(deck, keys)
    assigned = preset_names_in(session)
    renamed = {
        (new + d[len(old) :] if defs.is_in_deck(d, old) else d): n for d, n in assigned.items()
    }
    if renamed != assigned:
        store_preset_names_in(session, renamed)
    if moved != presets:
        _store_presets(session, moved)


def delete_deck_presets_in(session: Session, deck: str) -> None:
    """Drop the presets of ``deck`` and its subdecks (a deck deleted)."""
    presets = deck_presets_in(session)
    kept = {d: k for d, k in presets.items() if not defs.is_in_deck(d, deck)}
    assigned = preset_names_in(session)
    kept_names = {d: n for d, n in assigned.items() if not defs.is_in_deck(d, deck)}
    if kept_names != assigned:
        store_preset_names_in(session, kept_names)
    if kept != presets:
        _store_presets(session, kept)


def reschedule_changed_in(
    session: Session,
    before: DeckSettings,
    after: DeckSettings,
    *,
    move_due: bool = True,
    write_cards: bool = True,
    write_rows: bool = True,
    current: bulk.CardSnapshot | None = None,
) -> RescheduleSummary | None:
    """Reschedule the cards whose deck's scheduling settings differ between ``before`` and ``after``.

    ``write_cards``/``write_rows``/``current``: as
    :func:`studylog.services.reschedule.reschedule_in` (``write_cards`` and
    ``write_rows`` both False only for the undo of a whole-collection replay).

    Decks are grouped by their new FSRS settings; each group's cards are
    replayed (steps or parameters changed) or get new due dates (retention,
    maximum interval or fuzz changed) with their deck's settings
    (:func:`studylog.services.reschedule.reschedule_in`). When every deck
    changed alike, the whole collection is rescheduled at once, as before
    presets existed. Returns the summed summary, or None when nothing moved.
    """
    from studylog.services import reschedule as reschedule_service  # lazy: NumPy

    decks = [d for (d,) in session.execute(select(_cards.c.deck).distinct())]
    groups: dict[tuple[str, defs.SchedulerConfig], list[str]] = {}
    for deck in decks:
        kind = defs.reschedule_kind(before.values(deck), after.values(deck))
        if kind:
            groups.setdefault((kind, after.config(deck)), []).append(deck)
    if not groups:
        return None
    if len(groups) == 1 and sum(map(len, groups.values())) == len(decks):
        ((kind, config),) = groups
        return reschedule_service.reschedule_in(
            session,
            config.params(),
            full=kind == "full",
            move_due=move_due,
            write_cards=write_cards,
            write_rows=write_rows,
            current=current,
        )
    total = reschedule_service.RescheduleSummary(0, 0, 0, full_replay=False)
    for (kind, config), names in groups.items():
        ids = list(session.scalars(select(_cards.c.id).where(_cards.c.deck.in_(names))))
        done = reschedule_service.reschedule_in(
            session,
            config.params(),
            full=kind == "full",
            card_ids=ids,
            move_due=move_due,
            write_cards=write_cards,
            current=current,
        )
        total = reschedule_service.RescheduleSummary(
            total.cards + done.cards,
            total.reviews + done.reviews,
            total.due_changed + done.due_changed,
            total.full_replay or done.full_replay,
        )
    return total


# --- undoing a reschedule ------------------------------------------------------------------


def _replay_rows_in(session: Session, settings: DeckSettings, card_ids: list[int]) -> None:
    """Derive the review rows' states of ``card_ids`` again with their decks' ``settings``
    (the cards themselves are left alone: the undo writes them from its snapshot)."""
    from studylog.services import reschedule as reschedule_service  # lazy: NumPy

    by_deck: dict[str, list[int]] = {}
    for card_id, deck in session.execute(
        select(_cards.c.id, _cards.c.deck).where(_cards.c.id.in_(card_ids))
    ):
        by_deck.setdefault(deck, []).append(card_id)
    for deck, ids in by_deck.items():
        reschedule_service.replay_in(
            session, settings.config(deck).params(), ids, write_cards=False
        )


def last_reschedule(db: Database) -> str | None:
    """What the saved rescheduling changed, in words, or None when there is nothing to undo."""
    from studylog.services import reschedule as reschedule_service  # lazy: NumPy

    with db.read() as session:
        snapshot = reschedule_service.load_undo_in(session)
        return None if snapshot is None else snapshot.label


def undo_reschedule(db: Database) -> str:
    """Undo the latest settings change that rescheduled the cards, in one transaction.

    The settings it changed get their stored values back, the review rows'
    states are derived again from the history with those settings (when the
    change had replayed them) and every card's scheduling columns are put back
    exactly as they were (:mod:`studylog.services.reschedule`). Returns what
    was undone, in words.

    Raises:
        InvalidInputError: nothing to undo, or cards were answered since.
    """
    from studylog.services import reschedule as reschedule_service  # lazy: NumPy
    from studylog.services import review_states

    with db.write() as session:
        snapshot = reschedule_service.check_undo_in(session)
        presets = deck_presets_in(session)
        current = DeckSettings(values_in(session), presets)
        for key, raw in snapshot.settings.items():
            if raw is None:
                delete_in(session, key)
            else:
                set_in(session, key, raw)
        session.flush()
        if snapshot.replayed:
            # The review rows: when the change left them stale (a whole-collection
            # replay), putting its marker back makes them valid again as they are
            # (review_states.pop_in); otherwise their states are derived again from the
            # history with the old settings. The cards come from the snapshot just
            # below (written once, not replayed and then overwritten).
            old = DeckSettings(values_in(session), presets)
            rewritten = review_states.pop_in(session, snapshot.stale_before)
            reschedule_changed_in(
                session, current, old, write_cards=False, write_rows=rewritten is None
            )
            if rewritten is not None and rewritten.size:  # rows rewritten since the change
                _replay_rows_in(session, old, rewritten.tolist())
        reschedule_service.restore_cards_in(session, snapshot)
        return snapshot.label


# --- settings another collection may take (the JSON export) ------------------------------


def is_portable(key: str) -> bool:
    """Whether the ``settings`` row ``key`` is a user's choice another collection may take:
    a scheduler setting, a preset row or the theme.

    Every other row is this collection's own state: undo steps and markers that
    name its card and review ids (``undo.*``, ``reviews.stale_states*``),
    caches (``stats.daily_cache``), the pack's fingerprint, today's extended
    limits. Exported into another collection they would undo the wrong cards or
    claim a pack sync that never ran there, so the JSON export leaves them out
    and its import ignores them.
    """
    return key in _PORTABLE


_PORTABLE = frozenset({d.stored_as for d in defs.SETTINGS.values()} | {*PRESET_ROWS, THEME})


def portable(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The portable rows of an export's ``settings`` object (key -> stored JSON value),
    each checked as writing it through :func:`update` or the preset commands would be,
    in its stored form; other keys are dropped (see :func:`is_portable`).

    Raises:
        SettingError: a portable row whose value is not one the setting allows
            (the message names the setting, and the preset or deck).
    """
    by_stored = {d.stored_as: d for d in defs.SETTINGS.values()}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if not is_portable(key) or value is None:
            continue
        if key in by_stored:
            definition = by_stored[key]
            out[key] = definition.to_stored(value)
        elif key in (DECK_PRESETS, SHARED_PRESETS):
            out[key] = _checked_presets(key, value)
        elif key == DECK_PRESET_NAMES:
            out[key] = {
                _checked_name(key, deck): _checked_name(f"{key}: {deck}", name)
                for deck, name in _checked_object(key, value).items()
            }
        else:  # THEME
            out[key] = _checked_name(key, value)
    return out


def _checked_object(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise defs.SettingError(where, "not an object")
    return value


def _checked_name(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME:
        raise defs.SettingError(where, f"not a name of 1 to {_MAX_NAME} characters")
    return value


def _checked_presets(row: str, value: Any) -> dict[str, dict[str, Any]]:
    """A preset row {name: {setting key: stored}} with every value checked (deck scope)."""
    out: dict[str, dict[str, Any]] = {}
    for name, keys in _checked_object(row, value).items():
        where = f"{row}: {_checked_name(row, name)}"
        try:
            out[name] = {
                key: defs.deck_setting(key).to_stored(stored)
                for key, stored in _checked_object(where, keys).items()
            }
        except defs.SettingError as exc:
            if exc.key == where:
                raise
            raise defs.SettingError(where, str(exc), exc.allowed) from None
    return out
