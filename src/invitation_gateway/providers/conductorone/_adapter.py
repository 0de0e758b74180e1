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

from ...domain.audit import carrying
from ...domain.errors import (
    InvalidInvitationInput,
    InvitationConflict,
    InvitationError,
    InvitationForbidden,
    InvitationNotFound,
    InvitationNotRevocable,
    ProviderRejected,
)
from ...domain.invitations import (
    Invitation,
    InvitationRef,
    InvitationStatus,
    InvitationTarget,
    NewInvitation,
    Provider,
    TargetKind,
)
from ...domain.listing import InvitationPage, ListQuery
from ..answers import UpstreamResponse
from ..base import newest_pending, read_back, revoked_now, settle
from ..http import UpstreamClient
from ..paths import UpstreamPath, path
from ..reliability import RetryPolicy
from ..reuse import RecentInvitations
from ._wire import (
    STATUS_PREFIX,
    InvitationEnvelope,
    SearchResponse,
    parse_status,
    to_create_request,
    to_invitation,
)

_MIN_PAGE, _MAX_PAGE = 10, 100
_CONCURRENCY = 8  # creates in flight per createInvitations call


class ConductorOneDirectory:
    """The port for `CONDUCTORONE_DIRECTORY` targets on one ConductorOne connection."""

    kind = TargetKind.CONDUCTORONE_DIRECTORY

    def __init__(self, client: UpstreamClient, recent: RecentInvitations | None = None) -> None:
        self._client = client
        self._recent = recent or RecentInvitations()

    async def create(self, new: NewInvitation) -> Invitation:
        directory = _directory(new.target)
        sent_at = self._recent.now()
        with carrying(new):  # its request id is this create's, in the audit log
            answer = await self._client.send(
                "POST",
                path(
                    "/api/v1/local-directory-configs/{directory_id}/invitations",
                    directory_id=directory,
                ),
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
            existing = await newest_pending(self, new)
            if answer.status == 409 or existing is not None:
                raise _conflict(existing)
        raise self._rejected(answer, "create")

    async def _created(
        self, answer: UpstreamResponse, new: NewInvitation, sent_at: float
    ) -> Invitation:
        """The invitation a 200 answered, unless it is one that existed before the request."""
        wire = self._client.read(InvitationEnvelope, answer, "create").invitation
        if wire is None:
            # The create was done but its answer names no invitation: read it back.
            invitation = await newest_pending(self, new)
            if invitation is None:
                self._client.log_unexpected("create", answer, "no invitation in the answer")
                error = self._client.unreadable()
                error.may_have_acted = True
                raise error
        else:
            invitation = to_invitation(wire, new.target)
        if not self._recent.claims_new(invitation, answer, sent_at):
            # A 200 carrying the existing pending invitation (one of the undocumented duplicate
            # answers, §7.3): not a new invitation.
            raise _conflict(invitation)
        return invitation

    async def revoke(self, ref: InvitationRef, *, requester: str | None = None) -> Invitation:
        with carrying(ref):  # its request id is this revoke's, in the audit log
            answer = await self._client.send(
                "POST",
                _invitation_path(ref, "/revoke"),
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
            body["statusFilter"] = STATUS_PREFIX + known[0].value
        if query.position is not None:
            body["pageToken"] = query.position
        answer = await self._client.send(
            "POST",
            path("/api/v1/search/local-directory-invitations"),
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
        page = self._client.read(SearchResponse, answer, "list")
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
        wire = self._client.read(InvitationEnvelope, answer, operation).invitation
        if wire is None:
            return None
        invitation = to_invitation(wire, target)
        self._recent.remember([invitation])
        return invitation

    def _rejected(self, answer: UpstreamResponse, operation: str) -> InvitationError:
        if answer.status == 403:
            return InvitationForbidden("ConductorOne does not allow this for the gateway's account")
        status = parse_status(answer)
        self._client.log_unexpected(
            operation, answer, f"unmapped client error (grpc code {status.code!r})"
        )
        return ProviderRejected("ConductorOne rejected the request", provider=Provider.CONDUCTORONE)


def _conflict(existing: Invitation | None) -> InvitationConflict:
    return InvitationConflict(
        "a pending invitation for this email already exists in this directory",
        field=("email",),
        existing=existing,
    )


def _invitation_path(ref: InvitationRef, tail: str = "") -> UpstreamPath:
    """`/api/v1/local-directory-configs/{directory_id}/invitations/{invitation_id}[tail]`."""
    return path(
        "/api/v1/local-directory-configs/{directory_id}/invitations/{invitation_id}" + tail,
        directory_id=_directory(ref.target),
        invitation_id=ref.provider_invitation_id,
    )


def _directory(target: InvitationTarget) -> str:
    if not target.id:  # validation guarantees one; an empty segment would be redirected (§6.1)
        raise InvitationNotFound("no ConductorOne directory given", field=("target", "id"))
    return target.id
