"""The `Mutation` root: create and revoke. Thin: translate input, call the service, map errors."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ..domain.errors import InvitationError
from . import global_id
from .context import GatewayContext
from .errors import UserError, user_errors
from .inputs import CreateInvitationInput, RevokeInvitationInput
from .types import Invitation

_INPUT = ("input",)


@strawberry.type
class CreateInvitationPayload:
    invitation: Invitation | None
    user_errors: list[UserError]


@strawberry.type
class RevokeInvitationPayload:
    invitation: Invitation | None
    user_errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create and send an invitation.")
    async def create_invitation(
        self, info: Info[GatewayContext, None], input: CreateInvitationInput
    ) -> CreateInvitationPayload:
        try:
            created = await info.context.service.create(input.to_domain())
        except InvitationError as exc:
            return CreateInvitationPayload(
                invitation=None, user_errors=user_errors(exc, prefix=_INPUT)
            )
        return CreateInvitationPayload(invitation=Invitation.from_domain(created), user_errors=[])

    @strawberry.mutation(description="Revoke a pending invitation, by its global id alone.")
    async def revoke_invitation(
        self, info: Info[GatewayContext, None], input: RevokeInvitationInput
    ) -> RevokeInvitationPayload:
        try:
            ref = global_id.decode(str(input.id))
            revoked = await info.context.service.revoke(ref)
        except InvitationError as exc:
            return RevokeInvitationPayload(
                invitation=None, user_errors=user_errors(exc, prefix=_INPUT)
            )
        return RevokeInvitationPayload(invitation=Invitation.from_domain(revoked), user_errors=[])
