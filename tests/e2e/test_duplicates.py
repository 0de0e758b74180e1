"""A create for an email that already has a pending invitation, however the upstream answers it.

Clerk re-uses a pending organization invitation and re-sends its email (200, clerk-notes.md
§3.1), or, in a race, refuses it (400 `organization_invitation_not_unique`). ConductorOne's
answer is undocumented (409, 400 or 200 with the existing invitation). The caller sees one
answer for all of them: ALREADY_EXISTS with the existing invitation.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import httpx
import pytest

from invitation_gateway.app import create_app
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient, app_client

BULK = """mutation($input: CreateInvitationsInput!) { createInvitations(input: $input) {
  results { index invitation { id providerInvitationId } userErrors { code message
    ... on ConflictError { existing { providerInvitationId status } } } } } }"""
GET = "query($id: ID!) { invitation(id: $id) { id status } }"
LIST = """query($targets: [InvitationTargetInput!]!) {
  invitations(targets: $targets) { edges { node { providerInvitationId email } } } }"""


def org_input(sandbox: Sandbox, email: str) -> dict[str, Any]:
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    return {"target": target, "email": email, "roles": ["org:member"]}


def directory_input(sandbox: Sandbox, email: str) -> dict[str, Any]:
    return {
        "target": {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id},
        "email": email,
    }


async def create(gateway: GatewayClient, input: dict[str, Any]) -> dict[str, Any]:
    body = await gateway.execute(CREATE, {"input": input})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createInvitation"]
    return payload


@pytest.mark.parametrize("behaviour", ["resend", "reject"])
async def test_a_duplicate_clerk_organization_invitation_is_already_exists(
    gateway: GatewayClient, sandbox: Sandbox, behaviour: Literal["resend", "reject"]
) -> None:
    """Re-used (200) or refused (400), a duplicate is ALREADY_EXISTS with the existing invitation."""
    sandbox.clerk.duplicate_organization_invitation = behaviour
    first = await create(gateway, org_input(sandbox, "twice@example.com"))
    second = await create(gateway, org_input(sandbox, "twice@example.com"))
    [error] = second["userErrors"]
    assert second["invitation"] is None
    assert error["code"] == "ALREADY_EXISTS"
    assert error["existing"]["id"] == first["invitation"]["id"]
    assert ("sent its email again" in error["message"]) == (behaviour == "resend")
    organization = sandbox.seed.organization_id
    pending = [
        i
        for i in sandbox.clerk.organization_invitations.values()
        if i["email_address"] == "twice@example.com" and i["organization_id"] == organization
    ]
    assert len(pending) == 1


async def test_a_re_used_invitation_the_gateway_never_saw_is_told_by_its_age(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Clerk hands back the seeded invitation (a day old, never seen here): ALREADY_EXISTS."""
    sandbox.clerk.duplicate_organization_invitation = "resend"
    payload = await create(gateway, org_input(sandbox, "linus.torvalds@example.com"))
    [error] = payload["userErrors"]
    assert error["code"] == "ALREADY_EXISTS"
    seed = sandbox.seed
    seeded = InvitationRef(
        InvitationTarget(TargetKind.CLERK_ORGANIZATION, seed.organization_id),
        seed.organization_invitation_id,
    )
    assert error["existing"] == {"id": global_id.encode(seeded), "status": "PENDING"}


class HeldCreateAnswer(httpx.AsyncBaseTransport):
    """Passes every request on, but holds the answer to one organization create until released.

    The emulator has created the invitation when its answer is held: a slow answer on the wire.
    (The emulators' `delay` fault waits before the handler runs, so it cannot produce this.)
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.created = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        is_create = request.method == "POST" and request.url.path.endswith("/invitations")
        if is_create and "/organizations/" in request.url.path and not self.created.is_set():
            self.created.set()
            await self.release.wait()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_list_while_a_create_awaits_its_answer_does_not_make_it_a_duplicate(
    sandbox: Sandbox,
) -> None:
    """A list that sees the new invitation before its create's answer arrives: still created."""
    sandbox.clerk.duplicate_organization_invitation = "resend"
    held = HeldCreateAnswer(sandbox.transport())
    async with app_client(create_app(sandbox.settings(), transport=held)) as http:
        gateway = GatewayClient(http)
        creating = asyncio.create_task(create(gateway, org_input(sandbox, "race@example.com")))
        await asyncio.wait_for(held.created.wait(), timeout=5)
        target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
        listed = await gateway.execute(LIST, {"targets": [target]})
        emails = [e["node"]["email"] for e in listed["data"]["invitations"]["edges"]]
        assert "race@example.com" in emails  # the list saw the new invitation first
        held.release.set()
        payload = await asyncio.wait_for(creating, timeout=5)
    assert payload["userErrors"] == []
    assert payload["invitation"]["email"] == "race@example.com"


async def test_a_bulk_item_clerk_re_used_is_already_exists_and_the_others_are_created(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """In one organization bulk create, only the re-used item is ALREADY_EXISTS."""
    sandbox.clerk.duplicate_organization_invitation = "resend"
    await create(gateway, org_input(sandbox, "dup@example.com"))
    items = [org_input(sandbox, email) for email in ("new-1@example.com", "dup@example.com")]
    body = await gateway.execute(BULK, {"input": {"invitations": items}})
    first, second = body["data"]["createInvitations"]["results"]
    assert first["userErrors"] == []
    assert first["invitation"] is not None
    assert [e["code"] for e in second["userErrors"]] == ["ALREADY_EXISTS"]
    assert second["userErrors"][0]["existing"]["status"] == "PENDING"


@pytest.mark.parametrize("behaviour", ["conflict", "bad_request", "existing"])
async def test_a_duplicate_conductorone_invitation_is_already_exists(
    gateway: GatewayClient,
    sandbox: Sandbox,
    behaviour: Literal["conflict", "bad_request", "existing"],
) -> None:
    """409, 400 or 200 with the existing invitation: ALREADY_EXISTS with it, and no second one."""
    sandbox.conductorone.duplicate_invitation = behaviour
    first = await create(gateway, directory_input(sandbox, "c1-twice@example.com"))
    second = await create(gateway, directory_input(sandbox, "c1-twice@example.com"))
    [error] = second["userErrors"]
    assert error["code"] == "ALREADY_EXISTS"
    assert error["existing"]["id"] == first["invitation"]["id"]
    stored = [
        i for i in sandbox.conductorone.invitations.values() if i["email"] == "c1-twice@example.com"
    ]
    assert len(stored) == 1


async def test_a_conductorone_bad_request_without_a_pending_invitation_is_not_a_duplicate(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A create 400 with no pending invitation for the email stays UPSTREAM_REJECTED."""
    sandbox.conductorone.faults.add(status=400, method="POST", path_contains="/invitations")
    payload = await create(gateway, directory_input(sandbox, "fresh-400@example.com"))
    assert [e["code"] for e in payload["userErrors"]] == ["UPSTREAM_REJECTED"]


async def test_a_conductorone_answer_naming_no_invitation_is_read_back(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Create, revoke and get answered `{"invitation": null}`: read back, never "unreadable"."""
    c1 = sandbox.conductorone
    null: dict[str, Any] = {"status": 200, "body": '{"invitation": null}', "after": True}
    c1.faults.add(method="POST", path_contains="/invitations", **null)
    created = await create(gateway, directory_input(sandbox, "null@example.com"))
    assert created["userErrors"] == []
    assert created["invitation"]["email"] == "null@example.com"
    invitation_id = created["invitation"]["id"]

    c1.faults.add(method="POST", path_contains="/revoke", **null)
    body = await gateway.execute(REVOKE, {"input": {"id": invitation_id}})
    assert body["data"]["revokeInvitation"]["invitation"]["status"] == "REVOKED"

    c1.faults.add(method="GET", path_contains="/invitations/", **null)
    body = await gateway.execute(GET, {"id": invitation_id})
    assert body == {"data": {"invitation": None}}


async def test_a_conductorone_revoke_naming_no_invitation_that_did_nothing_is_unavailable(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A 200 without an invitation while the invitation is still pending is not a success."""
    seed = sandbox.seed
    ref = InvitationRef(
        InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, seed.directory_id),
        seed.directory_invitation_id,
    )
    sandbox.conductorone.faults.add(
        status=200, body='{"invitation": null}', method="POST", path_contains="/revoke"
    )
    body = await gateway.execute(REVOKE, {"input": {"id": global_id.encode(ref)}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
