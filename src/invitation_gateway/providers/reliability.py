"""How an upstream call survives a misbehaving upstream: budgets, safe retries, a circuit breaker.

What is retried, and why (README "Reliability"):

- `RetryPolicy.SAFE` (reads and revokes): connection failures, timeouts, 5xx and 429. Repeating
  them cannot create anything twice.
- `RetryPolicy.CREATE` (creates): only when the request provably never reached the upstream (the
  connection was refused or never established, or no pooled connection was free) and on 429,
  which means the upstream refused it before doing anything. Never on a 5xx or a read timeout:
  the upstream may have created the invitation and sent its email already.
- A 429's `Retry-After` is honoured when it is within `max_retry_after` and the call's remaining
  budget; beyond that the caller gets RATE_LIMITED with `retryAfter` at once instead of a sleep.
- Backoff is exponential with jitter and a cap (stamina); the whole call, every attempt and wait
  included, is bounded by `total_timeout`.
- Each connection has a circuit breaker (purgatory): after `breaker_threshold` consecutive
  outages it fails fast for `breaker_cooldown` seconds, then lets a probe through. Rate limits
  and answers the upstream gave on purpose (4xx) are not outages.
"""

from __future__ import annotations

import enum
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from ..domain.errors import ProviderError, ProviderRateLimited
from .base import CircuitState


class RetryPolicy(enum.Enum):
    SAFE = "safe"  # reads and revokes
    CREATE = "create"  # creates: only what provably never reached the upstream
    NEVER = "never"  # readiness probes: one attempt, the answer is the point


@dataclass(frozen=True, slots=True)
class Reliability:
    """One connection's budgets and retry and breaker settings, in seconds."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 5.0
    total_timeout: float = 15.0
    attempts: int = 3
    wait_initial: float = 0.2
    wait_max: float = 2.0
    wait_jitter: float = 0.2
    max_retry_after: float = 5.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0

    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.write_timeout,
            pool=self.pool_timeout,
        )


class AttemptFailed(Exception):
    """One attempt failed; carries the domain error and what a retry decision needs to know."""

    def __init__(self, error: ProviderError, *, reached: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.reached = reached  # False: the request provably never left this process


class Outage(AttemptFailed):
    """A failure that counts against the circuit breaker (transport errors, 5xx, timeouts)."""


def never_reached(exc: httpx.TransportError) -> bool:
    """Whether httpx failed before any byte of the request could have reached the upstream."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def retry_decision(
    policy: RetryPolicy, settings: Reliability, deadline: float
) -> Callable[[Exception], bool | float]:
    """A stamina backoff hook: False to stop, True for backoff, or seconds to wait (Retry-After).

    `deadline` is the call's end on `time.monotonic()` (why: `UpstreamClient.send`).
    """

    def decide(exc: Exception) -> bool | float:
        if not isinstance(exc, AttemptFailed) or policy is RetryPolicy.NEVER:
            return False
        error = exc.error
        if isinstance(error, ProviderRateLimited):
            if error.retry_after is None:
                return True
            remaining = deadline - time.monotonic()
            if error.retry_after > min(settings.max_retry_after, remaining):
                return False  # the caller gets RATE_LIMITED with retryAfter instead of a sleep
            return error.retry_after
        return policy is RetryPolicy.SAFE or not exc.reached

    return decide


class CircuitOpen(Exception):
    """The connection's breaker is open (or already probing): fail fast, do not call."""


class CircuitBreaker:
    """One connection's breaker; `guard()` wraps an attempt, `state()` reports it.

    Closed: attempts flow, outages are counted. Open: attempts fail fast until the cool-down
    has passed. Then half-open: exactly one attempt probes (others still fail fast); its
    success closes the breaker, its failure opens it again.
    """

    def __init__(self, name: str, settings: Reliability) -> None:
        self._name = name
        self._cooldown = settings.breaker_cooldown
        self._probing = False
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=settings.breaker_threshold,
            default_ttl=settings.breaker_cooldown,
            # Only outages count as failures. Anything else the upstream answered (a 4xx, a
            # 429) shows it is up, and counts as a success.
            exclude=[(BaseException, lambda exc: not isinstance(exc, Outage))],
        )

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Wrap one attempt; raises `CircuitOpen` instead of letting it through."""
        breaker = await self._factory.get_breaker(self._name)
        probing = await self.state() is CircuitState.HALF_OPEN
        if probing:
            if self._probing:
                raise CircuitOpen(self._name)
            self._probing = True
        try:
            try:
                await breaker.__aenter__()
            except OpenedState as exc:
                raise CircuitOpen(self._name) from exc
            try:
                yield
            except BaseException as exc:
                await breaker.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            await breaker.__aexit__(None, None, None)
        finally:
            if probing:
                self._probing = False

    async def state(self) -> CircuitState:
        context = (await self._factory.get_breaker(self._name)).context
        if context.state == "closed":
            return CircuitState.CLOSED
        if context.state == "opened":
            opened = context.opened_at or 0.0
            # Past its cool-down an open breaker lets the next request through as a probe.
            # Wall time, and no clock parameter, on purpose: purgatory (3.0) stamps
            # `opened_at = time.time()` and lets a request through once `time.time()` passes
            # `opened_at + ttl` (`OpenedState` in purgatory/domain/model.py), and takes no clock.
            # This must decide as the library does, so it reads the library's clock. It only
            # measures the cool-down, an interval since `opened_at`; no date is read or shown.
            return (
                CircuitState.HALF_OPEN
                if time.time() > opened + self._cooldown
                else CircuitState.OPEN
            )
        return CircuitState.HALF_OPEN
