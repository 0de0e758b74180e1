"""The ConductorOne emulator over HTTP: the vendor contract, its error paths, and the test switches."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import (
    ACCEPTED,
    EXPIRED,
    PENDING,
    REVOKED,
    SANDBOX_USER_ID,
    ConductorOneEmulator,
)
from invitation_gateway.emulators.sandbox_seed import seed

DIRECTORY = "2fQzV1rJ5vJ8KkLqW3yYd0uXbNc"
OTHER = "2fQzOtherDirectory000000001"
TOKEN = "c1-test-token"
BASE = "/api/v1/local-directory-configs"
INVITATIONS = f"{BASE}/{DIRECTORY}/invitations"
SEARCH = "/api/v1/search/local-directory-invitations"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> ConductorOneEmulator:
    emulator = ConductorOneEmulator(token=TOKEN, clock=clock)
    emulator.add_directory(DIRECTORY, "Acme Employees", is_default=True)
    emulator.add_directory(OTHER, "Contractors", invitation_ttl_seconds=3600)
    return emulator


@pytest.fixture
async def client(emu: ConductorOneEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app),
        base_url="http://conductorone.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as http:
        yield http


async def create(
    client: httpx.AsyncClient, email: str = "ada@example.com", directory: str = DIRECTORY
) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/{directory}/invitations", json={"email": email, "displayName": "Ada Lovelace"}
    )
    assert response.status_code == 200, response.text
    invitation: dict[str, Any] = response.json()["invitation"]
    return invitation


def assert_rpc_error(response: httpx.Response, http_status: int, code: int) -> None:
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message"].endswith(f"(request-id: {response.headers['request-id']})")


async def search(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(SEARCH, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- create ---------------------------------------------------------------------------------------


async def test_create_returns_a_pending_invitation_in_proto3_json(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """Create answers {invitation} PENDING with a KSUID, RFC 3339 Z times, TTL expiry, no empty fields."""
    invitation = await create(client)
    assert len(invitation["id"]) == 27
    assert invitation["id"].isalnum()
    assert invitation["status"] == PENDING
    assert invitation["directoryAppId"] == DIRECTORY
    assert invitation["invitedByUserId"] == SANDBOX_USER_ID
    assert invitation["createdAt"] == invitation["updatedAt"] == "2026-01-15T09:30:00.123456Z"
    assert invitation["expiresAt"] == "2026-01-22T09:30:00.123456Z"  # the directory's 7-day TTL
    for absent in ("purpose", "initialRoleIds", "acceptedAt", "createdUserId", "jobId"):
        assert absent not in invitation
    assert emu.invitations[invitation["id"]] == invitation


async def test_create_keeps_the_optional_fields_that_are_set(client: httpx.AsyncClient) -> None:
    """Roles and purpose come back as sent; snake_case names parse too, as protojson allows."""
    response = await client.post(
        INVITATIONS,
        json={
            "email": "ada@example.com",
            "display_name": "Ada",
            "initialRoleIds": ["role-a", "role-b"],
            "purpose": "New hire",
            "jobId": "",
        },
    )
    invitation = response.json()["invitation"]
    assert invitation["initialRoleIds"] == ["role-a", "role-b"]
    assert invitation["purpose"] == "New hire"
    assert invitation["displayName"] == "Ada"
    assert "jobId" not in invitation


async def test_expiry_follows_the_directory_ttl(client: httpx.AsyncClient) -> None:
    """expiresAt is createdAt plus the directory's invitationTtl."""
    invitation = await create(client, directory=OTHER)
    assert invitation["expiresAt"] == "2026-01-15T10:30:00.123456Z"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"displayName": "Ada"}', id="missing-email"),
        pytest.param(b'{"email": "", "displayName": "Ada"}', id="empty-email"),
        pytest.param(b'{"email": "ada@example.com"}', id="missing-display-name"),
        pytest.param(b'{"email": "ada@example.com", "displayName": ""}', id="empty-display-name"),
        pytest.param(b'{"email": "not-an-email", "displayName": "Ada"}', id="invalid-email"),
        pytest.param(b'{"email": "a@example.com", "displayName": "A", "role": "x"}', id="unknown"),
        pytest.param(b'{"email": 5, "displayName": "Ada"}', id="wrong-type"),
        pytest.param(
            b'{"email": "a@example.com", "displayName": "A", "initialRoleIds": "r"}', id="list"
        ),
        pytest.param(b"email=ada@example.com", id="not-json"),
        pytest.param(b'["ada@example.com"]', id="not-an-object"),
    ],
)
async def test_invalid_create_body_is_invalid_argument(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, body: bytes
) -> None:
    """A create body C1 cannot accept is HTTP 400 code 3 (INVALID_ARGUMENT), and nothing is added."""
    response = await client.post(INVITATIONS, content=body)
    assert_rpc_error(response, 400, 3)
    assert emu.invitations == {}


async def test_create_in_an_unknown_directory_is_not_found(client: httpx.AsyncClient) -> None:
    """An unknown directory app id is HTTP 404 code 5."""
    response = await client.post(
        f"{BASE}/nope/invitations", json={"email": "ada@example.com", "displayName": "Ada"}
    )
    assert_rpc_error(response, 404, 5)


async def test_duplicate_pending_email_is_already_exists(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """A second invitation for a pending email (any case) in one directory is 409 code 6."""
    await create(client, "ada@example.com")
    response = await client.post(
        INVITATIONS, json={"email": "ADA@Example.com", "displayName": "Ada"}
    )
    assert_rpc_error(response, 409, 6)
    assert len(emu.invitations) == 1


async def test_same_email_is_fine_in_another_directory_or_after_revoke(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """The duplicate rule is per directory and only about PENDING invitations."""
    first = await create(client)
    await create(client, directory=OTHER)
    await client.post(f"{INVITATIONS}/{first['id']}/revoke", json={})
    await create(client)
    assert len(emu.invitations) == 3


# --- get and revoke -------------------------------------------------------------------------------


async def test_get_returns_the_invitation(client: httpx.AsyncClient) -> None:
    """Get answers {invitation} for an id in that directory."""
    created = await create(client)
    response = await client.get(f"{INVITATIONS}/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"invitation": created}


@pytest.mark.parametrize("directory", [DIRECTORY, OTHER, "nope"])
async def test_get_unknown_or_foreign_invitation_is_not_found(
    client: httpx.AsyncClient, directory: str
) -> None:
    """An unknown id, or one that belongs to another directory, is HTTP 404 code 5."""
    created = await create(client)
    invitation_id = "2fQzDoesNotExist00000000000" if directory == DIRECTORY else created["id"]
    response = await client.get(f"{BASE}/{directory}/invitations/{invitation_id}")
    assert_rpc_error(response, 404, 5)


async def test_revoke_marks_the_invitation_revoked(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """Revoke answers the invitation REVOKED with updatedAt bumped, and the state agrees."""
    created = await create(client)
    clock.advance(timedelta(minutes=5))
    response = await client.post(f"{INVITATIONS}/{created['id']}/revoke", json={})
    assert response.status_code == 200
    revoked = response.json()["invitation"]
    assert revoked["status"] == REVOKED
    assert revoked["updatedAt"] == "2026-01-15T09:35:00.123456Z"
    assert revoked["createdAt"] == created["createdAt"]
    assert emu.invitations[created["id"]]["status"] == REVOKED


async def test_revoke_accepts_an_empty_body(client: httpx.AsyncClient) -> None:
    """No body at all parses as the empty RevokeRequest, as grpc-gateway treats EOF."""
    created = await create(client)
    response = await client.post(f"{INVITATIONS}/{created['id']}/revoke")
    assert response.json()["invitation"]["status"] == REVOKED


@pytest.mark.parametrize("body", [b"{nope", b'{"reason": "x"}'])
async def test_revoke_with_a_bad_body_is_invalid_argument(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, body: bytes
) -> None:
    """A revoke body that is not JSON or has unknown keys is 400 code 3, and nothing changes."""
    created = await create(client)
    response = await client.post(f"{INVITATIONS}/{created['id']}/revoke", content=body)
    assert_rpc_error(response, 400, 3)
    assert emu.invitations[created["id"]]["status"] == PENDING


async def test_revoke_unknown_invitation_is_not_found(client: httpx.AsyncClient) -> None:
    """Revoking an id C1 never issued is HTTP 404 code 5."""
    response = await client.post(f"{INVITATIONS}/2fQzDoesNotExist00000000000/revoke", json={})
    assert_rpc_error(response, 404, 5)


@pytest.mark.parametrize("status", [ACCEPTED, REVOKED, EXPIRED])
async def test_revoke_of_a_non_pending_invitation_is_failed_precondition(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, status: str
) -> None:
    """Revoking an accepted, revoked or expired invitation is HTTP 400 code 9, state unchanged."""
    seeded = emu.add_invitation(DIRECTORY, "ada@example.com", "Ada", status=status)
    response = await client.post(f"{INVITATIONS}/{seeded['id']}/revoke", json={})
    assert_rpc_error(response, 400, 9)
    assert "not pending" in response.json()["message"]
    assert emu.invitations[seeded["id"]]["status"] == status


async def test_a_pending_invitation_past_expiry_reads_expired(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """Past expiresAt (by the injected clock) an invitation reads EXPIRED and is not revocable."""
    created = await create(client)
    clock.advance(timedelta(days=7))
    response = await client.get(f"{INVITATIONS}/{created['id']}")
    assert response.json()["invitation"]["status"] == EXPIRED
    assert emu.status_of(emu.invitations[created["id"]]) == EXPIRED
    revoke = await client.post(f"{INVITATIONS}/{created['id']}/revoke", json={})
    assert_rpc_error(revoke, 400, 9)
    found = await search(client, statusFilter=EXPIRED)
    assert [item["id"] for item in found["list"]] == [created["id"]]
    await create(client)  # an expired invitation no longer blocks a new one


# --- search ---------------------------------------------------------------------------------------


async def create_many(
    client: httpx.AsyncClient, clock: ManualClock, count: int, prefix: str = "user"
) -> list[str]:
    ids = []
    for number in range(count):
        clock.advance(timedelta(seconds=1))
        ids.append((await create(client, f"{prefix}{number}@example.com"))["id"])
    return ids


async def test_search_pages_newest_first_with_the_page_size_clamped(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """pageSize below 10 gives 10; pages run newest first; the last page has no nextPageToken."""
    ids = await create_many(client, clock, 23)
    seen: list[str] = []
    token = ""
    sizes = []
    while True:
        page = await search(client, directoryAppId=DIRECTORY, pageSize=5, pageToken=token)
        sizes.append(len(page["list"]))
        seen += [item["id"] for item in page["list"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert sizes == [10, 10, 3]
    assert seen == list(reversed(ids))


async def test_search_tokens_survive_invitations_created_between_pages(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """A page token encodes a position, so new invitations neither repeat nor hide older ones."""
    ids = await create_many(client, clock, 15)
    first = await search(client, pageSize=10)
    await create_many(client, clock, 3, prefix="late")
    second = await search(client, pageSize=10, pageToken=first["nextPageToken"])
    got = [item["id"] for item in first["list"] + second["list"]]
    assert got == list(reversed(ids))
    assert "nextPageToken" not in second


async def test_search_page_size_defaults_to_25_and_caps_at_100(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """No pageSize gives 25 items; a pageSize over 100 is read as 100."""
    await create_many(client, clock, 30)
    assert len((await search(client))["list"]) == 25
    everything = await search(
        client, pageSize="1000"
    )  # int32 as a JSON string, as protojson allows
    assert len(everything["list"]) == 30
    assert "nextPageToken" not in everything


async def test_search_filters_by_directory_and_status(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """directoryAppId and statusFilter narrow the results; UNSPECIFIED means any status."""
    pending = await create(client)
    emu.add_invitation(DIRECTORY, "bob@example.com", "Bob", status=REVOKED)
    await create(client, directory=OTHER)
    by_status = await search(client, directoryAppId=DIRECTORY, statusFilter=PENDING)
    assert [item["id"] for item in by_status["list"]] == [pending["id"]]
    anything = await search(client, directoryAppId=DIRECTORY, statusFilter=0)
    assert len(anything["list"]) == 2
    assert len((await search(client))["list"]) == 3


async def test_search_with_no_match_omits_list_and_token(client: httpx.AsyncClient) -> None:
    """An empty result is `{}`: proto3 JSON leaves out the empty list and the empty token."""
    assert await search(client, directoryAppId="unknown") == {}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"pageToken": "not-a-token"}, id="forged-token"),
        pytest.param({"pageToken": "eyJhZnRlciI6IFsxXX0=.0000"}, id="bad-signature"),
        pytest.param({"statusFilter": "LOCAL_INVITATION_STATUS_MAYBE"}, id="unknown-enum"),
        pytest.param({"pageSize": 2.5}, id="fractional-int32"),
        pytest.param({"directoryId": DIRECTORY}, id="unknown-key"),
    ],
)
async def test_bad_search_request_is_invalid_argument(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    """A page token we did not issue, a bad enum, int32 or key is HTTP 400 code 3."""
    response = await client.post(SEARCH, json=body)
    assert_rpc_error(response, 400, 3)


# --- directories ----------------------------------------------------------------------------------


async def test_list_directories_pages_with_page_size(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """GET local-directory-configs pages with page_size/page_token query parameters."""
    for number in range(10):
        emu.add_directory(f"2fQzDirectory{number:014d}", f"Directory {number}")
    first = (await client.get(BASE, params={"page_size": "3"})).json()
    assert len(first["list"]) == 10
    second = (await client.get(BASE, params={"page_token": first["nextPageToken"]})).json()
    assert len(second["list"]) == 2
    assert "nextPageToken" not in second
    assert {config["appId"] for config in first["list"] + second["list"]} == set(emu.directories)


async def test_directory_configs_are_proto3_json(client: httpx.AsyncClient) -> None:
    """Get answers {localDirectoryConfig}; isDefault is omitted when false."""
    default = (await client.get(f"{BASE}/{DIRECTORY}")).json()["localDirectoryConfig"]
    other = (await client.get(f"{BASE}/{OTHER}")).json()["localDirectoryConfig"]
    assert default["isDefault"] is True
    assert default["invitationTtl"] == "604800s"
    assert "isDefault" not in other


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        (f"{BASE}/nope", {}, 404, 5),
        (BASE, {"page_size": "ten"}, 400, 3),
        (BASE, {"page_token": "forged"}, 400, 3),
    ],
)
async def test_directory_errors(
    client: httpx.AsyncClient, path: str, params: dict[str, str], status: int, code: int
) -> None:
    """An unknown directory is 404 code 5; a bad page_size or page_token is 400 code 3."""
    assert_rpc_error(await client.get(path, params=params), status, code)


# --- auth, routing, quirks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "Basic c1-test-token", "Bearer wrong-token", "Bearer"]
)
async def test_missing_or_wrong_token_is_unauthenticated(
    emu: ConductorOneEmulator, authorization: str | None
) -> None:
    """Without a valid bearer token every /api/v1 call is HTTP 401 code 16."""
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://c1.test", headers=headers
    ) as anonymous:
        response = await anonymous.post(INVITATIONS, json={"email": "a@example.com"})
    assert_rpc_error(response, 401, 16)
    assert response.json()["message"].startswith("unauthenticated")
    assert emu.invitations == {}


async def test_tokens_added_later_are_accepted(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """`tokens` is the accepted set, so an OAuth endpoint can add the tokens it issues."""
    emu.tokens.add("issued-token")
    response = await client.get(BASE, headers={"Authorization": "Bearer issued-token"})
    assert response.status_code == 200


async def test_every_response_carries_a_fresh_request_id(client: httpx.AsyncClient) -> None:
    """Successes and errors alike carry a request-id header, different on each response."""
    ok = await client.get(BASE)
    error = await client.get(f"{BASE}/nope")
    assert ok.headers["request-id"]
    assert error.headers["request-id"]
    assert ok.headers["request-id"] != error.headers["request-id"]


@pytest.mark.parametrize(
    ("path", "location"),
    [
        (f"{INVITATIONS}/", INVITATIONS),
        (f"{INVITATIONS}//revoke", INVITATIONS),
        (f"{BASE}//invitations", BASE),
        (f"{BASE}/", BASE),
    ],
)
async def test_an_empty_path_segment_redirects_to_the_collection(
    emu: ConductorOneEmulator, path: str, location: str
) -> None:
    """An empty id or trailing slash answers 301 to the collection, as C1 does, and changes nothing."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://c1.test"
    ) as anonymous:
        response = await anonymous.post(path, json={})
    assert response.status_code == 301
    assert response.headers["location"] == location
    assert response.headers["request-id"]
    assert emu.invitations == {}


async def test_percent_escapes_in_ids_are_decoded_exactly_once(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """An escaped '/' stays inside the id (not found); an escaped plain char still finds the id."""
    created = await create(client)
    escaped_revoke = await client.get(f"{INVITATIONS}/{created['id']}%2Frevoke")
    assert_rpc_error(escaped_revoke, 404, 5)
    double = await client.post(f"{INVITATIONS}/{created['id']}%252F/revoke", json={})
    assert_rpc_error(double, 404, 5)
    first, rest = created["id"][0], created["id"][1:]
    found = await client.get(f"{INVITATIONS}/%{ord(first):02X}{rest}")
    assert found.json()["invitation"]["id"] == created["id"]
    assert emu.invitations[created["id"]]["status"] == PENDING


async def test_unknown_paths_and_methods(client: httpx.AsyncClient) -> None:
    """An unknown path is 404 code 5; a known path under another method is 501 code 12."""
    assert_rpc_error(await client.get("/api/v1/nothing-here"), 404, 5)
    assert_rpc_error(await client.delete(INVITATIONS), 501, 12)


# --- faults, latency, recording, control routes ---------------------------------------------------


async def test_a_fault_answers_instead_of_the_handler_then_clears(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """A fault answers the next request with its status and body; the handler's change never happens."""
    emu.faults.add(status=503, body=b"<html>upstream down</html>", times=1)
    faulted = await client.post(INVITATIONS, json={"email": "a@example.com", "displayName": "A"})
    assert faulted.status_code == 503
    assert faulted.text == "<html>upstream down</html>"
    assert faulted.headers["content-type"].startswith("text/plain")
    assert emu.invitations == {}
    assert len(emu.faults) == 0
    await create(client, "a@example.com")


async def test_a_429_fault_without_body_answers_the_c1_body(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """A 429 fault with no body answers {"code":8,"message":"resource exhausted"} plus its headers."""
    emu.faults.add(status=429, headers={"Retry-After": "30"})
    response = await client.post(SEARCH, json={})
    assert response.status_code == 429
    assert response.json() == {"code": 8, "message": "resource exhausted"}
    assert response.headers["retry-after"] == "30"
    assert response.headers["request-id"]


async def test_faults_match_on_method_and_path(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """A fault limited by method and path_contains leaves other requests alone, for `times` hits."""
    created = await create(client)
    emu.faults.add(status=500, method="POST", path_contains="/revoke", times=2)
    assert (await client.get(f"{INVITATIONS}/{created['id']}")).status_code == 200
    for _ in range(2):
        response = await client.post(f"{INVITATIONS}/{created['id']}/revoke", json={})
        assert response.status_code == 500
        assert response.json()["code"] == 13
    assert emu.invitations[created["id"]]["status"] == PENDING
    ok = await client.post(f"{INVITATIONS}/{created['id']}/revoke", json={})
    assert ok.status_code == 200


async def test_requests_are_recorded_as_received(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """Each request is recorded with its raw path, query, lower-cased headers, body and JSON."""
    await client.post(f"{BASE}/a%2Fb/invitations?x=1&x=2", json={"email": "a@example.com"})
    await client.post(SEARCH, content=b"not json")
    first, second = emu.requests
    assert first.method == "POST"
    assert first.path == f"{BASE}/a%2Fb/invitations"
    assert first.query == {"x": ["1", "2"]}
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.json == {"email": "a@example.com"}
    assert second.body == b"not json"
    assert second.json is None


async def test_control_routes_dump_add_faults_and_reset(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """/__emulator__ dumps state, adds faults and resets; it is neither recorded nor faulted."""
    created = await create(client)
    emu.faults.add(status=503, times=5)
    dumped = await client.get("/__emulator__/state")
    assert dumped.status_code == 200
    state = dumped.json()
    assert created["id"] in state["invitations"]
    assert DIRECTORY in state["directories"]
    assert state["faults"][0]["status"] == 503
    emu.faults.clear()
    added = await client.post(
        "/__emulator__/faults", json={"status": 429, "headers": {"Retry-After": "5"}}
    )
    assert added.status_code == 201
    assert (await client.get(BASE)).status_code == 429
    bad = await client.post("/__emulator__/faults", json={"status": "429"})
    assert bad.status_code == 400
    assert not any(request.path.startswith("/__emulator__") for request in emu.requests)
    emu.tokens.add("other")
    assert (await client.post("/__emulator__/reset")).status_code == 200
    assert emu.invitations == {}
    assert emu.directories == {}
    assert emu.tokens == {TOKEN}
    assert emu.requests == []


async def test_latency_by_target_delays_only_that_directory(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """latency_by_target[directory] delays that directory's requests and not the others'."""
    emu.latency_by_target[OTHER] = 0.3
    started = time.perf_counter()
    await client.get(f"{BASE}/{OTHER}/invitations/x")
    slow = time.perf_counter() - started
    started = time.perf_counter()
    await client.get(f"{BASE}/{DIRECTORY}/invitations/x")
    fast = time.perf_counter() - started
    assert slow >= 0.3
    assert fast < 0.25


async def test_a_mounted_emulator_routes_relative_to_its_mount() -> None:
    """Mounted under a prefix (as the sandbox does), vendor and control routes still match."""
    emu = ConductorOneEmulator()
    emu.add_directory(DIRECTORY, "Acme Employees")
    host = Starlette(routes=[Mount("/emulators/conductorone", app=emu.app)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=host), base_url="http://sandbox.test"
    ) as http:
        prefix = "/emulators/conductorone"
        headers = {"Authorization": "Bearer c1-sandbox-token"}
        response = await http.get(f"{prefix}{BASE}/{DIRECTORY}", headers=headers)
        state = await http.get(f"{prefix}/__emulator__/state")
    assert response.status_code == 200
    assert emu.requests[0].path == f"{BASE}/{DIRECTORY}"
    assert DIRECTORY in state.json()["directories"]


async def test_sandbox_seed_gives_the_directory_and_one_invitation_per_status() -> None:
    """The sandbox seed has the default Acme directory with pending, revoked and accepted invitations."""
    c1, clerk = ConductorOneEmulator(), ClerkEmulator()
    seeded = seed(c1, clerk)
    assert c1.directories[seeded.directory_id]["isDefault"] is True
    assert c1.directories[seeded.directory_id]["displayName"] == "Acme Employees"
    assert c1.invitations[seeded.directory_invitation_id]["status"] == PENDING
    statuses = {invitation["status"] for invitation in c1.invitations.values()}
    assert statuses == {PENDING, REVOKED, ACCEPTED}


async def test_a_page_token_only_resumes_its_own_listing(
    client: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """A directory-list page token handed to invitation search is HTTP 400 code 3."""
    for number in range(10):
        emu.add_directory(f"2fQzDirectory{number:014d}", f"Directory {number}")
    token = (await client.get(BASE, params={"page_size": "10"})).json()["nextPageToken"]
    assert_rpc_error(await client.post(SEARCH, json={"pageToken": token}), 400, 3)
