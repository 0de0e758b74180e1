"""The app around the schema: health, readiness, the playground, masking, the schema file."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from invitation_gateway.app import create_app
from invitation_gateway.domain.errors import ProviderUnavailable
from invitation_gateway.domain.invitations import (
    InvitationRef,
    InvitationTarget,
    Provider,
    TargetKind,
)
from invitation_gateway.providers.auth import BearerAuth
from invitation_gateway.providers.base import ConnectionInfo
from invitation_gateway.providers.connection import Connection
from invitation_gateway.providers.http import UpstreamClient
from invitation_gateway.providers.paths import path
from invitation_gateway.providers.readiness import CACHE_SECONDS, Probe, Readiness
from invitation_gateway.providers.reliability import Reliability, RetryPolicy
from invitation_gateway.providers.routing import HostRoutingTransport
from invitation_gateway.sandbox import Sandbox, create_sandbox_app
from invitation_gateway.schema import global_id, schema_sdl
from invitation_gateway.settings import ClerkSettings
from tests.support.documents import CREATE
from tests.support.gateway import GatewayClient, app_client

ROOT = Path(__file__).resolve().parents[2]
GET = "query($id: ID!) { invitation(id: $id) { status } }"


def clerk_invitation(sandbox: Sandbox) -> dict[str, str]:
    """Variables for GET naming the seeded Clerk organization invitation."""
    target = InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id)
    return {"id": global_id.encode(InvitationRef(target, sandbox.seed.organization_invitation_id))}


def test_schema_file_is_the_code_first_schema() -> None:
    """schema.graphql equals the schema the code builds (regenerate: scripts/export-schema)."""
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == schema_sdl()


async def test_healthz_answers_without_upstreams(gateway: GatewayClient) -> None:
    """/healthz says the process is up."""
    response = await gateway.http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_reports_each_connection(gateway: GatewayClient) -> None:
    """/readyz is 200 `ready` when every upstream answers and every breaker is closed."""
    response = await gateway.http.get("/readyz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "ready"
    assert {
        (c["provider"], c["connection"], c["reachable"], c["circuit"], c["ready"])
        for c in body["connections"]
    } == {
        ("CLERK", "default", True, "CLOSED", True),
        ("CLERK", "staging", True, "CLOSED", True),
        ("CONDUCTORONE", "default", True, "CLOSED", True),
    }


async def test_an_upstream_outage_keeps_the_replica_in_rotation(sandbox: Sandbox) -> None:
    """An unreachable upstream makes its connection not ready; /readyz stays 200 `degraded`."""
    sandbox.clerk.faults.add(status=503, times=5)
    async with app_client(create_sandbox_app(sandbox)) as http:
        response = await http.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    ready = {
        (c["provider"], c["connection"]): (c["reachable"], c["ready"]) for c in body["connections"]
    }
    assert ready == {
        ("CLERK", "default"): (False, False),
        ("CLERK", "staging"): (True, True),  # another instance: its own connection
        ("CONDUCTORONE", "default"): (True, True),
    }


async def test_strict_readyz_is_503_when_a_connection_is_not_ready(sandbox: Sandbox) -> None:
    """`/readyz?strict=true` is 503 `unavailable` naming the connection that is not ready."""
    sandbox.clerk.faults.add(status=503, times=5)
    async with app_client(create_sandbox_app(sandbox)) as http:
        response = await http.get("/readyz", params={"strict": "true"})
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    ready = {(c["provider"], c["connection"]): c["ready"] for c in response.json()["connections"]}
    assert ready[("CLERK", "default")] is False


async def test_a_replica_whose_lifespan_has_not_run_is_not_ready(sandbox: Sandbox) -> None:
    """Without its lifespan (no upstream clients, no stores) a replica answers 503 `starting`."""
    app = create_sandbox_app(sandbox)
    transport = httpx.ASGITransport(app=app)  # no LifespanManager: startup never ran
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        response = await http.get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "starting", "connections": []},
    )


async def test_a_breaker_opened_since_the_last_probe_shows_open_at_once(sandbox: Sandbox) -> None:
    """A breaker opened inside the probe cache window shows OPEN and not ready on the next call."""
    base = sandbox.settings()
    clerk = ClerkSettings(
        api_url=base.clerk.api_url,
        secret_key=base.clerk.secret_key,
        retry_attempts=1,
        breaker_threshold=1,
        breaker_cooldown=600,
    )
    app = create_app(base.model_copy(update={"clerk": clerk}), transport=sandbox.transport())
    async with app_client(app) as http:
        before = (await http.get("/readyz")).json()  # probes now, then caches for 5 s
        sandbox.clerk.faults.add(status=503, method="GET", times=1)
        read = await http.post(
            "/graphql", json={"query": GET, "variables": clerk_invitation(sandbox)}
        )
        after = await http.get("/readyz")
        strict = await http.get("/readyz", params={"strict": "true"})
    assert {c["provider"]: c["circuit"] for c in before["connections"]}["CLERK"] == "CLOSED"
    assert read.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert after.status_code == 200
    assert after.json()["status"] == "degraded"
    circuits = {c["provider"]: (c["circuit"], c["ready"]) for c in after.json()["connections"]}
    assert circuits == {"CLERK": ("OPEN", False), "CONDUCTORONE": ("CLOSED", True)}
    assert strict.status_code == 503


async def test_the_probe_is_cached_but_the_circuit_is_read_on_every_report(
    sandbox: Sandbox,
) -> None:
    """The probe outcome is reused for 5 s; the breaker's state is read afresh on every report."""
    now = [1000.0]
    settings = sandbox.settings().clerk
    assert settings.secret_key is not None
    client = UpstreamClient(
        provider=Provider.CLERK,
        base_url=settings.api_url,
        auth=BearerAuth(settings.secret_key),
        request_id_header="cf-ray",
        transport=sandbox.transport(),
        reliability=Reliability(attempts=1, breaker_threshold=1, breaker_cooldown=600),
    )
    info = ConnectionInfo(
        name="default", provider=Provider.CLERK, kinds=(TargetKind.CLERK_ORGANIZATION,)
    )
    readiness = Readiness(
        [Probe(Connection(info, {}, client), path("/invitations"), {"limit": "1"})],
        clock=lambda: now[0],
    )

    async def clerk() -> tuple[bool, str, bool]:
        [entry] = (await readiness.report()).connections
        return entry.reachable, entry.circuit.value, entry.ready

    try:
        assert await clerk() == (True, "CLOSED", True)
        sandbox.clerk.faults.add(status=503, method="GET", times=1)
        with pytest.raises(ProviderUnavailable):
            await client.send(
                "GET", path("/invitations"), operation="list", retry=RetryPolicy.NEVER
            )
        probes = len(sandbox.clerk.requests)
        now[0] += CACHE_SECONDS - 0.5
        assert await clerk() == (True, "OPEN", False)  # cached probe, live breaker
        now[0] += 0.5
        assert await clerk() == (False, "OPEN", False)  # probed again: failed fast
        assert len(sandbox.clerk.requests) == probes  # neither report reached Clerk
    finally:
        await client.aclose()


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
