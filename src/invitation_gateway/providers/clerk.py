"""Clerk application and organization invitations (clerk-notes.md §2, §3, §8).

Two adapters over one Clerk connection (one pooled client, one secret key):
`ClerkApplication` for `/v1/invitations` and `ClerkOrganization` for
`/v1/organizations/{org}/invitations`. Their differences are the quirks DESIGN.md hides: no
get-by-id for application invitations (we search with `query=`), bare arrays from application
bulk creates but `{data, total_count}` from organization ones, and a 404
`organization_invitation_not_pending` for revoking an organization invitation that exists but
is no longer pending.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence

from pydantic import BaseModel, RootModel

from ..domain.errors import InvitationError, InvitationNotFound, InvitationNotRevocable
from ..domain.invitations import (
    Invitation,
    InvitationRef,
    InvitationTarget,
    NewInvitation,
    TargetKind,
)
from ..domain.listing import InvitationPage, ListQuery
from ._clerk_common import ALL_STATUSES, ClerkAdapter, clerk_common_body, status_params
from ._clerk_wire import ClerkInvitationWire, first_error, to_invitation
from .base import read_back
from .http import path
from .reliability import RetryPolicy


class _BareList(RootModel[list[ClerkInvitationWire]]):
    pass


class _Envelope(BaseModel):
    data: list[ClerkInvitationWire]


class ClerkApplication(ClerkAdapter):
    """The port for `CLERK_APPLICATION` targets."""

    kind = TargetKind.CLERK_APPLICATION

    async def create(self, new: NewInvitation) -> Invitation:
        answer = await self._client.send(
            "POST",
            path("invitations"),
            operation="create",
            retry=RetryPolicy.CREATE,
            json_body=clerk_common_body(new),
        )
        if answer.status == 200:
            return self._read(answer, new.target, "create")
        raise self._error(answer, "create")

    async def create_many(
        self, news: Sequence[NewInvitation]
    ) -> builtins.list[Invitation | InvitationError]:
        return await self._create_chunked(news, self._bulk, self.create)

    async def _bulk(self, news: Sequence[NewInvitation]) -> builtins.list[Invitation]:
        answer = await self._client.send(
            "POST",
            path("invitations", "bulk"),
            operation="create_many",
            retry=RetryPolicy.CREATE,
            json_body=[clerk_common_body(new) for new in news],
        )
        if answer.status != 200:
            raise self._error(answer, "create_many")
        # Application bulk answers a bare array (clerk-notes.md §2.2, §8.2).
        items = self._client.read(_BareList, answer, "create_many").root
        return self._match(news, [to_invitation(i, news[0].target) for i in items], answer)

    async def revoke(self, ref: InvitationRef) -> Invitation:
        answer = await self._client.send(
            "POST",
            path("invitations", ref.provider_invitation_id, "revoke"),
            operation="revoke",
            retry=RetryPolicy.SAFE,
        )
        if answer.status == 200:
            return self._read(answer, ref.target, "revoke")
        error = self._error(answer, "revoke")
        if isinstance(error, InvitationNotRevocable):
            error = InvitationNotRevocable(error.message, invitation=await read_back(self, ref))
        raise error

    async def get(self, ref: InvitationRef) -> Invitation | None:
        # No GET-by-id exists for application invitations (clerk-notes.md §2.5): search by id,
        # over every status (without `status`, revoked ones are left out, §2.3).
        page = await self._list_page(
            path("invitations"),
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
        return await self._list_page(path("invitations"), query, params, exact)


class ClerkOrganization(ClerkAdapter):
    """The port for `CLERK_ORGANIZATION` targets."""

    kind = TargetKind.CLERK_ORGANIZATION

    async def create(self, new: NewInvitation) -> Invitation:
        answer = await self._client.send(
            "POST",
            path("organizations", _organization(new.target), "invitations"),
            operation="create",
            retry=RetryPolicy.CREATE,
            json_body=_org_body(new),
        )
        if answer.status == 200:
            return self._read(answer, new.target, "create")
        raise _about_target(self._error(answer, "create"))

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

    async def _bulk(self, news: Sequence[NewInvitation]) -> builtins.list[Invitation]:
        answer = await self._client.send(
            "POST",
            path("organizations", _organization(news[0].target), "invitations", "bulk"),
            operation="create_many",
            retry=RetryPolicy.CREATE,
            json_body=[_org_body(new) for new in news],
        )
        if answer.status != 200:
            raise _about_target(self._error(answer, "create_many"))
        # Organization bulk answers the paginated envelope, unlike application bulk (§3.2).
        items = self._client.read(_Envelope, answer, "create_many").data
        return self._match(news, [to_invitation(i, news[0].target) for i in items], answer)

    async def revoke(self, ref: InvitationRef) -> Invitation:
        answer = await self._client.send(
            "POST",
            _org_invitation_path(ref, "revoke"),
            operation="revoke",
            retry=RetryPolicy.SAFE,
            # The body is optional; `requesting_user_id` stays unset so Clerk acts as the instance.
            json_body={},
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
        url = path("organizations", _organization(query.target), "invitations")
        try:
            return await self._list_page(url, query, params, exact)
        except InvitationError as exc:
            raise _about_target(exc) from exc


def _org_body(new: NewInvitation) -> dict[str, object]:
    body = clerk_common_body(new)
    body["role"] = new.roles[0]  # validation guarantees exactly one role
    return body


def _about_target(error: InvitationError) -> InvitationError:
    """A 404 while addressing an organization's collection means the organization is unknown."""
    if isinstance(error, InvitationNotFound):
        return InvitationNotFound("no such Clerk organization", field=("target", "id"))
    return error


def _org_invitation_path(ref: InvitationRef, *tail: str) -> str:
    """`/organizations/{org}/invitations/{id}[/tail]`, each part escaped."""
    return path(
        "organizations", _organization(ref.target), "invitations", ref.provider_invitation_id, *tail
    )


def _organization(target: InvitationTarget) -> str:
    if not target.id:
        raise InvitationNotFound("no Clerk organization given", field=("target", "id"))
    return target.id
