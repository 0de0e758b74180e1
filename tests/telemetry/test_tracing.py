"""Traces: one span per GraphQL request, one per upstream attempt, W3C context both ways."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from tests.support.documents import CREATE
from tests.support.observed import Observed

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_a_create_is_a_server_span_with_one_client_span(traced: Observed) -> None:
    """The server span is named after the operation; the upstream span is its child."""
    await traced.post(CREATE, traced.org_input("ada@example.com"))
    spans = traced.spans.get_finished_spans()
    [server] = [s for s in spans if s.kind is SpanKind.SERVER]
    [client] = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert len(spans) == 2  # not one per field
    assert server.name == "mutation createInvitation"
    assert server.attributes is not None
    assert server.attributes["graphql.operation.name"] == "Create"
    assert client.name == "POST /organizations/{organization_id}/invitations"
    assert client.parent is not None
    assert client.parent.span_id == server.context.span_id
    assert client.context.trace_id == server.context.trace_id
    assert client.attributes is not None
    assert client.attributes["http.response.status_code"] == 200
    assert client.attributes["gateway.connection"] == "default"


async def test_the_upstream_gets_the_client_spans_traceparent(traced: Observed) -> None:
    """W3C trace context goes to the upstream: its parent id is the client span's id."""
    await traced.post(CREATE, traced.org_input("ada@example.com"))
    [client] = [s for s in traced.spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    [sent] = [r for r in traced.sandbox.clerk.requests if r.method == "POST"]
    version, trace_id, parent_id, _flags = sent.headers["traceparent"].split("-")
    assert version == "00"
    assert int(trace_id, 16) == client.context.trace_id
    assert int(parent_id, 16) == client.context.span_id


async def test_an_incoming_traceparent_is_the_parent(traced: Observed) -> None:
    """A caller's trace continues through the gateway."""
    await traced.post(CREATE, traced.org_input("ada@example.com"), traceparent=INCOMING)
    [server] = [s for s in traced.spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert format(server.context.trace_id, "032x") == INCOMING.split("-")[1]
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == INCOMING.split("-")[2]


async def test_failures_are_marked_on_the_spans(traced: Observed) -> None:
    """An upstream 503: the client span has error.type, the server span the request's code."""
    traced.sandbox.clerk.faults.add(status=503, times=1)
    await traced.post(CREATE, traced.org_input("ada@example.com"))
    spans = traced.spans.get_finished_spans()
    [server] = [s for s in spans if s.kind is SpanKind.SERVER]
    [client] = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert client.attributes is not None
    assert client.attributes["error.type"] == "503"
    assert server.attributes is not None
    assert server.attributes["error.type"] == "UPSTREAM_UNAVAILABLE"


async def test_without_otel_variables_nothing_is_traced(untraced: Observed) -> None:
    """No exporter configured: no spans, and no traceparent sent upstream."""
    await untraced.post(CREATE, untraced.org_input("ada@example.com"))
    [sent] = [r for r in untraced.sandbox.clerk.requests if r.method == "POST"]
    assert "traceparent" not in sent.headers
