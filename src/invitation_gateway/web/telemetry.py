"""The outermost middleware: a request id for every answer, one log line per GraphQL request.

Every HTTP answer carries `X-Request-ID` (the caller's when sane, else a fresh one), and every
log line written while serving it carries `request_id` (structlog's context variables). For
`/graphql` it also opens the request's `RequestRecord` (and, with tracing on, its server span,
parented to an incoming `traceparent`), and when the answer is sent writes one line with the
caller, operation, HTTP status, duration and outcome, and counts it in the metrics. Answers
refused before GraphQL (401, 413, 429) pass through here too, so they are logged the same way.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import structlog
from opentelemetry import propagate, trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..telemetry import Telemetry
from ..telemetry.request import (
    REQUEST_ID_HEADER,
    RequestRecord,
    close_request,
    open_request,
    request_id,
)

logger = logging.getLogger("invitation_gateway.request")
_HEADER = REQUEST_ID_HEADER.encode()


class RequestTelemetry:
    """Pure ASGI (no extra task per request): ids, the request line, metrics, the server span."""

    def __init__(self, app: ASGIApp, *, telemetry: Telemetry, path: str) -> None:
        self.app = app
        self.telemetry = telemetry
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = None
        for name, value in scope["headers"]:
            if name == _HEADER:
                sent = value.decode("latin-1")
                break
        record = RequestRecord(request_id(sent))
        header = (_HEADER, record.request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=record.request_id):
            if scope["path"] != self.path:
                await self.app(scope, receive, send_with_id)
                return
            token = open_request(record)
            started = time.perf_counter()
            try:
                await self._serve(scope, receive, send_with_id, record)
            except Exception:
                record.note("INTERNAL")  # the error middleware answers 500
                raise
            finally:
                close_request(token)
                self._finish(record, time.perf_counter() - started)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, record: RequestRecord
    ) -> None:
        tracing = self.telemetry.tracing
        if tracing is None:
            await self.app(scope, receive, send)
            return
        with tracing.tracer.start_as_current_span(
            f"{scope['method']} {self.path}",
            context=propagate.extract(_carrier(scope)),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "url.path": self.path},
        ) as span:
            record.span = span
            try:
                await self.app(scope, receive, send)
            finally:
                _name_span(span, record)

    def _finish(self, record: RequestRecord, elapsed: float) -> None:
        status = record.status
        outcome = record.outcome(status)
        operation = record.operation
        metrics = self.telemetry.metrics
        metrics.requests.labels(operation, outcome).inc()
        metrics.request_duration.labels(operation).observe(elapsed)
        for limit in record.rate_limited:
            metrics.rate_limited.labels(limit).inc()
        if record.replays:
            metrics.idempotent_replays.inc(record.replays)
        level = record.level(outcome)
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "graphql request",
                extra={
                    "caller": record.caller,
                    "operation": record.operation_name or "-",
                    "operation_type": record.operation_type or "-",
                    "root_fields": list(record.root_fields),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "outcome": outcome,
                    "codes": sorted(set(record.codes)),
                },
            )


def _carrier(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _name_span(span: Any, record: RequestRecord) -> None:
    """`mutation createInvitation`: the operation type and root field, as OTel names them."""
    status = record.status
    span.set_attribute("http.response.status_code", status)
    if record.operation_type:
        span.update_name(f"{record.operation_type} {record.operation}")
        span.set_attribute("graphql.operation.type", record.operation_type)
    if record.operation_name:
        span.set_attribute("graphql.operation.name", record.operation_name)
    outcome = record.outcome(status)
    if outcome != "ok":
        span.set_attribute("error.type", outcome)
