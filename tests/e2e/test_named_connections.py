"""Named connections: two Clerk instances and two ConductorOne tenants side by side.

The `default` connections come from the environment's settings; `staging` and `emea` from a
connections file (GATEWAY_CONNECTIONS__FILE) whose secrets are environment variables. Each
connection has its own emulator, so every request shows which upstream it reached. Every
connection opens its breaker on the first failed call (threshold 1, one attempt), so one
injected fault is enough to show that breakers are per connection.
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
  edges { node { email status target { kind connection } } }
  errors { code target { kind connection } } } }"""
CIRCUITS = "{ connections { name provider circuit } }"
# Every connection's breaker opens on its first failure and stays open for the test.
FAIL_FAST = {"breaker_threshold": 1, "breaker_cooldown": 60.0, "retry_attempts": 1}
FILE = """
[clerk.staging]
secret_key_env = "STAGING_CLERK_KEY"
api_url = "http://clerk-staging.test/v1"
breaker_threshold = 1
breaker_cooldown = 60
retry_attempts = 1

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

    def emulator(self, vendor: str, name: str) -> ClerkEmulator | ConductorOneEmulator:
        return self.clerk[name] if vendor == "clerk" else self.conductorone[name]

    def stored(self, vendor: str, name: str) -> list[dict[str, Any]]:
        """The invitations one upstream holds; `state` is its status as one lower-case word
        (Clerk's `pending`, ConductorOne's `LOCAL_INVITATION_STATUS_PENDING`: `pending`)."""
        emulator = self.emulator(vendor, name)
        if isinstance(emulator, ClerkEmulator):
            found = list(emulator.organization_invitations.values())
        else:
            found = list(emulator.invitations.values())
        return [{**i, "state": emulator.status_of(i).rsplit("_", 1)[-1].lower()} for i in found]


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
    for c1 in conductorone.values():
        c1.add_directory(DIRECTORY, "Employees")
    return Upstreams(clerk, conductorone)


def settings(file: Path) -> Settings:
    return Settings(
        clerk=ClerkSettings(
            api_url="http://clerk.test/v1", secret_key=SecretStr("sk_test_default"), **FAIL_FAST
        ),
        conductorone=ConductorOneSettings(
            base_url="http://c1.test", token=SecretStr("c1-default-token"), **FAIL_FAST
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


# (target input, vendor, connection): two Clerk instances, two ConductorOne tenants.
CLERK_DEFAULT = (
    {"kind": "CLERK_ORGANIZATION", "id": ORG, "connection": "default"},
    "clerk",
    "default",
)
CLERK_STAGING = (
    {"kind": "CLERK_ORGANIZATION", "id": ORG, "connection": "staging"},
    "clerk",
    "staging",
)
C1_DEFAULT = ({"kind": "CONDUCTORONE_DIRECTORY", "id": DIRECTORY}, "conductorone", "default")
C1_EMEA = ({"kind": "CONDUCTORONE_DIRECTORY", "connection": "emea"}, "conductorone", "emea")
TARGETS = [CLERK_DEFAULT, CLERK_STAGING, C1_DEFAULT, C1_EMEA]
SIBLINGS = {  # each connection and the other one of its vendor
    "clerk.default": (CLERK_DEFAULT, CLERK_STAGING),
    "clerk.staging": (CLERK_STAGING, CLERK_DEFAULT),
    "conductorone.default": (C1_DEFAULT, C1_EMEA),
    "conductorone.emea": (C1_EMEA, C1_DEFAULT),
}


def create_input(
    target: dict[str, str], vendor: str, email: str, key: str | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"target": target, "email": email}
    fields["roles"] = ["org:member"] if vendor == "clerk" else []
    if key is not None:
        fields["idempotencyKey"] = key
    return {"input": fields}


async def test_each_connection_creates_reads_and_revokes_on_its_own_upstream(
    gateway: GatewayClient, upstreams: Upstreams
) -> None:
    """The same ids on four connections: each invitation is created, read and revoked on its own
    upstream, and revoking one leaves the other three pending."""
    ids = {}
    for target, vendor, name in TARGETS:
        email = f"{vendor}-{name}@example.com"
        body = await gateway.execute(CREATE, create_input(target, vendor, email))
        payload = body["data"]["createInvitation"]
        assert payload["userErrors"] == [], payload
        assert payload["invitation"]["target"]["connection"] == name
        ids[vendor, name] = payload["invitation"]["id"]
    for _, vendor, name in TARGETS:
        [stored] = upstreams.stored(vendor, name)
        assert stored.get("email_address", stored.get("email")) == f"{vendor}-{name}@example.com"

    for (vendor, name), invitation_id in ids.items():
        read = (await gateway.execute(GET, {"id": invitation_id}))["data"]["invitation"]
        assert read["email"] == f"{vendor}-{name}@example.com"
        assert (read["target"]["connection"], read["status"]) == (name, "PENDING")

    revoked: set[tuple[str, str]] = set()
    for (vendor, name), invitation_id in ids.items():
        body = await gateway.execute(REVOKE, {"input": {"id": invitation_id}})
        payload = body["data"]["revokeInvitation"]
        assert payload["userErrors"] == [], payload
        assert payload["invitation"]["status"] == "REVOKED"
        assert payload["invitation"]["target"]["connection"] == name
        revoked.add((vendor, name))
        for _, other_vendor, other in TARGETS:
            [stored] = upstreams.stored(other_vendor, other)
            expected = "revoked" if (other_vendor, other) in revoked else "pending"
            assert stored["state"] == expected, (vendor, name, other_vendor, other)

    for (_, name), invitation_id in ids.items():
        read = (await gateway.execute(GET, {"id": invitation_id}))["data"]["invitation"]
        assert (read["target"]["connection"], read["status"]) == (name, "REVOKED")


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


@pytest.mark.parametrize("connection", SIBLINGS.keys())
async def test_one_open_breaker_leaves_the_vendors_other_connection_working(
    gateway: GatewayClient, upstreams: Upstreams, connection: str
) -> None:
    """A connection whose upstream fails opens its own circuit and then fails fast; the other
    connection of the same vendor stays closed and keeps creating and listing."""
    (faulted, vendor, name), (healthy, _, other) = SIBLINGS[connection]
    broken = upstreams.emulator(vendor, name)
    broken.faults.add(status=503, times=5)
    for _ in range(2):
        body = await gateway.execute(LIST, {"targets": [faulted]})
        errors = body["data"]["invitations"]["errors"]
        assert [(e["code"], e["target"]["connection"]) for e in errors] == [
            ("UPSTREAM_UNAVAILABLE", name)
        ]
    assert len(broken.requests) == 1  # the second list failed fast, without a call

    circuits = (await gateway.execute(CIRCUITS))["data"]["connections"]
    by_name = {(c["provider"].lower(), c["name"]): c["circuit"] for c in circuits}
    assert by_name.pop((vendor, name)) == "OPEN"
    assert set(by_name.values()) == {"CLOSED"}  # the sibling and the other vendor's two

    email = f"still-{vendor}-{other}@example.com"
    body = await gateway.execute(CREATE, create_input(healthy, vendor, email))
    assert body["data"]["createInvitation"]["userErrors"] == [], body
    body = await gateway.execute(LIST, {"targets": [healthy]})
    answer = body["data"]["invitations"]
    assert answer["errors"] == []
    assert [e["node"]["email"] for e in answer["edges"]] == [email]
    assert [i.get("email_address", i.get("email")) for i in upstreams.stored(vendor, other)] == [
        email
    ]
    assert len(broken.requests) == 1  # nothing more reached the broken upstream


@pytest.mark.parametrize(
    ("first", "second"), [(CLERK_DEFAULT, CLERK_STAGING), (C1_DEFAULT, C1_EMEA)]
)
async def test_one_idempotency_key_creates_once_on_each_connection(
    gateway: GatewayClient,
    upstreams: Upstreams,
    first: tuple[dict[str, str], str, str],
    second: tuple[dict[str, str], str, str],
) -> None:
    """Keys are scoped per connection: the same key and input on two connections of one vendor
    create one invitation on each, and a retry on either replays that connection's answer."""
    created: dict[str, set[str]] = {}
    for target, vendor, name in (first, second, first, second):
        body = await gateway.execute(
            CREATE, create_input(target, vendor, "same.person@example.com", key="key-1")
        )
        payload = body["data"]["createInvitation"]
        assert payload["userErrors"] == [], payload
        assert payload["invitation"]["target"]["connection"] == name
        created.setdefault(name, set()).add(payload["invitation"]["id"])
    assert all(len(ids) == 1 for ids in created.values()), created  # retries replayed
    assert len(set().union(*created.values())) == 2  # two invitations, one per connection
    for _, vendor, name in (first, second):
        assert [i["state"] for i in upstreams.stored(vendor, name)] == ["pending"]


async def test_an_unknown_connection_is_invalid_input_naming_the_ones_that_exist(
    gateway: GatewayClient,
) -> None:
    """target.connection naming nothing configured: INVALID_INPUT on that field, with the names."""
    target = {"kind": "CLERK_ORGANIZATION", "id": ORG, "connection": "prod"}
    body = await gateway.execute(CREATE, create_input(target, "clerk", "a@example.com"))
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
