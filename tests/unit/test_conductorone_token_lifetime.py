"""How long a ConductorOne token is kept: `expires_in`, and the refresh margin it gives.

A token is reused until the last fifth of its lifetime (at most its last 30 s) and replaced
before it expires, whatever that lifetime is. Runs against the emulator's token endpoint
with one manual clock for both sides (`tests.support.conductorone_token_rig`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from invitation_gateway.emulators import ManualClock
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.conductorone._credentials import TOKEN_PATH
from invitation_gateway.providers.conductorone._oauth import ClientCredentialsAuth, refresh_margin
from tests.support.conductorone_token_rig import (
    CONFIGS,
    START,
    FakeSleep,
    api_client,
    bearer,
    calls,
    emulator,
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
def auth(emu: ConductorOneEmulator, clock: ManualClock) -> ClientCredentialsAuth:
    return token_auth(emu, clock, FakeSleep())


@pytest.fixture
async def http(
    emu: ConductorOneEmulator, auth: ClientCredentialsAuth
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(to_emulator(emu), auth) as client:
        yield client


@pytest.mark.parametrize(
    ("lifetime", "margin"),
    [(0, 0), (5, 1), (30, 6), (149, 29.8), (150, 30), (600, 30), (3600, 30)],
)
def test_the_refresh_margin_is_a_fifth_of_the_lifetime_and_at_most_30_s(
    lifetime: float, margin: float
) -> None:
    """A token is replaced with a fifth of its life left, but never more than 30 s early."""
    assert refresh_margin(lifetime) == pytest.approx(margin)


@pytest.mark.parametrize(("lifetime", "reused_for"), [(5, 4), (30, 24), (3600, 3570)])
async def test_one_token_serves_calls_over_most_of_its_life_and_is_replaced_before_expiry(
    http: httpx.AsyncClient,
    emu: ConductorOneEmulator,
    clock: ManualClock,
    lifetime: int,
    reused_for: int,
) -> None:
    """One token serves calls over its first four fifths; then a new one comes before expiry."""
    emu.token_ttl_seconds = lifetime
    for i in range(20):
        clock.current = START + timedelta(seconds=reused_for * i / 20)
        assert (await http.get(CONFIGS)).status_code == 200
    assert emu.token_requests == 1
    clock.current = START + timedelta(seconds=reused_for)
    [first] = {bearer(r) for r in emu.api_requests}
    assert emu.oauth.accepts(first)  # the old token has not expired yet...
    assert (await http.get(CONFIGS)).status_code == 200
    assert calls(emu) == ["token", *["api"] * 20, "token", "api"]  # ...and was never refused
    assert bearer(emu.api_requests[-1]) != first


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
