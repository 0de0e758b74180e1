"""The ConductorOne emulator's token endpoint: what it accepts, what it refuses, what it issues."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.conductorone import ConductorOneEmulator

HOST = "acme.conductor.test"
CLIENT = f"strange-hydra-68836@{HOST}/pcc"
TOKEN_PATH = "/auth/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONFIGS = "/api/v1/local-directory-configs"
KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> ConductorOneEmulator:
    emulator = ConductorOneEmulator(clock=clock, host=HOST)
    emulator.register_client(CLIENT, KEY.public_key())
    return emulator


@pytest.fixture
async def client(emu: ConductorOneEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url=f"https://{HOST}"
    ) as http:
        yield http


def assertion(
    clock: ManualClock,
    *,
    key: Any = KEY,
    algorithm: str = "EdDSA",
    headers: dict[str, Any] | None = None,
    **overrides: Any,
) -> str:
    now = int(clock.current.timestamp())
    claims: dict[str, Any] = {
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": [HOST],
        "exp": now + 120,
        "nbf": now - 120,
        "iat": now,
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    header = {"typ": None, "nonce": "00112233445566778899aabbccddeeff", **(headers or {})}
    return jwt.encode(claims, key, algorithm=algorithm, headers=header)


def form(signed: str, **overrides: str) -> dict[str, str]:
    return {
        "client_id": CLIENT,
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        **overrides,
    }


async def get_token(client: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    return await client.post(TOKEN_PATH, data=data)


async def test_a_valid_assertion_gets_a_bearer_token_the_api_accepts(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """A well-signed assertion gets {access_token, token_type Bearer, expires_in 600}, usable at once."""
    response = await get_token(client, form(assertion(clock)))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 600)
    api = await client.get(CONFIGS, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 200
    assert emu.token_requests == 1
    assert [r.path for r in emu.requests] == [TOKEN_PATH, CONFIGS]
    assert [r.path for r in emu.api_requests] == [CONFIGS]


@pytest.mark.parametrize(
    ("overrides", "headers"),
    [
        ({"aud": HOST}, {}),  # the Python SDK's string audience
        ({"nonce": "bm9uY2U"}, {"nonce": None}),  # the Python SDK's nonce in the claims
        ({"aud": ["elsewhere.example", HOST]}, {}),
        ({"nbf": None, "iat": None}, {}),
    ],
    ids=["string aud", "nonce in claims", "aud among others", "no nbf or iat"],
)
async def test_the_shapes_c1s_own_clients_send_are_all_accepted(
    client: httpx.AsyncClient,
    clock: ManualClock,
    overrides: dict[str, Any],
    headers: dict[str, Any],
) -> None:
    """The Go, TypeScript and Python SDKs differ on aud and nonce; each of their shapes passes."""
    signed = assertion(clock, headers=headers, **overrides)
    assert (await get_token(client, form(signed))).status_code == 200


STRANGER = Ed25519PrivateKey.generate()
REFUSALS: dict[str, tuple[dict[str, Any], dict[str, str], str]] = {
    "wrong grant_type": ({}, {"grant_type": "password"}, "grant_type"),
    "wrong assertion type": ({}, {"client_assertion_type": "urn:x"}, "client_assertion_type"),
    "unknown client": (
        {"iss": "x@h/pcc", "sub": "x@h/pcc"},
        {"client_id": "x@h/pcc"},
        "unknown client",
    ),
    "another key": ({"key": STRANGER}, {}, "signed by this client's key"),
    "iss not the client": ({"iss": "someone-else"}, {}, "iss and sub"),
    "sub not the client": ({"sub": "someone-else"}, {}, "iss and sub"),
    "aud another host": ({"aud": ["other.conductor.one"]}, {}, "aud"),
    "aud with a port": ({"aud": [f"{HOST}:443"]}, {}, "aud"),
    "no aud": ({"aud": None}, {}, "aud"),
    "no exp": ({"exp": None}, {}, "exp"),
    "exp passed": ({"exp": "past"}, {}, "exp"),
    "exp beyond five minutes": ({"exp": "far"}, {}, "exp"),
    "nbf in the future": ({"nbf": "future"}, {}, "nbf"),
    "not EdDSA": ({"key": "k" * 32, "algorithm": "HS256"}, {}, "signed by this client's key"),
    "not a JWS": ({}, {"client_assertion": "not-a-jws"}, "signed by this client's key"),
    "no assertion": ({}, {"client_assertion": ""}, "signed by this client's key"),
}


@pytest.mark.parametrize(("claims", "fields", "why"), REFUSALS.values(), ids=REFUSALS.keys())
async def test_a_bad_token_request_is_a_401_status_and_issues_nothing(
    client: httpx.AsyncClient,
    emu: ConductorOneEmulator,
    clock: ManualClock,
    claims: dict[str, Any],
    fields: dict[str, str],
    why: str,
) -> None:
    """Every refusal is 401 with a google.rpc.Status body (the real body is NOT FOUND in the notes)."""
    now = int(clock.current.timestamp())
    times = {"past": now - 1, "far": now + 301, "future": now + 31}
    claims = {
        name: times[value] if isinstance(value, str) and value in times else value
        for name, value in claims.items()
    }
    response = await get_token(client, form(assertion(clock, **claims), **fields))
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 16
    assert why in body["message"]
    assert "(request-id: " in body["message"]
    assert emu.oauth.issued == {}


async def test_the_limits_of_exp_and_nbf_are_inclusive_where_docs_allow(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """exp exactly five minutes ahead and nbf within 30 s of skew are accepted."""
    now = int(clock.current.timestamp())
    signed = assertion(clock, exp=now + 300, nbf=now + 30)
    assert (await get_token(client, form(signed))).status_code == 200


async def test_the_token_request_must_be_a_form_with_each_field_once(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """A JSON body, or a field sent twice (RFC 6749 §3.2), is refused."""
    as_json = await client.post(TOKEN_PATH, json=form(assertion(clock)))
    assert as_json.status_code == 401
    repeated = urlencode([*form(assertion(clock)).items(), ("grant_type", "client_credentials")])
    twice = await client.post(
        TOKEN_PATH,
        content=repeated,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 401


async def test_issued_tokens_expire_on_the_emulator_clock(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """A token works until `expires_in` has passed, then the API answers the usual 401."""
    emu.token_ttl_seconds = 60
    token = (await get_token(client, form(assertion(clock)))).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    clock.advance(timedelta(seconds=59))
    assert (await client.get(CONFIGS, headers=headers)).status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = await client.get(CONFIGS, headers=headers)
    assert expired.status_code == 401
    assert expired.json()["code"] == 16


async def test_expire_tokens_ends_every_issued_token_now(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """expire_tokens() makes issued tokens fail at once, while the static token still works."""
    token = (await get_token(client, form(assertion(clock)))).json()["access_token"]
    emu.expire_tokens()
    refused = await client.get(CONFIGS, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    static = await client.get(CONFIGS, headers={"Authorization": "Bearer c1-sandbox-token"})
    assert static.status_code == 200


async def test_token_requests_are_recorded_and_can_be_faulted(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """Faults apply to the token endpoint like any other path; token_requests counts them."""
    emu.faults.add(status=429, headers={"Retry-After": "3"}, path_contains=TOKEN_PATH)
    limited = await get_token(client, form(assertion(clock)))
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert (await get_token(client, form(assertion(clock)))).status_code == 200
    assert emu.token_requests == 2
    assert emu.requests[0].headers["content-type"] == "application/x-www-form-urlencoded"


def test_create_client_uses_c1s_formats_and_keeps_only_the_public_key() -> None:
    """create_client gives `<name>@<host>/pcc` and an unpadded v1 secret; state has no `d`."""
    emu = ConductorOneEmulator()
    client_id, secret = emu.create_client("sandbox")
    assert client_id == "sandbox@conductorone.sandbox/pcc"
    prefix, _, encoded = secret.rpartition(":")
    assert prefix == "secret-token:conductorone.com:v1"
    assert "=" not in encoded
    jwk = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert set(jwk) == {"kty", "crv", "x", "d"}
    assert emu.state()["clients"] == {client_id: {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}}
    assert jwk["d"] not in json.dumps(emu.state())


async def test_register_client_takes_a_jwk_and_keeps_its_public_part(
    clock: ManualClock,
) -> None:
    """A JWK (even a private one) registers the client by its `x`; a bad JWK is a ValueError."""
    emu = ConductorOneEmulator(clock=clock, host=HOST)
    x = base64.urlsafe_b64encode(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    emu.register_client(CLIENT, {"kty": "OKP", "crv": "Ed25519", "x": x.decode().rstrip("=")})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url=f"https://{HOST}"
    ) as http:
        assert (await get_token(http, form(assertion(clock)))).status_code == 200
    with pytest.raises(ValueError, match="Ed25519"):
        emu.register_client("x@h/pcc", {"kty": "RSA", "n": "AQAB"})


async def test_reset_forgets_tokens_but_keeps_clients(
    client: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """Reset drops issued tokens and the TTL override; registered clients can still get tokens."""
    emu.token_ttl_seconds = 5
    token = (await get_token(client, form(assertion(clock)))).json()["access_token"]
    assert (await client.post("/__emulator__/reset")).status_code == 200
    assert token not in emu.oauth.issued
    assert emu.token_ttl_seconds == 600
    assert emu.token_requests == 0
    assert (await get_token(client, form(assertion(clock)))).status_code == 200


async def test_a_host_with_a_port_expects_the_audience_without_it(clock: ManualClock) -> None:
    """For a tenant at host:8443 the expected `aud` is the bare host (Go SDK, §5.2)."""
    emu = ConductorOneEmulator(clock=clock, host=f"{HOST}:8443")
    emu.register_client(CLIENT, KEY)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url=f"https://{HOST}:8443"
    ) as http:
        assert (await get_token(http, form(assertion(clock)))).status_code == 200
