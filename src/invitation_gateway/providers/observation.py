"""What one upstream attempt tells the people who run the gateway: one log line, its metrics.

`UpstreamClient` fills in an `Attempt` as the exchange goes (the status and the upstream's
request id when it answers, the kind of failure when it does not, an excerpt of a non-2xx
body) and hands it to its `CallObserver` when the attempt ends, however it ends. The line
names the path template, never the path: ids stay out of logs and labels.

Levels: INFO for anything the upstream does, including its errors (the request's own line
says what the caller got, at WARNING for an outage); ERROR only when the gateway's own
credentials are refused or a redirect comes back, which an operator must fix.
"""

from __future__ import annotations

import logging

from opentelemetry import propagate, trace

from ..telemetry import Telemetry

logger = logging.getLogger("invitation_gateway.upstream")


class Attempt:
    """One attempt, and what it got: an HTTP status (and the upstream's request id) or a failure."""

    __slots__ = (
        "error",
        "excerpt",
        "method",
        "number",
        "operation",
        "request_id",
        "status",
        "status_code",
        "template",
    )

    def __init__(self, method: str, template: str, operation: str, number: int) -> None:
        self.method, self.template, self.operation, self.number = (
            method,
            template,
            operation,
            number,
        )
        self.status = "error"  # until it answers or fails as expected: a bug, or cancelled
        self.status_code: int | None = None
        self.request_id: str | None = None
        self.error: str | None = None
        self.excerpt: str | None = None

    def answered(self, status_code: int, request_id: str | None) -> None:
        self.status, self.status_code, self.request_id = str(status_code), status_code, request_id

    def failed(self, kind: str, exc: Exception) -> None:
        # httpx's and the auth flow's messages name no URL and no secret (the token flow's
        # holds the endpoint's status and an excerpt of its answer).
        detail = str(exc)[:300]
        self.status = kind
        self.error = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


class Span:
    """An attempt's client span, and the headers that make it the upstream's parent."""

    __slots__ = ("headers", "span")

    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self.headers: dict[str, str] = {}
        # W3C traceparent: this span is the parent of whatever the upstream records.
        propagate.inject(self.headers, context=trace.set_span_in_context(span))


class CallObserver:
    """One connection's way of reporting its attempts."""

    def __init__(
        self, telemetry: Telemetry | None, provider: str, connection: str, host: str
    ) -> None:
        self._metrics = telemetry.metrics if telemetry else None
        self._tracing = telemetry.tracing if telemetry else None
        self._provider = provider
        self._connection = connection
        self._host = host

    def start_span(self, attempt: Attempt) -> Span | None:
        """The attempt's client span (a child of the request's), or None without tracing."""
        if self._tracing is None:
            return None
        span = self._tracing.tracer.start_span(
            f"{attempt.method} {attempt.template}",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "http.request.method": attempt.method,
                "url.template": attempt.template,
                "server.address": self._host,
                "gateway.provider": self._provider,
                "gateway.connection": self._connection,
                "gateway.operation": attempt.operation,
                "http.request.resend_count": attempt.number - 1,
            },
        )
        return Span(span)

    def observe(self, attempt: Attempt, elapsed: float, span: Span | None) -> None:
        """The attempt's one log line, its metrics, and the end of its span."""
        provider, connection, operation = self._provider, self._connection, attempt.operation
        if self._metrics is not None:
            metrics = self._metrics
            metrics.upstream_requests.labels(provider, connection, operation, attempt.status).inc()
            metrics.upstream_duration.labels(provider, connection, operation).observe(elapsed)
            if attempt.number > 1:
                metrics.upstream_retries.labels(provider, connection, operation).inc()
        code = attempt.status_code
        if span is not None:
            span.span.set_attribute("http.response.status_code", code or 0)
            if code is None or code >= 500:
                span.span.set_attribute("error.type", attempt.status)
            span.span.end()
        operator_must_act = code in {401, 407} or (code is not None and 300 <= code < 400)
        level = logging.ERROR if operator_must_act else logging.INFO
        if not logger.isEnabledFor(level):
            return
        fields: dict[str, object] = {
            "provider": provider,
            "connection": connection,
            "operation": operation,
            "method": attempt.method,
            "path": attempt.template,
            "status": attempt.status,
            "attempt": attempt.number,
            "duration_ms": round(elapsed * 1000, 2),
            "upstream_request_id": attempt.request_id,
        }
        if attempt.error:
            fields["error"] = attempt.error
        if attempt.excerpt:
            fields["body"] = attempt.excerpt
        logger.log(level, "upstream call", extra=fields)
