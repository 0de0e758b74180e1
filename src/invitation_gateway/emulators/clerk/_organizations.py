"""Clerk organization-invitation endpoints, over the state that `ClerkEmulator` holds.

POST /v1/organizations/{org}/invitations            create (clerk-notes.md §3.1)
POST /v1/organizations/{org}/invitations/bulk       all-or-nothing bulk create (§3.2)
GET  /v1/organizations/{org}/invitations            list, {data, total_count} (§3.3)
GET  /v1/organizations/{org}/invitations/pending    deprecated pending list (§3.4)
GET  /v1/organizations/{org}/invitations/{id}       get (§3.5)
POST /v1/organizations/{org}/invitations/{id}/revoke  revoke; unknown or not pending = 404 (§3.6)
GET  /v1/organization_invitations                   instance-wide list (§3.7)
GET  /v1/users/{user_id}/organization_invitations   one user's invitations (§3.8)

A create for an email with a pending invitation in the organization follows
`duplicate_organization_invitation`: `resend` (Clerk's documented behaviour, §3.1: the existing
invitation is sent again and answered, nothing new is created) or `reject` (400
`organization_invitation_not_unique`, what Clerk answers when two creates race).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from invitation_gateway.emulators._common import RecordedRequest, new_ksuid
from invitation_gateway.emulators._routing import Router
from invitation_gateway.emulators.clerk import _errors as errors
from invitation_gateway.emulators.clerk._params import (
    OrganizationInvitationParams,
    array_body,
    object_body,
    organization_invitation_params,
    query_order_by,
    query_statuses,
    query_value,
    revoke_params,
)
from invitation_gateway.emulators.clerk._users import check_can_manage_members, public_user_data
from invitation_gateway.emulators.clerk._wire import (
    effective_status,
    expires_at,
    limit_offset,
    ms,
    ordered,
    public_view,
    role_name,
    ticket_url,
)

_ORG = "/v1/organizations/{organization_id}/invitations"

DuplicateOrganizationInvitation = Literal["resend", "reject"]


class OrganizationState(Protocol):
    """What the endpoints need from the emulator; read on every call, so reassigning is safe."""

    organizations: dict[str, dict[str, Any]]
    organization_invitations: dict[str, dict[str, Any]]
    users_by_id: dict[str, dict[str, Any]]
    role_permissions: dict[str, set[str]]
    duplicate_organization_invitation: DuplicateOrganizationInvitation

    def now(self) -> datetime: ...

    def stamp(self) -> datetime: ...


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
        router.add("GET", "/v1/users/{user_id}/organization_invitations", self._list_for_user)

    def status_of(self, invitation: Mapping[str, Any]) -> str:
        return effective_status(invitation, ms(self._state.now()))

    def new_invitation(
        self,
        organization: Mapping[str, Any],
        params: OrganizationInvitationParams,
        created: datetime,
    ) -> dict[str, Any]:
        created_ms = ms(created)
        inviter = self._state.users_by_id.get(params.inviter_user_id or "")
        invitation: dict[str, Any] = {
            "object": "organization_invitation",
            "id": "orginv_" + new_ksuid(created),
            "email_address": params.email_address,
            "role": params.role,
            "role_name": role_name(params.role),
            "organization_id": organization["id"],
            "inviter_id": params.inviter_user_id,
            "public_inviter_data": public_user_data(inviter) if inviter else None,
            "status": "pending",
            "public_metadata": params.public_metadata,
            "private_metadata": params.private_metadata,
            "url": ticket_url(params.redirect_url),
            "expires_at": expires_at(created, params.expires_in_days),
            "created_at": created_ms,
            "updated_at": created_ms,
            "_notify": params.notify,
            "_redirect_url": params.redirect_url,
            "_resend_count": 0,  # how often Clerk sent the email again (`resend`)
        }
        self._state.organization_invitations[invitation["id"]] = invitation
        return invitation

    # --- handlers ----------------------------------------------------------------------------

    def _create(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        body = object_body(request.body)
        organization = self._organization(params["organization_id"])
        wanted = organization_invitation_params(body)
        return self._view(self._create_all(organization, [wanted])[0])

    def _bulk_create(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        items = array_body(request.body)
        organization = self._organization(params["organization_id"])
        batch = [organization_invitation_params(item) for item in items]
        created = self._create_all(organization, batch)
        return {"data": [self._view(item) for item in created], "total_count": len(created)}

    def _create_all(
        self, organization: Mapping[str, Any], batch: Sequence[OrganizationInvitationParams]
    ) -> list[dict[str, Any]]:
        existing = self._check_can_invite(organization, batch)  # every check before any insert
        answers = []
        for item, pending in zip(batch, existing, strict=True):
            if pending is not None:
                # Clerk re-uses the pending invitation and sends its email again (notes §3.1).
                # The server snapshot inserts only new rows, so nothing of it is saved: the
                # stored invitation is answered as it is, updated_at included (UNVERIFIED now).
                pending["_resend_count"] += 1
                answers.append(pending)
            else:  # one stamp per item: bulk items never share a created_at
                answers.append(self.new_invitation(organization, item, self._state.stamp()))
        return answers

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
        requesting_user_id = revoke_params(request.body)
        organization = self._organization(params["organization_id"])
        # The requester's rights are checked before the invitation is looked up (notes §3.6).
        permissions = self._state.role_permissions
        check_can_manage_members(organization, [requesting_user_id], permissions)
        invitation = self._state.organization_invitations.get(params["invitation_id"])
        # Unknown and not pending are the same 404 (clerk-notes.md §3.6, §8.4).
        if (
            invitation is None
            or invitation["organization_id"] != organization["id"]
            or self.status_of(invitation) != "pending"
        ):
            raise errors.organization_invitation_not_pending()
        invitation.update(status="revoked", updated_at=ms(self._state.stamp()))
        return self._view(invitation)

    def _list_for_user(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        user = self._state.users_by_id.get(params["user_id"])
        if user is None:
            raise errors.user_not_found(params["user_id"])
        statuses = query_statuses(request.query)
        # The invitations sent to the user's email address. The snapshot links an invitation to
        # a user id when it is created for an existing user or accepted (notes §3.8); matching
        # by email also finds one sent before the user signed up another way.
        email = user["email_address"].casefold()
        return self._page(
            request.query,
            lambda item: (
                item["email_address"].casefold() == email
                and (not statuses or self.status_of(item) in statuses)
            ),
            with_organization=True,
            sortable=False,
        )

    # --- helpers -----------------------------------------------------------------------------

    def _organization(self, organization_id: str) -> dict[str, Any]:
        organization = self._state.organizations.get(organization_id)
        if organization is None:
            raise errors.organization_not_found()
        return organization

    def _check_can_invite(
        self, organization: Mapping[str, Any], batch: Sequence[OrganizationInvitationParams]
    ) -> list[dict[str, Any] | None]:
        """Raise what Clerk would; else each item's pending invitation to re-use (or None)."""
        # Order from clerk-notes.md §3.1: role, the inviters' rights, membership, then the
        # pending invitation for the email.
        if any(item.role not in organization["roles"] for item in batch):
            raise errors.organization_role_not_found()
        inviters = [item.inviter_user_id for item in batch]
        check_can_manage_members(organization, inviters, self._state.role_permissions)
        members = {email.casefold() for email in organization["members"]}
        for item in batch:
            if item.email_address.casefold() in members:
                raise errors.already_a_member(item.email_address)
        pending = {
            invitation["email_address"].casefold(): invitation
            for invitation in self._state.organization_invitations.values()
            if invitation["organization_id"] == organization["id"]
            and self.status_of(invitation) == "pending"
        }
        reject = self._state.duplicate_organization_invitation == "reject"
        existing: list[dict[str, Any] | None] = []
        seen: set[str] = set()
        for item in batch:
            email = item.email_address.casefold()
            # An email repeated inside one bulk request with no pending invitation: both rows are
            # new in one transaction, so the unique index fails, answered as not unique (§3.1).
            if (email in seen and email not in pending) or (reject and email in pending):
                raise errors.organization_invitation_not_unique()
            seen.add(email)
            existing.append(pending.get(email))
        return existing

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
        sortable: bool = True,
    ) -> dict[str, Any]:
        """`{data, total_count}` of the invitations `keep` accepts; the count ignores the page.

        Newest first unless the endpoint takes `order_by` (`sortable`) and the query sets it.
        """
        field, descending = "created_at", True
        if sortable:
            field, descending = query_order_by(query, ("created_at", "email_address"))
        limit, offset = limit_offset(query)
        matches = [item for item in self._state.organization_invitations.values() if keep(item)]
        page = ordered(matches, field, descending)[offset : offset + limit]
        data = [self._view(item, with_organization=with_organization) for item in page]
        return {"data": data, "total_count": len(matches)}
