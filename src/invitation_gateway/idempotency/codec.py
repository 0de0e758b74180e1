"""The outcome of a create, as the bytes an idempotency store keeps and replays.

An outcome is either the created `Invitation` or one of the errors a replay must repeat word for
word: the ones that describe the request itself (invalid input, already exists, not found,
forbidden, an upstream refusal we can explain). Failures of the moment (`ProviderUnavailable`,
timeouts, rate limits) and anything unexpected are not replayable: `replayable_error` returns
None for them, so the runner releases the key and a retry calls the upstream again.

The bytes are versioned JSON (datetimes in ISO 8601, enums by value), so a record written by one
release of the gateway stays readable by the next. A subclass of a replayable error is replayed
as that error, which is how the GraphQL layer renders it anyway.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..domain.errors import (
    InvalidInvitationInput,
    InvitationConflict,
    InvitationError,
    InvitationForbidden,
    InvitationNotFound,
    Problem,
    ProviderRejected,
)
from ..domain.invitations import (
    Invitation,
    InvitationStatus,
    InvitationTarget,
    Provider,
    TargetKind,
)

VERSION = 1


class UnknownOutcome(Exception):
    """A stored outcome saying: the create reached the upstream, and its answer was lost.

    Not an error to show: the service reads back what the create left behind (the invitation,
    if it was made) before it decides what a retry with the same key answers.
    """

    def __init__(self, started_at: datetime, attempt: int) -> None:
        super().__init__("the outcome of an earlier create with this key is unknown")
        self.started_at = started_at
        self.attempt = attempt


def encode_unknown(started_at: datetime, attempt: int) -> bytes:
    """The bytes to store when a create may have been done upstream but its answer was lost."""
    return _dump({"unknown": {"started_at": started_at.isoformat(), "attempt": attempt}})


def encode_invitation(invitation: Invitation) -> bytes:
    """The bytes to store for a successful create."""
    return _dump({"invitation": _invitation(invitation)})


def replayable_error(exc: BaseException) -> bytes | None:
    """The bytes to store for a failed create, or None when the failure must not be replayed."""
    match exc:
        case InvalidInvitationInput():
            problems = [{"field": list(p.field), "message": p.message} for p in exc.problems]
            return _dump({"error": {"type": "invalid_input", "problems": problems}})
        case InvitationConflict():
            existing = _invitation(exc.existing) if exc.existing else None
            return _dump({"error": {"type": "conflict", **_common(exc), "existing": existing}})
        case InvitationNotFound():
            return _dump({"error": {"type": "not_found", **_common(exc)}})
        case InvitationForbidden():
            return _dump({"error": {"type": "forbidden", **_common(exc)}})
        case ProviderRejected():
            provider = exc.provider.value
            return _dump({"error": {"type": "rejected", **_common(exc), "provider": provider}})
    return None


def decode(payload: bytes) -> Invitation:
    """The stored invitation, or raise the stored error (or `UnknownOutcome`); ValueError for
    bytes we did not write."""
    try:
        data = json.loads(payload)
        if data["v"] != VERSION:
            raise ValueError(f"unsupported idempotency payload version {data['v']!r}")
        if "invitation" in data:
            return _read_invitation(data["invitation"])
        if "unknown" in data:
            unknown = data["unknown"]
            started_at = datetime.fromisoformat(unknown["started_at"])
            error: Exception = UnknownOutcome(started_at, int(unknown["attempt"]))
        else:
            error = _read_error(data["error"])
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError("not an idempotency payload") from exc
    raise error


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps({"v": VERSION, **body}, separators=(",", ":")).encode()


def _common(exc: InvitationError) -> dict[str, Any]:
    return {"message": exc.message, "field": list(exc.field) if exc.field else None}


def _invitation(invitation: Invitation) -> dict[str, Any]:
    target = invitation.target
    return {
        "target": {"kind": target.kind.value, "id": target.id, "connection": target.connection},
        "provider_invitation_id": invitation.provider_invitation_id,
        "email": invitation.email,
        "status": invitation.status.value,
        "display_name": invitation.display_name,
        "roles": list(invitation.roles),
        "purpose": invitation.purpose,
        "url": invitation.url,
        "invited_by": invitation.invited_by,
        "created_at": _time(invitation.created_at),
        "updated_at": _time(invitation.updated_at),
        "expires_at": _time(invitation.expires_at),
        "accepted_at": _time(invitation.accepted_at),
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _read_invitation(data: dict[str, Any]) -> Invitation:
    target = data["target"]
    return Invitation(
        target=InvitationTarget(TargetKind(target["kind"]), target["id"], target["connection"]),
        provider_invitation_id=data["provider_invitation_id"],
        email=data["email"],
        status=InvitationStatus(data["status"]),
        display_name=data["display_name"],
        roles=tuple(data["roles"]),
        purpose=data["purpose"],
        url=data["url"],
        invited_by=data["invited_by"],
        created_at=_read_time(data["created_at"]),
        updated_at=_read_time(data["updated_at"]),
        expires_at=_read_time(data["expires_at"]),
        accepted_at=_read_time(data["accepted_at"]),
    )


def _read_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _read_error(data: dict[str, Any]) -> Exception:
    kind = data["type"]
    if kind == "invalid_input":
        return InvalidInvitationInput(
            [Problem(tuple(p["field"]), p["message"]) for p in data["problems"]]
        )
    message = data["message"]
    field = tuple(data["field"]) if data["field"] is not None else None
    if kind == "conflict":
        existing = _read_invitation(data["existing"]) if data["existing"] else None
        return InvitationConflict(message, field=field, existing=existing)
    if kind == "not_found":
        return InvitationNotFound(message, field=field)
    if kind == "forbidden":
        return InvitationForbidden(message, field=field)
    if kind == "rejected":
        return ProviderRejected(message, provider=Provider(data["provider"]), field=field)
    raise ValueError(f"unknown idempotency error type {kind!r}")
