"""Fixtures for the idempotency tests: one `Backend` per store kind, on real services.

A `Backend` is one shared place for idempotency records (a dict, a SQLite file, a Redis key
prefix); `open()` gives a new store on it, as another replica would have. Store tests get a
fake clock where the store takes one (memory, SQLite) and real time where it cannot (Redis
expires keys itself); runner tests get real clocks everywhere, because the runner waits in real
time.

Redis is the real server (127.0.0.1:6379, or `TEST_REDIS_URL`), each test under its own key
prefix, deleted afterwards. Without a reachable Redis the Redis cases are skipped with the
reason, except under CI, where they fail: a green CI must have run them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
from redis.asyncio import Redis

from invitation_gateway.idempotency import (
    IdempotencyStore,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
)
from tests.support.idempotency import Backend, FakeClock

BACKENDS = ["memory", "sqlite", "redis"]


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own on the test Redis, deleted afterwards."""
    # Synchronous on purpose: the async `backend` fixture asks for it by name, lazily.
    prefix = f"invitation-gateway-test:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        for name in client.scan_iter(match=f"{prefix}*"):
            client.delete(name)


async def _backend(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, *, fake_clock: bool
) -> AsyncIterator[Backend]:
    clock = FakeClock() if fake_clock and kind != "redis" else None
    opener: Callable[[], IdempotencyStore]
    if kind == "memory":
        memory = MemoryIdempotencyStore(clock=clock or time.monotonic)
        opener = lambda: memory  # noqa: E731 - one process holds one memory store
    elif kind == "sqlite":
        path = tmp_path / "state" / "idempotency.sqlite3"
        opener = lambda: SqliteIdempotencyStore(path, clock=clock or time.time)  # noqa: E731
    else:
        url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_prefix")
        opener = lambda: RedisIdempotencyStore(Redis.from_url(url), prefix=prefix)  # noqa: E731
    backend = Backend(kind, opener, clock)
    try:
        yield backend
    finally:
        await backend.aclose()


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each store kind, on a fake clock where the store takes one."""
    async for value in _backend(request.param, request, tmp_path, fake_clock=True):
        yield value


@pytest.fixture(params=BACKENDS)
async def live_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each store kind, on real clocks (for the runner, which waits in real time)."""
    async for value in _backend(request.param, request, tmp_path, fake_clock=False):
        yield value
