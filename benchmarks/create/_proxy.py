"""The thin proxy: what a hand-written Python service doing the same upstream calls costs.

Starlette + one pooled aiohttp session + orjson, no GraphQL engine, served by the same uvicorn
the gateway's `serve` uses, so the gateway's ratio to it is the price of everything the gateway
adds (GraphQL, validation, auth, policy, audit, limits, retries, logging), not of the server.

`POST /create` takes the GraphQL variables of createInvitation (`{"input": {"target": …,
"email": …, "roles": …}}`) and makes the same upstream create the gateway's adapter makes
(ConductorOne directory or Clerk organization); `POST /revoke` takes `{"input": {"id": …}}`, a
gateway global id, and makes the Clerk organization revoke; `GET /healthz` says it is up. Answers are
`{"invitation": {"id", "email", "status"}}`, or 400 `{"error": …}` for an input without an `@`.

    python -m benchmarks.create._proxy --port 8102 --upstream http://127.0.0.1:8101
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

C1_TOKEN = "bench-c1-token"  # noqa: S105 - the stub accepts anything
CLERK_KEY = "sk_test_bench"


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def create_proxy(upstream: str) -> Starlette:
    """The proxy app, its aiohttp session opened and closed by the lifespan."""
    session: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal session
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(upstream, connector=connector) as opened:
            session = opened
            yield

    async def call(path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        if session is None:  # pragma: no cover - only before the lifespan ran
            raise RuntimeError("the proxy is not started")
        async with session.post(
            path,
            data=orjson.dumps(body),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        ) as answer:
            answer.raise_for_status()
            parsed: dict[str, Any] = orjson.loads(await answer.read())
            return parsed

    async def create(request: Request) -> Response:
        new = orjson.loads(await request.body())["input"]
        email = str(new.get("email", ""))
        if "@" not in email:
            return _json({"error": "email is not a valid email address"}, 400)
        target = new["target"]
        if target["kind"] == "CONDUCTORONE_DIRECTORY":
            path = f"/api/v1/local-directory-configs/{target['id']}/invitations"
            body = {"email": email, "displayName": new.get("displayName") or email}
            item = (await call(path, body, C1_TOKEN))["invitation"]
            invitation = {"id": item["id"], "email": item["email"], "status": item["status"]}
        else:
            path = f"/v1/organizations/{target['id']}/invitations"
            body = {"email_address": email, "role": (new.get("roles") or ["org:member"])[0]}
            item = await call(path, body, CLERK_KEY)
            invitation = {
                "id": item["id"],
                "email": item["email_address"],
                "status": item["status"],
            }
        return _json({"invitation": invitation})

    async def revoke(request: Request) -> Response:
        global_id = orjson.loads(await request.body())["input"]["id"]
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4))
        _, _, _, organization, invitation_id = orjson.loads(raw)
        path = f"/v1/organizations/{organization}/invitations/{invitation_id}/revoke"
        item = await call(path, {}, CLERK_KEY)
        return _json({"invitation": {"id": item["id"], "status": item["status"]}})

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    routes = [
        Route("/create", create, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the stub's base URL")
    args = parser.parse_args()
    import uvicorn

    # The gateway's `serve` runs uvicorn with its access log at INFO; so does the proxy.
    uvicorn.run(create_proxy(args.upstream), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
