"""Input rules for new invitations (domain.validation)."""

from __future__ import annotations

import pytest

from invitation_gateway.domain.errors import InvalidInvitationInput
from invitation_gateway.domain.invitations import InvitationTarget, NewInvitation, TargetKind
from invitation_gateway.domain.validation import validate_new_invitation

C1 = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "dir1")
APP = InvitationTarget(TargetKind.CLERK_APPLICATION, None)
ORG = InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_1")


def problems(new: NewInvitation) -> dict[tuple[str, ...], str]:
    with pytest.raises(InvalidInvitationInput) as caught:
        validate_new_invitation(new)
    return {p.field: p.message for p in caught.value.problems}


def test_conductorone_display_name_defaults_to_the_email_local_part() -> None:
    """ConductorOne requires displayName; a missing one defaults from the email."""
    valid = validate_new_invitation(NewInvitation(target=C1, email="ada.l@example.com"))
    assert valid.display_name == "ada.l"


def test_email_domain_is_normalised() -> None:
    """The email's domain is lower-cased (email-validator's normal form)."""
    assert (
        validate_new_invitation(NewInvitation(target=APP, email="Ada@EXAMPLE.com")).email
        == "Ada@example.com"
    )


@pytest.mark.parametrize(
    "email",
    ["", "not-an-email", "a@", "@example.com", "a b@example.com", "x" * 300 + "@example.com"],
)
def test_bad_emails_are_rejected_on_the_email_field(email: str) -> None:
    """Anything but a syntactically valid address is an error on `email`."""
    assert ("email",) in problems(NewInvitation(target=APP, email=email))


def test_every_problem_is_reported_at_once() -> None:
    """Several wrong fields give several problems, not just the first."""
    found = problems(
        NewInvitation(
            target=APP, email="nope", roles=("org:admin",), purpose="why", display_name="Ada"
        )
    )
    assert set(found) == {("email",), ("roles",), ("purpose",), ("display_name",)}


@pytest.mark.parametrize(
    ("target", "field", "kwargs"),
    [
        (APP, ("roles",), {"roles": ("org:member",)}),
        (ORG, ("roles",), {"roles": ()}),
        (ORG, ("roles",), {"roles": ("org:member", "org:admin")}),
        (APP, ("purpose",), {"purpose": "audit"}),
        (ORG, ("purpose",), {"purpose": "audit", "roles": ("org:member",)}),
        (C1, ("redirect_url",), {"redirect_url": "https://example.com"}),
        (C1, ("expires_in_days",), {"expires_in_days": 3}),
        (C1, ("notify",), {"notify": False}),
        (C1, ("public_metadata",), {"public_metadata": {"a": 1}}),
        (APP, ("expires_in_days",), {"expires_in_days": 0}),
        (APP, ("expires_in_days",), {"expires_in_days": 366}),
        (APP, ("redirect_url",), {"redirect_url": "javascript:alert(1)"}),
        (APP, ("public_metadata",), {"public_metadata": {"big": "x" * 9000}}),
        (APP, ("target", "id"), {}),
        (C1, ("roles", "1"), {"roles": ("ok", " ")}),
        (C1, ("idempotency_key",), {"idempotency_key": "k" * 256}),
        (C1, ("display_name",), {"display_name": "n" * 300}),
        (C1, ("purpose",), {"purpose": "p" * 1001}),
    ],
)
def test_fields_a_target_kind_does_not_accept_are_errors_on_that_field(
    target: InvitationTarget, field: tuple[str, ...], kwargs: dict[str, object]
) -> None:
    """Provider-specific or out-of-range input is an error on its field, never dropped."""
    if field == ("target", "id"):
        target = InvitationTarget(TargetKind.CLERK_APPLICATION, "app_1")
    assert field in problems(NewInvitation(target=target, email="a@example.com", **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("target_id", [None, "", ".", "..", "a/b", "a%2Fb", "x" * 129, "dir 1"])
def test_directory_and_organization_ids_must_look_like_upstream_ids(target_id: str | None) -> None:
    """A missing, empty, dotted or slashed id never reaches an upstream path."""
    target = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, target_id)
    assert ("target", "id") in problems(NewInvitation(target=target, email="a@example.com"))
