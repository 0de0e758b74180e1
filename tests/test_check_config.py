"""`invitation-gateway check-config`: every part serve would use, reached once, one line each.

In process, `diagnose` gets the sandbox's transport (the emulators, as the gateway's own tests
reach them); the real Redis (127.0.0.1:6379, or `TEST_REDIS_URL`) and PostgreSQL (127.0.0.1:5432,
or `TEST_DATABASE_URL`) are used as they are, skipped with the reason when unreachable and
failed under CI, like the audit and limits tests. The command itself runs in a subprocess
against the emulators on real sockets.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from invitation_gateway.diagnostics import Report, diagnose, mask, mask_url
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.providers.routing import HostRoutingTransport
from invitation_gateway.sandbox import CLERK_SECRET_KEY, Sandbox
from invitation_gateway.settings import (
    AuditSettings,
    AuthSettings,
    ClerkSettings,
    ConnectionsSettings,
    IdempotencySettings,
    PolicySettings,
    Settings,
)
from tests.support.jwks_server import ISSUER, JwksServer, Signer
from tests.support.servers import free_port, refusing, serve

POLICY = """
[[allow]]
callers = ["api_key:bff"]
actions = ["read"]
targets = [{ kind = "CLERK_APPLICATION" }]
"""
API_KEY = "igw_" + "k" * 40
WRONG_CLERK_KEY = "sk_test_wrongWRONGwrong0123456789abcd"


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    """A JWKS endpoint on 127.0.0.1 serving one EC key."""
    server = JwksServer()
    server.serve(Signer("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1())))
    with server.running() as running:
        yield running


@dataclass(frozen=True)
class CallerFiles:
    """What enforced authentication needs: a policy file and an API keys file."""

    policy: Path
    api_keys: Path


@pytest.fixture
def caller_files(tmp_path: Path) -> CallerFiles:
    """A policy letting the API key `bff` read, and that key's entry."""
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    keys = tmp_path / "keys.toml"
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    keys.write_text(f'[[keys]]\nname = "bff"\nsha256 = "{digest}"\n', encoding="utf-8")
    return CallerFiles(policy, keys)


@pytest.fixture
def local_stores(tmp_path: Path) -> dict[str, object]:
    """The embedded stores (SQLite) under tmp_path: no Redis, no PostgreSQL."""
    return {
        "idempotency": IdempotencySettings(sqlite_path=tmp_path / "var" / "keys.sqlite3"),
        "audit": AuditSettings(sqlite_path=tmp_path / "var" / "audit.sqlite3"),
    }


def by_part(report: Report) -> dict[str, tuple[bool, str]]:
    """Each part's verdict and detail (a part's several lines joined)."""
    parts: dict[str, tuple[bool, str]] = {}
    for result in report.results:
        ok, detail = parts.get(result.part, (True, ""))
        parts[result.part] = (ok and result.ok, f"{detail}\n{result.detail}".strip())
    return parts


async def test_every_part_is_ok_against_the_emulators_redis_postgresql_and_a_jwks(
    sandbox: Sandbox,
    caller_files: CallerFiles,
    jwks: JwksServer,
    redis_url: str,
    postgres_server: str,
) -> None:
    """With everything reachable, each part is one `ok` line and the exit status is 0."""
    auth = AuthSettings(
        mode="enforced", api_keys_file=caller_files.api_keys, jwks_url=jwks.url, issuer=ISSUER
    )
    settings = sandbox.settings(
        auth=auth,
        policy=PolicySettings(file=caller_files.policy),
        redis_url=SecretStr(redis_url),
        database_url=SecretStr(postgres_server),
    )
    report = await diagnose(
        settings, environ={}, transport=sandbox.transport(), connections=sandbox.connections()
    )

    assert [(r.part, r.ok) for r in report.results] == [
        ("configuration", True),
        ("conductorone.default", True),
        ("clerk.default", True),
        ("clerk.staging", True),
        ("rate limits", True),
        ("idempotency keys", True),
        ("audit log", True),
        ("JWKS", True),
    ], "\n".join(report.lines())
    assert report.exit_status == 0
    parts = by_part(report)
    assert "3 upstream connections" in parts["configuration"][1]
    assert "HTTP 200" in parts["clerk.default"][1]
    assert "shared by every replica" in parts["rate limits"][1]
    assert "shared by every replica" in parts["idempotency keys"][1]
    assert parts["audit log"][1].startswith("PostgreSQL at ")
    assert "1 signing key (ec-1)" in parts["JWKS"][1]
    text = "\n".join(report.lines())
    assert CLERK_SECRET_KEY not in text
    assert sandbox.c1_client_secret.get_secret_value() not in text
    assert all(line.startswith("ok ") for line in report.lines())


async def test_rejected_credentials_fail_that_connection_alone_with_the_key_masked(
    sandbox: Sandbox, local_stores: dict[str, object]
) -> None:
    """A Clerk key the upstream refuses (401) fails its connection, shown as sk_test_…abcd."""
    settings = sandbox.settings(**local_stores).model_copy(
        update={
            "clerk": ClerkSettings(
                api_url="http://clerk.sandbox/v1", secret_key=SecretStr(WRONG_CLERK_KEY)
            )
        }
    )
    report = await diagnose(
        settings, environ={}, transport=sandbox.transport(), connections=sandbox.connections()
    )

    parts = by_part(report)
    ok, detail = parts["clerk.default"]
    assert not ok
    assert "Clerk rejected the gateway's credentials" in detail
    assert "secret key sk_test_…abcd" in detail
    assert {part: ok for part, (ok, _) in parts.items()} == {
        "configuration": True,
        "conductorone.default": True,
        "clerk.default": False,
        "clerk.staging": True,
        "rate limits": True,
        "idempotency keys": True,
        "audit log": True,
    }
    assert report.exit_status == 1
    text = "\n".join(report.lines())
    assert WRONG_CLERK_KEY not in text
    assert WRONG_CLERK_KEY.removeprefix("sk_test_")[:12] not in text


async def test_an_unreachable_port_and_a_hung_upstream_each_fail_within_the_timeout(
    sandbox: Sandbox, local_stores: dict[str, object]
) -> None:
    """A refused connection says so; an upstream that never answers fails at the timeout."""
    sandbox.conductorone.faults.add(delay=30.0, times=10)  # hangs every request
    with refusing() as nowhere:
        settings = sandbox.settings(**local_stores).model_copy(
            update={
                "clerk": ClerkSettings(
                    api_url=f"{nowhere}/v1", secret_key=SecretStr(CLERK_SECRET_KEY)
                )
            }
        )
        routes = HostRoutingTransport(
            {
                "conductorone.sandbox": httpx.ASGITransport(app=sandbox.conductorone.app),
                "127.0.0.1": httpx.AsyncHTTPTransport(),  # the real network, for the refusal
            }
        )
        report = await diagnose(settings, environ={}, transport=routes, budget=1.0)

    parts = by_part(report)
    assert parts["clerk.default"] == (
        False,
        f"Clerk at {nowhere}/v1 (secret key sk_test_***): Clerk could not be reached"
        " on GET /invitations (ConnectError: All connection attempts failed)",
    )
    assert parts["conductorone.default"] == (
        False,
        "ConductorOne at http://conductorone.sandbox: no answer within 1 s",
    )
    assert report.exit_status == 1


async def test_unreachable_stores_fail_by_name_and_never_show_their_passwords(
    sandbox: Sandbox,
) -> None:
    """Redis and PostgreSQL down: rate limits, idempotency and audit fail; no password shown."""
    redis_port, postgres_port = free_port(), free_port()
    settings = sandbox.settings(
        redis_url=SecretStr(f"redis://:redis-Pa55word@127.0.0.1:{redis_port}/0"),
        database_url=SecretStr(f"postgresql://gw:pg-Pa55word@127.0.0.1:{postgres_port}/gw"),
    )
    report = await diagnose(
        settings, environ={}, transport=sandbox.transport(), connections=sandbox.connections()
    )

    parts = by_part(report)
    assert not parts["rate limits"][0]
    assert f"Redis at redis://127.0.0.1:{redis_port}/0 is unavailable" in parts["rate limits"][1]
    assert not parts["idempotency keys"][0]
    assert f"redis://:***@127.0.0.1:{redis_port}/0 is unavailable" in parts["idempotency keys"][1]
    assert not parts["audit log"][0]
    assert f"PostgreSQL at 127.0.0.1:{postgres_port}/gw" in parts["audit log"][1]
    assert [part for part, (ok, _) in parts.items() if not ok] == [
        "rate limits",
        "idempotency keys",
        "audit log",
    ]
    text = "\n".join(report.lines())
    assert "Pa55word" not in text
    assert report.exit_status == 1


async def test_a_configuration_serve_would_refuse_is_a_failed_line_and_exit_2(
    sandbox: Sandbox, local_stores: dict[str, object]
) -> None:
    """Enforced authentication without a policy: `configuration` fails naming the variable."""
    settings = sandbox.settings(auth=AuthSettings(mode="enforced"), **local_stores)
    report = await diagnose(
        settings, environ={}, transport=sandbox.transport(), connections=sandbox.connections()
    )

    ok, detail = by_part(report)["configuration"]
    assert not ok
    assert "GATEWAY_POLICY__FILE is not set" in detail
    assert by_part(report)["clerk.default"][0]  # what can be checked still is
    assert report.exit_status == 2


async def test_a_bad_connections_file_is_one_line_per_problem_without_the_secret(
    tmp_path: Path, local_stores: dict[str, object]
) -> None:
    """A connections file with a missing variable and an inline secret: its lines, by line."""
    path = tmp_path / "connections.toml"
    path.write_text(
        '[clerk.staging]\nsecret_key_env = "CLERK_STAGING_KEY"\n\n'
        '[clerk.eu]\nsecret_key = "sk_live_inlineSECRETinlineSECRET"\n',
        encoding="utf-8",
    )
    settings = Settings(
        connections=ConnectionsSettings(file=path),
        auth=AuthSettings(mode="disabled"),
        **local_stores,  # type: ignore[arg-type]
    )
    report = await diagnose(settings, environ={})

    lines = [line for line in report.lines() if " configuration " in line]
    assert len(lines) == 2, report.lines()
    assert all(line.startswith("FAILED configuration") for line in lines)
    assert f"{path}:1: [clerk.staging]" in lines[0]
    assert "CLERK_STAGING_KEY is not set" in lines[0]
    assert f"{path}:4: [clerk.eu]" in lines[1]
    assert "inlineSECRET" not in "\n".join(report.lines())
    assert report.exit_status == 2


async def test_a_connections_file_with_no_entry_is_nothing_to_serve(
    tmp_path: Path, local_stores: dict[str, object]
) -> None:
    """A set file holding no connection: `configuration` fails as `serve` would, naming it."""
    path = tmp_path / "connections.toml"
    path.write_text("# every entry commented out\n# [clerk.staging]\n", encoding="utf-8")
    settings = Settings(
        connections=ConnectionsSettings(file=path),
        auth=AuthSettings(mode="disabled"),
        **local_stores,  # type: ignore[arg-type]
    )
    report = await diagnose(settings, environ={})

    ok, detail = by_part(report)["configuration"]
    assert not ok
    assert "no upstream is configured" in detail
    assert str(path) in detail
    assert report.exit_status == 2


def test_secrets_are_masked_to_their_kind_and_last_four_characters() -> None:
    """Long secrets keep their public prefix and last 4 characters; short ones show nothing."""
    assert mask("sk_live_" + "x" * 28 + "abcd") == "sk_live_…abcd"
    assert mask("sk_test_sandbox") == "sk_test_***"
    assert mask("hunter2") == "***"
    assert mask_url("redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
    assert (
        mask_url("postgresql://gw:pw@db/gw?password=pw") == "postgresql://gw:***@db/gw?password=***"
    )
    assert mask_url("redis://cache:6379/0") == "redis://cache:6379/0"


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return {**clean, **extra}


def _check_config(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invitation_gateway", "check-config", "--timeout", "5"],
        env=_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.e2e
def test_the_command_reaches_the_emulators_on_real_sockets(
    tmp_path: Path, real_clock: None
) -> None:
    """`check-config` in a subprocess: one `ok` line per part, exit 0; then a refused key, exit 1."""
    clerk = ClerkEmulator(secret_key="sk_test_" + "s" * 24 + "WXYZ")
    c1 = ConductorOneEmulator(token="c1-token-" + "t" * 24)
    with serve(clerk.app) as clerk_url, serve(c1.app) as c1_url:
        env = {
            "GATEWAY_CLERK__SECRET_KEY": clerk.secret_key,
            "GATEWAY_CLERK__API_URL": f"{clerk_url}/v1",
            "GATEWAY_CONDUCTORONE__BASE_URL": c1_url,
            "GATEWAY_CONDUCTORONE__TOKEN": "c1-token-" + "t" * 24,
            "GATEWAY_AUTH__MODE": "disabled",
        }
        good = _check_config(tmp_path, **env)
        refused = _check_config(
            tmp_path, **{**env, "GATEWAY_CONDUCTORONE__TOKEN": "c1-" + "x" * 30}
        )

    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stderr == ""
    lines = good.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "configuration"],
        ["ok", "conductorone.default"],
        ["ok", "clerk.default"],
        ["ok", "rate"],
        ["ok", "idempotency"],
        ["ok", "audit"],
    ]
    assert "secret key sk_test_…WXYZ" in good.stdout
    assert f"SQLite at var{os.sep}audit.sqlite3" in good.stdout  # serve's default, in its cwd
    assert clerk.secret_key not in good.stdout

    assert refused.returncode == 1
    [failed] = [line for line in refused.stdout.splitlines() if line.startswith("FAILED")]
    assert "conductorone.default" in failed
    assert "ConductorOne rejected the gateway's credentials" in failed
    assert "x" * 12 not in refused.stdout + refused.stderr
    assert refused.stderr == "invitation-gateway: check-config: 1 of 6 parts failed\n"
    assert "Traceback" not in refused.stderr


def test_the_command_reports_a_malformed_variable_as_one_line_and_exit_2(tmp_path: Path) -> None:
    """A malformed Clerk key: one FAILED configuration line naming it, exit 2, no traceback."""
    result = _check_config(tmp_path, GATEWAY_CLERK__SECRET_KEY="pk_live_TOPSECRETVALUE")

    assert result.returncode == 2
    [line] = result.stdout.splitlines()
    assert line.startswith("FAILED configuration  GATEWAY_CLERK__SECRET_KEY: ")
    assert "TOPSECRETVALUE" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
