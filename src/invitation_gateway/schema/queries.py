"""The `Query` root: what this gateway offers, and (with the read-side issue) invitations."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from .context import GatewayContext
from .types import GatewayConnection


@strawberry.type
class Query:
    @strawberry.field(
        description="The configured upstream connections and the target kinds each offers."
    )
    def connections(self, info: Info[GatewayContext, None]) -> list[GatewayConnection]:
        return [GatewayConnection.from_domain(c) for c in info.context.service.connection_infos]
