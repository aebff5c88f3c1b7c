"""Import records: keys equal to the canonical-JSON digest of earlier versions, and the lookup."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest

from studylog.interchange import records

CASES = [
    ("csv", "basic", "어텐션 가중치의 합은?", "항상 1 (softmax)"),
    ("csv", "cloze", 'quote " backslash \\ tab \t newline \n', "\u2028 \x01 🧠 \ufeff"),
    ("csv",),
    (),
    ("entry", date(2026, 11, 21), "text", 3, None, 1.5),
    ("anki", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), ["a", "b"]),
]


@pytest.mark.parametrize("parts", CASES)
def test_digest_is_the_json_dumps_digest(parts: tuple[object, ...]) -> None:
    # The keys stored by earlier versions: json.dumps with these options, then SHA-256.
    text = json.dumps(parts, ensure_ascii=False, default=str, separators=(",", ":"))
    assert records.digest(*parts) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_digest_of_a_known_key() -> None:
    # Computed independently: sha256(b'["csv","basic","a","b"]')
    assert (
        records.digest("csv", "basic", "a", "b")
        == hashlib.sha256(b'["csv","basic","a","b"]').hexdigest()
    )


@pytest.mark.both_backends
def test_known_finds_recorded_keys_of_their_kind_only(db) -> None:  # noqa: ANN001
    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    keys = [records.digest("csv", "basic", f"front {i}", "back") for i in range(1203)]
    with db.write() as session:
        assert records.known(session, "csv_card", keys) == {}  # nothing of the kind yet
        written = records.remember(
            session,
            "csv_card",
            [(k, i + 1 if i % 3 else None, None) for i, k in enumerate(keys[:1100])],
            source="cards.csv",
            now=now,
        )
        assert written == 1100
        records.remember(session, "anki_card", [(keys[1150], 7, "guid")], source="x", now=now)
    with db.read() as session:
        # more keys than one IN chunk (500), repeats, and keys of another kind
        found = records.known(session, "csv_card", keys + keys[:10])
        assert len(found) == 1100
        assert found[keys[0]] is None and found[keys[4]] == 5 and found[keys[1099]] == 1100
        assert keys[1150] not in found
        assert records.known(session, "anki_card", keys) == {keys[1150]: 7}
