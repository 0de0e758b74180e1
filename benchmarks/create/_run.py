"""One benchmark run: start the servers in turn, load each, collect the measurements.

The stub runs throughout. Then each server under test is started, measured on its scenarios
and stopped before the next starts, so that only one of them competes with the load generator
and the stub for the cores: the stub alone (direct), the thin proxy, the gateway with
authentication disabled, then the gateway with authentication enforced (the `auth` scenario
and the soak). Each measured run follows an unmeasured warm-up of the same load.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ._auth import ISSUER, AuthFiles, make_auth_files
from ._load import run_load, sample_check, wrk_path
from ._processes import ROOT, Server, start_gateway, start_proxy, start_stub, stub_calls
from ._proxy import C1_TOKEN, CLERK_KEY
from ._report import Measurement, Results, Soak
from ._scenarios import REFERENCE, SCENARIOS, SOAK, TARGETS, Scenario, workload


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    soak: float
    scenarios: tuple[str, ...]
    generator: str  # "wrk" or "python"


def plan(options: Options) -> dict[str, list[Scenario]]:
    """The scenarios each server runs, in order; bad-input and auth need the reference row."""
    chosen = [s for s in SCENARIOS if s.name in options.scenarios]
    by_server: dict[str, list[Scenario]] = {"stub": [], "proxy": [], "gateway": [], "auth": []}
    for scenario in chosen:
        for server in scenario.servers:
            by_server[server].append(scenario)
    names = {s.name for s in chosen}
    if names & {"bad-input", "auth"} and REFERENCE not in names:
        reference = next(s for s in SCENARIOS if s.name == REFERENCE)
        by_server["gateway"].insert(0, reference)
    return by_server


def gateway_env(stub: Server, workdir: Path, auth: AuthFiles | None) -> dict[str, str]:
    """`serve`'s configuration, as a user sets it: upstreams at the stub, limits out of the way."""
    workdir.mkdir(exist_ok=True)
    env = {
        "GATEWAY_CONDUCTORONE__BASE_URL": stub.url,
        "GATEWAY_CONDUCTORONE__TOKEN": C1_TOKEN,
        "GATEWAY_CLERK__SECRET_KEY": CLERK_KEY,
        "GATEWAY_CLERK__API_URL": f"{stub.url}/v1",
        "GATEWAY_RATE_LIMIT__REQUESTS_PER_MINUTE": "1000000",
        "GATEWAY_RATE_LIMIT__CREATES_PER_MINUTE": "1000000",
        # The audit log stays on, as in every `serve`: SQLite, in this run's directory.
        "GATEWAY_AUDIT__SQLITE_PATH": str(workdir / "audit.sqlite3"),
        "GATEWAY_IDEMPOTENCY__SQLITE_PATH": str(workdir / "idempotency.sqlite3"),
        "GATEWAY_AUTH__MODE": "disabled",
    }
    if auth is not None:
        env |= {
            "GATEWAY_AUTH__MODE": "enforced",
            "GATEWAY_AUTH__JWKS_URL": f"{stub.url}/.well-known/jwks.json",
            "GATEWAY_AUTH__ISSUER": ISSUER,
            "GATEWAY_POLICY__FILE": str(auth.policy),
        }
    return env


def environment(options: Options) -> dict[str, str]:
    if options.generator == "wrk":
        version = subprocess.run(  # noqa: S603 - wrk, found on PATH, asked for its version
            [wrk_path() or "wrk", "--version"], capture_output=True, text=True, check=False
        ).stdout.split(" [")[0]
        generator = f"{version}, 1 thread, Lua-checked answers"
    else:
        missing = "" if wrk_path() else "; wrk not found"
        generator = f"Python (asyncio + aiohttp{missing}), every answer parsed"
    fast = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name)]
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty=+uncommitted changes"],  # noqa: S607 - on PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "machine": f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()},"
        f" Python {platform.python_version()}",
        "load generator": generator,
        "durations": f"{options.duration:g} s per run after a {options.warmup:g} s warm-up;"
        f" soak {options.soak:g} s",
        "code": _code(described),
        "gateway": "`invitation-gateway serve` (uvicorn, "
        + (", ".join(fast) if fast else "h11 + asyncio: no uvloop/httptools installed")
        + "), log level info, audit log on (SQLite in a temporary directory), rate limits"
        " raised to 1,000,000/min",
    }


def _code(described: str) -> str:
    """The checkout measured, or where the gateway's package comes from when not from it."""
    spec = importlib.util.find_spec("invitation_gateway")
    package = Path(spec.origin).parent if spec and spec.origin else None
    if package is not None and ROOT not in package.parents:
        return f"invitation_gateway from {package} (PYTHONPATH), not this checkout"
    return f"git {described or 'unknown'}"


async def measure(
    scenario: Scenario, key: str, server: Server, stub: Server, options: Options, token: str
) -> Measurement:
    work = workload(scenario.operation, key)
    bearer = {"stub": C1_TOKEN, "auth": token}.get(key)
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    workdir = server.log.parent

    async def load(seconds: float) -> Measurement:
        calls, cpu, stub_cpu = stub_calls(stub), server.cpu_seconds(), stub.cpu_seconds()
        result = await run_load(
            options.generator,
            server.url,
            work,
            connections=scenario.connections,
            seconds=seconds,
            headers=headers,
            workdir=workdir,
        )
        cpu, stub_cpu = server.cpu_seconds() - cpu, stub.cpu_seconds() - stub_cpu
        calls = stub_calls(stub) - calls
        server.check_alive()
        per_request = 1000 / result.answered if result.answered else 0.0
        return Measurement(
            scenario.name,
            scenario.about,
            key,
            scenario.connections,
            # After the counters are read: the sample check's requests are not measured.
            await sample_check(result, server.url, work, headers),
            cpu * per_request,
            stub_cpu * per_request,
            calls,
        )

    if options.warmup > 0:
        await load(options.warmup)
    return await load(options.duration)


async def soak(server: Server, stub: Server, options: Options, token: str, idle_mb: float) -> Soak:
    samples: list[float] = []

    async def sample() -> None:
        while True:
            samples.append(server.rss_bytes() / 2**20)
            await asyncio.sleep(1)

    sampler = asyncio.create_task(sample())
    try:
        measured = await measure(
            SOAK, "auth", server, stub, Options(options.soak, 0, 0, (), options.generator), token
        )
    finally:
        sampler.cancel()
    samples.append(server.rss_bytes() / 2**20)
    return Soak(measured, samples, idle_mb)


async def run(options: Options) -> Results:
    results = Results(environment(options))
    loadavg_before = os.getloadavg()[0]
    by_server = plan(options)
    with tempfile.TemporaryDirectory(prefix="igw-bench-") as directory:
        workdir = Path(directory)
        lifetime = 3600 + int(
            len(SCENARIOS) * 3 * (options.duration + options.warmup) + options.soak
        )
        auth = make_auth_files(workdir, TARGETS, lifetime)
        stub = start_stub(workdir, auth.jwks)
        try:
            for key, scenarios in by_server.items():
                wanted_soak = key == "auth" and options.soak > 0 and "soak" in options.scenarios
                if not scenarios and not wanted_soak:
                    continue
                server = await _server(key, stub, workdir, auth)
                idle_mb = server.rss_bytes() / 2**20  # ready, before any request
                try:
                    for scenario in scenarios:
                        results.measurements.append(
                            await measure(scenario, key, server, stub, options, auth.token)
                        )
                    if wanted_soak:
                        results.soak = await soak(server, stub, options, auth.token, idle_mb)
                finally:
                    if server is not stub:
                        server.stop()
        finally:
            stub.stop()
    # Other work on the machine takes cores from the servers: say how busy it was.
    results.environment["load average (1 min) before / after"] = (
        f"{loadavg_before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    return results


async def _server(key: str, stub: Server, workdir: Path, auth: AuthFiles) -> Server:
    if key == "stub":
        return stub
    if key == "proxy":
        return await asyncio.to_thread(start_proxy, workdir, stub.url)
    env = gateway_env(stub, workdir / key, auth if key == "auth" else None)
    return await asyncio.to_thread(start_gateway, f"gateway-{key}", workdir / key, env)
