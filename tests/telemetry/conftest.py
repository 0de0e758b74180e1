"""A sandbox gateway whose spans are kept in memory, for the telemetry tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from invitation_gateway.app import create_app
from invitation_gateway.sandbox import Sandbox
from tests.support.gateway import app_client
from tests.support.observed import Observed


@pytest.fixture
async def traced(sandbox: Sandbox) -> AsyncIterator[Observed]:
    """The sandbox gateway with tracing on, into an in-memory exporter."""
    spans = InMemorySpanExporter()
    app = create_app(
        sandbox.settings(),
        transport=sandbox.transport(),
        environ={},
        connections=sandbox.connections(),
        span_exporter=spans,
    )
    async with app_client(app) as http:
        yield Observed(http, sandbox, spans)


@pytest.fixture
async def untraced(sandbox: Sandbox) -> AsyncIterator[Observed]:
    """The sandbox gateway as configured by default: no OTEL_* variables, so no tracing."""
    spans = InMemorySpanExporter()  # never attached: stays empty
    app = create_app(
        sandbox.settings(),
        transport=sandbox.transport(),
        environ={},
        connections=sandbox.connections(),
    )
    async with app_client(app) as http:
        yield Observed(http, sandbox, spans)
