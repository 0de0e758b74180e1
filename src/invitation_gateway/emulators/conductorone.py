"""Stateful in-process emulator of the ConductorOne (C1) local-directory invitation API.

It follows the vendor contract in `shared/upstream/conductorone-notes.md` and
`c1-local-directory.yaml`, not any idea of the gateway's: camelCase proto3 JSON with empty fields
omitted, RFC 3339 timestamps, google.rpc.Status errors with a `(request-id: …)` suffix, search
pagination by `pageSize`/`pageToken`, and the 301 that C1 answers for an empty id segment.

Implemented (paths under the tenant base URL):

    GET  /api/v1/local-directory-configs                                  List configs
    GET  /api/v1/local-directory-configs/{app_id}                         Get config
    POST /api/v1/local-directory-configs/{directory_app_id}/invitations   Create
    GET  …/invitations/{id}                                               Get
    POST …/invitations/{id}/revoke                                        Revoke
    POST /api/v1/search/local-directory-invitations                       Search
    POST /auth/v1/token                     OAuth client credentials (`_conductorone_token.py`)

The API takes the static `tokens` (bearer-token mode) and the unexpired tokens the token endpoint
issued to clients made by `create_client()` or `register_client()`.

Expiry is computed on read: a PENDING invitation whose `expiresAt` has passed (per the injected
clock) is reported as EXPIRED, while `emulator.invitations` keeps the stored PENDING. Whether C1
flips the stored status itself is UNVERIFIED (conductorone-notes.md §2.3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from starlette.responses import JSONResponse, Response

from invitation_gateway.emulators._common import (
    Clock,
    Emulator,
    PageTokens,
    RecordedRequest,
    as_utc,
    is_valid_email,
    new_ksuid,
)
from invitation_gateway.emulators._conductorone_token import (
    DEFAULT_HOST,
    TOKEN_PATH,
    ClientKey,
    TokenEndpoint,
)
from invitation_gateway.emulators._conductorone_wire import (
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNIMPLEMENTED,
    Kind,
    RpcError,
    collection_redirect,
    fault_status_body,
    format_timestamp,
    list_payload,
    new_request_id,
    page_size,
    paginate,
    parse_message,
    parse_timestamp,
    query_int32,
    redirect_response,
)
from invitation_gateway.emulators._routing import Router

UNSPECIFIED = "LOCAL_INVITATION_STATUS_UNSPECIFIED"
PENDING = "LOCAL_INVITATION_STATUS_PENDING"
ACCEPTED = "LOCAL_INVITATION_STATUS_ACCEPTED"
REVOKED = "LOCAL_INVITATION_STATUS_REVOKED"
EXPIRED = "LOCAL_INVITATION_STATUS_EXPIRED"
STATUSES = (UNSPECIFIED, PENDING, ACCEPTED, REVOKED, EXPIRED)  # proto enum order: index = number

SANDBOX_USER_ID = "2fQzSandboxAdminUser0000001"
"""`invitedByUserId` of every invitation: the user the sandbox token stands for."""

_CONFIGS = "/api/v1/local-directory-configs"
_SEARCH = "/api/v1/search/local-directory-invitations"
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


class ConductorOneEmulator(Emulator):
    """ConductorOne local directories and their invitations, served over HTTP at `self.app`."""

    def __init__(
        self,
        *,
        token: str = "c1-sandbox-token",  # noqa: S107 - the sandbox's well-known fake token
        clock: Clock | None = None,
        host: str = DEFAULT_HOST,
    ) -> None:
        super().__init__(clock=clock)
        self._initial_token = token
        self.tokens: set[str] = {token}
        self.oauth = TokenEndpoint(host=host, now=self.now)
        self.directories: dict[str, dict[str, Any]] = {}
        self.invitations: dict[str, dict[str, Any]] = {}
        self._page_tokens = PageTokens()
        # Search documents no sort order (notes §2.2, UNVERIFIED): newest first by default, and
        # oldest first on demand, so tests can show the gateway loses nothing either way.
        self.search_newest_first = True
        self._router = Router()
        invitations = _CONFIGS + "/{directory_app_id}/invitations"
        self._router.add("GET", _CONFIGS, self._list_directories)
        self._router.add("GET", _CONFIGS + "/{app_id}", self._get_directory)
        self._router.add("POST", invitations, self._create_invitation)
        self._router.add("GET", invitations + "/{id}", self._get_invitation)
        self._router.add("POST", invitations + "/{id}/revoke", self._revoke_invitation)
        self._router.add("POST", _SEARCH, self._search_invitations)
        self._router.add("POST", TOKEN_PATH, self.oauth.handle)

    # --- seeding and state -------------------------------------------------------------------

    def add_directory(
        self,
        app_id: str,
        display_name: str,
        *,
        is_default: bool = False,
        invitation_ttl_seconds: int = 7 * 86400,
    ) -> dict[str, Any]:
        """Add a LocalDirectoryConfig; a new default one takes `isDefault` from the others."""
        stamp = format_timestamp(self.now())
        config: dict[str, Any] = {"appId": app_id, "displayName": display_name}
        if is_default:  # "At most one config per tenant may be the default." (notes §3)
            for other in self.directories.values():
                other.pop("isDefault", None)
            config["isDefault"] = True
        # UNVERIFIED (conductorone-notes.md §3): proto Duration as JSON, e.g. "604800s".
        config["invitationTtl"] = f"{invitation_ttl_seconds}s"
        config["createdAt"] = config["updatedAt"] = stamp
        self.directories[app_id] = config
        return config

    def add_invitation(
        self,
        directory_app_id: str,
        email: str,
        display_name: str,
        *,
        status: str = PENDING,
        roles: Sequence[str] = (),
        purpose: str | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Seed an invitation in any status (raises KeyError for an unknown directory)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        created = as_utc(created_at) if created_at else self.now()
        fields = {
            "email": email,
            "displayName": display_name,
            "initialRoleIds": list(roles),
            "purpose": purpose or "",
        }
        invitation = self._new_invitation(self.directories[directory_app_id], fields, created)
        if status != PENDING:
            changed = max(created, min(created + timedelta(hours=1), self.now()))
            invitation["status"] = status
            invitation["updatedAt"] = format_timestamp(changed)
            if status == ACCEPTED:
                invitation["acceptedAt"] = invitation["updatedAt"]
                invitation["createdUserId"] = new_ksuid(changed)
        return invitation

    def create_client(self, name: str = "sandbox") -> tuple[str, str]:
        """A new OAuth client `<name>@<host>/pcc`: returns (client_id, client_secret)."""
        return self.oauth.create_client(name)

    def register_client(self, client_id: str, key: ClientKey) -> None:
        """Accept assertions from `client_id` signed with `key` (an Ed25519 key or its JWK)."""
        self.oauth.register_client(client_id, key)

    def expire_tokens(self) -> None:
        """Make every token the token endpoint issued expire now."""
        self.oauth.expire_all()

    @property
    def token_ttl_seconds(self) -> int:
        """The `expires_in` of the tokens issued from now on (600 by default)."""
        return self.oauth.ttl_seconds

    @token_ttl_seconds.setter
    def token_ttl_seconds(self, seconds: int) -> None:
        self.oauth.ttl_seconds = seconds

    @property
    def api_requests(self) -> list[RecordedRequest]:
        """The recorded requests without the token endpoint's: what tests count as API calls."""
        return [r for r in self.requests if r.path != TOKEN_PATH]

    @property
    def token_requests(self) -> int:
        """How many token requests were received (faulted ones too), from `requests`."""
        return sum(1 for r in self.requests if (r.method, r.path) == ("POST", TOKEN_PATH))

    def status_of(self, invitation: Mapping[str, Any]) -> str:
        """The status C1 reports now: a PENDING invitation past `expiresAt` reads as EXPIRED."""
        status = str(invitation.get("status", UNSPECIFIED))
        expires_at = invitation.get("expiresAt")
        if status == PENDING and expires_at and parse_timestamp(expires_at) <= self.now():
            return EXPIRED
        return status

    def reset(self) -> None:
        super().reset()
        self.tokens.clear()  # in place: a token endpoint may hold this set
        self.tokens.add(self._initial_token)
        self.oauth.reset()
        self.directories.clear()
        self.invitations.clear()

    def state(self) -> dict[str, Any]:
        return {
            "directories": self.directories,
            "invitations": self.invitations,
            "clients": self.oauth.public_jwks(),
        }

    # --- the Emulator hooks ------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Response:
        request_id = new_request_id()
        location = collection_redirect(request.path)
        if location is not None:
            return redirect_response(location, request_id, request.method)
        try:
            payload = self._dispatch(request)
        except RpcError as error:
            return error.response(request_id)
        return JSONResponse(payload, headers={"request-id": request_id})

    def _target_of(self, request: RecordedRequest) -> str | None:
        segments = request.path.split("/")
        if request.path.startswith(_CONFIGS + "/") and len(segments) > 4:
            return unquote(segments[4])
        if request.path == _SEARCH and isinstance(request.json, dict):
            directory = request.json.get("directoryAppId")
            return directory if isinstance(directory, str) else None
        return None

    def _default_fault_body(self, status: int) -> bytes:
        return json.dumps(fault_status_body(status), separators=(",", ":")).encode()

    def _fault_headers(self) -> dict[str, str]:
        return {"request-id": new_request_id()}

    def _dispatch(self, request: RecordedRequest) -> Any:
        if request.path.startswith("/api/v1/"):
            self._authenticate(request)
        match = self._router.resolve(request.method, request.path)
        if match is None:
            # grpc-gateway's routing errors: 404 -> NotFound, 405 -> Unimplemented (HTTP 501).
            # UNVERIFIED for C1 (conductorone-notes.md §6.2 cites only the status mapping).
            if self._router.knows_path(request.path):
                raise RpcError(UNIMPLEMENTED, "Method Not Allowed")
            raise RpcError(NOT_FOUND, "Not Found")
        return match.handler(request, match.params)

    def _authenticate(self, request: RecordedRequest) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not (token in self.tokens or self.oauth.accepts(token)):
            raise RpcError(UNAUTHENTICATED, "unauthenticated")

    # --- handlers ----------------------------------------------------------------------------

    def _list_directories(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        size = page_size(query_int32(request.query, "page_size"))
        token = request.query.get("page_token", [""])[-1]
        page, next_token = paginate(
            list(self.directories.values()),
            lambda config: [config["appId"]],
            token,
            size,
            self._page_tokens,
            listing="directories",
        )
        return list_payload(page, next_token)

    def _get_directory(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        return {"localDirectoryConfig": self._directory(params["app_id"])}

    def _create_invitation(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
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
        directory = self._directory(params["directory_app_id"])
        if any(
            invitation["directoryAppId"] == directory["appId"]
            and invitation["email"].casefold() == email.casefold()
            and self.status_of(invitation) == PENDING
            for invitation in self.invitations.values()
        ):
            # UNVERIFIED (conductorone-notes.md §7.3): C1's answer to a duplicate Create is not
            # documented (409, 400 or a second invitation); we pick ALREADY_EXISTS.
            raise RpcError(ALREADY_EXISTS, "a pending invitation already exists for this email")
        invitation = self._new_invitation(directory, fields, self.now())
        return {"invitation": self._view(invitation)}

    def _get_invitation(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        return {"invitation": self._view(self._invitation(params))}

    def _revoke_invitation(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        parse_message(
            request.body, _REVOKE_FIELDS, message="LocalUserInvitationServiceRevokeRequest"
        )
        invitation = self._invitation(params)
        if self.status_of(invitation) != PENDING:
            # UNVERIFIED (conductorone-notes.md §6.2, §7.2): the answer to revoking a non-PENDING
            # invitation is not documented; C1 answers other state rejections with HTTP 400.
            raise RpcError(FAILED_PRECONDITION, "invitation is not pending")
        invitation["status"] = REVOKED
        invitation["updatedAt"] = format_timestamp(self.now())
        return {"invitation": self._view(invitation)}

    def _search_invitations(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
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
            for invitation in self.invitations.values()
            if (not directory or invitation["directoryAppId"] == directory)
            and (status == UNSPECIFIED or self.status_of(invitation) == status)
        ]
        page, next_token = paginate(
            matches,
            _newest_first_key,
            fields.get("pageToken", ""),
            page_size(fields.get("pageSize")),
            self._page_tokens,
            listing="invitations",
            descending=self.search_newest_first,
        )
        return list_payload([self._view(invitation) for invitation in page], next_token)

    # --- helpers -----------------------------------------------------------------------------

    def _new_invitation(
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
        self.invitations[invitation["id"]] = invitation
        return invitation

    def _view(self, invitation: Mapping[str, Any]) -> dict[str, Any]:
        return {**invitation, "status": self.status_of(invitation)}

    def _directory(self, app_id: str) -> dict[str, Any]:
        directory = self.directories.get(app_id)
        if directory is None:
            raise RpcError(NOT_FOUND, "not found")
        return directory

    def _invitation(self, params: Mapping[str, str]) -> dict[str, Any]:
        invitation = self.invitations.get(params["id"])
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
