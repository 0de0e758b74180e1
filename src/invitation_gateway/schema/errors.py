"""How domain errors reach callers: `userErrors` for what they can act on, top-level for the rest.

- `InvitationError`s the end user can act on become typed `UserError`s with a stable `code` and
  the input `field` path (one GraphQL type per kind of failure).
- `ProviderError`s (unavailable, timeout, rate limited) become top-level errors with
  `extensions.code` and `extensions.provider` (`extensions.retryAfter` when known).
- Anything else is a bug: `MaskUnexpectedErrors` logs it and shows `INTERNAL` with no detail.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from ..domain import errors as domain
from .types import Invitation

logger = logging.getLogger(__name__)


@strawberry.enum(description="Stable machine-readable kinds of user error.")
class UserErrorCode(enum.Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    NOT_REVOCABLE = "NOT_REVOCABLE"
    FORBIDDEN = "FORBIDDEN"
    UPSTREAM_REJECTED = "UPSTREAM_REJECTED"


@strawberry.interface(description="A problem the caller can act on.")
class UserError:
    code: UserErrorCode
    message: str
    field: list[str] | None = strawberry.field(
        description='Path to the offending input field, e.g. ["input", "email"].'
    )


@strawberry.type(description="The input is invalid; `field` says where.")
class ValidationError(UserError):
    pass


@strawberry.type(description="No such invitation, directory or organization.")
class NotFoundError(UserError):
    pass


@strawberry.type(description="An invitation (or membership) already exists for this email.")
class ConflictError(UserError):
    existing: Invitation | None = strawberry.field(
        description="The existing invitation, when known."
    )


@strawberry.type(description="The invitation is no longer pending.")
class NotRevocableError(UserError):
    invitation: Invitation | None = strawberry.field(
        description="The invitation as it stands now, when it could be read."
    )


@strawberry.type(description="The upstream does not allow this operation for this target.")
class ForbiddenError(UserError):
    pass


@strawberry.type(description="The upstream refused the request for a reason the caller may fix.")
class UpstreamRejectedError(UserError):
    pass


USER_ERROR_TYPES: tuple[type, ...] = (
    ValidationError,
    NotFoundError,
    ConflictError,
    NotRevocableError,
    ForbiddenError,
    UpstreamRejectedError,
)


class ExposedError(GraphQLError):
    """A top-level error meant for the caller; everything else is masked."""


def user_errors(exc: domain.InvitationError, *, prefix: Sequence[str]) -> list[UserError]:
    """The `userErrors` for `exc`, or raise the top-level error for failures callers cannot fix."""

    def where(field: domain.FieldPath | None) -> list[str] | None:
        return [*prefix, *field] if field else None

    match exc:
        case domain.InvalidInvitationInput():
            return [
                ValidationError(
                    code=UserErrorCode.INVALID_INPUT,
                    message=f"{problem.field[-1]} {problem.message}",
                    field=where(problem.field),
                )
                for problem in exc.problems
            ]
        case domain.InvitationNotFound():
            return [
                NotFoundError(
                    code=UserErrorCode.NOT_FOUND, message=exc.message, field=where(exc.field)
                )
            ]
        case domain.InvitationConflict():
            existing = Invitation.from_domain(exc.existing) if exc.existing else None
            return [
                ConflictError(
                    code=UserErrorCode.ALREADY_EXISTS,
                    message=exc.message,
                    field=where(exc.field),
                    existing=existing,
                )
            ]
        case domain.InvitationNotRevocable():
            invitation = Invitation.from_domain(exc.invitation) if exc.invitation else None
            return [
                NotRevocableError(
                    code=UserErrorCode.NOT_REVOCABLE,
                    message=exc.message,
                    field=where(exc.field),
                    invitation=invitation,
                )
            ]
        case domain.InvitationForbidden():
            return [
                ForbiddenError(
                    code=UserErrorCode.FORBIDDEN, message=exc.message, field=where(exc.field)
                )
            ]
        case domain.ProviderRejected():
            return [
                UpstreamRejectedError(
                    code=UserErrorCode.UPSTREAM_REJECTED,
                    message=exc.message,
                    field=where(exc.field),
                )
            ]
        case domain.ProviderError():
            raise top_level_error(exc) from exc
        case domain.OperationInProgress():
            raise ExposedError(exc.message, extensions={"code": "IN_PROGRESS"}) from exc
    raise exc  # an InvitationError subclass nobody mapped: a bug, masked as INTERNAL


def is_user_error(exc: BaseException) -> bool:
    """Whether `exc` is reported as `userErrors` (else it is a top-level error)."""
    if isinstance(exc, domain.ProviderRejected):
        return True
    return isinstance(exc, domain.InvitationError) and not isinstance(
        exc, domain.ProviderError | domain.OperationInProgress
    )


def top_level_error(exc: domain.ProviderError) -> ExposedError:
    extensions: dict[str, object] = {"code": exc.code, "provider": exc.provider.value}
    if isinstance(exc, domain.ProviderRateLimited) and exc.retry_after is not None:
        extensions["retryAfter"] = round(exc.retry_after, 3)
    return ExposedError(exc.message, extensions=extensions)


class MaskUnexpectedErrors(MaskErrors):
    """Show `ExposedError`s and GraphQL's own request errors; log and mask everything else."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        logger.error("unexpected error at %s", error.path, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL"}
        return masked


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if isinstance(original, ExposedError):
        return False
    if original is None or isinstance(original, GraphQLError):
        # Syntax, validation and variable-coercion errors (graphql-core wraps the latter in a
        # second GraphQLError): about the request itself, safe and useful to show.
        if not error.extensions or "code" not in error.extensions:
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        return False
    return True


def query_error(exc: domain.InvitationError, *, prefix: Sequence[str] = ()) -> ExposedError:
    """The top-level error for a query that failed (queries have no `userErrors`)."""
    if isinstance(exc, domain.ProviderError) and not isinstance(exc, domain.ProviderRejected):
        return top_level_error(exc)
    extensions: dict[str, object] = {"code": error_code(exc)}
    if isinstance(exc, domain.InvalidInvitationInput):
        extensions["problems"] = [
            {"field": [*prefix, *p.field], "message": p.message} for p in exc.problems
        ]
        message = "; ".join(f"{'.'.join(p.field)} {p.message}" for p in exc.problems)
        return ExposedError(message, extensions=extensions)
    if exc.field:
        extensions["field"] = [*prefix, *exc.field]
    return ExposedError(exc.message, extensions=extensions)


def error_code(exc: domain.InvitationError) -> str:
    """The stable code for any domain error: a `UserErrorCode` or a top-level code."""
    match exc:
        case domain.InvalidInvitationInput():
            return UserErrorCode.INVALID_INPUT.value
        case domain.InvitationNotFound():
            return UserErrorCode.NOT_FOUND.value
        case domain.InvitationConflict():
            return UserErrorCode.ALREADY_EXISTS.value
        case domain.InvitationNotRevocable():
            return UserErrorCode.NOT_REVOCABLE.value
        case domain.InvitationForbidden():
            return UserErrorCode.FORBIDDEN.value
        case domain.ProviderError():
            return exc.code
        case domain.OperationInProgress():
            return "IN_PROGRESS"
    return "INTERNAL"
