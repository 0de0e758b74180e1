"""Clerk's error envelope and the catalogue entries the invitation endpoints answer with.

Every Clerk error is `ClerkErrors` (clerk-notes.md §5.1):

    {"errors": [{"message", "long_message", "code", "meta"?}], "clerk_trace_id": "…"}

Codes, statuses and long messages come from the catalogue quoted in clerk-notes.md §5.2. Where the
notes give only the long message, the short `message` is our choice and marked as such.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

MAX_BULK = 10


@dataclass(frozen=True)
class ClerkError:
    code: str
    message: str
    long_message: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message": self.message,
            "long_message": self.long_message,
            "code": self.code,
        }
        if self.meta:  # `meta` is omitempty on the server (clerk-notes.md §5.1)
            data["meta"] = dict(self.meta)
        return data


class ClerkApiError(Exception):
    """One HTTP error answer carrying one or more Clerk errors (form errors can be combined)."""

    def __init__(self, status: int, errors: Sequence[ClerkError]) -> None:
        super().__init__(", ".join(error.code for error in errors))
        self.status = status
        self.errors = tuple(errors)

    def response(self) -> JSONResponse:
        return JSONResponse(envelope(self.errors), status_code=self.status)


def envelope(errors: Iterable[ClerkError]) -> dict[str, Any]:
    return {"errors": [error.wire() for error in errors], "clerk_trace_id": secrets.token_hex(16)}


def _one(status: int, code: str, message: str, long_message: str, **meta: Any) -> ClerkApiError:
    return ClerkApiError(status, [ClerkError(code, message, long_message, meta)])


# --- auth (clerk-notes.md §1.2; short messages are our choice) ----------------------------------


def authorization_header_format_invalid() -> ClerkApiError:
    return _one(
        401,
        "authorization_header_format_invalid",
        "Invalid Authorization header format",
        "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'",
    )


def clerk_key_invalid() -> ClerkApiError:
    return _one(
        401,
        "clerk_key_invalid",
        "Secret Key invalid",
        "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
    )


# --- request shape --------------------------------------------------------------------------------


def request_body_invalid(detail: str) -> ClerkApiError:
    return _one(
        400,
        "request_body_invalid",
        "Request body invalid",
        f"The request body is invalid. Please consult the API documentation. {detail}",
    )


def bulk_size_exceeded() -> ClerkApiError:
    # NOT FOUND (clerk-notes.md §2.2): whether 11 items give 400 bulk_size_exceeded or 422
    # form_param_array_size_exceeded. We pick the former, which the notes call probable.
    return _one(
        400,
        "bulk_size_exceeded",
        "Bulk size exceeded",
        f"Parameters exceed the maximum allowed bulk processing size of {MAX_BULK}.",
    )


# --- form errors (422; combinable) ----------------------------------------------------------------


def form_param_unknown(param: str) -> ClerkError:
    return ClerkError(
        "form_param_unknown",
        "is unknown",
        f"{param} is not a valid parameter for this request.",
        {"param_name": param},
    )


def form_param_missing(param: str) -> ClerkError:
    return ClerkError(
        "form_param_missing", "is missing", f"{param} must be included.", {"param_name": param}
    )


def form_param_format_invalid(param: str) -> ClerkError:
    return ClerkError(
        "form_param_format_invalid",
        "is invalid",
        f"{param} must be a valid email address.",
        {"param_name": param},
    )


def form_param_type_invalid(param: str, expected: str) -> ClerkError:
    return ClerkError(
        "form_param_type_invalid",
        "is invalid",
        f"`{param}` must be a `{expected}`",
        {"param_name": param},
    )


def form_param_value_invalid(param: str, value: object, allowed: str) -> ClerkError:
    return ClerkError(
        "form_param_value_invalid",
        "is invalid",
        f"{value} does not match the allowed values for parameter {param}. Allowed values: {allowed}",
        {"param_name": param},
    )


def unprocessable(errors: Sequence[ClerkError]) -> ClerkApiError:
    return ClerkApiError(422, errors)


def form_identifier_exists(param: str = "email_address") -> ClerkApiError:
    message = "That email address is taken. Please try another."
    return _one(422, "form_identifier_exists", message, message, param_name=param)


# --- application invitations ----------------------------------------------------------------------


def duplicate_record(emails: Sequence[str]) -> ClerkApiError:
    return _one(
        400,
        "duplicate_record",
        "duplicate invitation(s)",
        f"There are already pending invitations for the following email addresses: "
        f"{', '.join(emails)}",
        email_addresses=list(emails),
    )


def invitation_not_found(invitation_id: str) -> ClerkApiError:
    return _one(
        404, "resource_not_found", "not found", f"No invitation was found with id {invitation_id}."
    )


def invitation_already_revoked() -> ClerkApiError:
    message = "Invitation is already revoked."
    return _one(400, "invitation_already_revoked", message, message)


def invitation_already_accepted() -> ClerkApiError:
    return _one(
        400,
        "invitation_already_accepted",
        "Invitation is already accepted",
        "Invitation is already accepted, try signing in instead.",
    )


# --- organizations --------------------------------------------------------------------------------


def resource_not_found() -> ClerkApiError:
    return _one(404, "resource_not_found", "not found", "Resource not found")


def organization_not_found() -> ClerkApiError:
    return _one(404, "resource_not_found", "not found", "Given organization not found.")


def organization_role_not_found() -> ClerkApiError:
    return _one(
        404, "resource_not_found", "not found", "Organization role not found", param_name="role"
    )


def already_a_member(email: str) -> ClerkApiError:
    return _one(
        400,
        "already_a_member_in_organization",
        "already a member",
        f"{email} is already a member of the organization.",
    )


def organization_invitation_not_unique() -> ClerkApiError:
    return _one(
        400,
        "organization_invitation_not_unique",
        "organization invitation not unique",
        "Organizations cannot have duplicate pending invitations for an email address.",
    )


def not_a_member_in_organization() -> ClerkApiError:
    # The long message is the server snapshot's (clerk-notes.md §5.2 quotes its start).
    return _one(
        403,
        "not_a_member_in_organization",
        "not a member",
        "Current user is not a member of the organization. "
        "Only organization members can perform this action.",
    )


def missing_organization_permission(permission: str) -> ClerkApiError:
    # meta `permissions` as the server snapshot sends it (clerk-notes.md §3.1, §5.2)
    return _one(
        403,
        "missing_organization_permission",
        "missing permission",
        "Current user is missing an organization permission.",
        permissions=[permission],
    )


def user_not_found(user_id: str) -> ClerkApiError:
    # The server snapshot's UserNotFound; the spec only says 404 ResourceNotFound (clerk-notes §3.8).
    return _one(404, "resource_not_found", "not found", f"No user was found with id {user_id}")


def organization_invitation_not_pending() -> ClerkApiError:
    return _one(
        404,
        "organization_invitation_not_pending",
        "not pending",
        "The organization invitation is not in the 'pending' status.",
    )


# --- injected faults ------------------------------------------------------------------------------

_FAULT_ERRORS = {
    401: ClerkError("authentication_invalid", "Unauthenticated", "Unauthenticated request"),
    403: ClerkError(
        "authorization_invalid",
        "Unauthorized request",
        "You are not authorized to perform this request",
    ),
    404: ClerkError("resource_not_found", "not found", "Resource not found"),
    429: ClerkError("too_many_requests", "Too many requests", "Too many requests, retry later"),
}
_INTERNAL = ClerkError(
    "internal_clerk_error",
    "Oops, an unexpected error occurred",
    "There was an internal error on our servers. We've been notified and are working on fixing it.",
)


def fault_body(status: int) -> bytes:
    """A ClerkErrors body for a fault added without one (429: `too_many_requests`)."""
    error = _FAULT_ERRORS.get(status)
    if error is None:  # no catalogue entry fits an arbitrary status: say it is injected
        error = (
            _INTERNAL if status >= 500 else ClerkError("emulated_fault", "fault", "Emulated fault")
        )
    return json.dumps(envelope([error]), separators=(",", ":")).encode()
