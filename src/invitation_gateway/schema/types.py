"""GraphQL output types: the `Invitation` node, its target, and the connections query's type."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from ..domain import invitations as domain
from ..providers.base import CircuitState as _CircuitState
from ..providers.base import ConnectionInfo
from . import global_id

# Strawberry registers the domain enums themselves (it returns the class it is given), so the
# schema and the domain share one definition of each value set.
InvitationProvider: TypeAlias = domain.Provider
strawberry.enum(
    domain.Provider, name="InvitationProvider", description="Which vendor holds the invitation."
)
InvitationTargetKind: TypeAlias = domain.TargetKind
strawberry.enum(
    domain.TargetKind,
    name="InvitationTargetKind",
    description="The kind of place an invitation invites into.",
)
InvitationStatus: TypeAlias = domain.InvitationStatus
strawberry.enum(
    domain.InvitationStatus,
    name="InvitationStatus",
    description="Lifecycle status. UNKNOWN: the upstream reported a status this gateway does not know.",
)


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where an invitation invites into.")
class InvitationTarget:
    kind: InvitationTargetKind
    id: strawberry.ID | None = strawberry.field(
        description="The ConductorOne directory app id or Clerk organization id; null for a Clerk application."
    )
    connection: str = strawberry.field(description="The configured upstream connection.")

    @classmethod
    def from_domain(cls, target: domain.InvitationTarget) -> InvitationTarget:
        return cls(
            kind=target.kind,
            id=strawberry.ID(target.id) if target.id is not None else None,
            connection=target.connection,
        )


@strawberry.type(description="One invitation, whichever upstream holds it.")
class Invitation(Node):
    id: strawberry.ID = strawberry.field(
        description="Opaque global id: enough to revoke or fetch this invitation."
    )
    provider: InvitationProvider
    provider_invitation_id: str = strawberry.field(
        description="The upstream's own id (ConductorOne KSUID, Clerk inv_… / orginv_…)."
    )
    target: InvitationTarget
    email: str
    display_name: str | None
    status: InvitationStatus
    roles: list[str] = strawberry.field(
        description="ConductorOne initial role ids; the Clerk organization role; [] for Clerk applications."
    )
    purpose: str | None
    url: str | None = strawberry.field(
        description="The invitation link, when the upstream returns it."
    )
    invited_by: str | None = strawberry.field(
        description="The upstream user id of the inviter, when known."
    )
    created_at: datetime | None
    updated_at: datetime | None
    expires_at: datetime | None
    accepted_at: datetime | None

    @classmethod
    def from_domain(cls, invitation: domain.Invitation) -> Invitation:
        return cls(
            id=strawberry.ID(global_id.encode(invitation.ref)),
            provider=invitation.provider,
            provider_invitation_id=invitation.provider_invitation_id,
            target=InvitationTarget.from_domain(invitation.target),
            email=invitation.email,
            display_name=invitation.display_name,
            status=invitation.status,
            roles=list(invitation.roles),
            purpose=invitation.purpose,
            url=invitation.url,
            invited_by=invitation.invited_by,
            created_at=invitation.created_at,
            updated_at=invitation.updated_at,
            expires_at=invitation.expires_at,
            accepted_at=invitation.accepted_at,
        )


CircuitState: TypeAlias = _CircuitState
strawberry.enum(
    _CircuitState,
    name="CircuitState",
    description="CLOSED: calls flow. OPEN: failing fast after repeated upstream errors. HALF_OPEN: the next call probes.",
)


@strawberry.type(description="A configured upstream connection and the target kinds it offers.")
class GatewayConnection:
    name: str
    provider: InvitationProvider
    target_kinds: list[InvitationTargetKind]
    default_target_id: strawberry.ID | None = strawberry.field(
        description="The directory used when a ConductorOne target omits its id."
    )
    circuit: CircuitState = strawberry.field(description="The connection's circuit breaker.")

    @classmethod
    def from_domain(cls, info: ConnectionInfo, circuit: _CircuitState) -> GatewayConnection:
        return cls(
            name=info.name,
            provider=info.provider,
            circuit=circuit,
            target_kinds=list(info.kinds),
            default_target_id=strawberry.ID(info.default_target_id)
            if info.default_target_id
            else None,
        )
