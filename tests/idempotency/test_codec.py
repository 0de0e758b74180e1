"""Create outcomes survive the trip to bytes and back: invitations, and the errors worth replaying."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from invitation_gateway.domain.errors import (
    InvalidInvitationInput,
    InvitationConflict,
    InvitationError,
    InvitationForbidden,
    InvitationNotFound,
    Problem,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from invitation_gateway.domain.invitations import (
    Invitation,
    InvitationStatus,
    InvitationTarget,
    Provider,
    TargetKind,
)
from invitation_gateway.idempotency import (
    UnknownOutcome,
    decode,
    encode_invitation,
    encode_unknown,
    replayable_error,
)

FULL = Invitation(
    target=InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "2fQzDir", "eu"),
    provider_invitation_id="2fQzInv",
    email="ada@example.com",
    status=InvitationStatus.PENDING,
    display_name="Ada Lovelace",
    roles=("role-a", "role-b"),
    purpose="onboarding",
    url="https://acme.conductor.one/invite/2fQzInv",
    invited_by="grace@example.com",
    created_at=datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    updated_at=datetime(2025, 1, 2, 3, 4, 6, tzinfo=UTC),
    expires_at=datetime(2025, 2, 1, tzinfo=timezone(timedelta(hours=2))),
    accepted_at=datetime(2025, 1, 3, tzinfo=UTC),
)
MINIMAL = Invitation(
    target=InvitationTarget(TargetKind.CLERK_APPLICATION, None),
    provider_invitation_id="inv_123",
    email="ada@example.com",
    status=InvitationStatus.UNKNOWN,
)


def replay(exc: InvitationError) -> InvitationError:
    """The error as a replay raises it: encoded by `replayable_error`, raised by `decode`."""
    payload = replayable_error(exc)
    assert payload is not None
    with pytest.raises(InvitationError) as caught:
        decode(payload)
    return caught.value


@pytest.mark.parametrize("invitation", [FULL, MINIMAL], ids=["every-field", "bare"])
def test_an_invitation_round_trips_field_for_field(invitation: Invitation) -> None:
    """Every field, target and timestamp (offset included) comes back equal."""
    assert decode(encode_invitation(invitation)) == invitation


def test_the_bytes_are_readable_versioned_json() -> None:
    """The stored form is JSON with a version, ISO datetimes and enums by value."""
    data = json.loads(encode_invitation(FULL))
    assert data["v"] == 1
    assert data["invitation"]["status"] == "PENDING"
    assert data["invitation"]["target"]["kind"] == "CONDUCTORONE_DIRECTORY"
    assert data["invitation"]["created_at"] == "2025-01-02T03:04:05.678000+00:00"


def test_invalid_input_replays_every_problem() -> None:
    """All the problems, with their field paths, are replayed, not just the first."""
    original = InvalidInvitationInput(
        [Problem(("email",), "is required"), Problem(("roles", "0"), "must not be blank")]
    )
    replayed = replay(original)
    assert isinstance(replayed, InvalidInvitationInput)
    assert replayed.problems == original.problems
    assert (replayed.message, replayed.field) == ("is required", ("email",))


@pytest.mark.parametrize("existing", [FULL, None], ids=["with-existing", "without"])
def test_a_conflict_replays_with_the_existing_invitation(existing: Invitation | None) -> None:
    """ALREADY_EXISTS comes back with its message, field and the existing invitation if known."""
    replayed = replay(InvitationConflict("already invited", field=("email",), existing=existing))
    assert isinstance(replayed, InvitationConflict)
    assert (replayed.message, replayed.field, replayed.existing) == (
        "already invited",
        ("email",),
        existing,
    )


@pytest.mark.parametrize(
    "original",
    [
        InvitationNotFound("no such organization", field=("target", "id")),
        InvitationNotFound("no such directory"),
        InvitationForbidden("quota reached", field=("target",)),
    ],
    ids=["not-found-on-field", "not-found", "forbidden"],
)
def test_not_found_and_forbidden_replay_as_they_were(original: InvitationError) -> None:
    """NOT_FOUND and FORBIDDEN come back as the same type, message and field."""
    replayed = replay(original)
    assert type(replayed) is type(original)
    assert (replayed.message, replayed.field) == (original.message, original.field)


def test_an_upstream_rejection_replays_with_its_provider() -> None:
    """UPSTREAM_REJECTED keeps its provider, message and field."""
    replayed = replay(
        ProviderRejected("redirect not allowed", provider=Provider.CLERK, field=("redirect_url",))
    )
    assert isinstance(replayed, ProviderRejected)
    assert (replayed.message, replayed.field, replayed.provider) == (
        "redirect not allowed",
        ("redirect_url",),
        Provider.CLERK,
    )


@pytest.mark.parametrize(
    "exc",
    [
        ProviderUnavailable("down", provider=Provider.CLERK),
        ProviderTimeout("slow", provider=Provider.CONDUCTORONE),
        ProviderRateLimited("slow down", provider=Provider.CLERK, retry_after=3.0),
        RuntimeError("a bug"),
        asyncio.CancelledError(),
    ],
    ids=["unavailable", "timeout", "rate-limited", "unexpected", "cancelled"],
)
def test_failures_of_the_moment_are_not_replayable(exc: BaseException) -> None:
    """Outages, timeouts, rate limits and anything unexpected are never stored for replay."""
    assert replayable_error(exc) is None


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"v": 2, "invitation": {}}',
        b'{"v": 1}',
        b'{"v": 1, "error": {"type": "mystery", "message": "m", "field": null}}',
        b'{"v": 1, "invitation": {"target": {"kind": "NOWHERE"}}}',
        b"[1]",
    ],
    ids=["not-json", "future-version", "empty", "unknown-error", "bad-enum", "not-an-object"],
)
def test_bytes_it_did_not_write_are_a_value_error(payload: bytes) -> None:
    """Garbled, foreign or future payloads fail loudly as ValueError, never as a domain error."""
    with pytest.raises(ValueError, match=r"idempotency payload|unsupported|unknown|NOWHERE"):
        decode(payload)


def test_an_unknown_outcome_round_trips_with_its_start_and_attempt() -> None:
    """ "Reached the upstream, answer lost" is stored with when it began and which attempt it was."""
    started = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    with pytest.raises(UnknownOutcome) as caught:
        decode(encode_unknown(started, 2))
    assert (caught.value.started_at, caught.value.attempt) == (started, 2)
