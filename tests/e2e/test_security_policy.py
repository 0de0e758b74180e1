"""The policy over HTTP: the README's three examples (a Clerk org admin, a BFF key, a
read-only support key), and every escalation attempt refused before any upstream call."""

from __future__ import annotations

from typing import Any

import pytest

from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.schema import global_id
from tests.support.documents import CREATE, REVOKE
from tests.support.jwks_server import claims
from tests.support.secured import (
    BULK,
    GET,
    LIST,
    OTHER_ORG,
    Secured,
    codes,
    org_input,
    seeded_id,
)


@pytest.mark.parametrize("version", [1, 2])
async def test_an_org_admin_invites_a_member_into_their_own_org_as_themselves(
    secured: Secured, version: int
) -> None:
    """Clerk org admin (token v1 or v2) may invite org:member; Clerk is told who invites."""
    sandbox = secured.sandbox
    admin = sandbox.clerk.add_user("admin@example.com", user_id="user_admin")
    sandbox.clerk.add_membership(sandbox.seed.organization_id, admin["id"], "org:admin")
    body = await secured.as_jwt(
        secured.admin_token(version), CREATE, org_input(sandbox, f"new{version}@example.com")
    )
    payload = body["data"]["createInvitation"]
    assert payload["userErrors"] == [], payload
    [sent] = [r for r in sandbox.clerk.requests if r.method == "POST"]
    assert sent.json is not None
    assert sent.json["inviter_user_id"] == "user_admin"


@pytest.mark.parametrize(
    ("role", "org", "token_org_role"),
    [
        ("org:admin", None, "admin"),  # a role the rule does not grant
        ("org:member", OTHER_ORG, "admin"),  # another organization
        ("org:member", None, "member"),  # a member, not an admin
    ],
    ids=["admin-role", "other-org", "not-admin"],
)
async def test_escalations_through_create_are_forbidden_before_any_upstream_call(
    secured: Secured, role: str, org: str | None, token_org_role: str
) -> None:
    """Granting an unlisted role, inviting elsewhere, or inviting as a member: FORBIDDEN."""
    sandbox = secured.sandbox
    own = sandbox.seed.organization_id
    token = secured.signer.token(claims(sub="user_admin", o={"id": own, "rol": token_org_role}))
    body = await secured.as_jwt(token, CREATE, org_input(sandbox, "z@example.com", role, org))
    assert codes(body["data"]["createInvitation"]) == ["FORBIDDEN"]
    assert secured.upstream_calls() == 0


async def test_the_bff_key_does_everything_in_its_directory_and_nothing_elsewhere(
    secured: Secured,
) -> None:
    """api_key:bff creates, reads and revokes in its directory; a Clerk target is FORBIDDEN."""
    sandbox = secured.sandbox
    directory = {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id}
    created = await secured.as_key(
        "bff", CREATE, {"input": {"target": directory, "email": "bff@example.com"}}
    )
    invitation = created["data"]["createInvitation"]["invitation"]
    read = await secured.as_key("bff", GET, {"id": invitation["id"]})
    assert read["data"]["invitation"]["status"] == "PENDING"
    revoked = await secured.as_key("bff", REVOKE, {"input": {"id": invitation["id"]}})
    assert revoked["data"]["revokeInvitation"]["invitation"]["status"] == "REVOKED"
    before = secured.upstream_calls()
    elsewhere = await secured.as_key("bff", CREATE, org_input(sandbox, "no@example.com"))
    assert codes(elsewhere["data"]["createInvitation"]) == ["FORBIDDEN"]
    assert secured.upstream_calls() == before


async def test_the_support_key_reads_everything_and_changes_nothing(secured: Secured) -> None:
    """api_key:support reads any target; its creates and revokes are FORBIDDEN, unsent."""
    sandbox = secured.sandbox
    for kind in TargetKind:
        body = await secured.as_key("support", GET, {"id": seeded_id(sandbox, kind)})
        assert body["data"]["invitation"]["status"] == "PENDING"
    before = secured.upstream_calls()
    created = await secured.as_key("support", CREATE, org_input(sandbox, "s@example.com"))
    assert codes(created["data"]["createInvitation"]) == ["FORBIDDEN"]
    org_id = seeded_id(sandbox, TargetKind.CLERK_ORGANIZATION)
    revoked = await secured.as_key("support", REVOKE, {"input": {"id": org_id}})
    assert codes(revoked["data"]["revokeInvitation"]) == ["FORBIDDEN"]
    assert secured.upstream_calls() == before


async def test_a_forged_id_cannot_reach_another_target(secured: Secured) -> None:
    """The BFF revoking or reading an organization invitation by its id: FORBIDDEN / null."""
    org_invitation = seeded_id(secured.sandbox, TargetKind.CLERK_ORGANIZATION)
    revoked = await secured.as_key("bff", REVOKE, {"input": {"id": org_invitation}})
    assert codes(revoked["data"]["revokeInvitation"]) == ["FORBIDDEN"]
    read = await secured.as_key("bff", GET, {"id": org_invitation})
    assert read == {"data": {"invitation": None}}  # exactly as for an unknown id
    assert secured.upstream_calls() == 0


async def test_an_id_swapped_onto_ones_own_org_cannot_reach_another_orgs_invitation(
    secured: Secured,
) -> None:
    """Org A's admin puts org B's invitation id in an id naming org A: NOT_FOUND, null, untouched.

    The policy allows org A, and the upstream path names org A too, so Clerk looks the
    invitation up in org A, where it is not: org B's invitation stays pending.
    """
    sandbox = secured.sandbox
    own_org = sandbox.seed.organization_id
    admin = sandbox.clerk.add_user("swapper@example.com", user_id="user_admin")
    sandbox.clerk.add_membership(own_org, admin["id"], "org:admin")
    sandbox.clerk.add_organization(OTHER_ORG, "Someone Else")
    victim = sandbox.clerk.add_organization_invitation(OTHER_ORG, "victim@example.com")
    honest = InvitationRef(InvitationTarget(TargetKind.CLERK_ORGANIZATION, OTHER_ORG), victim["id"])
    swapped = InvitationRef(InvitationTarget(TargetKind.CLERK_ORGANIZATION, own_org), victim["id"])
    token = secured.admin_token()
    for ref, refusal in ((honest, "FORBIDDEN"), (swapped, "NOT_FOUND")):
        invitation_id = global_id.encode(ref)
        revoked = await secured.as_jwt(token, REVOKE, {"input": {"id": invitation_id}})
        assert revoked["data"]["revokeInvitation"]["invitation"] is None
        assert codes(revoked["data"]["revokeInvitation"]) == [refusal]
        read = await secured.as_jwt(token, GET, {"id": invitation_id})
        assert read == {"data": {"invitation": None}}
    assert sandbox.clerk.organization_invitations[victim["id"]]["status"] == "pending"
    assert sandbox.clerk.requests  # the swapped id was looked up, in the caller's own org only
    assert all(f"/organizations/{own_org}/" in r.path for r in sandbox.clerk.requests)


async def test_a_list_answers_the_allowed_targets_and_lists_the_forbidden_one(
    secured: Secured,
) -> None:
    """The org admin lists their org and another: the other is a FORBIDDEN target error."""
    sandbox = secured.sandbox
    targets = [
        {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id},
        {"kind": "CLERK_ORGANIZATION", "id": OTHER_ORG},
    ]
    body = await secured.as_jwt(secured.admin_token(), LIST, {"targets": targets})
    connection = body["data"]["invitations"]
    assert connection["errors"] == [
        {"code": "FORBIDDEN", "target": {"kind": "CLERK_ORGANIZATION", "id": OTHER_ORG}}
    ]
    assert connection["edges"]
    assert all("/organizations/org_someone" not in r.path for r in sandbox.clerk.requests)


async def test_a_bulk_create_mixing_allowed_and_denied_items_refuses_each_denied_one(
    secured: Secured,
) -> None:
    """In one createInvitations, each denied item is its own FORBIDDEN; the others are made."""
    sandbox = secured.sandbox
    admin = sandbox.clerk.add_user("bulk.admin@example.com", user_id="user_admin")
    sandbox.clerk.add_membership(sandbox.seed.organization_id, admin["id"], "org:admin")
    items = [
        org_input(sandbox, "ok@example.com")["input"],
        org_input(sandbox, "role@example.com", "org:admin")["input"],
        org_input(sandbox, "elsewhere@example.com", org=OTHER_ORG)["input"],
    ]
    body = await secured.as_jwt(secured.admin_token(), BULK, {"input": {"invitations": items}})
    results = body["data"]["createInvitations"]["results"]
    assert [
        (r["invitation"] is not None, [e["code"] for e in r["userErrors"]]) for r in results
    ] == [
        (True, []),
        (False, ["FORBIDDEN"]),
        (False, ["FORBIDDEN"]),
    ]


async def test_idempotency_keys_are_scoped_per_caller(secured: Secured) -> None:
    """Two callers allowed on one directory send the same key: the second's create is its own.

    Were keys shared between callers, `partner` would get `bff`'s stored answer (the
    invitation, no error) and ConductorOne would see one create; scoped, its create reaches
    ConductorOne, which already has a pending invitation for the email: ALREADY_EXISTS.
    """
    sandbox = secured.sandbox
    directory = {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id}
    variables = {"input": {"target": directory, "email": "k@example.com", "idempotencyKey": "k1"}}

    def creates() -> int:
        return sum(
            r.method == "POST" and r.path.endswith("/invitations")
            for r in sandbox.conductorone.api_requests
        )

    first = await secured.as_key("bff", CREATE, variables)
    created = first["data"]["createInvitation"]
    assert created["userErrors"] == []
    replayed = await secured.as_key("bff", CREATE, variables)
    assert (replayed, creates()) == (first, 1)  # the same caller's replay: no second create
    other = await secured.as_key("partner", CREATE, variables)
    payload = other["data"]["createInvitation"]
    assert creates() == 2  # partner's own create reached ConductorOne
    assert payload["invitation"] is None
    [conflict] = payload["userErrors"]
    assert conflict["code"] == "ALREADY_EXISTS"
    assert conflict["existing"]["id"] == created["invitation"]["id"]
    pending = [
        i for i in sandbox.conductorone.invitations.values() if i["email"] == "k@example.com"
    ]
    assert len(pending) == 1


async def test_too_many_root_fields_are_refused(secured: Secured) -> None:
    """An operation selecting more root fields than allowed is refused before running."""
    fields = " ".join(f'a{i}: invitation(id: "x") {{ id }}' for i in range(21))
    body = await secured.as_jwt(secured.admin_token(), f"{{ {fields} }}", {})
    assert "root fields" in body["errors"][0]["message"]
    assert secured.upstream_calls() == 0


async def test_the_connections_query_shows_each_caller_only_the_connections_it_may_use(
    secured: Secured,
) -> None:
    """Connection names, default targets and breaker states are the policy's to show: an org
    admin sees the Clerk instances, the BFF its ConductorOne tenant, support all three, and a
    session the policy admits nowhere sees none."""
    query = "{ connections { name provider defaultTargetId } }"

    def shown(body: Any) -> list[tuple[str, str]]:
        return sorted((c["provider"], c["name"]) for c in body["data"]["connections"])

    admin = await secured.as_jwt(secured.admin_token(), query, {})
    member = secured.signer.token(claims(sub="user_member", o={"id": OTHER_ORG, "rol": "member"}))
    nobody = await secured.as_jwt(member, query, {})
    bff = await secured.as_key("bff", query, {})
    support = await secured.as_key("support", query, {})
    clerk = [("CLERK", "default"), ("CLERK", "staging")]
    assert shown(admin) == clerk
    assert shown(bff) == [("CONDUCTORONE", "default")]
    assert shown(support) == [*clerk, ("CONDUCTORONE", "default")]
    assert shown(nobody) == []
    assert secured.upstream_calls() == 0
