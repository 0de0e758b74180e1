"""The shared idempotency store: Redis, so that every replica sees the same keys.

Each record is one Redis hash, `fp` (fingerprint), `token`, and `payload` once completed, at
`invitation-gateway:idempotency:<scope>:<key>` (both percent-escaped, so a `:` in a key cannot
collide with another scope). Expiry is Redis's own (`PEXPIRE`): the lease while claimed, the TTL
once completed, so nothing needs purging.

Each operation is one small Lua script, because "read the record, then decide, then write" must
not interleave with another replica doing the same: Redis runs a script atomically. `SET NX PX`
alone could take a free key, but not tell a replay from a mismatch from a live claim in the same
step.

Every keyed create waits on this store before anything is sent, so a hung Redis must fail fast:
connecting and each reply wait at most a second (as the rate limiter's do). A Redis error or a
dead connection is then `unavailable`: the keyed create is refused with UPSTREAM_UNAVAILABLE
naming Redis, never sent unguarded.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from redis.asyncio import Redis
from redis.exceptions import DataError, RedisError

from ..redis_urls import UNNAMED, RedisServer, open_client
from .base import Claim, Claimed, Completed, IdempotencyStoreUnavailable, Mismatch, Pending

KEY_PREFIX = "invitation-gateway:idempotency:"

# KEYS[1] record; ARGV: fingerprint, token, lease (ms).
_CLAIM = """
local record = redis.call('HMGET', KEYS[1], 'fp', 'payload')
if not record[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if record[1] ~= ARGV[1] then return {'mismatch'} end
if record[2] then return {'completed', record[2]} end
return {'pending'}
"""

# KEYS[1] record; ARGV: token, payload, ttl (ms). Only the claim's holder may complete it; the
# same completion again (a retry after a lost reply) is a success, not an expired claim.
_COMPLETE = """
local record = redis.call('HMGET', KEYS[1], 'token', 'payload')
if record[1] == ARGV[1] and record[2] == ARGV[2] then return 1 end
if record[1] ~= ARGV[1] or record[2] then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1] record; ARGV: token. Only the claim's holder may release it, and only before completion.
_RELEASE = """
local record = redis.call('HMGET', KEYS[1], 'token', 'payload')
if record[1] == ARGV[1] and not record[2] then redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisIdempotencyStore:
    """Idempotency records in Redis; owns `client` and closes it in `aclose`."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = KEY_PREFIX,
        server: RedisServer = UNNAMED,
    ) -> None:
        """`server` names the server in logged failures, its passwords scrubbed."""
        self._client = client
        self._prefix = prefix
        self._server = server
        self._claim = client.register_script(_CLAIM)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = KEY_PREFIX, timeout: float = 1.0
    ) -> RedisIdempotencyStore:
        """A store on a new connection pool to `url` (e.g. `redis://cache:6379/0`); no I/O yet.

        Connecting and each reply wait at most `timeout` seconds (a `socket_timeout` in the
        URL wins): a keyed create must not hang on a Redis that stopped answering.
        """
        return cls(open_client(url, timeout), prefix=prefix, server=RedisServer.at(url))

    async def claim(self, scope: str, key: str, fingerprint: str, *, lease: float) -> Claim:
        token = secrets.token_hex(16)
        answer = await self._claim(
            keys=[self._name(scope, key)], args=[fingerprint, token, _millis(lease)]
        )
        match answer:
            case [b"claimed"]:
                return Claimed(token)
            case [b"mismatch"]:
                return Mismatch()
            case [b"completed", bytes(payload)]:
                return Completed(payload)
            case [b"pending"]:
                return Pending()
        raise RuntimeError(f"unexpected answer from the claim script: {answer!r}")

    async def complete(
        self, scope: str, key: str, token: str, payload: bytes, *, ttl: float
    ) -> bool:
        done = await self._complete(
            keys=[self._name(scope, key)], args=[token, payload, _millis(ttl)]
        )
        return bool(done)

    async def release(self, scope: str, key: str, token: str) -> None:
        await self._release(keys=[self._name(scope, key)], args=[token])

    async def aclose(self) -> None:
        await self._client.aclose()

    def unavailable(self, exc: Exception) -> IdempotencyStoreUnavailable | None:
        # OSError: a socket error the driver let through. DataError: an argument the driver
        # refused before sending it, a bug here rather than Redis failing.
        if isinstance(exc, DataError) or not isinstance(exc, RedisError | OSError):
            return None
        detail = self._server.unavailable(exc)
        return IdempotencyStoreUnavailable("Redis", detail=detail)

    def _name(self, scope: str, key: str) -> str:
        return f"{self._prefix}{quote(scope, safe='')}:{quote(key, safe='')}"


def _millis(seconds: float) -> int:
    # PEXPIRE needs a positive integer: round up so a tiny lease still expires, never instantly.
    return max(1, int(seconds * 1000 + 0.999))
