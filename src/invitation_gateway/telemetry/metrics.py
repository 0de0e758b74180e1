"""Prometheus metrics of one app, named as DESIGN.md ("Telemetry") fixes them.

Each app has its own registry (tests build many apps in one process). Labels are chosen from
small fixed sets, never from what a caller sends: `operation` is a root field of the schema,
`outcome` a stable error code, `status` an HTTP status or a transport failure's kind,
`provider` and `connection` come from the configuration.

With several worker processes, set `PROMETHEUS_MULTIPROC_DIR` (an empty directory, cleared at
each deployment): each process then writes its values there and `/metrics`, in whichever
worker answers, adds them up (prometheus-client's multiprocess mode; README "Deploying").
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CircuitStates = Callable[[], Awaitable[Iterable[tuple[str, str, bool]]]]


class Metrics:
    """The gateway's counters and histograms, and their rendering for `GET /metrics`."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_requests",
            "GraphQL requests by root field and outcome (ok or the worst error code).",
            ["operation", "outcome"],
            registry=registry,
        )
        self.request_duration = Histogram(
            "gateway_request_duration_seconds",
            "Time to answer a GraphQL request.",
            ["operation"],
            buckets=_REQUEST_BUCKETS,
            registry=registry,
        )
        self.upstream_requests = Counter(
            "gateway_upstream_requests",
            "Upstream HTTP attempts by status (or timeout / transport_error / no_token).",
            ["provider", "connection", "operation", "status"],
            registry=registry,
        )
        self.upstream_duration = Histogram(
            "gateway_upstream_request_duration_seconds",
            "Time of one upstream HTTP attempt.",
            ["provider", "connection", "operation"],
            buckets=_REQUEST_BUCKETS,
            registry=registry,
        )
        self.upstream_retries = Counter(
            "gateway_upstream_retries",
            "Upstream attempts after the first of a call.",
            ["provider", "connection", "operation"],
            registry=registry,
        )
        self.circuit_open = Gauge(
            "gateway_circuit_open",
            "1 while a connection's circuit breaker is open (failing fast), else 0.",
            ["provider", "connection"],
            registry=registry,
            multiprocess_mode="max",
        )
        self.idempotent_replays = Counter(
            "gateway_idempotent_replays",
            "Mutations answered from an idempotency key's stored outcome.",
            registry=registry,
        )
        self.rate_limited = Counter(
            "gateway_rate_limited",
            "Requests refused by a caller budget (requests or creates per minute).",
            ["limit"],
            registry=registry,
        )
        self._circuits: CircuitStates | None = None

    def watch_circuits(self, states: CircuitStates) -> None:
        """Where `/metrics` reads each connection's breaker: (provider, connection, is_open)."""
        self._circuits = states

    async def render(self) -> bytes:
        """The exposition text, live circuit states included."""
        if self._circuits is not None:
            for provider, connection, is_open in await self._circuits():
                self.circuit_open.labels(provider, connection).set(1 if is_open else 0)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)
