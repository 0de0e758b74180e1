"""One shared state (records, buckets) opened as several replicas would, on a fake or real clock.

The idempotency stores and the rate limiters are both tested this way: `open()` gives another
instance on the same place (a dict, a SQLite file, a Redis key prefix), and `advance()` lets
time pass for expiry and refill: on the fake clock, or for real where the server keeps time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from tests.support.clock import FakeClock


class _Closable(Protocol):
    async def aclose(self) -> None: ...


T = TypeVar("T", bound=_Closable)


class Replicas(Generic[T]):
    """One shared place; every `open()` is another instance (replica) on it."""

    def __init__(self, kind: str, opener: Callable[[], T], clock: FakeClock | None) -> None:
        self.kind = kind
        self._opener = opener
        self._clock = clock
        self._opened: list[T] = []

    def open(self) -> T:
        instance = self._opener()
        self._opened.append(instance)
        return instance

    async def advance(self, seconds: float) -> None:
        """Let `seconds` pass: on the fake clock, or really (a server that keeps its own time)."""
        if self._clock is None:
            await asyncio.sleep(seconds)
        else:
            self._clock.now += seconds

    async def aclose(self) -> None:
        for instance in self._opened:
            await instance.aclose()
