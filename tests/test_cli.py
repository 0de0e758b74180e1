"""The `invitation-gateway` command as a person runs it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from clerk_backend_api import Clerk

from invitation_gateway.cli import main


@pytest.fixture(autouse=True)
def _subprocess_clock(real_clock: None) -> None:
    """The CLI runs in a subprocess on the real clock: sign and check tokens on that one too."""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return {**env, **extra}


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as a person runs it, with only the GATEWAY_* variables given here."""
    return subprocess.run(
        [sys.executable, "-m", "invitation_gateway", *args],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_to_start_without_an_upstream_and_says_what_to_set() -> None:
    """`serve` with nothing configured exits 2 naming the variables to set."""
    result = _cli("serve")
    assert result.returncode == 2
    assert "GATEWAY_CLERK__SECRET_KEY" in result.stderr
    assert "GATEWAY_CONDUCTORONE__TOKEN" in result.stderr


def test_bad_configuration_names_the_variable_and_never_echoes_the_secret() -> None:
    """A malformed Clerk secret key is reported by variable name, without its value."""
    result = _cli("serve", GATEWAY_CLERK__SECRET_KEY="pk_live_TOPSECRETVALUE")
    assert result.returncode == 2
    assert "GATEWAY_CLERK__SECRET_KEY" in result.stderr
    assert "TOPSECRETVALUE" not in result.stderr + result.stdout


def test_serve_refuses_to_start_without_a_policy_in_enforced_mode() -> None:
    """`serve` (enforced by default) with an upstream but no policy exits 2 naming the variable."""
    result = _cli("serve", GATEWAY_CLERK__SECRET_KEY="sk_test_secretvalue")
    assert result.returncode == 2
    assert "GATEWAY_POLICY__FILE" in result.stderr
    assert "secretvalue" not in result.stderr + result.stdout


def test_api_key_new_prints_a_key_once_and_the_entry_for_its_hash() -> None:
    """`api-key new NAME`: the key on stdout, the TOML entry (its hash, not the key) on stderr."""
    result = _cli("api-key", "new", "bff")
    key = result.stdout.strip()
    assert key.startswith("igw_")
    assert len(key) >= 36
    assert key not in result.stderr
    assert f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"' in result.stderr
    assert 'name = "bff"' in result.stderr


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    """`export-schema --output F` writes the same SDL as schema.graphql."""
    out = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == (
        Path(__file__).resolve().parents[1] / "schema.graphql"
    ).read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_sandbox_command_serves_graphql_on_a_real_socket() -> None:
    """`invitation-gateway sandbox` listens, answers /healthz, GraphiQL and a real mutation."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "invitation_gateway",
            "sandbox",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "sandbox did not start within 30 s"
            assert process.poll() is None, "sandbox exited early; run scripts/sandbox to see why"
            time.sleep(0.2)
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=5)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        created = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($i: CreateInvitationInput!) { createInvitation(input: $i) { invitation { status } userErrors { code } } }",
                "variables": {
                    "i": {"target": {"kind": "CLERK_APPLICATION"}, "email": "socket@example.com"}
                },
            },
            timeout=5,
        )
        assert created.json()["data"]["createInvitation"] == {
            "invitation": {"status": "PENDING"},
            "userErrors": [],
        }
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def _c1_assertion(client_id: str, client_secret: str, audience: str) -> str:
    """A client assertion as ConductorOne's SDKs sign it (conductorone-notes.md §5.2)."""
    jwk = json.loads(base64.urlsafe_b64decode(client_secret.rsplit(":", 1)[1] + "=="))
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": [audience], "exp": now + 120, "iat": now}
    return jwt.encode(claims, jwt.PyJWK(jwk).key, algorithm="EdDSA")


@pytest.mark.e2e
def test_emulate_serves_both_emulators_for_the_vendors_sdks() -> None:
    """`emulate` prints URLs and credentials, then a Clerk SDK call and C1 calls (OAuth) work."""
    port = _free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "invitation_gateway", "emulate", "--port", str(port)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            _check_emulate(process, port)
        finally:
            process.terminate()
            process.wait(timeout=10)


def _check_emulate(process: subprocess.Popen[str], port: int) -> None:
    """Read the banner, wait until it serves, then call it as the vendor SDKs would."""
    assert process.stdout is not None
    banner = {}
    while "GATEWAY_CONDUCTORONE__DEFAULT_DIRECTORY" not in banner:
        line = process.stdout.readline()
        assert line, "emulate exited before printing its credentials"
        if not line.startswith("#"):
            name, _, value = line.strip().partition("=")
            banner[name] = value
    base = f"http://127.0.0.1:{port}"
    assert banner["CLERK_API_URL"] == f"{base}/clerk/v1"
    assert banner["CONDUCTORONE_BASE_URL"] == f"{base}/conductorone"
    assert banner["CONDUCTORONE_CLIENT_ID"] == f"emulate@127.0.0.1:{port}/pcc"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "emulate did not start within 30 s"
        assert process.poll() is None, "emulate exited early"
        time.sleep(0.2)

    with Clerk(bearer_auth=banner["CLERK_SECRET_KEY"], server_url=banner["CLERK_API_URL"]) as clerk:
        invitation = clerk.organization_invitations.create(
            organization_id=banner["CLERK_ORGANIZATION_ID"],
            email_address="sdk@example.com",
            role="org:member",
            inviter_user_id=banner["CLERK_ADMIN_USER_ID"],
        )
    assert invitation.public_inviter_data is not None
    assert invitation.public_inviter_data.user_id == banner["CLERK_ADMIN_USER_ID"]

    c1 = banner["CONDUCTORONE_BASE_URL"]
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_id": banner["CONDUCTORONE_CLIENT_ID"],
        "client_assertion": _c1_assertion(
            banner["CONDUCTORONE_CLIENT_ID"], banner["CONDUCTORONE_CLIENT_SECRET"], "127.0.0.1"
        ),
    }
    token = httpx.post(banner["CONDUCTORONE_TOKEN_URL"], data=form, timeout=5).json()
    for index, bearer in enumerate((token["access_token"], banner["CONDUCTORONE_TOKEN"])):
        created = httpx.post(
            f"{c1}/api/v1/local-directory-configs/{banner['CONDUCTORONE_DIRECTORY_ID']}/invitations",
            json={"email": f"c1-{index}@example.com", "displayName": "SDK"},
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=5,
        )
        assert created.json()["invitation"]["status"] == "LOCAL_INVITATION_STATUS_PENDING"

    state = httpx.get(f"{base}/clerk/__emulator__/state", timeout=5).json()
    assert any(
        i["email_address"] == "sdk@example.com" for i in state["organization_invitations"].values()
    )


def _serve_in(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`serve` in `tmp_path` (where the embedded stores would go), expected to stop at once."""
    return subprocess.run(
        [sys.executable, "-m", "invitation_gateway", "serve", "--port", str(_free_port())],
        env=_env(GATEWAY_AUTH__MODE="disabled", **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "url", "named"),
    [
        (
            "GATEWAY_REDIS_URL",
            "redis://:redis-Pa55word@127.0.0.1:{port}/0",
            "Redis at redis://127.0.0.1:{port}/0 is unavailable",
        ),
        (
            "GATEWAY_DATABASE_URL",
            "postgresql://u:pg-Pa55word@127.0.0.1:{port}/gw",
            "PostgreSQL at 127.0.0.1:{port}/gw is unavailable (",
        ),
    ],
    ids=["redis", "postgresql"],
)
def test_serve_with_a_store_unreachable_says_so_in_one_line_without_a_traceback(
    tmp_path: Path, variable: str, url: str, named: str
) -> None:
    """A store down at start-up (Redis; the audit log's PostgreSQL): one error line naming it,
    not its password, and a non-zero exit."""
    port = _free_port()
    result = _serve_in(
        tmp_path,
        GATEWAY_CLERK__SECRET_KEY="sk_test_secretvalue",
        **{variable: url.format(port=port)},
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "invitation-gateway:" in line]
    assert f"invitation-gateway: cannot start: {named.format(port=port)}" in line
    assert "Pa55word" not in result.stderr + result.stdout
    assert "secretvalue" not in result.stderr + result.stdout


def test_serve_with_a_malformed_store_url_names_the_variable_and_exits_2(tmp_path: Path) -> None:
    """A PostgreSQL URL with an unknown parameter stops serve before start-up, by variable."""
    result = _serve_in(
        tmp_path,
        GATEWAY_CLERK__SECRET_KEY="sk_test_secretvalue",
        GATEWAY_DATABASE_URL="postgresql://gw:pg-Pa55word@db.example/gw?sslmod=require",
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "invitation-gateway: configuration error: GATEWAY_DATABASE_URL: the PostgreSQL URL has an"
        " unsupported parameter 'sslmod'"
    )
    assert len(result.stderr.splitlines()) == 1
    assert "Pa55word" not in result.stderr + result.stdout


def test_a_file_the_system_refuses_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """`export-schema --output` into a missing directory: one line naming it, no traceback."""
    result = _cli("export-schema", "--output", str(tmp_path / "missing" / "schema.graphql"))
    assert result.returncode == 1
    assert result.stderr == (
        "invitation-gateway: [Errno 2] No such file or directory:"
        f" '{tmp_path / 'missing' / 'schema.graphql'}'\n"
    )


def test_check_config_with_nothing_configured_fails_the_configuration_line(tmp_path: Path) -> None:
    """`check-config` with no upstream: a FAILED configuration line saying what to set, exit 2."""
    result = subprocess.run(
        [sys.executable, "-m", "invitation_gateway", "check-config"],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAILED configuration")
    assert "GATEWAY_CLERK__SECRET_KEY" in first
    assert "Traceback" not in result.stderr
