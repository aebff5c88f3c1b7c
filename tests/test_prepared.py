"""Prepared statements (storage/prepared.py) give exactly what Connection.execute gives."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import exc, select
from sqlalchemy.dialects import postgresql

from studylog.services import cards, concepts, review
from studylog.storage import review_rows
from studylog.storage.models import Card
from studylog.storage.prepared import Prepared

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_a_card_row_is_the_same_as_through_sqlalchemy(db) -> None:
    (made,) = cards.create(db, "어텐션 가중치의 합은? 🧠", "1", tags=["dl2", "어텐션"], now=NOW)
    review.answer(db, made.id, 3, now=NOW)
    review.bury(db, made.id, now=NOW)
    with db.engine.connect() as conn:
        expected = dict(
            conn.execute(review_rows.SELECT_CARD, {"card_id": made.id}).mappings().one()
        )
        got = Prepared(review_rows.SELECT_CARD).first(conn, {"card_id": made.id})
        missing = Prepared(review_rows.SELECT_CARD).first(conn, {"card_id": made.id + 99})
    assert got == expected and missing is None
    # the values are converted as the column types say, not left as SQLite's text
    assert isinstance(got["due"], datetime) and got["due"].tzinfo is not None
    assert isinstance(got["buried_until"], date) and got["suspended"] is False
    assert review_rows.tag_list(got) == ["dl2", "어텐션"]


def test_rows_and_scalars(db) -> None:
    ids = [cards.create(db, f"q{i}", "a", now=NOW)[0].id for i in range(3)]
    query = Prepared(select(Card.id, Card.due).where(Card.id >= ids[1]).order_by(Card.id))
    with db.engine.connect() as conn:
        rows = query.all(conn)
        count = Prepared(select(Card.id).where(Card.front == "q2")).scalar(conn)
    assert [r[0] for r in rows] == ids[1:] and all(isinstance(r[1], datetime) for r in rows)
    assert count == ids[2]


def test_database_errors_are_sqlalchemys(db) -> None:
    concepts.list_concepts(db)
    insert = Prepared(
        review_rows.INSERT_REVIEW,
        column_keys=("card_id", "rating", "reviewed_at", "state_before", "state_after"),
    )
    values = {"card_id": 12345, "rating": 3, "reviewed_at": NOW, "state_before": 1}
    with db.engine.connect() as conn:
        # A NOT NULL violation: reviews have no foreign key to cards since revision 0011
        # (a deleted card's history stays), so card 12345 not existing is no error.
        with pytest.raises(exc.IntegrityError, match="(?i)not.null"):
            insert.scalar(conn, values | {"state_after": None})


def test_values_rendered_at_execution_time_are_refused() -> None:
    with pytest.raises(ValueError, match="expanding IN"):
        Prepared(select(Card.id).where(Card.id.in_([1, 2]))).compiled(postgresql.psycopg.dialect())


def test_postgresql_gets_named_parameters_and_the_bound_separator() -> None:
    compiled = Prepared(review_rows.SELECT_CARD).compiled(postgresql.psycopg.dialect())
    assert compiled.positional is None and "%(card_id)s" in compiled.sql
    assert "string_agg(tags.name, %(param_1)s" in compiled.sql
