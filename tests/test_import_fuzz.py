"""Fuzz every importer with mutated valid files (issue 14): no traceback, no hang, no partial write.

Hypothesis mutates valid files of each format (notes, concept and deck
files, card CSV, a JSON export, an Anki package and the collection inside
it): bytes flipped, runs deleted or repeated, the file cut, and for text
formats characters and pieces of syntax (front matter fences, card blocks,
dates, YAML tags, escapes) inserted, so the parsers are reached, not only
the decoder.
Every import must either succeed or fail with one :class:`StudylogError`
line naming the file, within :data:`PER_FILE_S` seconds; a failed import must
leave the database as it was. The seed is fixed (``derandomize``) and the
examples are few enough for CI (about 20 s on a loaded 2-core machine).
"""

from __future__ import annotations

import json
import signal
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from studylog.errors import StudylogError
from studylog.interchange.importer import import_files, is_review_log
from studylog.interchange.review_log import import_review_log
from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.import_models import ImportRecord, SuggestedCard
from studylog.storage.models import Card, Concept, JournalEntry, Review, Todo
from tests.hostile_files import CONCEPT, CSV, DECK, NOTE, collection_bytes, write_apkg

PER_FILE_S = 20  # a hang is anything slower than this
EXAMPLES = 40  # per format


# A fixed seed (derandomize), no example database, no per-example deadline
# (the alarm below is the hang check).
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class Hang(Exception):
    pass


def _alarm(_signum, _frame):  # noqa: ANN001, ANN202
    raise Hang


MUTATION = st.lists(
    st.tuples(
        st.sampled_from(["flip", "delete", "repeat", "insert", "cut"]),
        st.floats(0, 1, allow_nan=False),
        st.integers(1, 64),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, edits: list[tuple[str, float, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, length, junk in edits:
        if not out:
            break
        i = min(int(where * len(out)), len(out) - 1)
        if kind == "flip":
            for k in range(i, min(i + length, len(out))):
                out[k] ^= junk[k % len(junk)] or 0xFF
        elif kind == "delete":
            del out[i : i + length]
        elif kind == "repeat":
            out[i:i] = bytes(out[i : i + length]) * 50
        elif kind == "insert":
            out[i:i] = junk * length
        else:
            del out[i:]
    return bytes(out)


# Pieces of the formats' syntax (and of hostile input) that text mutations insert.
TOKENS = [
    "---\n",
    "\n",
    ":",
    "::",
    " : ",
    "{{c1::",
    "}}",
    "::: card k\n",
    ":::\n",
    "# ",
    "## Cards\n",
    "- [ ] ",
    "- [x] ",
    "2024-08-16",
    "2024. 8. 16.",
    "오후 3:00",
    '"',
    ",",
    "\x00",
    "\x1b]0;t\x07",
    "[",
    "]",
    "{",
    "}",
    "!!python/object:os.system ",
    "&a ",
    "*a ",
    "slug: ../../x\n",
    "deck: \n",
    "deck: x\n",
    "\ufeff",
    "어텐션",
    "🧠",
    "\r",
    "\t",
]


def mutate_text(text: str, edits: list[tuple[str, float, int, bytes]]) -> bytes:
    """Character-level edits and syntax tokens, so the parsers, not the decoder, are fuzzed."""
    out = list(text)
    for kind, where, length, junk in edits:
        if not out:
            break
        i = min(int(where * len(out)), len(out) - 1)
        token = TOKENS[junk[0] % len(TOKENS)]
        if kind == "flip":
            out[i : i + 1] = list(token)
        elif kind == "delete":
            del out[i : i + length]
        elif kind == "repeat":
            out[i:i] = out[i : i + length] * 50
        elif kind == "insert":
            out[i:i] = list(token * length)
        else:
            del out[i:]
    return "".join(out).encode("utf-8", "surrogatepass")


def snapshot(db: Database) -> tuple[int, ...]:
    with db.read() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m))
            for m in (Card, Concept, JournalEntry, Review, SuggestedCard, Todo, ImportRecord)
        )


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    migrate.prepare(db)
    yield db
    db.dispose()


def _json_export(folder: Path) -> bytes:
    from studylog.interchange.json_export import export_json
    from studylog.services import cards, journal, todos

    db = Database(f"sqlite:///{folder / 'source.db'}")
    migrate.prepare(db)
    from datetime import date

    journal.add(db, "밑바닥2 8장 🧠", date(2024, 8, 16))
    todos.add(db, "여인수 정리", date(2024, 8, 16))
    cards.create(db, "어텐션 가중치의 합은?", "1", tags=["dl2"])
    export_json(db, folder / "export.json")
    db.dispose()
    return (folder / "export.json").read_bytes()


def _apkg_bytes(folder: Path) -> bytes:
    return write_apkg(folder / "seed.apkg", collection_bytes()).read_bytes()


SEEDS: dict[str, tuple[str, Callable[[Path], bytes]]] = {
    "notes": (".md", lambda _f: NOTE.encode()),
    "concept": (".md", lambda _f: CONCEPT.encode()),
    "deck": (".md", lambda _f: DECK.encode()),
    "cards-csv": (".csv", lambda _f: CSV.encode()),
    "json": (".json", _json_export),
    "apkg": (".apkg", _apkg_bytes),
    "review-log": (".csv", lambda _f: REVIEW_LOG.encode()),
}
REVIEW_LOG = (
    "card_id,review_rating,review_time,review_duration\n"
    "1711684180217,1,2024-03-29T20:32:32.250000+00:00,25060\n"
    "1711684180217,3,2024-03-29T20:42:39.497000+00:00,7241\n"
    "1711684780667,3,2024-03-30T09:00:00+00:00,5000\n"
)


def _run_one(db: Database, path: Path) -> None:
    before = snapshot(db)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_FILE_S)
    try:
        if path.suffix == ".csv" and is_review_log(path):
            import_review_log(db, path)  # the CLI routes review logs here
        else:
            import_files(db, [path])
    except StudylogError as exc:
        message = str(exc)
        assert "\n" not in message.strip(), message
        assert path.name in message or path.stem in message, message
        assert snapshot(db) == before, f"a failed import wrote: {message}"
    except Hang:
        pytest.fail(f"{path.name}: the import took longer than {PER_FILE_S} s")
    finally:
        signal.alarm(0)


@pytest.mark.parametrize("kind", list(SEEDS))
def test_mutated_files_never_crash_hang_or_half_write(
    kind: str, fuzz_db: Database, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp(f"fuzz-{kind}")
    suffix, make = SEEDS[kind]
    seed = make(folder)

    @FUZZ
    @given(MUTATION)
    def check(edits: list[tuple[str, float, int, bytes]]) -> None:
        path = folder / f"mutant-{kind}{suffix}"
        if suffix in (".md", ".csv", ".json") and edits[0][3][0] % 4:
            path.write_bytes(mutate_text(seed.decode("utf-8"), edits))  # 3 in 4: text edits
        else:
            path.write_bytes(mutate(seed, edits))
        _run_one(fuzz_db, path)

    check()


@FUZZ
@given(MUTATION)
def test_mutated_collections_inside_a_valid_zip(tmp_path_factory, fuzz_db, edits) -> None:
    # The zip is fine; the SQLite file in it is not (pages, schema, values).
    folder = tmp_path_factory.mktemp("fuzz-col", numbered=True)
    broken = mutate(collection_bytes(), edits)
    path = folder / "mutant-col.apkg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("collection.anki2", broken)
    _run_one(fuzz_db, path)


def test_the_seeds_themselves_import(fuzz_db: Database, tmp_path: Path) -> None:
    # The fuzz starts from files that are valid: each imports cleanly.
    for kind, (suffix, make) in SEEDS.items():
        path = tmp_path / f"seed-{kind}{suffix}"
        path.write_bytes(make(tmp_path))
        if kind == "review-log":
            import_review_log(fuzz_db, path)
        else:
            import_files(fuzz_db, [path])
    assert snapshot(fuzz_db)[0] > 0
    json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))
