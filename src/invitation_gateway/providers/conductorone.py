"""ConductorOne local-directory invitations (conductorone-notes.md §2, §6).

Wire format: proto3 JSON, camelCase keys, RFC 3339 timestamps, zero values omitted, errors as
`google.rpc.Status` (`{code, message}`) behind grpc-gateway HTTP statuses. We classify errors by
HTTP status first (notes §6.2: the codes for several cases are unverified) and read the body
only for the log.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from ..domain.errors import (
    InvalidInvitationInput,
    InvitationConflict,
    InvitationError,
    InvitationForbidden,
    InvitationNotFound,
    InvitationNotRevocable,
    ProviderRejected,
)
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
from .auth import BearerAuth
from .base import ConnectionInfo, find_by_email, read_back, revoked_now, settle
from .conductorone_auth import ClientCredentialsAuth
from .http import UpstreamClient, UpstreamResponse, path
from .registry import Connection, HealthCheck
from .reliability import Reliability, RetryPolicy
from .reuse import RecentInvitations

_STATUS_PREFIX = "LOCAL_INVITATION_STATUS_"
_MIN_PAGE, _MAX_PAGE = 10, 100
_CONCURRENCY = 8  # creates in flight per createInvitations call


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _CreateRequest(_Wire):
    """`LocalUserInvitationServiceCreateRequestInput`; directoryAppId travels in the path."""

    email: str
    display_name: str
    initial_role_ids: list[str] | None = None
    purpose: str | None = None


class _LocalUserInvitation(_Wire):
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


class _InvitationEnvelope(_Wire):
    """Create, Get and Revoke all answer `{"invitation": …}` (notes §2.3, SDK naming note).

    The spec marks no field required, so `invitation` may be null or absent: the adapters then
    read the invitation back instead of calling the answer unreadable.
    """

    invitation: _LocalUserInvitation | None = None


class _SearchResponse(_Wire):
    """`LocalUserInvitationServiceSearchResponse`: `list` and `nextPageToken` may be absent."""

    items: list[_LocalUserInvitation] | None = Field(default=None, alias="list")
    next_page_token: str | None = None


class _Status(_Wire):
    """`google.rpc.Status`; `code` is numeric in observed bodies, a string in one fixture."""

    code: int | str | None = None
    message: str | None = None


def to_invitation(
    wire: dict[str, Any] | _LocalUserInvitation, target: InvitationTarget
) -> Invitation:
    """Map a wire `LocalUserInvitation` onto the common `Invitation`."""
    item = (
        wire
        if isinstance(wire, _LocalUserInvitation)
        else _LocalUserInvitation.model_validate(wire)
    )
    status = item.status or ""
    return Invitation(
        target=target,
        provider_invitation_id=item.id,
        email=item.email,
        status=InvitationStatus.parse(status.removeprefix(_STATUS_PREFIX) if status else None),
        display_name=item.display_name or None,
        roles=tuple(item.initial_role_ids or ()),
        purpose=item.purpose or None,
        invited_by=item.invited_by_user_id or None,
        created_at=_utc(item.created_at),
        updated_at=_utc(item.updated_at),
        expires_at=_utc(item.expires_at),
        accepted_at=_utc(item.accepted_at),
    )


def to_create_request(new: NewInvitation) -> dict[str, Any]:
    """The JSON body for Create: only spec fields, zero values left out."""
    return _CreateRequest(
        email=new.email,
        # Validation defaults it for ConductorOne, which requires one; the email is the fallback.
        display_name=new.display_name or new.email,
        initial_role_ids=list(new.roles) or None,
        purpose=new.purpose,
    ).model_dump(by_alias=True, exclude_none=True)


class ConductorOneDirectory:
    """The port for `CONDUCTORONE_DIRECTORY` targets on one ConductorOne connection."""

    kind = TargetKind.CONDUCTORONE_DIRECTORY

    def __init__(self, client: UpstreamClient, recent: RecentInvitations | None = None) -> None:
        self._client = client
        self._recent = recent or RecentInvitations()

    async def create(self, new: NewInvitation) -> Invitation:
        directory = _directory(new.target)
        sent_at = self._recent.now()
        answer = await self._client.send(
            "POST",
            path("api", "v1", "local-directory-configs", directory, "invitations"),
            operation="create",
            retry=RetryPolicy.CREATE,
            json_body=to_create_request(new),
        )
        if answer.status == 200:
            return await self._created(answer, new, sent_at)
        if answer.status == 404:
            raise InvitationNotFound("no such ConductorOne directory", field=("target", "id"))
        if answer.status in {400, 409}:
            # UNVERIFIED (conductorone-notes.md §7.3): the answer to a duplicate is not
            # documented. grpc-gateway maps ALREADY_EXISTS to 409; a FAILED_PRECONDITION would be
            # a 400. The email was validated here, so a 400 with a pending invitation for it is
            # read as the duplicate, whatever its message says.
            existing = await self._pending_for(new)
            if answer.status == 409 or existing is not None:
                raise _conflict(existing)
        raise self._rejected(answer, "create")

    async def _created(
        self, answer: UpstreamResponse, new: NewInvitation, sent_at: float
    ) -> Invitation:
        """The invitation a 200 answered, unless it is one that existed before the request."""
        wire = self._client.read(_InvitationEnvelope, answer, "create").invitation
        if wire is None:
            # The create was done but its answer names no invitation: read it back.
            invitation = await self._pending_for(new)
            if invitation is None:
                self._client.log_unexpected("create", answer, "no invitation in the answer")
                error = self._client.unreadable()
                error.may_have_acted = True
                raise error
        else:
            invitation = to_invitation(wire, new.target)
        if self._recent.is_reused(invitation, answer, sent_at):
            # A 200 carrying the existing pending invitation (one of the undocumented duplicate
            # answers, §7.3): not a new invitation.
            raise _conflict(invitation)
        self._recent.remember([invitation])
        return invitation

    async def _pending_for(self, new: NewInvitation) -> Invitation | None:
        """The newest pending invitation for the new one's email in its directory, if any."""
        pending = frozenset({InvitationStatus.PENDING})
        found = await find_by_email(self, new.target, new.email, statuses=pending)
        return found[0] if found else None

    async def revoke(self, ref: InvitationRef) -> Invitation:
        answer = await self._client.send(
            "POST",
            _invitation_path(ref, "revoke"),
            operation="revoke",
            retry=RetryPolicy.SAFE,
            # The Revoke request message has no properties: the body is `{}` (notes §2).
            json_body={},
        )
        if answer.status == 200:
            revoked = self._read(answer, ref.target, "revoke")
            if revoked is None:  # the answer names no invitation: read what the revoke did
                revoked = await self.get(ref)
                if not revoked_now(revoked):
                    self._client.log_unexpected("revoke", answer, "no invitation in the answer")
                    raise self._client.unreadable()
            return revoked
        if answer.status == 404:
            raise InvitationNotFound("no such invitation")
        if answer.status in {400, 409}:
            # UNVERIFIED (notes §6.2, §7.2): revoking a non-pending invitation is expected to be a
            # 400 FAILED_PRECONDITION; the notes advise treating a revoke 400 as "not revocable".
            current = await read_back(self, ref)
            if answer.after_unknown_outcome and revoked_now(current):
                # Our own earlier attempt revoked it and its answer was lost: that is success.
                return current
            raise InvitationNotRevocable("the invitation is no longer pending", invitation=current)
        raise self._rejected(answer, "revoke")

    async def get(self, ref: InvitationRef) -> Invitation | None:
        answer = await self._client.send(
            "GET",
            _invitation_path(ref),
            operation="get",
            retry=RetryPolicy.SAFE,
        )
        if answer.status == 200:
            return self._read(answer, ref.target, "get")  # None: the answer names none
        if answer.status == 404:
            return None
        raise self._rejected(answer, "get")

    async def list(self, query: ListQuery) -> InvitationPage:
        body: dict[str, object] = {
            "directoryAppId": _directory(query.target),
            # page_size is clamped to 10..100 upstream (conductorone-notes.md §4).
            "pageSize": min(_MAX_PAGE, max(_MIN_PAGE, query.limit)),
        }
        known = [s for s in query.statuses if s is not InvitationStatus.UNKNOWN]
        if len(query.statuses) == 1 and known:
            # statusFilter takes one value; several statuses (or none) are filtered here.
            body["statusFilter"] = _STATUS_PREFIX + known[0].value
        if query.position is not None:
            body["pageToken"] = query.position
        answer = await self._client.send(
            "POST",
            path("api", "v1", "search", "local-directory-invitations"),
            operation="list",
            retry=RetryPolicy.SAFE,
            json_body=body,
        )
        if answer.status == 400 and query.position is not None:
            # A page token the upstream no longer accepts (notes §4: bad tokens are 400).
            raise InvalidInvitationInput.at(
                ("after",), "has expired; start from the first page again"
            )
        if answer.status != 200:
            raise self._rejected(answer, "list")
        page = self._client.read(_SearchResponse, answer, "list")
        items = tuple(
            invitation
            for invitation in (to_invitation(item, query.target) for item in page.items or [])
            if query.admits(invitation)
        )
        # An absent or empty nextPageToken marks the last page (proto3 omission, notes §4).
        # UNVERIFIED (notes §2.2: Search documents no sort order): the merged list is in exact
        # creation order only if Search answers newest first, as the emulator does. Page tokens
        # are positions, not offsets, so whatever the order no invitation is lost or repeated.
        return InvitationPage(items, page.next_page_token or None, total_count=None, stable=True)

    async def create_many(
        self, news: Sequence[NewInvitation]
    ) -> builtins.list[Invitation | InvitationError]:
        # ConductorOne has no bulk endpoint: concurrent creates, at most _CONCURRENCY at once.
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(new: NewInvitation) -> Invitation | InvitationError:
            async with gate:
                return await settle(self.create(new))

        return builtins.list(await asyncio.gather(*(one(new) for new in news)))

    def _read(
        self, answer: UpstreamResponse, target: InvitationTarget, operation: str
    ) -> Invitation | None:
        wire = self._client.read(_InvitationEnvelope, answer, operation).invitation
        if wire is None:
            return None
        invitation = to_invitation(wire, target)
        self._recent.remember([invitation])
        return invitation

    def _rejected(self, answer: UpstreamResponse, operation: str) -> InvitationError:
        if answer.status == 403:
            return InvitationForbidden("ConductorOne does not allow this for the gateway's account")
        status = _parse_status(answer)
        self._client.log_unexpected(
            operation, answer, f"unmapped client error (grpc code {status.code!r})"
        )
        return ProviderRejected("ConductorOne rejected the request", provider=Provider.CONDUCTORONE)


@dataclass(frozen=True, slots=True)
class ConductorOneConfig:
    """One ConductorOne connection, as plain values: a bearer token or OAuth client credentials."""

    name: str
    base_url: str
    token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    default_directory: str | None = None
    reliability: Reliability = field(default_factory=Reliability)


def open_connection(
    config: ConductorOneConfig, transport: httpx.AsyncBaseTransport | None = None
) -> Connection:
    """The connection's pooled client, credentials and adapter; the caller closes the client."""
    auth: httpx.Auth
    if config.client_id is not None and config.client_secret is not None:
        # OAuth client credentials (conductorone-notes.md §5): the token endpoint lives on the
        # tenant host, and the token request goes through this same pooled client.
        auth = ClientCredentialsAuth.for_base_url(
            client_id=config.client_id,
            client_secret=config.client_secret.get_secret_value(),
            base_url=config.base_url,
        )
    elif config.token is not None:
        auth = BearerAuth(config.token)
    else:
        raise ValueError(f"ConductorOne connection {config.name!r} has no credentials")
    client = UpstreamClient(
        provider=Provider.CONDUCTORONE,
        base_url=config.base_url,
        auth=auth,
        request_id_header="request-id",
        transport=transport,
        reliability=config.reliability,
        name=config.name,
    )
    info = ConnectionInfo(
        name=config.name,
        provider=Provider.CONDUCTORONE,
        kinds=(TargetKind.CONDUCTORONE_DIRECTORY,),
        default_target_id=config.default_directory,
    )
    port = ConductorOneDirectory(client)
    health = HealthCheck(path("api", "v1", "local-directory-configs"), {"page_size": "10"})
    return Connection(info, {port.kind: port}, client, health)


def _conflict(existing: Invitation | None) -> InvitationConflict:
    return InvitationConflict(
        "a pending invitation for this email already exists in this directory",
        field=("email",),
        existing=existing,
    )


def _invitation_path(ref: InvitationRef, *tail: str) -> str:
    """`/api/v1/local-directory-configs/{directory}/invitations/{id}[/tail]`, each part escaped."""
    directory = _directory(ref.target)
    return path(
        "api",
        "v1",
        "local-directory-configs",
        directory,
        "invitations",
        ref.provider_invitation_id,
        *tail,
    )


def _directory(target: InvitationTarget) -> str:
    if not target.id:  # validation guarantees one; an empty segment would be redirected (§6.1)
        raise InvitationNotFound("no ConductorOne directory given", field=("target", "id"))
    return target.id


def _parse_status(answer: UpstreamResponse) -> _Status:
    """Read `{code, message}` from any body: JSON of another shape, HTML and empty give blanks."""
    body = answer.json()
    if not isinstance(body, dict):
        return _Status()
    try:
        return _Status.model_validate(body)
    except ValidationError:
        return _Status()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
