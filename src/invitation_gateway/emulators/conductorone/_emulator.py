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

Settings (`configure(...)`, `POST /__emulator__/settings`): `duplicate_invitation` (`conflict`,
`bad_request`, `existing`: see `_conductorone_invitations.py`) and `search_newest_first`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote

from starlette.responses import JSONResponse, Response

from invitation_gateway.emulators._common import Clock, Emulator, RecordedRequest, as_utc, new_ksuid
from invitation_gateway.emulators._control import NotPending
from invitation_gateway.emulators._routing import Router
from invitation_gateway.emulators.conductorone._directories import LocalDirectoryConfigs
from invitation_gateway.emulators.conductorone._invitations import (
    ACCEPTED,
    CONFIGS,
    EXPIRED,
    PENDING,
    REVOKED,
    SANDBOX_USER_ID,
    SEARCH,
    STATUSES,
    UNSPECIFIED,
    DuplicateInvitation,
    LocalUserInvitations,
)
from invitation_gateway.emulators.conductorone._pages import PageTokens
from invitation_gateway.emulators.conductorone._token import (
    DEFAULT_HOST,
    TOKEN_PATH,
    ClientKey,
    TokenEndpoint,
)
from invitation_gateway.emulators.conductorone._wire import (
    NOT_FOUND,
    UNAUTHENTICATED,
    UNIMPLEMENTED,
    RpcError,
    collection_redirect,
    fault_status_body,
    format_timestamp,
    new_request_id,
    parse_timestamp,
    redirect_response,
)

__all__ = [
    "ACCEPTED",
    "EXPIRED",
    "PENDING",
    "REVOKED",
    "SANDBOX_USER_ID",
    "STATUSES",
    "UNSPECIFIED",
    "ConductorOneEmulator",
    "DuplicateInvitation",
]


class ConductorOneEmulator(Emulator):
    """ConductorOne local directories and their invitations, served over HTTP at `self.app`."""

    SETTINGS: ClassVar[Mapping[str, tuple[object, ...]]] = {
        "duplicate_invitation": ("conflict", "bad_request", "existing"),
        "search_newest_first": (True, False),
    }

    def __init__(
        self,
        *,
        token: str = "c1-sandbox-token",  # noqa: S107 - the sandbox's well-known fake token
        clock: Clock | None = None,
        host: str = DEFAULT_HOST,
        duplicate_invitation: DuplicateInvitation = "conflict",
    ) -> None:
        super().__init__(clock=clock)
        self._initial_token = token
        self.tokens: set[str] = {token}
        self.oauth = TokenEndpoint(host=host, now=self.now)
        self.directories: dict[str, dict[str, Any]] = {}
        self.invitations: dict[str, dict[str, Any]] = {}
        self.page_tokens = PageTokens()
        self.duplicate_invitation: DuplicateInvitation = duplicate_invitation
        self.search_newest_first = True  # oldest first on demand: Search's order is UNVERIFIED
        self._invitation_api = LocalUserInvitations(self)
        self._directory_api = LocalDirectoryConfigs(self)
        self._router = Router()
        self._directory_api.register(self._router)
        self._invitation_api.register(self._router)
        self._router.add("POST", TOKEN_PATH, self.oauth.handle)
        self._remember_settings()

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
        return self._directory_api.add(
            app_id,
            display_name,
            is_default=is_default,
            ttl_seconds=invitation_ttl_seconds,
            now=self.now(),
        )

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
        created = as_utc(created_at) if created_at else self.stamp()
        fields = {
            "email": email,
            "displayName": display_name,
            "initialRoleIds": list(roles),
            "purpose": purpose or "",
        }
        directory = self.directories[directory_app_id]
        invitation = self._invitation_api.new_invitation(directory, fields, created)
        if status != PENDING:
            changed = max(created, min(created + timedelta(hours=1), self.now()))
            invitation["status"] = status
            invitation["updatedAt"] = format_timestamp(changed)
            if status == ACCEPTED:
                invitation["acceptedAt"] = invitation["updatedAt"]
                invitation["createdUserId"] = new_ksuid(changed)
        return invitation

    def expire_invitation(self, invitation_id: str) -> dict[str, Any]:
        """Make a PENDING invitation read EXPIRED from now on: its `expiresAt` becomes now.

        Raises KeyError for an unknown id and `NotPending` for one that is not PENDING.
        """
        invitation = self.invitations[invitation_id]
        status = self.status_of(invitation)
        if status != PENDING:
            raise NotPending(f"invitation {invitation_id} is {status}, not pending")
        invitation["expiresAt"] = format_timestamp(self.now())
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

    def public_view(self, invitation: Mapping[str, Any]) -> dict[str, Any]:
        return {**invitation, "status": self.status_of(invitation)}

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
        if request.path.startswith(CONFIGS + "/") and len(segments) > 4:
            return unquote(segments[4])
        if request.path == SEARCH and isinstance(request.json, dict):
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
