"""How domain errors reach callers: `userErrors` for what they can act on, top-level for the rest.

One table, `RENDERINGS`, says for each domain error class its stable code and whether it is a
typed `UserError` (and which GraphQL type) or a top-level error; `user_errors`, `is_user_error`,
`error_code` and `query_error` all read it. A class without a row of its own takes its nearest
ancestor's (`IdempotencyKeyMismatch` is an `InvalidInvitationInput`), so `ProviderTimeout` needs
a row only because its code differs from `ProviderUnavailable`'s.

- User errors carry the input `field` path; top-level errors carry `extensions.code`, plus
  `extensions.provider` (and `extensions.retryAfter` when known) for upstream failures.
- The domain names fields its own way (`("public_metadata",)`); this is the one place they are
  spelled as GraphQL spells the input field, after the operation's prefix
  (`["input", "publicMetadata"]`).
- Anything else is a bug: `MaskUnexpectedErrors` logs it and shows `INTERNAL` with no detail.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.utils.str_converters import to_camel_case

from ..domain import errors as domain
from .types import Invitation

logger = logging.getLogger(__name__)


def graphql_name(segment: str) -> str:
    """A domain field name as the schema spells it (`public_metadata` -> `publicMetadata`).

    Strawberry's auto camel-casing, the rule the schema is built with; list indexes and
    one-word names come out unchanged.
    """
    return to_camel_case(segment)


def graphql_path(prefix: Sequence[str], field: domain.FieldPath) -> list[str]:
    """A domain field path under `prefix` (already in GraphQL's spelling), e.g. `input`."""
    return [*prefix, *map(graphql_name, field)]


def _where(prefix: Sequence[str], field: domain.FieldPath | None) -> list[str] | None:
    return graphql_path(prefix, field) if field else None


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

    @classmethod
    def from_domain(
        cls, exc: domain.InvitationError, code: UserErrorCode, prefix: Sequence[str]
    ) -> list[UserError]:
        """This type's user errors for `exc`: one, with its message and field."""
        field = _where(prefix, exc.field)
        return [cls(code=code, message=exc.message, field=field)]


@strawberry.type(description="The input is invalid; `field` says where.")
class ValidationError(UserError):
    @classmethod
    def from_domain(
        cls, exc: domain.InvitationError, code: UserErrorCode, prefix: Sequence[str]
    ) -> list[UserError]:
        """One user error per problem, its message led by the field's name."""
        if not isinstance(exc, domain.InvalidInvitationInput):
            return super().from_domain(exc, code, prefix)
        return [
            cls(
                code=code,
                message=f"{graphql_name(problem.field[-1])} {problem.message}",
                field=_where(prefix, problem.field),
            )
            for problem in exc.problems
        ]


@strawberry.type(description="No such invitation, directory or organization.")
class NotFoundError(UserError):
    pass


@strawberry.type(description="An invitation (or membership) already exists for this email.")
class ConflictError(UserError):
    existing: Invitation | None = strawberry.field(
        description="The existing invitation, when known."
    )

    @classmethod
    def from_domain(
        cls, exc: domain.InvitationError, code: UserErrorCode, prefix: Sequence[str]
    ) -> list[UserError]:
        """The user error, with the existing invitation when the upstream said which."""
        found = exc.existing if isinstance(exc, domain.InvitationConflict) else None
        field = _where(prefix, exc.field)
        existing = Invitation.from_domain(found) if found else None
        return [cls(code=code, message=exc.message, field=field, existing=existing)]


@strawberry.type(description="The invitation is no longer pending.")
class NotRevocableError(UserError):
    invitation: Invitation | None = strawberry.field(
        description="The invitation as it stands now, when it could be read."
    )

    @classmethod
    def from_domain(
        cls, exc: domain.InvitationError, code: UserErrorCode, prefix: Sequence[str]
    ) -> list[UserError]:
        """The user error, with the invitation as it stands when it could be read."""
        found = exc.invitation if isinstance(exc, domain.InvitationNotRevocable) else None
        field = _where(prefix, exc.field)
        invitation = Invitation.from_domain(found) if found else None
        return [cls(code=code, message=exc.message, field=field, invitation=invitation)]


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


@dataclass(frozen=True, slots=True)
class Rendering:
    """How one kind of domain error reaches the caller."""

    code: str
    user_error: type[UserError] | None = None  # None: a top-level error, never in `userErrors`


RENDERINGS: dict[type[domain.InvitationError], Rendering] = {
    domain.InvalidInvitationInput: Rendering("INVALID_INPUT", ValidationError),
    domain.InvitationNotFound: Rendering("NOT_FOUND", NotFoundError),
    domain.InvitationConflict: Rendering("ALREADY_EXISTS", ConflictError),
    domain.InvitationNotRevocable: Rendering("NOT_REVOCABLE", NotRevocableError),
    domain.InvitationForbidden: Rendering("FORBIDDEN", ForbiddenError),
    domain.ProviderRejected: Rendering("UPSTREAM_REJECTED", UpstreamRejectedError),
    domain.ProviderError: Rendering("UPSTREAM_UNAVAILABLE"),
    domain.ProviderTimeout: Rendering("UPSTREAM_TIMEOUT"),
    domain.ProviderRateLimited: Rendering("RATE_LIMITED"),
    domain.OperationInProgress: Rendering("IN_PROGRESS"),
    domain.CallerRateLimited: Rendering("RATE_LIMITED"),
    domain.DependencyUnavailable: Rendering("UPSTREAM_UNAVAILABLE"),
}


def rendering(exc: BaseException) -> Rendering | None:
    """The row of `exc`'s class or of its nearest ancestor that has one; None if nobody mapped it."""
    for cls in type(exc).__mro__:
        found = RENDERINGS.get(cls)
        if found is not None:
            return found
    return None


class ExposedError(GraphQLError):
    """A top-level error meant for the caller; everything else is masked."""


def user_errors(exc: domain.InvitationError, *, prefix: Sequence[str]) -> list[UserError]:
    """The `userErrors` for `exc`, or raise the top-level error for failures callers cannot fix."""
    found = rendering(exc)
    if found is None:
        raise exc  # an InvitationError subclass nobody mapped: a bug, masked as INTERNAL
    if found.user_error is None:
        raise _top_level_error(exc, found.code) from exc
    return found.user_error.from_domain(exc, UserErrorCode(found.code), prefix)


def is_user_error(exc: BaseException) -> bool:
    """Whether `exc` is reported as `userErrors` (else it is a top-level error)."""
    found = rendering(exc)
    return found is not None and found.user_error is not None


def error_code(exc: domain.InvitationError) -> str:
    """The stable code for any domain error: a `UserErrorCode` or a top-level code."""
    found = rendering(exc)
    return found.code if found is not None else "INTERNAL"


def query_error(exc: domain.InvitationError, *, prefix: Sequence[str] = ()) -> ExposedError:
    """The top-level error for a query that failed (queries have no `userErrors`).

    An error nobody mapped is re-raised as it is: a bug, masked as INTERNAL.
    """
    found = rendering(exc)
    if found is None:
        raise exc
    if found.user_error is None:
        return _top_level_error(exc, found.code)
    extensions: dict[str, object] = {"code": found.code}
    if isinstance(exc, domain.InvalidInvitationInput):
        extensions["problems"] = [
            {"field": graphql_path(prefix, p.field), "message": p.message} for p in exc.problems
        ]
        message = "; ".join(
            f"{'.'.join(map(graphql_name, p.field))} {p.message}" for p in exc.problems
        )
        return ExposedError(message, extensions=extensions)
    if exc.field:
        extensions["field"] = graphql_path(prefix, exc.field)
    return ExposedError(exc.message, extensions=extensions)


def _top_level_error(exc: domain.InvitationError, code: str) -> ExposedError:
    extensions: dict[str, object] = {"code": code}
    if isinstance(exc, domain.ProviderError):
        extensions["provider"] = exc.provider.value
    if isinstance(exc, domain.DependencyUnavailable):
        extensions["provider"] = exc.dependency
    retry_after = getattr(exc, "retry_after", None)  # the upstream's, or the caller's budget
    if isinstance(retry_after, int | float):
        extensions["retryAfter"] = round(retry_after, 3)
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
