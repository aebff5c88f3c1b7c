"""The Textual app. It calls studylog.services only: no SQLAlchemy here (import-linter contract)."""
