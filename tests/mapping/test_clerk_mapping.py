"""Clerk wire format <-> domain, from the example bodies in Clerk's own specs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from invitation_gateway.domain import errors
from invitation_gateway.domain.invitations import (
    InvitationStatus,
    InvitationTarget,
    NewInvitation,
    Provider,
    TargetKind,
)
from invitation_gateway.providers.clerk._common import clerk_common_body
from invitation_gateway.providers.clerk._wire import (
    ClerkInvitationWire,
    to_invitation,
    translate_error,
)

# `organizationInvitation.created` example, ../shared/upstream/clerk-webhooks.yml (data object).
ORG_INVITATION_EXAMPLE = {
    "object": "organization_invitation",
    "id": "orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S",
    "email_address": "jane.doe@acme.com",
    "role": "org:member",
    "role_name": "Member",
    "organization_id": "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S",
    "status": "pending",
    "public_metadata": {},
    "private_metadata": {},
    "url": "https://accounts.acme.com/accept-invitation?token=abc123",
    "expires_at": 1717487999000,
    "created_at": 1716883200000,
    "updated_at": 1716883200000,
}

# The `invitation` embedded in the `waitlistEntry` examples of the same file (app invitation).
APP_INVITATION_EXAMPLE = {
    "object": "invitation",
    "id": "inv_2g7np7Hrk0SN6kj5EDMLDaKNL0S",
    "email_address": "john.doe@example.com",
    "status": "pending",
    "created_at": 1716883500000,
    "updated_at": 1716883500000,
}

ORG = InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S")
APP = InvitationTarget(TargetKind.CLERK_APPLICATION, None)


def test_organization_invitation_example_maps_onto_invitation() -> None:
    """Clerk's example org invitation reads as a PENDING invitation with ms timestamps in UTC."""
    invitation = to_invitation(ClerkInvitationWire.model_validate(ORG_INVITATION_EXAMPLE), ORG)
    assert invitation.provider is Provider.CLERK
    assert invitation.provider_invitation_id == "orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S"
    assert invitation.email == "jane.doe@acme.com"
    assert invitation.status is InvitationStatus.PENDING
    assert invitation.roles == ("org:member",)
    assert invitation.url == "https://accounts.acme.com/accept-invitation?token=abc123"
    assert invitation.created_at == datetime(2024, 5, 28, 8, 0, tzinfo=UTC)
    assert invitation.expires_at == datetime(2024, 6, 4, 7, 59, 59, tzinfo=UTC)
    assert invitation.display_name is None
    assert invitation.accepted_at is None


def test_application_invitation_example_maps_with_no_roles_and_no_expiry() -> None:
    """An app invitation has no role and may lack url/expires_at: roles [] and nulls."""
    invitation = to_invitation(ClerkInvitationWire.model_validate(APP_INVITATION_EXAMPLE), APP)
    assert invitation.roles == ()
    assert invitation.url is None
    assert invitation.expires_at is None
    assert invitation.updated_at == datetime.fromtimestamp(1716883500, tz=UTC)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("pending", InvitationStatus.PENDING),
        ("accepted", InvitationStatus.ACCEPTED),
        ("revoked", InvitationStatus.REVOKED),
        ("expired", InvitationStatus.EXPIRED),
        ("something_new", InvitationStatus.UNKNOWN),
        (None, InvitationStatus.UNKNOWN),
    ],
)
def test_status_values_map_and_unknown_ones_do_not_crash(
    wire: str | None, expected: InvitationStatus
) -> None:
    """Clerk statuses upper-case onto ours; an unknown or missing one is UNKNOWN, not an error."""
    body = {**ORG_INVITATION_EXAMPLE, "status": wire}
    assert to_invitation(ClerkInvitationWire.model_validate(body), ORG).status is expected


def test_create_body_sends_only_what_the_caller_gave() -> None:
    """The request body has email_address plus only the optional fields that were set."""
    new = NewInvitation(target=APP, email="a@example.com")
    assert clerk_common_body(new) == {"email_address": "a@example.com"}
    full = NewInvitation(
        target=APP,
        email="a@example.com",
        redirect_url="https://app.example.com/welcome",
        expires_in_days=7,
        notify=False,
        public_metadata={"plan": "pro"},
    )
    assert clerk_common_body(full) == {
        "email_address": "a@example.com",
        "redirect_url": "https://app.example.com/welcome",
        "expires_in_days": 7,
        "notify": False,
        "public_metadata": {"plan": "pro"},
    }


@pytest.mark.parametrize(
    ("code", "meta", "status", "expected", "field"),
    [
        (
            "duplicate_record",
            {"email_addresses": ["a@x.io"]},
            400,
            errors.InvitationConflict,
            ("email",),
        ),
        (
            "form_identifier_exists",
            {"param_name": "email_address"},
            422,
            errors.InvitationConflict,
            ("email",),
        ),
        ("organization_invitation_not_unique", {}, 400, errors.InvitationConflict, ("email",)),
        ("already_a_member_in_organization", {}, 400, errors.InvitationConflict, ("email",)),
        ("invitation_already_revoked", {}, 400, errors.InvitationNotRevocable, None),
        ("invitation_already_accepted", {}, 400, errors.InvitationNotRevocable, None),
        ("resource_not_found", {}, 404, errors.InvitationNotFound, None),
        (
            "resource_not_found",
            {"param_name": "role"},
            404,
            errors.InvalidInvitationInput,
            ("roles",),
        ),
        (
            "form_param_format_invalid",
            {"param_name": "email_address"},
            422,
            errors.InvalidInvitationInput,
            ("email",),
        ),
        (
            "form_param_missing",
            {"param_name": "role"},
            422,
            errors.InvalidInvitationInput,
            ("roles",),
        ),
        (
            "form_param_value_invalid",
            {"param_name": "expires_in_days"},
            422,
            errors.InvalidInvitationInput,
            ("expires_in_days",),
        ),
        (
            "form_param_type_invalid",
            {"param_name": "redirect_url"},
            422,
            errors.InvalidInvitationInput,
            ("redirect_url",),
        ),
        ("form_param_unknown", {"param_name": "template_slug"}, 422, errors.ProviderRejected, None),
        ("missing_organization_permission", {}, 403, errors.InvitationForbidden, None),
        ("organization_membership_quota_exceeded", {}, 403, errors.InvitationForbidden, None),
        ("invitations_not_supported", {}, 400, errors.ProviderRejected, None),
        ("", {}, 400, errors.ProviderRejected, None),
    ],
)
def test_clerk_error_codes_map_to_domain_errors(
    code: str,
    meta: dict[str, object],
    status: int,
    expected: type[errors.InvitationError],
    field: tuple[str, ...] | None,
) -> None:
    """Each documented ClerkErrors code becomes the right domain error, on our input field."""
    error = translate_error(code, meta, status)
    assert type(error) is expected
    assert error.field == field
