"""ConductorOne's wire format for local-directory invitations (conductorone-notes.md §2, §6).

Proto3 JSON: camelCase keys, RFC 3339 timestamps, zero values omitted (so no field is
required), errors as `google.rpc.Status` (`{code, message}`) behind grpc-gateway statuses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from ...domain.invitations import Invitation, InvitationStatus, InvitationTarget, NewInvitation
from ..answers import UpstreamResponse

STATUS_PREFIX = "LOCAL_INVITATION_STATUS_"


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class CreateRequest(Wire):
    """`LocalUserInvitationServiceCreateRequestInput`; directoryAppId travels in the path."""

    email: str
    display_name: str
    initial_role_ids: list[str] | None = None
    purpose: str | None = None


class LocalUserInvitation(Wire):
    """`c1.api.local_directory.v1.LocalUserInvitation`: no field is required (proto3 JSON)."""

    id: str = Field(min_length=1)
    directory_app_id: str | None = None
    email: str = ""
    display_name: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    accepted_at: datetime | None = None
    invited_by_user_id: str | None = None
    initial_role_ids: list[str] | None = None
    purpose: str | None = None


class InvitationEnvelope(Wire):
    """Create, Get and Revoke all answer `{"invitation": …}` (notes §2.3, SDK naming note).

    The spec marks no field required, so `invitation` may be null or absent: the adapters then
    read the invitation back instead of calling the answer unreadable.
    """

    invitation: LocalUserInvitation | None = None


class SearchResponse(Wire):
    """`LocalUserInvitationServiceSearchResponse`: `list` and `nextPageToken` may be absent."""

    items: list[LocalUserInvitation] | None = Field(default=None, alias="list")
    next_page_token: str | None = None


class Status(Wire):
    """`google.rpc.Status`; `code` is numeric in observed bodies, a string in one fixture."""

    code: int | str | None = None
    message: str | None = None


def to_invitation(
    wire: dict[str, Any] | LocalUserInvitation, target: InvitationTarget
) -> Invitation:
    """Map a wire `LocalUserInvitation` onto the common `Invitation`."""
    item = (
        wire if isinstance(wire, LocalUserInvitation) else LocalUserInvitation.model_validate(wire)
    )
    status = item.status or ""
    return Invitation(
        target=target,
        provider_invitation_id=item.id,
        email=item.email,
        status=InvitationStatus.parse(status.removeprefix(STATUS_PREFIX) if status else None),
        display_name=item.display_name or None,
        roles=tuple(item.initial_role_ids or ()),
        purpose=item.purpose or None,
        invited_by=item.invited_by_user_id or None,
        created_at=utc(item.created_at),
        updated_at=utc(item.updated_at),
        expires_at=utc(item.expires_at),
        accepted_at=utc(item.accepted_at),
    )


def to_create_request(new: NewInvitation) -> dict[str, Any]:
    """The JSON body for Create: only spec fields, zero values left out."""
    return CreateRequest(
        email=new.email,
        # Validation defaults it for ConductorOne, which requires one; the email is the fallback.
        display_name=new.display_name or new.email,
        initial_role_ids=list(new.roles) or None,
        purpose=new.purpose,
    ).model_dump(by_alias=True, exclude_none=True)


def parse_status(answer: UpstreamResponse) -> Status:
    """Read `{code, message}` from any body: JSON of another shape, HTML and empty give blanks."""
    body = answer.json()
    if not isinstance(body, dict):
        return Status()
    try:
        return Status.model_validate(body)
    except ValidationError:
        return Status()


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
