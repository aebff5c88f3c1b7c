"""Read an Anki package (``.apkg``, ``.colpkg``) safely into plain Python data.

Packages are zip files. Inside is the collection, an SQLite database, under
one of three names; the newest is preferred, because current packages also
carry a placeholder ``collection.anki2`` that only says "please update Anki":

- ``collection.anki21b``: zstd-compressed, schema 18 (Anki 2.1.50+), with
  ``notetypes``/``fields``/``templates``/``decks`` tables whose configs are
  protobuf messages;
- ``collection.anki21``: schema 11 (Anki 2.1, v2 scheduler), models and
  decks as JSON in the ``col`` row;
- ``collection.anki2``: schema 11 (Anki 2.0).

Safety: every member name is checked (no absolute paths, no ``..``, no
drive letters) before anything is read; only the collection is written to
disk, under a fixed name inside a temporary folder that is removed
afterwards; decompressed sizes are capped while streaming (a zip bomb stops
at the cap, whatever its header claims). Media files are never extracted:
only their names are read, to report them as skipped.

Anki's formats: ``rslib/src/import_export/package`` and
``rslib/src/storage/schema11.sql`` in github.com/ankitects/anki.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

import zstandard

from studylog.errors import InvalidInputError

COLLECTION_NAMES = ("collection.anki21b", "collection.anki21", "collection.anki2")
MAX_COLLECTION_BYTES = 4 * 1024**3  # decompressed collection
MAX_SMALL_MEMBER_BYTES = 64 * 1024**2  # the media map and meta
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePackageError(InvalidInputError):
    """A package with a member that could escape a folder, or that decompresses too large."""


@dataclass(frozen=True)
class Notetype:
    """A note type: ``kind`` is ``standard`` or ``cloze``; templates are (name, question, answer)."""

    id: int
    name: str
    kind: str
    fields: list[str]
    templates: list[tuple[str, str, str]]


@dataclass(frozen=True)
class Note:
    """A note: its GUID (stable across collections), note type, tags and field values (HTML)."""

    id: int
    guid: str
    notetype_id: int
    tags: list[str]
    fields: list[str]


@dataclass(frozen=True)
class AnkiCard:
    """A card: ``ord`` is the template (or cloze number - 1); ``queue`` -1 means suspended.

    ``deck_id`` is the card's home deck (its original deck when it sits in a
    filtered deck).
    """

    id: int
    note_id: int
    deck_id: int
    ord: int
    type: int
    queue: int


@dataclass(frozen=True)
class RevlogEntry:
    """One row of Anki's review log.

    ``id`` is the review time in milliseconds since the Unix epoch; ``ease``
    the button (1 Again .. 4 Easy; 0 for manual rescheduling); ``ivl`` the
    new interval (days if positive, seconds if negative); ``factor`` the ease
    factor in permille (0 marks cramming and resets); ``time`` the answer time
    in ms; ``type`` 0 learn, 1 review, 2 relearn, 3 filtered, 4 manual,
    5 rescheduled.
    """

    id: int
    card_id: int
    ease: int
    ivl: int
    factor: int
    time: int
    type: int


@dataclass
class AnkiCollection:
    """Everything studylog reads from a package."""

    member: str
    notetypes: dict[int, Notetype] = field(default_factory=dict)
    decks: dict[int, str] = field(default_factory=dict)
    notes: dict[int, Note] = field(default_factory=dict)
    cards: list[AnkiCard] = field(default_factory=list)
    revlog: list[RevlogEntry] = field(default_factory=list)
    media: list[str] = field(default_factory=list)


# --- zip safety ------------------------------------------------------------------------


def check_member_name(name: str, package: str) -> None:
    """Refuse a member name that is absolute, has ``..`` or a drive letter.

    Raises:
        UnsafePackageError: naming the package and the member.
    """
    normal = name.replace("\\", "/")
    parts = PurePosixPath(normal).parts
    if normal.startswith("/") or _DRIVE.match(normal) or ".." in parts or "\x00" in name:
        raise UnsafePackageError(f"{package}: unsafe member name {name!r} (refusing the package)")


def _copy_capped(source: IO[bytes], dest: IO[bytes], cap: int, what: str) -> int:
    total = 0
    while chunk := source.read(_CHUNK):
        total += len(chunk)
        if total > cap:
            raise UnsafePackageError(f"{what} decompresses to more than {cap:,} bytes; refusing it")
        dest.write(chunk)
    return total


def _read_capped(zf: zipfile.ZipFile, member: str, package: str) -> bytes:
    with zf.open(member) as handle:
        data = handle.read(MAX_SMALL_MEMBER_BYTES + 1)
    if len(data) > MAX_SMALL_MEMBER_BYTES:
        raise UnsafePackageError(f"{package}: {member} is larger than expected; refusing it")
    return data


def _zstd(data: bytes, cap: int, what: str) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(data)
    out = reader.read(cap + 1)
    if len(out) > cap:
        raise UnsafePackageError(f"{what} decompresses to more than {cap:,} bytes; refusing it")
    return out


# --- protobuf, the few fields needed ---------------------------------------------------


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7


def protobuf_fields(data: bytes) -> dict[int, list[int | bytes]]:
    """Field number -> values of a protobuf message (varints as int, others as bytes).

    Enough for Anki's configs (notetype kind, template formats, media names);
    Encoding: developers.google.com/protocol-buffers/docs/encoding.
    """
    out: dict[int, list[int | bytes]] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
            out.setdefault(number, []).append(value)
        elif wire == 2:
            length, i = _varint(data, i)
            out.setdefault(number, []).append(data[i : i + length])
            i += length
        elif wire == 1:
            out.setdefault(number, []).append(data[i : i + 8])
            i += 8
        elif wire == 5:
            out.setdefault(number, []).append(data[i : i + 4])
            i += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return out


def _text(fields: dict[int, list[int | bytes]], number: int) -> str:
    values = fields.get(number) or [b""]
    value = values[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# --- reading -----------------------------------------------------------------------------


@contextmanager
def opened_collection(
    path: Path, *, cap: int = MAX_COLLECTION_BYTES
) -> Iterator[tuple[sqlite3.Connection, str, list[str]]]:
    """The package's collection opened read-only, its member name, and its media names.

    The collection is written to a temporary folder (removed on exit) under a
    fixed name; no member name is ever used as a path.

    Raises:
        InvalidInputError: not a zip or not an Anki package (names the file).
        UnsafePackageError: unsafe member names, or sizes beyond ``cap``.
    """
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInputError(
            f"{name}: not an Anki package (not a readable zip: {exc})"
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="studylog-anki-"))
    con = None
    try:
        with zf:
            members = zf.namelist()
            for member in members:
                check_member_name(member, name)
            chosen = next((m for m in COLLECTION_NAMES if m in members), None)
            if chosen is None:
                raise InvalidInputError(
                    f"{name}: not an Anki package (no {' / '.join(COLLECTION_NAMES)} inside)"
                )
            media = _media_names(zf, members, name)
            target = folder / "collection.sqlite"
            with zf.open(chosen) as source, target.open("wb") as dest:
                if chosen.endswith("b"):
                    with zstandard.ZstdDecompressor().stream_reader(source) as unzstd:
                        _copy_capped(unzstd, dest, cap, f"{name}: {chosen}")
                else:
                    _copy_capped(source, dest, cap, f"{name}: {chosen}")
        con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        # Anki's own collation on names; only needed so that its indexes load.
        con.create_collation(
            "unicase", lambda a, b: (a.lower() > b.lower()) - (a.lower() < b.lower())
        )
        yield con, chosen, media
    except zstandard.ZstdError as exc:
        raise InvalidInputError(f"{name}: the collection is not valid zstd data ({exc})") from None
    except zipfile.BadZipFile as exc:
        raise InvalidInputError(f"{name}: damaged zip ({exc})") from None
    finally:
        if con is not None:
            con.close()
        shutil.rmtree(folder, ignore_errors=True)


def _media_names(zf: zipfile.ZipFile, members: list[str], package: str) -> list[str]:
    """Names of the media files in the package (legacy JSON map or zstd protobuf)."""
    if "media" not in members:
        return []
    data = _read_capped(zf, "media", package)
    if not data.strip():
        return []
    if data[:1] == b"{":
        try:
            mapping = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return []
        return sorted(str(v) for v in mapping.values())
    try:
        entries = protobuf_fields(_zstd(data, MAX_SMALL_MEMBER_BYTES, f"{package}: media"))
    except (zstandard.ZstdError, ValueError):
        return []
    names = []
    for entry in entries.get(1, []):
        if isinstance(entry, bytes):
            names.append(_text(protobuf_fields(entry), 1))
    return sorted(n for n in names if n)


def read_collection(path: Path, *, cap: int = MAX_COLLECTION_BYTES) -> AnkiCollection:
    """Read note types, decks, notes, cards, review log and media names of a package.

    Raises:
        InvalidInputError: not an Anki package or a damaged collection (names the file).
        UnsafePackageError: see :func:`opened_collection`.
    """
    with opened_collection(path, cap=cap) as (con, member, media):
        try:
            return _read(con, member, media)
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(
                f"{path.name}: {member} is not a readable collection ({exc})"
            ) from None


def _tables(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _read(con: sqlite3.Connection, member: str, media: list[str]) -> AnkiCollection:
    col = AnkiCollection(member=member, media=media)
    if "notetypes" in _tables(con):
        col.notetypes, col.decks = _schema18(con)
    else:
        col.notetypes, col.decks = _schema11(con)
    for nid, guid, mid, tags, flds in con.execute("SELECT id, guid, mid, tags, flds FROM notes"):
        col.notes[nid] = Note(nid, guid, mid, tags.split(), flds.split("\x1f"))
    for cid, nid, did, odid, ord_, ctype, queue in con.execute(
        "SELECT id, nid, did, odid, ord, type, queue FROM cards ORDER BY id"
    ):
        col.cards.append(AnkiCard(cid, nid, odid or did, ord_, ctype, queue))
    col.revlog = [
        RevlogEntry(*row)
        for row in con.execute(
            "SELECT id, cid, ease, ivl, factor, time, type FROM revlog ORDER BY cid, id"
        )
    ]
    return col


def _schema18(con: sqlite3.Connection) -> tuple[dict[int, Notetype], dict[int, str]]:
    fields: dict[int, list[tuple[int, str]]] = {}
    for ntid, ord_, name in con.execute("SELECT ntid, ord, name FROM fields"):
        fields.setdefault(ntid, []).append((ord_, name))
    templates: dict[int, list[tuple[int, str, str, str]]] = {}
    for ntid, ord_, name, config in con.execute("SELECT ntid, ord, name, config FROM templates"):
        parsed = protobuf_fields(config or b"")
        templates.setdefault(ntid, []).append((ord_, name, _text(parsed, 1), _text(parsed, 2)))
    notetypes = {}
    for ntid, name, config in con.execute("SELECT id, name, config FROM notetypes"):
        kind_values = protobuf_fields(config or b"").get(1, [0])
        kind = "cloze" if kind_values[0] == 1 else "standard"
        notetypes[ntid] = Notetype(
            ntid,
            name,
            kind,
            [n for _, n in sorted(fields.get(ntid, []))],
            [(n, q, a) for _, n, q, a in sorted(templates.get(ntid, []))],
        )
    decks = {
        did: name.replace("\x1f", "::") for did, name in con.execute("SELECT id, name FROM decks")
    }
    return notetypes, decks


def _schema11(con: sqlite3.Connection) -> tuple[dict[int, Notetype], dict[int, str]]:
    models_json, decks_json = con.execute("SELECT models, decks FROM col").fetchone()
    notetypes = {}
    for key, model in json.loads(models_json or "{}").items():
        ntid = int(model.get("id", key))
        fields = [f["name"] for f in sorted(model.get("flds", []), key=lambda f: f.get("ord", 0))]
        templates = [
            (t.get("name", ""), t.get("qfmt", ""), t.get("afmt", ""))
            for t in sorted(model.get("tmpls", []), key=lambda t: t.get("ord", 0))
        ]
        kind = "cloze" if model.get("type") == 1 else "standard"
        notetypes[ntid] = Notetype(ntid, model.get("name", ""), kind, fields, templates)
    decks = {
        int(d.get("id", k)): d.get("name", "") for k, d in json.loads(decks_json or "{}").items()
    }
    return notetypes, decks
