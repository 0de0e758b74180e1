"""Named connections: two Clerk instances and two ConductorOne tenants side by side.

The `default` connections come from the environment's settings; `staging` and `emea` from a
connections file (GATEWAY_CONNECTIONS__FILE) whose secrets are environment variables. Each
connection has its own emulator, so every request shows which upstream it reached.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.connections_file import ConnectionsFileError
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.routing import HostRoutingTransport
from invitation_gateway.settings import (
    AuditSettings,
    AuthSettings,
    ClerkSettings,
    ConductorOneSettings,
    ConnectionsSettings,
    IdempotencySettings,
    Settings,
)
from tests.support.documents import CONNECTIONS, CREATE, REVOKE
from tests.support.gateway import GatewayClient, app_client

ORG = "org_shared_id_on_both"  # the same organization id on both Clerk instances
DIRECTORY = "2fQzSharedDirectory0000000x"
GET = "query($id: ID!) { invitation(id: $id) { id email status target { connection } } }"
LIST = """query($targets: [InvitationTargetInput!]!) { invitations(targets: $targets, first: 50) {
  edges { node { email target { kind connection } } } errors { code target { connection } } } }"""
FILE = """
[clerk.staging]
secret_key_env = "STAGING_CLERK_KEY"
api_url = "http://clerk-staging.test/v1"

[conductorone.emea]
base_url = "http://c1-emea.test"
token_env = "EMEA_C1_TOKEN"
default_directory = "2fQzSharedDirectory0000000x"
breaker_threshold = 1
breaker_cooldown = 60
retry_attempts = 1
"""
ENVIRON = {"STAGING_CLERK_KEY": "sk_test_staging", "EMEA_C1_TOKEN": "c1-emea-token"}


@dataclass
class Upstreams:
    clerk: dict[str, ClerkEmulator]
    conductorone: dict[str, ConductorOneEmulator]


@pytest.fixture
def upstreams() -> Upstreams:
    clerk = {
        "default": ClerkEmulator(secret_key="sk_test_default"),
        "staging": ClerkEmulator(secret_key="sk_test_staging"),
    }
    conductorone = {
        "default": ConductorOneEmulator(token="c1-default-token"),
        "emea": ConductorOneEmulator(token="c1-emea-token"),
    }
    for emulator in clerk.values():
        emulator.add_organization(ORG, "Shared Id Inc")
    for emulator in conductorone.values():
        emulator.add_directory(DIRECTORY, "Employees")
    return Upstreams(clerk, conductorone)


def settings(file: Path) -> Settings:
    return Settings(
        clerk=ClerkSettings(
            api_url="http://clerk.test/v1", secret_key=SecretStr("sk_test_default")
        ),
        conductorone=ConductorOneSettings(
            base_url="http://c1.test", token=SecretStr("c1-default-token")
        ),
        connections=ConnectionsSettings(file=file),
        idempotency=IdempotencySettings(sqlite_path=None),
        auth=AuthSettings(mode="disabled"),
        audit=AuditSettings(sqlite_path=None),
    )


@pytest.fixture
async def gateway(upstreams: Upstreams, tmp_path: Path) -> AsyncIterator[GatewayClient]:
    file = tmp_path / "connections.toml"
    file.write_text(FILE)
    transport = HostRoutingTransport(
        {
            "clerk.test": httpx.ASGITransport(app=upstreams.clerk["default"].app),
            "clerk-staging.test": httpx.ASGITransport(app=upstreams.clerk["staging"].app),
            "c1.test": httpx.ASGITransport(app=upstreams.conductorone["default"].app),
            "c1-emea.test": httpx.ASGITransport(app=upstreams.conductorone["emea"].app),
        }
    )
    app = create_app(settings(file), transport=transport, environ=ENVIRON)
    async with app_client(app) as http:
        yield GatewayClient(http)


TARGETS = [
    ({"kind": "CLERK_ORGANIZATION", "id": ORG, "connection": "default"}, "clerk", "default"),
    ({"kind": "CLERK_ORGANIZATION", "id": ORG, "connection": "staging"}, "clerk", "staging"),
    ({"kind": "CONDUCTORONE_DIRECTORY", "id": DIRECTORY}, "conductorone", "default"),
    ({"kind": "CONDUCTORONE_DIRECTORY", "connection": "emea"}, "conductorone", "emea"),
]


def stored(upstreams: Upstreams, vendor: str, name: str) -> list[dict[str, Any]]:
    if vendor == "clerk":
        return list(upstreams.clerk[name].organization_invitations.values())
    return list(upstreams.conductorone[name].invitations.values())


async def test_each_connection_creates_revokes_and_reads_on_its_own_upstream(
    gateway: GatewayClient, upstreams: Upstreams
) -> None:
    """The same ids on four connections: each invitation lives, is read and revoked on its own."""
    ids = {}
    for target, vendor, name in TARGETS:
        email = f"{vendor}-{name}@example.com"
        roles = ["org:member"] if vendor == "clerk" else []
        body = await gateway.execute(
            CREATE, {"input": {"target": target, "email": email, "roles": roles}}
        )
        payload = body["data"]["createInvitation"]
        assert payload["userErrors"] == [], payload
        assert payload["invitation"]["target"]["connection"] == name
        ids[vendor, name] = payload["invitation"]["id"]
        assert [
            i.get("email_address", i.get("email")) for i in stored(upstreams, vendor, name)
        ] == [email]

    for (vendor, name), invitation_id in ids.items():
        read = (await gateway.execute(GET, {"id": invitation_id}))["data"]["invitation"]
        assert read["email"] == f"{vendor}-{name}@example.com"
        assert read["target"]["connection"] == name

    body = await gateway.execute(REVOKE, {"input": {"id": ids["clerk", "staging"]}})
    assert body["data"]["revokeInvitation"]["invitation"]["status"] == "REVOKED"
    assert stored(upstreams, "clerk", "staging")[0]["status"] == "revoked"
    assert stored(upstreams, "clerk", "default")[0]["status"] == "pending"


async def test_one_list_reads_all_four_connections(
    gateway: GatewayClient, upstreams: Upstreams
) -> None:
    """A list over the four targets returns each one's invitations, labelled by connection."""
    for name, emulator in upstreams.clerk.items():
        emulator.add_organization_invitation(ORG, f"clerk-{name}@example.com")
    for name, c1 in upstreams.conductorone.items():
        c1.add_invitation(DIRECTORY, f"c1-{name}@example.com", "Someone")
    body = await gateway.execute(LIST, {"targets": [t for t, _, _ in TARGETS]})
    nodes = body["data"]["invitations"]["edges"]
    assert body["data"]["invitations"]["errors"] == []
    assert sorted((n["node"]["email"], n["node"]["target"]["connection"]) for n in nodes) == [
        ("c1-default@example.com", "default"),
        ("c1-emea@example.com", "emea"),
        ("clerk-default@example.com", "default"),
        ("clerk-staging@example.com", "staging"),
    ]


async def test_breakers_are_independent_per_connection(
    gateway: GatewayClient, upstreams: Upstreams
) -> None:
    """The emea tenant's open circuit fails fast; the default tenant still answers."""
    upstreams.conductorone["emea"].faults.add(status=503, times=5)
    emea = {"kind": "CONDUCTORONE_DIRECTORY", "connection": "emea"}
    for _ in range(2):
        body = await gateway.execute(LIST, {"targets": [emea]})
        assert [e["code"] for e in body["data"]["invitations"]["errors"]] == [
            "UPSTREAM_UNAVAILABLE"
        ]
    assert len(upstreams.conductorone["emea"].requests) == 1  # the second failed fast
    circuits = await gateway.execute("{ connections { name provider circuit } }")
    by_name = {(c["provider"], c["name"]): c["circuit"] for c in circuits["data"]["connections"]}
    assert by_name[("CONDUCTORONE", "emea")] == "OPEN"
    assert by_name[("CONDUCTORONE", "default")] == "CLOSED"
    default = {"kind": "CONDUCTORONE_DIRECTORY", "id": DIRECTORY}
    body = await gateway.execute(LIST, {"targets": [default]})
    assert body["data"]["invitations"]["errors"] == []


async def test_an_unknown_connection_is_invalid_input_naming_the_ones_that_exist(
    gateway: GatewayClient,
) -> None:
    """target.connection naming nothing configured: INVALID_INPUT on that field, with the names."""
    target = {"kind": "CLERK_ORGANIZATION", "id": ORG, "connection": "prod"}
    body = await gateway.execute(
        CREATE, {"input": {"target": target, "email": "a@example.com", "roles": ["org:member"]}}
    )
    [error] = body["data"]["createInvitation"]["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["input", "target", "connection"])
    assert "default, staging" in error["message"]


async def test_the_connections_query_lists_all_four(gateway: GatewayClient) -> None:
    """connections lists the environment's defaults and the file's named ones."""
    body = await gateway.execute(CONNECTIONS)
    listed = {(c["provider"], c["name"], c["defaultTargetId"]) for c in body["data"]["connections"]}
    assert listed == {
        ("CLERK", "default", None),
        ("CLERK", "staging", None),
        ("CONDUCTORONE", "default", None),
        ("CONDUCTORONE", "emea", DIRECTORY),
    }


def test_a_bad_connections_file_stops_start_up_naming_the_entry(tmp_path: Path) -> None:
    """A file naming a missing variable fails create_app, by file and entry, never a secret."""
    file = tmp_path / "connections.toml"
    file.write_text(FILE)
    with pytest.raises(ConnectionsFileError) as caught:
        create_app(settings(file), environ={"EMEA_C1_TOKEN": "c1-emea-token"})
    message = str(caught.value)
    assert str(file) in message
    assert "[clerk.staging]" in message
    assert "STAGING_CLERK_KEY" in message
    assert "c1-emea-token" not in message
