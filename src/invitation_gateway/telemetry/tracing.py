"""OpenTelemetry traces: one span per GraphQL request, one per upstream attempt.

Off unless asked for: `open_tracing` returns None when neither `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) nor `OTEL_TRACES_EXPORTER=console` is set, and every
caller then skips tracing with one `is None` test: no span objects, no context switches, no
header injection. When on, spans go through a batch processor to OTLP over HTTP (protobuf), or
to stdout; the W3C `traceparent` of an incoming request is the parent of its span, and each
upstream request carries its own span's `traceparent`.

The provider belongs to the app (not OpenTelemetry's global one), so that two apps in one
process (tests) never share spans; the lifespan shuts it down, which flushes what is pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer

from .. import __version__

_SERVICE = "invitation-gateway"


@dataclass(frozen=True, slots=True)
class Tracing:
    """The app's tracer and the provider behind it."""

    tracer: Tracer
    provider: TracerProvider

    def shutdown(self) -> None:
        """Flush pending spans and stop exporting."""
        self.provider.shutdown()


def open_tracing(
    environ: Mapping[str, str], *, exporter: SpanExporter | None = None
) -> Tracing | None:
    """Tracing as the standard OTEL_* variables ask, or None; `exporter` (tests) forces it on."""
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true" and exporter is None:
        return None
    resource = Resource.create(
        {
            "service.name": environ.get("OTEL_SERVICE_NAME") or _SERVICE,
            "service.version": __version__,
        }
    )
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        chosen = _configured_exporter(environ)
        if chosen is None:
            return None
        provider.add_span_processor(BatchSpanProcessor(chosen))
    return Tracing(provider.get_tracer(_SERVICE, __version__), provider)


def _configured_exporter(environ: Mapping[str, str]) -> SpanExporter | None:
    traces = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if traces or base:
        # Imported only when used: the exporter pulls in protobuf.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # As the OTLP spec says: the signal-specific variable is the full URL; the general
        # one is a base to which /v1/traces is appended.
        endpoint = traces or f"{(base or '').rstrip('/')}/v1/traces"
        return OTLPSpanExporter(endpoint=endpoint)
    if environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        return ConsoleSpanExporter(service_name=_SERVICE)
    return None
