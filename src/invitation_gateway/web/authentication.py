"""Caller authentication and the request budget in front of `/graphql`: one ASGI middleware.

Every GraphQL request gets a verified `Caller` on `request.state.caller` (the context hands it
to resolvers), or an HTTP 401 with one GraphQL error, `extensions.code = UNAUTHENTICATED`, a
short reason, and no upstream call. In `disabled` mode every request is the development
caller. What is not GraphQL (`/healthz`, `/readyz`, static assets) passes untouched, as do
CORS preflights and the GraphiQL page itself (it executes nothing; its requests are
authenticated like any other). Each caller's requests are then charged to its budget
(GATEWAY_RATE_LIMIT__REQUESTS_PER_MINUTE): over it, HTTP 429 with `RATE_LIMITED` and
`retryAfter`, before any GraphQL work.
"""

from __future__ import annotations

import json
import math
from typing import Protocol

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from ..callers.errors import Unauthenticated
from ..callers.identity import DEV_CALLER, NOBODY, Caller
from ..telemetry.request import note_refusal
from .media_types import error_content_type


class _Decision(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def retry_after(self) -> float: ...


class RequestBudget(Protocol):
    async def take(self, caller: str, budget: str, cost: int, per_minute: int) -> _Decision: ...


class CallerSource(Protocol):
    async def authenticate(self, authorization: str | None, x_api_key: str | None) -> Caller: ...


class Authentication:
    """Puts the caller on `scope["state"]["caller"]` for `path`, or answers 401."""

    def __init__(
        self, app: ASGIApp, *, path: str, enforced: bool, requests_per_minute: int
    ) -> None:
        self.app = app
        self.path = path
        self.enforced = enforced
        self.requests_per_minute = requests_per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" or _is_ide_page(scope, headers):
            state["caller"] = NOBODY  # nothing runs: no credentials needed, no rights given
            await self.app(scope, receive, send)
            return
        if not self.enforced:
            caller = DEV_CALLER
        else:
            # Built in the lifespan (it holds the JWKS client and its lock).
            source: CallerSource = scope["app"].state.authenticator
            try:
                caller = await source.authenticate(
                    headers.get("authorization"), headers.get("x-api-key")
                )
            except Unauthenticated as exc:
                note_refusal("UNAUTHENTICATED")
                await _refuse(401, _unauthenticated(exc.reason), send, headers)
                return
        state["caller"] = caller
        limiter: RequestBudget | None = getattr(scope["app"].state, "limiter", None)
        if limiter is not None:
            try:
                decision = await limiter.take(caller.id, "requests", 1, self.requests_per_minute)
            except Exception as exc:
                # Reads keep working; mutations refuse to run unlimited (the resolvers check).
                state["limits_unavailable"] = getattr(exc, "backend", "rate limiter")
            else:
                if not decision.allowed:
                    retry_after = decision.retry_after
                    error = _rate_limited(retry_after)
                    note_refusal("RATE_LIMITED", budget="requests")
                    await _refuse(429, error, send, headers, retry_after=retry_after)
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


def _unauthenticated(reason: str) -> dict[str, object]:
    return {
        "message": f"not authenticated: {reason}",
        "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
    }


def _rate_limited(retry_after: float) -> dict[str, object]:
    return {
        "message": "over your request budget; retry later",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": round(retry_after, 3)},
    }


async def _refuse(
    status: int,
    error: dict[str, object],
    send: Send,
    request_headers: Headers,
    *,
    retry_after: float | None = None,
) -> None:
    body = json.dumps({"errors": [error]}).encode()
    headers = [
        # the media type the client accepts (graphql_http.py), like every GraphQL answer
        (b"content-type", error_content_type(request_headers.get("accept"))),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="invitation-gateway"'))
    if retry_after is not None:
        headers.append((b"retry-after", str(math.ceil(retry_after)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
