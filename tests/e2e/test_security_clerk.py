"""Clerk as a second line of defence: a Clerk user is named to Clerk (`inviter_user_id`,
`requesting_user_id`), and Clerk's refusals of a non-admin come back as FORBIDDEN."""

from __future__ import annotations

import pytest

from invitation_gateway.domain.invitations import TargetKind
from tests.support.documents import CREATE, REVOKE
from tests.support.secured import (
    Secured,
    codes,
    org_input,
    seeded_id,
)


async def test_clerk_refuses_an_inviter_who_is_not_a_member(secured: Secured) -> None:
    """The token says admin, Clerk says not a member: Clerk's 403 is a FORBIDDEN user error."""
    body = await secured.as_jwt(
        secured.admin_token(), CREATE, org_input(secured.sandbox, "y@example.com")
    )
    assert codes(body["data"]["createInvitation"]) == ["FORBIDDEN"]
    assert secured.upstream_calls() == 1  # Clerk was asked, and refused


@pytest.mark.parametrize(
    "membership", [None, "org:member"], ids=["not-a-member", "member-without-permission"]
)
async def test_clerk_refuses_a_revoke_by_a_requester_who_is_not_an_admin_member(
    secured: Secured, membership: str | None
) -> None:
    """The token says admin; Clerk's 403 on the requesting user is a FORBIDDEN user error."""
    sandbox = secured.sandbox
    if membership is not None:
        user = sandbox.clerk.add_user("plain.member@example.com", user_id="user_admin")
        sandbox.clerk.add_membership(sandbox.seed.organization_id, user["id"], membership)
    org_invitation = seeded_id(sandbox, TargetKind.CLERK_ORGANIZATION)
    body = await secured.as_jwt(secured.admin_token(), REVOKE, {"input": {"id": org_invitation}})
    assert codes(body["data"]["revokeInvitation"]) == ["FORBIDDEN"]
    [sent] = [r for r in sandbox.clerk.requests if r.path.endswith("/revoke")]
    assert sent.json == {"requesting_user_id": "user_admin"}  # Clerk was asked, and refused
    invitation = sandbox.clerk.organization_invitations[sandbox.seed.organization_invitation_id]
    assert invitation["status"] == "pending"


async def test_clerk_refuses_an_inviter_without_the_manage_members_permission(
    secured: Secured,
) -> None:
    """A plain org:member whose token claims admin: Clerk's missing_organization_permission."""
    sandbox = secured.sandbox
    user = sandbox.clerk.add_user("plain.inviter@example.com", user_id="user_admin")
    sandbox.clerk.add_membership(sandbox.seed.organization_id, user["id"], "org:member")
    before = len(sandbox.clerk.organization_invitations)
    body = await secured.as_jwt(
        secured.admin_token(), CREATE, org_input(sandbox, "invitee@example.com")
    )
    assert codes(body["data"]["createInvitation"]) == ["FORBIDDEN"]
    [sent] = [r for r in sandbox.clerk.requests if r.method == "POST"]
    assert sent.json is not None
    assert sent.json["inviter_user_id"] == "user_admin"
    assert len(sandbox.clerk.organization_invitations) == before  # nothing was created


async def test_an_org_admin_revoke_names_them_to_clerk_and_is_logged_with_the_caller(
    secured: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    """Clerk gets requesting_user_id on revoke; the request's log line names the caller."""
    sandbox = secured.sandbox
    admin = sandbox.clerk.add_user("revoker@example.com", user_id="user_admin")
    sandbox.clerk.add_membership(sandbox.seed.organization_id, admin["id"], "org:admin")
    org_invitation = seeded_id(sandbox, TargetKind.CLERK_ORGANIZATION)
    with caplog.at_level("INFO", logger="invitation_gateway.request"):
        body = await secured.as_jwt(
            secured.admin_token(), REVOKE, {"input": {"id": org_invitation}}
        )
    assert body["data"]["revokeInvitation"]["invitation"]["status"] == "REVOKED"
    [sent] = [r for r in sandbox.clerk.requests if r.path.endswith("/revoke")]
    assert sent.json == {"requesting_user_id": "user_admin"}
    [line] = [r for r in caplog.records if r.getMessage() == "graphql request"]
    assert (line.caller, line.root_fields, line.outcome) == (  # type: ignore[attr-defined]
        "jwt:user_admin",
        ["revokeInvitation"],
        "ok",
    )
