"""Where studylog finds its data, its built-in content pack and its migrations.

The pack (``content/``) and the migrations (``db/``) sit at the top of a source
checkout; in a built wheel they are shipped inside the package as ``_content``
and ``_db`` (see ``[tool.hatch.build.targets.wheel.force-include]``).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "studylog"
DB_ENV = "STUDYLOG_DB"

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name_in_wheel: str, name_in_checkout: str) -> Path:
    inside = _PACKAGE_DIR / name_in_wheel
    if inside.is_dir():
        return inside
    return _PACKAGE_DIR.parent / name_in_checkout


def content_dir() -> Path:
    """The built-in concept pack (``concepts/*.md`` and ``demos/*.py``)."""
    return _shipped("_content", "content")


def migrations_dir() -> Path:
    """The Alembic script directory (``env.py`` and ``versions/``)."""
    return _shipped("_db", "db")


def default_db_path() -> Path:
    """``studylog.db`` in the platform's user data directory (XDG_DATA_HOME on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "studylog.db"


def resolve_db_url(db: str | None) -> str:
    """Turn ``--db`` (a path or an SQLAlchemy URL), ``$STUDYLOG_DB`` or the default into a URL.

    Precedence: the explicit argument, then the environment variable, then the
    platformdirs default.
    """
    value = db or os.environ.get(DB_ENV) or str(default_db_path())
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())
