"""The `Mutation` root: create and revoke. Thin: translate input, call the service, map errors."""

from __future__ import annotations

import logging

import strawberry
from strawberry.types import Info

from ..domain import invitations as domain
from ..domain.errors import DependencyUnavailable, InvitationError
from ..telemetry.request import current_request
from . import global_id
from .context import GatewayContext
from .errors import UserError, error_code, is_user_error, query_error, user_errors
from .inputs import CreateInvitationInput, RevokeInvitationInput
from .types import Invitation

_INPUT = ("input",)
logger = logging.getLogger(__name__)


def _note_outcome(action: str, info: Info[GatewayContext, None], outcome: object) -> None:
    """Note how a mutation (a bulk item) ended on the request's record, which logs it."""
    if isinstance(outcome, domain.Invitation):
        return
    code = _code(outcome)
    record = current_request()
    if (
        record is not None and isinstance(outcome, Exception) and is_user_error(outcome)
    ):  # top-level errors are noted as such
        record.note(code)
    logger.debug("%s by %s: %s", action, info.context.caller.id, code)


def _limits_checked(info: Info[GatewayContext, None]) -> None:
    """Refuse a mutation the request budget could not be checked for (its store is down)."""
    store = info.context.limits_unavailable
    if store is not None:
        raise DependencyUnavailable(
            f"the gateway's {store} is unavailable; no change was made, retry later",
            dependency=store,
        )


async def _revocable(info: Info[GatewayContext, None], given_id: str) -> domain.InvitationRef:
    """The invitation a revoke names; an id this gateway never issued is recorded, then refused."""
    try:
        return global_id.decode(given_id)
    except global_id.InvalidGlobalId as exc:
        # Every revoke attempt is audited, this one too: its target cannot be known.
        await info.context.service.record_malformed_revoke(
            given_id, exc, caller=info.context.caller
        )
        raise


def _code(outcome: object) -> str:
    if isinstance(outcome, InvitationError):
        return error_code(outcome)
    return "INTERNAL"


@strawberry.type
class CreateInvitationPayload:
    invitation: Invitation | None
    user_errors: list[UserError]


@strawberry.type
class RevokeInvitationPayload:
    invitation: Invitation | None
    user_errors: list[UserError]


@strawberry.input(description="Up to 100 invitations to create in one call.")
class CreateInvitationsInput:
    invitations: list[CreateInvitationInput]


@strawberry.type(description="The outcome of one item of createInvitations.")
class CreateInvitationResult:
    index: int = strawberry.field(description="The item's position in the input.")
    user_errors: list[UserError]
    _failure: strawberry.Private[Exception | None] = None
    _created: strawberry.Private[Invitation | None] = None

    @strawberry.field(
        description="The created invitation; null with a top-level error at this path when the upstream failed."
    )
    def invitation(self) -> Invitation | None:
        if isinstance(self._failure, InvitationError):
            raise query_error(self._failure)
        if self._failure is not None:
            raise self._failure  # a bug: masked as INTERNAL, at this item's path only
        return self._created


@strawberry.type
class CreateInvitationsPayload:
    results: list[CreateInvitationResult] = strawberry.field(
        description="One result per input item, in input order."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Problems with the input as a whole."
    )


def _result(index: int, outcome: domain.Invitation | Exception) -> CreateInvitationResult:
    if isinstance(outcome, domain.Invitation):
        return CreateInvitationResult(
            index=index, user_errors=[], _created=Invitation.from_domain(outcome)
        )
    if not isinstance(outcome, InvitationError) or not is_user_error(outcome):
        # Upstream failures, IN_PROGRESS and bugs: a top-level error at this item's path.
        return CreateInvitationResult(index=index, user_errors=[], _failure=outcome)
    prefix = (*_INPUT, "invitations", str(index))
    return CreateInvitationResult(index=index, user_errors=user_errors(outcome, prefix=prefix))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create and send an invitation.")
    async def create_invitation(
        self, info: Info[GatewayContext, None], input: CreateInvitationInput
    ) -> CreateInvitationPayload:
        try:
            _limits_checked(info)
            created = await info.context.service.create(
                input.to_domain(), caller=info.context.caller
            )
        except InvitationError as exc:
            _note_outcome("createInvitation", info, exc)
            return CreateInvitationPayload(
                invitation=None, user_errors=user_errors(exc, prefix=_INPUT)
            )
        _note_outcome("createInvitation", info, created)
        return CreateInvitationPayload(invitation=Invitation.from_domain(created), user_errors=[])

    @strawberry.mutation(
        description="Create up to 100 invitations; each item succeeds or fails on its own."
    )
    async def create_invitations(
        self, info: Info[GatewayContext, None], input: CreateInvitationsInput
    ) -> CreateInvitationsPayload:
        try:
            _limits_checked(info)
            outcomes = await info.context.service.create_many(
                [i.to_domain() for i in input.invitations], caller=info.context.caller
            )
        except InvitationError as exc:
            _note_outcome("createInvitations", info, exc)
            return CreateInvitationsPayload(results=[], user_errors=user_errors(exc, prefix=_INPUT))
        for index, outcome in enumerate(outcomes):
            _note_outcome(f"createInvitations[{index}]", info, outcome)
        return CreateInvitationsPayload(
            results=[_result(index, outcome) for index, outcome in enumerate(outcomes)],
            user_errors=[],
        )

    @strawberry.mutation(description="Revoke a pending invitation, by its global id alone.")
    async def revoke_invitation(
        self, info: Info[GatewayContext, None], input: RevokeInvitationInput
    ) -> RevokeInvitationPayload:
        service, caller = info.context.service, info.context.caller
        try:
            _limits_checked(info)
            revoked = await service.revoke(await _revocable(info, str(input.id)), caller=caller)
        except InvitationError as exc:
            _note_outcome("revokeInvitation", info, exc)
            return RevokeInvitationPayload(
                invitation=None, user_errors=user_errors(exc, prefix=_INPUT)
            )
        _note_outcome("revokeInvitation", info, revoked)
        return RevokeInvitationPayload(invitation=Invitation.from_domain(revoked), user_errors=[])
