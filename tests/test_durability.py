"""Durability as Anki's: WAL with synchronous=FULL on every connection; an answer
that returned is in the database even if the process dies right after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from studylog.services import cards
from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.models import Review

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


@pytest.mark.sqlite_only
def test_every_connection_is_wal_and_synchronous_full(db):
    # Several pooled connections at once, reads and writes: each one is set up.
    connections = [db.engine.connect() for _ in range(3)]
    try:
        for conn in connections:
            assert conn.execute(text("PRAGMA synchronous")).scalar() == FULL
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        for conn in connections:
            conn.close()
    with db.write() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar() == FULL
    with db.read() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar() == FULL


CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from studylog.services import review
    from studylog.storage.engine import Database

    db = Database(sys.argv[1])
    result = review.answer(db, int(sys.argv[2]), 3, now=datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    print(result.review_id, flush=True)
    time.sleep(60)  # killed before it can close anything
    """
)


def test_an_answer_that_returned_survives_sigkill(tmp_path):
    path = tmp_path / "durable.db"
    url = f"sqlite:///{path}"
    db = Database(url)
    migrate.prepare(db)
    made = cards.create(db, "역전파", "backpropagation", now=NOW)[0]
    db.dispose()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(made.id)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TZ": "UTC"},
    )
    try:
        line = child.stdout.readline()
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    review_id = int(line)
    again = Database(url)
    try:
        with again.read() as session:
            saved = session.get(Review, review_id)
            assert saved is not None and saved.card_id == made.id and saved.rating == 3
        assert cards.get(again, made.id).reps == 1
    finally:
        again.dispose()
