"""Request-level errors of the GraphQL endpoint as GraphQL-shaped JSON, never bare text.

Strawberry answers a request it cannot even parse (a body that is not JSON, no query, an
unsupported content type) with a plain-text 4xx, and FastAPI a wrong method with
`{"detail": …}`. Clients expect one error shape, so this pure ASGI wrapper rewrites any 4xx on
the GraphQL path that is not already `{"errors": [...]}` into
`{"errors": [{"message": …, "extensions": {"code": "BAD_REQUEST"}}]}`, keeping the status and
answering in the media type the client accepts (graphql_http.py). An
`application/graphql-response+json` answer is a GraphQL response already and passes unread.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..telemetry.request import note_refusal
from .media_types import GRAPHQL_RESPONSE_JSON, error_content_type

_MAX_MESSAGE = 500
_GRAPHQL_RESPONSE = GRAPHQL_RESPONSE_JSON.encode()


class GraphQLRequestErrors:
    def __init__(self, app: ASGIApp, *, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if 400 <= message["status"] < 500 and not _is_graphql_response(message):
                    start = message  # hold it until the body shows whether it needs rewriting
                    return
                await send(message)
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            accept = Headers(scope=scope).get("accept")
            body, headers = _graphql_shaped(
                b"".join(chunks), start.get("headers", []), error_content_type(accept)
            )
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


def _is_graphql_response(start: Message) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(_GRAPHQL_RESPONSE)
        for name, value in start.get("headers", ())
    )


def _graphql_shaped(
    body: bytes, headers: list[tuple[bytes, bytes]], content_type: bytes
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The body as `{"errors": [...]}`: kept when it already is, rewritten otherwise."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "errors" in parsed:
        return body, headers
    note_refusal("BAD_REQUEST")
    if isinstance(parsed, dict) and isinstance(parsed.get("detail"), str):
        message = parsed["detail"]  # FastAPI's own errors (e.g. 405 for another method)
    else:
        message = body.decode("utf-8", "replace")
    rewritten = json.dumps(
        {"errors": [{"message": message[:_MAX_MESSAGE], "extensions": {"code": "BAD_REQUEST"}}]}
    ).encode()
    kept = [(n, v) for n, v in headers if n.lower() not in {b"content-type", b"content-length"}]
    kept += [
        (b"content-type", content_type),
        (b"content-length", str(len(rewritten)).encode()),
    ]
    return rewritten, kept
