"""Who is calling, over HTTP: missing, malformed, expired and unverifiable credentials are
401 `UNAUTHENTICATED` with a short reason and reach no upstream; the JWKS down and back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from invitation_gateway.app import create_app
from invitation_gateway.callers.jwt import MIN_REFETCH_INTERVAL
from invitation_gateway.domain.invitations import TargetKind
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.settings import (
    AuthSettings,
    PolicySettings,
)
from tests.support.clock import FakeClock
from tests.support.documents import CREATE
from tests.support.gateway import app_client
from tests.support.jwks_server import ISSUER, JwksServer, Signer, claims
from tests.support.secured import (
    GET,
    POLICY,
    Secured,
    org_input,
    seeded_id,
)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing credentials"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "unsupported scheme"),
        ({"authorization": "Bearer not.a.jwt"}, "malformed token"),
        ({"x-api-key": "igw_" + "x" * 43}, "unknown api key"),
    ],
    ids=["none", "basic", "garbage", "unknown-key"],
)
async def test_requests_without_valid_credentials_are_401_and_reach_no_upstream(
    secured: Secured, headers: dict[str, str], reason: str
) -> None:
    """No or bad credentials: HTTP 401, one UNAUTHENTICATED error with a short reason."""
    response = await secured.post(CREATE, org_input(secured.sandbox, "x@example.com"), **headers)
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}
    assert secured.upstream_calls() == 0


async def test_an_expired_session_token_is_401_expired(secured: Secured) -> None:
    """A Clerk session token past its exp is refused as `expired`."""
    token = secured.signer.token(claims(exp=1_000_000, iat=999_000, nbf=999_000))
    response = await secured.post(GET, {"id": "x"}, authorization=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "expired"


async def test_the_gateway_starts_with_the_jwks_down_and_recovers(
    sandbox: Sandbox, jwks: JwksServer, tmp_path: Path
) -> None:
    """JWKS down: the gateway starts and a token is 401 `keys unavailable`, never accepted;
    JWKS back: the same token is accepted at the next allowed fetch, with no restart."""
    signer = Signer(
        "rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    jwks.serve(signer)
    jwks.status = 503  # down from the start
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.replace("@DIRECTORY@", sandbox.seed.directory_id))
    settings = sandbox.settings(
        auth=AuthSettings(mode="enforced", jwks_url=jwks.url, issuer=ISSUER),
        policy=PolicySettings(file=policy_file),
    )
    clock = FakeClock(1000.0)  # the JWKS cache's: the next fetch is moved to, not waited for
    app = create_app(settings, transport=sandbox.transport(), environ={}, interval_clock=clock)
    org = sandbox.seed.organization_id
    token = signer.token(claims(sub="user_admin", o={"id": org, "rol": "admin"}))
    variables = {"id": seeded_id(sandbox, TargetKind.CLERK_ORGANIZATION)}
    async with app_client(app) as http:

        async def ask() -> httpx.Response:
            return await http.post(
                "/graphql",
                json={"query": GET, "variables": variables},
                headers={"authorization": f"Bearer {token}"},
            )

        assert (await http.get("/healthz")).status_code == 200  # started, the JWKS unread
        for _ in range(2):
            refused = await ask()
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["extensions"]["reason"] == "keys unavailable"
            jwks.status = 200  # back, but not refetched before the interval is over
        assert jwks.fetches == 1
        clock.advance(MIN_REFETCH_INTERVAL)
        accepted = await ask()  # the same token
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["data"]["invitation"]["status"] == "PENDING"
        assert jwks.fetches == 2
