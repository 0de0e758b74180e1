"""The typed per-request context every resolver receives.

It carries the use-case service now; the authenticated caller joins it when authentication
lands, so resolvers never reach for globals or the raw request to learn who is asking.
"""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from ..service import InvitationService


class GatewayContext(BaseContext):
    def __init__(self, service: InvitationService) -> None:
        super().__init__()
        self.service = service
