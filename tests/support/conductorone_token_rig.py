"""What the ConductorOne token tests share: the emulator, the auth on one manual clock, a client.

`ClientCredentialsAuth` runs on a plain `httpx.AsyncClient` whose transport is the ConductorOne
emulator's ASGI app (a fake that keeps state, token endpoint included); the auth and the
emulator read the same `ManualClock`. `HeldRequests` puts concurrent requests in a chosen order
without timing: it holds the requests it matches until the test releases them.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from invitation_gateway.emulators import ManualClock, RecordedRequest
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.conductorone._credentials import TOKEN_PATH, parse_client_secret
from invitation_gateway.providers.conductorone._oauth import ClientCredentialsAuth

HOST = "conductorone.test"
BASE_URL = f"http://{HOST}"
CONFIGS = "/api/v1/local-directory-configs"
START = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
"""Where the manual clock starts: a whole second, so lifetimes add up exactly in floats."""
UNTIL_GIVE_UP = 10.0


class FakeSleep:
    """Records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def emulator(clock: ManualClock) -> ConductorOneEmulator:
    """A ConductorOne emulator on `clock`, with one directory."""
    emu = ConductorOneEmulator(clock=clock, host=HOST)
    emu.add_directory("2fQzV1rJ5vJ8KkLqW3yYd0uXbNc", "Acme Employees", is_default=True)
    return emu


def token_auth(
    emu: ConductorOneEmulator, clock: ManualClock, sleep: FakeSleep
) -> ClientCredentialsAuth:
    """The auth for a client the emulator just minted, reading `clock` and sleeping with `sleep`."""
    client_id, secret = emu.create_client("unit")
    return ClientCredentialsAuth(
        client_id=client_id,
        key=parse_client_secret(secret),
        token_url=BASE_URL + TOKEN_PATH,
        audience=HOST,
        clock=lambda: clock.current.timestamp(),
        sleep=sleep,
    )


def to_emulator(emu: ConductorOneEmulator) -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app=emu.app)


@asynccontextmanager
async def api_client(
    transport: httpx.AsyncBaseTransport, auth: ClientCredentialsAuth
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=transport,
        base_url=BASE_URL,
        auth=auth,
        headers={"User-Agent": "unit-test/1"},
    ) as client:
        yield client


class HeldRequests(httpx.AsyncBaseTransport):
    """Holds each request `hold` matches until `release` lets it go; counts held and answered."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, hold: Callable[[httpx.Request], bool]
    ) -> None:
        self._inner = inner
        self._hold = hold
        self._released = asyncio.Semaphore(0)
        self._changed = asyncio.Condition()
        self.held = 0
        self.answered = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self._hold(request):
            return await self._inner.handle_async_request(request)
        await self._count("held")
        await self._released.acquire()
        response = await self._inner.handle_async_request(request)
        await self._count("answered")
        return response

    def release(self, count: int) -> None:
        for _ in range(count):
            self._released.release()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds: woken by the counts, never by a timer.

        The timeout only turns a flow that never gets there (a regression) into a failure
        instead of a hang; a passing test never comes near it.
        """
        async with asyncio.timeout(UNTIL_GIVE_UP), self._changed:
            await self._changed.wait_for(condition)

    async def _count(self, counter: str) -> None:
        async with self._changed:
            setattr(self, counter, getattr(self, counter) + 1)
            self._changed.notify_all()


def calls(emu: ConductorOneEmulator) -> list[str]:
    return ["token" if r.path == TOKEN_PATH else "api" for r in emu.requests]


def bearer(request: RecordedRequest) -> str:
    value = request.headers["authorization"]
    assert value.startswith("Bearer ")
    return value.removeprefix("Bearer ")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def segment(token: str, index: int) -> Any:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
