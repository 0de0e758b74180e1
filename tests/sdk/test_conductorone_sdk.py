"""ConductorOne's local-directory invitation calls against the emulator on a real socket.

The installed `conductorone-sdk` (0.17.2, the newest on PyPI) has no local-directory calls at
all: the first test pins that, so that a version which adds them fails here and gets driven like
Clerk's SDK is. Until then each call is made as the vendor's SDKs make it (bearer token, or an
OAuth client-credentials assertion as C1's Python token source builds it) and every answer is
parsed strictly into models of the spec (`tests/support/conductorone_spec.py`), values checked.
"""

from __future__ import annotations

import base64
import json
import pkgutil
import secrets
from collections.abc import Iterator

import conductorone_sdk
import httpx
import jwt
import pytest

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.conductorone import (
    ACCEPTED,
    EXPIRED,
    PENDING,
    REVOKED,
    SANDBOX_USER_ID,
    ConductorOneEmulator,
)
from tests.support.clock import FIXED_NOW, later, manual_clock, rewind
from tests.support.conductorone_spec import (
    ConfigListResponse,
    ConfigResponse,
    InvitationResponse,
    RpcStatus,
    SearchResponse,
    TokenResponse,
)
from tests.support.servers import serve

TOKEN = "c1-sdk-token"
DIRECTORY = "2fQzSdkDirectory00000000001"
OTHER = "2fQzSdkOtherDirectory000001"
INVITATIONS = f"/api/v1/local-directory-configs/{DIRECTORY}/invitations"
SEARCH = "/api/v1/search/local-directory-invitations"
WEEK = 7 * 86400


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return manual_clock()


@pytest.fixture(scope="module")
def served(clock: ManualClock) -> Iterator[tuple[ConductorOneEmulator, str]]:
    emulator = ConductorOneEmulator(token=TOKEN, clock=clock)
    with serve(emulator.app) as base_url:
        yield emulator, base_url


@pytest.fixture
def emu(served: tuple[ConductorOneEmulator, str], clock: ManualClock) -> ConductorOneEmulator:
    emulator = served[0]
    emulator.reset()
    rewind(clock)
    emulator.add_directory(DIRECTORY, "Acme Employees", is_default=True)
    emulator.add_directory(OTHER, "Contractors", invitation_ttl_seconds=3600)
    return emulator


@pytest.fixture
def c1(
    served: tuple[ConductorOneEmulator, str], emu: ConductorOneEmulator
) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=served[1], headers=headers, timeout=5) as http:
        yield http


def create(
    c1: httpx.Client, email: str = "ada@example.com", **fields: object
) -> InvitationResponse:
    response = c1.post(INVITATIONS, json={"email": email, "displayName": "Ada", **fields})
    assert response.status_code == 200, response.text
    return InvitationResponse.model_validate_json(response.content)


def rpc_error(response: httpx.Response, http_status: int, code: int) -> RpcStatus:
    assert response.status_code == http_status, response.text
    status = RpcStatus.model_validate_json(response.content)
    assert status.code == code
    assert status.message.endswith(f"(request-id: {response.headers['request-id']})")
    return status


def test_the_installed_sdk_has_no_local_directory_invitation_calls() -> None:
    """conductorone-sdk has no LocalUserInvitation group, model or module (drive it when it does)."""
    groups = set(conductorone_sdk.SDK._sub_sdk_map)  # the lazily loaded groups, by name
    modules = [
        name for _, name, _ in pkgutil.walk_packages(conductorone_sdk.__path__, "conductorone_sdk.")
    ]
    assert "auth" in groups  # the table is the one we think it is
    assert not [name for name in groups if "invitation" in name or "local_directory" in name]
    assert not [name for name in modules if "invitation" in name or "localdirectory" in name]


# --- the four invitation calls -------------------------------------------------------------------


def test_create(c1: httpx.Client, emu: ConductorOneEmulator) -> None:
    """Create parses into {invitation}: KSUID id, PENDING, the directory TTL, omitted empties."""
    invitation = create(
        c1, initialRoleIds=["2fQzRole0000000000000000001"], purpose="New hire"
    ).invitation
    assert invitation is not None
    assert invitation.id is not None
    assert len(invitation.id) == 27
    assert (invitation.directoryAppId, invitation.email, invitation.displayName) == (
        DIRECTORY,
        "ada@example.com",
        "Ada",
    )
    assert invitation.status == PENDING
    assert invitation.createdAt == invitation.updatedAt == FIXED_NOW
    assert invitation.expiresAt is not None
    assert (invitation.expiresAt - FIXED_NOW).total_seconds() == WEEK
    assert invitation.invitedByUserId == SANDBOX_USER_ID
    assert (invitation.initialRoleIds, invitation.purpose) == (
        ["2fQzRole0000000000000000001"],
        "New hire",
    )
    assert (invitation.acceptedAt, invitation.jobId, invitation.sponsorUserId) == (None, None, None)
    assert emu.invitations[invitation.id]["status"] == PENDING


@pytest.mark.parametrize(
    ("mode", "http_status", "code"),
    [("conflict", 409, 6), ("bad_request", 400, 9), ("existing", 200, None)],
)
def test_create_twice(
    c1: httpx.Client, emu: ConductorOneEmulator, mode: str, http_status: int, code: int | None
) -> None:
    """A duplicate create answers per duplicate_invitation; none adds an invitation."""
    first = create(c1)
    emu.configure(duplicate_invitation=mode)
    response = c1.post(INVITATIONS, json={"email": "ADA@example.com", "displayName": "Ada"})
    if code is None:
        assert InvitationResponse.model_validate_json(response.content) == first
    else:
        rpc_error(response, http_status, code)
    assert len(emu.invitations) == 1


@pytest.mark.parametrize(
    ("path", "body", "http_status", "code"),
    [
        (INVITATIONS, {"email": "nope", "displayName": "X"}, 400, 3),
        (INVITATIONS, {"email": "a@example.com"}, 400, 3),
        (INVITATIONS, {"email": "a@example.com", "displayName": "A", "bogus": 1}, 400, 3),
        (
            "/api/v1/local-directory-configs/unknown/invitations",
            {"email": "a@example.com", "displayName": "A"},
            404,
            5,
        ),
    ],
)
def test_create_errors(
    c1: httpx.Client, path: str, body: dict[str, object], http_status: int, code: int
) -> None:
    """Bad input is 400 INVALID_ARGUMENT and an unknown directory 404 NOT_FOUND, as google.rpc.Status."""
    rpc_error(c1.post(path, json=body), http_status, code)


def test_get(c1: httpx.Client, emu: ConductorOneEmulator) -> None:
    """Get parses the invitation; an unknown id, or one of another directory, is 404."""
    seeded = emu.add_invitation(DIRECTORY, "grace@example.com", "Grace", status=ACCEPTED)
    got = InvitationResponse.model_validate_json(c1.get(f"{INVITATIONS}/{seeded['id']}").content)
    assert got.invitation is not None
    assert (got.invitation.id, got.invitation.status) == (seeded["id"], ACCEPTED)
    assert got.invitation.acceptedAt == got.invitation.updatedAt
    assert got.invitation.createdUserId
    rpc_error(c1.get(f"{INVITATIONS}/2fQzNoSuchInvitation0000001"), 404, 5)
    rpc_error(c1.get(f"/api/v1/local-directory-configs/{OTHER}/invitations/{seeded['id']}"), 404, 5)


def test_revoke(c1: httpx.Client, emu: ConductorOneEmulator, clock: ManualClock) -> None:
    """Revoke parses the REVOKED invitation; revoking it again is 400 FAILED_PRECONDITION."""
    created = create(c1).invitation
    assert created is not None
    later(clock, minutes=5)
    revoked = InvitationResponse.model_validate_json(
        c1.post(f"{INVITATIONS}/{created.id}/revoke", json={}).content
    ).invitation
    assert revoked is not None
    assert (revoked.id, revoked.status, revoked.createdAt) == (created.id, REVOKED, FIXED_NOW)
    assert revoked.updatedAt is not None
    assert (revoked.updatedAt - FIXED_NOW).total_seconds() == 300
    rpc_error(c1.post(f"{INVITATIONS}/{created.id}/revoke", json={}), 400, 9)
    assert emu.invitations[str(created.id)]["status"] == REVOKED


def test_search(c1: httpx.Client, emu: ConductorOneEmulator) -> None:
    """Search parses pages newest first; nextPageToken resumes; the last page has none."""
    ids = [emu.add_invitation(DIRECTORY, f"u{n}@example.com", f"U{n}")["id"] for n in range(12)]
    emu.add_invitation(OTHER, "other@example.com", "Other")
    first = SearchResponse.model_validate_json(
        c1.post(SEARCH, json={"directoryAppId": DIRECTORY, "pageSize": 10}).content
    )
    assert first.list is not None
    assert [item.id for item in first.list] == list(reversed(ids))[:10]
    assert first.nextPageToken
    rest = SearchResponse.model_validate_json(
        c1.post(
            SEARCH, json={"directoryAppId": DIRECTORY, "pageToken": first.nextPageToken}
        ).content
    )
    assert rest.list is not None
    assert ([item.id for item in rest.list], rest.nextPageToken) == (list(reversed(ids))[10:], None)
    rpc_error(c1.post(SEARCH, json={"pageToken": "forged"}), 400, 3)


def test_search_by_status_and_expiry(c1: httpx.Client, emu: ConductorOneEmulator) -> None:
    """statusFilter selects by the status read now: an expired invitation is found as EXPIRED."""
    created = create(c1).invitation
    assert created is not None
    emu.add_invitation(DIRECTORY, "r@example.com", "R", status=REVOKED)
    emu.expire_invitation(str(created.id))
    found = SearchResponse.model_validate_json(
        c1.post(SEARCH, json={"statusFilter": EXPIRED}).content
    )
    assert found.list is not None
    assert [(item.id, item.status) for item in found.list] == [(created.id, EXPIRED)]
    none = SearchResponse.model_validate_json(
        c1.post(SEARCH, json={"directoryAppId": OTHER}).content
    )
    assert (none.list, none.nextPageToken) == (None, None)  # proto3 JSON leaves both out


# --- directories, tokens, faults ------------------------------------------------------------------


def test_directory_configs(c1: httpx.Client) -> None:
    """The config List and Get parse into LocalDirectoryConfig with the default flagged."""
    listed = ConfigListResponse.model_validate_json(
        c1.get("/api/v1/local-directory-configs").content
    )
    assert listed.list is not None
    assert [(item.appId, item.isDefault) for item in listed.list] == [
        (DIRECTORY, True),
        (OTHER, None),
    ]
    got = ConfigResponse.model_validate_json(
        c1.get(f"/api/v1/local-directory-configs/{OTHER}").content
    )
    assert got.localDirectoryConfig is not None
    assert (got.localDirectoryConfig.invitationTtl, got.localDirectoryConfig.createdAt) == (
        "3600s",
        FIXED_NOW,
    )


def test_an_oauth_client_gets_a_token_and_uses_it(
    served: tuple[ConductorOneEmulator, str], emu: ConductorOneEmulator
) -> None:
    """Client credentials as C1's Python token source sends them (string aud, nonce in claims)."""
    client_id, client_secret = emu.create_client("sdk")
    jwk = json.loads(base64.urlsafe_b64decode(client_secret.rsplit(":", 1)[1] + "=="))
    now = int(FIXED_NOW.timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": "conductorone.sandbox",
        "iat": now,
        "nbf": now - 120,
        "exp": now + 120,
        "nonce": secrets.token_urlsafe(16),
    }
    assertion = jwt.encode(claims, jwt.PyJWK(jwk).key, algorithm="EdDSA")
    with httpx.Client(base_url=served[1], timeout=5) as http:
        answer = http.post(
            "/auth/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_id": client_id,
                "client_assertion": assertion,
            },
        )
        token = TokenResponse.model_validate_json(answer.content)
        assert (token.token_type, token.expires_in) == ("Bearer", 600)
        headers = {"Authorization": f"Bearer {token.access_token}"}
        listed = http.post(SEARCH, json={}, headers=headers)
        assert SearchResponse.model_validate_json(listed.content).list is None
        rpc_error(http.post(SEARCH, json={}, headers={"Authorization": "Bearer no"}), 401, 16)


def test_a_null_invitation_after_acting_still_parses(
    c1: httpx.Client, emu: ConductorOneEmulator
) -> None:
    """An after fault answering {"invitation": null} parses (the spec allows null) yet one exists."""
    emu.faults.add(status=200, body='{"invitation": null}', after=True, method="POST")
    response = c1.post(INVITATIONS, json={"email": "ada@example.com", "displayName": "Ada"})
    assert InvitationResponse.model_validate_json(response.content).invitation is None
    assert len(emu.invitations) == 1


def test_a_dropped_create_is_a_transport_error_after_acting(
    c1: httpx.Client, emu: ConductorOneEmulator
) -> None:
    """A drop fault gives the client a RemoteProtocolError (or ReadError); the invitation exists."""
    emu.faults.add(drop=True, method="POST")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        c1.post(INVITATIONS, json={"email": "ada@example.com", "displayName": "Ada"})
    [invitation] = emu.invitations.values()
    assert invitation["email"] == "ada@example.com"
