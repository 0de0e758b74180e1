"""Faults that act first: `after` (the upstream acts, then answers the fault) and `drop` (the
upstream acts, then the connection breaks), on both emulators, in process and on a real socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from invitation_gateway.emulators import ConnectionDropped, Emulator, ManualClock
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import REVOKED, ConductorOneEmulator
from tests.support.servers import serve

SECRET = "sk_test_faults"
TOKEN = "c1-faults-token"
ORG = "org_2sFaultsAcme00000000000000"
DIRECTORY = "2fQzFaultsDirectory00000001"


@dataclass
class Vendor:
    """One emulator, how to create and revoke through it, and where its invitations are kept."""

    emulator: Emulator
    headers: dict[str, str]
    create_path: str
    create_body: dict[str, Any]
    revoke_path: Callable[[str], str]
    stored: Callable[[], dict[str, dict[str, Any]]]
    invitation_id: Callable[[httpx.Response], str]
    revoked: str


def clerk_vendor() -> Vendor:
    clerk = ClerkEmulator(secret_key=SECRET, clock=ManualClock())
    clerk.add_organization(ORG, "Acme Inc")
    base = f"/v1/organizations/{ORG}/invitations"
    return Vendor(
        clerk,
        {"Authorization": f"Bearer {SECRET}"},
        base,
        {"email_address": "ada@example.com", "role": "org:member"},
        lambda invitation_id: f"{base}/{invitation_id}/revoke",
        lambda: clerk.organization_invitations,
        lambda response: str(response.json()["id"]),
        "revoked",
    )


def conductorone_vendor() -> Vendor:
    c1 = ConductorOneEmulator(token=TOKEN, clock=ManualClock())
    c1.add_directory(DIRECTORY, "Acme Employees")
    base = f"/api/v1/local-directory-configs/{DIRECTORY}/invitations"
    return Vendor(
        c1,
        {"Authorization": f"Bearer {TOKEN}"},
        base,
        {"email": "ada@example.com", "displayName": "Ada"},
        lambda invitation_id: f"{base}/{invitation_id}/revoke",
        lambda: c1.invitations,
        lambda response: str(response.json()["invitation"]["id"]),
        REVOKED,
    )


@pytest.fixture(params=[clerk_vendor, conductorone_vendor], ids=["clerk", "conductorone"])
def vendor(request: pytest.FixtureRequest) -> Vendor:
    make: Callable[[], Vendor] = request.param
    return make()


@pytest.fixture
async def client(vendor: Vendor) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=vendor.emulator.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://vendor.test", headers=vendor.headers
    ) as http:
        yield http


@pytest.fixture
def served(vendor: Vendor) -> Iterator[httpx.Client]:
    with (
        serve(vendor.emulator.app) as base_url,
        httpx.Client(base_url=base_url, headers=vendor.headers, timeout=5) as http,
    ):
        yield http


async def create(client: httpx.AsyncClient, vendor: Vendor) -> str:
    response = await client.post(vendor.create_path, json=vendor.create_body)
    assert response.status_code == 200, response.text
    return vendor.invitation_id(response)


# --- after ----------------------------------------------------------------------------------------


async def test_an_after_fault_creates_then_answers_its_status(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """status=503 after=True: the invitation IS created, yet the caller gets the vendor's 503."""
    vendor.emulator.faults.add(status=503, after=True, method="POST")
    response = await client.post(vendor.create_path, json=vendor.create_body)
    assert response.status_code == 503
    [invitation] = vendor.stored().values()
    assert "ada@example.com" in invitation.values()
    assert len(vendor.emulator.faults) == 0


async def test_an_after_fault_revokes_then_answers_its_status(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """A revoke under an after fault is really revoked, though the caller sees 502."""
    invitation_id = await create(client, vendor)
    vendor.emulator.faults.add(status=502, after=True, path_contains="/revoke")
    response = await client.post(vendor.revoke_path(invitation_id), json={})
    assert response.status_code == 502
    assert vendor.stored()[invitation_id]["status"] == vendor.revoked


async def test_an_after_fault_can_answer_200_with_a_body_of_its_own(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """status=200 with body {"invitation": null} after acting: a created invitation, a null answer."""
    body = '{"invitation": null}'
    vendor.emulator.faults.add(status=200, body=body, after=True, method="POST")
    response = await client.post(vendor.create_path, json=vendor.create_body)
    assert (response.status_code, response.json()) == (200, {"invitation": None})
    assert response.headers["content-type"] == "application/json"
    assert len(vendor.stored()) == 1


async def test_an_after_fault_matches_method_and_path_like_any_fault(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """An after fault on revoke leaves creates alone, and one on GET leaves POSTs alone."""
    vendor.emulator.faults.add(status=503, after=True, path_contains="/revoke")
    vendor.emulator.faults.add(status=503, after=True, method="GET")
    await create(client, vendor)
    assert len(vendor.emulator.faults) == 2


# --- drop -----------------------------------------------------------------------------------------


async def test_a_drop_in_process_creates_then_raises_a_transport_error(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """Through ASGITransport a drop is an httpx.RemoteProtocolError after the invitation exists."""
    vendor.emulator.faults.add(drop=True, method="POST")
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await client.post(vendor.create_path, json=vendor.create_body)
    assert isinstance(caught.value, ConnectionDropped)
    assert not isinstance(caught.value, httpx.ConnectError)
    assert caught.value.request.method == "POST"
    assert len(vendor.stored()) == 1


def test_a_drop_on_a_real_socket_creates_then_breaks_the_connection(
    served: httpx.Client, vendor: Vendor
) -> None:
    """Over uvicorn a drop is the client's own RemoteProtocolError; the server keeps serving."""
    vendor.emulator.faults.add(drop=True, method="POST", path_contains="/invitations")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as caught:
        served.post(vendor.create_path, json=vendor.create_body)
    assert not isinstance(caught.value, ConnectionDropped)  # raised by httpx, not by us
    assert len(vendor.stored()) == 1
    [invitation_id] = vendor.stored()
    answer = served.post(vendor.revoke_path(invitation_id), json={})
    assert answer.status_code == 200
    assert vendor.stored()[invitation_id]["status"] == vendor.revoked


def test_a_dropped_answer_starts_then_stops_on_a_real_socket(
    served: httpx.Client, vendor: Vendor
) -> None:
    """A streamed read sees the real status line, then a transport error instead of the body."""
    vendor.emulator.faults.add(drop=True)
    with served.stream("POST", vendor.create_path, json=vendor.create_body) as response:
        assert response.status_code == 200
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            response.read()


def test_a_drop_of_a_revoke_on_a_real_socket_still_revokes(
    served: httpx.Client, vendor: Vendor
) -> None:
    """A dropped revoke has revoked: a second revoke is the vendor's not-revocable answer."""
    invitation_id = vendor.invitation_id(served.post(vendor.create_path, json=vendor.create_body))
    vendor.emulator.faults.add(drop=True, path_contains="/revoke")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        served.post(vendor.revoke_path(invitation_id), json={})
    assert vendor.stored()[invitation_id]["status"] == vendor.revoked
    assert served.post(vendor.revoke_path(invitation_id), json={}).status_code in (400, 404)


# --- the control route and the rules -----------------------------------------------------------


async def test_after_and_drop_come_from_the_control_route(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """POST /__emulator__/faults takes after and drop, and the state lists them."""
    added = await client.post(
        "/__emulator__/faults", json={"status": 503, "after": True, "method": "POST"}
    )
    assert added.status_code == 201
    assert added.json()["after"] is True
    dropping = await client.post("/__emulator__/faults", json={"drop": True, "times": 2})
    assert (dropping.json()["drop"], dropping.json()["after"]) == (True, True)
    faults = (await client.get("/__emulator__/state")).json()["faults"]
    assert [(fault["status"], fault["drop"]) for fault in faults] == [(503, False), (None, True)]
    assert (await client.post(vendor.create_path, json=vendor.create_body)).status_code == 503
    assert len(vendor.stored()) == 1


@pytest.mark.parametrize(
    "spec",
    [
        {"after": True},
        {"drop": True, "status": 503},
        {"drop": True, "body": "x"},
        {"drop": True, "trickle": 0.1},
        {"drop": "yes"},
        {"after": 1, "status": 503},
        {"status": True},
        {"status": 503, "gone": True},
    ],
)
async def test_meaningless_fault_specs_are_400(
    client: httpx.AsyncClient, vendor: Vendor, spec: dict[str, Any]
) -> None:
    """after without a status, drop with an answer, and wrong types are refused with 400."""
    response = await client.post("/__emulator__/faults", content=json.dumps(spec))
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert len(vendor.emulator.faults) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"after": True}, "needs the status"),
        ({"drop": True, "status": 500}, "dropped connection has no status"),
        ({"drop": True, "headers": {"a": "b"}}, "dropped connection has no status"),
        ({}, "must have a delay or drop"),
    ],
)
def test_meaningless_faults_are_refused_in_python(
    vendor: Vendor, kwargs: dict[str, Any], message: str
) -> None:
    """FaultQueue.add raises ValueError for after without status, drop with an answer, or nothing."""
    with pytest.raises(ValueError, match=message):
        vendor.emulator.faults.add(**kwargs)


async def test_a_delayed_after_fault_waits_then_acts(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """delay and after combine: the wait comes first, then the handler, then the fault's answer."""
    vendor.emulator.faults.add(status=504, after=True, delay=0.01)
    assert (await client.post(vendor.create_path, json=vendor.create_body)).status_code == 504
    assert len(vendor.stored()) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 99}, "HTTP status code"),
        ({"status": 500, "delay": -1.0}, "positive"),
        ({"status": 500, "trickle": 0.0}, "positive"),
        ({"status": 500, "times": 0}, "at least 1"),
    ],
)
def test_out_of_range_faults_are_refused(
    vendor: Vendor, kwargs: dict[str, Any], message: str
) -> None:
    """Statuses outside 100..599, negative waits and times below 1 are ValueErrors."""
    with pytest.raises(ValueError, match=message):
        vendor.emulator.faults.add(**kwargs)


async def test_faults_can_be_cleared_and_bad_control_calls_say_why(
    client: httpx.AsyncClient, vendor: Vendor
) -> None:
    """DELETE /faults drops them all; non-JSON bodies are 400 and unknown routes 404."""
    vendor.emulator.faults.add(status=500, times=3)
    vendor.emulator.faults.add(drop=True)
    assert (await client.delete("/__emulator__/faults")).json() == {"cleared": 2}
    assert len(vendor.emulator.faults) == 0
    for body in (b"{", b"[]", b'{"headers": {"a": 1}, "status": 500}'):
        response = await client.post("/__emulator__/faults", content=body)
        assert response.status_code == 400, body
    assert (await client.post("/__emulator__/settings", content=b"nope")).status_code == 400
    missing = await client.get("/__emulator__/nothing")
    assert missing.status_code == 404
    assert "no control route GET /__emulator__/nothing" in missing.json()["error"]
