"""The common invitation model every upstream is mapped onto.

Adapters build these values from the upstreams' wire formats; the GraphQL schema renders them.
Everything here is a frozen value object, so an `Invitation` can be shared between concurrent
requests (and cached by a loader) without anyone mutating it behind another's back.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class Provider(enum.Enum):
    """Which vendor holds the invitation."""

    CONDUCTORONE = "CONDUCTORONE"
    CLERK = "CLERK"


class TargetKind(enum.Enum):
    """The kind of place an invitation invites someone into."""

    CONDUCTORONE_DIRECTORY = "CONDUCTORONE_DIRECTORY"
    CLERK_APPLICATION = "CLERK_APPLICATION"
    CLERK_ORGANIZATION = "CLERK_ORGANIZATION"

    @property
    def provider(self) -> Provider:
        return _PROVIDER_OF[self]

    @property
    def needs_target_id(self) -> bool:
        """A directory or organization id names the target; a Clerk application has none."""
        return self is not TargetKind.CLERK_APPLICATION


_PROVIDER_OF = {
    TargetKind.CONDUCTORONE_DIRECTORY: Provider.CONDUCTORONE,
    TargetKind.CLERK_APPLICATION: Provider.CLERK,
    TargetKind.CLERK_ORGANIZATION: Provider.CLERK,
}


class InvitationStatus(enum.Enum):
    """Lifecycle status. UNKNOWN stands for an upstream value we do not know yet.

    ConductorOne marks its status enum `x-speakeasy-unknown-values: allow` and Clerk's organization
    invitation status has no enum at all (clerk-notes.md §4.2), so a new upstream value must never
    crash a query: it reads as UNKNOWN.
    """

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: str | None) -> InvitationStatus:
        if not value:
            return cls.UNKNOWN
        try:
            return cls(value.upper())
        except ValueError:
            return cls.UNKNOWN


DEFAULT_CONNECTION = "default"


@dataclass(frozen=True, slots=True)
class InvitationTarget:
    """Where an invitation invites into: a kind, the upstream container id, and the connection."""

    kind: TargetKind
    id: str | None
    connection: str = DEFAULT_CONNECTION

    @property
    def provider(self) -> Provider:
        return self.kind.provider


@dataclass(frozen=True, slots=True)
class InvitationRef:
    """Everything needed to address one existing invitation upstream, and nothing more."""

    target: InvitationTarget
    provider_invitation_id: str


@dataclass(frozen=True, slots=True)
class Invitation:
    """One invitation, whichever upstream holds it."""

    target: InvitationTarget
    provider_invitation_id: str
    email: str
    status: InvitationStatus
    display_name: str | None = None
    roles: tuple[str, ...] = ()
    purpose: str | None = None
    url: str | None = None
    invited_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    accepted_at: datetime | None = None

    @property
    def provider(self) -> Provider:
        return self.target.provider

    @property
    def ref(self) -> InvitationRef:
        return InvitationRef(self.target, self.provider_invitation_id)


@dataclass(frozen=True, slots=True)
class NewInvitation:
    """A request to invite someone. Validated by `domain.validation` before any adapter sees it."""

    target: InvitationTarget
    email: str
    display_name: str | None = None
    roles: tuple[str, ...] = ()
    purpose: str | None = None
    redirect_url: str | None = None
    expires_in_days: int | None = None
    notify: bool | None = None
    public_metadata: Mapping[str, object] | None = field(default=None, hash=False)
    idempotency_key: str | None = None
    # The upstream user the caller is (a Clerk session's `user_…`), never caller input: Clerk
    # organizations then check that this user may invite (`inviter_user_id`).
    inviter_user_id: str | None = None
