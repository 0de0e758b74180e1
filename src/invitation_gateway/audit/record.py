"""What the audit log holds: a record read back (the entry written before an upstream call is
the domain's `AuditEntry`, re-exported here).

The JSON shape of a record is fixed by DESIGN.md ("Audit log"): `to_json` is the one place that
builds it, for `invitation-gateway audit --json` and anything else that exports records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..domain.audit import ACTIONS, UNKNOWN_TARGET, Action, AuditEntry, AuditTarget

STARTED = "started"
"""The outcome of a record whose upstream call has not completed (yet, or ever)."""
OK = "ok"

__all__ = [
    "ACTIONS",
    "OK",
    "STARTED",
    "UNKNOWN_TARGET",
    "Action",
    "AuditEntry",
    "AuditRecord",
    "AuditTarget",
    "format_at",
    "to_json",
]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One attempt read back from the store, with how it ended.

    `outcome` is "started" until the attempt completes, then "ok" or the error code
    ("FORBIDDEN", "UPSTREAM_UNAVAILABLE"...). A record left "started" by a process that died
    mid-call stays so: the upstream may or may not have acted.
    """

    id: int
    at: datetime
    caller: str
    action: Action
    target: AuditTarget
    email: str | None
    roles: tuple[str, ...]
    outcome: str
    invitation_id: str | None
    upstream_request_id: str | None


def format_at(at: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`: fixed width, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_json(record: AuditRecord) -> dict[str, object]:
    """The record as DESIGN.md fixes it (keys in camelCase, `at` in UTC)."""
    return {
        "id": record.id,
        "at": format_at(record.at),
        "caller": record.caller,
        "action": record.action,
        "target": {
            "kind": record.target.kind,
            "id": record.target.id,
            "connection": record.target.connection,
        },
        "email": record.email,
        "roles": list(record.roles),
        "outcome": record.outcome,
        "invitationId": record.invitation_id,
        "upstreamRequestId": record.upstream_request_id,
    }
