"""`/readyz`: whether each upstream connection answers at all, and its circuit breaker's state.

Each connection is probed with one cheap read, no retries and a short budget, so a readiness
check never hangs on a dead upstream. Results are cached for a few seconds and refreshed once
for all concurrent callers, so frequent probes cannot hammer the upstreams.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .registry import Connection
from .reliability import RetryPolicy

CACHE_SECONDS = 5.0
PROBE_BUDGET = 2.0


@dataclass(frozen=True, slots=True)
class Probe:
    """How to check that one connection's upstream answers: a cheap GET."""

    connection: Connection
    path: str
    params: dict[str, str]


class Readiness:
    def __init__(self, probes: Sequence[Probe]) -> None:
        self._probes = probes
        self._checked_at = -CACHE_SECONDS
        self._report: list[dict[str, object]] = []
        self._lock = asyncio.Lock()

    async def report(self) -> list[dict[str, object]]:
        async with self._lock:
            if time.monotonic() - self._checked_at >= CACHE_SECONDS:
                reachable = await asyncio.gather(*(_reachable(p) for p in self._probes))
                self._report = [
                    {
                        "connection": probe.connection.info.name,
                        "provider": probe.connection.info.provider.value,
                        "reachable": ok,
                        "circuit": (await probe.connection.circuit()).value,
                    }
                    for probe, ok in zip(self._probes, reachable, strict=True)
                ]
                self._checked_at = time.monotonic()
        return self._report


async def _reachable(probe: Probe) -> bool:
    client = probe.connection.client
    if client is None:
        return True
    try:
        async with asyncio.timeout(PROBE_BUDGET):
            await client.send(
                "GET", probe.path, operation="probe", retry=RetryPolicy.NEVER, params=probe.params
            )
    except Exception:  # any failure means "not reachable"; the client has logged why
        return False
    return True
