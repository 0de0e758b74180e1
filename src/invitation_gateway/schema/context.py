"""The typed per-request context every resolver receives.

It carries the use-case service and the request's loaders (so one operation never fetches the
same invitation twice) and the authenticated caller, so resolvers never reach for globals or
the raw request to learn who is asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from ..callers.identity import Caller
from ..domain.invitations import Invitation, InvitationRef
from ..service import InvitationService


class GatewayContext(BaseContext):
    def __init__(
        self, service: InvitationService, caller: Caller, limits_unavailable: str | None = None
    ) -> None:
        super().__init__()
        self.service = service
        # The rate limiter's store when it could not be reached for this request: mutations
        # then refuse to run unlimited (reads go on).
        self.limits_unavailable = limits_unavailable
        # Who is asking, verified by the authentication in front of /graphql: authorization,
        # idempotency scopes and the log line of each mutation all read it from here.
        self.caller = caller
        self.invitations: DataLoader[InvitationRef, Invitation | None] = DataLoader(
            load_fn=self._load_invitations
        )

    async def _load_invitations(
        self, refs: Sequence[InvitationRef]
    ) -> list[Invitation | BaseException | None]:
        # Each id is one upstream read; they run concurrently, and a failure stays with its id.
        return list(
            await asyncio.gather(
                *(self.service.get(ref, caller=self.caller) for ref in refs), return_exceptions=True
            )
        )
