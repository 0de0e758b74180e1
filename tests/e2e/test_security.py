"""Callers and policy end to end: JWTs and API keys over HTTP, the policy, escalation attempts.

The gateway runs on the sandbox's emulators with authentication enforced: Clerk session tokens
verified against a real JWKS endpoint on 127.0.0.1, API keys from a keys file, and the README's
policy. Every denial is checked to cost no upstream call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from invitation_gateway.app import create_app
from invitation_gateway.callers.api_keys import entry_for, new_api_key
from invitation_gateway.callers.jwt import MIN_REFETCH_INTERVAL
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from invitation_gateway.settings import (
    AuthSettings,
    GraphQLSettings,
    PolicySettings,
)
from tests.support.clock import FakeClock
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import app_client
from tests.support.jwks_server import ISSUER, JwksServer, Signer, claims

OTHER_ORG = "org_someone_elses_org_000000"
POLICY = """
[[allow]]                                  # a Clerk org admin (session token v2)
callers = ["jwt"]
claims = { "o.rol" = ["admin"] }
actions = ["read", "create", "revoke"]
targets = [{ kind = "CLERK_ORGANIZATION", id = "{o.id}" }]
roles = ["org:member"]

[[allow]]                                  # the same, session token v1
callers = ["jwt"]
claims = { org_role = ["org:admin"] }
actions = ["read", "create", "revoke"]
targets = [{ kind = "CLERK_ORGANIZATION", id = "{org_id}" }]
roles = ["org:member"]

[[allow]]                                  # the BFF: everything in one directory
callers = ["api_key:bff"]
actions = ["read", "create", "revoke"]
targets = [{ kind = "CONDUCTORONE_DIRECTORY", id = "@DIRECTORY@", connection = "default" }]
roles = ["*"]

[[allow]]                                  # a second service, creating in the same directory
callers = ["api_key:partner"]
actions = ["create"]
targets = [{ kind = "CONDUCTORONE_DIRECTORY", id = "@DIRECTORY@" }]
roles = ["*"]

[[allow]]                                  # support: reads everything, changes nothing
callers = ["api_key:support"]
actions = ["read"]
targets = [
  { kind = "CONDUCTORONE_DIRECTORY" },
  { kind = "CLERK_APPLICATION" },
  { kind = "CLERK_ORGANIZATION" },
]
"""
GET = "query($id: ID!) { invitation(id: $id) { id status } }"
LIST = """query($targets: [InvitationTargetInput!]!) { invitations(targets: $targets) {
  edges { node { email } } errors { code target { kind id } } } }"""
BULK = """mutation($input: CreateInvitationsInput!) { createInvitations(input: $input) {
  results { index invitation { email } userErrors { code } } } }"""


@dataclass
class Secured:
    """A gateway with enforced authentication, and what a test needs to call it."""

    http: httpx.AsyncClient
    sandbox: Sandbox
    signer: Signer
    jwks: JwksServer
    keys: dict[str, str]  # name -> API key

    def upstream_calls(self) -> int:
        return len(self.sandbox.conductorone.api_requests) + len(self.sandbox.clerk.requests)

    def admin_token(self, version: int = 2, org: str | None = None, **extra: Any) -> str:
        org = org or self.sandbox.seed.organization_id
        if version == 2:
            session = claims(sub="user_admin", o={"id": org, "rol": "admin"}, **extra)
        else:
            session = claims(sub="user_admin", org_id=org, org_role="org:admin", **extra)
        return self.signer.token(session)

    async def post(
        self, document: str, variables: dict[str, Any], **headers: str
    ) -> httpx.Response:
        return await self.http.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers
        )

    async def as_jwt(self, token: str, document: str, variables: dict[str, Any]) -> Any:
        response = await self.post(document, variables, authorization=f"Bearer {token}")
        assert response.status_code == 200, response.text
        return response.json()

    async def as_key(self, name: str, document: str, variables: dict[str, Any]) -> Any:
        response = await self.post(document, variables, **{"x-api-key": self.keys[name]})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    with JwksServer().running() as server:
        yield server


@pytest.fixture
async def secured(sandbox: Sandbox, jwks: JwksServer, tmp_path: Path) -> AsyncIterator[Secured]:
    signer = Signer(
        "rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    jwks.serve(signer)
    keys = {name: new_api_key() for name in ("bff", "partner", "support")}
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text("\n".join(entry_for(name, key) for name, key in keys.items()))
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.replace("@DIRECTORY@", sandbox.seed.directory_id))
    settings = sandbox.settings(
        auth=AuthSettings(
            mode="enforced", jwks_url=jwks.url, issuer=ISSUER, api_keys_file=keys_file
        ),
        policy=PolicySettings(file=policy_file),
        graphql=GraphQLSettings(introspection=False),
    )
    app = create_app(
        settings, transport=sandbox.transport(), environ={}, connections=sandbox.connections()
    )
    async with app_client(app) as http:
        sandbox.clerk.requests.clear()
        sandbox.conductorone.requests.clear()
        yield Secured(http, sandbox, signer, jwks, keys)


def org_input(
    sandbox: Sandbox, email: str, role: str = "org:member", org: str | None = None
) -> Any:
    target = {"kind": "CLERK_ORGANIZATION", "id": org or sandbox.seed.organization_id}
    return {"input": {"target": target, "email": email, "roles": [role]}}


def seeded_id(sandbox: Sandbox, kind: TargetKind) -> str:
    seed = sandbox.seed
    target_id, upstream_id = {
        TargetKind.CLERK_ORGANIZATION: (seed.organization_id, seed.organization_invitation_id),
        TargetKind.CONDUCTORONE_DIRECTORY: (seed.directory_id, seed.directory_invitation_id),
        TargetKind.CLERK_APPLICATION: (None, seed.application_invitation_id),
    }[kind]
    return global_id.encode(InvitationRef(InvitationTarget(kind, target_id), upstream_id))


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing credentials"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "unsupported scheme"),
        ({"authorization": "Bearer not.a.jwt"}, "malformed token"),
        ({"x-api-key": "igw_" + "x" * 43}, "unknown api key"),
    ],
    ids=["none", "basic", "garbage", "unknown-key"],
)
async def test_requests_without_valid_credentials_are_401_and_reach_no_upstream(
    secured: Secured, headers: dict[str, str], reason: str
) -> None:
    """No or bad credentials: HTTP 401, one UNAUTHENTICATED error with a short reason."""
    response = await secured.post(CREATE, org_input(secured.sandbox, "x@example.com"), **headers)
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}
    assert secured.upstream_calls() == 0


async def test_an_expired_session_token_is_401_expired(secured: Secured) -> None:
    """A Clerk session token past its exp is refused as `expired`."""
    token = secured.signer.token(claims(exp=1_000_000, iat=999_000, nbf=999_000))
    response = await secured.post(GET, {"id": "x"}, authorization=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "expired"


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


async def test_clerk_refuses_an_inviter_who_is_not_a_member(secured: Secured) -> None:
    """The token says admin, Clerk says not a member: Clerk's 403 is a FORBIDDEN user error."""
    body = await secured.as_jwt(
        secured.admin_token(), CREATE, org_input(secured.sandbox, "y@example.com")
    )
    assert codes(body["data"]["createInvitation"]) == ["FORBIDDEN"]
    assert secured.upstream_calls() == 1  # Clerk was asked, and refused


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


async def test_the_gateway_starts_with_the_jwks_down_and_recovers(
    sandbox: Sandbox, jwks: JwksServer, tmp_path: Path
) -> None:
    """JWKS down: the gateway starts and a token is 401 `keys unavailable`, never accepted;
    JWKS back: the same token is accepted at the next allowed fetch, with no restart."""
    signer = Signer(
        "rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    jwks.serve(signer)
    jwks.status = 503  # down from the start
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.replace("@DIRECTORY@", sandbox.seed.directory_id))
    settings = sandbox.settings(
        auth=AuthSettings(mode="enforced", jwks_url=jwks.url, issuer=ISSUER),
        policy=PolicySettings(file=policy_file),
    )
    clock = FakeClock(1000.0)  # the JWKS cache's: the next fetch is moved to, not waited for
    app = create_app(settings, transport=sandbox.transport(), environ={}, interval_clock=clock)
    org = sandbox.seed.organization_id
    token = signer.token(claims(sub="user_admin", o={"id": org, "rol": "admin"}))
    variables = {"id": seeded_id(sandbox, TargetKind.CLERK_ORGANIZATION)}
    async with app_client(app) as http:

        async def ask() -> httpx.Response:
            return await http.post(
                "/graphql",
                json={"query": GET, "variables": variables},
                headers={"authorization": f"Bearer {token}"},
            )

        assert (await http.get("/healthz")).status_code == 200  # started, the JWKS unread
        for _ in range(2):
            refused = await ask()
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["extensions"]["reason"] == "keys unavailable"
            jwks.status = 200  # back, but not refetched before the interval is over
        assert jwks.fetches == 1
        clock.advance(MIN_REFETCH_INTERVAL)
        accepted = await ask()  # the same token
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["data"]["invitation"]["status"] == "PENDING"
        assert jwks.fetches == 2
