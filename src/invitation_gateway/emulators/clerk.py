"""Stateful in-process emulator of Clerk's Backend API invitation endpoints.

It follows the vendor contract in `shared/upstream/clerk-notes.md` and `clerk-invitations.yaml`,
not any idea of the gateway's: snake_case JSON, Unix-millisecond timestamps, `inv_`/`orginv_` ids,
`ClerkErrors` bodies, bare arrays vs `{data, total_count}` exactly where Clerk uses each.

Implemented (paths under the API URL, which includes `/v1`):

    POST /v1/invitations                          GET /v1/invitations
    POST /v1/invitations/bulk                     POST /v1/invitations/{id}/revoke
    POST /v1/organizations/{org}/invitations      GET  /v1/organizations/{org}/invitations
    POST /v1/organizations/{org}/invitations/bulk GET  /v1/organizations/{org}/invitations/pending
    GET  /v1/organizations/{org}/invitations/{id} POST /v1/organizations/{org}/invitations/{id}/revoke
    GET  /v1/organization_invitations

Expiry is computed on read: a pending invitation past `expires_at` (per the injected clock) is
reported as `expired`, while the stored dict keeps `pending`. Keys starting with `_` in the stored
dicts (`_url`, `_notify`, `_redirect_url`, …) are emulator bookkeeping and never sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from starlette.responses import JSONResponse, Response

from invitation_gateway.emulators import _clerk_errors as errors
from invitation_gateway.emulators._clerk_organizations import OrganizationInvitations
from invitation_gateway.emulators._clerk_params import (
    STATUSES,
    InvitationParams,
    OrganizationInvitationParams,
    array_body,
    invitation_params,
    object_body,
    query_bool,
    query_order_by,
    query_statuses,
    query_value,
)
from invitation_gateway.emulators._clerk_wire import (
    effective_status,
    expires_at,
    limit_offset,
    ms,
    ordered,
    public_view,
    ticket_url,
)
from invitation_gateway.emulators._common import Clock, Emulator, RecordedRequest, as_utc, new_ksuid
from invitation_gateway.emulators._routing import Router


class ClerkEmulator(Emulator):
    """Clerk application and organization invitations, served over HTTP at `self.app`."""

    def __init__(
        self,
        *,
        secret_key: str = "sk_test_sandbox",  # noqa: S107 - the sandbox's well-known fake key
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.secret_key = secret_key
        self.invitations: dict[str, dict[str, Any]] = {}
        self.organizations: dict[str, dict[str, Any]] = {}
        self.organization_invitations: dict[str, dict[str, Any]] = {}
        self.users: set[str] = set()
        self._organization_api = OrganizationInvitations(self)
        self._router = Router()
        self._router.add("POST", "/v1/invitations", self._create_invitation)
        self._router.add("GET", "/v1/invitations", self._list_invitations)
        self._router.add("POST", "/v1/invitations/bulk", self._bulk_create_invitations)
        self._router.add("POST", "/v1/invitations/{invitation_id}/revoke", self._revoke_invitation)
        self._organization_api.register(self._router)

    # --- seeding and state -------------------------------------------------------------------

    def add_organization(
        self,
        org_id: str,
        name: str,
        slug: str | None = None,
        roles: Sequence[str] = ("org:admin", "org:member"),
    ) -> dict[str, Any]:
        """Add an organization; `members` is the set of member emails (for the member check)."""
        organization = {
            "id": org_id,
            "name": name,
            "slug": slug or "-".join(name.lower().split()),
            "roles": list(roles),
            "members": set(),
        }
        self.organizations[org_id] = organization
        return organization

    def add_user(self, email: str) -> None:
        """Make `email` an existing user's identifier, so inviting it is form_identifier_exists."""
        self.users.add(email)

    def add_invitation(
        self, email: str, *, status: str = "pending", created_at: datetime | None = None
    ) -> dict[str, Any]:
        """Seed an application invitation; an accepted one also makes `email` a user."""
        params = InvitationParams(email, {}, None, True, False, None, "invitation")
        invitation = self._new_invitation(params, as_utc(created_at) if created_at else self.now())
        self._seed_status(invitation, status)
        if status == "accepted":
            self.users.add(email)
        return invitation

    def add_organization_invitation(
        self,
        org_id: str,
        email: str,
        role: str = "org:member",
        *,
        status: str = "pending",
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Seed an organization invitation; an accepted one also makes `email` a member."""
        organization = self.organizations[org_id]
        if role not in organization["roles"]:
            raise ValueError(f"{org_id} has no role {role!r}")
        params = OrganizationInvitationParams(email, role, None, {}, {}, None, None, True)
        created = as_utc(created_at) if created_at else self.now()
        invitation = self._organization_api.new_invitation(organization, params, created)
        self._seed_status(invitation, status)
        if status == "accepted":
            organization["members"].add(email)
        return invitation

    def status_of(self, invitation: Mapping[str, Any]) -> str:
        """The status Clerk reports now: pending past `expires_at` reads as `expired`."""
        return effective_status(invitation, self._now_ms())

    def reset(self) -> None:
        super().reset()
        self.invitations.clear()
        self.organizations.clear()
        self.organization_invitations.clear()
        self.users.clear()

    def state(self) -> dict[str, Any]:
        return {
            "invitations": self.invitations,
            "organizations": self.organizations,
            "organization_invitations": self.organization_invitations,
            "users": self.users,
        }

    # --- the Emulator hooks ------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Response:
        try:
            self._authenticate(request)
            match = self._router.resolve(request.method, request.path)
            if match is None:
                # What Clerk answers for a known path under another method is NOT FOUND in the notes.
                raise errors.resource_not_found()
            payload = match.handler(request, match.params)
        except errors.ClerkApiError as error:
            return error.response()
        return JSONResponse(payload)

    def _target_of(self, request: RecordedRequest) -> str | None:
        segments = request.path.split("/")
        if segments[1:3] == ["v1", "invitations"]:
            return "application"
        if segments[1:3] == ["v1", "organizations"] and len(segments) > 3:
            return unquote(segments[3])
        return None

    def _default_fault_body(self, status: int) -> bytes:
        return errors.fault_body(status)

    def _authenticate(self, request: RecordedRequest) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise errors.authorization_header_format_invalid()
        if key.strip() != self.secret_key:
            raise errors.clerk_key_invalid()

    # --- application invitations -------------------------------------------------------------

    def _create_invitation(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        wanted = invitation_params(object_body(request.body))
        self._check_can_invite([wanted])
        return self._view(self._new_invitation(wanted, self.now()), with_url=True)

    def _bulk_create_invitations(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        batch = [invitation_params(item) for item in array_body(request.body)]
        self._check_can_invite(batch)  # all or nothing: every check runs before any insert
        now = self.now()
        return [self._view(self._new_invitation(item, now), with_url=True) for item in batch]

    def _revoke_invitation(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        invitation = self.invitations.get(params["invitation_id"])
        if invitation is None:
            raise errors.invitation_not_found(params["invitation_id"])
        status = self.status_of(invitation)
        if status == "accepted":
            raise errors.invitation_already_accepted()
        if status == "revoked":
            raise errors.invitation_already_revoked()
        # An expired invitation is revocable: Clerk allows revoking any invitation that is neither
        # revoked nor accepted (clerk-notes.md §2.4 "Only active (i.e. non-revoked) invitations can
        # be revoked", §4.3); the notes name no error for expired ones.
        invitation.update(status="revoked", revoked=True, updated_at=self._now_ms())
        return self._view(invitation)

    def _list_invitations(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
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
            for invitation in self.invitations.values()
            if self.status_of(invitation) in wanted
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

    def _check_can_invite(self, batch: Sequence[InvitationParams]) -> None:
        # Existing users first, then existing invitations (clerk-notes.md §2.1). `ignore_existing`
        # skips only the invitation check: the spec says the user rule "cannot be bypassed" while
        # the JS docs disagree (§2.2, §9).
        users = {email.casefold() for email in self.users}
        if any(item.email_address.casefold() in users for item in batch):
            raise errors.form_identifier_exists()
        # "non-revoked" invitations block a new one (§2.1); expired ones are let through.
        taken = {
            invitation["email_address"].casefold()
            for invitation in self.invitations.values()
            if self.status_of(invitation) in ("pending", "accepted")
        }
        duplicates = []
        for item in batch:  # a repeated email inside one bulk request counts as a duplicate too
            email = item.email_address.casefold()
            if email in taken and not item.ignore_existing:
                duplicates.append(item.email_address)
            taken.add(email)
        if duplicates:
            raise errors.duplicate_record(duplicates)

    def _new_invitation(self, params: InvitationParams, created: datetime) -> dict[str, Any]:
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
        self.invitations[invitation["id"]] = invitation
        return invitation

    def _view(self, invitation: Mapping[str, Any], *, with_url: bool = False) -> dict[str, Any]:
        # `url` only on the create response, `revoked` only when true (clerk-notes.md §4.1)
        view = public_view(invitation, self.status_of(invitation))
        if with_url:
            view["url"] = invitation["_url"]
        return view

    # --- helpers -----------------------------------------------------------------------------

    def _seed_status(self, invitation: dict[str, Any], status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if status != "pending":
            invitation["status"] = status
            invitation["updated_at"] = min(invitation["created_at"] + 3_600_000, self._now_ms())
            invitation["updated_at"] = max(invitation["updated_at"], invitation["created_at"])
        if status == "revoked" and invitation["object"] == "invitation":
            invitation["revoked"] = True

    def _now_ms(self) -> int:
        return ms(self.now())
