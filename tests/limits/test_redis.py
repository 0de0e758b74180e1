"""What only the Redis limiter does: one budget across replicas, server time, expiry, failures."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from invitation_gateway.limits import LimiterUnavailable, RedisRateLimiter


@pytest.fixture
async def client(redis_url: str) -> Redis:
    """A plain client on the test Redis, to look at and tamper with keys."""
    return Redis.from_url(redis_url)


def replica(redis_url: str, prefix: str) -> RedisRateLimiter:
    return RedisRateLimiter(Redis.from_url(redis_url), prefix=prefix)


async def test_two_replicas_share_one_budget(redis_url: str, redis_prefix: str) -> None:
    """Spent partly on each of two replicas, the budget is gone on both."""
    first, second = replica(redis_url, redis_prefix), replica(redis_url, redis_prefix)
    try:
        assert (await first.take("alice", "creates", 3, 5)).allowed
        assert (await second.take("alice", "creates", 2, 5)).allowed
        assert not (await first.take("alice", "creates", 1, 5)).allowed
        assert not (await second.take("alice", "creates", 1, 5)).allowed
    finally:
        await first.aclose()
        await second.aclose()


async def test_concurrent_takes_on_two_replicas_allow_exactly_the_budget(
    redis_url: str, redis_prefix: str
) -> None:
    """100 simultaneous takes spread over two replicas against a budget of 50: exactly 50 pass."""
    replicas = [replica(redis_url, redis_prefix), replica(redis_url, redis_prefix)]
    try:
        decisions = await asyncio.gather(
            *(replicas[n % 2].take("alice", "creates", 1, 50) for n in range(100))
        )
        assert sum(decision.allowed for decision in decisions) == 50
    finally:
        for limiter in replicas:
            await limiter.aclose()


async def test_tokens_come_back_in_real_time(redis_url: str, redis_prefix: str) -> None:
    """After the advised wait (0.1 s at 600 a minute), the refused take passes."""
    limiter = replica(redis_url, redis_prefix)
    try:
        assert (await limiter.take("alice", "creates", 600, 600)).allowed
        refused = await limiter.take("alice", "creates", 1, 600)
        assert not refused.allowed
        assert 0 < refused.retry_after <= 0.1
        await asyncio.sleep(refused.retry_after)
        assert (await limiter.take("alice", "creates", 1, 600)).allowed
    finally:
        await limiter.aclose()


async def test_a_bucket_expires_when_it_would_be_full_again(
    redis_url: str, redis_prefix: str, client: Redis
) -> None:
    """The key's PTTL is the time to refill: ~1 s after 1 of 60 tokens, ~60 s after all of them."""
    limiter = replica(redis_url, redis_prefix)
    try:
        assert (await limiter.take("a:lice", "creates", 1, 60)).allowed
        key = f"{redis_prefix}a%3Alice:creates"
        assert 900 < await client.pttl(key) <= 1000
        assert (await limiter.take("a:lice", "creates", 59, 60)).allowed
        assert 59_000 < await client.pttl(key) <= 60_000
        assert not (await limiter.take("a:lice", "creates", 1, 60)).allowed
    finally:
        await limiter.aclose()
        await client.aclose()


async def test_a_refused_take_writes_nothing(
    redis_url: str, redis_prefix: str, client: Redis
) -> None:
    """Refusals (over the bucket, or above the capacity) leave no key behind."""
    limiter = replica(redis_url, redis_prefix)
    try:
        assert not (await limiter.take("alice", "creates", 11, 10)).allowed
        assert await client.exists(f"{redis_prefix}alice:creates") == 0
    finally:
        await limiter.aclose()
        await client.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2-secret@127.0.0.1:1/0",
        "redis://bot:hunter2%40secret@127.0.0.1:1/0",
        "redis://127.0.0.1:1/0?password=hunter2-secret",
    ],
)
async def test_an_unreachable_redis_is_unavailable_without_the_password(url: str) -> None:
    """No server: LimiterUnavailable naming Redis and where, never the URL's password."""
    limiter = RedisRateLimiter.from_url(url)
    try:
        with pytest.raises(LimiterUnavailable) as caught:
            await limiter.take("alice", "creates", 1, 10)
    finally:
        await limiter.aclose()
    assert caught.value.backend == "Redis"
    assert "redis://127.0.0.1:1/0" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


async def test_a_failing_redis_is_unavailable(
    redis_url: str, redis_prefix: str, client: Redis
) -> None:
    """A Redis error inside the script (here a key of the wrong type) is LimiterUnavailable."""
    await client.set(f"{redis_prefix}alice:creates", "not a bucket")
    limiter = replica(redis_url, redis_prefix)
    try:
        with pytest.raises(LimiterUnavailable, match="ResponseError"):
            await limiter.take("alice", "creates", 1, 10)
    finally:
        await limiter.aclose()
        await client.aclose()
