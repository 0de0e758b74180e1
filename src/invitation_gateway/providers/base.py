"""The provider port: what the gateway needs from any invitation upstream.

Adapters (and, in tests, anything else with the same methods) satisfy it structurally. One
adapter serves one target kind on one connection; `Connections` finds it for a target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain.invitations import Invitation, InvitationRef, NewInvitation, Provider, TargetKind


class InvitationPort(Protocol):
    """Create, revoke and read invitations of one target kind on one upstream connection."""

    @property
    def kind(self) -> TargetKind: ...

    async def create(self, new: NewInvitation) -> Invitation:
        """Create and send an invitation; `new` is already validated."""
        ...

    async def revoke(self, ref: InvitationRef) -> Invitation:
        """Revoke a pending invitation and return it as it now stands."""
        ...

    async def get(self, ref: InvitationRef) -> Invitation | None:
        """The invitation, or None when the upstream has no such invitation."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What the gateway tells callers about one configured upstream connection."""

    name: str
    provider: Provider
    kinds: tuple[TargetKind, ...]
    base_url: str
    default_target_id: str | None = None
