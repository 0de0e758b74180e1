"""Clerk organization invitations and people: inviters and revokers must be organization admins,
the inviter shows in the invitation, re-sent duplicates, and a user's own invitations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.clerk import ClerkEmulator

SECRET = "sk_test_members"
ORG = "org_2sMembersAcme0000000000000"
OTHER_ORG = "org_2sMembersGlobex00000000000"
ORG_INVITATIONS = f"/v1/organizations/{ORG}/invitations"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> ClerkEmulator:
    emulator = ClerkEmulator(secret_key=SECRET, clock=clock)
    emulator.add_organization(ORG, "Acme Inc", slug="acme")
    emulator.add_organization(OTHER_ORG, "Globex")
    admin = emulator.add_user("olivia@example.com", user_id="user_admin", first_name="Olivia")
    member = emulator.add_user("max@example.com", user_id="user_member", last_name="Member")
    emulator.add_user("nina@example.com", user_id="user_nobody")
    emulator.add_membership(ORG, admin["id"], "org:admin")
    emulator.add_membership(ORG, member["id"], "org:member")
    emulator.add_membership(OTHER_ORG, "user_nobody", "org:admin")
    return emulator


@pytest.fixture
async def client(emu: ClerkEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app),
        base_url="http://clerk.test",
        headers={"Authorization": f"Bearer {SECRET}"},
    ) as http:
        yield http


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    return error


async def invite(client: httpx.AsyncClient, email: str, **extra: Any) -> httpx.Response:
    return await client.post(
        ORG_INVITATIONS, json={"email_address": email, "role": "org:member", **extra}
    )


# --- inviters -------------------------------------------------------------------------------------


async def test_an_admin_inviter_is_named_in_the_invitation(client: httpx.AsyncClient) -> None:
    """inviter_user_id of an admin sets inviter_id and public_inviter_data (the spec's fields)."""
    response = await invite(client, "ada@example.com", inviter_user_id="user_admin")
    invitation = response.json()
    assert invitation["inviter_id"] == "user_admin"
    inviter = invitation["public_inviter_data"]
    assert set(inviter) == {
        "user_id",
        "first_name",
        "last_name",
        "image_url",
        "has_image",
        "identifier",
    }
    assert inviter["user_id"] == "user_admin"
    assert (inviter["first_name"], inviter["last_name"]) == ("Olivia", None)
    assert inviter["identifier"] == "olivia@example.com"
    assert inviter["image_url"].startswith("https://img.clerk.com/")
    assert inviter["has_image"] is False


async def test_without_an_inviter_both_inviter_fields_are_null(client: httpx.AsyncClient) -> None:
    """A create with the secret key alone answers inviter_id and public_inviter_data as null."""
    invitation = (await invite(client, "ada@example.com")).json()
    assert (invitation["inviter_id"], invitation["public_inviter_data"]) == (None, None)


@pytest.mark.parametrize(
    ("inviter", "status", "code"),
    [
        ("user_member", 403, "missing_organization_permission"),
        ("user_nobody", 403, "not_a_member_in_organization"),  # admin elsewhere only
        ("user_unknown", 403, "not_a_member_in_organization"),
    ],
)
async def test_an_inviter_who_may_not_manage_members_is_403(
    client: httpx.AsyncClient, emu: ClerkEmulator, inviter: str, status: int, code: str
) -> None:
    """A plain member lacks the permission; a non-member or unknown user is not a member."""
    error = error_of(await invite(client, "ada@example.com", inviter_user_id=inviter), status)
    assert error["code"] == code
    assert error["long_message"].startswith("Current user is")
    if code == "missing_organization_permission":
        assert error["meta"] == {"permissions": ["org:sys_memberships:manage"]}
    assert emu.organization_invitations == {}


async def test_one_bad_inviter_fails_the_whole_bulk(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """Each bulk item may name its inviter; any one who is not an admin fails every item."""
    response = await client.post(
        f"{ORG_INVITATIONS}/bulk",
        json=[
            {
                "email_address": "a@example.com",
                "role": "org:member",
                "inviter_user_id": "user_admin",
            },
            {
                "email_address": "b@example.com",
                "role": "org:member",
                "inviter_user_id": "user_member",
            },
        ],
    )
    assert error_of(response, 403)["code"] == "missing_organization_permission"
    assert emu.organization_invitations == {}


async def test_a_custom_role_with_the_permission_may_invite(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """What counts is org:sys_memberships:manage in role_permissions, not the role's name."""
    emu.organizations[ORG]["roles"].append("org:manager")
    emu.role_permissions["org:manager"] = {"org:sys_memberships:manage"}
    emu.add_user("mia@example.com", user_id="user_manager")
    emu.add_membership(ORG, "user_manager", "org:manager")
    response = await invite(client, "ada@example.com", inviter_user_id="user_manager")
    assert response.status_code == 200


async def test_a_member_cannot_be_invited_again(client: httpx.AsyncClient) -> None:
    """add_membership makes the user's email a member: inviting it is already_a_member."""
    response = await invite(client, "MAX@example.com")
    assert error_of(response, 400)["code"] == "already_a_member_in_organization"


def test_memberships_need_a_known_org_user_and_role(emu: ClerkEmulator) -> None:
    """add_membership raises KeyError for an unknown org or user, ValueError for an unknown role."""
    with pytest.raises(KeyError):
        emu.add_membership("org_nope", "user_admin")
    with pytest.raises(KeyError):
        emu.add_membership(ORG, "user_nope")
    with pytest.raises(ValueError, match="no role"):
        emu.add_membership(ORG, "user_admin", "org:owner")
    with pytest.raises(ValueError, match="exists"):
        emu.add_user("again@example.com", user_id="user_admin")


# --- revokers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requester", "status", "code"),
    [
        ("user_member", 403, "missing_organization_permission"),
        ("user_unknown", 403, "not_a_member_in_organization"),
    ],
)
async def test_a_revoker_who_may_not_manage_members_is_403(
    client: httpx.AsyncClient, emu: ClerkEmulator, requester: str, status: int, code: str
) -> None:
    """requesting_user_id is checked before the invitation: nothing is revoked."""
    invitation = (await invite(client, "ada@example.com")).json()
    response = await client.post(
        f"{ORG_INVITATIONS}/{invitation['id']}/revoke", json={"requesting_user_id": requester}
    )
    assert error_of(response, status)["code"] == code
    assert emu.organization_invitations[invitation["id"]]["status"] == "pending"
    unknown = await client.post(
        f"{ORG_INVITATIONS}/orginv_unknown/revoke", json={"requesting_user_id": requester}
    )
    assert error_of(unknown, status)["code"] == code  # the rights come first


async def test_an_admin_revoker_revokes(client: httpx.AsyncClient) -> None:
    """An admin's requesting_user_id revokes as the secret key alone does."""
    invitation = (await invite(client, "ada@example.com")).json()
    response = await client.post(
        f"{ORG_INVITATIONS}/{invitation['id']}/revoke", json={"requesting_user_id": "user_admin"}
    )
    assert response.json()["status"] == "revoked"


# --- duplicates -----------------------------------------------------------------------------------


async def test_a_bulk_resends_existing_invitations_in_their_positions(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """In a bulk, an email with a pending invitation gets that invitation back, at its index."""
    existing = (await invite(client, "ada@example.com")).json()
    response = await client.post(
        f"{ORG_INVITATIONS}/bulk",
        json=[
            {"email_address": "new@example.com", "role": "org:member"},
            {"email_address": "ada@example.com", "role": "org:admin"},
        ],
    )
    body = response.json()
    assert body["total_count"] == 2
    assert body["data"][1] == existing
    assert body["data"][0]["created_at"] > existing["created_at"]
    assert len(emu.organization_invitations) == 2
    assert emu.organization_invitations[existing["id"]]["_resend_count"] == 1


async def test_an_email_twice_in_one_bulk_is_not_unique_in_either_mode(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """Two new rows for one email in one bulk race on Clerk's unique index: 400 not_unique."""
    items = [{"email_address": "twice@example.com", "role": "org:member"}] * 2
    for mode in ("resend", "reject"):
        emu.configure(duplicate_organization_invitation=mode)
        response = await client.post(f"{ORG_INVITATIONS}/bulk", json=items)
        assert error_of(response, 400)["code"] == "organization_invitation_not_unique"
    assert emu.organization_invitations == {}


async def test_a_revoked_or_expired_invitation_is_not_resent(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """Only a pending invitation is re-used; after revoke or expiry a new one is created."""
    first = (await invite(client, "ada@example.com")).json()
    await client.post(f"{ORG_INVITATIONS}/{first['id']}/revoke")
    second = (await invite(client, "ada@example.com")).json()
    emu.expire_invitation(second["id"])
    third = (await invite(client, "ada@example.com")).json()
    assert len({first["id"], second["id"], third["id"]}) == 3


# --- a user's invitations -------------------------------------------------------------------------


async def test_a_user_lists_the_invitations_sent_to_their_email(
    client: httpx.AsyncClient, emu: ClerkEmulator
) -> None:
    """GET /v1/users/{id}/organization_invitations pages {data, total_count} across orgs."""
    emu.add_user("ada@example.com", user_id="user_ada")
    mine = [
        emu.add_organization_invitation(ORG, "Ada@example.com"),
        emu.add_organization_invitation(OTHER_ORG, "ada@example.com", status="revoked"),
        emu.add_organization_invitation(OTHER_ORG, "ada@example.com"),
    ]
    emu.add_organization_invitation(ORG, "someone@example.com")
    path = "/v1/users/user_ada/organization_invitations"
    everything = (await client.get(path)).json()
    assert everything["total_count"] == 3
    assert [item["id"] for item in everything["data"]] == [item["id"] for item in reversed(mine)]
    assert everything["data"][0]["public_organization_data"] == {
        "id": OTHER_ORG,
        "name": "Globex",
        "slug": "globex",
        "has_image": False,
    }
    pending = (await client.get(path, params={"status": "pending", "limit": 1})).json()
    assert (pending["total_count"], [item["id"] for item in pending["data"]]) == (
        2,
        [mine[2]["id"]],
    )
    second = (await client.get(path, params={"status": "pending", "offset": 1})).json()
    assert [item["id"] for item in second["data"]] == [mine[0]["id"]]


async def test_an_unknown_user_is_404_and_bad_params_are_422(client: httpx.AsyncClient) -> None:
    """An unknown user id is 404 resource_not_found; a bad status or limit is 422."""
    unknown = await client.get("/v1/users/user_nope/organization_invitations")
    error = error_of(unknown, 404)
    assert (error["code"], error["long_message"]) == (
        "resource_not_found",
        "No user was found with id user_nope",
    )
    for params in ({"status": "gone"}, {"limit": "0"}):
        bad = await client.get("/v1/users/user_admin/organization_invitations", params=params)
        assert error_of(bad, 422)["code"] == "form_param_value_invalid"


def test_the_state_dump_shows_users_memberships_and_permissions(emu: ClerkEmulator) -> None:
    """The control state lists users by id, each org's memberships and the role permissions."""
    state = emu.control_state()
    assert state["users_by_id"]["user_admin"]["email_address"] == "olivia@example.com"
    assert state["organizations"][ORG]["memberships"] == {
        "user_admin": "org:admin",
        "user_member": "org:member",
    }
    assert "org:sys_memberships:manage" in state["role_permissions"]["org:admin"]
    emu.reset()
    assert emu.users_by_id == {}
    assert emu.role_permissions["org:member"] == {"org:sys_memberships:read"}
