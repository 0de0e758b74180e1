"""A transport in front of the sandbox's upstreams that notes each exchange and can hold one.

    tap = UpstreamTap(sandbox.transport())
    app = create_app(settings, transport=tap)
    gate = tap.hold("POST", "/revoke")      # the next such request waits until released
    await gate.reached.wait(); ...; gate.release.set()
    tap.exchanges                            # method, path, JSON body, request id of each answer

Clerk's API answers through Cloudflare, which puts a `cf-ray` header on every answer (the id
the gateway records for Clerk, clerk-notes.md); the Clerk emulator sends none, so the tap
stamps a fresh one on each Clerk answer, as Cloudflare would. ConductorOne's emulator sends
its own `request-id`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from invitation_gateway.sandbox import CLERK_HOST

_REQUEST_ID_HEADERS = ("cf-ray", "request-id")


@dataclass(frozen=True)
class Exchange:
    """One request the gateway sent upstream and the request id its answer carried."""

    method: str
    path: str
    body: Any
    request_id: str | None

    def carries(self, email: str) -> bool:
        """Whether the request body holds `email` (one create, or an item of a bulk one)."""
        items = self.body if isinstance(self.body, list) else [self.body]
        return any(
            isinstance(item, dict) and email in (item.get("email_address"), item.get("email"))
            for item in items
        )


@dataclass
class Gate:
    """Holds the next matching request: `reached` is set when it arrives, `release` lets it go."""

    method: str
    path_contains: str
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


class UpstreamTap(httpx.AsyncBaseTransport):
    """Wraps a transport: notes every exchange, stamps Clerk's `cf-ray`, holds gated requests."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._rays = itertools.count(1)
        self._gates: list[Gate] = []
        self.exchanges: list[Exchange] = []

    def hold(self, method: str, path_contains: str) -> Gate:
        """Hold the next request matching `method` and `path_contains` until released."""
        gate = Gate(method, path_contains)
        self._gates.append(gate)
        return gate

    def creates_carrying(self, email: str) -> list[Exchange]:
        """The create requests (single or bulk) whose body held `email`, in the order sent."""
        return [
            exchange
            for exchange in self.exchanges
            if exchange.method == "POST"
            and exchange.path.endswith(("/invitations", "/invitations/bulk"))
            and exchange.carries(email)
        ]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        gate = next(
            (
                g
                for g in self._gates
                if g.method == request.method and g.path_contains in request.url.path
            ),
            None,
        )
        if gate is not None:
            self._gates.remove(gate)
            gate.reached.set()
            await gate.release.wait()
        body = await request.aread()
        response = await self._inner.handle_async_request(request)
        if request.url.host == CLERK_HOST and "cf-ray" not in response.headers:
            response.headers["cf-ray"] = f"8f{next(self._rays):014x}-FRA"
        request_id = next(
            (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
        )
        self.exchanges.append(Exchange(request.method, request.url.path, _json(body), request_id))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _json(body: bytes) -> Any:
    """A JSON request body, parsed; None for any other (ConductorOne's token form, no body)."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
