"""The use cases: create, revoke and read invitations, routed to the right adapter.

Input is validated and the target resolved before any upstream is called, so input that is
already known to be wrong never costs an upstream request. The GraphQL layer calls this; it
never sees an adapter directly.
"""

from __future__ import annotations

from dataclasses import replace

from .domain.errors import InvalidInvitationInput, InvitationNotFound, Problem
from .domain.invitations import Invitation, InvitationRef, NewInvitation
from .domain.validation import validate_new_invitation
from .providers.base import ConnectionInfo, InvitationPort
from .providers.registry import Connections


class InvitationService:
    """Routes each operation to the adapter serving its target."""

    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    @property
    def connection_infos(self) -> list[ConnectionInfo]:
        return self.connections.infos

    async def create(self, draft: NewInvitation) -> Invitation:
        problems: list[Problem] = []
        target = draft.target
        try:
            port, target = self.connections.resolve(target.kind, target.id, target.connection)
        except InvalidInvitationInput as exc:
            problems.extend(exc.problems)
            port = None
        try:
            new = validate_new_invitation(replace(draft, target=target))
        except InvalidInvitationInput as exc:
            # When the target did not resolve, its own problems are already reported.
            problems.extend(
                p for p in exc.problems if port is not None or p.field[:1] != ("target",)
            )
        if problems:
            raise InvalidInvitationInput(problems)
        assert port is not None
        return await port.create(new)

    async def revoke(self, ref: InvitationRef) -> Invitation:
        return await self._port(ref).revoke(ref)

    async def get(self, ref: InvitationRef) -> Invitation | None:
        return await self._port(ref).get(ref)

    def _port(self, ref: InvitationRef) -> InvitationPort:
        # A global id naming a connection or kind this gateway does not serve cannot name an
        # invitation it can reach: that is "not found", whoever forged or outlived it.
        port = self.connections.port_for(ref.target)
        if port is None:
            raise InvitationNotFound("no such invitation")
        return port

    async def require(self, ref: InvitationRef) -> Invitation:
        found = await self.get(ref)
        if found is None:
            raise InvitationNotFound("no such invitation")
        return found
