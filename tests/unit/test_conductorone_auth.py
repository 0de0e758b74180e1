"""ConductorOne OAuth client credentials: parsing, the signed assertion, settings, the token flow.

The flow tests drive `ClientCredentialsAuth` on a plain `httpx.AsyncClient` against the
ConductorOne emulator (a fake that keeps state), with one manual clock for both sides.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from pydantic import ValidationError

from invitation_gateway.emulators._common import ManualClock
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.conductorone_auth import (
    REFRESH_MARGIN,
    ClientCredentialsAuth,
    TokenError,
)
from invitation_gateway.providers.conductorone_credentials import (
    ASSERTION_TYPE,
    CLIENT_ID_VARIABLE,
    CLIENT_SECRET_VARIABLE,
    TOKEN_PATH,
    client_assertion,
    parse_client_id,
    parse_client_secret,
)
from invitation_gateway.settings import Settings

# The example secret of C1's docs (DOC-AUTH, conductorone-notes.md §5.1) and the public key in it.
DOCS_SECRET = (
    "secret-token:conductorone.com:v1:eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6IkMySEx5Y0d6eUhf"
    "ZDQwcjJvejZoNkpqdndvRVFBZ0FTRVc2eDB6emh6Y2MiLCJkIjoiLTgzVkxXUVUtZVhQY0ZCWVhDb2NpU29XVmhrYnRX"
    "Um9zdkZUZ3JqcXNVbyJ9"
)
DOCS_X = "C2HLycGzyH_d40r2oz6h6JjvwoEQAgASEW6x0zzhzcc"
DOCS_D = "-83VLWQU-eXPcFBYXCociSoWVhkbtWRosvFTgrjqsUo"
DOCS_CLIENT_ID = "strange-hydra-68836@acme.conductor.one/pcc"
PREFIX = "secret-token:conductorone.com:v1:"
HOST = "conductorone.test"
BASE_URL = f"http://{HOST}"
CONFIGS = "/api/v1/local-directory-configs"
NOW = 1_760_000_000.75


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def secret_for(jwk: Any) -> str:
    return PREFIX + b64(json.dumps(jwk).encode())


def ed25519_jwk(**extra: str) -> dict[str, str]:
    key = Ed25519PrivateKey.generate()
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "d": b64(key.private_bytes_raw()),
        **extra,
    }


def segment(token: str, index: int) -> Any:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# --- the client id -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "host"),
    [
        (DOCS_CLIENT_ID, "acme.conductor.one"),
        ("clever-fox@acme.c1eu.ai/wfe", "acme.c1eu.ai"),
        ("x@Acme.Conductor.One/pcc", "acme.conductor.one"),
        ("x@localhost:8443/pcc", "localhost:8443"),
        ("x@acme.conductor.one/pcc/more", "acme.conductor.one"),
    ],
)
def test_client_id_names_the_tenant_host(client_id: str, host: str) -> None:
    """The host is what lies between the first `@` and the first `/` after it, lower-cased."""
    assert parse_client_id(client_id) == host


@pytest.mark.parametrize(
    "client_id",
    [
        "",
        "strange-hydra-68836",
        "@acme.conductor.one/pcc",
        "x@/pcc",
        "x@acme.conductor.one",
        "x@acme.conductor.one/",
        "x@acme conductor.one/pcc",
        "x@user@acme.conductor.one/pcc",
        "x@acme.conductor.one:port/pcc",
        "x@acme.conductor.one?q/pcc",
    ],
)
def test_a_malformed_client_id_is_refused_by_variable_name(client_id: str) -> None:
    """A client id without `<name>@<host>/<use>` is a ValueError naming the variable."""
    with pytest.raises(ValueError, match=CLIENT_ID_VARIABLE) as caught:
        parse_client_id(client_id)
    assert "<name>@<tenant host>/<use>" in str(caught.value)


# --- the client secret -------------------------------------------------------------------------


def test_the_docs_example_secret_parses_and_its_x_is_the_public_key_of_d() -> None:
    """C1's documented example secret gives an Ed25519 private key whose public key is its `x`."""
    key = parse_client_secret(DOCS_SECRET)
    assert isinstance(key.key, Ed25519PrivateKey)
    assert b64(key.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)) == DOCS_X
    assert b64(key.key.private_bytes_raw()) == DOCS_D
    assert key.key_id is None


def test_padding_is_accepted_whether_present_or_not() -> None:
    """The JWK part may come with or without `=` padding (Go wants none, Python needs it)."""
    jwk = ed25519_jwk()
    encoded = base64.urlsafe_b64encode(json.dumps(jwk).encode()).decode()
    assert encoded.endswith("="), "the fixture must need padding"
    padded, unpadded = PREFIX + encoded, PREFIX + encoded.rstrip("=")
    for secret in (padded, unpadded):
        assert b64(parse_client_secret(secret).key.private_bytes_raw()) == jwk["d"]


def test_a_kid_in_the_jwk_is_kept() -> None:
    """A JWK with `kid` gives a key that carries it (it then goes into the assertion header)."""
    assert parse_client_secret(secret_for(ed25519_jwk(kid="key-1"))).key_id == "key-1"


def _rsa_jwk() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return jwk


def _ed448_jwk() -> dict[str, str]:
    key = Ed448PrivateKey.generate()
    return {
        "kty": "OKP",
        "crv": "Ed448",
        "x": b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "d": b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
    }


def _mismatched_jwk() -> dict[str, str]:
    return {**ed25519_jwk(), "x": ed25519_jwk()["x"]}


MALFORMED_SECRETS = {
    "wrong prefix": DOCS_SECRET.replace("secret-token:", "bearer-token:"),
    "wrong domain": DOCS_SECRET.replace("conductorone.com", "example.com"),
    "wrong version": DOCS_SECRET.replace(":v1:", ":v2:"),
    "too few parts": "secret-token:conductorone.com:" + DOCS_SECRET.rsplit(":", 1)[1],
    "bad base64": PREFIX + "eyJrdHkiOiJPS1Ai!!notbase64",
    "impossible base64 length": PREFIX + "eyJrdHkiOiJPS1AiQ",
    "not JSON": PREFIX + b64(b"kty=OKP;crv=Ed25519;d=TOPSECRET"),
    "JSON but not an object": secret_for(["OKP", "Ed25519", "TOPSECRET"]),
    "public key only": secret_for({"kty": "OKP", "crv": "Ed25519", "x": DOCS_X}),
    "RSA key": secret_for(_rsa_jwk()),
    "wrong curve": secret_for(_ed448_jwk()),
    "x of another key": secret_for(_mismatched_jwk()),
    "no x": secret_for({"kty": "OKP", "crv": "Ed25519", "d": DOCS_D}),
    "short d": secret_for({"kty": "OKP", "crv": "Ed25519", "x": DOCS_X, "d": DOCS_D[:20]}),
    "kid not a string": secret_for(
        {"kty": "OKP", "crv": "Ed25519", "x": DOCS_X, "d": DOCS_D, "kid": 7}
    ),
    "empty": "",
}


@pytest.mark.parametrize("secret", MALFORMED_SECRETS.values(), ids=MALFORMED_SECRETS.keys())
def test_a_malformed_secret_is_refused_without_echoing_it(secret: str) -> None:
    """Each malformed secret is a ValueError naming the variable and the shape, with none of it."""
    with pytest.raises(ValueError, match=CLIENT_SECRET_VARIABLE) as caught:
        parse_client_secret(secret)
    message = str(caught.value)
    assert "secret-token:conductorone.com:v1:<base64url of an Ed25519 private JWK>" in message
    payload = secret.split(":", 3)[-1]
    assert not payload or payload not in message
    assert "TOPSECRET" not in message
    key_material = re.search(r"[A-Za-z0-9_-]{20,}", message.replace(CLIENT_SECRET_VARIABLE, ""))
    assert key_material is None, message  # no key material of any kind
    # A library error that quoted the JWK is not kept as the cause either.
    assert caught.value.__cause__ is None


# --- the client assertion ----------------------------------------------------------------------


def test_the_assertion_header_and_claims_are_exactly_the_go_sdks() -> None:
    """Header {alg, nonce}, no typ; claims iss, sub, aud (array), exp/nbf = now ± 120, iat = now."""
    key = parse_client_secret(DOCS_SECRET)
    token = client_assertion(DOCS_CLIENT_ID, key, "acme.conductor.one", NOW)
    header, claims = segment(token, 0), segment(token, 1)
    assert set(header) == {"alg", "nonce"}
    assert header["alg"] == "EdDSA"
    assert re.fullmatch(r"[0-9a-f]{32}", header["nonce"])
    assert claims == {
        "iss": DOCS_CLIENT_ID,
        "sub": DOCS_CLIENT_ID,
        "aud": ["acme.conductor.one"],
        "exp": 1_760_000_120,
        "nbf": 1_759_999_880,
        "iat": 1_760_000_000,
    }
    assert list(claims) == ["iss", "sub", "aud", "exp", "nbf", "iat"]  # go-jose's field order


def test_the_assertion_is_a_compact_jws_that_verifies_with_the_public_key() -> None:
    """Three unpadded base64url segments, signed EdDSA over the first two with the JWK's key."""
    key = parse_client_secret(DOCS_SECRET)
    token = client_assertion(DOCS_CLIENT_ID, key, "acme.conductor.one", NOW)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    public = jwt.PyJWK({"kty": "OKP", "crv": "Ed25519", "x": DOCS_X}, algorithm="EdDSA")
    signed = jwt.PyJWS().decode_complete(token, public, algorithms=["EdDSA"])
    assert json.loads(signed["payload"])["iss"] == DOCS_CLIENT_ID


def test_each_assertion_has_a_new_nonce_and_a_kid_only_when_the_jwk_has_one() -> None:
    """Nonces differ per assertion; `kid` appears in the header only for a JWK that has one."""
    plain = parse_client_secret(DOCS_SECRET)
    first, second = (client_assertion("c", plain, "h", NOW) for _ in range(2))
    assert segment(first, 0)["nonce"] != segment(second, 0)["nonce"]
    with_kid = parse_client_secret(secret_for(ed25519_jwk(kid="key-1")))
    assert segment(client_assertion("c", with_kid, "h", NOW), 0)["kid"] == "key-1"


def test_the_audience_never_carries_a_port() -> None:
    """`acme.conductor.one:8443` signs `aud: ["acme.conductor.one"]`, as the Go SDK does."""
    token = client_assertion("c", parse_client_secret(DOCS_SECRET), "acme.conductor.one:8443", NOW)
    assert segment(token, 1)["aud"] == ["acme.conductor.one"]


# --- settings ----------------------------------------------------------------------------------


@pytest.fixture
def no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("TOKEN", "BASE_URL", "CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(f"GATEWAY_CONDUCTORONE__{name}", raising=False)
    monkeypatch.delenv("GATEWAY_CLERK__SECRET_KEY", raising=False)
    return monkeypatch


def errors_of(caught: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(e["msg"] for e in caught.value.errors(include_input=False))


def test_client_credentials_configure_conductorone_and_derive_the_base_url(
    no_gateway_env: pytest.MonkeyPatch,
) -> None:
    """CLIENT_ID + CLIENT_SECRET alone configure ConductorOne at https://<host of the client id>."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    settings = Settings()
    assert settings.conductorone.base_url == "https://acme.conductor.one"
    assert settings.configured_upstreams == ["conductorone"]
    assert DOCS_D not in repr(settings)


def test_an_explicit_base_url_wins_over_the_client_ids_host(
    no_gateway_env: pytest.MonkeyPatch,
) -> None:
    """GATEWAY_CONDUCTORONE__BASE_URL, when set, is used as it is."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__BASE_URL", "https://acme.c1eu.ai/")
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    assert Settings().conductorone.base_url == "https://acme.c1eu.ai"


@pytest.mark.parametrize(
    ("present", "missing"),
    [("CLIENT_ID", "CLIENT_SECRET"), ("CLIENT_SECRET", "CLIENT_ID")],
)
def test_one_half_of_the_client_credentials_names_the_other(
    no_gateway_env: pytest.MonkeyPatch, present: str, missing: str
) -> None:
    """A client id without a secret (or the reverse) is an error naming the missing variable."""
    value = {"CLIENT_ID": DOCS_CLIENT_ID, "CLIENT_SECRET": DOCS_SECRET}[present]
    no_gateway_env.setenv(f"GATEWAY_CONDUCTORONE__{present}", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert f"GATEWAY_CONDUCTORONE__{missing} is not" in errors_of(caught)
    assert DOCS_D not in errors_of(caught)


def test_a_token_and_client_credentials_together_say_to_choose_one(
    no_gateway_env: pytest.MonkeyPatch,
) -> None:
    """Both ways of authenticating at once is refused, saying to choose one."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__BASE_URL", "https://acme.conductor.one")
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__TOKEN", "tok")
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "choose one" in errors_of(caught)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLIENT_SECRET", MALFORMED_SECRETS["wrong version"]),
        ("CLIENT_SECRET", MALFORMED_SECRETS["public key only"]),
        ("CLIENT_ID", "not-a-client-id"),
    ],
)
def test_a_malformed_credential_fails_at_settings_time_by_name(
    no_gateway_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """The secret's (and id's) shape is checked when settings load, naming the variable only."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    no_gateway_env.setenv(f"GATEWAY_CONDUCTORONE__{variable}", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    [error] = caught.value.errors(include_input=False)
    assert error["loc"] == ("conductorone", variable.lower())
    assert f"GATEWAY_CONDUCTORONE__{variable}" in error["msg"]
    assert value.split(":")[-1] not in error["msg"]


# --- the token flow against the emulator --------------------------------------------------------


class FakeSleep:
    """Records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> ConductorOneEmulator:
    emulator = ConductorOneEmulator(clock=clock, host=HOST)
    emulator.add_directory("2fQzV1rJ5vJ8KkLqW3yYd0uXbNc", "Acme Employees", is_default=True)
    return emulator


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def auth(emu: ConductorOneEmulator, clock: ManualClock, sleep: FakeSleep) -> ClientCredentialsAuth:
    client_id, secret = emu.create_client("unit")
    return ClientCredentialsAuth(
        client_id=client_id,
        key=parse_client_secret(secret),
        token_url=BASE_URL + TOKEN_PATH,
        audience=HOST,
        clock=lambda: clock.current.timestamp(),
        sleep=sleep,
    )


@pytest.fixture
async def http(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app),
        base_url=BASE_URL,
        auth=auth,
        headers={"User-Agent": "unit-test/1"},
    ) as client:
        yield client


def calls(emu: ConductorOneEmulator) -> list[str]:
    return ["token" if r.path == TOKEN_PATH else "api" for r in emu.requests]


def bearer(request: Any) -> str:
    value: str = request.headers["authorization"]
    assert value.startswith("Bearer ")
    return value.removeprefix("Bearer ")


async def test_the_first_request_fetches_a_token_and_the_next_reuses_it(
    http: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """One token request serves every request until it nears expiry; the API sees that token."""
    for _ in range(3):
        assert (await http.get(CONFIGS)).status_code == 200
    assert calls(emu) == ["token", "api", "api", "api"]
    tokens = {bearer(r) for r in emu.api_requests}
    assert len(tokens) == 1
    assert tokens <= set(emu.oauth.issued)


async def test_the_token_request_is_the_four_form_fields_and_no_authorization(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, auth: ClientCredentialsAuth
) -> None:
    """POST /auth/v1/token, form-encoded, exactly §5.3's four fields, no Authorization header."""
    await http.get(CONFIGS)
    sent = emu.requests[0]
    assert (sent.method, sent.path) == ("POST", TOKEN_PATH)
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in sent.headers
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["user-agent"] == "unit-test/1"
    form = parse_qs(sent.body.decode(), keep_blank_values=True)
    assert set(form) == {"client_id", "grant_type", "client_assertion_type", "client_assertion"}
    assert form["client_id"] == ["unit@conductorone.test/pcc"]
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == [ASSERTION_TYPE]
    claims = segment(form["client_assertion"][0], 1)
    assert claims["iss"] == claims["sub"] == "unit@conductorone.test/pcc"
    assert claims["aud"] == [HOST]


async def test_the_token_request_carries_the_clients_timeouts(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth
) -> None:
    """A token request built inside the flow still gets the client's timeouts."""
    seen: list[httpx.Request] = []
    inner = httpx.ASGITransport(app=emu.app)

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await inner.handle_async_request(request)

    timeout = httpx.Timeout(2.0, read=7.0)
    async with httpx.AsyncClient(
        transport=Recording(), base_url=BASE_URL, auth=auth, timeout=timeout
    ) as client:
        await client.get(CONFIGS)
    assert [r.url.path for r in seen] == [TOKEN_PATH, CONFIGS]
    assert seen[0].extensions["timeout"] == timeout.as_dict()


async def test_a_token_is_refreshed_once_inside_the_margin_without_a_401(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """Reused until `expires_in - margin`, then replaced before use, so the API never says 401."""
    await http.get(CONFIGS)
    clock.advance(timedelta(seconds=emu.token_ttl_seconds - REFRESH_MARGIN - 1))
    await http.get(CONFIGS)
    clock.advance(timedelta(seconds=2))
    await http.get(CONFIGS)
    assert calls(emu) == ["token", "api", "api", "token", "api"]
    first, second, third = (bearer(r) for r in emu.api_requests)
    assert first == second != third


async def test_a_401_drops_the_token_and_retries_once_with_a_fresh_one(
    http: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """A token the API refuses (expired upstream) is replaced and the request sent once more."""
    await http.get(CONFIGS)
    emu.expire_tokens()
    response = await http.get(CONFIGS)
    assert response.status_code == 200
    assert calls(emu) == ["token", "api", "api", "token", "api"]
    old, refused, fresh = (bearer(r) for r in emu.api_requests)
    assert old == refused != fresh


async def test_a_second_401_is_returned_not_retried_again(
    http: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """Only one retry: when the fresh token is refused too, the caller gets that 401."""
    emu.faults.add(status=401, path_contains=CONFIGS, times=2)
    response = await http.get(CONFIGS)
    assert response.status_code == 401
    assert calls(emu) == ["token", "api", "token", "api"]


async def test_a_401_after_another_request_refreshed_keeps_the_newer_token(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, auth: ClientCredentialsAuth
) -> None:
    """Invalidation drops only the token that failed: a token fetched meanwhile is reused."""
    await http.get(CONFIGS)
    emu.expire_tokens()
    emu.latency = 0.02  # both requests go out with the expired token; one fetches the next
    responses = await asyncio.gather(http.get(CONFIGS), http.get(CONFIGS))
    assert [r.status_code for r in responses] == [200, 200]
    assert emu.token_requests == 2


@pytest.mark.parametrize(
    "prepare",
    ["cold start", "expired upstream", "stale on our clock", "lifetime shorter than the margin"],
)
async def test_fifty_concurrent_requests_make_one_token_request(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, clock: ManualClock, prepare: str
) -> None:
    """Single flight: however the token went missing, 50 concurrent requests fetch it once."""
    before = 0
    if prepare != "cold start":
        if prepare == "lifetime shorter than the margin":
            emu.token_ttl_seconds = int(REFRESH_MARGIN) - 10
        await http.get(CONFIGS)
        before = emu.token_requests
        if prepare == "expired upstream":
            emu.expire_tokens()
        elif prepare == "stale on our clock":
            clock.advance(timedelta(seconds=emu.token_ttl_seconds))
    emu.latency = 0.02  # every request waits upstream, so all 50 are in flight at once
    responses = await asyncio.gather(*(http.get(CONFIGS) for _ in range(50)))
    assert {r.status_code for r in responses} == {200}
    assert emu.token_requests == before + 1


async def test_a_lifetime_shorter_than_the_margin_is_used_once(
    http: httpx.AsyncClient, emu: ConductorOneEmulator
) -> None:
    """A token that expires within the margin serves its own request and is replaced after."""
    emu.token_ttl_seconds = 20
    await http.get(CONFIGS)
    await http.get(CONFIGS)
    assert calls(emu) == ["token", "api", "token", "api"]


async def test_a_token_429_is_retried_once_after_retry_after(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, sleep: FakeSleep
) -> None:
    """A 429 from the token endpoint waits Retry-After and retries with a new assertion."""
    emu.faults.add(status=429, headers={"Retry-After": "2"}, path_contains=TOKEN_PATH)
    assert (await http.get(CONFIGS)).status_code == 200
    assert sleep.waits == [2.0]
    assert calls(emu) == ["token", "token", "api"]
    first, second = (parse_qs(r.body.decode())["client_assertion"][0] for r in emu.requests[:2])
    assert first != second


async def test_a_token_429_without_retry_after_waits_a_second(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, sleep: FakeSleep
) -> None:
    """With no Retry-After the one retry comes after a short default wait."""
    emu.faults.add(status=429, path_contains=TOKEN_PATH)
    assert (await http.get(CONFIGS)).status_code == 200
    assert sleep.waits == [1.0]


async def test_a_token_429_asking_for_long_or_twice_is_a_token_error(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, sleep: FakeSleep
) -> None:
    """Retry-After over 5 s is not waited for; a second 429 is not retried again."""
    emu.faults.add(status=429, headers={"Retry-After": "30"}, path_contains=TOKEN_PATH)
    with pytest.raises(TokenError) as caught:
        await http.get(CONFIGS)
    assert (caught.value.status, caught.value.retry_after) == (429, 30.0)
    assert sleep.waits == []
    emu.faults.add(status=429, headers={"Retry-After": "1"}, path_contains=TOKEN_PATH, times=2)
    with pytest.raises(TokenError) as caught:
        await http.get(CONFIGS)
    assert (caught.value.status, caught.value.retry_after) == (429, 1.0)
    assert sleep.waits == [1.0]
    assert emu.api_requests == []


async def test_a_refused_client_is_a_token_error_without_the_secret(
    emu: ConductorOneEmulator, clock: ManualClock
) -> None:
    """An unknown client's token request (401) is a TokenError that holds no part of the secret."""
    stranger_id, stranger_secret = ConductorOneEmulator(host=HOST).create_client("stranger")
    auth = ClientCredentialsAuth(
        client_id=stranger_id,
        key=parse_client_secret(stranger_secret),
        token_url=BASE_URL + TOKEN_PATH,
        audience=HOST,
        clock=lambda: clock.current.timestamp(),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url=BASE_URL, auth=auth
    ) as client:
        with pytest.raises(TokenError) as caught:
            await client.get(CONFIGS)
    assert caught.value.status == 401
    assert "HTTP 401" in str(caught.value)
    assert stranger_secret.split(":")[-1] not in str(caught.value)
    assert emu.api_requests == []


@pytest.mark.parametrize("raw", ["Bearer c1-issued", "bearer: c1-issued", "  BEARER:: c1-issued"])
async def test_a_bearer_prefix_on_the_access_token_is_stripped(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, raw: str
) -> None:
    """`access_token` values like "Bearer x" or "bearer: x" are sent as `Bearer x` (TS-TOK)."""
    emu.tokens.add("c1-issued")
    body = json.dumps({"access_token": raw, "token_type": "Bearer", "expires_in": 600})
    emu.faults.add(status=200, body=body, path_contains=TOKEN_PATH)
    assert (await http.get(CONFIGS)).status_code == 200
    assert emu.api_requests[0].headers["authorization"] == "Bearer c1-issued"


@pytest.mark.parametrize(
    "body",
    [
        '{"access_token": "", "token_type": "Bearer", "expires_in": 600}',
        '{"access_token": "bearer:", "expires_in": 600}',
        '{"token_type": "Bearer", "expires_in": 600}',
        "<html>not json</html>",
        '["access_token"]',
    ],
)
async def test_a_200_without_an_access_token_is_a_token_error(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, body: str
) -> None:
    """An empty, missing or unreadable access token is refused as the Go SDK refuses it."""
    emu.faults.add(status=200, body=body, path_contains=TOKEN_PATH)
    with pytest.raises(TokenError, match="without an access token"):
        await http.get(CONFIGS)
    assert emu.api_requests == []


@pytest.mark.parametrize("expires_in", ['"600"', "null", '"soon"', "true", "-5"])
async def test_expires_in_as_a_string_is_read_and_anything_else_means_use_once(
    http: httpx.AsyncClient, emu: ConductorOneEmulator, expires_in: str
) -> None:
    """A numeric-string `expires_in` is honoured; a missing or odd one makes the token single-use."""
    emu.tokens.add("c1-issued")
    body = f'{{"access_token": "c1-issued", "expires_in": {expires_in}}}'
    emu.faults.add(status=200, body=body, path_contains=TOKEN_PATH, times=2)
    await http.get(CONFIGS)
    await http.get(CONFIGS)
    expected = 1 if expires_in == '"600"' else 2
    assert emu.token_requests == expected


def test_the_sync_flow_is_not_supported(auth: ClientCredentialsAuth) -> None:
    """Only httpx.AsyncClient is supported: a sync client fails loudly, not silently unauthenticated."""
    with (
        httpx.Client(
            transport=httpx.MockTransport(lambda r: httpx.Response(200)), auth=auth
        ) as client,
        pytest.raises(NotImplementedError),
    ):
        client.get("http://conductorone.test/")


async def test_for_base_url_puts_the_token_endpoint_on_the_tenant_and_drops_the_port() -> None:
    """From `http://host:8080` the token URL is `http://host:8080/auth/v1/token`, aud `host`."""
    emu = ConductorOneEmulator(host=f"{HOST}:8080")  # the real clock, as for_base_url's
    client_id, secret = emu.create_client("ported")
    auth = ClientCredentialsAuth.for_base_url(
        client_id=client_id, client_secret=secret, base_url=f"{BASE_URL}:8080/"
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url=f"{BASE_URL}:8080", auth=auth
    ) as client:
        assert (await client.get(CONFIGS)).status_code == 200
    token_request = emu.requests[0]
    assert token_request.headers["host"] == f"{HOST}:8080"
    assert token_request.path == TOKEN_PATH
    assertion = parse_qs(token_request.body.decode())["client_assertion"][0]
    assert segment(assertion, 1)["aud"] == [HOST]
