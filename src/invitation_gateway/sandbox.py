"""The sandbox: the real gateway wired to in-process, stateful emulators of both vendors.

Frontend developers use it with no vendor account; the test suite uses the same pieces. The
gateway's upstream clients make real HTTP requests to `conductorone.sandbox` and
`clerk.sandbox`, which a routing transport hands to the emulators' ASGI apps. The emulators are
also mounted under `/emulators/…` so a person can look at their state or inject faults
(`POST /emulators/clerk/__emulator__/faults`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from .app import create_app
from .connections_file import NamedConnection
from .domain.invitations import InvitationRef, InvitationTarget, TargetKind
from .emulators.clerk import ClerkEmulator
from .emulators.conductorone import ConductorOneEmulator
from .emulators.sandbox_seed import SandboxSeed, seed, seed_staging
from .providers.routing import HostRoutingTransport
from .schema import global_id
from .settings import (
    AuditSettings,
    AuthSettings,
    ClerkSettings,
    ConductorOneSettings,
    ConnectionsSettings,
    GraphQLSettings,
    IdempotencySettings,
    RateLimitSettings,
    Settings,
)
from .web.examples import examples

C1_HOST = "conductorone.sandbox"
C1_URL = f"http://{C1_HOST}"
CLERK_HOST = "clerk.sandbox"
CLERK_URL = f"http://{CLERK_HOST}/v1"
CLERK_STAGING_HOST = "clerk-staging.sandbox"
C1_TOKEN = "c1-sandbox-token"  # noqa: S105 - the emulators' fake credentials
"""A static token the ConductorOne emulator also accepts, for callers that skip OAuth."""
CLERK_SECRET_KEY = "sk_test_sandbox"  # noqa: S105 - idem
CLERK_STAGING_SECRET_KEY = "sk_test_sandbox_staging"  # noqa: S105 - idem


@dataclass
class Sandbox:
    """The emulators, their seed, and a transport that reaches them.

    The gateway reaches ConductorOne with OAuth client credentials minted by the emulator, so the
    sandbox runs the real token flow (assertion, token request, caching, refresh on 401).
    """

    conductorone: ConductorOneEmulator
    clerk: ClerkEmulator
    clerk_staging: ClerkEmulator  # a second Clerk instance: the connection named "staging"
    seed: SandboxSeed
    c1_client_id: str
    c1_client_secret: SecretStr
    staging_organization_id: str = ""

    @classmethod
    def create(cls, *, seeded: bool = True, clock: Callable[[], datetime] | None = None) -> Sandbox:
        """Emulators seeded relative to `clock` (default: the wall clock)."""
        c1 = ConductorOneEmulator(token=C1_TOKEN, host=C1_HOST, clock=clock)
        clerk = ClerkEmulator(secret_key=CLERK_SECRET_KEY, clock=clock)
        staging = ClerkEmulator(secret_key=CLERK_STAGING_SECRET_KEY, clock=clock)
        client_id, client_secret = c1.create_client("sandbox")
        return cls(
            c1,
            clerk,
            staging,
            seed(c1, clerk) if seeded else SandboxSeed.empty(),
            client_id,
            SecretStr(client_secret),
            seed_staging(staging) if seeded else "",
        )

    def transport(self) -> httpx.AsyncBaseTransport:
        return HostRoutingTransport(
            {
                C1_HOST: httpx.ASGITransport(app=self.conductorone.app),
                CLERK_HOST: httpx.ASGITransport(app=self.clerk.app),
                CLERK_STAGING_HOST: httpx.ASGITransport(app=self.clerk_staging.app),
            }
        )

    def connections(self) -> list[NamedConnection]:
        """The connections beside the `default` ones: the staging Clerk instance."""
        staging = ClerkSettings(
            api_url=f"http://{CLERK_STAGING_HOST}/v1",
            secret_key=SecretStr(CLERK_STAGING_SECRET_KEY),
        )
        return [NamedConnection("clerk", "staging", staging)]

    def settings(self, **overrides: object) -> Settings:
        # The emulators forget everything on restart, so by default their idempotency keys do too.
        overrides.setdefault("idempotency", IdempotencySettings(sqlite_path=None))
        overrides.setdefault("connections", ConnectionsSettings())  # never the env's file
        # Frontend developers open it with no credentials: no authentication (a loud warning
        # at start-up), and GraphiQL with introspection.
        overrides.setdefault("auth", AuthSettings(mode="disabled"))
        overrides.setdefault("graphql", GraphQLSettings(introspection=True))
        # No audit log, and budgets no one trying things out will meet (serve keeps both).
        overrides.setdefault("audit", AuditSettings(sqlite_path=None))
        overrides.setdefault(
            "rate_limit", RateLimitSettings(requests_per_minute=100_000, creates_per_minute=100_000)
        )
        return Settings(
            conductorone=ConductorOneSettings(
                base_url=C1_URL,
                client_id=self.c1_client_id,
                client_secret=self.c1_client_secret,
                default_directory=self.seed.directory_id or None,
            ),
            clerk=ClerkSettings(api_url=CLERK_URL, secret_key=SecretStr(CLERK_SECRET_KEY)),
            **overrides,  # type: ignore[arg-type]
        )


def create_sandbox_app(sandbox: Sandbox | None = None) -> FastAPI:
    """The gateway on the sandbox, with GraphiQL examples that use the seeded ids."""
    sandbox = sandbox or Sandbox.create()
    revocable = None
    if sandbox.seed.organization_invitation_id:
        revocable = global_id.encode(
            InvitationRef(
                InvitationTarget(TargetKind.CLERK_ORGANIZATION, sandbox.seed.organization_id),
                sandbox.seed.organization_invitation_id,
            )
        )
    app = create_app(
        sandbox.settings(),
        transport=sandbox.transport(),
        examples=examples(
            directory_id=sandbox.seed.directory_id,
            organization_id=sandbox.seed.organization_id,
            revocable_id=revocable,
            staging_organization_id=sandbox.staging_organization_id or None,
        ),
        # No connections file (its connections are its own), but the OTEL_* variables: traces
        # can be tried on the sandbox (README "Operating").
        environ={k: v for k, v in os.environ.items() if k.startswith("OTEL_")},
        connections=sandbox.connections(),
    )
    app.mount("/emulators/conductorone", sandbox.conductorone.app)
    app.mount("/emulators/clerk", sandbox.clerk.app)
    app.mount("/emulators/clerk-staging", sandbox.clerk_staging.app)
    app.state.sandbox = sandbox
    return app
