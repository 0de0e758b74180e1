"""What the service tells the audit log about one attempt, and which attempts an upstream call carries.

Plain values, so that the use cases can describe an attempt without knowing where records are
kept (`audit/` stores them; `service/accounting.py` writes them). `carrying` lets an adapter
say which attempts the upstream call it is making carries (one create, one revoke, or a bulk
chunk's items), so that each attempt's record names the request id of its own call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, get_args

Action = Literal["create", "revoke"]
ACTIONS: tuple[str, ...] = get_args(Action)


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """Where the invitation lives: the target kind (`CLERK_ORGANIZATION`...), its id, the connection.

    All three are None for a revoke whose global id could not be read: the gateway cannot tell
    which target it meant, and does not guess.
    """

    kind: str | None
    id: str | None
    connection: str | None


UNKNOWN_TARGET = AuditTarget(None, None, None)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One create or revoke attempt, as the service writes it before calling the upstream.

    A revoke entry carries the invitation's global id (as the caller gave it, when it is not
    one the gateway issued) and no roles; its email is filled in on completion when the
    upstream's answer names the invitation.
    """

    caller: str
    action: Action
    target: AuditTarget
    email: str | None
    roles: tuple[str, ...] = ()
    invitation_id: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"an audit action is one of {ACTIONS}, not {self.action!r}")


_CARRIED: ContextVar[tuple[object, ...]] = ContextVar("carried_attempts", default=())


@contextmanager
def carrying(*attempts: object) -> Iterator[None]:
    """Mark the upstream call made inside as carrying `attempts` (the `NewInvitation` or
    `InvitationRef` objects the adapter was given: they are matched by identity)."""
    token = _CARRIED.set(attempts)
    try:
        yield
    finally:
        _CARRIED.reset(token)


def carried() -> tuple[object, ...]:
    """The attempts the upstream call now being made carries; () outside any `carrying`."""
    return _CARRIED.get()
