"""A bulk create whose audit records cannot all be written sends nothing, and says so truly."""

from __future__ import annotations

import pytest

from invitation_gateway.audit import AuditEntry
from invitation_gateway.callers.identity import DEV_CALLER
from invitation_gateway.domain.errors import DependencyUnavailable
from invitation_gateway.domain.invitations import InvitationTarget, NewInvitation, TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.service import InvitationService
from invitation_gateway.service.accounting import Accounting
from invitation_gateway.service.connections import Connections
from invitation_gateway.upstreams import configured_connections, open_connection


class FailingOnSecond:
    """An audit sink whose second `start` fails, as a store going away mid-request would."""

    def __init__(self) -> None:
        self.started: list[AuditEntry] = []
        self.completed: dict[int, str] = {}

    async def start(self, entry: AuditEntry) -> int:
        if len(self.started) == 1:
            raise ConnectionError("the audit store went away")
        self.started.append(entry)
        return len(self.started)

    async def refused(self, entry: AuditEntry, outcome: str) -> int:
        raise AssertionError("nothing in this bulk is refused before the upstream")

    async def complete(
        self,
        record_id: int,
        *,
        outcome: str,
        invitation_id: str | None,
        upstream_request_id: str | None,
        email: str | None = None,
    ) -> None:
        self.completed[record_id] = outcome


async def test_a_bulk_is_refused_whole_before_sending_when_its_records_cannot_be_written() -> None:
    """Clerk and C1 items, the audit log failing on the second record: nothing is sent, the
    first record is completed with the error, and the caller is told no change was made."""
    sandbox = Sandbox.create()
    named = configured_connections(sandbox.settings(), {}, sandbox.connections())
    opened = [open_connection(n, sandbox.transport()) for n in named]
    sink = FailingOnSecond()
    service = InvitationService(
        Connections(opened),
        accounting=Accounting(
            outcome_code=lambda exc: type(exc).__name__,
            global_id=lambda ref: ref.provider_invitation_id,
            audit=sink,
            audit_backend="SQLite",
        ),
    )
    org = InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id)
    directory = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, sandbox.seed.directory_id)
    drafts = [
        NewInvitation(org, "a@example.com", roles=("org:member",)),
        NewInvitation(org, "b@example.com", roles=("org:member",)),
        NewInvitation(directory, "c@example.com"),
    ]
    try:
        with pytest.raises(DependencyUnavailable):
            await service.create_many(drafts, caller=DEV_CALLER)
    finally:
        for connection in opened:
            if connection.client is not None:
                await connection.client.aclose()
    assert [r for r in sandbox.clerk.requests if r.method == "POST"] == []
    assert [r for r in sandbox.conductorone.api_requests if r.method == "POST"] == []
    assert sink.completed == {1: "DependencyUnavailable"}
