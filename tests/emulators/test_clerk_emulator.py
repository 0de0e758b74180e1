"""The Clerk emulator over HTTP: the vendor contract, its error paths, and the test switches."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.emulators.sandbox_seed import EXISTING_USER_EMAIL, seed

SECRET = "sk_test_emulator"
ORG = "org_2sAndb0xAcmeInc7Kq9WmZ3xYtP"
OTHER_ORG = "org_2sAndb0xGlobexCorp000000000"
ORG_INVITATIONS = f"/v1/organizations/{ORG}/invitations"
DAY_MS = 86_400_000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> ClerkEmulator:
    emulator = ClerkEmulator(secret_key=SECRET, clock=clock)
    emulator.add_organization(ORG, "Acme Inc", slug="acme")
    emulator.add_organization(OTHER_ORG, "Globex Corp")
    emulator.add_user("existing.user@example.com")
    return emulator


@pytest.fixture
async def client(emu: ClerkEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app),
        base_url="http://clerk.test",
        headers={"Authorization": f"Bearer {SECRET}"},
    ) as http:
        yield http


def now_ms(clock: ManualClock) -> int:
    return int(clock().timestamp() * 1000)


async def create(client: httpx.AsyncClient, email: str = "ada@example.com", **extra: Any) -> Any:
    response = await client.post("/v1/invitations", json={"email_address": email, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def create_org(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    role: str = "org:member",
    **extra: Any,
) -> Any:
    response = await client.post(
        ORG_INVITATIONS, json={"email_address": email, "role": role, **extra}
    )
    assert response.status_code == 200, response.text
    return response.json()


def clerk_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert a ClerkErrors answer and return its first error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["clerk_trace_id"]
    error: dict[str, Any] = body["errors"][0]
    assert error["code"] == code
    assert error["message"]
    assert error["long_message"]
    return error


# --- auth and routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "authorization_header_format_invalid"),
        (f"Basic {SECRET}", "authorization_header_format_invalid"),
        ("Bearer", "authorization_header_format_invalid"),
        ("Bearer sk_test_wrong", "clerk_key_invalid"),
    ],
)
async def test_missing_malformed_or_wrong_key_is_401(
    emu: ClerkEmulator, authorization: str | None, code: str
) -> None:
    """No Bearer header is authorization_header_format_invalid; a wrong key is clerk_key_invalid."""
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://clerk.test", headers=headers
    ) as anonymous:
        response = await anonymous.post("/v1/invitations", json={"email_address": "a@example.com"})
    clerk_error(response, 401, code)
    assert emu.invitations == {}


async def test_unknown_path_or_method_is_resource_not_found(client: httpx.AsyncClient) -> None:
    """Paths and methods Clerk does not serve are 404 resource_not_found."""
    clerk_error(await client.get("/v1/nothing"), 404, "resource_not_found")
    clerk_error(await client.delete("/v1/invitations"), 404, "resource_not_found")
    clerk_error(await client.post("/v1/invitations//revoke"), 404, "resource_not_found")


# --- application invitations: create --------------------------------------------------------------


async def test_create_returns_an_invitation(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """Create answers a pending Invitation: inv_ id, ms times, 30-day expiry, url, no `revoked`."""
    invitation = await create(client)
    assert invitation["object"] == "invitation"
    assert invitation["id"].startswith("inv_")
    assert len(invitation["id"]) == 31
    assert invitation["status"] == "pending"
    assert invitation["public_metadata"] == {}
    assert invitation["created_at"] == invitation["updated_at"] == now_ms(clock)
    assert invitation["expires_at"] == now_ms(clock) + 30 * DAY_MS
    assert invitation["url"].startswith("https://")
    assert "revoked" not in invitation
    assert not any(key.startswith("_") for key in invitation)
    assert emu.invitations[invitation["id"]]["status"] == "pending"


async def test_create_records_notify_redirect_and_expiry(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """notify and redirect_url are kept in state; expires_in_days sets expires_at."""
    invitation = await create(
        client,
        notify=False,
        redirect_url="https://app.example.com/accept",
        expires_in_days=3,
        public_metadata={"team": "core"},
    )
    stored = emu.invitations[invitation["id"]]
    assert stored["_notify"] is False
    assert stored["_redirect_url"] == "https://app.example.com/accept"
    assert invitation["expires_at"] == now_ms(clock) + 3 * DAY_MS
    assert invitation["public_metadata"] == {"team": "core"}
    assert quote("https://app.example.com/accept", safe="") in invitation["url"]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"email_address": "a@example.com", "role": "x"}, "form_param_unknown", "role"),
        ({}, "form_param_missing", "email_address"),
        ({"email_address": ""}, "form_param_missing", "email_address"),
        ({"email_address": "not-an-email"}, "form_param_format_invalid", "email_address"),
        (
            {"email_address": "a@example.com", "expires_in_days": 0},
            "form_param_value_invalid",
            "expires_in_days",
        ),
        (
            {"email_address": "a@example.com", "expires_in_days": 366},
            "form_param_value_invalid",
            "expires_in_days",
        ),
        (
            {"email_address": "a@example.com", "redirect_url": "not a url"},
            "form_param_type_invalid",
            "redirect_url",
        ),
        (
            {"email_address": "a@example.com", "redirect_url": "ftp://x.io"},
            "form_param_type_invalid",
            "redirect_url",
        ),
        (
            {"email_address": "a@example.com", "template_slug": "x"},
            "form_param_value_invalid",
            "template_slug",
        ),
    ],
)
async def test_invalid_create_params_are_422(
    client: httpx.AsyncClient, emu: ClerkEmulator, body: dict[str, Any], code: str, param: str
) -> None:
    """Unknown, missing or invalid params are 422 with meta.param_name, and nothing is created."""
    error = clerk_error(await client.post("/v1/invitations", json=body), 422, code)
    assert error["meta"] == {"param_name": param}
    assert emu.invitations == {}


async def test_form_errors_are_reported_together(client: httpx.AsyncClient) -> None:
    """Several form errors in one body come back as several errors in one 422."""
    response = await client.post(
        "/v1/invitations", json={"email_address": "nope", "expires_in_days": 0}
    )
    codes = [error["code"] for error in response.json()["errors"]]
    assert response.status_code == 422
    assert codes == ["form_param_format_invalid", "form_param_value_invalid"]


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'"ada@example.com"',
        b'{"email_address": 5}',
        b'{"email_address": "a@b.io", "notify": "yes"}',
    ],
)
async def test_malformed_body_is_request_body_invalid(
    client: httpx.AsyncClient, emu: ClerkEmulator, body: bytes
) -> None:
    """A body that is not a JSON object of the right types is 400 request_body_invalid."""
    clerk_error(await client.post("/v1/invitations", content=body), 400, "request_body_invalid")
    assert emu.invitations == {}


@pytest.mark.parametrize("ignore_existing", [False, True])
async def test_email_of_an_existing_user_is_form_identifier_exists(
    client: httpx.AsyncClient, emu: ClerkEmulator, ignore_existing: bool
) -> None:
    """An existing user's email is 422 form_identifier_exists; ignore_existing does not bypass it."""
    emu.add_invitation("Existing.User@example.com")  # the user check runs before the duplicate one
    response = await client.post(
        "/v1/invitations",
        json={"email_address": "existing.user@example.com", "ignore_existing": ignore_existing},
    )
    error = clerk_error(response, 422, "form_identifier_exists")
    assert error["meta"] == {"param_name": "email_address"}


async def test_pending_invitation_for_the_email_is_duplicate_record(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """A non-revoked invitation for the email (any case) is 400 duplicate_record naming the email."""
    await create(client, "ada@example.com")
    response = await client.post("/v1/invitations", json={"email_address": "ADA@example.com"})
    error = clerk_error(response, 400, "duplicate_record")
    assert error["meta"] == {"email_addresses": ["ADA@example.com"]}
    assert len(emu.invitations) == 1


async def test_ignore_existing_skips_the_duplicate_check(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """With ignore_existing a second invitation for a pending email is created."""
    await create(client)
    await create(client, ignore_existing=True)
    assert len(emu.invitations) == 2


async def test_revoked_or_expired_invitations_do_not_block_a_new_one(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """Only pending or accepted invitations count as duplicates."""
    emu.add_invitation("ada@example.com", status="revoked")
    emu.add_invitation("bob@example.com")
    clock.advance(timedelta(days=31))
    await create(client, "ada@example.com")
    await create(client, "bob@example.com")


# --- application invitations: bulk ----------------------------------------------------------------


async def test_bulk_create_answers_a_bare_array(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """Bulk create takes 1..10 items and answers a bare array of invitations with urls."""
    response = await client.post(
        "/v1/invitations/bulk",
        json=[
            {"email_address": "a@example.com"},
            {"email_address": "b@example.com", "notify": None},
        ],
    )
    assert response.status_code == 200
    created = response.json()
    assert [item["email_address"] for item in created] == ["a@example.com", "b@example.com"]
    assert all(item["url"] and item["status"] == "pending" for item in created)
    assert len(emu.invitations) == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ([{"email_address": f"u{n}@example.com"} for n in range(11)], 400, "bulk_size_exceeded"),
        ([], 400, "request_body_invalid"),
        ({"email_address": "a@example.com"}, 400, "request_body_invalid"),
        (
            [{"email_address": "a@example.com"}, {"email_address": "bad"}],
            422,
            "form_param_format_invalid",
        ),
        (
            [{"email_address": "a@example.com"}, {"email": "b@example.com"}],
            422,
            "form_param_unknown",
        ),
        (
            [{"email_address": "existing.user@example.com", "ignore_existing": True}],
            422,
            "form_identifier_exists",
        ),
    ],
)
async def test_bulk_create_is_all_or_nothing(
    client: httpx.AsyncClient, emu: ClerkEmulator, body: Any, status: int, code: str
) -> None:
    """Too many items, a bad item or an existing user fails the whole batch; nothing is created."""
    clerk_error(await client.post("/v1/invitations/bulk", json=body), status, code)
    assert emu.invitations == {}


async def test_bulk_duplicates_are_listed_together(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """duplicate_record lists every email that already has, or repeats, a pending invitation."""
    await create(client, "a@example.com")
    response = await client.post(
        "/v1/invitations/bulk",
        json=[
            {"email_address": "a@example.com"},
            {"email_address": "b@example.com"},
            {"email_address": "b@example.com"},
        ],
    )
    error = clerk_error(response, 400, "duplicate_record")
    assert error["meta"] == {"email_addresses": ["a@example.com", "b@example.com"]}
    assert len(emu.invitations) == 1


# --- application invitations: revoke --------------------------------------------------------------


async def test_revoke_answers_the_revoked_invitation(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """Revoke answers revoked: true, status revoked, no url, updated_at bumped; state agrees."""
    created = await create(client)
    clock.advance(timedelta(minutes=1))
    response = await client.post(f"/v1/invitations/{created['id']}/revoke")
    assert response.status_code == 200
    revoked = response.json()
    assert revoked["revoked"] is True
    assert revoked["status"] == "revoked"
    assert "url" not in revoked
    assert revoked["updated_at"] == created["updated_at"] + 60_000
    assert emu.invitations[created["id"]]["status"] == "revoked"


async def test_revoke_unknown_invitation_is_resource_not_found(client: httpx.AsyncClient) -> None:
    """An unknown id is 404 resource_not_found naming the id."""
    error = clerk_error(
        await client.post("/v1/invitations/inv_nope/revoke"), 404, "resource_not_found"
    )
    assert error["long_message"] == "No invitation was found with id inv_nope."


@pytest.mark.parametrize(
    ("status", "code"),
    [("accepted", "invitation_already_accepted"), ("revoked", "invitation_already_revoked")],
)
async def test_revoke_accepted_or_revoked_is_400(
    client: httpx.AsyncClient, emu: ClerkEmulator, status: str, code: str
) -> None:
    """Revoking an accepted or revoked invitation is 400 with its own code, state unchanged."""
    seeded = emu.add_invitation("ada@example.com", status=status)
    clerk_error(await client.post(f"/v1/invitations/{seeded['id']}/revoke"), 400, code)
    assert emu.invitations[seeded["id"]]["status"] == status


async def test_an_expired_invitation_can_still_be_revoked(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """An expired invitation is neither accepted nor revoked, so revoking it succeeds."""
    seeded = emu.add_invitation("ada@example.com")
    clock.advance(timedelta(days=30))
    response = await client.post(f"/v1/invitations/{seeded['id']}/revoke")
    assert response.json()["status"] == "revoked"


# --- application invitations: list ----------------------------------------------------------------


async def seed_three(emu: ClerkEmulator, clock: ManualClock) -> list[dict[str, Any]]:
    """carol (pending), alice (accepted), bob (revoked), created in that order a second apart."""
    seeded = []
    for email, status in (
        ("carol@example.com", "pending"),
        ("alice@example.com", "accepted"),
        ("bob@example.com", "revoked"),
    ):
        seeded.append(emu.add_invitation(email, status=status))
        clock.advance(timedelta(seconds=1))
    return seeded


async def test_list_defaults_to_non_revoked_newest_first_as_a_bare_array(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """Without params: a bare array, newest first, revoked left out, no url."""
    carol, alice, _ = await seed_three(emu, clock)
    listed = (await client.get("/v1/invitations")).json()
    assert [item["id"] for item in listed] == [alice["id"], carol["id"]]
    assert all("url" not in item for item in listed)


@pytest.mark.parametrize(
    ("params", "emails"),
    [
        ([("status", "revoked"), ("status", "accepted")], ["bob", "alice"]),
        (
            [("status", "revoked"), ("status", "accepted"), ("order_by", "+email_address")],
            ["alice", "bob"],
        ),
        ([("query", "AR")], ["carol"]),
        ([("order_by", "email_address")], ["alice", "carol"]),
        ([("order_by", "+created_at")], ["carol", "alice"]),
        ([("order_by", "expires_at"), ("limit", "1"), ("offset", "1")], ["alice"]),
    ],
)
async def test_list_filters_orders_and_pages(
    client: httpx.AsyncClient,
    emu: ClerkEmulator,
    clock: ManualClock,
    params: list[tuple[str, str]],
    emails: list[str],
) -> None:
    """status (repeatable), query, order_by, limit and offset shape the list."""
    await seed_three(emu, clock)
    listed = (await client.get("/v1/invitations", params=tuple(params))).json()
    assert [item["email_address"].split("@")[0] for item in listed] == emails


async def test_list_query_matches_an_exact_id(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """query= an invitation id finds that invitation (there is no GET by id)."""
    carol, *_ = await seed_three(emu, clock)
    listed = (await client.get("/v1/invitations", params={"query": carol["id"]})).json()
    assert [item["id"] for item in listed] == [carol["id"]]


async def test_paginated_list_counts_every_match(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """paginated=true answers {data, total_count}; total_count counts all matches, not the page."""
    await seed_three(emu, clock)
    page = (await client.get("/v1/invitations", params={"paginated": "true", "limit": "1"})).json()
    assert len(page["data"]) == 1
    assert page["total_count"] == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "active"),
        ("order_by", "name"),
        ("limit", "0"),
        ("limit", "501"),
        ("limit", "ten"),
        ("offset", "-1"),
        ("paginated", "maybe"),
    ],
)
async def test_invalid_list_params_are_form_param_value_invalid(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    """A bad status, order_by, limit, offset or paginated is 422 form_param_value_invalid."""
    response = await client.get("/v1/invitations", params={name: value})
    error = clerk_error(response, 422, "form_param_value_invalid")
    assert error["meta"] == {"param_name": name}


async def test_pending_invitations_past_expiry_read_expired(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """Past expires_at (by the injected clock) a pending invitation lists as expired."""
    seeded = emu.add_invitation("ada@example.com")
    clock.advance(timedelta(days=30))
    listed = (await client.get("/v1/invitations", params={"status": "expired"})).json()
    assert [item["id"] for item in listed] == [seeded["id"]]
    assert listed[0]["status"] == "expired"
    assert emu.status_of(emu.invitations[seeded["id"]]) == "expired"


# --- organization invitations ---------------------------------------------------------------------


async def test_create_org_invitation_returns_an_organization_invitation(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """Create answers a pending OrganizationInvitation with role_name and null inviter fields."""
    invitation = await create_org(client, private_metadata={"source": "hr"}, expires_in_days=7)
    assert invitation["object"] == "organization_invitation"
    assert invitation["id"].startswith("orginv_")
    assert len(invitation["id"]) == 34
    assert invitation["role"] == "org:member"
    assert invitation["role_name"] == "Member"
    assert invitation["organization_id"] == ORG
    assert invitation["inviter_id"] is None
    assert invitation["public_inviter_data"] is None
    assert invitation["public_metadata"] == {}
    assert invitation["private_metadata"] == {"source": "hr"}
    assert isinstance(invitation["url"], str)
    assert invitation["expires_at"] == now_ms(clock) + 7 * DAY_MS
    assert emu.organization_invitations[invitation["id"]]["status"] == "pending"


async def test_unknown_org_keys_are_ignored(client: httpx.AsyncClient) -> None:
    """The organization invitation body is not additionalProperties: false, so extra keys pass."""
    invitation = await create_org(client, unknown_key="ignored")
    assert "unknown_key" not in invitation


async def test_create_in_an_unknown_org_is_resource_not_found(client: httpx.AsyncClient) -> None:
    """An unknown organization is 404 resource_not_found 'Given organization not found.'"""
    response = await client.post(
        "/v1/organizations/org_nope/invitations",
        json={"email_address": "a@example.com", "role": "org:member"},
    )
    error = clerk_error(response, 404, "resource_not_found")
    assert error["long_message"] == "Given organization not found."


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"email_address": "a@example.com"}, "form_param_missing", "role"),
        ({"role": "org:member"}, "form_param_missing", "email_address"),
        (
            {"email_address": "nope", "role": "org:member"},
            "form_param_format_invalid",
            "email_address",
        ),
        (
            {"email_address": "a@example.com", "role": "org:member", "expires_in_days": 400},
            "form_param_value_invalid",
            "expires_in_days",
        ),
    ],
)
async def test_invalid_org_params_are_422(
    client: httpx.AsyncClient, emu: ClerkEmulator, body: dict[str, Any], code: str, param: str
) -> None:
    """Missing role or email, a bad email or expiry are 422 with meta.param_name."""
    error = clerk_error(await client.post(ORG_INVITATIONS, json=body), 422, code)
    assert error["meta"] == {"param_name": param}
    assert emu.organization_invitations == {}


async def test_unknown_role_is_resource_not_found(client: httpx.AsyncClient) -> None:
    """A role key the organization lacks is 404 resource_not_found with meta.param_name role."""
    response = await client.post(
        ORG_INVITATIONS, json={"email_address": "a@example.com", "role": "org:owner"}
    )
    error = clerk_error(response, 404, "resource_not_found")
    assert error["long_message"] == "Organization role not found"
    assert error["meta"] == {"param_name": "role"}


async def test_inviting_a_member_is_already_a_member(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """Inviting someone already in the organization is 400 already_a_member_in_organization."""
    emu.organizations[ORG]["members"].add("ada@example.com")
    response = await client.post(
        ORG_INVITATIONS, json={"email_address": "Ada@example.com", "role": "org:member"}
    )
    clerk_error(response, 400, "already_a_member_in_organization")


async def test_a_second_org_invitation_for_a_pending_email_resends_the_existing_one(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """By default a create for a pending email answers 200 with the existing invitation, re-sent."""
    first = await create_org(client)
    again = await create_org(client, email="Ada@example.com", role="org:admin")
    assert again == first  # same id, role, created_at and updated_at: nothing new is saved
    assert len(emu.organization_invitations) == 1
    assert emu.organization_invitations[first["id"]]["_resend_count"] == 1


async def test_with_reject_a_second_pending_org_invitation_is_not_unique(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """With duplicate_organization_invitation=reject, a pending email is 400 not_unique."""
    emu.duplicate_organization_invitation = "reject"
    first = await create_org(client)
    response = await client.post(
        ORG_INVITATIONS, json={"email_address": "ada@example.com", "role": "org:admin"}
    )
    clerk_error(response, 400, "organization_invitation_not_unique")
    await client.post(f"{ORG_INVITATIONS}/{first['id']}/revoke")
    await create_org(client)
    assert len(emu.organization_invitations) == 2


async def test_malformed_org_body_is_request_body_invalid(client: httpx.AsyncClient) -> None:
    """A body that is not a JSON object is 400 request_body_invalid."""
    clerk_error(await client.post(ORG_INVITATIONS, content=b"[1]"), 400, "request_body_invalid")


async def test_org_bulk_create_answers_data_and_total_count(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """Org bulk create answers {data, total_count}, unlike the application bulk's bare array."""
    response = await client.post(
        f"{ORG_INVITATIONS}/bulk",
        json=[
            {"email_address": "a@example.com", "role": "org:member"},
            {"email_address": "b@example.com", "role": "org:admin"},
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total_count"] == 2
    assert [item["role_name"] for item in body["data"]] == ["Member", "Admin"]
    assert len(emu.organization_invitations) == 2


@pytest.mark.parametrize(
    ("items", "status", "code"),
    [
        (
            [{"email_address": "a@example.com", "role": "org:member"}] * 11,
            400,
            "bulk_size_exceeded",
        ),
        (
            [
                {"email_address": "a@example.com", "role": "org:member"},
                {"email_address": "b@example.com", "role": "org:x"},
            ],
            404,
            "resource_not_found",
        ),
        (
            [
                {"email_address": "a@example.com", "role": "org:member"},
                {"email_address": "a@example.com", "role": "org:admin"},
            ],
            400,
            "organization_invitation_not_unique",
        ),
        (
            [
                {"email_address": "a@example.com", "role": "org:member"},
                {"email_address": "b@example.com"},
            ],
            422,
            "form_param_missing",
        ),
    ],
)
async def test_org_bulk_create_is_all_or_nothing(
    client: httpx.AsyncClient,
    emu: ClerkEmulator,
    items: list[dict[str, str]],
    status: int,
    code: str,
) -> None:
    """Any failing item fails the whole org batch; nothing is created."""
    clerk_error(await client.post(f"{ORG_INVITATIONS}/bulk", json=items), status, code)
    assert emu.organization_invitations == {}


async def test_org_list_filters_orders_and_counts(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """The org list filters by repeated status and email_address, orders, pages and counts."""
    for email, status in (
        ("c@example.com", "pending"),
        ("a@example.com", "revoked"),
        ("b@example.com", "accepted"),
    ):
        emu.add_organization_invitation(ORG, email, status=status)
        clock.advance(timedelta(seconds=1))
    emu.add_organization_invitation(OTHER_ORG, "z@example.com")

    def emails(body: dict[str, Any]) -> list[str]:
        return [item["email_address"][0] for item in body["data"]]

    newest_first = (await client.get(ORG_INVITATIONS)).json()
    assert emails(newest_first) == ["b", "a", "c"]
    assert newest_first["total_count"] == 3
    params = httpx.QueryParams(
        [("status", "pending"), ("status", "revoked"), ("order_by", "email_address")]
    )
    assert emails((await client.get(ORG_INVITATIONS, params=params)).json()) == ["a", "c"]
    by_email = (await client.get(ORG_INVITATIONS, params={"email_address": "B@example.com"})).json()
    assert emails(by_email) == ["b"]
    paged = (await client.get(ORG_INVITATIONS, params={"limit": "1", "offset": "1"})).json()
    assert emails(paged) == ["a"]
    assert paged["total_count"] == 3
    pending = (await client.get(f"{ORG_INVITATIONS}/pending")).json()
    assert emails(pending) == ["c"]


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/v1/organizations/org_nope/invitations", {}, 404, "resource_not_found"),
        (ORG_INVITATIONS, {"status": "open"}, 422, "form_param_value_invalid"),
        (ORG_INVITATIONS, {"order_by": "expires_at"}, 422, "form_param_value_invalid"),
        ("/v1/organization_invitations", {"limit": "1000"}, 422, "form_param_value_invalid"),
    ],
)
async def test_org_list_errors(
    client: httpx.AsyncClient, path: str, params: dict[str, str], status: int, code: str
) -> None:
    """An unknown org is 404; a bad status, order_by or limit is 422 form_param_value_invalid."""
    clerk_error(await client.get(path, params=params), status, code)


async def test_get_org_invitation(client: httpx.AsyncClient) -> None:
    """Get answers the invitation; an unknown id or another org's id is 404 resource_not_found."""
    created = await create_org(client)
    assert (await client.get(f"{ORG_INVITATIONS}/{created['id']}")).json() == created
    clerk_error(await client.get(f"{ORG_INVITATIONS}/orginv_nope"), 404, "resource_not_found")
    foreign = await client.get(f"/v1/organizations/{OTHER_ORG}/invitations/{created['id']}")
    clerk_error(foreign, 404, "resource_not_found")


async def test_revoke_org_invitation(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock
) -> None:
    """Revoke answers the invitation revoked with updated_at bumped; the optional body is allowed."""
    created = await create_org(client)
    clock.advance(timedelta(seconds=5))
    response = await client.post(
        f"{ORG_INVITATIONS}/{created['id']}/revoke", json={"requesting_user_id": None}
    )
    revoked = response.json()
    assert response.status_code == 200
    assert revoked["status"] == "revoked"
    assert revoked["updated_at"] == created["updated_at"] + 5000
    assert emu.organization_invitations[created["id"]]["status"] == "revoked"


@pytest.mark.parametrize("status", ["unknown", "revoked", "accepted", "expired"])
async def test_revoke_unknown_or_non_pending_org_invitation_is_404_not_pending(
    client: httpx.AsyncClient, emu: ClerkEmulator, clock: ManualClock, status: str
) -> None:
    """Unknown, revoked, accepted or expired org invitations all answer 404 organization_invitation_not_pending."""
    invitation_id = "orginv_nope"
    if status != "unknown":
        seeded_status = "pending" if status == "expired" else status
        invitation_id = emu.add_organization_invitation(ORG, "a@example.com", status=seeded_status)[
            "id"
        ]
        clock.advance(timedelta(days=31))
    response = await client.post(f"{ORG_INVITATIONS}/{invitation_id}/revoke")
    clerk_error(response, 404, "organization_invitation_not_pending")


async def test_revoke_org_errors(client: httpx.AsyncClient) -> None:
    """Revoke in an unknown org is resource_not_found; a malformed body is request_body_invalid."""
    created = await create_org(client)
    unknown_org = await client.post(
        f"/v1/organizations/org_nope/invitations/{created['id']}/revoke"
    )
    clerk_error(unknown_org, 404, "resource_not_found")
    malformed = await client.post(f"{ORG_INVITATIONS}/{created['id']}/revoke", content=b"{")
    clerk_error(malformed, 400, "request_body_invalid")


async def test_instance_list_carries_public_organization_data(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """GET /v1/organization_invitations spans orgs, filters by query/status, adds org data."""
    emu.add_organization_invitation(ORG, "ada@example.com")
    emu.add_organization_invitation(OTHER_ORG, "bob@example.com", status="revoked")
    everything = (await client.get("/v1/organization_invitations")).json()
    assert everything["total_count"] == 2
    found = (await client.get("/v1/organization_invitations", params={"query": "ADA"})).json()
    assert found["data"][0]["public_organization_data"] == {
        "id": ORG,
        "name": "Acme Inc",
        "slug": "acme",
        "has_image": False,
    }
    revoked = (
        await client.get("/v1/organization_invitations", params={"status": "revoked"})
    ).json()
    assert [item["email_address"] for item in revoked["data"]] == ["bob@example.com"]


# --- faults, latency, control routes --------------------------------------------------------------


async def test_a_429_fault_without_body_answers_too_many_requests(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """A 429 fault answers ClerkErrors too_many_requests with its Retry-After; nothing is created."""
    emu.faults.add(status=429, headers={"Retry-After": "30"})
    response = await client.post("/v1/invitations", json={"email_address": "a@example.com"})
    clerk_error(response, 429, "too_many_requests")
    assert response.headers["retry-after"] == "30"
    assert emu.invitations == {}
    await create(client, "a@example.com")


async def test_a_5xx_fault_without_body_answers_internal_clerk_error(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """A 503 fault matched by path answers internal_clerk_error and leaves other paths alone."""
    emu.faults.add(status=503, path_contains=f"/organizations/{ORG}/")
    await create(client)
    response = await client.post(
        ORG_INVITATIONS, json={"email_address": "a@example.com", "role": "org:member"}
    )
    clerk_error(response, 503, "internal_clerk_error")
    assert emu.organization_invitations == {}


async def test_latency_by_target_delays_application_calls_only(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """latency_by_target['application'] delays /v1/invitations and not organization calls."""
    emu.latency_by_target["application"] = 0.3
    started = time.perf_counter()
    await client.get("/v1/invitations")
    slow = time.perf_counter() - started
    started = time.perf_counter()
    await client.get(ORG_INVITATIONS)
    fast = time.perf_counter() - started
    assert slow >= 0.3
    assert fast < 0.25


async def test_control_routes_dump_state_as_json_and_reset(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """The state dump turns sets into lists; reset empties everything; neither is recorded."""
    created = await create(client)
    state = (await client.get("/__emulator__/state")).json()
    assert state["users"] == ["existing.user@example.com"]
    assert state["organizations"][ORG]["members"] == []
    assert state["invitations"][created["id"]]["_notify"] is True
    added = await client.post(
        "/__emulator__/faults", json={"status": 500, "body": "boom", "times": 1}
    )
    assert added.status_code == 201
    assert (await client.get("/v1/invitations")).text == "boom"
    assert [request.path for request in emu.requests] == ["/v1/invitations", "/v1/invitations"]
    await client.post("/__emulator__/reset")
    assert emu.invitations == {}
    assert emu.organizations == {}
    assert emu.users == set()


async def test_sandbox_seed_gives_the_org_a_user_and_one_invitation_per_status() -> None:
    """The seed has the Acme org, an existing user and pending/revoked/accepted invitations."""
    c1, clerk = ConductorOneEmulator(), ClerkEmulator()
    seeded = seed(c1, clerk)
    organization = clerk.organizations[seeded.organization_id]
    assert (organization["name"], organization["slug"]) == ("Acme Inc", "acme")
    assert EXISTING_USER_EMAIL in clerk.users
    assert clerk.invitations[seeded.application_invitation_id]["status"] == "pending"
    assert clerk.organization_invitations[seeded.organization_invitation_id]["status"] == "pending"
    for invitations in (clerk.invitations, clerk.organization_invitations):
        assert {item["status"] for item in invitations.values()} == {
            "pending",
            "revoked",
            "accepted",
        }
