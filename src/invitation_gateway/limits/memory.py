"""In-process token buckets: one replica only, lost on restart (no `GATEWAY_REDIS_URL`).

Atomicity comes from asyncio itself: `take` never awaits, so concurrent takes cannot interleave.
The clock is injectable (monotonic seconds) so tests refill buckets without sleeping.

Memory stays bounded by recent traffic: a bucket untouched for a minute is full, which is the
same as having none, so a sweep (at most once a minute) drops every such bucket. What is held is
at most the buckets used in the last two minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .base import ALLOWED, NEVER, UNITS_PER_TOKEN, WINDOW_MS, Decision, check, wait


class MemoryRateLimiter:
    """Buckets in a dict of `(caller, budget) -> (units, at_ms)`; idle full ones are swept."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[int, int]] = {}
        self._next_sweep = self._now_ms() + WINDOW_MS

    def __len__(self) -> int:
        """How many buckets are held (full ones included until the next sweep)."""
        return len(self._buckets)

    async def take(self, caller: str, budget: str, cost: int, per_minute: int) -> Decision:
        check(cost, per_minute)
        if cost > per_minute:
            return NEVER
        now = self._now_ms()
        self._sweep(now)
        capacity = per_minute * UNITS_PER_TOKEN
        units = capacity
        if (bucket := self._buckets.get((caller, budget))) is not None:
            held, at = bucket
            elapsed = min(max(0, now - at), WINDOW_MS)
            units = min(capacity, held + elapsed * per_minute)
        needed = cost * UNITS_PER_TOKEN
        if units < needed:
            return wait(needed - units, per_minute)
        self._buckets[caller, budget] = (units - needed, now)
        return ALLOWED

    async def aclose(self) -> None:
        self._buckets.clear()

    def _now_ms(self) -> int:
        # Rounded, not floored: a clock at 8.572 s may read 8571.9999 ms, and the advised wait
        # (whole ms) must then be enough.
        return round(self._clock() * 1000)

    def _sweep(self, now: int) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + WINDOW_MS
        idle = [key for key, (_, at) in self._buckets.items() if now - at >= WINDOW_MS]
        for key in idle:
            del self._buckets[key]
