"""An httpx transport that sends through aiohttp: `UpstreamClient` keeps httpx's API, not its cost.

httpx's own transport (httpcore) costs about twice as much CPU per upstream call as this one,
which costs little more than aiohttp's client itself (`benchmarks/transport_cost.py`).
`AiohttpTransport` is an `httpx.AsyncBaseTransport`, so everything above the socket stays
httpx's: auth flows, timeouts per request, the streamed body and its size cap, decoding, the
error tree `UpstreamClient` reads, and the `transport=` test seam. HTTP/1.1 only, as httpx
without its `http2` extra.

What it sends: the request's method, URL (percent-escapes as httpx encoded them) and headers
as httpx built them, names in their case; aiohttp adds none of its own (`skip_auto_headers`)
except `Content-Length: 0` on a body-less DELETE (aiohttp always frames a non-GET request).
A streamed request body is read first and sent with a `Content-Length`.

What it returns: status, headers and the body as the upstream sent them, streamed. aiohttp does
not decompress (`auto_decompress=False`): httpx decodes what it asked for in `Accept-Encoding`,
on `aiter_bytes`, exactly as with its own transport. No redirects, no cookie jar, no proxy or
netrc from the environment. Closing the response releases (a fully read body) or closes (an
unfinished one) the connection. DNS answers are cached for 10 s (aiohttp's default; httpx
resolves for each new connection).

The pool: `limits.max_connections` requests at most are in flight (a semaphore, held from
the request to the closing of its response: with HTTP/1.1 that is one connection each); idle
connections are kept `limits.keepalive_expiry` seconds. aiohttp has no cap on idle
connections, so `max_keepalive_connections` only matters at 0 (no keep-alive at all). One
transport per client: the client's `aclose` closes its pool (a later request opens another).

Timeouts, from the request's `timeout` extension (httpx's four):

    pool     waiting for one of the `max_connections` permits    -> httpx.PoolTimeout
    connect  DNS, TCP and TLS of a new connection (aiohttp's      -> httpx.ConnectTimeout
             ClientTimeout.connect)
    write    handing the body to the socket (the write of the     -> httpx.WriteTimeout
             body payload runs under it)
    read     each wait for bytes of the answer, once the request  -> httpx.ReadTimeout
             is written (aiohttp's ClientTimeout.sock_read)

Errors: an aiohttp failure becomes the httpx error that says whether the request may have
reached the upstream (`transport_errors.py`, with its table): the gateway retries a create only
when it provably never left this process. aiohttp's own silent resend of an idempotent request
after a dropped connection is switched off too, so `UpstreamClient` alone decides what is
retried (its attempt counts and circuit breaker see every attempt).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable

import aiohttp
import httpx
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload
from yarl import URL

from .transport_errors import WriteTimedOut, translate

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
"""The pool `UpstreamClient` gives httpx's own transport, and the default here."""

# httpx's connection (h11) accepts an answer's head up to 100 KiB; aiohttp's default is 8 KiB
# a line. Allow long lines too, so the same answers parse.
_MAX_HEAD_LINE = 100 * 1024
# Content-Type: a body payload's default (application/octet-stream) must not be added where
# httpx sent none. The others: httpx sets them when it means to (client default headers).
_NOT_AUTOMATIC = frozenset({"Content-Type", "User-Agent", "Accept", "Accept-Encoding"})
_HTTP_VERSIONS = {(1, 1): b"HTTP/1.1", (1, 0): b"HTTP/1.0"}


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one pooled `aiohttp.ClientSession` (opened on first use)."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._limits = limits
        # httpx's default trust store (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), as its own
        # transport uses.
        self._ssl = ssl_context if ssl_context is not None else httpx.create_ssl_context()
        # Both belong to the event loop that opens them (see _open).
        self._pool: tuple[aiohttp.ClientSession, asyncio.Semaphore | None] | None = None
        self._timeouts: tuple[object, aiohttp.ClientTimeout] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session, permits = self._pool or self._open()
        timeout = request.extensions.get("timeout", {})
        raw_headers = request.headers.raw
        try:
            body = request.content
        except httpx.RequestNotRead:  # a streamed body: read it, send it with a Content-Length
            body = await request.aread()
            raw_headers = [(n, v) for n, v in raw_headers if n.lower() != b"transfer-encoding"]
        encoding = request.headers.encoding
        headers = [(name.decode(encoding), value.decode(encoding)) for name, value in raw_headers]
        give_back = _nothing
        if permits is not None:
            await _take(permits, timeout.get("pool"))
            give_back = permits.release
        try:
            try:
                answer = await session.request(
                    request.method,
                    URL(str(request.url), encoded=True),
                    headers=headers,
                    data=_Body(body, timeout.get("write")) if body else None,
                    allow_redirects=False,
                    timeout=self._client_timeout(timeout),
                    server_hostname=request.extensions.get("sni_hostname"),
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise translate(exc) from exc
        except BaseException:
            give_back()
            raise
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=_AnswerStream(answer, give_back),
            extensions={
                "http_version": _http_version(answer.version),
                "reason_phrase": (answer.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool[0].close()

    def _open(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore | None]:
        """The session and the pool's permits, in the running loop (on first use)."""
        limits = self._limits
        if limits.max_keepalive_connections == 0 or limits.keepalive_expiry == 0:
            # The permits bound the pool (see _take): aiohttp's own limit is off.
            connector = aiohttp.TCPConnector(limit=0, ssl=self._ssl, force_close=True)
        else:
            connector = aiohttp.TCPConnector(
                limit=0, ssl=self._ssl, keepalive_timeout=limits.keepalive_expiry
            )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
            skip_auto_headers=_NOT_AUTOMATIC,
            max_line_size=_MAX_HEAD_LINE,
            max_field_size=_MAX_HEAD_LINE,
        )
        # aiohttp resends an idempotent request (GET, DELETE, ...) once after a dropped
        # connection, unseen. UpstreamClient must see and count every attempt (RetryPolicy,
        # the breaker), as with httpx's transport: no resend here.
        session._retry_connection = False
        # One permit per request in flight, held until its response is closed: with HTTP/1.1
        # that is one connection each, so this is httpx's `max_connections`. A request waits
        # for one at most its `pool` timeout.
        maximum = limits.max_connections
        self._pool = (session, asyncio.Semaphore(maximum) if maximum is not None else None)
        return self._pool

    def _client_timeout(self, timeout: dict[str, float | None]) -> aiohttp.ClientTimeout:
        # The gateway sends every call with its connection's one Timeout: reuse the last one.
        key = (timeout.get("connect"), timeout.get("read"))
        cached = self._timeouts
        if cached is not None and cached[0] == key:
            return cached[1]
        client_timeout = aiohttp.ClientTimeout(
            connect=key[0],
            sock_read=key[1],
            # aiohttp rounds timeouts above `ceil_threshold` seconds up to a whole second of
            # the loop's clock; httpx honours them as given.
            ceil_threshold=float("inf"),
        )
        self._timeouts = (key, client_timeout)
        return client_timeout


async def _take(permits: asyncio.Semaphore, pool_timeout: float | None) -> None:
    if not permits.locked():
        await permits.acquire()  # one is free: returns at once
        return
    try:
        async with asyncio.timeout(pool_timeout):
            await permits.acquire()
    except TimeoutError as exc:
        raise httpx.PoolTimeout("no connection became free in time") from exc


def _nothing() -> None:
    """Giving back a permit when the pool has no limit."""


class _Body(Payload):
    """A request body written under the request's write timeout."""

    _autoclose = True  # bytes in memory: nothing to close

    def __init__(self, value: bytes, write_timeout: float | None) -> None:
        super().__init__(value)  # its default Content-Type is skipped: see _NOT_AUTOMATIC
        self._size = len(value)
        self._write_timeout = write_timeout

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        value: bytes = self._value if content_length is None else self._value[:content_length]
        try:
            async with asyncio.timeout(self._write_timeout):
                await writer.write(value)
        except TimeoutError as exc:
            # aiohttp hands a TimeoutError from the body writer on to the caller as it is.
            raise WriteTimedOut("the request body could not be written in time") from exc


class _AnswerStream(httpx.AsyncByteStream):
    """An answer's body as aiohttp receives it; closing gives the connection back."""

    def __init__(self, answer: aiohttp.ClientResponse, give_back: Callable[[], None]) -> None:
        self._answer = answer
        self._give_back: Callable[[], None] | None = give_back  # the request's pool permit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._answer.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise translate(exc) from exc

    async def aclose(self) -> None:
        answer = self._answer
        if answer.content.is_eof():
            answer.release()  # the connection goes back to the pool (if the server keeps it)
        else:
            answer.close()  # an unfinished body: the connection cannot be reused
        give_back, self._give_back = self._give_back, None
        if give_back is not None:  # once, however often httpx closes it
            give_back()


def _http_version(version: aiohttp.HttpVersion | None) -> bytes:
    if version is None:
        return b"HTTP/1.1"
    known = _HTTP_VERSIONS.get((version.major, version.minor))
    return known or f"HTTP/{version.major}.{version.minor}".encode("ascii")
