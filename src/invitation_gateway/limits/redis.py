"""Token buckets in Redis, shared by every replica (`GATEWAY_REDIS_URL` set).

Each bucket is one Redis hash, `units` and `at` (Redis server time, ms), at
`invitation-gateway:ratelimit:<caller>:<budget>` (both percent-escaped, so a `:` in a caller id
cannot reach another caller's bucket). A missing key is a full bucket.

`take` is one Lua script: refill, decide, take, write, all atomically, because "read the bucket,
then decide, then write" from Python would let two replicas spend the same tokens. The script
reads the time with `TIME`, the Redis server's clock, so replicas whose clocks disagree still
agree on every bucket. After a take it sets `PEXPIRE` to the time the bucket needs to refill
fully (never more than a minute): a bucket then vanishes exactly when it would be full again, so
idle callers cost nothing and nothing needs purging.
"""

from __future__ import annotations

from urllib.parse import quote

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..redis_urls import UNNAMED, RedisServer, open_client
from .base import ALLOWED, NEVER, UNITS_PER_TOKEN, Decision, LimiterUnavailable, check

KEY_PREFIX = "invitation-gateway:ratelimit:"

# KEYS[1] bucket; ARGV: per_minute (units gained per ms), cost, units per token (= ms in a
# minute, so `elapsed` is capped at the minute that refills any bucket).
# Returns {1, 0} when taken, {0, ms until `cost` tokens are there} when refused.
# Lua numbers are doubles: every value here is an integer far below 2^53, so exact; `%d` writes
# them back in full (plain tostring would keep only 14 significant digits).
_TAKE = """
local rate = tonumber(ARGV[1])
local unit = tonumber(ARGV[3])
local capacity = rate * unit
local needed = tonumber(ARGV[2]) * unit
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'units', 'at')
local units = capacity
if bucket[1] then
  local elapsed = math.min(math.max(0, now - tonumber(bucket[2])), unit)
  units = math.min(capacity, tonumber(bucket[1]) + elapsed * rate)
end
if units < needed then
  return {0, math.ceil((needed - units) / rate)}
end
units = units - needed
redis.call('HSET', KEYS[1], 'units', string.format('%d', units), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - units) / rate)))
return {1, 0}
"""


class RedisRateLimiter:
    """Buckets in Redis; owns `client` and closes it in `aclose`."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = KEY_PREFIX,
        server: RedisServer = UNNAMED,
    ) -> None:
        """`server` names the server in error messages, its passwords scrubbed."""
        self._client = client
        self._prefix = prefix
        self._server = server
        self._take = client.register_script(_TAKE)

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = KEY_PREFIX, timeout: float = 1.0
    ) -> RedisRateLimiter:
        """A limiter on a new connection pool to `url`; no I/O yet.

        Every request passes through the limiter, so a hung Redis must fail fast: connecting
        and each reply wait at most `timeout` seconds (a `socket_timeout` in the URL wins).
        """
        return cls(open_client(url, timeout), prefix=prefix, server=RedisServer.at(url))

    async def take(self, caller: str, budget: str, cost: int, per_minute: int) -> Decision:
        check(cost, per_minute)
        if cost > per_minute:
            return NEVER
        try:
            answer = await self._take(
                keys=[self._name(caller, budget)], args=[per_minute, cost, UNITS_PER_TOKEN]
            )
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from None
        match answer:
            case [1, _]:
                return ALLOWED
            case [0, int(wait_ms)]:
                return Decision(allowed=False, retry_after=wait_ms / 1000)
        raise LimiterUnavailable(f"{self._server.location}: unexpected answer from the take script")

    async def aclose(self) -> None:
        await self._client.aclose()

    def _name(self, caller: str, budget: str) -> str:
        return f"{self._prefix}{quote(caller, safe='')}:{quote(budget, safe='')}"

    def _unavailable(self, exc: BaseException) -> LimiterUnavailable:
        # Chaining is cut (`from None`) and the detail scrubbed: a traceback or log line of this
        # error must not carry the URL's password, whatever the driver put in its message.
        return LimiterUnavailable(self._server.unavailable(exc))
