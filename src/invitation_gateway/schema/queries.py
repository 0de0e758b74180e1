"""The `Query` root: the configured connections, and invitations by id or as a merged list."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from ..domain.errors import InvitationError, InvitationNotFound
from . import global_id
from .connection import InvitationConnection
from .context import GatewayContext
from .errors import query_error
from .inputs import InvitationTargetInput
from .types import GatewayConnection, Invitation, InvitationStatus, Node


async def _invitation(info: Info[GatewayContext, None], id: strawberry.ID) -> Invitation | None:
    try:
        ref = global_id.decode(str(id))
        found = await info.context.invitations.load(ref)
    except InvitationNotFound:
        return None
    except InvitationError as exc:
        raise query_error(exc) from exc
    return Invitation.from_domain(found) if found else None


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "The configured upstream connections and the target kinds each offers: those the"
            " policy lets the caller use."
        )
    )
    async def connections(self, info: Info[GatewayContext, None]) -> list[GatewayConnection]:
        health = await info.context.service.connections_for(info.context.caller)
        return [GatewayConnection.from_domain(c, circuit) for c, circuit in health]

    @strawberry.field(
        description="Any object by its global id (today: invitations). Null when unknown."
    )
    async def node(self, info: Info[GatewayContext, None], id: strawberry.ID) -> Node | None:
        return await _invitation(info, id)

    @strawberry.field(
        description="One invitation by its global id, with one upstream read. Null when unknown."
    )
    async def invitation(
        self, info: Info[GatewayContext, None], id: strawberry.ID
    ) -> Invitation | None:
        return await _invitation(info, id)

    @strawberry.field(
        description=(
            "Invitations across several targets, newest first, read concurrently. A target that "
            "fails is listed in `errors`; the others' invitations are still returned."
        )
    )
    async def invitations(
        self,
        info: Info[GatewayContext, None],
        targets: list[InvitationTargetInput],
        status: Annotated[
            list[InvitationStatus] | None,
            strawberry.argument(description="Only these statuses (any, when omitted)."),
        ] = None,
        email: Annotated[
            str | None,
            strawberry.argument(
                description="Only invitations for this email (exact, case-insensitive)."
            ),
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Continue after this cursor.")
        ] = None,
    ) -> InvitationConnection:
        try:
            page = await info.context.service.list(
                [t.to_domain() for t in targets],
                statuses=frozenset(status or ()),
                email=email.strip() if email is not None else None,
                first=first,
                after=after,
                caller=info.context.caller,
            )
        except InvitationError as exc:
            raise query_error(exc) from exc
        return InvitationConnection.from_page(page)
