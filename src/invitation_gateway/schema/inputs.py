"""GraphQL input types and their translation into domain values.

Translation only copies values; the rules live in `domain.validation` so that every entry point
(this schema, bulk creation later) applies the same ones.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from ..domain import invitations as domain
from .types import InvitationTargetKind


@strawberry.input(description="Where to invite into.")
class InvitationTargetInput:
    kind: InvitationTargetKind
    id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Directory app id (ConductorOne) or organization id (Clerk); omit for a Clerk "
            "application. A ConductorOne target may omit it to use the connection's default directory."
        ),
    )
    connection: str | None = strawberry.field(
        default=None, description="Which configured upstream; omit for the default one."
    )

    def to_domain(self) -> domain.InvitationTarget:
        return domain.InvitationTarget(
            kind=self.kind,
            id=str(self.id) if self.id is not None else None,
            connection=self.connection or domain.DEFAULT_CONNECTION,
        )


@strawberry.input(description="An invitation to create.")
class CreateInvitationInput:
    target: InvitationTargetInput
    email: str
    display_name: str | None = strawberry.field(
        default=None,
        description="ConductorOne requires one: defaults to the email's local part.",
    )
    roles: list[str] | None = strawberry.field(
        default=None,
        description="ConductorOne: any number of role ids. Clerk organization: exactly one (e.g. org:member). Clerk application: none.",
    )
    purpose: str | None = strawberry.field(default=None, description="ConductorOne only.")
    redirect_url: str | None = strawberry.field(default=None, description="Clerk only.")
    expires_in_days: int | None = strawberry.field(default=None, description="Clerk only, 1..365.")
    notify: bool | None = strawberry.field(
        default=None, description="Clerk only: send the invitation email (default true)."
    )
    public_metadata: JSON | None = strawberry.field(
        default=None, description="Clerk only: a JSON object copied onto the user or membership."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Replaying a key returns the first result without a second invitation.",
    )

    def to_domain(self) -> domain.NewInvitation:
        metadata: Any = self.public_metadata
        return domain.NewInvitation(
            target=self.target.to_domain(),
            email=self.email,
            display_name=self.display_name,
            roles=tuple(self.roles or ()),
            purpose=self.purpose,
            redirect_url=self.redirect_url,
            expires_in_days=self.expires_in_days,
            notify=self.notify,
            public_metadata=metadata,
            idempotency_key=self.idempotency_key,
        )


@strawberry.input(description="The invitation to revoke.")
class RevokeInvitationInput:
    id: strawberry.ID = strawberry.field(description="The invitation's global id.")
