"""Small import files made here, valid or hostile, for the robustness tests and the fuzz test.

Anki packages are built directly with sqlite3 and zipfile (schema 11, the
``collection.anki2`` layout, and schema 18's ``collection.anki21b`` zstd
layout where a test needs it), so a test can break exactly one thing in them.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import zstandard

BASIC_ID = 1001
MODELS = {
    str(BASIC_ID): {
        "id": BASIC_ID,
        "name": "Basic",
        "type": 0,
        "flds": [{"name": "Front", "ord": 0}, {"name": "Back", "ord": 1}],
        "tmpls": [
            {
                "name": "Card 1",
                "ord": 0,
                "qfmt": "{{Front}}",
                "afmt": "{{FrontSide}}<hr id=answer>{{Back}}",
            }
        ],
    }
}
DECKS = {"1": {"id": 1, "name": "Default"}, "2": {"id": 2, "name": "밑바닥2::8장"}}

SCHEMA11 = """
CREATE TABLE col (id integer primary key, crt integer, mod integer, scm integer, ver integer,
  dty integer, usn integer, ls integer, conf text, models text, decks text, dconf text, tags text);
CREATE TABLE notes (id integer primary key, guid text, mid integer, mod integer, usn integer,
  tags text, flds text, sfld integer, csum integer, flags integer, data text);
CREATE TABLE cards (id integer primary key, nid integer, did integer, ord integer, mod integer,
  usn integer, type integer, queue integer, due integer, ivl integer, factor integer,
  reps integer, lapses integer, left integer, odue integer, odid integer, flags integer,
  data text);
CREATE TABLE revlog (id integer primary key, cid integer, usn integer, ease integer,
  ivl integer, lastIvl integer, factor integer, time integer, type integer);
"""
# 2024-03-01 09:00 UTC in ms, the review log's ids.
T0_MS = 1709283600000


def collection_bytes(
    *,
    models: object = MODELS,
    decks: object = DECKS,
    col_row: bool = True,
    notes: list[tuple] | None = None,
    notes_sql: str | None = None,
) -> bytes:
    """A schema-11 collection as bytes: two notes, two cards, a short review log.

    ``notes_sql`` replaces the ``notes`` table's definition (a view, say).
    """
    con = sqlite3.connect(":memory:")
    schema = SCHEMA11
    if notes_sql is not None:
        start = schema.index("CREATE TABLE notes")
        end = schema.index("CREATE TABLE cards")
        schema = schema[:start] + notes_sql + ";\n" + schema[end:]
    con.executescript(schema)
    if col_row:
        con.execute(
            "INSERT INTO col VALUES (1, 0, 0, 0, 11, 0, 0, 0, '{}', ?, ?, '{}', '{}')",
            (json.dumps(models), json.dumps(decks)),
        )
    if notes_sql is None:
        for note in notes or [
            (1, "guid-a", BASIC_ID, " 어텐션 ", "어텐션 가중치의 합은?\x1f1 (softmax)"),
            (2, "guid-b", BASIC_ID, "", "LSTM의 게이트 수는?\x1f3"),
        ]:
            con.execute("INSERT INTO notes VALUES (?, ?, ?, 0, 0, ?, ?, '', 0, 0, '')", note)
    for cid, nid, did in ((11, 1, 2), (12, 2, 1)):
        con.execute(
            "INSERT INTO cards VALUES (?, ?, ?, 0, 0, 0, 2, 2, 10, 3, 2500, 2, 0, 0, 0, 0, 0, '')",
            (cid, nid, did),
        )
    for n, (cid, ease, ivl, rtype) in enumerate(((11, 3, -600, 0), (11, 3, 1, 0), (11, 3, 3, 1))):
        con.execute(
            "INSERT INTO revlog VALUES (?, ?, 0, ?, ?, 0, 2500, 4000, ?)",
            (T0_MS + n * 86_400_000, cid, ease, ivl, rtype),
        )
    con.commit()
    data = con.serialize()
    con.close()
    return data


def write_apkg(path: Path, collection: bytes, *, member: str = "collection.anki2") -> Path:
    """A zip with the collection under ``member`` (``.anki21b`` members are zstd-compressed)."""
    if member.endswith("b"):
        collection = zstandard.ZstdCompressor().compress(collection)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, collection)
        zf.writestr("media", "{}")
    return path


def zstd_bomb(decompressed: int) -> bytes:
    """A zstd frame of ``decompressed`` zero bytes (a few KB per GiB)."""
    out = io.BytesIO()
    chunk = bytes(1 << 20)
    with zstandard.ZstdCompressor(level=3).stream_writer(out, closefd=False) as writer:
        for _ in range(decompressed // len(chunk)):
            writer.write(chunk)
    return out.getvalue()


def write_bomb_apkg(path: Path, decompressed: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("collection.anki21b", zstd_bomb(decompressed))
    return path


def negative_offset_zip(path: Path) -> Path:
    """A valid package whose end record claims a central directory larger than it is.

    zipfile then computes a negative local-header offset and ``seek`` fails
    with OSError (the reliability run's case).
    """
    write_apkg(path, collection_bytes())
    data = bytearray(path.read_bytes())
    eocd = data.rindex(b"PK\x05\x06")
    size = int.from_bytes(data[eocd + 12 : eocd + 16], "little")
    data[eocd + 12 : eocd + 16] = (size + 10_000_000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


NOTE = """# 2024-08-16

밑바닥2 8장: 어텐션을 정리했다.

- [ ] 여인수 정리 다시 보기
- [x] LSTM 게이트 정리

어텐션 :: 가중합으로 맥락 벡터를 만든다
"""

CONCEPT = """---
slug: my-gelu
title: GELU 🧠
aliases: [겔루]
---

# GELU

x·Φ(x), 부드러운 ReLU.

## Cards

::: card what
GELU의 식은?

---

$x\\Phi(x)$
:::
"""

DECK = """---
deck: 밑바닥2::8장
---

# 밑바닥2::8장

## Cards

::: card card-1
어텐션 가중치의 합은?

---

1 (softmax)
:::
"""

CSV = 'front,back,tags,deck\n어텐션 가중치의 합은?,1,dl2 어텐션,밑바닥2\n"{{c1::Q}}, K, V",,,\n'
