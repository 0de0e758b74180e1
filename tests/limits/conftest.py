"""Fixtures for the rate-limit tests: one `Limiters` per store kind, on real services.

`Limiters` (tests/support/limits.py) is one shared set of buckets (a memory limiter, or a
Redis key prefix); `open()` gives a limiter on it, as another replica would have (memory: the
same one, a process has one).
Memory runs on a fake clock; Redis reads its own server clock, so Redis cases wait for real.

Redis is the real server (127.0.0.1:6379, or `TEST_REDIS_URL`), each test under its own key
prefix, deleted afterwards; skipped with the reason when unreachable, failed under CI.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis
from redis.asyncio import Redis

from invitation_gateway.limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.support.limits import FakeClock, Limiters


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own on the test Redis, deleted afterwards."""
    prefix = f"invitation-gateway-test:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        for name in client.scan_iter(match=f"{prefix}*"):
            client.delete(name)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock(1000.0)  # a round start, so sums of steps stay exact


@pytest.fixture(params=["memory", "redis"])
async def limiters(
    request: pytest.FixtureRequest, fake_clock: FakeClock
) -> AsyncIterator[Limiters]:
    """Each limiter kind: memory on a fake clock, Redis on the real server under a fresh prefix."""
    opener: Callable[[], RateLimiter]
    if request.param == "memory":
        memory = MemoryRateLimiter(clock=fake_clock)
        opener = lambda: memory  # noqa: E731 - one process holds one memory limiter
        clock: FakeClock | None = fake_clock
    else:
        url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_prefix")
        opener = lambda: RedisRateLimiter(Redis.from_url(url), prefix=prefix)  # noqa: E731
        clock = None
    shared = Limiters(request.param, opener, clock)
    try:
        yield shared
    finally:
        await shared.aclose()
