"""The two emulators behind one app (`emulators/serve.py`, what `invitation-gateway emulate` runs):
prefixes, seed, credentials and the lines it prints."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.sandbox_seed import ORGANIZATION_ADMIN_ID, ORGANIZATION_ID
from invitation_gateway.emulators.serve import EmulatorServer, create_emulator_server

BASE = "http://127.0.0.1:8001"


@pytest.fixture
def server() -> EmulatorServer:
    return create_emulator_server(public_host="127.0.0.1:8001", clock=ManualClock())


@pytest.fixture
async def http(server: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app), base_url=BASE
    ) as client:
        yield client


async def test_the_index_names_every_url(http: httpx.AsyncClient) -> None:
    """GET / lists the Clerk API URL, the C1 base and token URLs and both control APIs."""
    index = (await http.get("/")).json()
    assert index == {
        "clerk": {"api_url": f"{BASE}/clerk/v1", "control": f"{BASE}/clerk/__emulator__"},
        "conductorone": {
            "base_url": f"{BASE}/conductorone",
            "token_url": f"{BASE}/conductorone/auth/v1/token",
            "control": f"{BASE}/conductorone/__emulator__",
        },
    }


async def test_each_emulator_answers_under_its_prefix(
    http: httpx.AsyncClient, server: EmulatorServer
) -> None:
    """/clerk/v1/... reaches Clerk and /conductorone/api/v1/... reaches C1, with their keys."""
    clerk = await http.get(
        "/clerk/v1/invitations", headers={"Authorization": "Bearer sk_test_sandbox"}
    )
    emails = [item["email_address"] for item in clerk.json()]
    assert emails == ["margaret.hamilton@example.com", "dorothy.vaughan@example.com"]
    c1 = await http.post(
        "/conductorone/api/v1/search/local-directory-invitations",
        json={"directoryAppId": server.seed.directory_id},
        headers={"Authorization": "Bearer c1-sandbox-token"},
    )
    assert len(c1.json()["list"]) == 3
    assert (await http.get("/clerk/__emulator__/settings")).json() == {
        "duplicate_organization_invitation": "resend"
    }
    assert (await http.get("/nowhere")).status_code == 404


def test_the_seed_has_an_organization_admin(server: EmulatorServer) -> None:
    """Besides the sandbox seed, the Clerk organization has an admin who may invite."""
    assert server.admin_user_id == ORGANIZATION_ADMIN_ID
    assert server.clerk.organizations[ORGANIZATION_ID]["memberships"] == {
        ORGANIZATION_ADMIN_ID: "org:admin"
    }
    assert server.c1_client_id == "emulate@127.0.0.1:8001/pcc"
    assert server.conductorone.oauth.audience == "127.0.0.1"


def test_the_banner_gives_sdk_and_gateway_settings(server: EmulatorServer) -> None:
    """The banner has NAME=value lines for the SDKs and for `invitation-gateway serve`."""
    lines = server.banner(BASE + "/").splitlines()
    values = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
    assert values["CLERK_API_URL"] == f"{BASE}/clerk/v1"
    assert values["CLERK_SECRET_KEY"] == "sk_test_sandbox"
    assert values["CLERK_ADMIN_USER_ID"] == ORGANIZATION_ADMIN_ID
    assert values["CONDUCTORONE_TOKEN_URL"] == f"{BASE}/conductorone/auth/v1/token"
    assert values["CONDUCTORONE_CLIENT_SECRET"].startswith("secret-token:conductorone.com:v1:")
    assert values["GATEWAY_CONDUCTORONE__BASE_URL"] == f"{BASE}/conductorone"
    assert values["GATEWAY_CONDUCTORONE__DEFAULT_DIRECTORY"] == server.seed.directory_id
    assert lines[0].startswith("# invitation-gateway emulate:")


def test_an_unseeded_server_is_empty_and_says_less() -> None:
    """seeded=False: no data, no admin, and no ids in the credentials."""
    server = create_emulator_server(seeded=False)
    assert (server.clerk.organizations, server.conductorone.directories) == ({}, {})
    credentials = server.credentials(BASE)
    assert "CLERK_ORGANIZATION_ID" not in credentials
    assert "CLERK_ADMIN_USER_ID" not in credentials
    assert "GATEWAY_CONDUCTORONE__DEFAULT_DIRECTORY" not in server.banner(BASE)
