"""Storage: SQLAlchemy models, the engine and its per-backend settings, and migrations.

SQLite (the default file): WAL, ``synchronous=FULL``, foreign keys and a busy
timeout as PRAGMAs on every connection, writes in ``BEGIN IMMEDIATE``.
PostgreSQL (``postgresql+psycopg://``): UTC sessions and a lock timeout on every
connection, writes serialised by one advisory lock (and notifying the change
watch), reads in REPEATABLE READ. ``engine.py`` says why; ``docs/postgres.md``
shows the server's set-up.
"""
