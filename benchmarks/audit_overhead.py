"""What the audit log adds to each mutation: `start` + `complete` under concurrent callers.

Each of 16 callers (by default) loops as the service does around an upstream call: write a
"started" record, wait for the "upstream", complete the record. Only the two audit calls are
timed. Two runs per backend: back to back (no upstream wait: the store saturated, every
caller queueing for it; the worst case, and the throughput) and with a simulated upstream
call of `--upstream-ms` (20 ms: the added latency a request actually sees). 2,000 mutations
per run; prints p50 and p99 of one start+complete pair in microseconds and mutations per
second, as a Markdown table. SQLite runs on a file in a temporary directory; PostgreSQL on a
fresh database `igw_bench_<random>` on the server at `--postgres-url` (default
`TEST_DATABASE_URL` or the local server), dropped afterwards.

    python -m benchmarks.audit_overhead [--records 2000] [--callers 16] [--upstream-ms 20]
                                        [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from invitation_gateway.audit import AuditEntry, AuditLog, AuditTarget, database_url

_ENTRY = AuditEntry(
    "api_key:bench",
    "create",
    AuditTarget("CLERK_ORGANIZATION", "org_bench", "default"),
    "someone@example.com",
    ("org:member",),
)


@dataclass(frozen=True)
class Result:
    backend: str
    upstream_ms: float
    records: int
    callers: int
    p50_us: float
    p99_us: float
    per_second: float


async def measure(backend: str, url: str, records: int, callers: int, upstream_ms: float) -> Result:
    """Run `records` start+complete pairs from `callers` concurrent tasks on a migrated log."""
    log = AuditLog.open(url)
    try:
        await log.migrate()
        for _ in range(50):  # warm the pool and the statement caches
            await log.complete(
                await log.start(_ENTRY), outcome="ok", invitation_id=None, upstream_request_id=None
            )
        latencies: list[float] = []
        remaining = records

        async def caller() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                began = time.perf_counter()
                record_id = await log.start(_ENTRY)
                started = time.perf_counter()
                if upstream_ms:
                    await asyncio.sleep(upstream_ms / 1000)
                answered = time.perf_counter()
                await log.complete(
                    record_id, outcome="ok", invitation_id="bench", upstream_request_id="req"
                )
                latencies.append(started - began + time.perf_counter() - answered)

        began = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(callers)))
        elapsed = time.perf_counter() - began
    finally:
        await log.aclose()
    cuts = statistics.quantiles(latencies, n=100)
    return Result(
        backend=backend,
        upstream_ms=upstream_ms,
        records=len(latencies),
        callers=callers,
        p50_us=cuts[49] * 1e6,
        p99_us=cuts[98] * 1e6,
        per_second=records / elapsed,
    )


@asynccontextmanager
async def postgres_database(server_url: str) -> AsyncIterator[str]:
    """A plain URL of a fresh database on `server_url`'s server, dropped on exit."""
    server = make_url(database_url(server_url, Path()))
    name = f"igw_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def table(results: list[Result]) -> str:
    lines = [
        "| backend | upstream call | mutations | callers | p50 (µs) | p99 (µs) | mutations/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.backend} | {f'{r.upstream_ms:g} ms' if r.upstream_ms else 'none'} | {r.records:,}"
        f" | {r.callers} | {r.p50_us:,.0f} | {r.p99_us:,.0f}"
        f" | {r.per_second:,.0f} |"
        for r in results
    ]
    return "\n".join(lines)


async def run(
    records: int, callers: int, upstream_ms: float, postgres_url: str | None
) -> list[Result]:
    results = []
    for wait in (0.0, upstream_ms):
        with tempfile.TemporaryDirectory() as directory:
            url = database_url(None, Path(directory) / "audit.sqlite3")
            results.append(await measure("SQLite", url, records, callers, wait))
        if postgres_url:
            async with postgres_database(postgres_url) as database:
                url = database_url(database, Path())
                results.append(await measure("PostgreSQL", url, records, callers, wait))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--upstream-ms", type=float, default=20.0)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a server to create the benchmark database on; empty to skip PostgreSQL",
    )
    args = parser.parse_args()
    results = asyncio.run(
        run(args.records, args.callers, args.upstream_ms, args.postgres_url or None)
    )
    print(table(results))  # noqa: T201 - the table is the program's output


if __name__ == "__main__":
    main()
