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

Safety (the package is another person's file):

- every member name is checked (no absolute paths, no ``..``, no drive
  letters) before anything is read; a damaged zip (bad offsets, unsupported
  compression, encryption) is one error naming the file;
- only the collection is written to disk, to a temporary file removed on
  every exit path (errors, Ctrl-C, SIGTERM through the CLI); one left by a
  killed import is removed by the next one (:func:`sweep_orphans`);
- decompressed sizes are capped while streaming: at most
  :data:`MAX_RATIO` times the compressed size (at least
  :data:`RATIO_FLOOR_BYTES`) and never more than ``cap``, so a 160 KB zstd
  bomb stops at 64 MiB, whatever its header claims;
- the collection is read through a read-only, ``query_only`` connection with
  a progress handler that interrupts any statement after
  :data:`READ_BUDGET_S` seconds, from tables only (a ``notes`` *view*, say a
  recursive one, is refused), and at most :data:`MAX_ROWS` rows per table;
- malformed values (a ``col`` table without its row, a note type id that
  does not exist, text where numbers belong, JSON nested too deep) become one
  error naming the file and the record.

Media files are never extracted: only their names are read, to report them as skipped.

Anki's formats: ``rslib/src/import_export/package`` and
``rslib/src/storage/schema11.sql`` in github.com/ankitects/anki.
"""

from __future__ import annotations

import json
import lzma
import os
import re
import shutil
import sqlite3
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

import zstandard

from studylog.errors import InvalidInputError
from studylog.interchange.limits import check_json_depth

COLLECTION_NAMES = ("collection.anki21b", "collection.anki21", "collection.anki2")
MAX_COLLECTION_BYTES = 4 * 1024**3  # decompressed collection, whatever its compressed size
# SQLite collections compress 3-10x (zstd or deflate); 100x is a bomb.
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 64 * 1024**2
MAX_SMALL_MEMBER_BYTES = 64 * 1024**2  # the media map and meta
READ_BUDGET_S = 60.0  # wall-clock seconds for reading one collection
MAX_ROWS = 5_000_000  # rows of one table (notes, cards, revlog...)
_PROGRESS_STEPS = 10_000  # SQLite VM steps between two looks at the clock
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
_TABLES = ("col", "notes", "cards", "revlog", "notetypes", "fields", "templates", "decks")
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
)


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


def collection_cap(compressed: int, cap: int = MAX_COLLECTION_BYTES) -> int:
    """Bytes a collection of ``compressed`` bytes may decompress to (see the module docstring)."""
    return min(cap, max(RATIO_FLOOR_BYTES, MAX_RATIO * compressed))


TEMP_PREFIX = "studylog-anki-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def sweep_orphans(folder: Path | None = None) -> list[Path]:
    """Remove temporary collections left by imports that were killed; return what was removed.

    Each temporary collection's name carries the id of the process that made
    it (``studylog-anki-<pid>-….sqlite``); one whose process is gone is an
    orphan (SIGKILL, a power cut: no ``finally`` ran). Folders of the older
    layout (``studylog-anki-…/``) older than a day are removed too.
    """
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    for path in folder.glob(f"{TEMP_PREFIX}*"):
        rest = path.name[len(TEMP_PREFIX) :]
        pid_text = rest.split("-", 1)[0]
        try:
            if path.is_file() and pid_text.isdigit() and not _alive(int(pid_text)):
                path.unlink(missing_ok=True)
                removed.append(path)
            elif path.is_dir() and time.time() - path.stat().st_mtime > 86_400:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        except OSError:
            continue
    return removed


@contextmanager
def _temporary_collection() -> Iterator[tuple[IO[bytes], str]]:
    """A temporary file for the collection, removed on every exit path but a kill.

    Its name carries this process's id, so that the next import removes it
    when this process was killed before it could (:func:`sweep_orphans`).
    The CLI turns SIGTERM into a normal exit, so ``finally`` runs then too.
    """
    handle, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".sqlite")
    try:
        with os.fdopen(handle, "w+b") as stream:
            yield stream, name
    finally:
        Path(name).unlink(missing_ok=True)


class _Budget:
    """A progress handler that interrupts SQLite after ``seconds`` of wall-clock time."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.fired = False

    def __call__(self) -> int:
        if time.monotonic() > self.deadline:
            self.fired = True
            return 1
        return 0


class _BudgetConnection(sqlite3.Connection):
    """A connection that carries its :class:`_Budget` (``budget``)."""

    budget: _Budget


@contextmanager
def opened_collection(
    path: Path, *, cap: int = MAX_COLLECTION_BYTES
) -> Iterator[tuple[sqlite3.Connection, str, list[str]]]:
    """The package's collection opened read-only, its member name, and its media names.

    The collection is written to a temporary file (see
    :func:`_temporary_collection`); no member name is ever used as a path. The
    connection interrupts any statement after :data:`READ_BUDGET_S` seconds
    (``connection.budget.fired`` then says so).

    Raises:
        InvalidInputError: not a zip, a damaged zip, or not an Anki package (names the file).
        UnsafePackageError: unsafe member names, or sizes beyond the caps.
    """
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise InvalidInputError(
            f"{name}: not an Anki package (not a readable zip: {exc})"
        ) from None
    con = None
    sweep_orphans()
    with _temporary_collection() as (stream, sqlite_path):
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
                limit = collection_cap(zf.getinfo(chosen).compress_size, cap)
                with zf.open(chosen) as source:
                    if chosen.endswith("b"):
                        with zstandard.ZstdDecompressor().stream_reader(source) as unzstd:
                            _copy_capped(unzstd, stream, limit, f"{name}: {chosen}")
                    else:
                        _copy_capped(source, stream, limit, f"{name}: {chosen}")
                stream.flush()
            # immutable: no journal or lock files, and none are needed to read.
            con = sqlite3.connect(
                f"file:{sqlite_path}?mode=ro&immutable=1", uri=True, factory=_BudgetConnection
            )
            con.execute("PRAGMA query_only = ON")
            con.execute("PRAGMA trusted_schema = OFF")
            budget = _Budget(READ_BUDGET_S)
            con.set_progress_handler(budget, _PROGRESS_STEPS)
            con.budget = budget
            # Anki's own collation on names; only needed so that its indexes load.
            con.create_collation(
                "unicase", lambda a, b: (a.lower() > b.lower()) - (a.lower() < b.lower())
            )
            yield con, chosen, media
        except zstandard.ZstdError as exc:
            raise InvalidInputError(
                f"{name}: the collection is not valid zstd data ({exc})"
            ) from None
        except _ZIP_ERRORS as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError(f"{name}: damaged zip ({type(exc).__name__}: {exc})") from None
        finally:
            if con is not None:
                con.close()


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
        InvalidInputError: not an Anki package, a damaged collection, a
            malformed record, or a collection slower to read than
            :data:`READ_BUDGET_S` (names the file, and the record if any).
        UnsafePackageError: see :func:`opened_collection`.
    """
    with opened_collection(path, cap=cap) as (con, member, media):
        reader = _Reader(con, member, media)
        try:
            return reader.read()
        except InvalidInputError as exc:
            raise InvalidInputError(f"{path.name}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            budget = con.budget  # type: ignore[attr-defined]
            if budget.fired:
                raise InvalidInputError(
                    f"{path.name}: reading {member} took longer than {budget.seconds:g} s "
                    f"(at {reader.where}); refusing it"
                ) from None
            raise InvalidInputError(
                f"{path.name}: {member} is not a readable collection ({exc})"
            ) from None
        except (
            TypeError,
            ValueError,
            AttributeError,
            KeyError,
            IndexError,
            RecursionError,
            OverflowError,
            MemoryError,
        ) as exc:
            raise InvalidInputError(
                f"{path.name}: {member}: malformed {reader.where} "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            ) from None


def _tables(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


class _Reader:
    """Reads the collection's tables, remembering the record it is at (for errors)."""

    def __init__(self, con: sqlite3.Connection, member: str, media: list[str]) -> None:
        self.con = con
        self.col = AnkiCollection(member=member, media=media)
        self.where = "collection"

    def rows(self, table: str, sql: str) -> Iterator[tuple]:
        self.where = f"{table} table"
        for n, row in enumerate(self.con.execute(sql)):
            if n >= MAX_ROWS:
                raise InvalidInputError(f"{table}: more than {MAX_ROWS:,} rows; refusing it")
            yield row

    def read(self) -> AnkiCollection:
        con, col = self.con, self.col
        kinds = dict(con.execute("SELECT name, type FROM sqlite_master"))
        for table in _TABLES:
            if table in kinds and kinds[table] != "table":
                raise InvalidInputError(
                    f"{table} is a {kinds[table]}, not a table: not an Anki collection"
                )
        for table in ("notes", "cards", "revlog"):
            if table not in kinds:
                raise InvalidInputError(f"no {table} table: not an Anki collection")
        if "notetypes" in kinds:
            col.notetypes, col.decks = _schema18(self)
        else:
            col.notetypes, col.decks = _schema11(self)
        for nid, guid, mid, tags, flds in self.rows(
            "notes", "SELECT id, guid, mid, tags, flds FROM notes"
        ):
            self.where = f"note {nid}"
            col.notes[int(nid)] = Note(
                int(nid), str(guid), int(mid), str(tags or "").split(), str(flds).split("\x1f")
            )
        for cid, nid, did, odid, ord_, ctype, queue in self.rows(
            "cards", "SELECT id, nid, did, odid, ord, type, queue FROM cards ORDER BY id"
        ):
            self.where = f"card {cid}"
            col.cards.append(
                AnkiCard(int(cid), int(nid), int(odid or did), int(ord_), int(ctype), int(queue))
            )
        col.revlog = []
        for row in self.rows(
            "revlog", "SELECT id, cid, ease, ivl, factor, time, type FROM revlog ORDER BY cid, id"
        ):
            self.where = f"review {row[0]}"
            col.revlog.append(RevlogEntry(*(int(v) for v in row)))
        self.where = "collection"
        return col


def _schema18(reader: _Reader) -> tuple[dict[int, Notetype], dict[int, str]]:
    fields: dict[int, list[tuple[int, str]]] = {}
    for ntid, ord_, name in reader.rows("fields", "SELECT ntid, ord, name FROM fields"):
        fields.setdefault(int(ntid), []).append((int(ord_), str(name)))
    templates: dict[int, list[tuple[int, str, str, str]]] = {}
    for ntid, ord_, name, config in reader.rows(
        "templates", "SELECT ntid, ord, name, config FROM templates"
    ):
        reader.where = f"template {ord_} of note type {ntid}"
        parsed = protobuf_fields(bytes(config or b""))
        templates.setdefault(int(ntid), []).append(
            (int(ord_), str(name), _text(parsed, 1), _text(parsed, 2))
        )
    notetypes = {}
    for ntid, name, config in reader.rows("notetypes", "SELECT id, name, config FROM notetypes"):
        reader.where = f"note type {ntid}"
        ntid, name = int(ntid), str(name)
        kind_values = protobuf_fields(bytes(config or b"")).get(1, [0])
        kind = "cloze" if kind_values[0] == 1 else "standard"
        notetypes[ntid] = Notetype(
            ntid,
            name,
            kind,
            [n for _, n in sorted(fields.get(ntid, []))],
            [(n, q, a) for _, n, q, a in sorted(templates.get(ntid, []))],
        )
    decks = {
        int(did): str(name).replace("\x1f", "::")
        for did, name in reader.rows("decks", "SELECT id, name FROM decks")
    }
    return notetypes, decks


def _schema11(reader: _Reader) -> tuple[dict[int, Notetype], dict[int, str]]:
    row = next(reader.rows("col", "SELECT models, decks FROM col"), None)
    if row is None:
        raise InvalidInputError("the col table has no row: not an Anki collection")
    models_json, decks_json = row
    reader.where = "note types (col.models)"
    models = _json_object(models_json)
    notetypes = {}
    for key, model in models.items():
        if not isinstance(model, dict):
            raise InvalidInputError(f"note type {key!r} is not an object")
        reader.where = f"note type {key}"
        ntid = int(model.get("id", key))
        fields = [f["name"] for f in sorted(model.get("flds", []), key=lambda f: f.get("ord", 0))]
        templates = [
            (t.get("name", ""), t.get("qfmt", ""), t.get("afmt", ""))
            for t in sorted(model.get("tmpls", []), key=lambda t: t.get("ord", 0))
        ]
        kind = "cloze" if model.get("type") == 1 else "standard"
        notetypes[ntid] = Notetype(ntid, model.get("name", ""), kind, fields, templates)
    reader.where = "decks (col.decks)"
    decks = {
        int(d.get("id", k)): str(d.get("name", ""))
        for k, d in _json_object(decks_json).items()
        if isinstance(d, dict)
    }
    return notetypes, decks


def _json_object(text: object) -> dict:
    """A JSON object from the ``col`` row; deep nesting is refused before parsing."""
    if text is None or text == "":
        return {}
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text)
    check_json_depth(text, "the col row's JSON")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise InvalidInputError("the col row's JSON is not an object")
    return value
