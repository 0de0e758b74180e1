"""Clerk application invitations, `/v1/invitations` (clerk-notes.md §2, §8).

No get-by-id for application invitations (the gateway searches with `query=`), and bare arrays
from bulk creates. Each call that creates or revokes is marked with the attempts it carries
(`carrying`), so the audit log records each attempt's own call's request id; reads made on the
side are not.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from pydantic import RootModel

from ...domain.audit import carrying
from ...domain.errors import (
    InvitationError,
    InvitationNotRevocable,
)
from ...domain.invitations import (
    Invitation,
    InvitationRef,
    NewInvitation,
    TargetKind,
)
from ...domain.listing import InvitationPage, ListQuery
from ..base import read_back, revoked_now
from ..paths import path
from ..reliability import RetryPolicy
from ._common import ALL_STATUSES, ClerkAdapter, clerk_common_body, status_params, with_existing
from ._wire import ClerkInvitationWire, to_invitation


class _BareList(RootModel[list[ClerkInvitationWire]]):
    pass


class ClerkApplication(ClerkAdapter):
    """The port for `CLERK_APPLICATION` targets."""

    kind = TargetKind.CLERK_APPLICATION

    async def create(self, new: NewInvitation) -> Invitation:
        with carrying(new):
            answer = await self._client.send(
                "POST",
                path("/invitations"),
                operation="create",
                retry=RetryPolicy.CREATE,
                json_body=clerk_common_body(new),
            )
        if answer.status == 200:
            return self._read(answer, new.target, "create")
        raise await with_existing(self, self._error(answer, "create"), new)

    async def create_many(
        self, news: Sequence[NewInvitation]
    ) -> builtins.list[Invitation | InvitationError]:
        return await self._create_chunked(news, self._bulk, self.create)

    async def _bulk(
        self, news: Sequence[NewInvitation]
    ) -> builtins.list[Invitation | InvitationError]:
        with carrying(*news):
            answer = await self._client.send(
                "POST",
                path("/invitations/bulk"),
                operation="create_many",
                retry=RetryPolicy.CREATE,
                json_body=[clerk_common_body(new) for new in news],
            )
        if answer.status != 200:
            raise self._error(answer, "create_many")
        # Application bulk answers a bare array (clerk-notes.md §2.2, §8.2).
        items = self._client.read(_BareList, answer, "create_many").root
        return [*self._match(news, [to_invitation(i, news[0].target) for i in items], answer)]

    async def revoke(self, ref: InvitationRef, *, requester: str | None = None) -> Invitation:
        with carrying(ref):
            answer = await self._client.send(
                "POST",
                path(
                    "/invitations/{invitation_id}/revoke", invitation_id=ref.provider_invitation_id
                ),
                operation="revoke",
                retry=RetryPolicy.SAFE,
            )
        if answer.status == 200:
            return self._read(answer, ref.target, "revoke")
        error = self._error(answer, "revoke")
        if isinstance(error, InvitationNotRevocable):
            current = await read_back(self, ref)
            if answer.after_unknown_outcome and revoked_now(current):
                return current  # our own earlier attempt revoked it; its answer was lost
            error = InvitationNotRevocable(error.message, invitation=current)
        raise error

    async def get(self, ref: InvitationRef) -> Invitation | None:
        # No GET-by-id exists for application invitations (clerk-notes.md §2.5): search by id,
        # over every status (without `status`, revoked ones are left out, §2.3).
        page = await self._list_page(
            path("/invitations"),
            ListQuery(target=ref.target, limit=10),
            {
                "paginated": "true",
                "query": ref.provider_invitation_id,
                "status": list(ALL_STATUSES),
            },
            exact=False,
        )
        return next(
            (i for i in page.items if i.provider_invitation_id == ref.provider_invitation_id), None
        )

    async def list(self, query: ListQuery) -> InvitationPage:
        statuses, exact = status_params(query)
        params: dict[str, str | int | list[str]] = {"paginated": "true", "status": statuses}
        if query.email is not None:
            # `query` matches email or id by substring: exact matching is done on our side.
            params["query"] = query.email
            exact = False
        return await self._list_page(path("/invitations"), query, params, exact)
