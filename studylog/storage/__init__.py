"""Storage: SQLAlchemy models, the engine with studylog's SQLite PRAGMAs, and migrations."""
