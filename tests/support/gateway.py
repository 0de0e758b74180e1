"""The gateway as a frontend sees it: an HTTP client on the app, and GraphQL over it.

`app_client(app)` runs the app's lifespan (upstream clients, stores) and talks to it in
process through `httpx.ASGITransport`; `GatewayClient` posts GraphQL documents on that client.
The `gateway` fixture in `tests/conftest.py` gives both on the sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp

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


@asynccontextmanager
async def app_client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `app`, with its lifespan (upstream clients, stores) running."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http
