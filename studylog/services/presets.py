"""Named presets that several decks share, as Anki's deck options presets.

A preset is a named set of scheduling settings (the keys with ``scope ==
"deck"``: desired retention, steps, daily limits, leech rule...). Three kinds:

* ``Default``: the collection's settings (``config set KEY VALUE``); it cannot be
  renamed or deleted, and a deck that uses it sets nothing of its own;
* **shared** presets (``preset add NAME``), stored in the ``settings`` row
  :data:`~studylog.services.settings.SHARED_PRESETS`; ``deck set-preset DECK
  NAME`` makes a deck use one (row :data:`~studylog.services.settings.DECK_PRESET_NAMES`);
* a deck's **own** preset (``config set --deck DECK KEY VALUE``), as before shared
  presets existed. Setting a key with ``--deck`` on a deck that uses a shared
  preset gives the deck its own copy of that preset first (Anki has you *Clone*
  the preset before editing it for one deck); the shared preset is unchanged.

A shared preset sets only the keys it names; the others come from the
collection. Subdecks inherit as before: a deck that uses no preset of its
own (no own keys, no shared preset, or ``Default``) takes each key from its
nearest ancestor that sets it (:func:`studylog.scheduling.settings.resolve`,
Anki v3's limits through :class:`studylog.scheduling.decks.SubdeckLimits`).

Every change is one transaction. When a deck's effective scheduling settings
change, its cards are rescheduled as with ``config set --deck``. Each change
is undoable with ``studylog card undo`` (the collection's action undo stack,
:mod:`studylog.services.card_actions`): undo puts the preset rows back and
reschedules the cards concerned again with the restored settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from studylog.errors import InvalidInputError, NotFoundError
from studylog.scheduling import settings as defs
from studylog.services import card_actions
from studylog.services import settings as settings_service
from studylog.storage.engine import Database

DEFAULT = "Default"
MAX_NAME = 100
UNDO_KIND = "preset"


@dataclass(frozen=True)
class PresetInfo:
    """One preset: ``name``, ``kind`` (``default``, ``shared`` or ``own``), the keys it
    sets (typed values; Default's are every deck key's collection value) and the decks
    that use it (for an own preset, the deck itself)."""

    name: str
    kind: str
    values: dict[str, Any]
    decks: tuple[str, ...]


@dataclass(frozen=True)
class PresetChange:
    """What a change did: ``label`` (what undo would undo) and the cards rescheduled."""

    label: str
    rescheduled: int


def _check_name(name: str) -> str:
    text = " ".join(name.split())
    if not text or len(text) > MAX_NAME or not text.isprintable():
        raise InvalidInputError(f"not a preset name: {name!r} (1-{MAX_NAME} printable characters)")
    return text


def _shared_in(session: Session) -> dict[str, dict[str, Any]]:
    raw = settings_service.get_in(session, settings_service.SHARED_PRESETS, {}) or {}
    typed = settings_service.typed_presets(raw)
    if isinstance(raw, dict):  # a preset that sets nothing (yet) is still a preset
        for name in raw:
            typed.setdefault(str(name), {})
    return typed


def _store_shared(session: Session, shared: Mapping[str, Mapping[str, Any]]) -> None:
    settings_service.store_typed_presets_in(session, settings_service.SHARED_PRESETS, shared)


def _known(shared: Mapping[str, Any], name: str) -> str:
    """``name`` as stored (``Default`` matched in any case). Raises NotFoundError."""
    text = _check_name(name)
    if text.casefold() == DEFAULT.casefold():
        return DEFAULT
    if text not in shared:
        names = ", ".join([DEFAULT, *sorted(shared)])
        raise NotFoundError(f"no preset named {name!r} (presets: {names})")
    return text


def list_presets_in(session: Session) -> list[PresetInfo]:
    """Default, the shared presets by name, then the decks' own presets by deck."""
    shared = _shared_in(session)
    assigned = settings_service.preset_names_in(session)
    own = settings_service.typed_presets(
        settings_service.get_in(session, settings_service.DECK_PRESETS, {})
    )
    own = {d: k for d, k in own.items() if d not in assigned}
    collection = settings_service.values_in(session)
    users: dict[str, list[str]] = {}
    for deck, name in assigned.items():
        users.setdefault(name, []).append(deck)
    decks = settings_service.deck_names_in(session)
    default_users = [d for d in decks if d not in own and assigned.get(d, DEFAULT) == DEFAULT]
    out = [
        PresetInfo(
            DEFAULT,
            "default",
            {k: collection[k] for k in defs.DECK_KEYS},
            tuple(default_users),
        )
    ]
    out += [
        PresetInfo(n, "shared", dict(k), tuple(sorted(users.get(n, ()))))
        for n, k in sorted(shared.items())
    ]
    out += [PresetInfo(d, "own", dict(k), (d,)) for d, k in sorted(own.items())]
    return out


def list_presets(db: Database) -> list[PresetInfo]:
    """:func:`list_presets_in` in a read transaction."""
    with db.read() as session:
        return list_presets_in(session)


def preset_choice(db: Database, deck: str | None) -> tuple[tuple[str, ...], str | None]:
    """The presets a deck can be given (every one but decks' own, by name) and the shared
    preset ``deck`` uses (None: its own, none, or ``deck`` None), in one read transaction."""
    with db.read() as session:
        names = tuple(p.name for p in list_presets_in(session) if p.kind != "own")
        return names, settings_service.preset_names_in(session).get(deck or "")


def _change(db: Database, label: str, body: Any) -> PresetChange:
    """Run ``body(session)`` (a change to the preset rows) in one transaction: check every
    deck's settings still build, reschedule the decks whose settings changed, and push
    the undo step (the rows as they were)."""
    with db.write() as session:
        images = [card_actions.setting_image(session, k) for k in settings_service.PRESET_ROWS]
        before = settings_service.deck_settings_in(session)
        body(session)
        session.flush()
        after = settings_service.deck_settings_in(session)
        for deck in after.presets:
            after.config(deck).validate()
        summary = settings_service.reschedule_changed_in(session, before, after)
        changed = tuple(
            i for i in images if settings_service.get_in(session, i.key[0]) != i.values["value"]
        )
        if changed:
            card_actions.push_settings_step(session, label, UNDO_KIND, changed)
        return PresetChange(label, summary.cards if summary is not None else 0)


def add(db: Database, name: str, *, from_preset: str | None = None) -> PresetChange:
    """Add shared preset ``name`` with the keys of ``from_preset`` (a shared preset, or a
    deck's own preset by the deck's name; None or Default: no keys, the collection's).

    Raises:
        InvalidInputError: a bad name, Default, or a name already taken.
        NotFoundError: no preset ``from_preset``.
    """
    text = _check_name(name)

    def body(session: Session) -> None:
        shared = _shared_in(session)
        if text.casefold() == DEFAULT.casefold() or text in shared:
            raise InvalidInputError(f"a preset named {text!r} exists already")
        keys: dict[str, Any] = {}
        if from_preset is not None:
            source = _check_name(from_preset)
            own = settings_service.deck_presets_in(session)
            if source in shared:
                keys = dict(shared[source])
            elif source in own and source.casefold() != DEFAULT.casefold():
                keys = dict(own[source])  # a deck's own preset, by the deck's name
            else:
                _known(shared, source)  # Default (no keys), else NotFoundError
        _store_shared(session, {**shared, text: keys})

    return _change(db, f"Add preset {text}", body)


def rename(db: Database, old: str, new: str) -> PresetChange:
    """Rename shared preset ``old`` to ``new``; the decks that use it follow.

    Raises:
        InvalidInputError: Default, a bad or taken new name. NotFoundError: no such preset.
    """
    target = _check_name(new)

    def body(session: Session) -> None:
        shared = _shared_in(session)
        source = _known(shared, old)
        if source == DEFAULT:
            raise InvalidInputError("the Default preset (the collection's settings) keeps its name")
        if target.casefold() == DEFAULT.casefold() or (target in shared and target != source):
            raise InvalidInputError(f"a preset named {target!r} exists already")
        renamed = {(target if n == source else n): k for n, k in shared.items()}
        _store_shared(session, renamed)
        names = settings_service.preset_names_in(session)
        settings_service.store_preset_names_in(
            session, {d: (target if n == source else n) for d, n in names.items()}
        )

    return _change(db, f"Rename preset {old.strip()} to {target}", body)


def delete(db: Database, name: str) -> PresetChange:
    """Delete shared preset ``name``; the decks that used it fall back to Default (they
    inherit from their parent deck, else the collection, as a deck without a preset).

    Raises:
        InvalidInputError: Default. NotFoundError: no such preset.
    """

    def body(session: Session) -> None:
        shared = _shared_in(session)
        found = _known(shared, name)
        if found == DEFAULT:
            raise InvalidInputError("the Default preset (the collection's settings) cannot go")
        _store_shared(session, {n: k for n, k in shared.items() if n != found})
        names = settings_service.preset_names_in(session)
        settings_service.store_preset_names_in(
            session, {d: n for d, n in names.items() if n != found}
        )

    return _change(db, f"Delete preset {name.strip()}", body)


def set_deck_preset(db: Database, deck: str, preset: str) -> PresetChange:
    """Make ``deck`` use ``preset`` (a shared preset, or Default). The deck's own preset,
    if it had one, is dropped (undo brings it back); its subdecks inherit as before.

    Raises:
        NotFoundError: no such deck or preset.
    """
    name = deck.strip()

    def body(session: Session) -> None:
        if not name or name not in settings_service.deck_names_in(session):
            raise NotFoundError(f"no deck named {deck!r} (decks: studylog deck list)")
        found = _known(_shared_in(session), preset)
        names = settings_service.preset_names_in(session)
        own = settings_service.typed_presets(
            settings_service.get_in(session, settings_service.DECK_PRESETS, {})
        )
        if name in own:
            del own[name]
            settings_service.store_typed_presets_in(session, settings_service.DECK_PRESETS, own)
        settings_service.store_preset_names_in(session, {**names, name: found})

    return _change(db, f"Deck {name} uses preset {preset.strip()}", body)


def update(
    db: Database, name: str, changes: Mapping[str, Any], *, reset: Iterable[str] = ()
) -> PresetChange:
    """Set (``changes``) or clear (``reset``) keys of shared preset ``name``, for every deck
    that uses it. Default is the collection: :func:`studylog.services.settings.update`.

    Raises:
        SettingError: an unknown key, a collection-only key, or a bad value (nothing
            changed). NotFoundError: no such preset.
    """
    checked = {defs.deck_setting(k).key: defs.SETTINGS[k].validate(v) for k, v in changes.items()}
    cleared = [defs.deck_setting(k).key for k in reset]
    if _check_name(name).casefold() == DEFAULT.casefold():
        done = settings_service.update(db, checked, reset=cleared)
        cards = done.reschedule.cards if done.reschedule is not None else 0
        return PresetChange(f"Preset {DEFAULT} (the collection's settings)", cards)

    def body(session: Session) -> None:
        shared = _shared_in(session)
        found = _known(shared, name)
        keys = {k: v for k, v in shared[found].items() if k not in cleared}
        keys.update(checked)
        _store_shared(session, {**shared, found: keys})

    what = ", ".join([*(f"{k}" for k in checked), *(f"{k} reset" for k in cleared)])
    return _change(db, f"Preset {name.strip()}: {what}", body)


__all__ = [
    "DEFAULT",
    "PresetChange",
    "PresetInfo",
    "add",
    "delete",
    "list_presets",
    "list_presets_in",
    "rename",
    "set_deck_preset",
    "update",
]
