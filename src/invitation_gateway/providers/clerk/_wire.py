"""Clerk Backend API wire models and error translation (clerk-notes.md §4, §5).

Shared by the application- and organization-invitation adapters. Timestamps are Unix
milliseconds; errors are `ClerkErrors` envelopes classified by their `code`, with
`meta.param_name` naming the offending body parameter, which we map back to the domain field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ...domain.errors import (
    FieldPath,
    InvalidInvitationInput,
    InvitationConflict,
    InvitationError,
    InvitationForbidden,
    InvitationNotFound,
    InvitationNotRevocable,
    ProviderRejected,
)
from ...domain.invitations import Invitation, InvitationStatus, InvitationTarget, Provider
from ..answers import UpstreamResponse

# Clerk sends the API version as a header (clerk-notes.md §1.3); the invitation contract is the
# same in every dated version, so we pin the one our spec copy describes.
API_VERSION = "2026-05-12"

# Clerk body parameter -> the `NewInvitation` field it was built from.
INPUT_FIELDS: dict[str, FieldPath] = {
    "email_address": ("email",),
    "role": ("roles",),
    "redirect_url": ("redirect_url",),
    "expires_in_days": ("expires_in_days",),
    "notify": ("notify",),
    "public_metadata": ("public_metadata",),
}

_FORM_MESSAGES = {
    "form_param_missing": "is required",
    "form_param_format_invalid": "has an invalid format",
    "form_param_type_invalid": "has an invalid type",
    "form_param_value_invalid": "has a value Clerk does not accept",
    "form_param_unknown": "is not accepted by Clerk",
    "form_param_exceeds_allowed_size": "is too large",
}

_CONFLICTS = {
    "duplicate_record": "a pending invitation for this email already exists",
    "organization_invitation_not_unique": (
        "a pending invitation for this email already exists in this organization"
    ),
    "already_a_member_in_organization": "this person is already a member of the organization",
    "form_identifier_exists": "a user with this email already exists",
}

_NOT_REVOCABLE = {
    "invitation_already_revoked": "the invitation is already revoked",
    "invitation_already_accepted": "the invitation was already accepted",
}

_FORBIDDEN = {
    "not_a_member_in_organization",
    "missing_organization_permission",
    "organization_not_enabled_in_instance",
    "organization_membership_quota_exceeded",
    "authorization_invalid",
    "quota_exceeded",
}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ClerkInvitationWire(_Wire):
    """`Invitation` and `OrganizationInvitation`: the fields we read from either."""

    id: str
    email_address: str
    status: str | None = None
    url: str | None = None
    role: str | None = None
    inviter_id: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    expires_at: int | None = None


class _ClerkError(_Wire):
    code: str = ""
    meta: dict[str, Any] | None = None


class _ClerkErrors(_Wire):
    errors: list[_ClerkError]
    clerk_trace_id: str | None = None


def to_invitation(item: ClerkInvitationWire, target: InvitationTarget) -> Invitation:
    """Map an application or organization invitation onto the common `Invitation`."""
    return Invitation(
        target=target,
        provider_invitation_id=item.id,
        email=item.email_address,
        status=InvitationStatus.parse(item.status),
        roles=(item.role,) if item.role else (),
        url=item.url or None,
        invited_by=item.inviter_id or None,
        created_at=from_millis(item.created_at),
        updated_at=from_millis(item.updated_at),
        expires_at=from_millis(item.expires_at),
    )


def from_millis(value: int | None) -> datetime | None:
    """Clerk timestamps are Unix milliseconds (clerk-notes.md §1.5)."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def first_error(answer: UpstreamResponse) -> tuple[str, dict[str, Any]]:
    """The first error's code and meta from a `ClerkErrors` body; blanks for any other body."""
    body = answer.json()
    try:
        parsed = _ClerkErrors.model_validate(body)
    except ValidationError:
        return "", {}
    if not parsed.errors:
        return "", {}
    return parsed.errors[0].code, parsed.errors[0].meta or {}


def trace_id(answer: UpstreamResponse) -> str | None:
    """`clerk_trace_id` from the body, else the `cf-ray` header, as `@clerk/backend` does."""
    body = answer.json()
    found = body.get("clerk_trace_id") if isinstance(body, dict) else None
    if isinstance(found, str):
        return found
    header: str | None = answer.headers.get("cf-ray")
    return header


def translate_error(code: str, meta: dict[str, Any], status: int) -> InvitationError:
    """Turn one `ClerkError` into the domain error the caller should see."""
    param = meta.get("param_name") if isinstance(meta.get("param_name"), str) else None
    field = INPUT_FIELDS.get(param) if param else None
    if code in _CONFLICTS:
        return InvitationConflict(_CONFLICTS[code], field=("email",))
    if code in _NOT_REVOCABLE:
        return InvitationNotRevocable(_NOT_REVOCABLE[code])
    if code.startswith("form_param") or code == "form_identifier_invalid":
        if field is None:
            return ProviderRejected(
                "Clerk rejected a parameter the gateway sent", provider=Provider.CLERK
            )
        message = _FORM_MESSAGES.get(code, "was rejected by Clerk")
        return InvalidInvitationInput.at(field, message)
    if code == "resource_not_found" or status == 404:
        if param == "role":
            return InvalidInvitationInput.at(("roles",), "no such role in this organization")
        return InvitationNotFound("not found in Clerk")
    if code in _FORBIDDEN or status in {402, 403}:
        return InvitationForbidden("Clerk does not allow this for this target")
    return ProviderRejected("Clerk rejected the request", provider=Provider.CLERK)
