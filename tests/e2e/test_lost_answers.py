"""An answer lost after the upstream acted: revokes that did what was asked, creates never sent twice.

The emulators' `after` and `drop` faults run the real handler (the invitation IS created or
revoked) and then answer 503 or break the connection, which is what a network failure between
an upstream's commit and its answer looks like to the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.emulators import Emulator
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema import global_id
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient

LOST = {"drop": {"drop": True}, "503 after": {"status": 503, "after": True}}


@dataclass(frozen=True)
class Kind:
    """One target kind: its emulator, its seeded pending invitation and its stored state."""

    kind: TargetKind
    create_path: str  # what the create request's path ends with

    def emulator(self, sandbox: Sandbox) -> Emulator:
        return (
            sandbox.conductorone
            if self.kind is TargetKind.CONDUCTORONE_DIRECTORY
            else sandbox.clerk
        )

    def target(self, sandbox: Sandbox) -> dict[str, Any]:
        if self.kind is TargetKind.CLERK_APPLICATION:
            return {"kind": self.kind.value}
        if self.kind is TargetKind.CLERK_ORGANIZATION:
            return {"kind": self.kind.value, "id": sandbox.seed.organization_id}
        return {"kind": self.kind.value, "id": sandbox.seed.directory_id}

    def pending_id(self, sandbox: Sandbox) -> str:
        seed = sandbox.seed
        upstream_id, target_id = {
            TargetKind.CONDUCTORONE_DIRECTORY: (seed.directory_invitation_id, seed.directory_id),
            TargetKind.CLERK_APPLICATION: (seed.application_invitation_id, None),
            TargetKind.CLERK_ORGANIZATION: (seed.organization_invitation_id, seed.organization_id),
        }[self.kind]
        return global_id.encode(InvitationRef(InvitationTarget(self.kind, target_id), upstream_id))

    def stored(self, sandbox: Sandbox) -> dict[str, dict[str, Any]]:
        if self.kind is TargetKind.CONDUCTORONE_DIRECTORY:
            return sandbox.conductorone.invitations
        if self.kind is TargetKind.CLERK_APPLICATION:
            return sandbox.clerk.invitations
        return sandbox.clerk.organization_invitations

    def creates(self, sandbox: Sandbox) -> int:
        return sum(
            1
            for r in self.emulator(sandbox).requests
            if r.method == "POST" and r.path.endswith(self.create_path)
        )

    def create_input(self, sandbox: Sandbox, email: str, **extra: Any) -> dict[str, Any]:
        roles = ["org:member"] if self.kind is TargetKind.CLERK_ORGANIZATION else []
        return {"input": {"target": self.target(sandbox), "email": email, "roles": roles, **extra}}


KINDS = [
    Kind(TargetKind.CONDUCTORONE_DIRECTORY, "/invitations"),
    Kind(TargetKind.CLERK_APPLICATION, "/v1/invitations"),
    Kind(TargetKind.CLERK_ORGANIZATION, "/invitations"),
]
BY_KIND = pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind.value.lower())
BY_FAULT = pytest.mark.parametrize("fault", list(LOST), ids=list(LOST))


def lose_next(sandbox: Sandbox, kind: Kind, fault: str, path_contains: str) -> None:
    kind.emulator(sandbox).faults.add(method="POST", path_contains=path_contains, **LOST[fault])


@BY_KIND
@BY_FAULT
async def test_a_revoke_whose_answer_was_lost_is_a_success(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind, fault: str
) -> None:
    """The upstream revoked, the answer was lost, the retry hears "not pending": that is success."""
    lose_next(sandbox, kind, fault, "/revoke")
    body = await gateway.execute(REVOKE, {"input": {"id": kind.pending_id(sandbox)}})
    assert "errors" not in body, body
    payload = body["data"]["revokeInvitation"]
    assert payload["userErrors"] == []
    assert payload["invitation"]["status"] == "REVOKED"
    revokes = [r for r in kind.emulator(sandbox).requests if r.path.endswith("/revoke")]
    assert len(revokes) == 2  # the lost attempt and the retry


@BY_KIND
async def test_revoking_an_already_revoked_invitation_is_still_not_revocable(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind
) -> None:
    """Without a lost answer of its own, "not pending" stays NOT_REVOCABLE: only our retry is ours."""
    variables = {"input": {"id": kind.pending_id(sandbox)}}
    first = await gateway.execute(REVOKE, variables)
    assert first["data"]["revokeInvitation"]["userErrors"] == []
    second = (await gateway.execute(REVOKE, variables))["data"]["revokeInvitation"]
    assert [e["code"] for e in second["userErrors"]] == ["NOT_REVOCABLE"]
    assert second["userErrors"][0]["invitation"]["status"] == "REVOKED"


@BY_KIND
@BY_FAULT
async def test_a_lost_create_answer_is_reported_and_never_sent_twice(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind, fault: str
) -> None:
    """The create happened but its answer was lost: UPSTREAM_UNAVAILABLE, and one create only."""
    lose_next(sandbox, kind, fault, kind.create_path)
    before = len(kind.stored(sandbox))
    body = await gateway.execute(CREATE, kind.create_input(sandbox, "lost@example.com"))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    assert kind.creates(sandbox) == 1
    assert len(kind.stored(sandbox)) == before + 1  # the upstream did create it


@BY_KIND
@BY_FAULT
async def test_a_keyed_retry_after_a_lost_create_answer_returns_the_invitation(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind, fault: str
) -> None:
    """Retrying with the same idempotencyKey reads the invitation back: no ALREADY_EXISTS, no create."""
    lose_next(sandbox, kind, fault, kind.create_path)
    variables = kind.create_input(sandbox, "retry@example.com", idempotencyKey="lost-1")
    first = await gateway.execute(CREATE, variables)
    assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    [created_id] = [
        upstream_id
        for upstream_id, item in kind.stored(sandbox).items()
        if "retry@example.com" in (item.get("email"), item.get("email_address"))
    ]

    for _ in range(2):  # the retry, and a replay of it, give the same invitation
        retry = (await gateway.execute(CREATE, variables))["data"]["createInvitation"]
        assert retry["userErrors"] == []
        assert retry["invitation"]["providerInvitationId"] == created_id
        assert retry["invitation"]["status"] == "PENDING"
    assert kind.creates(sandbox) == 1


@BY_KIND
async def test_a_keyed_retry_after_a_create_that_never_happened_creates_it_once(
    gateway: GatewayClient, sandbox: Sandbox, kind: Kind
) -> None:
    """A 503 whose request did nothing: the keyed retry finds nothing to read back and creates it."""
    kind.emulator(sandbox).faults.add(status=503, method="POST", path_contains=kind.create_path)
    variables = kind.create_input(sandbox, "never@example.com", idempotencyKey="never-1")
    first = await gateway.execute(CREATE, variables)
    assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    answers = [(await gateway.execute(CREATE, variables))["data"]["createInvitation"] for _ in "ab"]
    assert answers[0]["userErrors"] == []
    assert answers[1] == answers[0]
    assert kind.creates(sandbox) == 2  # the failed one and the retry; the replay sends nothing
