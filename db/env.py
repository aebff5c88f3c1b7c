"""Alembic environment for studylog.

studylog runs migrations programmatically (:mod:`studylog.storage.migrate`),
handing over an open connection in ``config.attributes["connection"]``; the
command-line ``alembic`` tool is not needed. Batch mode is on because SQLite
cannot ALTER most things in place.
"""

from alembic import context
from sqlalchemy import create_engine

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # pragma: no cover - only for running `alembic` by hand
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
