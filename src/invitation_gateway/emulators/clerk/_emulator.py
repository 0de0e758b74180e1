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
    GET  /v1/organization_invitations             GET  /v1/users/{user}/organization_invitations

Users (`add_user`) and memberships (`add_membership`) exist for `inviter_user_id` and
`requesting_user_id`, which must name an organization admin (`_clerk_users.py`).

Expiry is computed on read: a pending invitation past `expires_at` (per the injected clock) is
reported as `expired`, while the stored dict keeps `pending`. Keys starting with `_` in the stored
dicts (`_url`, `_notify`, `_redirect_url`, …) are emulator bookkeeping and never sent.

Settings (`configure(...)`, `POST /__emulator__/settings`): `duplicate_organization_invitation`
(`resend` or `reject`, see `_clerk_organizations.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from starlette.responses import JSONResponse, Response

from invitation_gateway.emulators._common import Clock, Emulator, RecordedRequest, as_utc, new_ksuid
from invitation_gateway.emulators._control import NotPending
from invitation_gateway.emulators._routing import Router
from invitation_gateway.emulators.clerk import _errors as errors
from invitation_gateway.emulators.clerk._applications import ApplicationInvitations
from invitation_gateway.emulators.clerk._organizations import (
    DuplicateOrganizationInvitation,
    OrganizationInvitations,
)
from invitation_gateway.emulators.clerk._params import (
    STATUSES,
    InvitationParams,
    OrganizationInvitationParams,
)
from invitation_gateway.emulators.clerk._users import DEFAULT_ROLE_PERMISSIONS, new_user
from invitation_gateway.emulators.clerk._wire import effective_status, ms, public_view

__all__ = ["ClerkEmulator", "DuplicateOrganizationInvitation"]


class ClerkEmulator(Emulator):
    """Clerk application and organization invitations, served over HTTP at `self.app`."""

    SETTINGS: ClassVar[Mapping[str, tuple[object, ...]]] = {
        "duplicate_organization_invitation": ("resend", "reject"),
    }

    def __init__(
        self,
        *,
        secret_key: str = "sk_test_sandbox",  # noqa: S107 - the sandbox's well-known fake key
        clock: Clock | None = None,
        duplicate_organization_invitation: DuplicateOrganizationInvitation = "resend",
    ) -> None:
        super().__init__(clock=clock)
        self.secret_key = secret_key
        self.invitations: dict[str, dict[str, Any]] = {}
        self.organizations: dict[str, dict[str, Any]] = {}
        self.organization_invitations: dict[str, dict[str, Any]] = {}
        self.users: set[str] = set()  # every user's email: inviting one is form_identifier_exists
        self.users_by_id: dict[str, dict[str, Any]] = {}
        self.role_permissions = _default_role_permissions()
        self.duplicate_organization_invitation: DuplicateOrganizationInvitation = (
            duplicate_organization_invitation
        )
        self._application_api = ApplicationInvitations(self)
        self._organization_api = OrganizationInvitations(self)
        self._router = Router()
        self._application_api.register(self._router)
        self._organization_api.register(self._router)
        self._remember_settings()

    # --- seeding and state -------------------------------------------------------------------

    def add_organization(
        self,
        org_id: str,
        name: str,
        slug: str | None = None,
        roles: Sequence[str] = ("org:admin", "org:member"),
    ) -> dict[str, Any]:
        """Add an organization; `members` holds member emails, `memberships` user id -> role."""
        organization = {
            "id": org_id,
            "name": name,
            "slug": slug or "-".join(name.lower().split()),
            "roles": list(roles),
            "members": set(),
            "memberships": {},
        }
        self.organizations[org_id] = organization
        return organization

    def add_user(
        self,
        email: str,
        *,
        user_id: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """Add a user whose identifier is `email` (inviting it is then form_identifier_exists);
        returns the user, whose `id` (`user_…`) can invite or revoke once a member."""
        user_id = user_id or "user_" + new_ksuid(self.now())
        if user_id in self.users_by_id:
            raise ValueError(f"user {user_id} exists already")
        user = new_user(user_id, email, first_name, last_name)
        self.users_by_id[user_id] = user
        self.users.add(email)
        return user

    def add_membership(self, org_id: str, user_id: str, role: str = "org:member") -> None:
        """Make the user a member of the organization with `role` (org:admin may invite)."""
        organization = self.organizations[org_id]
        user = self.users_by_id[user_id]
        if role not in organization["roles"]:
            raise ValueError(f"{org_id} has no role {role!r}")
        organization["memberships"][user_id] = role
        organization["members"].add(user["email_address"])

    def add_invitation(
        self, email: str, *, status: str = "pending", created_at: datetime | None = None
    ) -> dict[str, Any]:
        """Seed an application invitation; an accepted one also makes `email` a user."""
        params = InvitationParams(email, {}, None, True, False, None, "invitation")
        created = as_utc(created_at) if created_at else self.stamp()
        invitation = self._application_api.new_invitation(params, created)
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
        inviter_user_id: str | None = None,
    ) -> dict[str, Any]:
        """Seed an organization invitation; an accepted one also makes `email` a member."""
        organization = self.organizations[org_id]
        if role not in organization["roles"]:
            raise ValueError(f"{org_id} has no role {role!r}")
        params = OrganizationInvitationParams(
            email, role, inviter_user_id, {}, {}, None, None, True
        )
        created = as_utc(created_at) if created_at else self.stamp()
        invitation = self._organization_api.new_invitation(organization, params, created)
        self._seed_status(invitation, status)
        if status == "accepted":
            organization["members"].add(email)
        return invitation

    def expire_invitation(self, invitation_id: str) -> dict[str, Any]:
        """Make a pending application or organization invitation read `expired` from now on:
        its `expires_at` becomes now. KeyError for an unknown id, `NotPending` if not pending."""
        invitation = self.invitations.get(invitation_id)
        if invitation is None:
            invitation = self.organization_invitations[invitation_id]
        status = self.status_of(invitation)
        if status != "pending":
            raise NotPending(f"invitation {invitation_id} is {status}, not pending")
        invitation["expires_at"] = self._now_ms()
        return invitation

    def status_of(self, invitation: Mapping[str, Any]) -> str:
        """The status Clerk reports now: pending past `expires_at` reads as `expired`."""
        return effective_status(invitation, self._now_ms())

    def public_view(self, invitation: Mapping[str, Any]) -> dict[str, Any]:
        return public_view(invitation, self.status_of(invitation))

    def reset(self) -> None:
        super().reset()
        self.invitations.clear()
        self.organizations.clear()
        self.organization_invitations.clear()
        self.users.clear()
        self.users_by_id.clear()
        self.role_permissions = _default_role_permissions()

    def state(self) -> dict[str, Any]:
        return {
            "invitations": self.invitations,
            "organizations": self.organizations,
            "organization_invitations": self.organization_invitations,
            "users": self.users,
            "users_by_id": self.users_by_id,
            "role_permissions": self.role_permissions,
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


def _default_role_permissions() -> dict[str, set[str]]:
    return {role: set(permissions) for role, permissions in DEFAULT_ROLE_PERMISSIONS.items()}
