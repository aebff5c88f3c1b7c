"""Every scheduler setting, defined once: name, type, default, allowed values, explanation.

This module is pure (no SQL): it knows what each setting means, how to parse
it from what a person types (``config set learning_steps "1m 10m"``), how to
show it, how to check it and how it is stored as JSON in the ``settings``
table. Reading and writing the table is :mod:`studylog.services.settings`'s job.

The names and meanings follow Anki's deck options (manual, "Deck Options"):

=========================  ==========  =================  ======================
key                        type        default            allowed
=========================  ==========  =================  ======================
desired_retention          float       0.90               0.70 - 0.99
learning_steps             durations   1m 10m             each 1s - 365d
relearning_steps           durations   10m                each 1s - 365d
maximum_interval           int (days)  36500              1 - 36500
enable_fuzz                bool        true
new_per_day                int         20                 0 - 9999
reviews_per_day            int         200                0 - 9999
new_ignores_review_limit   bool        true (see below)
day_start_hour             int         4                  0 - 23
timezone                   IANA name   system             e.g. Asia/Seoul
leech_threshold            int         8                  1 - 9999
leech_action               choice      suspend            suspend | tag
bury_siblings              bool        true
fsrs_parameters            21 floats   FSRS-6 defaults    as ``fsrs.Scheduler``
reschedule_on_change       bool        true
load_balancing             bool        true
easy_days                  7 weekdays  all normal         normal|reduced|minimum
=========================  ==========  =================  ======================

``load_balancing`` and ``easy_days`` are Anki 24.11's (manual, "Deck Options",
"Easy Days"; :mod:`studylog.scheduling.load_balance`): when fuzz picks a Review
card's due date, days with fewer cards due are preferred, and weekdays marked
``reduced`` or ``minimum`` get fewer reviews. ``easy_days`` is typed as seven
words, Monday first (``normal normal normal normal normal reduced minimum``),
or by weekday (``sat=reduced sun=minimum``, the others normal). Easy days
work through the load balancer: with ``load_balancing`` off (or fuzz off) they
have no effect. Neither moves cards already scheduled when changed (as in
Anki); a reschedule after new parameters or a new desired retention balances
the days it gives (Anki's rescheduler; :mod:`studylog.scheduling.balance_batch`). Both are
the collection's (Anki has easy days per preset; studylog balances over the
whole collection).

``new_ignores_review_limit`` defaults to true because that is what studylog
has always done (new cards are limited only by ``new_per_day``); Anki's
default is false.

A bad key or value raises :class:`SettingError` (an ``InvalidInputError``)
whose message names the key and what is allowed, e.g.
``desired_retention: 1.2 is not allowed (desired retention: a number from 0.7 to 0.99)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import fsrs
from fsrs.scheduler import DEFAULT_PARAMETERS

from studylog.errors import InvalidInputError
from studylog.scheduling.load_balance import WEEKDAYS, EasyDay, parse_easy_days

if TYPE_CHECKING:
    from studylog.scheduling import batch


class SettingError(InvalidInputError):
    """A setting key that does not exist or a value it does not allow.

    Attributes:
        key: the setting's name as the user types it (``desired_retention``).
        allowed: what the setting allows, in words (``a number from 0.7 to 0.99``).
    """

    def __init__(self, key: str, message: str, allowed: str = "") -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.allowed = allowed


# --- durations ("1m 10m") -----------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
MAX_STEP_S = 365 * 86400


def parse_durations(text: str) -> tuple[int, ...]:
    """Anki's step syntax as seconds: ``"1m 10m"`` -> (60, 600); a bare number is minutes.

    Units: s, m, h, d; separated by spaces or commas; ``""`` is no steps.

    Raises:
        ValueError: a token that is not a number with an optional unit.
    """
    out = []
    for token in text.replace(",", " ").split():
        found = _DURATION.match(token.strip().lower())
        if found is None:
            raise ValueError(f"{token!r} is not a duration like 30s, 10m, 1h or 1d")
        number, unit = found.groups()
        out.append(round(float(number) * _UNITS[unit or "m"]))
    return tuple(out)


def format_durations(seconds: Iterable[int]) -> str:
    """Seconds as Anki's step syntax: (60, 600) -> ``"1m 10m"``; 90 -> ``"90s"``."""
    parts = []
    for s in seconds:
        for unit in ("d", "h", "m"):
            if s % _UNITS[unit] == 0 and s >= _UNITS[unit]:
                parts.append(f"{s // _UNITS[unit]}{unit}")
                break
        else:
            parts.append(f"{s}s")
    return " ".join(parts)


# --- the definition ------------------------------------------------------------------

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
SYSTEM_ZONE = "system"


@dataclass(frozen=True)
class SettingDef:
    """One scheduler setting.

    Attributes:
        key: the name the user types (``desired_retention``).
        stored_as: the ``settings`` table key (kept from before this module).
        kind: ``float``, ``int``, ``bool``, ``durations``, ``choice``, ``timezone``,
            ``floats`` or ``weekdays``; the Python type of a value: float, int, bool,
            tuple[int, ...] (seconds), str, str | None (None = the system zone),
            tuple[float, ...], tuple[str, ...] (seven of ``choices``, Monday first).
        default: the value when nothing is stored.
        help: one line explaining it, as Anki's deck options do.
        minimum, maximum: the allowed range (numbers; for durations each step).
        choices: the allowed values of a ``choice``.
        unit: shown after numbers (``days``).
        scheduler: changing it reschedules cards (``full``: replays history;
            ``due``: moves due dates only; ``""``: no rescheduling).
        scope: ``deck`` (a deck's preset may set it; subdecks inherit it) or
            ``collection`` (one value for the whole collection: the study day
            and, until presets can be optimized one by one, the FSRS parameters).
    """

    key: str
    stored_as: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    scheduler: str = ""
    scope: str = "deck"
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)

    # -- words -----------------------------------------------------------------

    @property
    def allowed(self) -> str:
        """What the setting allows, in words (used in every error message)."""
        unit = f" {self.unit}" if self.unit else ""
        if self.kind in ("float", "int"):
            what = "a number" if self.kind == "float" else "a whole number"
            return f"{what} from {_num(self.minimum)} to {_num(self.maximum)}{unit}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return " or ".join(self.choices)
        if self.kind == "durations":
            return "steps like '1m 10m' (units s, m, h, d; each up to 365d), or '' for none"
        if self.kind == "timezone":
            return f"an IANA time zone such as Asia/Seoul, or {SYSTEM_ZONE!r}"
        if self.kind == "weekdays":
            return (
                f"7 of {'|'.join(self.choices)} (Monday first), "
                "or by weekday like 'sat=reduced sun=minimum'"
            )
        return "21 FSRS parameters separated by spaces"

    def _bad(self, shown: object, why: str = "") -> SettingError:
        reason = f": {why}" if why else ""
        return SettingError(
            self.key,
            f"{shown!r} is not allowed{reason} ({self.help_name}: {self.allowed})",
            self.allowed,
        )

    @property
    def help_name(self) -> str:
        return self.key.replace("_", " ")

    # -- text <-> value ----------------------------------------------------------

    def parse(self, text: str) -> Any:
        """The value a person typed, checked. Raises SettingError."""
        raw = text.strip()
        try:
            if self.kind == "float":
                value: Any = float(raw)
            elif self.kind == "int":
                value = int(raw)
            elif self.kind == "bool":
                low = raw.lower()
                if low not in _TRUE | _FALSE:
                    raise ValueError
                value = low in _TRUE
            elif self.kind == "durations":
                value = parse_durations(raw)
            elif self.kind == "timezone":
                value = None if raw.lower() in ("", SYSTEM_ZONE) else raw
            elif self.kind == "choice":
                value = raw.lower()
            elif self.kind == "weekdays":
                value = parse_weekdays(raw)
            else:
                value = tuple(float(v) for v in raw.replace(",", " ").split())
        except ValueError as exc:
            detail = str(exc) if self.kind in ("durations", "weekdays") else ""
            raise self._bad(text, detail.removeprefix("easy_days: ")) from None
        return self.validate(value)

    def format(self, value: Any) -> str:
        """The value as :meth:`parse` reads it back (``format`` then ``parse`` is identity)."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "durations":
            return format_durations(value)
        if self.kind == "timezone":
            return SYSTEM_ZONE if value is None else str(value)
        if self.kind == "floats":
            return " ".join(repr(float(v)) for v in value)
        if self.kind == "weekdays":
            return " ".join(value)
        if self.kind == "float":
            return repr(float(value))
        return str(value)

    # -- checking and storage ----------------------------------------------------------

    def validate(self, value: Any) -> Any:
        """``value`` as this setting's Python type, checked against its range.

        Accepts the Python type or a JSON form of it (a list for steps).
        Raises SettingError.
        """
        try:
            typed = self._coerce(value)
        except (TypeError, ValueError):
            raise self._bad(value) from None
        if self.kind in ("float", "int"):
            if isinstance(typed, float) and not math.isfinite(typed):
                raise self._bad(value)
            if (self.minimum is not None and typed < self.minimum) or (
                self.maximum is not None and typed > self.maximum
            ):
                raise self._bad(value)
        elif self.kind == "durations":
            for step in typed:
                if not 1 <= step <= MAX_STEP_S:
                    raise self._bad(format_durations(typed) or value, "each step must be positive")
        elif self.kind == "choice" and typed not in self.choices:
            raise self._bad(value)
        elif self.kind == "timezone" and typed is not None:
            try:
                ZoneInfo(typed)
            except (ZoneInfoNotFoundError, ValueError):
                raise self._bad(value, "unknown time zone") from None
        if self.check is not None:
            problem = self.check(typed)
            if problem:
                raise SettingError(self.key, problem, self.allowed)
        return typed

    def _coerce(self, value: Any) -> Any:
        if self.kind == "float":
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if self.kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            return int(value)
        if self.kind == "bool":
            if not isinstance(value, bool | int) or value not in (0, 1):
                raise TypeError
            return bool(value)
        if self.kind == "durations":
            if isinstance(value, str):
                return parse_durations(value)
            return tuple(_whole(v) for v in value)
        if self.kind == "floats":
            return tuple(float(v) for v in value)
        if self.kind == "weekdays":
            if isinstance(value, str):
                return parse_weekdays(value)
            return tuple(str(d) for d in parse_easy_days(value))
        if self.kind == "timezone":
            if value is None or value == SYSTEM_ZONE or value == "":
                return None
            if not isinstance(value, str):
                raise TypeError
            return value
        if not isinstance(value, str):
            raise TypeError
        return value

    def to_stored(self, value: Any) -> Any:
        """The JSON value kept in the ``settings`` table (tuples become lists)."""
        typed = self.validate(value)
        return list(typed) if isinstance(typed, tuple) else typed

    def from_stored(self, raw: Any) -> Any:
        """A stored JSON value as the Python type; the default when absent (None).

        Lenient: a value stored by an older version outside today's range is
        returned as it is (type-coerced), so reading never fails; a value that
        cannot be coerced at all gives the default.
        """
        if raw is None:
            return self.default
        try:
            return self._coerce(raw)
        except (TypeError, ValueError):
            return self.default


_FULL_WEEKDAYS = {
    full: short
    for full, short in zip(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        WEEKDAYS,
        strict=True,
    )
}


def parse_weekdays(text: str) -> tuple[str, ...]:
    """Easy days as typed: seven names Monday first, or ``day=name`` pairs (others normal).

    ``""`` is every day normal. Returns seven of ``normal``, ``reduced``,
    ``minimum``, Monday first.

    Raises:
        ValueError: an unknown weekday or name, or not seven names (the message names it).
    """
    tokens = text.replace(",", " ").lower().split()
    if any("=" in t for t in tokens):
        pairs = {}
        for token in tokens:
            day, sep, name = token.partition("=")
            if not sep:
                raise ValueError(f"{token!r} is not weekday=name like sat=reduced")
            day = day.strip()
            pairs[_FULL_WEEKDAYS.get(day, day)] = name
        return tuple(str(d) for d in parse_easy_days(pairs))
    return tuple(str(d) for d in parse_easy_days(tokens))


def _whole(v: Any) -> int:
    if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
        raise TypeError
    return int(v)


def _num(x: float | None) -> str:
    return "?" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


def _check_parameters(values: tuple[float, ...]) -> str | None:
    try:
        fsrs.Scheduler(parameters=values)
    except ValueError as exc:
        return f"FSRS parameters rejected: {exc}".replace("\n", "; ")
    return None


_DEFS = (
    SettingDef(
        "desired_retention", "fsrs.desired_retention", "float", 0.9,
        "the chance of recalling a card when it comes due; higher means more reviews",
        minimum=0.70, maximum=0.99, scheduler="due",
    ),
    SettingDef(
        "learning_steps", "fsrs.learning_steps_s", "durations", (60, 600),
        "the delays between the first answers of a new card, e.g. '1m 10m'",
        scheduler="full",
    ),
    SettingDef(
        "relearning_steps", "fsrs.relearning_steps_s", "durations", (600,),
        "the delays after a lapse before the card is a review card again",
        scheduler="full",
    ),
    SettingDef(
        "maximum_interval", "fsrs.maximum_interval_d", "int", 36500,
        "the longest interval a review card can get",
        minimum=1, maximum=36500, unit="days", scheduler="due",
    ),
    SettingDef(
        "enable_fuzz", "fsrs.enable_fuzzing", "bool", True,
        "spread review intervals a little so cards added together do not stay together",
        scheduler="due",
    ),
    SettingDef(
        "new_per_day", "review.new_per_day", "int", 20,
        "the most new cards introduced per study day",
        minimum=0, maximum=9999,
    ),
    SettingDef(
        "reviews_per_day", "review.reviews_per_day", "int", 200,
        "the most review cards shown per study day",
        minimum=0, maximum=9999,
    ),
    SettingDef(
        "new_ignores_review_limit", "review.new_ignores_review_limit", "bool", True,
        "when false, new cards stop once the review limit is reached (Anki's default)",
    ),
    SettingDef(
        "day_start_hour", "day_start_hour", "int", 4,
        "the local hour at which a new study day begins (Anki's 'next day starts at')",
        minimum=0, maximum=23, scope="collection",
    ),
    SettingDef(
        "timezone", "timezone", "timezone", None,
        "the time zone of study days; 'system' uses $TZ or the computer's zone",
        scope="collection",
    ),
    SettingDef(
        "leech_threshold", "review.leech_threshold", "int", 8,
        "lapses after which a card is a leech (then again every half as many)",
        minimum=1, maximum=9999, unit="lapses",
    ),
    SettingDef(
        "leech_action", "review.leech_action", "choice", "suspend",
        "what happens to a leech: suspend it (and tag it) or only tag it",
        choices=("suspend", "tag"),
    ),
    SettingDef(
        "bury_siblings", "review.bury_siblings", "bool", True,
        "hold back other cards of a concept answered today until nothing else is left",
    ),
    SettingDef(
        "fsrs_parameters", "fsrs.parameters", "floats", tuple(DEFAULT_PARAMETERS),
        "the 21 FSRS-6 weights w0..w20 (set by 'studylog fsrs optimize')", scope="collection",
        scheduler="full", check=_check_parameters,
    ),
    SettingDef(
        "reschedule_on_change", "fsrs.reschedule_on_change", "bool", True,
        "when parameters or desired retention change, move due dates too "
        "(false: only update memory states, Anki's 'Reschedule cards on change' unticked)",
        scope="collection",
    ),
    SettingDef(
        "load_balancing", "fsrs.load_balancing", "bool", True,
        "when fuzz picks a review card's due day, prefer days with fewer cards due",
        scope="collection",
    ),
    SettingDef(
        "easy_days", "fsrs.easy_days", "weekdays", ("normal",) * 7,
        "weekdays that get fewer reviews (reduced) or almost none (minimum)",
        choices=tuple(d.value for d in EasyDay), scope="collection",
    ),
)  # fmt: skip

SETTINGS: Mapping[str, SettingDef] = {d.key: d for d in _DEFS}
"""Every setting by its key, in the order ``config list`` shows them."""


def setting(key: str) -> SettingDef:
    """The definition of ``key``. Raises SettingError for an unknown key."""
    try:
        return SETTINGS[key]
    except KeyError:
        raise SettingError(
            key, f"no such setting (known: {', '.join(SETTINGS)})", ", ".join(SETTINGS)
        ) from None


def defaults() -> dict[str, Any]:
    """Every setting's default value."""
    return {k: d.default for k, d in SETTINGS.items()}


def from_stored(rows: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting's value from the ``settings`` table's rows (stored key -> JSON)."""
    return {k: d.from_stored(rows.get(d.stored_as)) for k, d in SETTINGS.items()}


# --- the typed groups the scheduler uses ---------------------------------------------


@dataclass(frozen=True)
class SchedulerConfig:
    """The collection's FSRS settings (stored under the ``fsrs.*`` keys).

    Attributes:
        desired_retention: target recall probability; default 0.90.
        learning_steps_s: learning steps in seconds; default (60, 600) = 1m, 10m.
        relearning_steps_s: relearning steps in seconds; default (600,) = 10m.
        maximum_interval_d: longest interval in days; default 36500.
        enable_fuzzing: spread Review intervals a little (deterministic per card).
        parameters: the 21 FSRS-6 parameters w0..w20 (the package's defaults).
    """

    desired_retention: float = 0.9
    learning_steps_s: tuple[int, ...] = (60, 600)
    relearning_steps_s: tuple[int, ...] = (600,)
    maximum_interval_d: int = 36500
    enable_fuzzing: bool = True
    parameters: tuple[float, ...] = tuple(DEFAULT_PARAMETERS)

    def validate(self) -> None:
        """Raises InvalidInputError for a value the scheduler cannot use at all.

        This is the scheduler's own check (retention in (0, 1), positive steps,
        an interval of at least a day, parameters ``fsrs.Scheduler`` accepts),
        with the messages it always had; what a user may *set* is narrower and
        checked per setting (:class:`SettingDef`, e.g. retention 0.70-0.99).
        """
        if not 0.0 < self.desired_retention < 1.0:
            raise InvalidInputError(
                f"desired retention must be between 0 and 1 (e.g. 0.9), not {self.desired_retention}"
            )
        for name, steps in (
            ("learning", self.learning_steps_s),
            ("relearning", self.relearning_steps_s),
        ):
            if any(s <= 0 for s in steps):
                raise InvalidInputError(f"{name} steps must be positive seconds, not {list(steps)}")
        if self.maximum_interval_d < 1:
            raise InvalidInputError(
                f"maximum interval must be at least 1 day, not {self.maximum_interval_d}"
            )
        problem = _check_parameters(self.parameters)
        if problem:
            raise InvalidInputError(problem)

    def scheduler(self) -> fsrs.Scheduler:
        """The package scheduler. Its own (random) fuzz is off: studylog fuzzes per card."""
        return fsrs.Scheduler(
            parameters=self.parameters,
            desired_retention=self.desired_retention,
            learning_steps=[timedelta(seconds=s) for s in self.learning_steps_s],
            relearning_steps=[timedelta(seconds=s) for s in self.relearning_steps_s],
            maximum_interval=self.maximum_interval_d,
            enable_fuzzing=False,
        )

    def params(self) -> batch.Params:
        """The same settings for the NumPy whole-collection path."""
        from studylog.scheduling import batch  # lazy: NumPy, which `today` does not need

        return batch.Params.from_scheduler(self.scheduler(), enable_fuzzing=self.enable_fuzzing)


@dataclass(frozen=True)
class DailyLimits:
    """Daily limits and the leech and sibling rules (``review.*`` keys).

    Attributes:
        new_per_day, reviews_per_day: cards per study day.
        leech_threshold: lapses that make a card a leech.
        new_ignores_review_limit: new cards are not capped by the review limit.
        leech_action: ``suspend`` (tag and suspend) or ``tag`` (tag only).
        bury_siblings: hold back siblings of cards answered today.
    """

    new_per_day: int = 20
    reviews_per_day: int = 200
    leech_threshold: int = 8
    new_ignores_review_limit: bool = True
    leech_action: str = "suspend"
    bury_siblings: bool = True

    def validate(self) -> None:
        """Raises SettingError for a value out of range."""
        for attr, key in LIMIT_FIELDS.items():
            SETTINGS[key].validate(getattr(self, attr))


@dataclass(frozen=True)
class Balancing:
    """Load balancing and easy days (Anki 24.11; :mod:`studylog.scheduling.load_balance`).

    Attributes:
        enabled: prefer days with fewer Review cards due inside the fuzz range.
        easy_days: seven :class:`EasyDay`, Monday first.
    """

    enabled: bool = True
    easy_days: tuple[EasyDay, ...] = (EasyDay.NORMAL,) * 7


def balancing_from(values: Mapping[str, Any]) -> Balancing:
    """The Balancing in ``values`` (setting key -> value; missing keys: defaults)."""
    return Balancing(
        enabled=bool(values.get("load_balancing", True)),
        easy_days=parse_easy_days(list(values.get("easy_days", ("normal",) * 7))),
    )


CONFIG_FIELDS: Mapping[str, str] = {
    "desired_retention": "desired_retention",
    "learning_steps_s": "learning_steps",
    "relearning_steps_s": "relearning_steps",
    "maximum_interval_d": "maximum_interval",
    "enable_fuzzing": "enable_fuzz",
    "parameters": "fsrs_parameters",
}
"""SchedulerConfig attribute -> setting key."""

LIMIT_FIELDS: Mapping[str, str] = {f.name: f.name for f in fields(DailyLimits)}
"""DailyLimits attribute -> setting key (the same names)."""


def config_from(values: Mapping[str, Any]) -> SchedulerConfig:
    """The SchedulerConfig in ``values`` (setting key -> value; missing keys: defaults)."""
    found = {a: values[k] for a, k in CONFIG_FIELDS.items() if k in values}
    return replace(SchedulerConfig(), **found)


def limits_from(values: Mapping[str, Any]) -> DailyLimits:
    """The DailyLimits in ``values`` (setting key -> value; missing keys: defaults)."""
    found = {a: values[k] for a, k in LIMIT_FIELDS.items() if k in values}
    return replace(DailyLimits(), **found)


def reschedule_kind(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What a change from ``old`` to ``new`` values needs: ``full``, ``due`` or ``""``."""
    kinds = {d.scheduler for k, d in SETTINGS.items() if d.scheduler and old[k] != new[k]}
    return "full" if "full" in kinds else ("due" if kinds else "")


# --- deck presets ----------------------------------------------------------------------
#
# Each deck may set some of the ``scope == "deck"`` settings for itself (its
# preset, as in Anki's deck options). A deck that does not set a key takes it
# from its nearest ancestor that does ("딥러닝::RNN" from "딥러닝"), and
# finally from the collection's value (itself the default when unset).

DECK_SEPARATOR = "::"

DECK_KEYS: tuple[str, ...] = tuple(k for k, d in SETTINGS.items() if d.scope == "deck")
"""The settings a deck's preset may set, in ``config list`` order."""

COLLECTION = "collection"
"""The source of a value that no deck on the path sets (the collection's, or its default)."""


def deck_setting(key: str) -> SettingDef:
    """The definition of ``key`` if a deck's preset may set it.

    Raises:
        SettingError: an unknown key, or one that only the collection has
            (``day_start_hour``, ``timezone``, ``fsrs_parameters``).
    """
    definition = setting(key)
    if definition.scope != "deck":
        raise SettingError(
            key,
            "only the collection has this setting, a deck cannot set it "
            f"(per-deck settings: {', '.join(DECK_KEYS)})",
            ", ".join(DECK_KEYS),
        )
    return definition


def deck_path(deck: str) -> tuple[str, ...]:
    """The deck and its ancestors, outermost first: ``"a::b::c"`` -> ("a", "a::b", "a::b::c").

    Components are kept as written (Anki's ``::`` hierarchy; names are exact).
    """
    parts = deck.split(DECK_SEPARATOR)
    return tuple(DECK_SEPARATOR.join(parts[: i + 1]) for i in range(len(parts)))


def is_in_deck(deck: str, top: str) -> bool:
    """Whether ``deck`` is ``top`` or one of its subdecks (``top::...``)."""
    return deck == top or deck.startswith(top + DECK_SEPARATOR)


def resolve(
    collection: Mapping[str, Any],
    presets: Mapping[str, Mapping[str, Any]],
    deck: str | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A deck's effective settings and where each value comes from.

    Args:
        collection: every setting's collection value (key -> typed value).
        presets: deck name -> the keys that deck's preset sets (typed values).
        deck: the deck (``::`` for subdecks); None for the collection itself.
    Returns:
        (key -> value for every setting, key -> source): the source is the
        deck whose preset set it (the deck itself or its nearest ancestor
        that sets the key), or :data:`COLLECTION`.

    Source: Anki's deck options, with inheritance by the ``::`` hierarchy
    (Anki assigns a preset per deck; studylog lets a subdeck take what its
    parent's preset sets, key by key, unless it sets the key itself).
    """
    values = dict(collection)
    sources = dict.fromkeys(collection, COLLECTION)
    if deck is not None:
        for name in deck_path(deck):  # outermost first: the nearest one wins
            for key, value in presets.get(name, {}).items():
                if key in values and SETTINGS[key].scope == "deck":
                    values[key] = value
                    sources[key] = name
    return values, sources
