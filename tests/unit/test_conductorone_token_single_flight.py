"""One token request for all concurrent callers: on a cold start, a stale token, and API 401s.

Concurrency is ordered with `HeldRequests` (requests held until the test releases them), never
with timing; token requests are counted where they arrive, at the emulator's token endpoint.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.conductorone._credentials import TOKEN_PATH
from invitation_gateway.providers.conductorone._oauth import ClientCredentialsAuth
from tests.support.conductorone_token_rig import (
    CONFIGS,
    START,
    FakeSleep,
    HeldRequests,
    api_client,
    bearer,
    emulator,
    to_emulator,
    token_auth,
)

CALLERS = 50


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def emu(clock: ManualClock) -> ConductorOneEmulator:
    return emulator(clock)


@pytest.fixture
def auth(emu: ConductorOneEmulator, clock: ManualClock) -> ClientCredentialsAuth:
    return token_auth(emu, clock, FakeSleep())


async def warm_up(emu: ConductorOneEmulator, auth: ClientCredentialsAuth) -> str:
    """One call that caches a token; returns that token."""
    async with api_client(to_emulator(emu), auth) as client:
        assert (await client.get(CONFIGS)).status_code == 200
    return bearer(emu.api_requests[-1])


def is_token_request(request: httpx.Request) -> bool:
    return request.url.path == TOKEN_PATH


def carries(token: str) -> Callable[[httpx.Request], bool]:
    return lambda request: request.headers.get("authorization") == f"Bearer {token}"


def start_calls(client: httpx.AsyncClient) -> list[asyncio.Task[httpx.Response]]:
    return [asyncio.create_task(client.get(CONFIGS)) for _ in range(CALLERS)]


@pytest.mark.parametrize(
    "prepare", ["cold start", "stale on our clock", "inside a 5 s token's margin"]
)
async def test_fifty_concurrent_calls_without_a_usable_token_make_one_token_request(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth, clock: ManualClock, prepare: str
) -> None:
    """While the one token request is held, the other 49 calls wait for it and then use it."""
    if prepare != "cold start":
        emu.token_ttl_seconds = 5 if prepare == "inside a 5 s token's margin" else 600
        await warm_up(emu, auth)
        clock.advance(timedelta(seconds=4.5 if emu.token_ttl_seconds == 5 else 600))
    before = emu.token_requests
    tokens = HeldRequests(to_emulator(emu), hold=is_token_request)
    async with api_client(tokens, auth) as client:
        calls = start_calls(client)
        await tokens.until(lambda: tokens.held == 1)
        tokens.release(CALLERS)  # enough for every call: a second token request is counted
        responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    assert emu.token_requests == before + 1
    assert len({bearer(r) for r in emu.api_requests[-CALLERS:]}) == 1


@pytest.mark.parametrize("lifetime", [5, 30, 3600])
@pytest.mark.parametrize("order", ["every 401 before the new token", "one 401, then the rest"])
async def test_fifty_401s_with_the_same_token_make_one_token_request(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth, lifetime: int, order: str
) -> None:
    """50 calls refused with one token fetch one new token, and each retries once with it."""
    emu.token_ttl_seconds = lifetime
    stale = await warm_up(emu, auth)
    emu.expire_tokens()  # revoked upstream: still fresh on the gateway's clock
    refused = HeldRequests(to_emulator(emu), hold=carries(stale))
    tokens = HeldRequests(refused, hold=is_token_request)
    async with api_client(tokens, auth) as client:
        calls = start_calls(client)
        await refused.until(lambda: refused.held == CALLERS)  # all 50 sent with the stale token
        if order == "every 401 before the new token":
            refused.release(CALLERS)
            await refused.until(lambda: refused.answered == CALLERS)
            tokens.release(CALLERS)
        else:
            tokens.release(CALLERS)
            refused.release(1)
            await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
            assert emu.token_requests == 2  # the first call refreshed and retried already
            refused.release(CALLERS - 1)
        responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    assert emu.token_requests == 2  # the warm-up's and one more
    seen = Counter(bearer(r) for r in emu.api_requests[1:])
    [fresh] = set(seen) - {stale}
    assert seen == {stale: CALLERS, fresh: CALLERS}
    assert fresh in emu.oauth.issued


async def test_a_401_that_arrives_inside_the_new_tokens_margin_still_takes_it(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth, clock: ManualClock
) -> None:
    """A token newer than the refused one is reused until it expires, even in its last fifth."""
    emu.token_ttl_seconds = 5
    stale = await warm_up(emu, auth)
    emu.expire_tokens()
    refused = HeldRequests(to_emulator(emu), hold=carries(stale))
    async with api_client(refused, auth) as client:
        calls = start_calls(client)
        await refused.until(lambda: refused.held == CALLERS)
        refused.release(1)
        await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
        clock.advance(timedelta(seconds=4.5))  # the new token is in its margin, not expired
        refused.release(CALLERS - 1)
        responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    assert emu.token_requests == 2
    assert len({bearer(r) for r in emu.api_requests[1:]} - {stale}) == 1


async def test_a_401_with_a_token_already_replaced_on_the_clock_takes_the_newer_one(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth, clock: ManualClock
) -> None:
    """A 401 with a token another call already replaced retries with the newer one, no fetch."""
    emu.token_ttl_seconds = 30
    stale = await warm_up(emu, auth)
    emu.expire_tokens()
    refused = HeldRequests(to_emulator(emu), hold=carries(stale))
    async with api_client(refused, auth) as client:
        late = asyncio.create_task(client.get(CONFIGS))
        await refused.until(lambda: refused.held == 1)
        clock.advance(timedelta(seconds=25))  # stale on our clock: the next call refreshes
        assert (await client.get(CONFIGS)).status_code == 200
        refused.release(1)
        assert (await late).status_code == 200
    assert emu.token_requests == 2
    # The held call reaches the emulator (which records on arrival) after the fresh one.
    fresh, refused_call, retried = (bearer(r) for r in emu.api_requests[1:])
    assert (refused_call, retried) == (stale, fresh)
    assert fresh != stale
