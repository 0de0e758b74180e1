"""One suite for every idempotency store (memory, SQLite, Redis), then what only one store does."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from redis.asyncio import Redis

from invitation_gateway.idempotency import (
    Claimed,
    Completed,
    MemoryIdempotencyStore,
    Mismatch,
    Pending,
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
    open_store,
)
from tests.support.idempotency import Backend, FakeClock

LEASE = 60.0
TTL = 3600.0
SHORT = 0.2  # a lease or TTL the Redis cases really wait out


async def claimed(backend: Backend, key: str = "k", fingerprint: str = "fp") -> str:
    claim = await backend.open().claim("scope", key, fingerprint, lease=LEASE)
    assert isinstance(claim, Claimed)
    return claim.token


async def test_a_fresh_key_is_claimed_then_replayed_once_completed(backend: Backend) -> None:
    """A first claim wins; after `complete`, the same request gets the stored payload back."""
    store = backend.open()
    claim = await store.claim("scope", "k", "fp", lease=LEASE)
    assert isinstance(claim, Claimed)
    assert await store.complete("scope", "k", claim.token, b"result", ttl=TTL)
    assert await store.claim("scope", "k", "fp", lease=LEASE) == Completed(b"result")


async def test_payloads_are_kept_byte_for_byte(backend: Backend) -> None:
    """Any bytes, NUL and invalid UTF-8 included, come back unchanged."""
    store = backend.open()
    payload = bytes(range(256))
    assert await store.complete("scope", "k", await claimed(backend), payload, ttl=TTL)
    assert await store.claim("scope", "k", "fp", lease=LEASE) == Completed(payload)


async def test_another_fingerprint_is_a_mismatch_while_pending_and_once_done(
    backend: Backend,
) -> None:
    """The same key with other input is a mismatch, whether the first request finished or not."""
    store = backend.open()
    token = await claimed(backend)
    assert await store.claim("scope", "k", "other", lease=LEASE) == Mismatch()
    await store.complete("scope", "k", token, b"result", ttl=TTL)
    assert await store.claim("scope", "k", "other", lease=LEASE) == Mismatch()


async def test_a_live_claim_makes_the_same_request_wait(backend: Backend) -> None:
    """While the first request holds the key, a duplicate is told Pending, not Claimed."""
    await claimed(backend)
    assert await backend.open().claim("scope", "k", "fp", lease=LEASE) == Pending()


async def test_a_released_key_can_be_claimed_again(backend: Backend) -> None:
    """After `release`, the next attempt claims the key afresh, with a new token."""
    store = backend.open()
    token = await claimed(backend)
    await store.release("scope", "k", token)
    claim = await store.claim("scope", "k", "fp", lease=LEASE)
    assert isinstance(claim, Claimed)
    assert claim.token != token


async def test_only_the_claim_holder_can_complete_or_release(backend: Backend) -> None:
    """A wrong token neither completes nor frees the key; completing twice fails the second time."""
    store = backend.open()
    token = await claimed(backend)
    assert not await store.complete("scope", "k", "not-the-token", b"x", ttl=TTL)
    await store.release("scope", "k", "not-the-token")
    assert await store.claim("scope", "k", "fp", lease=LEASE) == Pending()
    assert await store.complete("scope", "k", token, b"first", ttl=TTL)
    assert not await store.complete("scope", "k", token, b"second", ttl=TTL)
    await store.release("scope", "k", token)  # too late: a completed record stays
    assert await store.claim("scope", "k", "fp", lease=LEASE) == Completed(b"first")


async def test_scopes_keep_keys_apart(backend: Backend) -> None:
    """The same key under two scopes (callers), even with `:` in them, are two records."""
    store = backend.open()
    assert isinstance(await store.claim("a:b", "c", "fp", lease=LEASE), Claimed)
    assert isinstance(await store.claim("a", "b:c", "fp", lease=LEASE), Claimed)
    assert isinstance(await store.claim("other", "a:b:c", "fp", lease=LEASE), Claimed)


async def test_a_completed_key_is_forgotten_after_its_ttl(backend: Backend) -> None:
    """Once the TTL has passed, the key is free again, even for other input."""
    store = backend.open()
    await store.complete("scope", "k", await claimed(backend), b"result", ttl=SHORT)
    assert await store.claim("scope", "k", "fp", lease=LEASE) == Completed(b"result")
    await backend.advance(SHORT + 0.1)
    assert isinstance(await store.claim("scope", "k", "other", lease=LEASE), Claimed)


async def test_an_abandoned_claim_expires_with_its_lease(backend: Backend) -> None:
    """A claim never completed (its replica crashed) frees the key after the lease, and the
    late holder can then neither complete nor release the new claim."""
    store = backend.open()
    first = await store.claim("scope", "k", "fp", lease=SHORT)
    assert isinstance(first, Claimed)
    await backend.advance(SHORT + 0.1)
    second = await store.claim("scope", "k", "fp", lease=LEASE)
    assert isinstance(second, Claimed)
    assert not await store.complete("scope", "k", first.token, b"late", ttl=TTL)
    await store.release("scope", "k", first.token)
    assert await store.claim("scope", "k", "fp", lease=LEASE) == Pending()


async def test_concurrent_claims_from_two_replicas_yield_exactly_one_claim(
    backend: Backend,
) -> None:
    """Forty simultaneous claims through two store instances on one backend: one wins."""
    stores = [backend.open(), backend.open()]
    claims = await asyncio.gather(
        *(stores[i % 2].claim("scope", "k", "fp", lease=LEASE) for i in range(40))
    )
    assert sum(isinstance(claim, Claimed) for claim in claims) == 1
    assert claims.count(Pending()) == 39


async def test_a_sqlite_record_survives_a_restart(tmp_path: Path) -> None:
    """Close the store, open a new one on the same file: completed and pending keys are there."""
    path = tmp_path / "idempotency.sqlite3"
    store = SqliteIdempotencyStore(path)
    token = await claimed_on(store, "done")
    await store.complete("scope", "done", token, b"result", ttl=TTL)
    await claimed_on(store, "running")
    await store.aclose()

    reopened = SqliteIdempotencyStore(path)
    try:
        assert await reopened.claim("scope", "done", "fp", lease=LEASE) == Completed(b"result")
        assert await reopened.claim("scope", "running", "fp", lease=LEASE) == Pending()
    finally:
        await reopened.aclose()


async def test_sqlite_creates_parent_directories_and_uses_wal(tmp_path: Path) -> None:
    """A path in directories that do not exist yet works, and the file is in WAL mode."""
    path = tmp_path / "a" / "b" / "idempotency.sqlite3"
    store = SqliteIdempotencyStore(path)
    try:
        await claimed_on(store, "k")
    finally:
        await store.aclose()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


async def test_sqlite_stores_opening_one_new_file_at_once_all_work(tmp_path: Path) -> None:
    """Replicas starting together on a fresh file (WAL switch racing) all answer, one claims."""
    for attempt in range(50):
        stores = [SqliteIdempotencyStore(tmp_path / f"{attempt}.sqlite3") for _ in range(3)]
        try:
            claims = await asyncio.gather(
                *(store.claim("scope", "k", "fp", lease=LEASE) for store in stores)
            )
        finally:
            for store in stores:
                await store.aclose()
        assert sorted(type(claim).__name__ for claim in claims) == ["Claimed", "Pending", "Pending"]


async def test_sqlite_purges_expired_rows_lazily(tmp_path: Path) -> None:
    """Expired rows stay until a claim after the purge interval, which deletes them."""
    clock = FakeClock()
    path = tmp_path / "idempotency.sqlite3"
    store = SqliteIdempotencyStore(path, clock=clock, purge_interval=10.0)
    try:
        await store.claim("scope", "old", "fp", lease=1.0)
        clock.now += 2.0
        await store.claim("scope", "new", "fp", lease=LEASE)
        assert _sqlite_keys(path) == {"old", "new"}
        clock.now += 10.0
        await store.claim("scope", "newer", "fp", lease=LEASE)
        assert _sqlite_keys(path) == {"new", "newer"}
    finally:
        await store.aclose()


async def test_memory_purges_expired_records_lazily() -> None:
    """Expired records are swept by a claim after the purge interval, so memory stays bounded."""
    clock = FakeClock()
    store = MemoryIdempotencyStore(clock=clock, purge_interval=10.0)
    for key in ("a", "b", "c"):
        await store.claim("scope", key, "fp", lease=1.0)
    clock.now += 11.0
    await store.claim("scope", "d", "fp", lease=LEASE)
    assert len(store) == 1


async def test_redis_records_carry_their_expiry(redis_url: str, redis_prefix: str) -> None:
    """Redis expires records itself: the lease while claimed, the TTL once completed."""
    client = Redis.from_url(redis_url)
    store = RedisIdempotencyStore(Redis.from_url(redis_url), prefix=redis_prefix)
    try:
        token = await claimed_on(store, "k", lease=30.0)
        name = f"{redis_prefix}scope:k"
        assert 0 < await client.pttl(name) <= 30_000
        await store.complete("scope", "k", token, b"result", ttl=3600.0)
        assert 30_000 < await client.pttl(name) <= 3_600_000
    finally:
        await store.aclose()
        await client.aclose()


async def test_redis_takes_the_same_completion_twice(redis_url: str, redis_prefix: str) -> None:
    """A completion retried after its reply was lost (it had landed) is a success, not an
    expired claim; another payload or another token still is refused."""
    store = RedisIdempotencyStore(Redis.from_url(redis_url), prefix=redis_prefix)
    try:
        token = await claimed_on(store, "k", lease=30.0)
        assert await store.complete("scope", "k", token, b"result", ttl=60.0)
        assert await store.complete("scope", "k", token, b"result", ttl=60.0)
        assert not await store.complete("scope", "k", token, b"other", ttl=60.0)
        assert not await store.complete("scope", "k", "not-the-token", b"result", ttl=60.0)
    finally:
        await store.aclose()


async def test_open_store_picks_redis_then_sqlite_then_memory(tmp_path: Path) -> None:
    """A Redis URL wins over a SQLite path, which wins over the in-memory default."""
    path = tmp_path / "idempotency.sqlite3"
    stores = [
        open_store(redis_url="redis://127.0.0.1:6379/0", sqlite_path=path),
        open_store(redis_url=None, sqlite_path=path),
        open_store(redis_url=None, sqlite_path=None),
    ]
    try:
        kinds = [type(store) for store in stores]
        assert kinds == [RedisIdempotencyStore, SqliteIdempotencyStore, MemoryIdempotencyStore]
    finally:
        for store in stores:
            await store.aclose()


async def claimed_on(
    store: SqliteIdempotencyStore | RedisIdempotencyStore, key: str, *, lease: float = LEASE
) -> str:
    claim = await store.claim("scope", key, "fp", lease=lease)
    assert isinstance(claim, Claimed), claim
    return claim.token


def _sqlite_keys(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT key FROM idempotency_keys")}
    finally:
        db.close()
