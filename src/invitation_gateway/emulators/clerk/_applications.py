"""Clerk application-invitation endpoints, over the state that `ClerkEmulator` holds.

POST /v1/invitations                  create (clerk-notes.md §2.1)
POST /v1/invitations/bulk             all-or-nothing bulk create, a bare array (§2.2)
GET  /v1/invitations                  list: a bare array, or {data, total_count} when paginated (§2.3)
POST /v1/invitations/{id}/revoke      revoke (§2.4)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from invitation_gateway.emulators._common import RecordedRequest, new_ksuid
from invitation_gateway.emulators._routing import Router
from invitation_gateway.emulators.clerk import _errors as errors
from invitation_gateway.emulators.clerk._params import (
    InvitationParams,
    array_body,
    invitation_params,
    object_body,
    query_bool,
    query_order_by,
    query_statuses,
    query_value,
)
from invitation_gateway.emulators.clerk._wire import (
    expires_at,
    limit_offset,
    ms,
    ordered,
    public_view,
    ticket_url,
)


class ApplicationState(Protocol):
    """What the endpoints need from the emulator; read on every call, so reassigning is safe."""

    invitations: dict[str, dict[str, Any]]
    users: set[str]

    def stamp(self) -> datetime: ...

    def status_of(self, invitation: Mapping[str, Any]) -> str: ...


class ApplicationInvitations:
    def __init__(self, state: ApplicationState) -> None:
        self._state = state

    def register(self, router: Router) -> None:
        router.add("POST", "/v1/invitations", self._create)
        router.add("GET", "/v1/invitations", self._list)
        router.add("POST", "/v1/invitations/bulk", self._bulk_create)
        router.add("POST", "/v1/invitations/{invitation_id}/revoke", self._revoke)

    def new_invitation(self, params: InvitationParams, created: datetime) -> dict[str, Any]:
        created_ms = ms(created)
        invitation: dict[str, Any] = {
            "object": "invitation",
            "id": "inv_" + new_ksuid(created),
            "email_address": params.email_address,
            "public_metadata": params.public_metadata,
            "status": "pending",
            "expires_at": expires_at(created, params.expires_in_days),
            "created_at": created_ms,
            "updated_at": created_ms,
            "_url": ticket_url(params.redirect_url),
            "_notify": params.notify,
            "_redirect_url": params.redirect_url,
            "_ignore_existing": params.ignore_existing,
            "_template_slug": params.template_slug,
        }
        self._state.invitations[invitation["id"]] = invitation
        return invitation

    # --- handlers ----------------------------------------------------------------------------

    def _create(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        wanted = invitation_params(object_body(request.body))
        self._check_can_invite([wanted])
        return self._view(self.new_invitation(wanted, self._state.stamp()), with_url=True)

    def _bulk_create(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        batch = [invitation_params(item) for item in array_body(request.body)]
        self._check_can_invite(batch)  # all or nothing: every check runs before any insert
        # One stamp per item: the items of a bulk create never share a created_at.
        created = [self.new_invitation(item, self._state.stamp()) for item in batch]
        return [self._view(invitation, with_url=True) for invitation in created]

    def _revoke(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        invitation = self._state.invitations.get(params["invitation_id"])
        if invitation is None:
            raise errors.invitation_not_found(params["invitation_id"])
        status = self._state.status_of(invitation)
        if status == "accepted":
            raise errors.invitation_already_accepted()
        if status == "revoked":
            raise errors.invitation_already_revoked()
        # An expired invitation is revocable: Clerk allows revoking any invitation that is neither
        # revoked nor accepted (clerk-notes.md §2.4 "Only active (i.e. non-revoked) invitations can
        # be revoked", §4.3); the notes name no error for expired ones.
        invitation.update(status="revoked", revoked=True, updated_at=ms(self._state.stamp()))
        return self._view(invitation)

    def _list(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        query = request.query
        statuses = query_statuses(query)
        text = (query_value(query, "query") or "").casefold()
        field, descending = query_order_by(query, ("created_at", "email_address", "expires_at"))
        paginated = query_bool(query, "paginated")
        limit, offset = limit_offset(query)
        # Without `status`, revoked ones are left out: "Returns all non-revoked invitations"
        # (clerk-notes.md §2.3). Whether `expired` is included then is NOT FOUND; it is here.
        wanted = statuses or {"pending", "accepted", "expired"}
        matches = [
            invitation
            for invitation in self._state.invitations.values()
            if self._state.status_of(invitation) in wanted
            and (
                not text
                or text in invitation["email_address"].casefold()
                or text == invitation["id"].casefold()
            )
        ]
        page = [self._view(item) for item in ordered(matches, field, descending)]
        page = page[offset : offset + limit]
        # `total_count` counts every match; the old server snapshot used the page length
        # (clerk-notes.md §2.3, §9), which is unverified for the current API.
        return {"data": page, "total_count": len(matches)} if paginated else page

    # --- helpers -----------------------------------------------------------------------------

    def _check_can_invite(self, batch: Sequence[InvitationParams]) -> None:
        # Existing users first, then existing invitations (clerk-notes.md §2.1). `ignore_existing`
        # skips only the invitation check: the spec says the user rule "cannot be bypassed" while
        # the JS docs disagree (§2.2, §9).
        users = {email.casefold() for email in self._state.users}
        if any(item.email_address.casefold() in users for item in batch):
            raise errors.form_identifier_exists()
        # "non-revoked" invitations block a new one (§2.1); expired ones are let through.
        taken = {
            invitation["email_address"].casefold()
            for invitation in self._state.invitations.values()
            if self._state.status_of(invitation) in ("pending", "accepted")
        }
        duplicates = []
        for item in batch:  # a repeated email inside one bulk request counts as a duplicate too
            email = item.email_address.casefold()
            if email in taken and not item.ignore_existing:
                duplicates.append(item.email_address)
            taken.add(email)
        if duplicates:
            raise errors.duplicate_record(duplicates)

    def _view(self, invitation: Mapping[str, Any], *, with_url: bool = False) -> dict[str, Any]:
        # `url` only on the create response, `revoked` only when true (clerk-notes.md §4.1)
        view = public_view(invitation, self._state.status_of(invitation))
        if with_url:
            view["url"] = invitation["_url"]
        return view
