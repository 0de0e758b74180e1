"""The load generators: wrk (with `_load.lua`) when installed, else a Python one (aiohttp).

Both keep N connections busy for a fixed duration, one request at a time on each (closed
loop), and count an answer as throughput only when it has the success shape (`Workload`):
wrk's Lua checks substrings of every answer and counts non-2xx, socket errors and timeouts;
the Python generator parses every answer. After a wrk run, `sample_check` sends a few
requests again and parses the answers. Latency percentiles are over every answered request.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import httpx

from ._scenarios import Workload

LUA = Path(__file__).with_name("_load.lua")
_SAMPLES = 3


@dataclass(frozen=True)
class LoadResult:
    """One load run: good answers, failed ones (with the first one seen), latency."""

    generator: str
    seconds: float
    ok: int
    failed: int
    p50_ms: float
    p99_ms: float
    first_failure: str = ""
    samples_ok: bool | None = None  # wrk runs: whether the sample check passed

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def answered(self) -> int:
        return self.ok + self.failed


def wrk_path() -> str | None:
    return shutil.which("wrk")


async def run_load(
    generator: str,
    url: str,
    work: Workload,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    workdir: Path,
) -> LoadResult:
    """Drive `url` with `work` from `connections` connections for `seconds`."""
    if generator == "wrk":
        return await _wrk(url, work, connections, seconds, headers, workdir)
    return await _python(url, work, connections, seconds, headers)


async def _wrk(
    url: str,
    work: Workload,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    workdir: Path,
) -> LoadResult:
    requests = workdir / "requests.tsv"
    requests.write_text("".join(f"{path}\t{body}\n" for path, body in work.requests))
    arguments = [
        str(requests),
        *(f"+{text}" for text in work.expect),
        *(f"-{text}" for text in work.reject),
        *(f"H{name}: {value}" for name, value in headers.items()),
    ]
    process = await asyncio.create_subprocess_exec(
        wrk_path() or "wrk",
        "--threads=1",  # one thread keeps up with these servers and leaves them the cores
        f"--connections={connections}",
        f"--duration={max(1, math.ceil(seconds))}s",
        "--timeout=30s",
        f"--script={LUA}",
        url,
        "--",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    found = [line for line in text.splitlines() if line.startswith("WRK_RESULT ")]
    if process.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{text}")
    summary = json.loads(found[0].removeprefix("WRK_RESULT "))
    sample = next((ln for ln in text.splitlines() if ln.startswith("WRK_SAMPLE ")), "")
    socket_errors = sum(summary[k] for k in ("connect", "read", "write", "timeout"))
    first = sample.removeprefix("WRK_SAMPLE ")
    if socket_errors and not first:
        first = f"socket errors: {summary}"
    return LoadResult(
        generator="wrk",
        seconds=summary["duration_us"] / 1e6,
        ok=summary["good"],
        # Socket errors and timeouts never reach response(): they count on top of `bad`.
        failed=summary["bad"] + socket_errors,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        first_failure=first,
    )


async def sample_check(
    result: LoadResult, url: str, work: Workload, headers: dict[str, str]
) -> LoadResult:
    """After a wrk run, send a few of its requests again and parse the answers fully (the
    Python generator parsed every answer already)."""
    if result.generator != "wrk":
        return result
    good = True
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        for serial in range(_SAMPLES):
            path, body = work.render(900_000_000 + serial)
            answer = await client.post(
                path, content=body, headers={"content-type": "application/json"}
            )
            good = good and work.check(answer.status_code, answer.content)
    return replace(result, samples_ok=good)


async def _python(
    url: str, work: Workload, connections: int, seconds: float, headers: dict[str, str]
) -> LoadResult:
    latencies: list[float] = []
    ok = failed = serial = 0
    first_failure = ""
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    headers = {"content-type": "application/json", **headers}
    async with aiohttp.ClientSession(
        url, connector=connector, headers=headers, timeout=timeout
    ) as session:
        stop_at = time.perf_counter() + seconds

        async def one_connection() -> None:
            nonlocal ok, failed, serial, first_failure
            while time.perf_counter() < stop_at:
                serial += 1
                path, body = work.render(serial)
                began = time.perf_counter()
                try:
                    async with session.post(path, data=body) as answer:
                        status, payload = answer.status, await answer.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, payload = 0, repr(exc).encode()
                latencies.append(time.perf_counter() - began)
                if work.check(status, payload):
                    ok += 1
                else:
                    failed += 1
                    first_failure = first_failure or f"{status} {payload[:400]!r}"

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(
        generator="python",
        seconds=elapsed,
        ok=ok,
        failed=failed,
        p50_ms=_percentile(latencies, 50) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
        first_failure=first_failure,
    )


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return 0.0  # no answer at all: the run is reported as a problem anyway
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(percent / 100 * len(ordered)) - 1)]
