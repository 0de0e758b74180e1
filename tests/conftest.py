"""Shared fixtures: the sandbox (emulators + seed) and an HTTP client for the gateway on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from invitation_gateway.sandbox import Sandbox, create_sandbox_app
from invitation_gateway.web.playground import ExampleOperation


class GatewayClient:
    """Talks GraphQL over HTTP to the gateway app, as a frontend's client would."""

    def __init__(self, http: httpx.AsyncClient, examples: Sequence[ExampleOperation] = ()) -> None:
        self.http = http
        self.examples = examples  # what GraphiQL opens with on this app

    async def execute(
        self, document: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": document, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox.create()


@pytest.fixture
async def gateway(sandbox: Sandbox) -> AsyncIterator[GatewayClient]:
    app = create_sandbox_app(sandbox)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield GatewayClient(http, app.state.examples)
