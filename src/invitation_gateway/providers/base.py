"""The provider port: what the gateway needs from any invitation upstream.

Adapters (and, in tests, anything else with the same methods) satisfy it structurally. One
adapter serves one target kind on one connection; `Connections` finds it for a target.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Awaitable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, TypeGuard

from ..domain.errors import InvitationError
from ..domain.invitations import (
    Invitation,
    InvitationRef,
    InvitationStatus,
    InvitationTarget,
    NewInvitation,
    Provider,
    TargetKind,
)
from ..domain.listing import InvitationPage, ListQuery

READ_BACK_PAGES = 3


class RequestIdListener(Protocol):
    """Told the request id of every upstream answer an operation hears."""

    def append(self, request_id: str, /) -> None: ...


UPSTREAM_REQUEST_IDS: ContextVar[RequestIdListener | None] = ContextVar(
    "upstream_request_ids", default=None
)
"""Set by whoever wants to know which upstream requests an operation made (the audit log);
every upstream answer's request id is appended to it. Tasks started inside the operation (a bulk
create's items) share the same listener."""  # pages of a target searched for an email before giving up


class InvitationPort(Protocol):
    """Create, revoke and read invitations of one target kind on one upstream connection."""

    @property
    def kind(self) -> TargetKind: ...

    async def create(self, new: NewInvitation) -> Invitation:
        """Create and send an invitation; `new` is already validated."""
        ...

    async def revoke(self, ref: InvitationRef, *, requester: str | None = None) -> Invitation:
        """Revoke a pending invitation and return it as it now stands.

        `requester` is the upstream user the caller is, where the upstream checks it (Clerk
        organizations: `requesting_user_id`); adapters whose upstream has no such notion ignore it.
        """
        ...

    async def get(self, ref: InvitationRef) -> Invitation | None:
        """The invitation, or None when the upstream has no such invitation."""
        ...

    async def list(self, query: ListQuery) -> InvitationPage:
        """One page of the target's invitations, newest first, filtered as the query says."""
        ...

    async def create_many(
        self, news: Sequence[NewInvitation]
    ) -> builtins.list[Invitation | InvitationError]:
        """Create several invitations (same target); one result per item, in input order."""
        ...


class CircuitState(enum.Enum):
    """A connection's circuit breaker: calls flow, fail fast, or the next one probes."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class UpstreamConnection(Protocol):
    """One configured upstream connection, as the service sees it: what it is, its adapters by
    target kind, and its health (the circuit breaker's state, read live)."""

    @property
    def info(self) -> ConnectionInfo: ...

    @property
    def ports(self) -> Mapping[TargetKind, InvitationPort]: ...

    async def circuit(self) -> CircuitState: ...


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What the gateway tells callers about one configured upstream connection."""

    name: str
    provider: Provider
    kinds: tuple[TargetKind, ...]
    default_target_id: str | None = None


async def read_back(port: InvitationPort, ref: InvitationRef) -> Invitation | None:
    """The invitation as it stands, to attach to a "not revocable" answer; best effort.

    The answer is already known, so a failing read must not replace it with another error.
    """
    try:
        return await port.get(ref)
    except InvitationError:
        return None


def revoked_now(invitation: Invitation | None) -> TypeGuard[Invitation]:
    """Whether a read-back shows the invitation revoked: after a revoke whose answer was lost
    (`UpstreamResponse.after_unknown_outcome`), the retry's "not pending" is our own success."""
    return invitation is not None and invitation.status is InvitationStatus.REVOKED


async def find_by_email(
    port: InvitationPort,
    target: InvitationTarget,
    email: str,
    *,
    statuses: frozenset[InvitationStatus] = frozenset(),
    pages: int = READ_BACK_PAGES,
) -> builtins.list[Invitation]:
    """The target's invitations for `email`, newest first, from its first `pages` pages.

    For reading back what a create left behind when its answer did not say (a lost answer, an
    answer naming no invitation, a duplicate refused without the existing one). Newest first
    means a recent invitation is on the first page; the bound keeps a huge target cheap.
    """
    found: builtins.list[Invitation] = []
    position: str | None = None
    for _ in range(pages):
        page = await port.list(
            ListQuery(target, statuses=statuses, email=email, position=position, limit=100)
        )
        found.extend(page.items)
        position = page.next_position
        if position is None:
            break
    return found


async def newest_pending(
    port: InvitationPort, new: NewInvitation, *, pages: int = READ_BACK_PAGES
) -> Invitation | None:
    """The newest pending invitation for `new`'s email in its target: the duplicate a create
    ran into, or the one it made when its answer did not say."""
    pending = frozenset({InvitationStatus.PENDING})
    found = await find_by_email(port, new.target, new.email, statuses=pending, pages=pages)
    return found[0] if found else None


async def settle(call: Awaitable[Invitation]) -> Invitation | InvitationError:
    """The invitation, or the domain error it failed with: one item's outcome in a batch."""
    try:
        return await call
    except InvitationError as exc:
        return exc
