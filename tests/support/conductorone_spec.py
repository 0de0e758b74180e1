"""Strict models of ConductorOne's local-directory answers, from `c1-local-directory.yaml`.

They stand in for SDK models the installed `conductorone-sdk` does not have: every field the
spec names with its type, nothing else (`extra="forbid"`), and the status enum closed. They
parse JSON strictly (`model_validate_json`), as a generated SDK would.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal[
    "LOCAL_INVITATION_STATUS_UNSPECIFIED",
    "LOCAL_INVITATION_STATUS_PENDING",
    "LOCAL_INVITATION_STATUS_ACCEPTED",
    "LOCAL_INVITATION_STATUS_REVOKED",
    "LOCAL_INVITATION_STATUS_EXPIRED",
]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalUserInvitation(_Message):
    """c1.api.local_directory.v1.LocalUserInvitation: no field is required."""

    id: str | None = None
    directoryAppId: str | None = None  # noqa: N815 - the wire name
    email: str | None = None
    displayName: str | None = None  # noqa: N815
    status: Status | None = None
    createdAt: datetime | None = None  # noqa: N815
    updatedAt: datetime | None = None  # noqa: N815
    expiresAt: datetime | None = None  # noqa: N815
    acceptedAt: datetime | None = None  # noqa: N815
    createdUserId: str | None = None  # noqa: N815
    invitedByUserId: str | None = None  # noqa: N815
    initialRoleIds: list[str] | None = None  # noqa: N815
    jobId: str | None = None  # noqa: N815
    onboardingFlowId: str | None = None  # noqa: N815
    purpose: str | None = None
    sponsorUserId: str | None = None  # noqa: N815


class InvitationResponse(_Message):
    """The Create, Get and Revoke responses: `{invitation}`, which may be null."""

    invitation: LocalUserInvitation | None = None


class SearchResponse(_Message):
    list: builtins.list[LocalUserInvitation] | None = None  # the wire name shadows the builtin
    nextPageToken: str | None = None  # noqa: N815


class LocalDirectoryConfig(_Message):
    appId: str | None = None  # noqa: N815
    displayName: str | None = None  # noqa: N815
    isDefault: bool | None = None  # noqa: N815
    allowSelfRegistration: bool | None = None  # noqa: N815
    selfRegistrationDomains: list[str] | None = None  # noqa: N815
    invitationTtl: str | None = None  # noqa: N815 - a proto Duration, e.g. "604800s"
    onboardingFlowId: str | None = None  # noqa: N815
    defaultProfileTypeId: str | None = None  # noqa: N815
    organizationId: str | None = None  # noqa: N815
    createdAt: datetime | None = None  # noqa: N815
    updatedAt: datetime | None = None  # noqa: N815


class ConfigListResponse(_Message):
    list: builtins.list[LocalDirectoryConfig] | None = None
    nextPageToken: str | None = None  # noqa: N815


class ConfigResponse(_Message):
    localDirectoryConfig: LocalDirectoryConfig | None = None  # noqa: N815


class RpcStatus(_Message):
    """google.rpc.Status, the error body (conductorone-notes.md §6.1)."""

    code: int
    message: str
    details: list[dict[str, object]] | None = None


class TokenResponse(_Message):
    """The token endpoint's answer (conductorone-notes.md §5.4)."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
