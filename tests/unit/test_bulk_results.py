"""How one createInvitations item's outcome is rendered (schema.mutations)."""

from __future__ import annotations

import pytest

from invitation_gateway.domain import errors
from invitation_gateway.domain.invitations import Provider
from invitation_gateway.schema.errors import ExposedError
from invitation_gateway.schema.mutations import _result


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (errors.OperationInProgress("still running"), "IN_PROGRESS"),
        (errors.ProviderUnavailable("down", provider=Provider.CLERK), "UPSTREAM_UNAVAILABLE"),
        (
            errors.ProviderRateLimited("slow down", provider=Provider.CLERK, retry_after=3),
            "RATE_LIMITED",
        ),
    ],
)
def test_failures_the_caller_cannot_fix_are_top_level_errors_at_the_item(
    failure: errors.InvitationError, code: str
) -> None:
    """IN_PROGRESS and upstream failures raise at the item's `invitation`, leaving the rest intact."""
    result = _result(3, failure)
    assert result.user_errors == []
    with pytest.raises(ExposedError) as caught:
        result.invitation()
    assert caught.value.extensions is not None
    assert caught.value.extensions["code"] == code


def test_a_bug_in_one_item_is_raised_for_that_item_only() -> None:
    """An unexpected exception is re-raised at its item (then masked as INTERNAL)."""
    result = _result(0, RuntimeError("bug"))
    with pytest.raises(RuntimeError):
        result.invitation()


def test_user_errors_carry_the_item_path() -> None:
    """A validation problem of item 2 points at input.invitations.2.<field>."""
    result = _result(2, errors.InvalidInvitationInput.at(("email",), "is invalid"))
    assert [e.field for e in result.user_errors] == [["input", "invitations", "2", "email"]]
