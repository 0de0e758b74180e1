"""createInvitations: up to 100 items, batched per upstream, one result per item in input order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from invitation_gateway.sandbox import Sandbox
from tests.support.gateway import GatewayClient

BULK = """mutation Bulk($input: CreateInvitationsInput!) {
  createInvitations(input: $input) {
    results {
      index
      invitation { id email status target { kind id } }
      userErrors { __typename code message field }
    }
    userErrors { code message field }
  }
}"""


def org_item(sandbox: Sandbox, email: str) -> dict[str, Any]:
    return {
        "target": {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id},
        "email": email,
        "roles": ["org:member"],
    }


def bulk_calls(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.clerk.requests if r.path.endswith("/bulk")]


async def test_25_organization_items_make_3_bulk_calls(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """25 Clerk-org items go upstream as 3 bulk calls (10 + 10 + 5), each item created once."""
    sandbox.clerk.requests.clear()
    items = [org_item(sandbox, f"bulk-{i}@example.com") for i in range(25)]
    body = await gateway.execute(BULK, {"input": {"invitations": items}})
    results = body["data"]["createInvitations"]["results"]
    assert [r["index"] for r in results] == list(range(25))
    assert [r["invitation"]["email"] for r in results] == [
        f"bulk-{i}@example.com" for i in range(25)
    ]
    assert all(r["userErrors"] == [] and r["invitation"]["status"] == "PENDING" for r in results)
    assert (
        bulk_calls(sandbox)
        == [f"/v1/organizations/{sandbox.seed.organization_id}/invitations/bulk"] * 3
    )
    assert sorted(len(r.json) for r in sandbox.clerk.requests if r.path.endswith("/bulk")) == [
        5,
        10,
        10,
    ]
    created = [
        i
        for i in sandbox.clerk.organization_invitations.values()
        if i["email_address"].startswith("bulk-")
    ]
    assert len(created) == 25


async def test_mixed_success_and_failure_come_back_per_item(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """Invalid, duplicate and good items across targets each get their own answer, in order."""
    # Invited an hour ago, elsewhere: Clerk re-uses it, and the gateway tells it by its age.
    an_hour_ago = sandbox.clerk.now() - timedelta(hours=1)
    sandbox.clerk.add_organization_invitation(
        sandbox.seed.organization_id, "taken@example.com", created_at=an_hour_ago
    )
    items = [
        org_item(sandbox, "fine-1@example.com"),
        org_item(sandbox, "not-an-email"),
        org_item(
            sandbox, "taken@example.com"
        ),  # refused upstream: its chunk falls back to one by one
        {"target": {"kind": "CLERK_APPLICATION"}, "email": "app-1@example.com"},
        {
            "target": {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id},
            "email": "c1-1@example.com",
        },
        {
            "target": {"kind": "CLERK_APPLICATION"},
            "email": "app-2@example.com",
            "roles": ["org:admin"],
        },
        org_item(sandbox, "fine-2@example.com"),
    ]
    body = await gateway.execute(BULK, {"input": {"invitations": items}})
    assert "errors" not in body, body
    results = body["data"]["createInvitations"]["results"]
    outcome = [
        (
            r["invitation"]["email"] if r["invitation"] else None,
            [e["code"] for e in r["userErrors"]],
        )
        for r in results
    ]
    assert outcome == [
        ("fine-1@example.com", []),
        (None, ["INVALID_INPUT"]),
        (None, ["ALREADY_EXISTS"]),
        ("app-1@example.com", []),
        ("c1-1@example.com", []),
        (None, ["INVALID_INPUT"]),
        ("fine-2@example.com", []),
    ]
    assert results[1]["userErrors"][0]["field"] == ["input", "invitations", "1", "email"]
    assert results[5]["userErrors"][0]["field"] == ["input", "invitations", "5", "roles"]
    emails = {i["email_address"] for i in sandbox.clerk.organization_invitations.values()}
    assert {"fine-1@example.com", "fine-2@example.com"} <= emails


async def test_an_upstream_outage_fails_only_its_items(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """When Clerk is down, its items get top-level errors at their path; the C1 item succeeds."""
    sandbox.clerk.faults.add(status=503, path_contains="/bulk", times=1)
    items = [
        {"target": {"kind": "CLERK_APPLICATION"}, "email": "down-1@example.com"},
        {
            "target": {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id},
            "email": "up@example.com",
        },
        {"target": {"kind": "CLERK_APPLICATION"}, "email": "down-2@example.com"},
    ]
    body = await gateway.execute(BULK, {"input": {"invitations": items}})
    results = body["data"]["createInvitations"]["results"]
    assert [r["invitation"]["email"] if r["invitation"] else None for r in results] == [
        None,
        "up@example.com",
        None,
    ]
    assert sorted(e["path"] for e in body["errors"]) == [
        ["createInvitations", "results", 0, "invitation"],
        ["createInvitations", "results", 2, "invitation"],
    ]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UPSTREAM_UNAVAILABLE"}


async def test_more_than_100_items_is_one_invalid_input_error(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """101 items are refused as a whole, with no upstream call."""
    sandbox.clerk.requests.clear()
    items = [
        {"target": {"kind": "CLERK_APPLICATION"}, "email": f"x{i}@example.com"} for i in range(101)
    ]
    payload = (await gateway.execute(BULK, {"input": {"invitations": items}}))["data"][
        "createInvitations"
    ]
    assert payload["results"] == []
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["input", "invitations"])
    ]
    assert sandbox.clerk.requests == []
