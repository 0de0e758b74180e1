"""createInvitation and revokeInvitation end to end: GraphQL in, vendor-shaped HTTP out.

Each test sends a GraphQL request over HTTP to the gateway app, observes the request the
emulator received (path, method, headers, JSON body exactly as the vendor's API expects), and
checks the GraphQL response and the emulator's state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from invitation_gateway.domain.invitations import TargetKind
from invitation_gateway.emulators import RecordedRequest
from invitation_gateway.sandbox import CLERK_SECRET_KEY, Sandbox
from invitation_gateway.schema import global_id
from tests.support.documents import CONNECTIONS, CREATE, REVOKE
from tests.support.gateway import GatewayClient


def only_request(requests: list[RecordedRequest]) -> RecordedRequest:
    assert len(requests) == 1, [f"{r.method} {r.path}" for r in requests]
    return requests[0]


async def create(gateway: GatewayClient, **input: Any) -> dict[str, Any]:
    body = await gateway.execute(CREATE, {"input": input})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createInvitation"]
    return payload


async def test_conductorone_create_sends_the_vendor_request(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A C1 create is POST …/local-directory-configs/{dir}/invitations with a camelCase body."""
    directory = sandbox.seed.directory_id
    sandbox.conductorone.requests.clear()
    payload = await create(
        gateway,
        target={"kind": "CONDUCTORONE_DIRECTORY", "id": directory},
        email="grace@example.com",
        displayName="Grace Hopper",
        roles=["role-admin", "role-dev"],
        purpose="Q4 audit",
    )
    assert payload["userErrors"] == []
    # The gateway's first ConductorOne call also fetched its OAuth token (one token request).
    assert sandbox.conductorone.token_requests == 1
    sent = only_request(sandbox.conductorone.api_requests)
    assert sent.method == "POST"
    assert sent.path == f"/api/v1/local-directory-configs/{directory}/invitations"
    scheme, _, token = sent.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    assert token in sandbox.conductorone.oauth.issued  # a token the emulator issued
    assert sent.headers["content-type"] == "application/json"
    assert sent.json == {
        "email": "grace@example.com",
        "displayName": "Grace Hopper",
        "initialRoleIds": ["role-admin", "role-dev"],
        "purpose": "Q4 audit",
    }
    invitation = payload["invitation"]
    assert invitation["provider"] == "CONDUCTORONE"
    assert invitation["status"] == "PENDING"
    assert invitation["roles"] == ["role-admin", "role-dev"]
    assert invitation["target"] == {
        "kind": "CONDUCTORONE_DIRECTORY",
        "id": directory,
        "connection": "default",
    }
    upstream = sandbox.conductorone.invitations[invitation["providerInvitationId"]]
    assert upstream["status"] == "LOCAL_INVITATION_STATUS_PENDING"
    assert datetime.fromisoformat(invitation["createdAt"]).utcoffset() is not None


async def test_conductorone_target_without_id_uses_the_default_directory(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Omitting the directory id uses GATEWAY_CONDUCTORONE__DEFAULT_DIRECTORY, and displayName defaults."""
    sandbox.conductorone.requests.clear()
    payload = await create(
        gateway, target={"kind": "CONDUCTORONE_DIRECTORY"}, email="linus@example.com"
    )
    assert payload["userErrors"] == []
    sent = only_request(sandbox.conductorone.api_requests)
    assert sent.path == f"/api/v1/local-directory-configs/{sandbox.seed.directory_id}/invitations"
    assert sent.json == {"email": "linus@example.com", "displayName": "linus"}


async def test_clerk_application_create_sends_the_vendor_request(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A Clerk app create is POST /v1/invitations with a snake_case body of the given fields."""
    sandbox.clerk.requests.clear()
    payload = await create(
        gateway,
        target={"kind": "CLERK_APPLICATION"},
        email="margaret@example.com",
        redirectUrl="https://app.example.com/welcome",
        expiresInDays=7,
        notify=False,
        publicMetadata={"plan": "pro"},
    )
    assert payload["userErrors"] == []
    sent = only_request(sandbox.clerk.requests)
    assert (sent.method, sent.path) == ("POST", "/v1/invitations")
    assert sent.headers["authorization"] == f"Bearer {CLERK_SECRET_KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert "clerk-api-version" in sent.headers
    assert sent.json == {
        "email_address": "margaret@example.com",
        "redirect_url": "https://app.example.com/welcome",
        "expires_in_days": 7,
        "notify": False,
        "public_metadata": {"plan": "pro"},
    }
    invitation = payload["invitation"]
    assert invitation["provider"] == "CLERK"
    assert invitation["status"] == "PENDING"
    assert invitation["roles"] == []
    assert invitation["target"] == {
        "kind": "CLERK_APPLICATION",
        "id": None,
        "connection": "default",
    }
    assert sandbox.clerk.invitations[invitation["providerInvitationId"]]["status"] == "pending"


async def test_clerk_organization_create_maps_roles_to_role(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A Clerk org create sends `role` from the one-element `roles`, and reads it back as a list."""
    org = sandbox.seed.organization_id
    sandbox.clerk.requests.clear()
    payload = await create(
        gateway,
        target={"kind": "CLERK_ORGANIZATION", "id": org},
        email="katherine@example.com",
        roles=["org:admin"],
    )
    assert payload["userErrors"] == []
    sent = only_request(sandbox.clerk.requests)
    assert (sent.method, sent.path) == ("POST", f"/v1/organizations/{org}/invitations")
    assert sent.json == {"email_address": "katherine@example.com", "role": "org:admin"}
    assert payload["invitation"]["roles"] == ["org:admin"]
    assert (
        sandbox.clerk.organization_invitations[payload["invitation"]["providerInvitationId"]][
            "role"
        ]
        == "org:admin"
    )


CASES = {
    TargetKind.CONDUCTORONE_DIRECTORY: lambda s: {
        "target": {"kind": "CONDUCTORONE_DIRECTORY", "id": s.seed.directory_id}
    },
    TargetKind.CLERK_APPLICATION: lambda s: {"target": {"kind": "CLERK_APPLICATION"}},
    TargetKind.CLERK_ORGANIZATION: lambda s: {
        "target": {"kind": "CLERK_ORGANIZATION", "id": s.seed.organization_id},
        "roles": ["org:member"],
    },
}


def revoke_path(kind: TargetKind, sandbox: Sandbox, upstream_id: str) -> tuple[str, Any]:
    """The vendor's revoke path and JSON body for each target kind."""
    if kind is TargetKind.CONDUCTORONE_DIRECTORY:
        return (
            f"/api/v1/local-directory-configs/{sandbox.seed.directory_id}/invitations/{upstream_id}/revoke",
            {},
        )
    if kind is TargetKind.CLERK_APPLICATION:
        return f"/v1/invitations/{upstream_id}/revoke", None
    return f"/v1/organizations/{sandbox.seed.organization_id}/invitations/{upstream_id}/revoke", {}


def emulator_requests(kind: TargetKind, sandbox: Sandbox) -> list[RecordedRequest]:
    return (
        sandbox.conductorone.requests
        if kind is TargetKind.CONDUCTORONE_DIRECTORY
        else sandbox.clerk.requests
    )


@pytest.mark.parametrize("kind", list(TargetKind), ids=lambda k: k.value.lower())
async def test_revoke_by_global_id_alone(
    gateway: GatewayClient, sandbox: Sandbox, kind: TargetKind
) -> None:
    """Revoke needs only the global id: it reaches the right upstream path, and says REVOKED."""
    created = await create(gateway, email="revokee@example.com", **CASES[kind](sandbox))
    invitation = created["invitation"]
    emulator_requests(kind, sandbox).clear()
    body = await gateway.execute(REVOKE, {"input": {"id": invitation["id"]}})
    payload = body["data"]["revokeInvitation"]
    assert payload["userErrors"] == []
    assert payload["invitation"]["status"] == "REVOKED"
    assert payload["invitation"]["id"] == invitation["id"]
    sent = only_request(emulator_requests(kind, sandbox))
    expected_path, expected_body = revoke_path(kind, sandbox, invitation["providerInvitationId"])
    assert (sent.method, sent.path, sent.json) == ("POST", expected_path, expected_body)


@pytest.mark.parametrize("kind", list(TargetKind), ids=lambda k: k.value.lower())
async def test_revoking_twice_is_a_not_revocable_user_error(
    gateway: GatewayClient, sandbox: Sandbox, kind: TargetKind
) -> None:
    """The second revoke is NOT_REVOCABLE with the invitation as it stands (REVOKED)."""
    created = await create(gateway, email="twice@example.com", **CASES[kind](sandbox))
    variables = {"input": {"id": created["invitation"]["id"]}}
    await gateway.execute(REVOKE, variables)
    payload = (await gateway.execute(REVOKE, variables))["data"]["revokeInvitation"]
    assert payload["invitation"] is None
    [error] = payload["userErrors"]
    assert error["__typename"] == "NotRevocableError"
    assert error["code"] == "NOT_REVOCABLE"
    assert error["invitation"]["status"] == "REVOKED"


@pytest.mark.parametrize("kind", list(TargetKind), ids=lambda k: k.value.lower())
async def test_duplicate_email_is_already_exists(
    gateway: GatewayClient, sandbox: Sandbox, kind: TargetKind
) -> None:
    """Inviting the same email twice into one target is an ALREADY_EXISTS user error on email."""
    await create(gateway, email="dup@example.com", **CASES[kind](sandbox))
    payload = await create(gateway, email="dup@example.com", **CASES[kind](sandbox))
    assert payload["invitation"] is None
    [error] = payload["userErrors"]
    assert (error["__typename"], error["code"], error["field"]) == (
        "ConflictError",
        "ALREADY_EXISTS",
        ["input", "email"],
    )


async def test_clerk_existing_user_is_already_exists(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Clerk's 422 form_identifier_exists (the email is a user already) is ALREADY_EXISTS."""
    [email] = sorted(sandbox.clerk.users)[:1]
    payload = await create(gateway, email=email, target={"kind": "CLERK_APPLICATION"})
    assert [e["code"] for e in payload["userErrors"]] == ["ALREADY_EXISTS"]


async def test_unknown_invitation_is_not_found(gateway: GatewayClient, sandbox: Sandbox) -> None:
    """A well-formed id of an invitation the upstream does not have is NOT_FOUND."""
    from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget

    ref = InvitationRef(
        InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id),
        "orginv_doesnotexist",
    )
    payload = (await gateway.execute(REVOKE, {"input": {"id": global_id.encode(ref)}}))["data"][
        "revokeInvitation"
    ]
    assert [(e["__typename"], e["code"]) for e in payload["userErrors"]] == [
        ("NotFoundError", "NOT_FOUND")
    ]


@pytest.mark.parametrize("kind", list(TargetKind), ids=lambda k: k.value.lower())
async def test_upstream_5xx_is_a_top_level_unavailable_error(
    gateway: GatewayClient, sandbox: Sandbox, kind: TargetKind
) -> None:
    """An upstream 503 is a top-level UPSTREAM_UNAVAILABLE with the provider; no body leaks."""
    emulator = sandbox.conductorone if kind is TargetKind.CONDUCTORONE_DIRECTORY else sandbox.clerk
    # On the invitations path: ConductorOne's first request is the OAuth token request.
    emulator.faults.add(
        status=503,
        body=b"<html>upstream secret stack trace</html>",
        path_contains="invitations",
        times=1,
    )
    body = await gateway.execute(
        CREATE, {"input": {"email": "x@example.com", **CASES[kind](sandbox)}}
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": kind.provider.value}
    assert "secret" not in str(body)


async def test_rate_limit_is_a_top_level_error_with_retry_after(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A Clerk 429 with Retry-After is RATE_LIMITED with extensions.retryAfter in seconds."""
    sandbox.clerk.faults.add(status=429, headers={"Retry-After": "42"}, times=1)
    body = await gateway.execute(
        CREATE, {"input": {"email": "x@example.com", "target": {"kind": "CLERK_APPLICATION"}}}
    )
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "provider": "CLERK", "retryAfter": 42}


async def test_connections_query_lists_what_is_configured(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """The connections query shows every connection (the sandbox has two Clerk instances)."""
    body = await gateway.execute(CONNECTIONS)
    connections = body["data"]["connections"]
    assert sorted(connections, key=lambda c: (c["provider"], c["name"])) == [
        {
            "name": "default",
            "provider": "CLERK",
            "targetKinds": ["CLERK_APPLICATION", "CLERK_ORGANIZATION"],
            "defaultTargetId": None,
        },
        {
            "name": "staging",
            "provider": "CLERK",
            "targetKinds": ["CLERK_APPLICATION", "CLERK_ORGANIZATION"],
            "defaultTargetId": None,
        },
        {
            "name": "default",
            "provider": "CONDUCTORONE",
            "targetKinds": ["CONDUCTORONE_DIRECTORY"],
            "defaultTargetId": sandbox.seed.directory_id,
        },
    ]
