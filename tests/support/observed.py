"""A gateway under observation: its HTTP client, its sandbox, and the spans it has finished.

The telemetry tests' fixtures (`tests/telemetry/conftest.py`) build it; the tests use it to send
requests and read back what was traced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from invitation_gateway.sandbox import Sandbox


@dataclass
class Observed:
    """The gateway's HTTP client, its sandbox, and the spans it has finished."""

    http: httpx.AsyncClient
    sandbox: Sandbox
    spans: InMemorySpanExporter

    def org_input(self, email: str) -> dict[str, Any]:
        target = {"kind": "CLERK_ORGANIZATION", "id": self.sandbox.seed.organization_id}
        return {"input": {"target": target, "email": email, "roles": ["org:member"]}}

    async def post(
        self, document: str, variables: dict[str, Any], **headers: str
    ) -> httpx.Response:
        return await self.http.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers
        )
