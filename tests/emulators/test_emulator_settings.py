"""The behaviour switches (duplicate answers), making invitations expire, and creation times that
never tie, on both emulators, from Python and from the control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from invitation_gateway.emulators import ManualClock, NotPending
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import (
    EXPIRED,
    PENDING,
    REVOKED,
    ConductorOneEmulator,
)

SECRET = "sk_test_settings"
TOKEN = "c1-settings-token"
ORG = "org_2sSettingsAcme000000000000"
DIRECTORY = "2fQzSettingsDirectory000001"
ORG_INVITATIONS = f"/v1/organizations/{ORG}/invitations"
C1_INVITATIONS = f"/api/v1/local-directory-configs/{DIRECTORY}/invitations"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()  # frozen: nothing moves unless a test says so


@pytest.fixture
def clerk(clock: ManualClock) -> ClerkEmulator:
    emulator = ClerkEmulator(secret_key=SECRET, clock=clock)
    emulator.add_organization(ORG, "Acme Inc")
    return emulator


@pytest.fixture
def c1(clock: ManualClock) -> ConductorOneEmulator:
    emulator = ConductorOneEmulator(token=TOKEN, clock=clock)
    emulator.add_directory(DIRECTORY, "Acme Employees")
    return emulator


@pytest.fixture
async def clerk_http(clerk: ClerkEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=clerk.app),
        base_url="http://clerk.test",
        headers={"Authorization": f"Bearer {SECRET}"},
    ) as http:
        yield http


@pytest.fixture
async def c1_http(c1: ConductorOneEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=c1.app),
        base_url="http://c1.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as http:
        yield http


async def c1_create(http: httpx.AsyncClient, email: str = "ada@example.com") -> httpx.Response:
    return await http.post(C1_INVITATIONS, json={"email": email, "displayName": "Ada"})


# --- duplicate switches ---------------------------------------------------------------------------


async def test_the_clerk_switch_is_read_and_set_through_the_control_api(
    clerk_http: httpx.AsyncClient, clerk: ClerkEmulator
) -> None:
    """GET/POST /__emulator__/settings read and set duplicate_organization_invitation."""
    current = await clerk_http.get("/__emulator__/settings")
    assert current.json() == {"duplicate_organization_invitation": "resend"}
    changed = await clerk_http.post(
        "/__emulator__/settings", json={"duplicate_organization_invitation": "reject"}
    )
    assert changed.json() == {"duplicate_organization_invitation": "reject"}
    assert clerk.duplicate_organization_invitation == "reject"
    state = (await clerk_http.get("/__emulator__/state")).json()
    assert state["settings"] == {"duplicate_organization_invitation": "reject"}


@pytest.mark.parametrize(
    "values",
    [
        {"duplicate_organization_invitation": "ignore"},
        {"duplicate_invitation": "existing"},
        {"duplicate_organization_invitation": "reject", "nonsense": 1},
        ["reject"],
    ],
)
async def test_bad_settings_are_400_and_change_nothing(
    clerk_http: httpx.AsyncClient, clerk: ClerkEmulator, values: Any
) -> None:
    """An unknown switch, a value it cannot take or a non-object body is 400; nothing changes."""
    response = await clerk_http.post("/__emulator__/settings", json=values)
    assert response.status_code == 400
    assert response.json()["error"]
    assert clerk.duplicate_organization_invitation == "resend"


def test_configure_checks_names_and_values(c1: ConductorOneEmulator) -> None:
    """configure() refuses unknown switches and values (True is not "existing", 1 is not True)."""
    c1.configure(duplicate_invitation="existing", search_newest_first=False)
    assert (c1.duplicate_invitation, c1.search_newest_first) == ("existing", False)
    for bad, message in (
        ({"duplicate_invitation": "maybe"}, "must be one of"),
        ({"search_newest_first": 1}, "must be one of"),
        ({"other": True}, "unknown setting"),
    ):
        with pytest.raises(ValueError, match=message):
            c1.configure(**bad)


def test_reset_restores_the_switches_given_to_the_constructor() -> None:
    """reset() goes back to the constructor's switch values, not to the class defaults."""
    clerk = ClerkEmulator(duplicate_organization_invitation="reject")
    clerk.duplicate_organization_invitation = "resend"
    c1 = ConductorOneEmulator(duplicate_invitation="bad_request")
    c1.configure(duplicate_invitation="existing", search_newest_first=False)
    clerk.reset()
    c1.reset()
    assert clerk.settings() == {"duplicate_organization_invitation": "reject"}
    assert (c1.duplicate_invitation, c1.search_newest_first) == ("bad_request", True)


async def test_c1_duplicate_conflict_is_409_already_exists(
    c1_http: httpx.AsyncClient, c1: ConductorOneEmulator
) -> None:
    """The default duplicate answer is 409 with gRPC code 6 ALREADY_EXISTS."""
    await c1_create(c1_http)
    response = await c1_create(c1_http, "ADA@example.com")
    assert (response.status_code, response.json()["code"]) == (409, 6)
    assert len(c1.invitations) == 1


async def test_c1_duplicate_bad_request_is_400_failed_precondition(
    c1_http: httpx.AsyncClient, c1: ConductorOneEmulator
) -> None:
    """bad_request answers 400 {code: 9, message: "...already exists... (request-id: …)"}."""
    await c1_http.post("/__emulator__/settings", json={"duplicate_invitation": "bad_request"})
    await c1_create(c1_http)
    response = await c1_create(c1_http)
    body = response.json()
    assert (response.status_code, body["code"]) == (400, 9)
    assert "already exists" in body["message"]
    assert body["message"].endswith(f"(request-id: {response.headers['request-id']})")
    assert len(c1.invitations) == 1


async def test_c1_duplicate_existing_answers_the_pending_invitation(
    c1_http: httpx.AsyncClient, c1: ConductorOneEmulator, clock: ManualClock
) -> None:
    """existing answers 200 {invitation: the pending one}, unchanged; no invitation is added."""
    c1.duplicate_invitation = "existing"
    first = (await c1_create(c1_http)).json()
    clock.current = clock.current.replace(hour=10)
    again = await c1_create(c1_http)
    assert again.status_code == 200
    assert again.json() == first
    assert len(c1.invitations) == 1
    await c1_http.post(f"{C1_INVITATIONS}/{first['invitation']['id']}/revoke", json={})
    assert (await c1_create(c1_http)).json()["invitation"]["id"] != first["invitation"]["id"]


# --- expire ---------------------------------------------------------------------------------------


async def test_expiring_a_clerk_invitation_makes_it_read_expired(
    clerk_http: httpx.AsyncClient, clerk: ClerkEmulator, clock: ManualClock
) -> None:
    """POST /__emulator__/invitations/{id}/expire works for application and org invitations."""
    app = (await clerk_http.post("/v1/invitations", json={"email_address": "a@example.com"})).json()
    org = (
        await clerk_http.post(
            ORG_INVITATIONS, json={"email_address": "o@example.com", "role": "org:member"}
        )
    ).json()
    for invitation in (app, org):
        response = await clerk_http.post(f"/__emulator__/invitations/{invitation['id']}/expire")
        assert response.status_code == 200
        shown = response.json()["invitation"]
        assert (shown["status"], shown["expires_at"]) == (
            "expired",
            int(clock().timestamp() * 1000),
        )
        assert not [key for key in shown if key.startswith("_")]  # shown as Clerk shows it
    listed = (await clerk_http.get("/v1/invitations", params={"status": "expired"})).json()
    assert [item["id"] for item in listed] == [app["id"]]
    read = (await clerk_http.get(f"{ORG_INVITATIONS}/{org['id']}")).json()
    assert read["status"] == "expired"
    assert clerk.organization_invitations[org["id"]]["status"] == "pending"  # expiry is read-time


async def test_expiring_a_c1_invitation_makes_it_read_expired(
    c1_http: httpx.AsyncClient, c1: ConductorOneEmulator
) -> None:
    """After expire, Get says EXPIRED and Revoke is the not-pending 400."""
    invitation = (await c1_create(c1_http)).json()["invitation"]
    expired = c1.expire_invitation(invitation["id"])
    assert expired["expiresAt"] == "2026-01-15T09:30:00.123456Z"
    got = (await c1_http.get(f"{C1_INVITATIONS}/{invitation['id']}")).json()
    assert got["invitation"]["status"] == EXPIRED
    revoke = await c1_http.post(f"{C1_INVITATIONS}/{invitation['id']}/revoke", json={})
    assert revoke.status_code == 400


async def test_expire_of_an_unknown_or_finished_invitation_is_refused(
    c1_http: httpx.AsyncClient, c1: ConductorOneEmulator, clerk: ClerkEmulator
) -> None:
    """Unknown ids are 404 (KeyError in Python); non-pending ones 409 (NotPending)."""
    assert (await c1_http.post("/__emulator__/invitations/nope/expire")).status_code == 404
    pending = c1.add_invitation(DIRECTORY, "p@example.com", "P")
    shown = (await c1_http.post(f"/__emulator__/invitations/{pending['id']}/expire")).json()
    assert shown["invitation"]["status"] == EXPIRED
    assert pending["status"] == PENDING  # stored as is: C1 expiry is read-time here
    revoked = c1.add_invitation(DIRECTORY, "r@example.com", "R", status=REVOKED)
    response = await c1_http.post(f"/__emulator__/invitations/{revoked['id']}/expire")
    assert response.status_code == 409
    assert "not pending" in response.json()["error"]
    with pytest.raises(KeyError):
        clerk.expire_invitation("inv_unknown")
    accepted = clerk.add_invitation("done@example.com", status="accepted")
    with pytest.raises(NotPending):
        clerk.expire_invitation(accepted["id"])


# --- creation times -------------------------------------------------------------------------------


async def test_clerk_creates_on_a_frozen_clock_never_share_a_created_at(
    clerk_http: httpx.AsyncClient, clock: ManualClock
) -> None:
    """Each create, and each item of a bulk create, is at least 1 ms after the one before."""
    single = await clerk_http.post("/v1/invitations", json={"email_address": "s@example.com"})
    bulk = await clerk_http.post(
        "/v1/invitations/bulk", json=[{"email_address": f"b{i}@example.com"} for i in range(3)]
    )
    org_bulk = await clerk_http.post(
        f"{ORG_INVITATIONS}/bulk",
        json=[{"email_address": f"o{i}@example.com", "role": "org:member"} for i in range(3)],
    )
    times = [single.json()["created_at"]]
    times += [item["created_at"] for item in bulk.json()]
    times += [item["created_at"] for item in org_bulk.json()["data"]]
    start = int(clock().timestamp() * 1000)
    assert times == list(range(start, start + 7))


async def test_clerk_updates_come_after_the_creation_they_follow(
    clerk_http: httpx.AsyncClient,
) -> None:
    """On a frozen clock a revoke's updated_at is still later than the created_at."""
    created = await clerk_http.post("/v1/invitations", json={"email_address": "u@example.com"})
    revoked = await clerk_http.post(f"/v1/invitations/{created.json()['id']}/revoke")
    assert revoked.json()["updated_at"] > created.json()["created_at"]


async def test_c1_creates_on_a_frozen_clock_never_share_a_created_at(
    c1_http: httpx.AsyncClient, c1: ConductorOneEmulator
) -> None:
    """Successive C1 creates get createdAt 1 ms apart; search orders them newest first."""
    ids = [(await c1_create(c1_http, f"{n}@example.com")).json()["invitation"] for n in "abc"]
    assert [item["createdAt"] for item in ids] == [
        "2026-01-15T09:30:00.123456Z",
        "2026-01-15T09:30:00.124456Z",
        "2026-01-15T09:30:00.125456Z",
    ]
    found = (await c1_http.post("/api/v1/search/local-directory-invitations", json={})).json()
    assert [item["id"] for item in found["list"]] == [item["id"] for item in reversed(ids)]
    assert all(c1.status_of(item) == PENDING for item in c1.invitations.values())


def test_a_moving_clock_is_used_as_is(clock: ManualClock, clerk: ClerkEmulator) -> None:
    """When the clock has moved past the last stamp, the stamp is simply now."""
    first = clerk.stamp()
    clock.current = clock.current.replace(minute=45)
    assert clerk.stamp() == clock.current > first
    clerk.reset()
    assert clerk.stamp() == clock.current  # reset forgets the last stamp
