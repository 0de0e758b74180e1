"""A gateway with authentication enforced, as the security tests (tests/e2e/test_security_*)
call it: Clerk session tokens verified against a real JWKS endpoint on 127.0.0.1, API keys from
a keys file, and the README's policy examples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from invitation_gateway.app import create_app
from invitation_gateway.callers.api_keys import entry_for, new_api_key
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from invitation_gateway.settings import (
    AuthSettings,
    GraphQLSettings,
    PolicySettings,
)
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


@asynccontextmanager
async def open_secured(
    sandbox: Sandbox, jwks: JwksServer, tmp_path: Path
) -> AsyncIterator[Secured]:
    """The gateway on `sandbox` with authentication enforced: an RSA key served by `jwks`,
    API keys `bff`, `partner` and `support` in a keys file, POLICY as the policy file."""
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
