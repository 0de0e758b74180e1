"""Shared fixtures: the sandbox (emulators + seed) and an HTTP client for the gateway on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp

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


@asynccontextmanager
async def app_client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `app`, with its lifespan (upstream clients, stores) running."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox.create()


@pytest.fixture
async def gateway(sandbox: Sandbox) -> AsyncIterator[GatewayClient]:
    app = create_sandbox_app(sandbox)
    async with app_client(app) as http:
        yield GatewayClient(http, app.state.examples)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis server's URL; skips (or under CI fails) when it is not reachable."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {url} ({exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the Redis tests must run", pytrace=False)
        pytest.skip(reason)
    return url
