"""A store that is gone, hung or broken: the runner refuses the keyed work, naming the store."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError

from invitation_gateway.domain.errors import DependencyUnavailable
from invitation_gateway.idempotency import (
    Claim,
    IdempotencyStoreUnavailable,
    IdempotentRunner,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
    replayable_error,
)
from tests.support.tcp_proxy import TcpProxy, silent_server


class Work:
    """The keyed work (an upstream create); counts whether it ran."""

    calls = 0

    async def __call__(self) -> bytes:
        self.calls += 1
        return b"invitation"


async def refused(
    store: RedisIdempotencyStore | SqliteIdempotencyStore,
) -> IdempotencyStoreUnavailable:
    """Run keyed work on `store`; it must be refused without running. The error raised."""
    work = Work()
    try:
        with pytest.raises(IdempotencyStoreUnavailable) as caught:
            await IdempotentRunner(store).run(
                "caller", "k", "fp", work, replayable=replayable_error
            )
    finally:
        await store.aclose()
    assert work.calls == 0
    return caught.value


@pytest.mark.parametrize(
    "url",
    ["redis://:hunter2-secret@127.0.0.1:1/0", "redis://127.0.0.1:1/0?password=hunter2-secret"],
)
async def test_an_unreachable_redis_refuses_the_work_naming_redis_never_the_password(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens: UPSTREAM_UNAVAILABLE-to-be naming Redis; the log says where, not the secret."""
    with caplog.at_level(logging.ERROR, "invitation_gateway.idempotency"):
        error = await refused(RedisIdempotencyStore.from_url(url))
    assert isinstance(error, DependencyUnavailable)
    assert error.dependency == "Redis"
    assert "127.0.0.1" not in error.message  # the caller's message says nothing of the deployment
    assert "Redis at redis://127.0.0.1:1/0 is unavailable (ConnectionError" in error.detail
    assert "Redis at redis://127.0.0.1:1/0 is unavailable" in caplog.text
    assert "hunter2" not in error.detail + caplog.text
    assert error.__cause__ is None
    assert error.__suppress_context__


async def test_a_redis_that_accepts_and_never_answers_fails_within_a_second() -> None:
    """A hung Redis holds a keyed create for about the 1 s read timeout, not forever."""
    async with silent_server() as port:
        started = time.monotonic()
        error = await refused(RedisIdempotencyStore.from_url(f"redis://127.0.0.1:{port}/0"))
        elapsed = time.monotonic() - started
    assert error.dependency == "Redis"
    assert "TimeoutError" in error.detail
    assert 0.9 <= elapsed < 3.0


async def test_a_redis_gone_while_running_refuses_the_next_work(
    redis_url: str, redis_prefix: str
) -> None:
    """A claim that worked, then the server goes away: the next claim is refused, naming Redis."""
    async with TcpProxy.to_url(redis_url) as proxy:
        store = RedisIdempotencyStore.from_url(proxy.url_for(redis_url), prefix=redis_prefix)
        runner = IdempotentRunner(store)
        assert await runner.run("caller", "k1", "fp", Work(), replayable=replayable_error)
        proxy.cut()
        error = await refused(store)
    assert error.dependency == "Redis"


async def test_an_unusable_sqlite_file_refuses_the_work_naming_sqlite(tmp_path: Path) -> None:
    """The store's directory cannot be made (a file is in the way): refused, naming SQLite."""
    (tmp_path / "blocker").write_text("not a directory")
    path = tmp_path / "blocker" / "keys.sqlite3"
    error = await refused(SqliteIdempotencyStore(path))
    assert error.dependency == "SQLite"
    assert f"SQLite at {path} is unavailable" in error.detail


class _BuggyStore(MemoryIdempotencyStore):
    """A store with a bug (not an outage) in its claim."""

    async def claim(self, scope: str, key: str, fingerprint: str, *, lease: float) -> Claim:
        raise KeyError("a bug")


async def test_a_bug_in_a_store_is_not_reported_as_the_store_being_down() -> None:
    """Only the store's own failures become UPSTREAM_UNAVAILABLE; a bug stays itself (INTERNAL)."""
    work = Work()
    with pytest.raises(KeyError):
        await IdempotentRunner(_BuggyStore()).run(
            "caller", "k", "fp", work, replayable=replayable_error
        )
    assert work.calls == 0


async def test_a_redis_answering_errors_refuses_the_work_naming_redis(
    redis_url: str, redis_prefix: str
) -> None:
    """Redis up but refusing the command (here the key holds a string): refused, naming Redis."""
    client = Redis.from_url(redis_url)
    try:
        await client.set(f"{redis_prefix}caller:k", "not a record")
    finally:
        await client.aclose()
    error = await refused(RedisIdempotencyStore.from_url(redis_url, prefix=redis_prefix))
    assert error.dependency == "Redis"
    assert "ResponseError" in error.detail


async def test_each_store_names_its_own_failures_and_only_those(tmp_path: Path) -> None:
    """A store failing is named; a misuse by our code, or anything else, is left as the bug it is."""
    sqlite = SqliteIdempotencyStore(tmp_path / "keys.sqlite3")
    redis_store = RedisIdempotencyStore.from_url("redis://127.0.0.1:1/0")
    try:
        failing = sqlite.unavailable(sqlite3.OperationalError("disk I/O error"))
        assert failing is not None
        assert failing.dependency == "SQLite"
        assert sqlite.unavailable(sqlite3.ProgrammingError("wrong number of bindings")) is None
        gone = redis_store.unavailable(RedisConnectionError("Connection reset by peer"))
        assert gone is not None
        assert gone.dependency == "Redis"
        assert redis_store.unavailable(DataError("Invalid input of type: 'dict'")) is None
        for store in (sqlite, redis_store, MemoryIdempotencyStore()):
            assert store.unavailable(KeyError("a bug")) is None
    finally:
        await sqlite.aclose()
        await redis_store.aclose()


class _DroppingStore(SqliteIdempotencyStore):
    """A SQLite store whose first `complete` fails as a store outage does."""

    dropped = 0

    async def complete(
        self, scope: str, key: str, token: str, payload: bytes, *, ttl: float
    ) -> bool:
        if not self.dropped:
            self.dropped += 1
            raise sqlite3.OperationalError("disk I/O error")
        return await super().complete(scope, key, token, payload, ttl=ttl)


async def test_a_completion_the_store_drops_once_is_tried_again(tmp_path: Path) -> None:
    """The work ran upstream: recording its outcome survives one store failure, so the same key
    replays it rather than waiting out the lease and sending the create again."""
    store = _DroppingStore(tmp_path / "keys.sqlite3")
    runner = IdempotentRunner(store, lease=30.0)
    work = Work()
    try:
        first = await runner.run("caller", "k", "fp", work, replayable=replayable_error)
        again = await runner.run("caller", "k", "fp", work, replayable=replayable_error)
    finally:
        await store.aclose()
    assert (first, again, work.calls, store.dropped) == (b"invitation", b"invitation", 1, 1)
