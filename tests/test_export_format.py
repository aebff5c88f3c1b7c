"""The JSON export format is defined once (interchange/export_format.py): the writer, the
reader and the docs agree with it, and every stored column is either exported or named as
left out on purpose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import studylog.storage.import_models  # noqa: F401 - registers the import tables
from studylog.errors import InvalidInputError
from studylog.interchange import export_format as fmt
from studylog.interchange.json_export import export_json
from studylog.interchange.json_import import parse_export
from studylog.storage.models import Base
from tests.test_import_json import new_db, populate

DOCS = Path(__file__).resolve().parent.parent / "docs" / "export-format.md"


def test_the_docs_show_the_fields_the_format_defines() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    assert fmt.with_tables(doc) == doc, (
        "docs/export-format.md is out of date: run "
        "python -m studylog.interchange.export_format docs/export-format.md"
    )
    # the generated part names each field of each section
    assert "| `stability` | number or null | FSRS stability, days |" in doc
    assert "**import_records** (optional section)" in doc


@pytest.mark.parametrize("section", fmt.SECTIONS, ids=lambda s: s.name)
def test_every_column_is_exported_or_left_out_on_purpose(section: fmt.Section) -> None:
    table = Base.metadata.tables[section.table]
    columns = {c.name for c in table.columns}
    exported = set(section.columns())
    assert not (exported & set(section.not_exported)), "a column both exported and left out"
    assert set(section.not_exported) <= columns, "not_exported names a column that is not there"
    missing = columns - exported - set(section.not_exported)
    assert not missing, f"{section.table}: columns neither exported nor left out: {missing}"
    assert exported <= columns, (
        f"{section.name}: exported fields with no column: {exported - columns}"
    )


def test_an_export_has_exactly_the_defined_fields(tmp_path: Path) -> None:
    db = new_db(tmp_path / "a.db")
    populate(db, tmp_path)
    export_json(db, tmp_path / "out.json")
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    for section in fmt.SECTIONS:
        records = data[section.name]
        assert records, f"populate() left {section.name} empty: the test would prove nothing"
        for record in records:
            assert tuple(record) == section.names, section.name


def _minimal(**sections: list) -> dict:
    doc = {"format": "studylog-export", "format_version": fmt.FORMAT_VERSION}
    doc.update({s.name: [] for s in fmt.SECTIONS if s.required})
    doc.update(sections)
    return doc


TODO = {
    "id": 1,
    "text": "여인수 정리",
    "origin_day": "2024-08-16",
    "position": 0,
    "created_at": "2024-08-16T10:00:00+00:00",
}


def test_the_reader_checks_records_against_the_format() -> None:
    parsed = parse_export(_minimal(todos=[TODO]), "b.json")
    (todo,) = parsed.sections["todos"]
    assert todo["due_day"] is None and todo["done_at"] is None  # nullable, left out
    with pytest.raises(
        InvalidInputError, match=r"b.json: todos\[0\] \(id 1\): missing field 'text'"
    ):
        parse_export(_minimal(todos=[{k: v for k, v in TODO.items() if k != "text"}]), "b.json")
    with pytest.raises(InvalidInputError, match=r"bad value for 'position'.*expected int"):
        parse_export(_minimal(todos=[TODO | {"position": "first"}]), "b.json")
    with pytest.raises(InvalidInputError, match=r"missing section 'cards'"):
        parse_export({k: v for k, v in _minimal().items() if k != "cards"}, "b.json")
    # optional sections may be left out
    assert parse_export(_minimal(), "b.json").sections["import_records"] == []
