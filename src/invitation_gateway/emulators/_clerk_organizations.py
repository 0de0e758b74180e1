"""Clerk organization-invitation endpoints, over the state that `ClerkEmulator` holds.

POST /v1/organizations/{org}/invitations            create (clerk-notes.md §3.1)
POST /v1/organizations/{org}/invitations/bulk       all-or-nothing bulk create (§3.2)
GET  /v1/organizations/{org}/invitations            list, {data, total_count} (§3.3)
GET  /v1/organizations/{org}/invitations/pending    deprecated pending list (§3.4)
GET  /v1/organizations/{org}/invitations/{id}       get (§3.5)
POST /v1/organizations/{org}/invitations/{id}/revoke  revoke; unknown or not pending = 404 (§3.6)
GET  /v1/organization_invitations                   instance-wide list (§3.7)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from invitation_gateway.emulators import _clerk_errors as errors
from invitation_gateway.emulators._clerk_params import (
    OrganizationInvitationParams,
    array_body,
    object_body,
    organization_invitation_params,
    query_order_by,
    query_statuses,
    query_value,
    revoke_params,
)
from invitation_gateway.emulators._clerk_wire import (
    effective_status,
    expires_at,
    limit_offset,
    ms,
    ordered,
    public_view,
    role_name,
    ticket_url,
)
from invitation_gateway.emulators._common import RecordedRequest, new_ksuid
from invitation_gateway.emulators._routing import Router

_ORG = "/v1/organizations/{organization_id}/invitations"


class OrganizationState(Protocol):
    """What the endpoints need from the emulator; read on every call, so reassigning is safe."""

    organizations: dict[str, dict[str, Any]]
    organization_invitations: dict[str, dict[str, Any]]

    def now(self) -> datetime: ...


class OrganizationInvitations:
    def __init__(self, state: OrganizationState) -> None:
        self._state = state

    def register(self, router: Router) -> None:
        router.add("GET", "/v1/organization_invitations", self._list_instance)
        router.add("POST", _ORG, self._create)
        router.add("GET", _ORG, self._list)
        router.add("POST", _ORG + "/bulk", self._bulk_create)
        router.add("GET", _ORG + "/pending", self._list_pending)  # literal before {invitation_id}
        router.add("GET", _ORG + "/{invitation_id}", self._get)
        router.add("POST", _ORG + "/{invitation_id}/revoke", self._revoke)

    def status_of(self, invitation: Mapping[str, Any]) -> str:
        return effective_status(invitation, ms(self._state.now()))

    def new_invitation(
        self,
        organization: Mapping[str, Any],
        params: OrganizationInvitationParams,
        created: datetime,
    ) -> dict[str, Any]:
        created_ms = ms(created)
        invitation: dict[str, Any] = {
            "object": "organization_invitation",
            "id": "orginv_" + new_ksuid(created),
            "email_address": params.email_address,
            "role": params.role,
            "role_name": role_name(params.role),
            "organization_id": organization["id"],
            "inviter_id": None,  # no inviter modelled, see _check_can_invite
            "public_inviter_data": None,
            "status": "pending",
            "public_metadata": params.public_metadata,
            "private_metadata": params.private_metadata,
            "url": ticket_url(params.redirect_url),
            "expires_at": expires_at(created, params.expires_in_days),
            "created_at": created_ms,
            "updated_at": created_ms,
            "_notify": params.notify,
            "_redirect_url": params.redirect_url,
            "_inviter_user_id": params.inviter_user_id,
        }
        self._state.organization_invitations[invitation["id"]] = invitation
        return invitation

    # --- handlers ----------------------------------------------------------------------------

    def _create(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        body = object_body(request.body)
        organization = self._organization(params["organization_id"])
        wanted = organization_invitation_params(body)
        self._check_can_invite(organization, [wanted])
        return self._view(self.new_invitation(organization, wanted, self._state.now()))

    def _bulk_create(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        items = array_body(request.body)
        organization = self._organization(params["organization_id"])
        batch = [organization_invitation_params(item) for item in items]
        self._check_can_invite(organization, batch)  # every check runs before any insert
        now = self._state.now()
        created = [self.new_invitation(organization, item, now) for item in batch]
        return {"data": [self._view(item) for item in created], "total_count": len(created)}

    def _list(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        organization_id = self._organization(params["organization_id"])["id"]
        statuses = query_statuses(request.query)
        email = (query_value(request.query, "email_address") or "").casefold()
        return self._page(
            request.query,
            lambda item: (
                item["organization_id"] == organization_id
                and (not statuses or self.status_of(item) in statuses)
                and (not email or item["email_address"].casefold() == email)
            ),
        )

    def _list_pending(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        organization_id = self._organization(params["organization_id"])["id"]
        return self._page(
            request.query,
            lambda item: (
                item["organization_id"] == organization_id and self.status_of(item) == "pending"
            ),
        )

    def _list_instance(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        statuses = query_statuses(request.query)
        text = (query_value(request.query, "query") or "").casefold()
        return self._page(
            request.query,
            lambda item: (
                (not statuses or self.status_of(item) in statuses)
                and (not text or text in item["email_address"].casefold())
            ),
            with_organization=True,
        )

    def _get(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        organization = self._organization(params["organization_id"])
        invitation = self._state.organization_invitations.get(params["invitation_id"])
        if invitation is None or invitation["organization_id"] != organization["id"]:
            raise errors.resource_not_found()
        return self._view(invitation)

    def _revoke(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        # `requesting_user_id` is type-checked but not enforced: the emulator has no user ids to
        # check admin rights against (clerk-notes.md §3.6 lists 403s for that).
        revoke_params(request.body)
        organization = self._organization(params["organization_id"])
        invitation = self._state.organization_invitations.get(params["invitation_id"])
        # Unknown and not pending are the same 404 (clerk-notes.md §3.6, §8.4).
        if (
            invitation is None
            or invitation["organization_id"] != organization["id"]
            or self.status_of(invitation) != "pending"
        ):
            raise errors.organization_invitation_not_pending()
        invitation.update(status="revoked", updated_at=ms(self._state.now()))
        return self._view(invitation)

    # --- helpers -----------------------------------------------------------------------------

    def _organization(self, organization_id: str) -> dict[str, Any]:
        organization = self._state.organizations.get(organization_id)
        if organization is None:
            raise errors.organization_not_found()
        return organization

    def _check_can_invite(
        self, organization: Mapping[str, Any], batch: Sequence[OrganizationInvitationParams]
    ) -> None:
        # Order from clerk-notes.md §3.1: role, membership, then duplicate pending invitation.
        # `inviter_user_id` is accepted but not checked: the emulator models no user ids.
        if any(item.role not in organization["roles"] for item in batch):
            raise errors.organization_role_not_found()
        members = {email.casefold() for email in organization["members"]}
        for item in batch:
            if item.email_address.casefold() in members:
                raise errors.already_a_member(item.email_address)
        # The old server snapshot re-sent an existing pending invitation instead of failing
        # (clerk-notes.md §3.1); we answer the documented 400 `organization_invitation_not_unique`.
        pending = {
            invitation["email_address"].casefold()
            for invitation in self._state.organization_invitations.values()
            if invitation["organization_id"] == organization["id"]
            and self.status_of(invitation) == "pending"
        }
        for item in batch:  # a repeated email inside one bulk request is a duplicate too
            if item.email_address.casefold() in pending:
                raise errors.organization_invitation_not_unique()
            pending.add(item.email_address.casefold())

    def _view(
        self, invitation: Mapping[str, Any], *, with_organization: bool = False
    ) -> dict[str, Any]:
        view = public_view(invitation, self.status_of(invitation))
        if with_organization:
            organization = self._state.organizations[invitation["organization_id"]]
            view["public_organization_data"] = {
                "id": organization["id"],
                "name": organization["name"],
                "slug": organization["slug"],
                "has_image": False,
            }
        return view

    def _page(
        self,
        query: Mapping[str, list[str]],
        keep: Callable[[Mapping[str, Any]], bool],
        *,
        with_organization: bool = False,
    ) -> dict[str, Any]:
        """`{data, total_count}` of the invitations `keep` accepts; the count ignores the page."""
        field, descending = query_order_by(query, ("created_at", "email_address"))
        limit, offset = limit_offset(query)
        matches = [item for item in self._state.organization_invitations.values() if keep(item)]
        page = ordered(matches, field, descending)[offset : offset + limit]
        data = [self._view(item, with_organization=with_organization) for item in page]
        return {"data": data, "total_count": len(matches)}
