"""What the service tells the audit log about one attempt, before calling the upstream.

Plain values, so that the use cases can describe an attempt without knowing where records are
kept (`audit/` stores them; `service/accounting.py` writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Action = Literal["create", "revoke"]
ACTIONS: tuple[str, ...] = get_args(Action)


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """Where the invitation lives: the target kind (`CLERK_ORGANIZATION`...), its id, the connection."""

    kind: str
    id: str | None
    connection: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One create or revoke attempt, as the service writes it before calling the upstream.

    A revoke entry carries the invitation's email when the gateway knows it, and no roles.
    """

    caller: str
    action: Action
    target: AuditTarget
    email: str | None
    roles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"an audit action is one of {ACTIONS}, not {self.action!r}")
