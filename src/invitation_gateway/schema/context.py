"""The typed per-request context every resolver receives.

It carries the use-case service and the request's loaders (so one operation never fetches the
same invitation twice); the authenticated caller joins it when authentication lands, so
resolvers never reach for globals or the raw request to learn who is asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from ..domain.invitations import Invitation, InvitationRef
from ..service import ANONYMOUS, InvitationService


class GatewayContext(BaseContext):
    def __init__(self, service: InvitationService, caller: str = ANONYMOUS) -> None:
        super().__init__()
        self.service = service
        # Who is asking: scopes idempotency keys now, and authorization when it lands.
        self.caller = caller
        self.invitations: DataLoader[InvitationRef, Invitation | None] = DataLoader(
            load_fn=self._load_invitations
        )

    async def _load_invitations(
        self, refs: Sequence[InvitationRef]
    ) -> list[Invitation | BaseException | None]:
        # Each id is one upstream read; they run concurrently, and a failure stays with its id.
        return list(
            await asyncio.gather(*(self.service.get(ref) for ref in refs), return_exceptions=True)
        )
