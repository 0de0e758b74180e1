"""The app around the schema: health, readiness, the playground, masking, the schema file."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from conftest import GatewayClient, app_client
from documents import CREATE
from invitation_gateway.providers.routing import HostRoutingTransport
from invitation_gateway.sandbox import Sandbox, create_sandbox_app
from invitation_gateway.schema import schema_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_is_the_code_first_schema() -> None:
    """schema.graphql equals the schema the code builds (regenerate: scripts/export-schema)."""
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == schema_sdl()


async def test_healthz_answers_without_upstreams(gateway: GatewayClient) -> None:
    """/healthz says the process is up."""
    response = await gateway.http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_reports_each_connection(gateway: GatewayClient) -> None:
    """/readyz is 200 when every upstream answers, listing each connection."""
    response = await gateway.http.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {(c["provider"], c["reachable"]) for c in body["connections"]} == {
        ("CLERK", True),
        ("CONDUCTORONE", True),
    }


async def test_readyz_is_503_when_an_upstream_is_down(sandbox: Sandbox) -> None:
    """/readyz is 503 and names the unreachable connection when an upstream fails."""
    sandbox.clerk.faults.add(status=503, times=5)
    app = create_sandbox_app(sandbox)
    async with app_client(app) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    reachable = {c["provider"]: c["reachable"] for c in response.json()["connections"]}
    assert reachable == {"CLERK": False, "CONDUCTORONE": True}


async def test_playground_is_served_from_the_gateway_itself(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """GET /graphql in a browser gives GraphiQL whose every asset is local and served, with examples."""
    response = await gateway.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    page = response.text
    assert "Content-Security-Policy" in response.headers
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), asset
        assert (await gateway.http.get(asset)).status_code == 200, asset
    assert not re.search(r"https?://(?!app\.example\.com)", page.split("<script", 1)[0])
    assert "createInvitation" in page
    assert sandbox.seed.organization_id in page


class _ExplodingTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom: sk_test_sandbox leaked in a bug")


async def test_unexpected_errors_are_masked_as_internal(sandbox: Sandbox) -> None:
    """A bug (an exception nobody expected) shows as INTERNAL with no detail, never a 500."""
    app = create_sandbox_app(sandbox)
    # Replace the transport underneath with one that fails in a way no adapter expects.
    from invitation_gateway.app import create_app

    broken = create_app(
        sandbox.settings(), transport=HostRoutingTransport({"clerk.sandbox": _ExplodingTransport()})
    )
    del app
    async with app_client(broken) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": CREATE,
                "variables": {
                    "input": {"email": "a@example.com", "target": {"kind": "CLERK_APPLICATION"}}
                },
            },
        )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL"}
    assert "sk_test" not in response.text
    assert "boom" not in response.text
