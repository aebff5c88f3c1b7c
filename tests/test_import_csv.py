"""Card CSV (front, back, tags) and the review-log CSV still routed to its own importer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from studylog.errors import InvalidInputError
from studylog.interchange.importer import detect, import_files
from studylog.services import cards
from studylog.storage.models import Card, Review
from tests.conftest import as_url

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GOOD = (
    "front,back,tags\n"
    "어텐션 가중치의 합은?,항상 1 🧠,밑바닥2 attention\n"
    '"{{c1::Q}}와 {{c2::K}}의 내적",,attention\n'
    '"여러 줄\n앞면","뒷면, 쉼표 포함",\n'
)

pytestmark = pytest.mark.both_backends


def count(db) -> int:  # noqa: ANN001
    with db.read() as s:
        return s.scalar(select(func.count(Card.id)))


def test_cards_with_tags_cloze_and_quoted_fields(db, tmp_path):
    path = tmp_path / "cards.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert detect(path) == "cards-csv"
    report = import_files(db, [path], now=NOW)
    assert report.files[0].added["cards"] == 4  # one basic, two cloze, one basic
    got = [(c.front, c.back, c.kind, c.cloze_ord, c.tags, c.origin) for c in cards.list_cards(db)]
    assert got == [
        ("어텐션 가중치의 합은?", "항상 1 🧠", "basic", None, ["attention", "밑바닥2"], "import"),
        ("{{c1::Q}}와 {{c2::K}}의 내적", "", "cloze", 1, ["attention"], "import"),
        ("{{c1::Q}}와 {{c2::K}}의 내적", "", "cloze", 2, ["attention"], "import"),
        ("여러 줄\n앞면", "뒷면, 쉼표 포함", "basic", None, [], "import"),
    ]
    again = import_files(db, [path], now=NOW)
    assert (again.files[0].added["cards"], again.files[0].skipped["cards"]) == (0, 4)
    assert count(db) == 4


def test_semicolons_deck_column_korean_header_and_cp949(db, tmp_path):
    path = tmp_path / "엑셀.csv"
    path.write_bytes("앞면;뒷면;덱\n역전파;연쇄법칙;밑바닥2::5장\n".encode("cp949"))
    report = import_files(db, [path], now=NOW)
    assert report.files[0].notes == ["read as CP949 text"]
    (card,) = cards.list_cards(db)
    assert (card.front, card.back, card.deck) == ("역전파", "연쇄법칙", "밑바닥2::5장")


def test_a_column_named_twice_takes_the_last_field_a_row_gives(db, tmp_path):
    path = tmp_path / "cards.csv"
    path.write_text(
        "front,back,질문,tags\n"  # 질문 is front again
        "첫 앞면,뒷면 1,둘째 앞면,a\n"  # the later front wins
        "앞면만,뒷면 2\n"  # a short row: its only front is the one given
        "앞면 3,뒷면 3,,b\n",  # an empty later field still wins: missing front
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError, match=r"cards.csv:4: missing front"):
        import_files(db, [path], now=NOW)
    path.write_text(path.read_text(encoding="utf-8").rsplit("앞면 3", 1)[0], encoding="utf-8")
    import_files(db, [path], now=NOW)
    got = [(c.front, c.back, c.tags) for c in cards.list_cards(db)]
    assert got == [("둘째 앞면", "뒷면 1", ["a"]), ("앞면만", "뒷면 2", [])]


@pytest.mark.parametrize("others", [0, 12])
def test_a_row_a_card_has_already_is_skipped_with_fewer_or_more_cards_than_rows(
    db, tmp_path, others
):
    """Fewer cards than rows are compared in Python, more through the temporary table:
    either way a row is skipped only when a card has its kind, front and back exactly."""
    cards.create(db, "같은 앞면", "같은 뒷면", now=NOW)
    cards.create(db, "attention", "weights", now=NOW)
    cards.create(db, "{{c1::Q}}와 K", "", kind="cloze", now=NOW)
    for i in range(others):
        cards.create(db, f"다른 카드 {i}", "뒷면", now=NOW)
    path = tmp_path / "cards.csv"
    path.write_text(
        "front,back\n"
        "같은 앞면,같은 뒷면\n"  # skipped: a card has it
        "같은 앞면,같은 뒷면 2\n"  # another back
        "Attention,weights\n"  # another case
        '"{{c1::Q}}와 K",\n'  # skipped: the cloze card has it
        '"{{c1::Q}}와 K",덧붙임\n'  # another back
        "새 카드,새 뒷면\n",
        encoding="utf-8",
    )
    report = import_files(db, [path], now=NOW).files[0]
    assert (report.added["cards"], report.skipped["cards"]) == (4, 2)
    assert count(db) == 3 + others + 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cards.csv: empty file"),
        ("question\nx\n", "cards.csv:1: the first row must name the columns front,back"),
        ("front,back\n,뒷면\n", "cards.csv:2: missing front"),
        ("front,back\n앞,뒤\n앞면만,\n", "cards.csv:3: missing back"),
        ("front,back\n앞,뒤,남는 칸\n", "cards.csv:2: too many fields"),
        ("front,back,tags\n앞,뒤,ok\n", None),
    ],
)
def test_bad_rows_are_named_and_nothing_is_written(db, tmp_path, text, message):
    path = tmp_path / "cards.csv"
    path.write_text(text, encoding="utf-8")
    if message is None:
        import_files(db, [path], now=NOW)
        assert count(db) == 1
        return
    with pytest.raises(InvalidInputError) as caught:
        import_files(db, [path], now=NOW)
    assert str(caught.value).startswith(message)
    assert count(db) == 0


def test_review_log_csv_goes_to_the_review_log_importer(run_cli, db_url, tmp_path):
    path = tmp_path / "review_logs.csv"
    path.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "1,3,2024-03-29T20:32:32.250000+00:00,1000\n",
        encoding="utf-8",
    )
    assert detect(path) == "review-log"
    notes = tmp_path / "n.md"
    notes.write_text("2024-03-29\n오늘 복습 🧠\n", encoding="utf-8")
    out = run_cli("import", str(path), str(notes))
    assert out.exit_code == 0, out.output
    assert "n.md (notes): added 1 entry" in out.output
    from studylog.storage.engine import Database

    db = Database(as_url(db_url))
    with db.read() as s:
        assert s.scalar(select(func.count(Review.id))) == 1
        assert s.scalar(select(Card.external_id).where(Card.external_id == "1")) == "1"
    db.dispose()
    listed = json.loads(run_cli("search", "복습", "--json").output)
    assert [h["kind"] for h in listed] == ["entry"]


def test_a_bad_review_log_writes_nothing_from_the_other_files(run_cli, tmp_path):
    bad = tmp_path / "review_logs.csv"
    bad.write_text("card_id,review_rating,review_time\n1,9,2024-03-29T20:32:32+00:00\n", "utf-8")
    notes = tmp_path / "n.md"
    notes.write_text("2024-03-29\n오늘 복습\n", encoding="utf-8")
    out = run_cli("import", str(notes), str(bad))
    assert out.exit_code == 1 and "review_logs.csv:2: unknown rating '9'" in out.output
    assert json.loads(run_cli("search", "복습", "--json").output) == []
