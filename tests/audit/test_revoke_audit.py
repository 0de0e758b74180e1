"""Revoke records, and attempts whose outcome is unknown.

A revoke's record names its invitation (global id) from the moment it is `started`, gets the
invitation's email once the upstream's answer names it, and records the revoke call's request
id; a revoke whose id is malformed is recorded too. A mutation cancelled while its upstream
call is in flight leaves its record `started`: the upstream may have acted.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from tests.support.audit import AuditBackend, stored_records
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient
from tests.support.upstream_tap import UpstreamTap


def pending_org_invitation(sandbox: Sandbox) -> str:
    """The global id of the seeded pending invitation in the sandbox's organization."""
    target = InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id)
    return global_id.encode(InvitationRef(target, sandbox.seed.organization_invitation_id))


def seeded_email(sandbox: Sandbox) -> str:
    invitations = sandbox.clerk.organization_invitations
    email: str = invitations[sandbox.seed.organization_invitation_id]["email_address"]
    return email


def summary(record: dict[str, Any]) -> tuple[object, ...]:
    return (
        record["action"],
        record["email"],
        record["outcome"],
        record["invitationId"],
        record["upstreamRequestId"],
    )


async def test_a_revoke_names_its_invitation_while_started_and_its_email_once_answered(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend, tap: UpstreamTap
) -> None:
    """While Clerk holds the revoke the record is `started` with the invitation's global id;
    completed, it has the email from Clerk's answer and the revoke call's request id."""
    invitation_id = pending_org_invitation(sandbox)
    gate = tap.hold("POST", "/revoke")
    call = asyncio.create_task(audited.execute(REVOKE, {"input": {"id": invitation_id}}))
    await asyncio.wait_for(gate.reached.wait(), timeout=10)
    [started] = await stored_records(audit_backend)
    assert summary(started) == ("revoke", None, "started", invitation_id, None)

    gate.release.set()
    body = await call
    assert body["data"]["revokeInvitation"]["invitation"]["status"] == "REVOKED"
    [done] = await stored_records(audit_backend)
    [revoke] = [e for e in tap.exchanges if e.path.endswith("/revoke")]
    assert summary(done) == (
        "revoke",
        seeded_email(sandbox),
        "ok",
        invitation_id,
        revoke.request_id,
    )
    assert revoke.request_id is not None
    assert done["target"] == {
        "kind": "CLERK_ORGANIZATION",
        "id": sandbox.seed.organization_id,
        "connection": "default",
    }


async def test_a_not_revocable_answer_gives_the_record_the_email_and_the_revoke_calls_id(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend, tap: UpstreamTap
) -> None:
    """Revoking an accepted invitation: NOT_REVOCABLE, with the email of the invitation the
    gateway read to tell "not pending" from "unknown", and the revoke call's id, not the read's."""
    accepted = sandbox.clerk.add_organization_invitation(
        sandbox.seed.organization_id, "accepted@example.com", status="accepted"
    )
    target = InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id)
    invitation_id = global_id.encode(InvitationRef(target, accepted["id"]))
    body = await audited.execute(REVOKE, {"input": {"id": invitation_id}})
    [error] = body["data"]["revokeInvitation"]["userErrors"]
    assert error["code"] == "NOT_REVOCABLE"

    revoke, read = tap.exchanges[-2:]
    assert (revoke.method, read.method) == ("POST", "GET")
    [record] = await stored_records(audit_backend)
    assert summary(record) == (
        "revoke",
        "accepted@example.com",
        "NOT_REVOCABLE",
        invitation_id,
        revoke.request_id,
    )


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ("not-an-invitation-id", "not-an-invitation-id"),
        ("x" * 2_000, "x" * 512),  # capped: far longer than any id the gateway issues
        ("nul\x00id\ud800", "nulid\\ud800"),  # no store holds NUL or a lone surrogate
    ],
)
async def test_a_malformed_revoke_id_is_recorded_as_given_with_no_target(
    audited: GatewayClient, audit_backend: AuditBackend, given: str, recorded: str
) -> None:
    """A revoke whose id the gateway never issued is INVALID_INPUT, recorded with the id as
    given (escaped, capped) and an unknown target; nothing is sent upstream."""
    response = await audited.http.post(
        "/graphql",
        # ensure_ascii: the surrogate travels as \\ud800, as a browser would send it
        content=json.dumps({"query": REVOKE, "variables": {"input": {"id": given}}}).encode(),
        headers={"content-type": "application/json"},
    )
    [error] = response.json()["data"]["revokeInvitation"]["userErrors"]
    assert error["code"] == "INVALID_INPUT"
    [record] = await stored_records(audit_backend)
    assert summary(record) == ("revoke", None, "INVALID_INPUT", recorded, None)
    assert record["target"] == {"kind": None, "id": None, "connection": None}


async def test_a_mutation_cancelled_mid_call_leaves_its_record_started(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend, tap: UpstreamTap
) -> None:
    """A create and a revoke cancelled while Clerk holds them (the client went away, the server
    stopped) leave `started` records: Clerk may have acted, so no outcome is claimed."""
    gates = [tap.hold("POST", "/revoke"), tap.hold("POST", "/invitations")]
    invitation_id = pending_org_invitation(sandbox)
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    create = {"target": target, "email": "gone@example.com", "roles": ["org:member"]}
    calls = [
        asyncio.create_task(audited.execute(REVOKE, {"input": {"id": invitation_id}})),
        asyncio.create_task(audited.execute(CREATE, {"input": create})),
    ]
    for gate in gates:
        await asyncio.wait_for(gate.reached.wait(), timeout=10)
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)

    records = sorted(await stored_records(audit_backend), key=lambda r: r["action"])
    assert [summary(r) for r in records] == [
        ("create", "gone@example.com", "started", None, None),
        ("revoke", None, "started", invitation_id, None),
    ]
