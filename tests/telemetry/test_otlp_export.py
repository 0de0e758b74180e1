"""Traces reach a real OTLP/HTTP endpoint when `OTEL_EXPORTER_OTLP_ENDPOINT` names one."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from invitation_gateway.app import create_app
from invitation_gateway.sandbox import Sandbox
from tests.support.documents import CREATE
from tests.support.gateway import app_client
from tests.support.servers import serve


class Collector:
    """A minimal OTLP/HTTP trace receiver: keeps what it is sent."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str]] = []  # (service.name, span name)
        self.content_types: set[str] = set()
        self.app = Starlette(routes=[Route("/v1/traces", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        self.content_types.add(request.headers["content-type"])
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.body())
        for resource_spans in export.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append((attributes["service.name"], span.name))
        return Response(
            ExportTraceServiceRequest().SerializeToString(), media_type="application/x-protobuf"
        )


async def test_spans_are_exported_over_otlp_http(sandbox: Sandbox) -> None:
    """One create: its server and client spans arrive at the collector when the app stops."""
    collector = Collector()
    with serve(collector.app) as url:
        app = create_app(
            sandbox.settings(),
            transport=sandbox.transport(),
            environ={"OTEL_EXPORTER_OTLP_ENDPOINT": url},
        )
        target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
        async with app_client(app) as http:
            variables = {
                "input": {"target": target, "email": "ada@example.com", "roles": ["org:member"]}
            }
            await http.post("/graphql", json={"query": CREATE, "variables": variables})
        # The lifespan's end flushed the batch processor.
    assert sorted(collector.spans) == [
        ("invitation-gateway", "POST /organizations/{organization_id}/invitations"),
        ("invitation-gateway", "mutation createInvitation"),
    ]
    assert collector.content_types == {"application/x-protobuf"}
