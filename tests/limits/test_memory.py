"""What only the in-process limiter does: refill on an injected clock, and bounded memory."""

from __future__ import annotations

import pytest

from invitation_gateway.limits import MemoryRateLimiter, RedisRateLimiter, open_limiter
from tests.support.limits import FakeClock


async def test_tokens_come_back_continuously_at_budget_per_minute(fake_clock: FakeClock) -> None:
    """An empty bucket of 60 a minute gains one token a second, and is full after a minute."""
    limiter = MemoryRateLimiter(clock=fake_clock)
    assert (await limiter.take("alice", "creates", 60, 60)).allowed
    fake_clock.now += 1.0
    assert (await limiter.take("alice", "creates", 1, 60)).allowed
    fake_clock.now += 0.5
    refused = await limiter.take("alice", "creates", 1, 60)
    assert refused.retry_after == pytest.approx(0.5)
    fake_clock.now += 3.5
    assert not (await limiter.take("alice", "creates", 5, 60)).allowed
    assert (await limiter.take("alice", "creates", 4, 60)).allowed
    fake_clock.now += 600.0  # long idle: full, never more than full
    assert not (await limiter.take("alice", "creates", 61, 60)).allowed
    assert (await limiter.take("alice", "creates", 60, 60)).allowed
    assert not (await limiter.take("alice", "creates", 1, 60)).allowed


@pytest.mark.parametrize(("per_minute", "cost"), [(7, 1), (7, 3), (600, 1), (13, 13)])
async def test_waiting_the_advised_retry_after_is_enough(
    fake_clock: FakeClock, per_minute: int, cost: int
) -> None:
    """After exactly `retry_after` seconds the refused take passes (no rounding short)."""
    limiter = MemoryRateLimiter(clock=fake_clock)
    assert (await limiter.take("alice", "creates", per_minute, per_minute)).allowed
    refused = await limiter.take("alice", "creates", cost, per_minute)
    assert not refused.allowed
    fake_clock.now += refused.retry_after
    assert (await limiter.take("alice", "creates", cost, per_minute)).allowed


async def test_idle_full_buckets_are_forgotten_and_refilling_ones_kept(
    fake_clock: FakeClock,
) -> None:
    """A sweep drops buckets idle for a minute (full anyway) and keeps the ones still refilling."""
    limiter = MemoryRateLimiter(clock=fake_clock)
    for caller in range(1000):
        await limiter.take(f"caller-{caller}", "creates", 10, 10)
    fake_clock.now += 30.0
    await limiter.take("bob", "creates", 10, 10)
    assert len(limiter) == 1001
    fake_clock.now += 31.0
    refused = await limiter.take("bob", "creates", 6, 10)  # 31 s refilled 5.17 tokens
    assert len(limiter) == 1
    assert refused.retry_after == pytest.approx(5.0)
    assert (await limiter.take("caller-1", "creates", 10, 10)).allowed


async def test_open_limiter_picks_redis_only_with_a_url() -> None:
    """No URL: in memory; a URL: Redis (nothing is connected until the first take)."""
    memory = open_limiter(None)
    shared = open_limiter("redis://127.0.0.1:1/0")
    assert isinstance(memory, MemoryRateLimiter)
    assert isinstance(shared, RedisRateLimiter)
    await memory.aclose()
    await shared.aclose()
