"""ConductorOne wire format <-> domain (spec fields of LocalUserInvitation, proto3 JSON)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from invitation_gateway.domain.invitations import (
    InvitationStatus,
    InvitationTarget,
    NewInvitation,
    Provider,
    TargetKind,
)
from invitation_gateway.providers.conductorone._wire import to_create_request, to_invitation

DIRECTORY = "2fQzV1rJ5vJ8KkLqW3yYd0uXbNc"
TARGET = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, DIRECTORY)

# Every field `c1.api.local_directory.v1.LocalUserInvitation` defines (c1-local-directory.yaml),
# as proto3 JSON renders them: camelCase, RFC 3339 timestamps.
ACCEPTED = {
    "id": "2gZ8tq9nCkQ1rWfV7hXyJ3mLpDs",
    "directoryAppId": DIRECTORY,
    "email": "ada@example.com",
    "displayName": "Ada Lovelace",
    "status": "LOCAL_INVITATION_STATUS_ACCEPTED",
    "createdAt": "2026-11-20T09:30:00.123456Z",
    "updatedAt": "2026-11-21T10:00:00Z",
    "expiresAt": "2026-11-27T09:30:00.123456Z",
    "acceptedAt": "2026-11-21T10:00:00+00:00",
    "createdUserId": "2gZ9user",
    "invitedByUserId": "2gZ0inviter",
    "initialRoleIds": ["role-a", "role-b"],
    "jobId": "job-1",
    "onboardingFlowId": "flow-1",
    "purpose": "Q4 audit",
    "sponsorUserId": "2gZsponsor",
}


def test_full_invitation_maps_every_common_field() -> None:
    """Every LocalUserInvitation field we expose lands on the common Invitation, in UTC."""
    invitation = to_invitation(ACCEPTED, TARGET)
    assert invitation.provider is Provider.CONDUCTORONE
    assert invitation.provider_invitation_id == "2gZ8tq9nCkQ1rWfV7hXyJ3mLpDs"
    assert invitation.target == TARGET
    assert invitation.email == "ada@example.com"
    assert invitation.display_name == "Ada Lovelace"
    assert invitation.status is InvitationStatus.ACCEPTED
    assert invitation.roles == ("role-a", "role-b")
    assert invitation.purpose == "Q4 audit"
    assert invitation.invited_by == "2gZ0inviter"
    assert invitation.created_at == datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)
    assert invitation.accepted_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert invitation.url is None


def test_proto3_omitted_fields_read_as_empty() -> None:
    """Zero values are omitted on the wire (notes §6.4): no roles, purpose or dates is fine."""
    invitation = to_invitation({"id": "x1", "email": "a@example.com"}, TARGET)
    assert invitation.roles == ()
    assert invitation.purpose is None
    assert invitation.created_at is None
    assert invitation.status is InvitationStatus.UNKNOWN


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("LOCAL_INVITATION_STATUS_PENDING", InvitationStatus.PENDING),
        ("LOCAL_INVITATION_STATUS_REVOKED", InvitationStatus.REVOKED),
        ("LOCAL_INVITATION_STATUS_EXPIRED", InvitationStatus.EXPIRED),
        ("LOCAL_INVITATION_STATUS_UNSPECIFIED", InvitationStatus.UNKNOWN),
        ("LOCAL_INVITATION_STATUS_SOMETHING_NEW", InvitationStatus.UNKNOWN),
    ],
)
def test_status_prefix_is_stripped_and_unknown_values_tolerated(
    wire: str, expected: InvitationStatus
) -> None:
    """LOCAL_INVITATION_STATUS_X maps to X; UNSPECIFIED and new values read as UNKNOWN."""
    assert to_invitation({**ACCEPTED, "status": wire}, TARGET).status is expected


def test_create_request_is_camel_case_with_only_spec_fields() -> None:
    """Create sends email, displayName and the optional fields that were set, camelCase."""
    new = NewInvitation(
        target=TARGET,
        email="ada@example.com",
        display_name="Ada",
        roles=("role-a",),
        purpose="Q4 audit",
    )
    assert to_create_request(new) == {
        "email": "ada@example.com",
        "displayName": "Ada",
        "initialRoleIds": ["role-a"],
        "purpose": "Q4 audit",
    }
    bare = NewInvitation(target=TARGET, email="ada@example.com", display_name="ada")
    assert to_create_request(bare) == {"email": "ada@example.com", "displayName": "ada"}
