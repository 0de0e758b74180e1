"""AiohttpTransport: httpx's API over aiohttp, with httpx's wire bytes, answers and error tree.

Real sockets throughout: a raw asyncio server written here (it records the bytes it receives
and misbehaves on purpose), loopback ports where nothing listens or nothing is accepted, and
the emulators behind uvicorn. Most tests run through both transports, httpx's own and
aiohttp's, and expect the same outcome. The error tests also check `never_reached()`, which
decides whether a create may be sent again: only a request that never left may be.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey
from pydantic import SecretStr

from invitation_gateway.app import create_app
from invitation_gateway.domain.errors import ProviderUnavailable
from invitation_gateway.domain.invitations import Provider
from invitation_gateway.emulators.serve import CLERK_SECRET_KEY, create_emulator_server
from invitation_gateway.providers.auth import BearerAuth
from invitation_gateway.providers.http import MAX_BODY_BYTES, UpstreamClient
from invitation_gateway.providers.paths import path
from invitation_gateway.providers.reliability import Reliability, RetryPolicy, never_reached
from invitation_gateway.providers.transport import DEFAULT_LIMITS, AiohttpTransport
from invitation_gateway.providers.transport_errors import translate
from invitation_gateway.settings import (
    AuditSettings,
    AuthSettings,
    ClerkSettings,
    ConductorOneSettings,
    IdempotencySettings,
    Settings,
)
from tests.support.gateway import app_client
from tests.support.servers import blackhole, refusing, serve

TRANSPORTS = ["httpx", "aiohttp"]
QUICK = httpx.Timeout(connect=0.3, read=0.3, write=0.3, pool=0.3)
JSON_BODY = b'{"id":"inv_1","status":"pending"}'


def transport(kind: str, limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.AsyncBaseTransport:
    """httpx's own transport or aiohttp's, with the same pool (a client's `limits=` is ignored
    once it is given a transport)."""
    if kind == "httpx":
        return httpx.AsyncHTTPTransport(limits=limits)
    return AiohttpTransport(limits=limits)


# --- a raw HTTP/1.1 server that records and misbehaves ------------------------------------------

Behaviour = Callable[["RawServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A loopback server on asyncio streams: each connection runs `behaviour`.

    `requests` holds every request's raw bytes (head and body) as received.
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.connections = 0
        self.received = asyncio.Event()  # a first request arrived
        self.closed = asyncio.Event()  # a first connection's behaviour ended
        self.body_bytes_sent = 0
        self.finished_sending: bool | None = None  # streaming behaviours: wrote everything?
        self._tasks: set[asyncio.Task[Any]] = set()
        self.url = ""

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.behaviour(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the test is over
        finally:
            writer.close()
            self.closed.set()
            self._tasks.discard(task)

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """One request, recorded; None when the client closed the connection instead."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        self.received.set()
        return request


def answering(*answers: bytes, close: bool = False) -> Behaviour:
    """Answer each request with the next of `answers` (the last repeats), on any connection."""

    async def behaviour(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while await server.read_request(reader) is not None:
            writer.write(answers[min(len(server.requests), len(answers)) - 1])
            await writer.drain()
            if close:
                return

    return behaviour


def ok(body: bytes = JSON_BODY, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/json", *extra]
    head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def silent(server: RawServer, reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
    """Reads the request, never answers."""
    await server.read_request(reader)
    await asyncio.Event().wait()


async def hangs_up(
    server: RawServer, reader: asyncio.StreamReader, _: asyncio.StreamWriter
) -> None:
    """Reads the request, then closes the connection without a word."""
    await server.read_request(reader)


async def resets(
    server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Reads the request, then resets the connection (RST)."""
    await server.read_request(reader)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def garbles(
    server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Reads the request, answers something that is not HTTP."""
    await server.read_request(reader)
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    await writer.drain()


async def cuts_body_short(
    server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Promises 100 bytes of body, sends 10, closes."""
    await server.read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    await writer.drain()


async def stalls_body(
    server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Promises 100 bytes of body, sends 10, then nothing more."""
    await server.read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    await writer.drain()
    await asyncio.Event().wait()


async def never_reads(_: RawServer, __: asyncio.StreamReader, ___: asyncio.StreamWriter) -> None:
    """Accepts the connection and reads nothing: a large request body cannot be written."""
    await asyncio.Event().wait()


def answers_then_hangs_up(answer: bytes) -> Behaviour:
    """Answers the first request on a connection; reads the second and closes without answering."""

    async def behaviour(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await server.read_request(reader)
        writer.write(answer)
        await writer.drain()
        await server.read_request(reader)

    return behaviour


async def floods(
    server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answers with a 64 MiB chunked body, as fast as the client takes it."""
    await server.read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    server.finished_sending = False
    for _ in range(1024):
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
        server.body_bytes_sent += len(chunk)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    server.finished_sending = True


@asynccontextmanager
async def raw_server(behaviour: Behaviour) -> AsyncIterator[RawServer]:
    async with RawServer(behaviour) as server:
        yield server


@contextmanager
def loopback(endpoint: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    with endpoint() as url:
        yield url


class Counting(httpx.AsyncBaseTransport):
    """A transport that counts the requests handed to it (attempts, tried or not)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def upstream_client(kind: str, base_url: str, counting: Counting | None = None) -> UpstreamClient:
    return UpstreamClient(
        provider=Provider.CLERK,
        base_url=base_url,
        auth=BearerAuth(SecretStr("sk_test_transport")),
        request_id_header="x-request-id",
        transport=counting or transport(kind),
        reliability=Reliability(
            connect_timeout=0.3,
            read_timeout=0.3,
            write_timeout=0.3,
            pool_timeout=0.3,
            total_timeout=3.0,
            wait_initial=0.01,
            wait_max=0.02,
            wait_jitter=0.0,
        ),
    )


# --- what is sent ---------------------------------------------------------------------------------


async def gateway_calls(client: UpstreamClient) -> None:
    """The shapes of request the adapters send: JSON creates, escaped ids, queries, no body."""
    await client.send(
        "POST",
        path("/v1/organizations/{org}/invitations", org="org/with slash?"),
        operation="create",
        retry=RetryPolicy.CREATE,
        json_body={"email_address": "zoë+1@example.com", "role": "org:member", "n": [1, 2.5]},
    )
    await client.send(
        "GET",
        path("/v1/organizations/{org}/invitations", org="org_1"),
        operation="list",
        retry=RetryPolicy.SAFE,
        params={"status": "pending", "limit": 10, "q": ["a b", "ü&=?"]},
    )
    await client.send(
        "POST",
        path("/v1/organizations/org_1/invitations/{id}/revoke", id="inv 1"),
        operation="revoke",
        retry=RetryPolicy.SAFE,
    )


async def test_requests_are_byte_for_byte_those_of_httpx() -> None:
    """Method, escaped path, query, headers (in order and case) and body are exactly httpx's own."""
    answer = ok(JSON_BODY, b"Set-Cookie: session=abc; Path=/")
    seen: dict[str, list[bytes]] = {}
    async with raw_server(answering(answer)) as server:
        for kind in TRANSPORTS:
            server.requests.clear()
            client = upstream_client(kind, server.url)
            try:
                await gateway_calls(client)
            finally:
                await client.aclose()
            seen[kind] = list(server.requests)
    assert seen["aiohttp"] == seen["httpx"]
    first = seen["aiohttp"][0]
    assert first.startswith(
        b"POST /v1/organizations/org%2Fwith%20slash%3F/invitations HTTP/1.1\r\n"
    )
    assert b"\r\nAuthorization: Bearer sk_test_transport\r\n" in first
    assert b"\r\nUser-Agent: invitation-gateway/" in first
    assert b"\r\nContent-Type: application/json\r\n" in first
    assert b"\r\nCookie: session=abc\r\n" in seen["aiohttp"][1]  # httpx's jar, not aiohttp's


async def test_a_bodyless_delete_is_the_one_difference() -> None:
    """aiohttp frames a body-less DELETE with `Content-Length: 0`; httpx sends none. Nothing else."""
    seen: dict[str, bytes] = {}
    async with raw_server(answering(ok())) as server:
        for kind in TRANSPORTS:
            async with httpx.AsyncClient(transport=transport(kind)) as client:
                await client.delete(server.url + "/v1/invitations/inv_1")
            seen[kind] = server.requests[-1]
    assert seen["aiohttp"] == seen["httpx"].replace(b"\r\n\r\n", b"\r\nContent-Length: 0\r\n\r\n")


async def test_a_streamed_request_body_is_sent_whole() -> None:
    """A streamed body (no length known) is read and sent with a Content-Length."""

    async def parts() -> AsyncIterator[bytes]:
        yield b'{"a":'
        yield b"1}"

    async with (
        raw_server(answering(ok())) as server,
        httpx.AsyncClient(transport=AiohttpTransport()) as client,
    ):
        response = await client.post(server.url + "/stream", content=parts())
    assert response.status_code == 200
    [request] = server.requests
    assert request.endswith(b'\r\n\r\n{"a":1}')
    assert b"Content-Length: 7\r\n" in request
    assert b"Transfer-Encoding" not in request


# --- what is answered -------------------------------------------------------------------------


def chunked(body: bytes) -> bytes:
    middle = len(body) // 2
    parts = [body[:middle], body[middle:]]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


ANSWERS = {
    "plain JSON": ok(JSON_BODY, b"X-Request-Id: req_1"),
    "gzip": ok(gzip.compress(JSON_BODY), b"Content-Encoding: gzip", b"X-Request-Id: req_2"),
    "deflate": ok(zlib.compress(JSON_BODY), b"Content-Encoding: deflate"),
    "chunked": b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n" + chunked(JSON_BODY),
    "HTTP/1.0 until close": b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
    + JSON_BODY,
    "empty 204": b"HTTP/1.1 204 No Content\r\n\r\n",
    "explained 404": b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
    b'Content-Length: 26\r\n\r\n{"errors":[{"code":"nf"}]}',
    "409 with repeated headers": b"HTTP/1.1 409 Conflict\r\nVary: a\r\nVary: b\r\n"
    b"Content-Length: 2\r\n\r\n{}",
    "redirect": b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
    "503": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
    "bad gzip": ok(b"not gzip at all", b"Content-Encoding: gzip"),
}


async def outcome(kind: str, answer: bytes) -> object:
    """What UpstreamClient makes of `answer`: the UpstreamResponse, or the error's description."""
    close = answer.startswith(b"HTTP/1.0")
    async with raw_server(answering(answer, close=close)) as server:
        client = upstream_client(kind, server.url)
        try:
            return await client.send(
                "GET", path("/v1/thing"), operation="get", retry=RetryPolicy.NEVER
            )
        except ProviderUnavailable as error:
            return (type(error).__name__, error.message, error.may_have_acted)
        except httpx.DecodingError as error:  # escapes UpstreamClient, whichever the transport
            return (type(error).__name__, str(error))
        finally:
            await client.aclose()


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
async def test_upstream_client_sees_the_same_answer_through_both(answer: bytes) -> None:
    """The same answer gives UpstreamClient an identical UpstreamResponse (or error) either way."""
    through_httpx = await outcome("httpx", answer)
    through_aiohttp = await outcome("aiohttp", answer)
    assert through_aiohttp == through_httpx


async def test_compressed_answers_are_decoded() -> None:
    """A gzip answer reaches the adapter decoded; the headers stay as the upstream sent them."""
    answer = await outcome("aiohttp", ANSWERS["gzip"])
    assert getattr(answer, "body", None) == JSON_BODY
    assert getattr(answer, "request_id", None) == "req_2"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_redirects_are_not_followed(kind: str) -> None:
    """A 3xx comes back as it is: the transport never follows it."""
    async with (
        raw_server(answering(ANSWERS["redirect"])) as server,
        httpx.AsyncClient(transport=transport(kind)) as client,
    ):
        response = await client.get(server.url + "/v1/items/")
    assert response.status_code == 302
    assert len(server.requests) == 1


# --- how it fails -------------------------------------------------------------------------------


PRIVATE_PATH = "/v1/invitations/inv_someone?email_address=someone%40example.com"


@dataclass(frozen=True)
class Fault:
    name: str
    error: type[httpx.TransportError]
    reached: bool  # the upstream may have received the request
    behaviour: Behaviour | None = None
    endpoint: Callable[[], AbstractContextManager[str]] | None = None
    at_least: float = 0.0  # seconds the failure takes: a timeout is waited out...
    within: float = 1.5  # ...and no longer


FAULTS = [
    Fault("connection refused", httpx.ConnectError, False, endpoint=refusing),
    Fault("never accepted", httpx.ConnectTimeout, False, endpoint=blackhole, at_least=0.3),
    Fault("never answers", httpx.ReadTimeout, True, silent, at_least=0.3),
    Fault("hangs up after reading", httpx.RemoteProtocolError, True, hangs_up),
    Fault("resets after reading", httpx.ReadError, True, resets),
    Fault("answers garbage", httpx.RemoteProtocolError, True, garbles),
    Fault("cuts the body short", httpx.RemoteProtocolError, True, cuts_body_short),
    Fault("stalls in the body", httpx.ReadTimeout, True, stalls_body, at_least=0.3),
]


@asynccontextmanager
async def fault_url(fault: Fault) -> AsyncIterator[tuple[str, RawServer | None]]:
    if fault.endpoint is not None:
        with fault.endpoint() as url:
            yield url, None
    else:
        assert fault.behaviour is not None
        async with raw_server(fault.behaviour) as server:
            yield server.url, server


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
async def test_faults_raise_the_same_error_as_httpx(fault: Fault, kind: str) -> None:
    """Each fault is the same httpx error through both; only never-sent ones count as unreached."""
    async with (
        fault_url(fault) as (url, server),
        httpx.AsyncClient(transport=transport(kind), timeout=QUICK) as client,
    ):
        started = time.monotonic()
        with pytest.raises(httpx.TransportError) as raised:
            async with client.stream("POST", url + PRIVATE_PATH, json={"a": 1}) as r:
                await r.aread()
        elapsed = time.monotonic() - started
    assert type(raised.value) is fault.error
    assert never_reached(raised.value) is not fault.reached
    assert "someone" not in str(raised.value)  # no path or query in what gets logged
    assert fault.at_least <= elapsed < fault.within, f"{elapsed:.2f}s"
    if server is not None:
        assert len(server.requests) == 1  # received once: nothing resent it


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_dropped_get_is_not_resent(kind: str) -> None:
    """aiohttp's own resend of an idempotent request is off: every attempt is UpstreamClient's."""
    async with (
        raw_server(hangs_up) as server,
        httpx.AsyncClient(transport=transport(kind), timeout=QUICK) as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(server.url + "/v1/invitations")
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_pool_exhausted_is_a_pool_timeout(kind: str) -> None:
    """With every connection busy, a request waits `pool` seconds, then fails unsent."""
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(connect=0.3, read=5.0, write=0.3, pool=0.3)
    async with (
        raw_server(silent) as server,
        httpx.AsyncClient(transport=transport(kind, one), timeout=timeout) as client,
    ):
        busy = asyncio.create_task(client.get(server.url + "/slow"))
        await asyncio.wait_for(server.received.wait(), 3)
        started = time.monotonic()
        with pytest.raises(httpx.PoolTimeout) as raised:
            await client.get(server.url + "/waits")
        elapsed = time.monotonic() - started
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy
    assert never_reached(raised.value)
    assert 0.3 <= elapsed < 1.5
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_body_that_cannot_be_written_is_a_write_timeout(kind: str) -> None:
    """A peer that reads nothing stalls a large body: WriteTimeout after `write` seconds, reached."""
    body = b"x" * (32 << 20)  # more than the kernel's socket buffers hold
    async with (
        raw_server(never_reads) as server,
        httpx.AsyncClient(transport=transport(kind), timeout=QUICK) as client,
    ):
        started = time.monotonic()
        with pytest.raises(httpx.WriteTimeout) as raised:
            await client.post(server.url + "/upload", content=body)
        elapsed = time.monotonic() - started
    assert not never_reached(raised.value)
    assert 0.3 <= elapsed < 2.0


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_keep_alive_connection_closed_between_requests(kind: str) -> None:
    """A connection the server closed while idle is not reused: the next call opens another."""
    async with (
        raw_server(answering(ok(), close=True)) as server,
        httpx.AsyncClient(transport=transport(kind), timeout=QUICK) as client,
    ):
        first = await client.get(server.url + "/one")
        await asyncio.sleep(0.05)  # the server's FIN arrives
        second = await client.get(server.url + "/two")
    assert (first.status_code, second.status_code) == (200, 200)
    assert server.connections == 2


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_keep_alive_connection_dropped_under_a_request(kind: str, method: str) -> None:
    """A reused connection the server drops after reading the request: maybe sent, never resent."""
    async with (
        raw_server(answers_then_hangs_up(ok())) as server,
        httpx.AsyncClient(transport=transport(kind), timeout=QUICK) as client,
    ):
        await client.request(method, server.url + "/one", json={"n": 1})
        with pytest.raises(httpx.RemoteProtocolError) as raised:
            await client.request(method, server.url + "/two", json={"n": 2})
    assert not never_reached(raised.value)
    assert len(server.requests) == 2
    assert server.connections == 1


CLIENT_CONNECTOR_KEY = ConnectionKey("upstream.test", 443, True, True, None, None, None)
URL = "http://upstream.test" + PRIVATE_PATH
WRITE_FAILED = aiohttp.ClientOSError(32, f"Can not write request body for {URL}")


@pytest.mark.parametrize(
    ("aiohttp_error", "httpx_error"),
    [
        (aiohttp.ConnectionTimeoutError(f"Connection timeout to host {URL}"), httpx.ConnectTimeout),
        (
            aiohttp.ClientConnectorError(CLIENT_CONNECTOR_KEY, ConnectionRefusedError(111, "no")),
            httpx.ConnectError,
        ),
        (
            aiohttp.ClientConnectorDNSError(CLIENT_CONNECTOR_KEY, OSError(-2, "unknown name")),
            httpx.ConnectError,
        ),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError("?"), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("incomplete"), httpx.RemoteProtocolError),
        (aiohttp.ClientConnectionResetError("Cannot write to closing transport"), httpx.WriteError),
        (WRITE_FAILED, httpx.WriteError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.ReadError),
        (aiohttp.ClientConnectionError("Connection closed"), httpx.NetworkError),
        (aiohttp.NonHttpUrlClientError(URL), httpx.UnsupportedProtocol),
        (aiohttp.InvalidUrlClientError(URL), httpx.UnsupportedProtocol),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else type(value).__name__,
)
def test_every_aiohttp_error_maps_by_when_it_happened(
    aiohttp_error: aiohttp.ClientError | TimeoutError, httpx_error: type[httpx.TransportError]
) -> None:
    """The module's table: only connector failures are 'never reached'; the rest maybe sent."""
    mapped = translate(aiohttp_error)
    assert type(mapped) is httpx_error
    assert "someone" not in str(mapped)
    connector_failure = isinstance(
        aiohttp_error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
    )
    assert never_reached(mapped) is connector_failure


# --- through UpstreamClient ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_create_whose_connection_drops_is_not_sent_again(kind: str) -> None:
    """A create the upstream read before hanging up is sent once, and may have acted."""
    async with raw_server(hangs_up) as server:
        client = upstream_client(kind, server.url)
        try:
            with pytest.raises(ProviderUnavailable) as raised:
                await client.send(
                    "POST", path("/v1/x"), operation="create", retry=RetryPolicy.CREATE
                )
        finally:
            await client.aclose()
    assert len(server.requests) == 1
    assert raised.value.may_have_acted


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_refused_create_is_retried_and_did_not_act(kind: str) -> None:
    """A create that never reached the upstream is retried, and is known not to have acted."""
    counting = Counting(transport(kind))
    with refusing() as url:
        client = upstream_client(kind, url, counting)
        try:
            with pytest.raises(ProviderUnavailable) as raised:
                await client.send(
                    "POST", path("/v1/x"), operation="create", retry=RetryPolicy.CREATE
                )
        finally:
            await client.aclose()
    assert not raised.value.may_have_acted
    assert counting.sent == 3  # every attempt: none of them reached


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_the_body_cap_stops_reading(kind: str) -> None:
    """A 64 MiB answer is not read past the 1 MiB cap, and the next call gets a fresh connection."""
    async with raw_server(floods) as server:
        client = upstream_client(kind, server.url)
        try:
            with pytest.raises(ProviderUnavailable):
                await client.send("GET", path("/v1/big"), operation="get", retry=RetryPolicy.NEVER)
            # Until the flood's writer stops: finished, or refused by a closed connection.
            await asyncio.wait_for(server.closed.wait(), 3)
            with pytest.raises(ProviderUnavailable):
                await client.send("GET", path("/v1/big"), operation="get", retry=RetryPolicy.NEVER)
        finally:
            await client.aclose()
    assert server.finished_sending is False
    assert server.body_bytes_sent < 32 << 20
    assert server.connections == 2


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_declared_oversized_body_is_not_read(kind: str) -> None:
    """An answer declaring more than the cap is refused unread, and its connection not reused."""
    big = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1)
    async with raw_server(answering(big + b"{", ok())) as server:
        client = upstream_client(kind, server.url)
        try:
            with pytest.raises(ProviderUnavailable):
                await client.send("GET", path("/v1/big"), operation="get", retry=RetryPolicy.NEVER)
            answer = await client.send(
                "GET", path("/v1/ok"), operation="get", retry=RetryPolicy.NEVER
            )
        finally:
            await client.aclose()
    assert answer.body == JSON_BODY
    assert server.connections == 2


# --- the lifecycle, and the gateway on the emulators -------------------------------------------


def test_construction_opens_nothing() -> None:
    """Built outside any event loop (as at start-up): the session opens on the first request."""
    assert AiohttpTransport()._pool is None


async def test_close_then_use_again() -> None:
    """`aclose` closes the pool; a later request opens a new one (as a restarted lifespan would)."""
    transport = AiohttpTransport()
    await transport.aclose()  # never used: nothing to close
    async with raw_server(answering(ok())) as server:
        for _ in range(2):
            async with httpx.AsyncClient(transport=transport) as client:
                assert (await client.get(server.url)).status_code == 200
            assert transport._pool is None  # the client's close closed it
    assert server.connections == 2


CREATE = """mutation($input: CreateInvitationInput!) {
  createInvitation(input: $input) { invitation { id status } userErrors { code } } }"""


async def test_the_gateway_on_the_served_emulators() -> None:
    """Creates through the gateway on aiohttp reach both emulators, C1 via its OAuth flow too.

    One connection at most: the OAuth token exchange and the API call share the pool's single
    permit without deadlock, so every response is given back.
    """
    emulators = create_emulator_server()
    with serve(emulators.app) as url:
        settings = Settings(
            clerk=ClerkSettings(api_url=url + "/clerk/v1", secret_key=SecretStr(CLERK_SECRET_KEY)),
            conductorone=ConductorOneSettings(
                base_url=url + "/conductorone",
                client_id=emulators.c1_client_id,
                client_secret=SecretStr(emulators.c1_client_secret),
            ),
            idempotency=IdempotencySettings(sqlite_path=None),
            auth=AuthSettings(mode="disabled"),
            audit=AuditSettings(sqlite_path=None),
        )
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        app = create_app(settings, transport=AiohttpTransport(limits=one))
        async with app_client(app) as http:
            inputs: list[dict[str, Any]] = [
                {
                    "target": {"kind": "CLERK_ORGANIZATION", "id": emulators.seed.organization_id},
                    "roles": ["org:member"],
                },
                {"target": {"kind": "CONDUCTORONE_DIRECTORY", "id": emulators.seed.directory_id}},
            ]
            answers = []
            for given in inputs:
                variables = {"input": {**given, "email": "via-aiohttp@example.com"}}
                response = await http.post(
                    "/graphql", json={"query": CREATE, "variables": variables}
                )
                answers.append(response.json())
    for body in answers:
        assert "errors" not in body, body
        assert body["data"]["createInvitation"]["userErrors"] == [], body
        assert body["data"]["createInvitation"]["invitation"]["status"] == "PENDING"
    clerk_emails = [i["email_address"] for i in emulators.clerk.organization_invitations.values()]
    c1_emails = [i["email"] for i in emulators.conductorone.invitations.values()]
    assert clerk_emails.count("via-aiohttp@example.com") == 1
    assert c1_emails.count("via-aiohttp@example.com") == 1
    assert any(r.path.endswith("/auth/v1/token") for r in emulators.conductorone.requests)
