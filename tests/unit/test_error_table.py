"""The one table from domain errors to GraphQL, and field names spelled at the edge (schema.errors)."""

from __future__ import annotations

import dataclasses
import inspect

import graphql
import pytest

from invitation_gateway.domain import errors
from invitation_gateway.domain.invitations import InvitationTarget, NewInvitation, Provider
from invitation_gateway.idempotency import IdempotencyKeyMismatch
from invitation_gateway.schema import schema_sdl
from invitation_gateway.schema.errors import (
    RENDERINGS,
    ConflictError,
    ExposedError,
    UpstreamRejectedError,
    UserErrorCode,
    ValidationError,
    error_code,
    graphql_name,
    is_user_error,
    query_error,
    user_errors,
)
from invitation_gateway.schema.global_id import InvalidGlobalId

CLERK = Provider.CLERK


def test_every_user_error_row_has_a_user_error_code() -> None:
    """A row rendered as a userError carries a code the `UserErrorCode` enum declares."""
    codes = {row.code for row in RENDERINGS.values() if row.user_error is not None}
    assert codes <= {code.value for code in UserErrorCode}


def test_every_domain_error_class_has_a_row() -> None:
    """No error class of the domain tree falls through to INTERNAL."""
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.InvitationError) and cls is not errors.InvitationError
    ]
    unmapped = [cls for cls in classes if not any(c in RENDERINGS for c in cls.__mro__)]
    assert unmapped == []


@pytest.mark.parametrize(
    ("exc", "code", "user_error"),
    [
        (IdempotencyKeyMismatch(), "INVALID_INPUT", True),
        (InvalidGlobalId.at(("id",), "is not a valid invitation id"), "INVALID_INPUT", True),
        (errors.ProviderRejected("no", provider=CLERK), "UPSTREAM_REJECTED", True),
        (errors.ProviderUnavailable("down", provider=CLERK), "UPSTREAM_UNAVAILABLE", False),
        (errors.ProviderTimeout("slow", provider=CLERK), "UPSTREAM_TIMEOUT", False),
        (errors.ProviderRateLimited("wait", provider=CLERK, retry_after=1), "RATE_LIMITED", False),
        (errors.OperationInProgress("busy"), "IN_PROGRESS", False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_the_row_is_found_along_the_class_hierarchy(
    exc: errors.InvitationError, code: str, user_error: bool
) -> None:
    """A subclass takes its nearest mapped ancestor's row; ProviderTimeout has its own code."""
    assert (error_code(exc), is_user_error(exc)) == (code, user_error)


def test_an_error_nobody_mapped_is_a_bug() -> None:
    """An unmapped InvitationError is no user error and is re-raised, to be masked as INTERNAL."""

    class Unmapped(errors.InvitationError):
        pass

    bug = Unmapped("oops")
    assert (error_code(bug), is_user_error(bug)) == ("INTERNAL", False)
    with pytest.raises(Unmapped):
        user_errors(bug, prefix=("input",))
    with pytest.raises(Unmapped):
        query_error(bug)


NOT_INPUT = {"inviter_user_id"}  # set from the authenticated caller, never from input


def test_domain_field_names_become_the_schema_input_field_names() -> None:
    """Every NewInvitation and InvitationTarget field, camel-cased, is a field of the GraphQL input."""
    types = graphql.build_schema(schema_sdl()).type_map
    for dataclass_type, input_name in [
        (NewInvitation, "CreateInvitationInput"),
        (InvitationTarget, "InvitationTargetInput"),
    ]:
        input_type = types[input_name]
        assert isinstance(input_type, graphql.GraphQLInputObjectType)
        names = {
            graphql_name(field.name)
            for field in dataclasses.fields(dataclass_type)
            if field.name not in NOT_INPUT
        }
        assert names <= set(input_type.fields)


def test_a_user_error_path_and_message_use_graphql_names() -> None:
    """A problem on `public_metadata` is reported on ["input", "publicMetadata"], named so."""
    exc = errors.InvalidInvitationInput(
        [
            errors.Problem(("public_metadata",), "must be a JSON object"),
            errors.Problem(("roles", "0"), "must not be blank"),
        ]
    )
    rendered = user_errors(exc, prefix=("input",))
    assert all(isinstance(e, ValidationError) for e in rendered)
    assert [(e.field, e.message) for e in rendered] == [
        (["input", "publicMetadata"], "publicMetadata must be a JSON object"),
        (["input", "roles", "0"], "0 must not be blank"),
    ]


def test_paths_stored_in_graphql_spelling_render_the_same() -> None:
    """Idempotency records written with camelCase paths (older releases) replay unchanged."""
    old = user_errors(errors.InvalidInvitationInput.at(("idempotencyKey",), "x"), prefix=("input",))
    new = user_errors(errors.InvalidInvitationInput.at(("idempotency_key",), "x"), prefix=())
    assert old[0].field == ["input", "idempotencyKey"]
    assert new[0].field == ["idempotencyKey"]


def test_a_query_error_names_every_problem_in_graphql_spelling() -> None:
    """Queries have no userErrors: the problems go into extensions, paths and message translated."""
    exc = errors.InvalidInvitationInput(
        [
            errors.Problem(("expires_in_days",), "must be between 1 and 365"),
            errors.Problem(("targets", "1", "id"), "must be omitted for this kind"),
        ]
    )
    found = query_error(exc)
    assert found.message == (
        "expiresInDays must be between 1 and 365; targets.1.id must be omitted for this kind"
    )
    assert found.extensions == {
        "code": "INVALID_INPUT",
        "problems": [
            {"field": ["expiresInDays"], "message": "must be between 1 and 365"},
            {"field": ["targets", "1", "id"], "message": "must be omitted for this kind"},
        ],
    }


def test_user_errors_carry_their_own_details() -> None:
    """ALREADY_EXISTS renders as ConflictError; an upstream rejection keeps its translated field."""
    [conflict] = user_errors(errors.InvitationConflict("exists", field=("email",)), prefix=("in",))
    assert isinstance(conflict, ConflictError)
    assert (conflict.code, conflict.field, conflict.existing) == (
        UserErrorCode.ALREADY_EXISTS,
        ["in", "email"],
        None,
    )
    rejected = errors.ProviderRejected("no", provider=CLERK, field=("redirect_url",))
    [shown] = user_errors(rejected, prefix=("input",))
    assert isinstance(shown, UpstreamRejectedError)
    assert shown.field == ["input", "redirectUrl"]
    assert query_error(rejected).extensions == {
        "code": "UPSTREAM_REJECTED",
        "field": ["redirectUrl"],
    }


def test_upstream_failures_are_top_level_errors_with_the_provider() -> None:
    """A rate limit is raised as a top-level error with code, provider and retryAfter."""
    limited = errors.ProviderRateLimited("slow down", provider=CLERK, retry_after=1.23456)
    with pytest.raises(ExposedError) as caught:
        user_errors(limited, prefix=("input",))
    expected = {"code": "RATE_LIMITED", "provider": "CLERK", "retryAfter": 1.235}
    assert caught.value.extensions == expected
    assert query_error(limited).extensions == expected
