"""Clerk application and organization invitations (clerk-notes.md §2, §3, §8).

Two adapters over one Clerk connection (one pooled client, one secret key):
`ClerkApplication` for `/v1/invitations` and `ClerkOrganization` for
`/v1/organizations/{org}/invitations`. Their differences are the quirks DESIGN.md hides: no
get-by-id for application invitations (we search with `query=`), and a 404
`organization_invitation_not_pending` for revoking an organization invitation that exists but
is no longer pending.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..domain.errors import InvitationError, InvitationNotFound, InvitationNotRevocable
from ..domain.invitations import (
    Invitation,
    InvitationRef,
    InvitationTarget,
    NewInvitation,
    TargetKind,
)
from ._clerk_wire import ClerkInvitationWire, first_error, to_invitation, trace_id, translate_error
from .http import UpstreamClient, UpstreamResponse, path

_ALL_STATUSES = ["pending", "accepted", "revoked", "expired"]
_PAGE = TypeAdapter(dict[str, Any])


def clerk_common_body(new: NewInvitation) -> dict[str, Any]:
    """The optional fields both invitation kinds accept, only when the caller gave them."""
    body: dict[str, Any] = {"email_address": new.email}
    if new.public_metadata is not None:
        body["public_metadata"] = dict(new.public_metadata)
    if new.redirect_url is not None:
        body["redirect_url"] = new.redirect_url
    if new.expires_in_days is not None:
        body["expires_in_days"] = new.expires_in_days
    if new.notify is not None:
        body["notify"] = new.notify
    return body


class _ClerkAdapter:
    def __init__(self, client: UpstreamClient, *, connection: str) -> None:
        self._client = client
        self._connection = connection

    def _read(
        self, answer: UpstreamResponse, target: InvitationTarget, operation: str
    ) -> Invitation:
        try:
            item = ClerkInvitationWire.model_validate(answer.json())
        except ValidationError as exc:
            self._client.log_unexpected(
                operation, answer, f"unexpected body: {exc.error_count()} errors"
            )
            raise self._client.unreadable() from exc
        return to_invitation(item, target)

    def _error(self, answer: UpstreamResponse, operation: str) -> InvitationError:
        code, meta = first_error(answer)
        if not code:
            self._client.log_unexpected(operation, answer, "error without a ClerkErrors body")
        else:
            self._client.log_unexpected(
                operation, answer, f"clerk error {code} (trace {trace_id(answer) or '-'})"
            )
        return translate_error(code, meta, answer.status)


class ClerkApplication(_ClerkAdapter):
    """The port for `CLERK_APPLICATION` targets."""

    kind = TargetKind.CLERK_APPLICATION

    async def create(self, new: NewInvitation) -> Invitation:
        answer = await self._client.send(
            "POST", path("invitations"), operation="create", json_body=clerk_common_body(new)
        )
        if answer.status == 200:
            return self._read(answer, new.target, "create")
        raise self._error(answer, "create")

    async def revoke(self, ref: InvitationRef) -> Invitation:
        answer = await self._client.send(
            "POST", path("invitations", ref.provider_invitation_id, "revoke"), operation="revoke"
        )
        if answer.status == 200:
            return self._read(answer, ref.target, "revoke")
        error = self._error(answer, "revoke")
        if isinstance(error, InvitationNotRevocable):
            error = InvitationNotRevocable(error.message, invitation=await self.get(ref))
        raise error

    async def get(self, ref: InvitationRef) -> Invitation | None:
        # No GET-by-id exists for application invitations (clerk-notes.md §2.5): search by id.
        # Without `status`, Clerk lists only non-revoked invitations (§2.3, legacy), so ask for all.
        answer = await self._client.send(
            "GET",
            path("invitations"),
            operation="get",
            params={
                "paginated": "true",
                "query": ref.provider_invitation_id,
                "status": _ALL_STATUSES,
                "limit": 10,
            },
        )
        if answer.status != 200:
            raise self._error(answer, "get")
        try:
            page = _PAGE.validate_python(answer.json())
            items = [ClerkInvitationWire.model_validate(item) for item in page.get("data") or []]
        except ValidationError as exc:
            self._client.log_unexpected("get", answer, "unexpected list body")
            raise self._client.unreadable() from exc
        for item in items:
            if item.id == ref.provider_invitation_id:
                return to_invitation(item, ref.target)
        return None


class ClerkOrganization(_ClerkAdapter):
    """The port for `CLERK_ORGANIZATION` targets."""

    kind = TargetKind.CLERK_ORGANIZATION

    async def create(self, new: NewInvitation) -> Invitation:
        organization = _organization(new.target)
        body = clerk_common_body(new)
        body["role"] = new.roles[0]  # validation guarantees exactly one role
        answer = await self._client.send(
            "POST",
            path("organizations", organization, "invitations"),
            operation="create",
            json_body=body,
        )
        if answer.status == 200:
            return self._read(answer, new.target, "create")
        try:
            raise self._error(answer, "create")
        except InvitationNotFound as exc:
            raise InvitationNotFound("no such Clerk organization", field=("target", "id")) from exc

    async def revoke(self, ref: InvitationRef) -> Invitation:
        organization = _organization(ref.target)
        answer = await self._client.send(
            "POST",
            path(
                "organizations", organization, "invitations", ref.provider_invitation_id, "revoke"
            ),
            operation="revoke",
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
        organization = _organization(ref.target)
        answer = await self._client.send(
            "GET",
            path("organizations", organization, "invitations", ref.provider_invitation_id),
            operation="get",
        )
        if answer.status == 200:
            return self._read(answer, ref.target, "get")
        if answer.status == 404:
            return None
        raise self._error(answer, "get")


def _organization(target: InvitationTarget) -> str:
    if not target.id:
        raise InvitationNotFound("no Clerk organization given", field=("target", "id"))
    return target.id
