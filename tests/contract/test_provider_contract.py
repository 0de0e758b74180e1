"""One contract, every adapter: each adapter against its emulator behaves the same way.

The suite is parametrized over the three adapter+emulator pairs (strawberry's tests/http
pattern). Assertions are on domain results and on the emulator's state, never on mocks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from invitation_gateway.domain import errors
from invitation_gateway.domain.invitations import (
    InvitationRef,
    InvitationStatus,
    InvitationTarget,
    NewInvitation,
    TargetKind,
)
from invitation_gateway.domain.validation import validate_new_invitation
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.auth import BearerAuth
from invitation_gateway.providers.base import InvitationPort
from invitation_gateway.providers.clerk import ClerkApplication, ClerkOrganization
from invitation_gateway.providers.conductorone import ConductorOneDirectory
from invitation_gateway.providers.http import UpstreamClient

DIRECTORY = "2fQzV1rJ5vJ8KkLqW3yYd0uXbNc"
ORGANIZATION = "org_2sandboxAcme0000000000000"


@dataclass
class Pair:
    """An adapter wired to its emulator, plus how to read the emulator's state."""

    port: InvitationPort
    target: InvitationTarget
    roles: tuple[str, ...]
    status_of: Callable[[str], str]
    upstream_statuses: dict[InvitationStatus, str]
    inject: Callable[..., None]
    count_records: Callable[[], int]


def _c1(
    emulator: ConductorOneEmulator, transport: httpx.AsyncBaseTransport
) -> tuple[UpstreamClient, Pair]:
    emulator.add_directory(DIRECTORY, "Acme Employees", is_default=True)
    client = UpstreamClient(
        provider=TargetKind.CONDUCTORONE_DIRECTORY.provider,
        base_url="http://c1.test",
        auth=BearerAuth(SecretStr("c1-sandbox-token")),
        request_id_header="request-id",
        transport=transport,
    )
    return client, Pair(
        port=ConductorOneDirectory(client),
        target=InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, DIRECTORY),
        roles=("role-a",),
        status_of=lambda inv_id: str(emulator.invitations[inv_id]["status"]),
        upstream_statuses={
            InvitationStatus.PENDING: "LOCAL_INVITATION_STATUS_PENDING",
            InvitationStatus.REVOKED: "LOCAL_INVITATION_STATUS_REVOKED",
        },
        inject=emulator.faults.add,
        count_records=lambda: len(emulator.invitations),
    )


def _clerk(
    kind: TargetKind, emulator: ClerkEmulator, transport: httpx.AsyncBaseTransport
) -> tuple[UpstreamClient, Pair]:
    emulator.add_organization(ORGANIZATION, "Acme Inc")
    client = UpstreamClient(
        provider=kind.provider,
        base_url="http://clerk.test/v1",
        auth=BearerAuth(SecretStr("sk_test_sandbox")),
        request_id_header="cf-ray",
        transport=transport,
    )
    statuses = {InvitationStatus.PENDING: "pending", InvitationStatus.REVOKED: "revoked"}
    if kind is TargetKind.CLERK_APPLICATION:
        return client, Pair(
            port=ClerkApplication(client),
            target=InvitationTarget(kind, None),
            roles=(),
            status_of=lambda inv_id: str(emulator.invitations[inv_id]["status"]),
            upstream_statuses=statuses,
            inject=emulator.faults.add,
            count_records=lambda: len(emulator.invitations),
        )
    return client, Pair(
        port=ClerkOrganization(client),
        target=InvitationTarget(kind, ORGANIZATION),
        roles=("org:member",),
        status_of=lambda inv_id: str(emulator.organization_invitations[inv_id]["status"]),
        upstream_statuses=statuses,
        inject=emulator.faults.add,
        count_records=lambda: len(emulator.organization_invitations),
    )


async def _pair(kind: TargetKind) -> AsyncIterator[Pair]:
    if kind is TargetKind.CONDUCTORONE_DIRECTORY:
        c1 = ConductorOneEmulator(token="c1-sandbox-token")
        client, built = _c1(c1, httpx.ASGITransport(app=c1.app))
    else:
        clerk = ClerkEmulator(secret_key="sk_test_sandbox")
        client, built = _clerk(kind, clerk, httpx.ASGITransport(app=clerk.app))
    yield built
    await client.aclose()


@pytest.fixture(params=list(TargetKind), ids=lambda kind: kind.value.lower())
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    async for built in _pair(request.param):
        yield built


@pytest.fixture(
    params=[k for k in TargetKind if k.needs_target_id], ids=lambda kind: kind.value.lower()
)
async def pair_with_target_id(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    """The pairs whose target has an id (a directory or an organization) that can be wrong."""
    async for built in _pair(request.param):
        yield built


def new(pair: Pair, email: str = "ada@example.com", **extra: Any) -> NewInvitation:
    return validate_new_invitation(
        NewInvitation(target=pair.target, email=email, roles=pair.roles, **extra)
    )


async def test_create_gives_a_pending_invitation(pair: Pair) -> None:
    """Creating an invitation returns it PENDING, and the upstream holds it as pending."""
    created = await pair.port.create(new(pair))
    assert created.status is InvitationStatus.PENDING
    assert created.email == "ada@example.com"
    assert created.target == pair.target
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None
    assert list(created.roles) == list(pair.roles)
    assert (
        pair.status_of(created.provider_invitation_id)
        == pair.upstream_statuses[InvitationStatus.PENDING]
    )


async def test_revoke_gives_a_revoked_invitation(pair: Pair) -> None:
    """Revoking a pending invitation returns it REVOKED, and the upstream agrees."""
    created = await pair.port.create(new(pair))
    revoked = await pair.port.revoke(created.ref)
    assert revoked.status is InvitationStatus.REVOKED
    assert revoked.provider_invitation_id == created.provider_invitation_id
    assert (
        pair.status_of(created.provider_invitation_id)
        == pair.upstream_statuses[InvitationStatus.REVOKED]
    )


async def test_revoking_twice_is_not_revocable_and_carries_the_invitation(pair: Pair) -> None:
    """A second revoke is NOT_REVOCABLE (whatever the upstream's 400/404 quirk) with the invitation."""
    created = await pair.port.create(new(pair))
    await pair.port.revoke(created.ref)
    with pytest.raises(errors.InvitationNotRevocable) as caught:
        await pair.port.revoke(created.ref)
    assert caught.value.invitation is not None
    assert caught.value.invitation.status is InvitationStatus.REVOKED


async def test_unknown_invitation_is_not_found(pair: Pair) -> None:
    """Revoking an id the upstream never issued is NOT_FOUND, and get() answers None."""
    ref = InvitationRef(pair.target, "doesNotExist123")
    with pytest.raises(errors.InvitationNotFound):
        await pair.port.revoke(ref)
    assert await pair.port.get(ref) is None


async def test_get_reads_back_what_was_created(pair: Pair) -> None:
    """get() finds a created invitation by its upstream id alone (Clerk apps: by query)."""
    created = await pair.port.create(new(pair))
    found = await pair.port.get(created.ref)
    assert found is not None
    assert found.provider_invitation_id == created.provider_invitation_id
    assert found.email == created.email


async def test_duplicate_email_already_exists(pair: Pair) -> None:
    """A second pending invitation for the same email is ALREADY_EXISTS, and none is added."""
    await pair.port.create(new(pair))
    before = pair.count_records()
    with pytest.raises(errors.InvitationConflict) as caught:
        await pair.port.create(new(pair))
    assert caught.value.field == ("email",)
    assert pair.count_records() == before


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_upstream_5xx_is_unavailable(pair: Pair, status: int) -> None:
    """An upstream 5xx is a ProviderUnavailable (top-level UPSTREAM_UNAVAILABLE), nothing created."""
    pair.inject(status=status, times=1)
    before = pair.count_records()
    with pytest.raises(errors.ProviderUnavailable):
        await pair.port.create(new(pair))
    assert pair.count_records() == before


async def test_unknown_target_is_not_found_on_the_target_id(pair_with_target_id: Pair) -> None:
    """A directory or organization the upstream does not have is NOT_FOUND on target.id."""
    pair = pair_with_target_id
    wrong = replace(pair.target, id="doesNotExist123")
    with pytest.raises(errors.InvitationNotFound) as caught:
        await pair.port.create(
            validate_new_invitation(
                NewInvitation(target=wrong, email="a@example.com", roles=pair.roles)
            )
        )
    assert caught.value.field == ("target", "id")


async def test_rate_limit_carries_retry_after(pair: Pair) -> None:
    """A 429 with Retry-After is ProviderRateLimited with retry_after in seconds."""
    pair.inject(status=429, headers={"Retry-After": "17"}, times=1)
    with pytest.raises(errors.ProviderRateLimited) as caught:
        await pair.port.create(new(pair))
    assert caught.value.retry_after == 17.0
