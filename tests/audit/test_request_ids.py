"""Each audit record names the request id of the upstream call that carried its attempt.

Clerk's ids are the `cf-ray` headers the tap stamps (as Cloudflare does in front of Clerk);
ConductorOne's emulator sends its own `request-id`. A bulk create's items each get their own
call's id: a Clerk chunk's (10 items a call), their own call's when created one by one, and
a ConductorOne item's own create; a read made on the side (a duplicate's lookup) never counts.
"""

from __future__ import annotations

from typing import Any

from invitation_gateway.sandbox import Sandbox
from tests.support.audit import AuditBackend, stored_records
from tests.support.documents import CREATE
from tests.support.gateway import GatewayClient
from tests.support.upstream_tap import UpstreamTap

BULK = """mutation($input: CreateInvitationsInput!) { createInvitations(input: $input) {
  results { index invitation { id } userErrors { code } } } }"""


def org(sandbox: Sandbox, email: str) -> dict[str, Any]:
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    return {"target": target, "email": email, "roles": ["org:member"]}


def directory(sandbox: Sandbox, email: str) -> dict[str, Any]:
    return {
        "target": {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id},
        "email": email,
    }


def application(email: str) -> dict[str, Any]:
    return {"target": {"kind": "CLERK_APPLICATION"}, "email": email}


async def request_ids(backend: AuditBackend) -> dict[str, str | None]:
    """Each create record's upstream request id, by email (the emails are unique here)."""
    found = await stored_records(backend)
    assert all(r["outcome"] != "started" for r in found)
    return {r["email"]: r["upstreamRequestId"] for r in found if r["action"] == "create"}


def carried(tap: UpstreamTap, email: str) -> list[str | None]:
    """The request ids of the create calls whose body held `email`, in the order sent."""
    return [exchange.request_id for exchange in tap.creates_carrying(email)]


async def test_single_creates_record_their_own_calls_request_id(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend, tap: UpstreamTap
) -> None:
    """A Clerk and a ConductorOne create each record their call's id; a duplicate records its
    refused create's id, not that of the lookup the gateway made after it."""
    await audited.execute(CREATE, {"input": org(sandbox, "clerk@example.com")})
    await audited.execute(CREATE, {"input": directory(sandbox, "c1@example.com")})
    sandbox.clerk.add_invitation("taken@example.com")
    body = await audited.execute(CREATE, {"input": application("taken@example.com")})
    assert [e["code"] for e in body["data"]["createInvitation"]["userErrors"]] == ["ALREADY_EXISTS"]
    lookup = tap.exchanges[-1]  # the gateway looked the existing invitation up afterwards
    assert (lookup.method, lookup.path) == ("GET", "/v1/invitations")

    recorded = await request_ids(audit_backend)
    [clerk] = carried(tap, "clerk@example.com")
    [c1] = carried(tap, "c1@example.com")
    [taken] = carried(tap, "taken@example.com")
    assert recorded == {
        "clerk@example.com": clerk,
        "c1@example.com": c1,
        "taken@example.com": taken,
    }
    assert None not in {clerk, c1, taken}
    assert str(clerk).endswith("-FRA")  # Clerk's cf-ray
    assert not str(c1).endswith("-FRA")  # ConductorOne's request-id
    assert lookup.request_id not in recorded.values()


async def test_bulk_items_record_the_request_id_of_the_call_that_carried_them(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend, tap: UpstreamTap
) -> None:
    """12 Clerk items (two bulk calls: 10 + 2) and 3 ConductorOne items (a call each): every
    item records its own call's id, not whichever answer came last."""
    clerk_emails = [f"chunk-{i}@example.com" for i in range(12)]
    c1_emails = [f"c1-{i}@example.com" for i in range(3)]
    items = [org(sandbox, e) for e in clerk_emails] + [directory(sandbox, e) for e in c1_emails]
    body = await audited.execute(BULK, {"input": {"invitations": items}})
    results = body["data"]["createInvitations"]["results"]
    assert all(r["invitation"] is not None for r in results), body

    recorded = await request_ids(audit_backend)
    calls = {email: carried(tap, email) for email in clerk_emails + c1_emails}
    assert all(len(ids) == 1 for ids in calls.values())  # each item went up exactly once
    assert recorded == {email: ids[0] for email, ids in calls.items()}
    first_chunk = {recorded[e] for e in clerk_emails[:10]}
    second_chunk = {recorded[e] for e in clerk_emails[10:]}
    assert len(first_chunk) == len(second_chunk) == 1
    assert first_chunk != second_chunk
    assert len({recorded[e] for e in c1_emails}) == 3
    assert None not in recorded.values()


async def test_items_created_one_by_one_record_their_own_call_not_the_refused_chunk(
    audited: GatewayClient, sandbox: Sandbox, audit_backend: AuditBackend, tap: UpstreamTap
) -> None:
    """A Clerk chunk refused for one item (a duplicate) is sent again one item per call: each
    item records the id of its own call, the duplicate included."""
    sandbox.clerk.add_invitation("dup@example.com")
    emails = ["solo-1@example.com", "dup@example.com", "solo-2@example.com"]
    body = await audited.execute(BULK, {"input": {"invitations": [application(e) for e in emails]}})
    codes = [
        [e["code"] for e in r["userErrors"]] for r in body["data"]["createInvitations"]["results"]
    ]
    assert codes == [[], ["ALREADY_EXISTS"], []]

    recorded = await request_ids(audit_backend)
    calls = {email: carried(tap, email) for email in emails}
    assert all(len(ids) == 2 for ids in calls.values())  # the refused chunk, then its own call
    [chunk] = {ids[0] for ids in calls.values()}
    assert recorded == {email: ids[1] for email, ids in calls.items()}
    assert chunk not in recorded.values()
    assert len(set(recorded.values())) == 3
