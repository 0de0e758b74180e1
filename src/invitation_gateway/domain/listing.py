"""Values for reading invitations page by page from one target.

A `ListQuery` asks one target for the invitations after an upstream position (a ConductorOne
page token, a Clerk offset: opaque outside the adapter), newest first, already filtered by
status and email; the `InvitationPage` answers with the next position and, when the upstream's
own filtering was exact, the total count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from .invitations import Invitation, InvitationStatus, InvitationTarget

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ListQuery:
    target: InvitationTarget
    statuses: frozenset[InvitationStatus] = frozenset()  # empty: every status
    email: str | None = None  # exact, case-insensitive
    position: str | None = None  # None: the newest invitation
    limit: int = 20

    def admits(self, invitation: Invitation) -> bool:
        """Whether `invitation` passes the filters (adapters apply what upstreams cannot)."""
        if self.statuses and invitation.status not in self.statuses:
            return False
        return self.email is None or invitation.email.casefold() == self.email.casefold()


@dataclass(frozen=True, slots=True)
class InvitationPage:
    """Invitations in upstream order (newest first) and where the next page starts."""

    items: tuple[Invitation, ...]
    next_position: str | None  # None: this was the last page
    total_count: int | None = None  # None: the upstream cannot say, or filtering was not exact
    # True when positions are stable tokens (a page read again holds the same items); False for
    # offsets, which move when invitations are added or leave a filter between two pages.
    stable: bool = False


def sort_key(invitation: Invitation) -> tuple[datetime, str]:
    """Newest first across targets: creation time, then the upstream id as a tie-break."""
    return (invitation.created_at or _EPOCH, invitation.provider_invitation_id)
