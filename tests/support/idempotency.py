"""Idempotency store backends for tests: one shared record space, opened as several replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from invitation_gateway.idempotency import IdempotencyStore


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Backend:
    """One shared record space; every `open()` is another store instance (replica) on it."""

    def __init__(self, kind: str, opener: Callable[[], IdempotencyStore], clock: FakeClock | None):
        self.kind = kind
        self._opener = opener
        self._clock = clock
        self._opened: list[IdempotencyStore] = []

    def open(self) -> IdempotencyStore:
        store = self._opener()
        self._opened.append(store)
        return store

    async def advance(self, seconds: float) -> None:
        """Let `seconds` pass for the stores' expiry: on the fake clock, or really (Redis)."""
        if self._clock is None:
            await asyncio.sleep(seconds)
        else:
            self._clock.now += seconds

    async def aclose(self) -> None:
        for store in self._opened:
            await store.aclose()
