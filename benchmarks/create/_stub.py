"""The upstream stub: ConductorOne and Clerk invitation happy paths, as fast as Python goes.

A raw asyncio HTTP/1.1 server (keep-alive, Content-Length bodies, no framework) so that it is
never the bottleneck of the benchmark. It keeps no invitations: every create answers a new
invitation with a fresh id, `created_at` now and the email it was sent (so the gateway never
mistakes it for a re-used one, `providers/reuse.py`), and every revoke answers the invitation it
names as revoked. The shapes are the ones the adapters parse (`providers/*/_wire.py`):

| request | answer |
| --- | --- |
| `POST /api/v1/local-directory-configs/{dir}/invitations[/{id}/revoke]` | `{"invitation": {…}}` |
| `POST /v1/invitations[/{id}/revoke]`, `POST /v1/organizations/{org}/invitations[/{id}/revoke]` | a Clerk invitation |
| `GET /api/v1/…`, `GET /v1/…` (the readiness probes) | an empty page |
| `GET /.well-known/jwks.json` | the `--jwks` file, for the enforced-auth gateway |
| `GET /__stub__/calls` | `{"creates": n, "revokes": n, "reads": n}`: what reached the stub |

    python -m benchmarks.create._stub --port 8101 [--jwks FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

_WEEK = timedelta(days=7)


class Stub:
    """Answers one request at a time from its method, path and body; counts what it saw."""

    def __init__(self, jwks: bytes = b'{"keys": []}') -> None:
        self.jwks = jwks
        self.calls = {"creates": 0, "revokes": 0, "reads": 0}
        self._serial = 0

    def answer(self, method: bytes, target: bytes, body: bytes) -> tuple[bytes, bytes]:
        """The status line's tail and the JSON body for one request."""
        path = target.split(b"?", 1)[0]
        parts = path.decode("latin-1").split("/")
        if method == b"POST":
            return self._post(parts, body)
        if path == b"/__stub__/calls":
            return b"200 OK", orjson.dumps(self.calls)
        if path == b"/.well-known/jwks.json":
            return b"200 OK", self.jwks
        self.calls["reads"] += 1
        if parts[1:3] == ["api", "v1"]:
            return b"200 OK", b'{"list": []}'
        if parts[1:] == ["v1", "invitations"]:
            return b"200 OK", b"[]"  # Clerk's probe reads without `paginated`: a bare array
        return b"200 OK", b'{"data": [], "total_count": 0}'

    def _post(self, parts: list[str], body: bytes) -> tuple[bytes, bytes]:
        self._serial += 1
        serial = self._serial
        if parts[1:4] == ["api", "v1", "local-directory-configs"] and len(parts) >= 6:
            directory = parts[4]
            if len(parts) == 6:
                self.calls["creates"] += 1
                sent = orjson.loads(body)
                return b"200 OK", _c1(f"2bench{serial:021d}", directory, sent, "PENDING")
            self.calls["revokes"] += 1
            return b"200 OK", _c1(parts[6], directory, {}, "REVOKED")
        if parts[1] == "v1" and parts[-1] == "revoke":
            self.calls["revokes"] += 1
            organization = parts[3] if parts[2] == "organizations" else None
            return b"200 OK", _clerk(parts[-2], organization, {}, "revoked")
        if parts[1] == "v1" and parts[-1] == "invitations":
            self.calls["creates"] += 1
            organization = parts[3] if parts[2] == "organizations" else None
            prefix = "orginv_bench" if organization else "inv_bench"
            return b"200 OK", _clerk(
                f"{prefix}{serial}", organization, orjson.loads(body), "pending"
            )
        return b"404 Not Found", b'{"errors": [{"code": "resource_not_found"}]}'


def _c1(identifier: str, directory: str, sent: dict[str, object], status: str) -> bytes:
    now = datetime.now(UTC)
    return orjson.dumps(
        {
            "invitation": {
                "id": identifier,
                "directoryAppId": directory,
                "email": sent.get("email", "someone@example.com"),
                "displayName": sent.get("displayName", "Someone"),
                "status": f"LOCAL_INVITATION_STATUS_{status}",
                "initialRoleIds": sent.get("initialRoleIds", []),
                "createdAt": now.isoformat().replace("+00:00", "Z"),
                "updatedAt": now.isoformat().replace("+00:00", "Z"),
                "expiresAt": (now + _WEEK).isoformat().replace("+00:00", "Z"),
            }
        }
    )


def _clerk(
    identifier: str, organization: str | None, sent: dict[str, object], status: str
) -> bytes:
    now = int(time.time() * 1000)
    answer: dict[str, object] = {
        "object": "organization_invitation" if organization else "invitation",
        "id": identifier,
        "email_address": sent.get("email_address", "someone@example.com"),
        "status": status,
        "public_metadata": {},
        "created_at": now,
        "updated_at": now,
        "expires_at": now + int(_WEEK.total_seconds() * 1000),
    }
    if organization:
        answer |= {"organization_id": organization, "role": sent.get("role", "org:member")}
    else:
        answer |= {"url": f"https://accounts.example.test/invite/{identifier}", "revoked": False}
    return orjson.dumps(answer)


class _Connection(asyncio.Protocol):
    """One keep-alive client connection: parse requests as they arrive, answer in order."""

    def __init__(self, stub: Stub) -> None:
        self._stub = stub
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):  # a TCP server's always is
            raise TypeError(f"not a stream transport: {transport!r}")
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (head_end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self._buffer[:head_end])
            lower = head.lower()
            length = _content_length(lower)
            if len(self._buffer) < head_end + 4 + length:
                return  # the rest of the body is still on its way
            body = bytes(self._buffer[head_end + 4 : head_end + 4 + length])
            del self._buffer[: head_end + 4 + length]
            method, target = head.split(b" ", 2)[:2]
            status, payload = self._stub.answer(method, target, body)
            if self._transport is None:
                return
            self._transport.write(
                b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"request-id: stub\r\n\r\n%s" % (status, len(payload), payload)
            )
            if b"\r\nconnection: close" in lower:
                self._transport.close()
                return


def _content_length(lower_head: bytes) -> int:
    start = lower_head.find(b"\r\ncontent-length:")
    if start < 0:
        return 0
    end = lower_head.find(b"\r\n", start + 2)
    return int(lower_head[start + 17 : end if end >= 0 else None])


async def serve(host: str, port: int, stub: Stub) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(stub), host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwks", type=Path, help="a JWKS file to serve at /.well-known/jwks.json")
    args = parser.parse_args()
    stub = Stub(args.jwks.read_bytes()) if args.jwks else Stub()
    asyncio.run(serve(args.host, args.port, stub))


if __name__ == "__main__":
    main()
