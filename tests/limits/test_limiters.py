"""One suite for every rate limiter (memory, Redis): the token-bucket behaviour they share."""

from __future__ import annotations

import asyncio

import pytest

from invitation_gateway.limits import Decision
from tests.support.limits import Limiters

# Redis reads real time: a few ms pass between takes, so its waits come out a little shorter.
SLACK = 0.05


async def spend(limiters: Limiters, times: int, *, caller: str = "alice", per_minute: int) -> None:
    limiter = limiters.open()
    for _ in range(times):
        assert (await limiter.take(caller, "creates", 1, per_minute)).allowed


@pytest.mark.parametrize("per_minute", [1, 7, 50])
async def test_a_full_minutes_budget_may_be_spent_in_one_burst(
    limiters: Limiters, per_minute: int
) -> None:
    """`per_minute` takes in a row pass; the next is refused until one token is back (60/budget s)."""
    await spend(limiters, per_minute, per_minute=per_minute)
    decision = await limiters.open().take("alice", "creates", 1, per_minute)
    assert not decision.allowed
    assert decision.retry_after == pytest.approx(60 / per_minute, abs=SLACK)
    assert decision.retry_after <= 60 / per_minute + 0.001


async def test_an_allowed_take_says_so_with_no_wait(limiters: Limiters) -> None:
    """An allowed take is exactly `Decision(allowed=True, retry_after=0)`."""
    assert await limiters.open().take("alice", "creates", 3, 10) == Decision(True, 0.0)


async def test_a_bulk_cost_is_taken_all_or_nothing(limiters: Limiters) -> None:
    """Cost N takes N tokens or none: a refused bulk leaves the bucket as it was."""
    limiter = limiters.open()
    assert (await limiter.take("alice", "creates", 7, 10)).allowed
    refused = await limiter.take("alice", "creates", 5, 10)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(2 * 6.0, abs=SLACK)  # 2 tokens at 1 per 6 s
    assert (await limiter.take("alice", "creates", 3, 10)).allowed
    assert not (await limiter.take("alice", "creates", 1, 10)).allowed


async def test_a_cost_above_the_budget_is_refused_for_a_minute_and_takes_nothing(
    limiters: Limiters,
) -> None:
    """More than a full bucket can never pass: refused, retry_after 60 s, bucket untouched."""
    limiter = limiters.open()
    assert await limiter.take("alice", "creates", 11, 10) == Decision(False, 60.0)
    assert (await limiter.take("alice", "creates", 10, 10)).allowed


async def test_a_cost_of_zero_is_always_allowed(limiters: Limiters) -> None:
    """Taking nothing passes even from an empty bucket."""
    await spend(limiters, 3, per_minute=3)
    assert (await limiters.open().take("alice", "creates", 0, 3)).allowed


async def test_callers_have_their_own_buckets(limiters: Limiters) -> None:
    """One caller spending its budget leaves another's full."""
    await spend(limiters, 5, caller="alice", per_minute=5)
    await spend(limiters, 5, caller="bob", per_minute=5)
    assert not (await limiters.open().take("alice", "creates", 1, 5)).allowed


async def test_budgets_of_one_caller_are_independent(limiters: Limiters) -> None:
    """Spending the creates budget leaves the requests budget full."""
    limiter = limiters.open()
    assert (await limiter.take("alice", "creates", 5, 5)).allowed
    assert (await limiter.take("alice", "requests", 5, 5)).allowed
    assert not (await limiter.take("alice", "creates", 1, 5)).allowed
    assert not (await limiter.take("alice", "requests", 1, 5)).allowed


async def test_a_colon_in_a_name_does_not_reach_another_bucket(limiters: Limiters) -> None:
    """Caller `a:b` with budget `c` and caller `a` with budget `b:c` are two buckets."""
    limiter = limiters.open()
    assert (await limiter.take("a:b", "c", 2, 2)).allowed
    assert (await limiter.take("a", "b:c", 2, 2)).allowed


async def test_concurrent_takes_allow_exactly_the_budget(limiters: Limiters) -> None:
    """100 simultaneous takes against a budget of 50: exactly 50 pass."""
    limiter = limiters.open()
    decisions = await asyncio.gather(*(limiter.take("alice", "creates", 1, 50) for _ in range(100)))
    assert sum(decision.allowed for decision in decisions) == 50


@pytest.mark.parametrize(("cost", "per_minute"), [(-1, 10), (1, 0), (0, -5)])
async def test_impossible_arguments_are_a_bug_not_a_refusal(
    limiters: Limiters, cost: int, per_minute: int
) -> None:
    """A negative cost or a budget below 1 raises ValueError (settings never produce them)."""
    with pytest.raises(ValueError, match="must"):
        await limiters.open().take("alice", "creates", cost, per_minute)
