"""An httpx transport that routes requests by host to other transports.

The sandbox and the tests point each connection at a made-up host (`conductorone.sandbox`,
`clerk.sandbox`) and route those hosts to the in-process emulators, so the gateway makes real
HTTP requests through the same client code it uses in production.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx


class HostRoutingTransport(httpx.AsyncBaseTransport):
    def __init__(self, routes: Mapping[str, httpx.AsyncBaseTransport]) -> None:
        self._routes = dict(routes)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._routes.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no route to host {request.url.host}", request=request)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._routes.values():
            await transport.aclose()
