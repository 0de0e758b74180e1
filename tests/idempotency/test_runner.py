"""The runner over every store: at most one upstream create per key, replays, waits, failures."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from invitation_gateway.domain.errors import (
    InvalidInvitationInput,
    InvitationConflict,
    ProviderUnavailable,
)
from invitation_gateway.domain.invitations import Provider, TargetKind
from invitation_gateway.idempotency import (
    Claim,
    Claimed,
    IdempotencyKeyBusy,
    IdempotencyKeyMismatch,
    IdempotentRunner,
    MemoryIdempotencyStore,
    decode,
    fingerprint,
    replayable_error,
)
from tests.support.idempotency import Backend

FP = fingerprint({"email": "ada@example.com"})
OTHER_FP = fingerprint({"email": "grace@example.com"})


class CountingWork:
    """A create that counts its calls and takes a little while, like an upstream round trip."""

    def __init__(self, *failures: Exception, result: bytes = b"invitation", delay: float = 0.05):
        self.calls = 0
        self.result = result
        self.delay = delay
        self._failures = list(failures)

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self._failures:
            raise self._failures.pop(0)
        return self.result


class CountingStore(MemoryIdempotencyStore):
    """A memory store that also counts the claims it answered."""

    claims = 0

    async def claim(self, scope: str, key: str, fingerprint: str, *, lease: float) -> Claim:
        self.claims += 1
        return await super().claim(scope, key, fingerprint, lease=lease)


class BrokenStore(MemoryIdempotencyStore):
    """A memory store whose writes after the claim fail, like a Redis that just went away."""

    async def complete(
        self, scope: str, key: str, token: str, payload: bytes, *, ttl: float
    ) -> bool:
        raise ConnectionError("store down")

    async def release(self, scope: str, key: str, token: str) -> None:
        raise ConnectionError("store down")


class SlowStore(MemoryIdempotencyStore):
    """A memory store slow to record an outcome, like a distant Redis."""

    async def complete(
        self, scope: str, key: str, token: str, payload: bytes, *, ttl: float
    ) -> bool:
        await asyncio.sleep(0.05)
        return await super().complete(scope, key, token, payload, ttl=ttl)


def unavailable() -> ProviderUnavailable:
    return ProviderUnavailable("Clerk is unavailable", provider=Provider.CLERK)


async def run(runner: IdempotentRunner, work: CountingWork, fp: str = FP) -> bytes:
    return await runner.run("caller", "key-1", fp, work, replayable=replayable_error)


async def test_fifty_concurrent_duplicates_run_the_work_once(live_backend: Backend) -> None:
    """Fifty simultaneous requests with one key: one upstream create, fifty identical answers."""
    runner = IdempotentRunner(live_backend.open())
    work = CountingWork()
    results = await asyncio.gather(*(run(runner, work) for _ in range(50)))
    assert work.calls == 1
    assert results == [b"invitation"] * 50


async def test_duplicates_on_two_replicas_run_the_work_once(live_backend: Backend) -> None:
    """Two runners (replicas) on one shared store, 25 duplicates each: one upstream create."""
    runners = [IdempotentRunner(live_backend.open()), IdempotentRunner(live_backend.open())]
    work = CountingWork(delay=0.1)
    results = await asyncio.gather(*(run(runners[i % 2], work) for i in range(50)))
    assert work.calls == 1
    assert results == [b"invitation"] * 50


async def test_a_replay_returns_the_first_result_without_running_the_work(
    live_backend: Backend,
) -> None:
    """A later request with the same key and input gets the stored bytes; work is not called."""
    runner = IdempotentRunner(live_backend.open())
    first, again = CountingWork(result=b"first"), CountingWork(result=b"second")
    assert await run(runner, first) == b"first"
    assert await run(runner, again) == b"first"
    assert again.calls == 0


async def test_the_same_key_with_other_input_is_an_invalid_input_error(
    live_backend: Backend,
) -> None:
    """Reusing a key for other input raises IdempotencyKeyMismatch, an INVALID_INPUT on the key."""
    runner = IdempotentRunner(live_backend.open())
    await run(runner, CountingWork())
    with pytest.raises(IdempotencyKeyMismatch) as caught:
        await run(runner, CountingWork(), OTHER_FP)
    assert isinstance(caught.value, InvalidInvitationInput)
    assert [p.field for p in caught.value.problems] == [("idempotency_key",)]


async def test_other_input_during_the_first_request_is_a_mismatch_too() -> None:
    """A concurrent request with the same key but other input fails at once, the first goes on."""
    runner = IdempotentRunner(MemoryIdempotencyStore())
    work = CountingWork()
    first = asyncio.create_task(run(runner, work))
    await asyncio.sleep(0)
    with pytest.raises(IdempotencyKeyMismatch):
        await run(runner, CountingWork(), OTHER_FP)
    assert await first == b"invitation"


async def test_a_replayable_error_is_replayed(live_backend: Backend) -> None:
    """ALREADY_EXISTS from the upstream is raised once, then replayed from the store."""
    runner = IdempotentRunner(live_backend.open())
    conflict = InvitationConflict("already invited", field=("email",))
    work = CountingWork(conflict)
    with pytest.raises(InvitationConflict) as first:
        await run(runner, work)
    assert first.value is conflict
    replayed = await run(runner, work)
    with pytest.raises(InvitationConflict, match="already invited") as again:
        decode(replayed)
    assert again.value.field == ("email",)
    assert work.calls == 1


async def test_a_non_replayable_failure_lets_the_next_attempt_run(live_backend: Backend) -> None:
    """After an upstream outage the key is released: the retry calls the upstream again."""
    runner = IdempotentRunner(live_backend.open())
    work = CountingWork(unavailable())
    with pytest.raises(ProviderUnavailable):
        await run(runner, work)
    assert await run(runner, work) == b"invitation"
    assert work.calls == 2


async def test_duplicates_waiting_on_a_failed_attempt_share_its_failure() -> None:
    """When the leader's create fails, the waiting duplicates get that failure: one upstream call."""
    runner = IdempotentRunner(MemoryIdempotencyStore())
    work = CountingWork(unavailable())
    results = await asyncio.gather(*(run(runner, work) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, ProviderUnavailable) for r in results)
    assert work.calls == 1
    assert await run(runner, work) == b"invitation"  # released: a later retry may try again
    assert work.calls == 2


async def test_duplicates_in_one_process_share_one_claim() -> None:
    """Fifty in-process duplicates make one store claim between them, not fifty polls."""
    store = CountingStore()
    runner = IdempotentRunner(store)
    await asyncio.gather(*(run(runner, CountingWork()) for _ in range(50)))
    assert store.claims == 1


async def test_a_key_held_too_long_elsewhere_is_busy(live_backend: Backend) -> None:
    """A duplicate of a request still running on another replica gives up after the wait."""
    other = live_backend.open()
    assert isinstance(await other.claim("caller", "key-1", FP, lease=30.0), Claimed)
    runner = IdempotentRunner(live_backend.open(), wait=0.1)
    work = CountingWork()
    results = await asyncio.gather(run(runner, work), run(runner, work), return_exceptions=True)
    assert [type(r) for r in results] == [IdempotencyKeyBusy, IdempotencyKeyBusy]
    assert work.calls == 0


async def test_a_crashed_replicas_claim_is_taken_over_after_its_lease(
    live_backend: Backend,
) -> None:
    """A claim nobody completes (its replica died) stops blocking the key when its lease ends."""
    crashed = live_backend.open()
    assert isinstance(await crashed.claim("caller", "key-1", FP, lease=0.2), Claimed)
    runner = IdempotentRunner(live_backend.open())
    work = CountingWork()
    assert await run(runner, work) == b"invitation"
    assert work.calls == 1


async def test_a_cancelled_leader_hands_the_key_to_a_duplicate() -> None:
    """If the first request is cancelled mid-create, a waiting duplicate runs its own create."""
    runner = IdempotentRunner(MemoryIdempotencyStore())
    leader = asyncio.create_task(run(runner, CountingWork(delay=10)))
    await asyncio.sleep(0.01)
    follower_work = CountingWork(result=b"from the duplicate")
    follower = asyncio.create_task(run(runner, follower_work))
    await asyncio.sleep(0.01)
    leader.cancel()
    assert await follower == b"from the duplicate"
    assert follower_work.calls == 1
    assert leader.cancelled()


async def test_a_request_cancelled_while_recording_still_records_its_outcome() -> None:
    """A caller leaving after the create but before it is recorded does not lose the record."""
    runner = IdempotentRunner(SlowStore(), wait=0.2)
    work = CountingWork(delay=0)
    leader = asyncio.create_task(run(runner, work))
    await asyncio.sleep(0.02)  # the work is done, the store is still writing
    leader.cancel()
    await asyncio.sleep(0.05)
    assert await run(runner, work) == b"invitation"
    assert work.calls == 1


async def test_a_claim_lost_to_a_short_lease_still_returns_the_result(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Work outlasting its lease returns its result, and the too-short lease is logged."""
    runner = IdempotentRunner(MemoryIdempotencyStore(), lease=0.02)
    with caplog.at_level(logging.WARNING, "invitation_gateway.idempotency"):
        assert await run(runner, CountingWork(delay=0.05)) == b"invitation"
    assert "claim expired before the work finished" in caplog.text


async def test_a_store_failing_after_the_work_does_not_hide_the_outcome(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The created result (or the upstream's own error) reaches the caller; the store's is logged."""
    runner = IdempotentRunner(BrokenStore())
    with caplog.at_level(logging.ERROR, "invitation_gateway.idempotency"):
        assert await run(runner, CountingWork()) == b"invitation"
        with pytest.raises(ProviderUnavailable):
            await runner.run(
                "caller", "key-2", FP, CountingWork(unavailable()), replayable=replayable_error
            )
    assert "could not record the outcome" in caplog.text
    assert "could not release a claim" in caplog.text


def test_fingerprints_ignore_key_order_and_see_every_value() -> None:
    """Equal mappings fingerprint equally whatever their order; any changed value changes it."""
    base = {"email": "ada@example.com", "roles": ["a", "b"], "kind": TargetKind.CLERK_APPLICATION}
    assert fingerprint(base) == fingerprint(dict(reversed(base.items())))
    assert fingerprint(base) != fingerprint({**base, "roles": ["b", "a"]})
    assert fingerprint(base) != fingerprint({**base, "kind": TargetKind.CLERK_ORGANIZATION})
    stamped = {"at": datetime(2025, 1, 2, tzinfo=UTC), "tags": frozenset({"x", "y"})}
    assert fingerprint(stamped) == fingerprint(dict(stamped))


def test_fingerprint_refuses_values_it_cannot_spell_canonically() -> None:
    """An arbitrary object has no canonical JSON, so fingerprinting it is an error, not a guess."""
    with pytest.raises(TypeError, match="cannot fingerprint"):
        fingerprint({"thing": object()})
