"""From the environment to a SQLAlchemy URL: the driver the gateway picks, the SQLite default."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from invitation_gateway.audit import database_url
from invitation_gateway.audit.config import audit_url_from_env


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+asyncpg"])
def test_a_plain_postgresql_url_gets_the_asyncpg_driver(scheme: str, tmp_path: Path) -> None:
    """The gateway picks asyncpg and keeps user, password (even with odd characters), host and db."""
    url = make_url(database_url(f"{scheme}://audit:p%40ss%2Fword@db.internal:6432/gw", tmp_path))
    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "audit",
        "p@ss/word",
        "db.internal",
        6432,
        "gw",
    )


def test_libpq_parameters_become_asyncpg_parameters(tmp_path: Path) -> None:
    """`sslmode` and `connect_timeout`, common in libpq URLs, become asyncpg's `ssl` and `timeout`."""
    url = make_url(
        database_url("postgresql://db/gw?sslmode=verify-full&connect_timeout=3", tmp_path)
    )
    assert dict(url.query) == {"ssl": "verify-full", "timeout": "3"}


def test_the_sqlite_path_becomes_an_aiosqlite_url_and_gets_its_directory(tmp_path: Path) -> None:
    """The SQLite file's parent directory is created; the file itself waits for the first write."""
    path = tmp_path / "state" / "audit.sqlite3"
    url = make_url(database_url(None, path))
    assert (url.drivername, url.database) == ("sqlite+aiosqlite", str(path))
    assert path.parent.is_dir()
    assert not path.exists()


def test_postgresql_wins_over_sqlite_and_the_default_path_is_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GATEWAY_DATABASE_URL selects PostgreSQL; unset or empty, the SQLite default var/audit.sqlite3."""
    monkeypatch.chdir(tmp_path)
    both = {"GATEWAY_DATABASE_URL": "postgresql://db/gw", "GATEWAY_AUDIT__SQLITE_PATH": "x.db"}
    assert make_url(audit_url_from_env(both)).drivername == "postgresql+asyncpg"
    assert make_url(audit_url_from_env({"GATEWAY_DATABASE_URL": ""})).database == str(
        Path("var/audit.sqlite3")
    )
    assert (tmp_path / "var").is_dir()
    custom = audit_url_from_env({"GATEWAY_AUDIT__SQLITE_PATH": "data/a.db"})
    assert make_url(custom).database == "data/a.db"
