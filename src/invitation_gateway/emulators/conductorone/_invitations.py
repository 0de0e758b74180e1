"""ConductorOne LocalUserInvitationService endpoints, over the state `ConductorOneEmulator` holds.

POST /api/v1/local-directory-configs/{directory_app_id}/invitations   Create (notes §2.1)
GET  …/invitations/{id}                                               Get
POST …/invitations/{id}/revoke                                        Revoke
POST /api/v1/search/local-directory-invitations                       Search (§2.2)

What a Create for an email with a PENDING invitation in the directory answers is UNVERIFIED
(conductorone-notes.md §7.3: 409, 400 or the invitation?): `duplicate_invitation` picks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from invitation_gateway.emulators._common import RecordedRequest, is_valid_email, new_ksuid
from invitation_gateway.emulators._routing import Router
from invitation_gateway.emulators.conductorone._pages import (
    PageTokens,
    list_payload,
    page_size,
    paginate,
)
from invitation_gateway.emulators.conductorone._wire import (
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    NOT_FOUND,
    Kind,
    RpcError,
    format_timestamp,
    parse_message,
    parse_timestamp,
)

UNSPECIFIED = "LOCAL_INVITATION_STATUS_UNSPECIFIED"
PENDING = "LOCAL_INVITATION_STATUS_PENDING"
ACCEPTED = "LOCAL_INVITATION_STATUS_ACCEPTED"
REVOKED = "LOCAL_INVITATION_STATUS_REVOKED"
EXPIRED = "LOCAL_INVITATION_STATUS_EXPIRED"
STATUSES = (UNSPECIFIED, PENDING, ACCEPTED, REVOKED, EXPIRED)  # proto enum order: index = number

SANDBOX_USER_ID = "2fQzSandboxAdminUser0000001"
"""`invitedByUserId` of every invitation: the user the sandbox token stands for."""

DuplicateInvitation = Literal["conflict", "bad_request", "existing"]
"""The answer to a Create for an email with a PENDING invitation in the directory:
`conflict` 409 ALREADY_EXISTS, `bad_request` 400 FAILED_PRECONDITION, `existing` 200 with it."""

CONFIGS = "/api/v1/local-directory-configs"
SEARCH = "/api/v1/search/local-directory-invitations"
_OPTIONAL_FIELDS = ("initialRoleIds", "jobId", "onboardingFlowId", "purpose", "sponsorUserId")
# Path parameters are fields of the request message too, so protojson accepts them in the body;
# grpc-gateway then overwrites them from the path.
_CREATE_FIELDS = {
    "directoryAppId": Kind.STRING,
    "email": Kind.STRING,
    "displayName": Kind.STRING,
    "initialRoleIds": Kind.STRINGS,
    "jobId": Kind.STRING,
    "onboardingFlowId": Kind.STRING,
    "purpose": Kind.STRING,
    "sponsorUserId": Kind.STRING,
}
_REVOKE_FIELDS = {"directoryAppId": Kind.STRING, "id": Kind.STRING}
_SEARCH_FIELDS = {
    "directoryAppId": Kind.STRING,
    "statusFilter": Kind.STRING,
    "pageSize": Kind.INT32,
    "pageToken": Kind.STRING,
}
_CREATE_MESSAGE = "LocalUserInvitationServiceCreateRequest"


class InvitationState(Protocol):
    """What the endpoints need from the emulator; read on every call, so reassigning is safe."""

    directories: dict[str, dict[str, Any]]
    invitations: dict[str, dict[str, Any]]
    duplicate_invitation: DuplicateInvitation
    search_newest_first: bool
    page_tokens: PageTokens

    def stamp(self) -> datetime: ...

    def status_of(self, invitation: Mapping[str, Any]) -> str: ...


class LocalUserInvitations:
    def __init__(self, state: InvitationState) -> None:
        self._state = state

    def register(self, router: Router) -> None:
        invitations = CONFIGS + "/{directory_app_id}/invitations"
        router.add("POST", invitations, self._create)
        router.add("GET", invitations + "/{id}", self._get)
        router.add("POST", invitations + "/{id}/revoke", self._revoke)
        router.add("POST", SEARCH, self._search)

    def new_invitation(
        self, directory: Mapping[str, Any], fields: Mapping[str, Any], created: datetime
    ) -> dict[str, Any]:
        stamp = format_timestamp(created)
        invitation: dict[str, Any] = {
            "id": new_ksuid(created),
            "directoryAppId": directory["appId"],
            "email": fields["email"],
            "displayName": fields["displayName"],
            "status": PENDING,
            "createdAt": stamp,
            "updatedAt": stamp,
            "expiresAt": format_timestamp(created + _ttl(directory)),
            "invitedByUserId": SANDBOX_USER_ID,
        }
        # proto3 JSON omits empty strings and empty lists (conductorone-notes.md §6.4)
        invitation.update({name: fields[name] for name in _OPTIONAL_FIELDS if fields.get(name)})
        self._state.invitations[invitation["id"]] = invitation
        return invitation

    def directory(self, app_id: str) -> dict[str, Any]:
        directory = self._state.directories.get(app_id)
        if directory is None:
            raise RpcError(NOT_FOUND, "not found")
        return directory

    # --- handlers ----------------------------------------------------------------------------

    def _create(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        fields = parse_message(request.body, _CREATE_FIELDS, message=_CREATE_MESSAGE)
        # Validation wording follows protoc-gen-validate; the real messages are UNVERIFIED
        # (conductorone-notes.md §2.1), and so is rejecting a malformed email at all.
        email, display_name = fields.get("email", ""), fields.get("displayName", "")
        if not email:
            raise _invalid("Email", "value length must be at least 1 runes")
        if not is_valid_email(email):
            raise _invalid("Email", "value must be a valid email address")
        if not display_name:
            raise _invalid("DisplayName", "value length must be at least 1 runes")
        directory = self.directory(params["directory_app_id"])
        existing = self._pending_for(directory["appId"], email)
        if existing is not None:
            return self._duplicate(existing)
        invitation = self.new_invitation(directory, fields, self._state.stamp())
        return {"invitation": self._view(invitation)}

    def _duplicate(self, existing: Mapping[str, Any]) -> Any:
        # UNVERIFIED (conductorone-notes.md §7.3): C1's answer to a duplicate Create is not
        # documented; `duplicate_invitation` chooses between the three plausible ones.
        mode = self._state.duplicate_invitation
        if mode == "existing":
            return {"invitation": self._view(existing)}
        if mode == "bad_request":
            raise RpcError(FAILED_PRECONDITION, "an invitation already exists for this email")
        raise RpcError(ALREADY_EXISTS, "a pending invitation already exists for this email")

    def _get(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        return {"invitation": self._view(self._invitation(params))}

    def _revoke(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        parse_message(
            request.body, _REVOKE_FIELDS, message="LocalUserInvitationServiceRevokeRequest"
        )
        invitation = self._invitation(params)
        if self._state.status_of(invitation) != PENDING:
            # UNVERIFIED (conductorone-notes.md §6.2, §7.2): the answer to revoking a non-PENDING
            # invitation is not documented; C1 answers other state rejections with HTTP 400.
            raise RpcError(FAILED_PRECONDITION, "invitation is not pending")
        invitation["status"] = REVOKED
        invitation["updatedAt"] = format_timestamp(self._state.stamp())
        return {"invitation": self._view(invitation)}

    def _search(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        fields = parse_message(
            request.body,
            _SEARCH_FIELDS,
            message="LocalUserInvitationServiceSearchRequest",
            enums={"statusFilter": STATUSES},
        )
        # UNVERIFIED (conductorone-notes.md §7.4): whether directoryAppId is required and whether
        # UNSPECIFIED means "all". Here both are optional filters; an unknown directory finds none.
        directory = fields.get("directoryAppId", "")
        status = fields.get("statusFilter", UNSPECIFIED)
        matches = [
            invitation
            for invitation in self._state.invitations.values()
            if (not directory or invitation["directoryAppId"] == directory)
            and (status == UNSPECIFIED or self._state.status_of(invitation) == status)
        ]
        # Search documents no sort order (notes §2.2, UNVERIFIED): newest first by default, and
        # oldest first on demand, so tests can show the gateway loses nothing either way.
        page, next_token = paginate(
            matches,
            _newest_first_key,
            fields.get("pageToken", ""),
            page_size(fields.get("pageSize")),
            self._state.page_tokens,
            listing="invitations",
            descending=self._state.search_newest_first,
        )
        return list_payload([self._view(invitation) for invitation in page], next_token)

    # --- helpers -----------------------------------------------------------------------------

    def _pending_for(self, directory_app_id: str, email: str) -> dict[str, Any] | None:
        return next(
            (
                invitation
                for invitation in self._state.invitations.values()
                if invitation["directoryAppId"] == directory_app_id
                and invitation["email"].casefold() == email.casefold()
                and self._state.status_of(invitation) == PENDING
            ),
            None,
        )

    def _view(self, invitation: Mapping[str, Any]) -> dict[str, Any]:
        return {**invitation, "status": self._state.status_of(invitation)}

    def _invitation(self, params: Mapping[str, str]) -> dict[str, Any]:
        invitation = self._state.invitations.get(params["id"])
        if invitation is None or invitation["directoryAppId"] != params["directory_app_id"]:
            raise RpcError(NOT_FOUND, "not found")
        return invitation


def _newest_first_key(invitation: Mapping[str, Any]) -> list[Any]:
    created = parse_timestamp(invitation["createdAt"])
    micros = (created - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return [micros, invitation["id"]]


def _ttl(directory: Mapping[str, Any]) -> timedelta:
    return timedelta(seconds=float(str(directory.get("invitationTtl", "604800s")).rstrip("s")))


def _invalid(field: str, reason: str) -> RpcError:
    return RpcError(INVALID_ARGUMENT, f"invalid {_CREATE_MESSAGE}.{field}: {reason}")
