"""The per-connection circuit breaker: open after repeated outages, fail fast, probe, close."""

from __future__ import annotations

import asyncio

from invitation_gateway.app import create_app
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from invitation_gateway.settings import ClerkSettings
from tests.support.gateway import app_client

GET = "query($id: ID!) { invitation(id: $id) { status } }"
CONNECTIONS = "{ connections { provider circuit } }"


async def test_breaker_opens_fails_fast_reports_and_recovers() -> None:
    """3 outages open Clerk's breaker: calls fail fast with no upstream request, it shows in
    the connections query and /readyz, and after the cool-down a probe closes it again."""
    sandbox = Sandbox.create()
    base = sandbox.settings()
    fast = {
        "retry_attempts": 3,
        "retry_max_wait": 0.01,
        "breaker_threshold": 3,
        "breaker_cooldown": 0.5,
    }
    clerk = ClerkSettings(api_url=base.clerk.api_url, secret_key=base.clerk.secret_key, **fast)
    settings = base.model_copy(update={"clerk": clerk})
    invitation = global_id.encode(
        InvitationRef(
            InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id),
            sandbox.seed.organization_invitation_id,
        )
    )
    sandbox.clerk.faults.add(status=503, method="GET", times=100)
    app = create_app(settings, transport=sandbox.transport())
    async with app_client(app) as http:

        async def query(document: str, **variables: str) -> dict[str, object]:
            response = await http.post("/graphql", json={"query": document, "variables": variables})
            body: dict[str, object] = response.json()
            return body

        async def circuits() -> dict[str, str]:
            body = await query(CONNECTIONS)
            return {c["provider"]: c["circuit"] for c in body["data"]["connections"]}  # type: ignore[index]

        assert (await circuits())["CLERK"] == "CLOSED"
        failed = await query(GET, id=invitation)
        assert failed["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"  # type: ignore[index]
        assert len(sandbox.clerk.requests) == 3
        assert await circuits() == {"CLERK": "OPEN", "CONDUCTORONE": "CLOSED"}

        fast_fail = await query(GET, id=invitation)
        assert fast_fail["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"  # type: ignore[index]
        assert len(sandbox.clerk.requests) == 3  # failed fast: the upstream saw nothing
        ready = await http.get("/readyz", params={"strict": "true"})
        assert ready.status_code == 503
        assert {c["provider"]: c["circuit"] for c in ready.json()["connections"]}["CLERK"] == "OPEN"

        sandbox.clerk.faults.clear()
        await asyncio.sleep(0.6)
        assert (await circuits())["CLERK"] == "HALF_OPEN"
        recovered = await query(GET, id=invitation)
        assert recovered == {"data": {"invitation": {"status": "PENDING"}}}
        assert (await circuits())["CLERK"] == "CLOSED"


async def test_rate_limits_and_client_errors_do_not_open_the_breaker() -> None:
    """429s and 4xx answers are the upstream working as designed: the breaker stays closed."""
    sandbox = Sandbox.create()
    base = sandbox.settings()
    strict = {"retry_attempts": 1, "breaker_threshold": 2, "max_retry_after": 0}
    settings = base.model_copy(
        update={
            "clerk": ClerkSettings(
                api_url=base.clerk.api_url, secret_key=base.clerk.secret_key, **strict
            )
        }
    )
    sandbox.clerk.faults.add(status=429, headers={"Retry-After": "60"}, times=5)
    app = create_app(settings, transport=sandbox.transport())
    async with app_client(app) as http:
        for _ in range(4):
            unknown = global_id.encode(
                InvitationRef(
                    InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id),
                    "orginv_missing",
                )
            )
            await http.post("/graphql", json={"query": GET, "variables": {"id": unknown}})
        body = (await http.post("/graphql", json={"query": CONNECTIONS})).json()
    assert {c["provider"]: c["circuit"] for c in body["data"]["connections"]}["CLERK"] == "CLOSED"


def _clerk_with(sandbox: Sandbox, **policy: object) -> object:
    base = sandbox.settings()
    clerk = ClerkSettings(api_url=base.clerk.api_url, secret_key=base.clerk.secret_key, **policy)
    return base.model_copy(update={"clerk": clerk})


async def test_budget_timeouts_count_as_outages() -> None:
    """Calls that run out of their total budget (a slow upstream) open the breaker too."""
    sandbox = Sandbox.create()
    settings = _clerk_with(
        sandbox, total_timeout=0.2, read_timeout=5, retry_attempts=1, breaker_threshold=2
    )
    sandbox.clerk.latency = 0.5
    ref = InvitationRef(
        InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id),
        sandbox.seed.organization_invitation_id,
    )
    app = create_app(settings, transport=sandbox.transport())  # type: ignore[arg-type]
    async with app_client(app) as http:
        for _ in range(2):
            body = (
                await http.post(
                    "/graphql", json={"query": GET, "variables": {"id": global_id.encode(ref)}}
                )
            ).json()
            assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
        circuits = (await http.post("/graphql", json={"query": CONNECTIONS})).json()
    assert {c["provider"]: c["circuit"] for c in circuits["data"]["connections"]}["CLERK"] == "OPEN"


async def test_half_open_lets_exactly_one_probe_through() -> None:
    """After the cool-down, of five concurrent calls one probes the upstream; four fail fast."""
    sandbox = Sandbox.create()
    settings = _clerk_with(sandbox, retry_attempts=1, breaker_threshold=1, breaker_cooldown=0.3)
    ref = InvitationRef(
        InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id),
        sandbox.seed.organization_invitation_id,
    )
    variables = {"id": global_id.encode(ref)}
    sandbox.clerk.faults.add(status=503, method="GET", times=1)
    app = create_app(settings, transport=sandbox.transport())  # type: ignore[arg-type]
    async with app_client(app) as http:
        await http.post("/graphql", json={"query": GET, "variables": variables})  # opens it
        await asyncio.sleep(0.35)
        sandbox.clerk.requests.clear()
        sandbox.clerk.latency = 0.1  # keep the probe in flight while the others arrive
        bodies = [
            r.json()
            for r in await asyncio.gather(
                *(
                    http.post("/graphql", json={"query": GET, "variables": variables})
                    for _ in range(5)
                )
            )
        ]
    assert len(sandbox.clerk.requests) == 1
    assert sum(1 for b in bodies if b.get("data", {}).get("invitation")) == 1
    assert sum(1 for b in bodies if "errors" in b) == 4
