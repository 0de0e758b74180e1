"""ConductorOne OAuth token flow: the token request, reuse, the 401 retry, token endpoint errors.

`ClientCredentialsAuth` runs on a plain `httpx.AsyncClient` against the ConductorOne emulator
(a fake that keeps state), with one manual clock for both sides
(`tests.support.conductorone_token_rig`). How long a token is kept is in
`test_conductorone_token_lifetime.py`; concurrency in `test_conductorone_token_single_flight.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.conductorone._credentials import (
    ASSERTION_TYPE,
    TOKEN_PATH,
    parse_client_secret,
)
from invitation_gateway.providers.conductorone._oauth import ClientCredentialsAuth, TokenError
from tests.support.conductorone_token_rig import (
    BASE_URL,
    CONFIGS,
    HOST,
    START,
    FakeSleep,
    api_client,
    bearer,
    calls,
    emulator,
    segment,
    to_emulator,
    token_auth,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def emu(clock: ManualClock) -> ConductorOneEmulator:
    return emulator(clock)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def auth(emu: ConductorOneEmulator, clock: ManualClock, sleep: FakeSleep) -> ClientCredentialsAuth:
    return token_auth(emu, clock, sleep)


@pytest.fixture
async def http(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(to_emulator(emu), auth) as client:
        yield client


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
