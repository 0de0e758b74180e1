"""`/readyz`: whether this replica can serve, and how each upstream connection is doing.

Each connection is probed with one cheap read, no retries and a short budget, so a readiness
check never hangs on a dead upstream. Probe results are cached for a few seconds and refreshed
once for all concurrent callers, so frequent checks cannot hammer the upstreams. The circuit
breaker's state is read live on every call, never cached: a breaker opens the moment calls
fail, and a cached report would still show it `CLOSED` for the rest of the cache window.

What the answer means for a load balancer (README, "Readiness"): the HTTP status reflects only
this replica. An upstream outage is shared by every replica, so taking them all out of rotation
for it would turn one provider's outage into the whole gateway's and hide its
`UPSTREAM_UNAVAILABLE` errors behind a load balancer's 503. A connection that is not ready
shows in the body (`status: degraded`); `strict` asks for a 503 instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .base import CircuitState
from .connection import Connection
from .paths import UpstreamPath
from .reliability import RetryPolicy

CACHE_SECONDS = 5.0
PROBE_BUDGET = 2.0


@dataclass(frozen=True, slots=True)
class Probe:
    """How to check that one connection's upstream answers: a cheap GET."""

    connection: Connection
    path: UpstreamPath
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class ConnectionReadiness:
    """One connection: its last probe's outcome (cached) and its breaker's state (live)."""

    connection: str
    provider: str
    reachable: bool  # the last probe, at most CACHE_SECONDS old, got an answer
    circuit: CircuitState

    @property
    def ready(self) -> bool:
        """Calls go through: the probe answered and the breaker is closed (a half-open one
        still fails all but one call fast)."""
        return self.reachable and self.circuit is CircuitState.CLOSED

    def as_json(self) -> dict[str, object]:
        return {
            "connection": self.connection,
            "provider": self.provider,
            "reachable": self.reachable,
            "circuit": self.circuit.value,
            "ready": self.ready,
        }


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    connections: Sequence[ConnectionReadiness]

    def answer(self, *, strict: bool) -> tuple[int, dict[str, object]]:
        """The HTTP status and body of `/readyz`.

        200 `ready` when every connection is ready; 200 `degraded` when some is not, as that
        is no reason to take this replica out of rotation; with `strict`, 503 `unavailable`.
        """
        if all(c.ready for c in self.connections):
            status, label = 200, "ready"
        elif strict:
            status, label = 503, "unavailable"
        else:
            status, label = 200, "degraded"
        return status, {"status": label, "connections": [c.as_json() for c in self.connections]}


class Readiness:
    """The probes of one app, with their cache. `clock` is monotonic seconds (tests move it)."""

    def __init__(
        self, probes: Sequence[Probe], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._probes = probes
        self._clock = clock
        self._checked_at: float | None = None
        self._reachable: list[bool] = []
        self._lock = asyncio.Lock()

    async def report(self) -> ReadinessReport:
        reachable = await self._probed()
        # Read after probing: a probe's own failure counts towards its breaker.
        circuits = [await probe.connection.circuit() for probe in self._probes]
        return ReadinessReport(
            [
                ConnectionReadiness(
                    connection=probe.connection.info.name,
                    provider=probe.connection.info.provider.value,
                    reachable=ok,
                    circuit=circuit,
                )
                for probe, ok, circuit in zip(self._probes, reachable, circuits, strict=True)
            ]
        )

    async def _probed(self) -> list[bool]:
        """Each probe's outcome, probed again once the cached outcomes are too old."""
        async with self._lock:
            if self._checked_at is None or self._clock() - self._checked_at >= CACHE_SECONDS:
                self._reachable = list(await asyncio.gather(*map(_reachable, self._probes)))
                self._checked_at = self._clock()
            return self._reachable


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
