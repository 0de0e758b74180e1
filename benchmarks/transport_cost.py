"""What one upstream call costs in CPU: httpx's own transport, httpx over aiohttp, aiohttp alone.

A fixed answer (200, a small JSON body, keep-alive) comes from a raw asyncio server in another
process, so only the client's work is counted. Each row makes `--calls` (5,000) sequential
POSTs with a JSON body on one kept-alive connection, after 200 unmeasured ones, and reports the
process CPU time and the wall time per call in microseconds, as a Markdown table:

    aiohttp                  aiohttp.ClientSession.post, the body read whole
    httpx + AiohttpTransport httpx.AsyncClient(transport=AiohttpTransport()), streamed
    httpx (httpcore)         httpx.AsyncClient() with its default transport, streamed
    UpstreamClient + ...     the gateway's own path (auth, budget, retries, breaker, body cap)

    python -m benchmarks.transport_cost [--calls 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

import aiohttp
import httpx
from pydantic import SecretStr

from invitation_gateway.domain.invitations import Provider
from invitation_gateway.providers.auth import BearerAuth
from invitation_gateway.providers.http import UpstreamClient
from invitation_gateway.providers.paths import path
from invitation_gateway.providers.reliability import RetryPolicy
from invitation_gateway.providers.transport import AiohttpTransport

_BODY = b'{"id": "inv_bench", "status": "pending", "email_address": "someone@example.com"}'
_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(_BODY),
    _BODY,
)
_PAYLOAD = {"email_address": "someone@example.com", "role": "org:member"}
_WARM_UP = 200

Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Result:
    name: str
    cpu_us: float
    wall_us: float


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(_ANSWER)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def _serve(port_out: Connection) -> None:
    """The upstream, in its own process: sends its port, then answers until terminated."""

    async def run() -> None:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(run())


async def _measure(name: str, call: Call, calls: int) -> Result:
    for _ in range(_WARM_UP):
        await call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Result(name, cpu / calls * 1e6, wall / calls * 1e6)


async def _httpx_call(client: httpx.AsyncClient) -> bytes:
    async with client.stream("POST", "/v1/invitations", json=_PAYLOAD) as response:
        return b"".join([chunk async for chunk in response.aiter_bytes()])


def _upstream_client(base_url: str, transport: httpx.AsyncBaseTransport | None) -> UpstreamClient:
    return UpstreamClient(
        provider=Provider.CLERK,
        base_url=base_url,
        auth=BearerAuth(SecretStr("sk_test_bench")),
        request_id_header="x-request-id",
        transport=transport,
    )


async def measure_all(base_url: str, calls: int) -> list[Result]:
    results: list[Result] = []

    async with aiohttp.ClientSession(base_url) as session:

        async def raw() -> bytes:
            async with session.post("/v1/invitations", json=_PAYLOAD) as response:
                return await response.read()

        results.append(await _measure("aiohttp", raw, calls))

    for name, transport in [
        ("httpx + AiohttpTransport", AiohttpTransport()),
        ("httpx (httpcore)", None),
    ]:
        async with httpx.AsyncClient(base_url=base_url, transport=transport) as client:

            async def call(client: httpx.AsyncClient = client) -> bytes:
                return await _httpx_call(client)

            results.append(await _measure(name, call, calls))

    for name, transport in [
        ("UpstreamClient + AiohttpTransport", AiohttpTransport()),
        ("UpstreamClient + httpx (httpcore)", None),
    ]:
        upstream = _upstream_client(base_url, transport)

        async def gateway(upstream: UpstreamClient = upstream) -> object:
            return await upstream.send(
                "POST",
                path("/v1/invitations"),
                operation="create",
                retry=RetryPolicy.CREATE,
                json_body=_PAYLOAD,
            )

        try:
            results.append(await _measure(name, gateway, calls))
        finally:
            await upstream.aclose()
    return results


def table(results: list[Result], calls: int) -> str:
    lines = [
        f"| path ({calls:,} sequential POSTs) | CPU µs/call | wall µs/call |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {r.name} | {r.cpu_us:,.0f} | {r.wall_us:,.0f} |" for r in results]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    port_in, port_out = context.Pipe(duplex=False)
    server = context.Process(target=_serve, args=(port_out,), daemon=True)
    server.start()
    try:
        port = port_in.recv()
        results = asyncio.run(measure_all(f"http://127.0.0.1:{port}", args.calls))
    finally:
        server.terminate()
        server.join()
    print(table(results, args.calls))  # noqa: T201 - the table is the program's output


if __name__ == "__main__":
    main()
