"""Fixtures for the audit log tests: one store per backend, SQLite and the real PostgreSQL.

An `AuditBackend` (`tests/support/audit.py`) is one place for audit records, given as the
environment variables a deployment would set: a SQLite file under `tmp_path`, or a database on
the test PostgreSQL server (`TEST_DATABASE_URL`, default
`postgresql://postgres@127.0.0.1:5432/postgres`). Each test session creates its own database
`igw_test_<random>` there and drops it at the end, and each test drops the audit tables after
itself, so parallel runs and tests never share rows.
Without a reachable server the PostgreSQL cases are skipped with the reason, except under CI,
where they fail: a green CI must have run them (`postgres_server`, in `tests/conftest.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from invitation_gateway.app import create_app
from invitation_gateway.audit import AuditLog
from invitation_gateway.emulators import ManualClock
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.settings import PolicySettings
from tests.support.audit import DEV_POLICY, AuditBackend, audit_settings
from tests.support.clock import manual_clock
from tests.support.databases import execute, run_sync
from tests.support.gateway import GatewayClient, app_client
from tests.support.upstream_tap import UpstreamTap

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A plain `postgresql://` URL of a database of this session's own, dropped afterwards."""
    name = f"igw_test_{uuid.uuid4().hex[:16]}"
    run_sync(execute(postgres_server, f'CREATE DATABASE "{name}"'))
    base, _, _ = postgres_server.rpartition("/")
    yield f"{base}/{name}"
    run_sync(execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def audit_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditBackend]:
    """Each backend, empty: a SQLite file in tmp_path, or this session's PostgreSQL database."""
    if request.param == "sqlite":
        yield AuditBackend("sqlite", {"GATEWAY_AUDIT__SQLITE_PATH": str(tmp_path / "var" / "a.db")})
        return
    database: str = request.getfixturevalue("postgres_database")
    yield AuditBackend("postgresql", {"GATEWAY_DATABASE_URL": database})
    run_sync(execute(database, "DROP TABLE IF EXISTS audit_records, audit_alembic_version"))


@pytest.fixture
def clock() -> ManualClock:
    """The log's clock, standing at FIXED_NOW until a test moves it."""
    return manual_clock()


@pytest.fixture
async def log(audit_backend: AuditBackend, clock: ManualClock) -> AsyncIterator[AuditLog]:
    """An audit log on each backend, migrated, on the manual clock."""
    audit_log = AuditLog.open(audit_backend.url, clock=clock)
    await audit_log.migrate()
    try:
        yield audit_log
    finally:
        await audit_log.aclose()


@pytest.fixture
def tap(sandbox: Sandbox) -> UpstreamTap:
    """The sandbox's upstreams behind a tap: each exchange's request id, Clerk's `cf-ray` too."""
    return UpstreamTap(sandbox.transport())


@pytest.fixture
async def audited(
    sandbox: Sandbox, audit_backend: AuditBackend, tap: UpstreamTap, tmp_path: Path
) -> AsyncIterator[GatewayClient]:
    """The sandbox gateway with its audit log on each backend, under `DEV_POLICY`."""
    policy = tmp_path / "policy.toml"
    policy.write_text(DEV_POLICY)
    settings = sandbox.settings(**audit_settings(audit_backend), policy=PolicySettings(file=policy))
    app = create_app(settings, transport=tap, environ={})
    async with app_client(app) as http:
        yield GatewayClient(http)
