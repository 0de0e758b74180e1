"""What the gateway tells the people who run it: logs, metrics and traces.

- `logs.py` configures logging once per process (structlog over the standard library: JSON for
  `serve`, readable lines for the sandbox); every module keeps `logging.getLogger(__name__)`.
- `request.py` is the record of one request (its id, caller, operation, error codes), kept in
  a context variable so every log line of the request carries its id.
- `metrics.py` holds the Prometheus metrics of one app; `tracing.py` the OpenTelemetry tracer,
  which is None (and costs nothing) unless `OTEL_EXPORTER_OTLP_ENDPOINT` or
  `OTEL_TRACES_EXPORTER=console` is set.
- `Telemetry` bundles the last two for the composition root to hand to the upstream clients.
"""

from __future__ import annotations

from dataclasses import dataclass

from .metrics import Metrics
from .tracing import Tracing


@dataclass(frozen=True, slots=True)
class Telemetry:
    """One app's metrics and (optional) tracing."""

    metrics: Metrics
    tracing: Tracing | None = None


__all__ = ["Metrics", "Telemetry", "Tracing"]
