"""Shared fixtures: the sandbox (emulators + seed) and an HTTP client for the gateway on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import redis
import time_machine

from invitation_gateway.sandbox import Sandbox, create_sandbox_app
from tests.support.clock import FIXED_NOW
from tests.support.databases import execute, run_sync
from tests.support.gateway import GatewayClient, app_client
from tests.support.logs import LogLines, captured_json_logs

# `--outcomes=PATH`: each test's outcome as JSON, which CI compares between its two runs.
pytest_plugins = ("tests.support.outcomes",)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-ahead-days",
        type=int,
        default=0,
        help="run the whole suite with the wall clock moved this many days ahead (CI: 400)",
    )


@pytest.fixture(scope="session", autouse=True)
def _clock_ahead(request: pytest.FixtureRequest) -> Iterator[None]:
    """With --clock-ahead-days, every test sees a clock that far ahead (and still ticking).

    CI runs the suite twice, today and more than a year ahead, and compares every test's outcome
    (`--outcomes`): a test that passes only in some months fails, is skipped or is xfailed in the
    second run, and either way CI fails. Monotonic clocks are left alone (time-machine does not move
    them), so timeouts and the event loop behave as they do in production.
    """
    days: int = request.config.getoption("--clock-ahead-days")
    if not days:
        yield
        return
    with time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True):
        yield


@pytest.fixture
def real_clock() -> Iterator[None]:
    """The real wall clock, for tests that talk to a subprocess (which no travel reaches)."""
    if not time_machine.escape_hatch.is_travelling():
        yield
        return
    now = datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC)
    with time_machine.travel(now, tick=True):
        yield


@pytest.fixture
def fixed_clock() -> Iterator[time_machine.Traveller]:
    """The wall clock at FIXED_NOW, ticking: for tests that seed invitations at fixed dates.

    The gateway and the emulators read the same clock, so tokens, expiry and creation times
    stay consistent with each other while being independent of the day the suite runs.
    """
    with time_machine.travel(FIXED_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def sandbox() -> Sandbox:
    """A fresh sandbox: both emulators, seeded, and a transport that reaches them."""
    return Sandbox.create()


@pytest.fixture
async def gateway(sandbox: Sandbox) -> AsyncIterator[GatewayClient]:
    """The sandbox gateway app, lifespan running, and a GraphQL client on it."""
    app = create_sandbox_app(sandbox)
    async with app_client(app) as http:
        yield GatewayClient(http, app.state.examples)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis server's URL; skips (or under CI fails) when it is not reachable."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {url} ({exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the Redis tests must run", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test PostgreSQL server's URL; skips (or under CI fails) when it is not reachable."""
    url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        run_sync(execute(url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = f"PostgreSQL is not reachable at {url} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the PostgreSQL tests must run", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture
def json_logs() -> Iterator[LogLines]:
    """The log lines the gateway renders while the test runs, as `serve` writes them."""
    with captured_json_logs() as lines:
        yield lines
