"""Where the audit log lives, read from the environment (until Settings carries it).

`GATEWAY_DATABASE_URL` (a plain `postgresql://` URL) selects PostgreSQL; otherwise the SQLite
file at `GATEWAY_AUDIT__SQLITE_PATH` (default `var/audit.sqlite3`, relative to the working
directory). Only the CLI calls this; nothing reads the environment at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ._engine import database_url

DEFAULT_SQLITE_PATH = Path("var/audit.sqlite3")


def audit_url_from_env(environ: Mapping[str, str]) -> str:
    """The SQLAlchemy async URL of the configured audit store (`ValueError` if malformed)."""
    postgresql_url = environ.get("GATEWAY_DATABASE_URL", "").strip() or None
    sqlite_path = environ.get("GATEWAY_AUDIT__SQLITE_PATH", "").strip()
    return database_url(postgresql_url, Path(sqlite_path) if sqlite_path else DEFAULT_SQLITE_PATH)
