"""Opaque global ids: round trip, and strict rejection of anything we did not issue."""

from __future__ import annotations

import base64
import json

import pytest

from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.schema import global_id

REF = InvitationRef(InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_1", "default"), "orginv_1")


def forge(payload: object) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        .rstrip(b"=")
        .decode()
    )


@pytest.mark.parametrize(
    "ref",
    [
        REF,
        InvitationRef(InvitationTarget(TargetKind.CLERK_APPLICATION, None, "default"), "inv_1"),
        InvitationRef(
            InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "2fQz", "eu-tenant"), "2gZ8"
        ),
    ],
)
def test_ids_round_trip(ref: InvitationRef) -> None:
    """Decoding an encoded id gives back the same connection, target and upstream id."""
    assert global_id.decode(global_id.encode(ref)) == ref


def test_ids_are_opaque_url_safe_text() -> None:
    """An id is base64url with no padding: safe in URLs and JSON, no raw ids visible."""
    encoded = global_id.encode(REF)
    assert encoded.replace("-", "").replace("_", "").isalnum()
    assert "orginv_1" not in encoded


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not base64!",
        "a" * 2000,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        forge({"not": "a list"}),
        forge(["Invitation", "default", "CLERK_ORGANIZATION", "org_1"]),
        forge(["User", "default", "CLERK_ORGANIZATION", "org_1", "orginv_1"]),
        forge(["Invitation", "default", "NOPE", "org_1", "orginv_1"]),
        forge(["Invitation", "Default!", "CLERK_ORGANIZATION", "org_1", "orginv_1"]),
        forge(["Invitation", "default", "CLERK_ORGANIZATION", "../../v1/users", "orginv_1"]),
        forge(["Invitation", "default", "CLERK_ORGANIZATION", "org_1", "a/b"]),
        forge(["Invitation", "default", "CLERK_ORGANIZATION", "org_1", ""]),
        forge(["Invitation", "default", "CLERK_ORGANIZATION", None, "orginv_1"]),
        forge(["Invitation", "default", "CLERK_APPLICATION", "app_1", "inv_1"]),
        forge(["Invitation", "default", "CLERK_ORGANIZATION", "org_1", 42]),
        global_id.encode(REF) + "==",
    ],
)
def test_garbled_and_forged_ids_are_invalid_input(bad: str) -> None:
    """Anything but an id this gateway issued is an INVALID_INPUT problem on `id`."""
    with pytest.raises(global_id.InvalidGlobalId) as caught:
        global_id.decode(bad)
    assert caught.value.field == ("id",)
