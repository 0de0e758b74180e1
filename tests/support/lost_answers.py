"""What the lost-answer tests share: the target kinds, the faults, and gateways on real sockets.

`Kind` knows, for one target kind, its emulator, its seeded pending invitation, where its
invitations are stored and how to seed another caller's. `LOST` are the faults that act and then
lose the answer in process; `stall_next_create` is the one that needs a real socket: the answer
starts and then goes quiet past the read timeout, after the upstream acted or before it did.
`gateway_over_sockets` serves the sandbox's emulators on loopback ports for it, optionally with
a Clerk user as the caller (`clerk_admin`), whom the gateway names to Clerk as the inviter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.emulators import Emulator
from invitation_gateway.sandbox import C1_TOKEN, Sandbox
from invitation_gateway.schema import global_id
from invitation_gateway.settings import AuthSettings, PolicySettings
from tests.support.gateway import GatewayClient, app_client
from tests.support.jwks_server import ISSUER, JwksServer, Signer, claims
from tests.support.servers import serve

LOST: dict[str, dict[str, Any]] = {
    "drop": {"drop": True},
    "503 after": {"status": 503, "after": True},
}
# Short budgets so that a stalled answer times out quickly; the total leaves room for the
# read-back a keyed retry makes.
BUDGETS = {"connect_timeout": 1.0, "read_timeout": 0.3, "total_timeout": 3.0}
CLERK_ADMIN = "user_lost_answers_admin"
# A Clerk organization admin may invite members into their own organization.
_ADMIN_POLICY = """
[[allow]]
callers = ["jwt"]
claims = { "o.rol" = ["admin"] }
actions = ["read", "create", "revoke"]
targets = [{ kind = "CLERK_ORGANIZATION", id = "{o.id}" }]
roles = ["org:member"]
"""


@dataclass(frozen=True)
class Kind:
    """One target kind: its emulator, its seeded pending invitation and its stored state."""

    kind: TargetKind
    create_path: str  # what the create request's path ends with

    def emulator(self, sandbox: Sandbox) -> Emulator:
        return (
            sandbox.conductorone
            if self.kind is TargetKind.CONDUCTORONE_DIRECTORY
            else sandbox.clerk
        )

    def target(self, sandbox: Sandbox) -> dict[str, Any]:
        if self.kind is TargetKind.CLERK_APPLICATION:
            return {"kind": self.kind.value}
        if self.kind is TargetKind.CLERK_ORGANIZATION:
            return {"kind": self.kind.value, "id": sandbox.seed.organization_id}
        return {"kind": self.kind.value, "id": sandbox.seed.directory_id}

    def pending_id(self, sandbox: Sandbox) -> str:
        seed = sandbox.seed
        upstream_id, target_id = {
            TargetKind.CONDUCTORONE_DIRECTORY: (seed.directory_invitation_id, seed.directory_id),
            TargetKind.CLERK_APPLICATION: (seed.application_invitation_id, None),
            TargetKind.CLERK_ORGANIZATION: (seed.organization_invitation_id, seed.organization_id),
        }[self.kind]
        return global_id.encode(InvitationRef(InvitationTarget(self.kind, target_id), upstream_id))

    def stored(self, sandbox: Sandbox) -> dict[str, dict[str, Any]]:
        if self.kind is TargetKind.CONDUCTORONE_DIRECTORY:
            return sandbox.conductorone.invitations
        if self.kind is TargetKind.CLERK_APPLICATION:
            return sandbox.clerk.invitations
        return sandbox.clerk.organization_invitations

    def made_for(self, sandbox: Sandbox, email: str) -> list[str]:
        """The upstream ids of the invitations stored for `email` in this kind's target."""
        return [
            upstream_id
            for upstream_id, item in self.stored(sandbox).items()
            if email in (item.get("email"), item.get("email_address"))
        ]

    def creates(self, sandbox: Sandbox) -> int:
        return sum(
            1
            for r in self.emulator(sandbox).requests
            if r.method == "POST" and r.path.endswith(self.create_path)
        )

    def seed(
        self, sandbox: Sandbox, email: str, *, status: str, created_at: datetime, role: str = ""
    ) -> str:
        """Another invitation for `email` in this target, as someone else made it; its id."""
        if self.kind is TargetKind.CONDUCTORONE_DIRECTORY:
            made = sandbox.conductorone.add_invitation(
                sandbox.seed.directory_id,
                email,
                email,
                status=f"LOCAL_INVITATION_STATUS_{status.upper()}",
                roles=[role] if role else [],
                created_at=created_at,
            )
        elif self.kind is TargetKind.CLERK_APPLICATION:
            made = sandbox.clerk.add_invitation(email, status=status, created_at=created_at)
        else:
            made = sandbox.clerk.add_organization_invitation(
                sandbox.seed.organization_id,
                email,
                role or "org:member",
                status=status,
                created_at=created_at,
            )
        return str(made["id"])

    def create_input(self, sandbox: Sandbox, email: str, **extra: Any) -> dict[str, Any]:
        roles = ["org:member"] if self.kind is TargetKind.CLERK_ORGANIZATION else []
        return {"input": {"target": self.target(sandbox), "email": email, "roles": roles, **extra}}


KINDS = [
    Kind(TargetKind.CONDUCTORONE_DIRECTORY, "/invitations"),
    Kind(TargetKind.CLERK_APPLICATION, "/v1/invitations"),
    Kind(TargetKind.CLERK_ORGANIZATION, "/invitations"),
]
DIRECTORY, APPLICATION, ORGANIZATION = KINDS


def lose_next(sandbox: Sandbox, kind: Kind, fault: str, path_contains: str) -> None:
    """The next matching request acts, then its answer is lost the `LOST[fault]` way."""
    kind.emulator(sandbox).faults.add(method="POST", path_contains=path_contains, **LOST[fault])


def stall_next_create(sandbox: Sandbox, kind: Kind, *, acted: bool) -> None:
    """The next create is answered 200 and 16 bytes of a body, then nothing for 30 s: a read
    timeout on a real socket. `acted`: the upstream created the invitation first, or not."""
    kind.emulator(sandbox).faults.add(
        method="POST",
        path_contains=kind.create_path,
        status=200,
        after=acted,
        trickle=30.0,
        body='{"stalled": "' + "x" * 64 + '"}',
    )


class ClerkAdminGateway(GatewayClient):
    """A `GatewayClient` whose requests carry a Clerk session of `CLERK_ADMIN`, an org admin."""

    def __init__(self, client: GatewayClient, token: str) -> None:
        super().__init__(client.http)
        self._token = token

    async def execute(
        self, document: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": document, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self._token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def gateway_over_sockets(
    sandbox: Sandbox, *, clerk_admin_in: Path | None = None
) -> AsyncIterator[GatewayClient]:
    """The gateway on the sandbox's emulators served on loopback ports, with short budgets.

    A read timeout needs a real socket: the in-process transport has none. With
    `clerk_admin_in` (a directory for the policy file), authentication is enforced and the
    caller is `CLERK_ADMIN`, an admin member of the seeded organization.
    """
    with serve(sandbox.conductorone.app) as c1_url, serve(sandbox.clerk.app) as clerk_url:
        async with _authentication(sandbox, clerk_admin_in) as (overrides, token):
            base = sandbox.settings(**overrides)
            settings = base.model_copy(
                update={
                    "clerk": base.clerk.model_copy(
                        update={"api_url": f"{clerk_url}/v1", **BUDGETS}
                    ),
                    # The static token: the OAuth assertion names the sandbox's host, not this
                    # port.
                    "conductorone": base.conductorone.model_copy(
                        update={
                            "base_url": c1_url,
                            "token": SecretStr(C1_TOKEN),
                            "client_id": None,
                            "client_secret": None,
                            **BUDGETS,
                        }
                    ),
                }
            )
            async with app_client(create_app(settings, environ={})) as http:
                client = GatewayClient(http)
                yield client if token is None else ClerkAdminGateway(client, token)


@asynccontextmanager
async def _authentication(
    sandbox: Sandbox, policy_dir: Path | None
) -> AsyncIterator[tuple[dict[str, object], str | None]]:
    """Settings overrides and a bearer token for `CLERK_ADMIN`; none without `policy_dir`."""
    if policy_dir is None:
        yield {}, None
        return
    organization = sandbox.seed.organization_id
    admin = sandbox.clerk.add_user("lost-answers-admin@example.com", user_id=CLERK_ADMIN)
    sandbox.clerk.add_membership(organization, admin["id"], "org:admin")
    signer = Signer("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))
    policy = policy_dir / "policy.toml"
    policy.write_text(_ADMIN_POLICY)
    with JwksServer().running() as jwks:
        jwks.serve(signer)
        overrides: dict[str, object] = {
            "auth": AuthSettings(mode="enforced", jwks_url=jwks.url, issuer=ISSUER),
            "policy": PolicySettings(file=policy),
        }
        token = signer.token(claims(sub=CLERK_ADMIN, o={"id": organization, "rol": "admin"}))
        yield overrides, token
