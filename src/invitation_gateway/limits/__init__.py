"""Per-caller rate limits (DESIGN "Rate limits"): token buckets, in memory or shared in Redis.

```
RateLimiter (base.py)        the port: take(caller, budget, cost, per_minute) -> Decision
  ├─ RedisRateLimiter        GATEWAY_REDIS_URL set: one bucket per caller+budget for all replicas
  └─ MemoryRateLimiter       one process (the default, sandbox, tests)
LimiterUnavailable           Redis unreachable or failing (`.backend` = "Redis")
```

The service takes before it calls upstream, a bulk create of N items costing N:

    decision = await limiter.take(caller.id, "creates", len(items), settings.creates_per_minute)
    if not decision.allowed: refuse, retry after decision.retry_after seconds
"""

from __future__ import annotations

from .base import Decision, LimiterUnavailable, RateLimiter
from .memory import MemoryRateLimiter
from .redis import RedisRateLimiter

__all__ = [
    "Decision",
    "LimiterUnavailable",
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "open_limiter",
]


def open_limiter(redis_url: str | None) -> RateLimiter:
    """Redis when a URL is given (replicas share the buckets), else in memory. No I/O yet."""
    if redis_url:
        return RedisRateLimiter.from_url(redis_url)
    return MemoryRateLimiter()
