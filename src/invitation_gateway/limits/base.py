"""The rate-limiter port: a token bucket per (caller, budget), and what `take` answers.

A budget of `per_minute` is a bucket holding at most `per_minute` tokens (so a full minute's
budget may be spent in one burst, DESIGN "Rate limits") that refills continuously at
`per_minute / 60` tokens a second. An unused bucket is full; any bucket left alone for a whole
minute is full again, whatever its budget, which is what lets both stores forget idle callers.

Arithmetic is in integers: one token is `UNITS_PER_TOKEN` units and a bucket gains `per_minute`
units each millisecond, so refill is exact (no `0.9999` of a token after waiting the advised
`retry_after`) in Python and in Redis's Lua alike.

These budgets are the gateway's own, per caller. They do not stand in for Clerk's limits, which
are per application instance and, for invitation creates, per hour
(`../shared/upstream/clerk-notes.md` §1.4): an upstream 429 still arrives as
`ProviderRateLimited`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

WINDOW_MS = 60_000  # a budget is per minute; an idle bucket is full again after this long
UNITS_PER_TOKEN = WINDOW_MS  # so that a `per_minute` budget refills `per_minute` units per ms


@dataclass(frozen=True, slots=True)
class Decision:
    """`allowed`, or refused with `retry_after` seconds until the tokens asked for are there."""

    allowed: bool
    retry_after: float = 0.0


ALLOWED = Decision(allowed=True)
# A cost above the bucket's capacity can never be met; a minute is the honest "not like this".
NEVER = Decision(allowed=False, retry_after=WINDOW_MS / 1000)


class RateLimiter(Protocol):
    """Token buckets per (caller, budget); `take` is atomic, also across replicas when shared."""

    async def take(self, caller: str, budget: str, cost: int, per_minute: int) -> Decision:
        """Take `cost` tokens from the caller's `budget` bucket (capacity `per_minute`), or none.

        All or nothing: either every one of the `cost` tokens is taken, or none is and
        `retry_after` says when `cost` tokens will be there (if nobody else takes them first).
        A `cost` above `per_minute` can never succeed: refused with `retry_after` = 60 s, and
        nothing taken; the caller refuses such a request whole. `cost` 0 is always allowed.
        Raises `LimiterUnavailable` when the shared store cannot be reached.
        """
        ...

    async def aclose(self) -> None:
        """Close connections; the limiter is unusable afterwards."""
        ...


class LimiterUnavailable(Exception):
    """The limiter's store is unreachable or failing; the message never holds a password."""

    backend: str = "Redis"

    def __init__(self, message: str, *, backend: str = "Redis") -> None:
        super().__init__(message)
        self.backend = backend


def check(cost: int, per_minute: int) -> None:
    """Refuse arguments no settings can produce (a bug in the caller, not a refusal)."""
    if per_minute < 1:
        raise ValueError(f"per_minute must be at least 1, not {per_minute}")
    if cost < 0:
        raise ValueError(f"cost must not be negative, not {cost}")


def wait(missing_units: int, per_minute: int) -> Decision:
    """Refused: `missing_units` arrive in this many whole milliseconds (rounded up)."""
    return Decision(allowed=False, retry_after=math.ceil(missing_units / per_minute) / 1000)
