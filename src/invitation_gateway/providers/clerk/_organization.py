"""Clerk organization invitations, `/v1/organizations/{org}/invitations` (clerk-notes.md §3).

Unlike application invitations: a get-by-id, `{data, total_count}` from bulk creates, a 404
`organization_invitation_not_pending` for revoking an invitation that exists but is no longer
pending, a re-used pending invitation answered 200 with its email re-sent (§3.1), and an inviter
Clerk itself checks. Creates and revokes are marked with the attempts they carry (`carrying`),
as in `_application.py`.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence

from pydantic import BaseModel

from ...domain.audit import carrying
from ...domain.errors import (
    InvitationConflict,
    InvitationError,
    InvitationNotFound,
    InvitationNotRevocable,
)
from ...domain.invitations import (
    Invitation,
    InvitationRef,
    InvitationTarget,
    NewInvitation,
    TargetKind,
)
from ...domain.listing import InvitationPage, ListQuery
from ..answers import UpstreamResponse
from ..base import revoked_now
from ..paths import UpstreamPath, path
from ..reliability import RetryPolicy
from ._common import ClerkAdapter, clerk_common_body, status_params, with_existing
from ._wire import ClerkInvitationWire, first_error, to_invitation

_RESENT = (
    "a pending invitation for this email already exists in this organization;"
    " Clerk sent its email again instead of creating a new one"
)


class _Envelope(BaseModel):
    data: list[ClerkInvitationWire]


class ClerkOrganization(ClerkAdapter):
    """The port for `CLERK_ORGANIZATION` targets."""

    kind = TargetKind.CLERK_ORGANIZATION

    async def create(self, new: NewInvitation) -> Invitation:
        sent_at = self._recent.now()
        with carrying(new):
            answer = await self._client.send(
                "POST",
                path(
                    "/organizations/{organization_id}/invitations",
                    organization_id=_organization(new.target),
                ),
                operation="create",
                retry=RetryPolicy.CREATE,
                json_body=_org_body(new),
            )
        if answer.status == 200:
            wire = self._client.read(ClerkInvitationWire, answer, "create")
            return self._fresh(to_invitation(wire, new.target), answer, sent_at)
        error = _about_target(self._error(answer, "create"))
        raise await with_existing(self, error, new)

    def _fresh(
        self, invitation: Invitation, answer: UpstreamResponse, sent_at: float
    ) -> Invitation:
        """The created invitation; a re-used one (clerk-notes.md §3.1) is ALREADY_EXISTS."""
        if not self._recent.claims_new(invitation, answer, sent_at):
            raise InvitationConflict(_RESENT, field=("email",), existing=invitation)
        return invitation

    async def create_many(
        self, news: Sequence[NewInvitation]
    ) -> builtins.list[Invitation | InvitationError]:
        # One bulk endpoint per organization: group, create, then put results back in order.
        groups: dict[str | None, list[int]] = {}
        for index, new in enumerate(news):
            groups.setdefault(new.target.id, []).append(index)
        results: list[Invitation | InvitationError | None] = [None] * len(news)
        grouped = await asyncio.gather(
            *(
                self._create_chunked([news[i] for i in indexes], self._bulk, self.create)
                for indexes in groups.values()
            )
        )
        for indexes, outcomes in zip(groups.values(), grouped, strict=True):
            for index, outcome in zip(indexes, outcomes, strict=True):
                results[index] = outcome
        return [r for r in results if r is not None]

    async def _bulk(
        self, news: Sequence[NewInvitation]
    ) -> builtins.list[Invitation | InvitationError]:
        sent_at = self._recent.now()
        with carrying(*news):
            answer = await self._client.send(
                "POST",
                path(
                    "/organizations/{organization_id}/invitations/bulk",
                    organization_id=_organization(news[0].target),
                ),
                operation="create_many",
                retry=RetryPolicy.CREATE,
                json_body=[_org_body(new) for new in news],
            )
        if answer.status != 200:
            raise _about_target(self._error(answer, "create_many"))
        # Organization bulk answers the paginated envelope, unlike application bulk (§3.2).
        items = self._client.read(_Envelope, answer, "create_many").data
        created = self._match(news, [to_invitation(i, news[0].target) for i in items], answer)
        results: builtins.list[Invitation | InvitationError] = []
        for invitation in created:
            try:
                results.append(self._fresh(invitation, answer, sent_at))
            except InvitationConflict as exc:  # this item was a re-used pending invitation
                results.append(exc)
        return results

    async def revoke(self, ref: InvitationRef, *, requester: str | None = None) -> Invitation:
        with carrying(ref):
            answer = await self._client.send(
                "POST",
                _org_invitation_path(ref, "/revoke"),
                operation="revoke",
                retry=RetryPolicy.SAFE,
                # Without `requesting_user_id` Clerk acts as the instance; with it (a Clerk
                # user calling), Clerk itself checks that user may manage the organization's
                # members.
                json_body={"requesting_user_id": requester} if requester else {},
            )
        if answer.status == 200:
            return self._read(answer, ref.target, "revoke")
        code, _ = first_error(answer)
        if answer.status == 404 and code == "organization_invitation_not_pending":
            # Clerk answers 404 both for "no such invitation" and "not pending" (notes §3.6):
            # only a read tells them apart.
            existing = await self.get(ref)
            if existing is None:
                raise InvitationNotFound("no such invitation")
            if answer.after_unknown_outcome and revoked_now(existing):
                return existing  # our own earlier attempt revoked it; its answer was lost
            raise InvitationNotRevocable("the invitation is no longer pending", invitation=existing)
        raise self._error(answer, "revoke")

    async def get(self, ref: InvitationRef) -> Invitation | None:
        answer = await self._client.send(
            "GET",
            _org_invitation_path(ref),
            operation="get",
            retry=RetryPolicy.SAFE,
        )
        if answer.status == 200:
            return self._read(answer, ref.target, "get")
        if answer.status == 404:
            return None
        raise self._error(answer, "get")

    async def list(self, query: ListQuery) -> InvitationPage:
        statuses, exact = status_params(query)
        params: dict[str, str | int | list[str]] = {"status": statuses}
        if query.email is not None:
            params["email_address"] = query.email
        url = path(
            "/organizations/{organization_id}/invitations",
            organization_id=_organization(query.target),
        )
        try:
            return await self._list_page(url, query, params, exact)
        except InvitationError as exc:
            raise _about_target(exc) from exc


def _org_body(new: NewInvitation) -> dict[str, object]:
    body = clerk_common_body(new)
    body["role"] = new.roles[0]  # validation guarantees exactly one role
    if new.inviter_user_id is not None:
        # Clerk then refuses an inviter who is not an admin member (403, clerk-notes.md §3.1).
        body["inviter_user_id"] = new.inviter_user_id
    return body


def _about_target(error: InvitationError) -> InvitationError:
    """A 404 while addressing an organization's collection means the organization is unknown."""
    if isinstance(error, InvitationNotFound):
        return InvitationNotFound("no such Clerk organization", field=("target", "id"))
    return error


def _org_invitation_path(ref: InvitationRef, tail: str = "") -> UpstreamPath:
    """`/organizations/{organization_id}/invitations/{invitation_id}[tail]`, each id escaped."""
    return path(
        "/organizations/{organization_id}/invitations/{invitation_id}" + tail,
        organization_id=_organization(ref.target),
        invitation_id=ref.provider_invitation_id,
    )


def _organization(target: InvitationTarget) -> str:
    if not target.id:
        raise InvitationNotFound("no Clerk organization given", field=("target", "id"))
    return target.id
