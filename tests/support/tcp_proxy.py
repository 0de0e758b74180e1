"""A store that goes away while the gateway runs: a loopback TCP proxy the test can cut.

The gateway reaches the real Redis through `TcpProxy`; `cut()` closes its port and breaks
every open connection, so from then on the gateway's connections fail and new ones are refused,
exactly as when the server dies. `cut_on` makes the proxy cut itself the moment a client sends
those bytes (a Redis key prefix, say), before forwarding them: "Redis died just as the
idempotency claim was sent", on cue rather than by timing.

`silent_server()` is the other way a store fails: it accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 65_536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `upstream` (host, port) until cut."""

    def __init__(self, upstream: tuple[str, int], *, cut_on: bytes | None = None) -> None:
        self._upstream = upstream
        self._cut_on = cut_on
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.is_cut = False

    @classmethod
    @contextlib.asynccontextmanager
    async def to_url(cls, url: str, *, cut_on: bytes | None = None) -> AsyncIterator[TcpProxy]:
        """A proxy to the server of `url` (`redis://host:port/db`), cut and closed afterwards."""
        parts = urlsplit(url)
        proxy = cls((parts.hostname or "127.0.0.1", parts.port or 6379), cut_on=cut_on)
        proxy._server = await asyncio.start_server(proxy._accept, "127.0.0.1", 0)
        proxy.port = int(proxy._server.sockets[0].getsockname()[1])
        try:
            yield proxy
        finally:
            proxy.cut()
            for task in list(proxy._tasks):
                task.cancel()
            await asyncio.gather(*proxy._tasks, return_exceptions=True)

    def url_for(self, url: str) -> str:
        """`url` (its user, password, path and query) pointed at the proxy instead."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        address = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{address}" if userinfo else address))

    def cut(self) -> None:
        """Close the port and break every connection through it: the server is gone."""
        self.is_cut = True
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))
        for task in (
            asyncio.create_task(self._pump(reader, upstream_writer, watch=True)),
            asyncio.create_task(self._pump(upstream_reader, writer, watch=False)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, watch: bool
    ) -> None:
        tail = b""  # the end of the previous chunk: `cut_on` may straddle two reads
        with contextlib.suppress(OSError):
            while chunk := await source.read(_CHUNK):
                if watch and self._cut_on is not None:
                    if self._cut_on in tail + chunk:
                        self.cut()  # before forwarding: the command never reaches the server
                        return
                    tail = chunk[-len(self._cut_on) :]
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A loopback port that accepts connections and never sends a byte; yields the port."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # kept open, unanswered, until the server closes

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for writer in held:
            writer.transport.abort()
        await server.wait_closed()
