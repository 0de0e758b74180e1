"""Caller authentication in front of `/graphql`: one ASGI middleware, no resolver involved.

Every GraphQL request gets a verified `Caller` on `request.state.caller` (the context hands it
to resolvers), or an HTTP 401 with one GraphQL error, `extensions.code = UNAUTHENTICATED`, a
short reason, and no upstream call. In `disabled` mode every request is the development
caller. What is not GraphQL (`/healthz`, `/readyz`, static assets) passes untouched, as do
CORS preflights and the GraphiQL page itself (it executes nothing; its requests are
authenticated like any other).
"""

from __future__ import annotations

import json
from typing import Protocol

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from ..callers.errors import Unauthenticated
from ..callers.identity import DEV_CALLER, Caller


class CallerSource(Protocol):
    async def authenticate(self, authorization: str | None, x_api_key: str | None) -> Caller: ...


class Authentication:
    """Puts the caller on `scope["state"]["caller"]` for `path`, or answers 401."""

    def __init__(self, app: ASGIApp, *, path: str, enforced: bool) -> None:
        self.app = app
        self.path = path
        self.enforced = enforced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if not self.enforced:
            state["caller"] = DEV_CALLER
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" or _is_ide_page(scope, headers):
            await self.app(scope, receive, send)
            return
        # Built in the lifespan (it holds the JWKS client and its lock).
        source: CallerSource = scope["app"].state.authenticator
        try:
            state["caller"] = await source.authenticate(
                headers.get("authorization"), headers.get("x-api-key")
            )
        except Unauthenticated as exc:
            await _refuse(exc.reason, send)
            return
        await self.app(scope, receive, send)


def _is_ide_page(scope: Scope, headers: Headers) -> bool:
    """A browser opening GraphiQL: a GET for HTML that carries no operation to execute."""
    query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
    return (
        scope["method"] == "GET"
        and "text/html" in headers.get("accept", "")
        and "query" not in query
    )


async def _refuse(reason: str, send: Send) -> None:
    error = {
        "message": f"not authenticated: {reason}",
        "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
    }
    body = json.dumps({"errors": [error]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="invitation-gateway"'),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
