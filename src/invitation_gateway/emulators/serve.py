"""Both vendor emulators behind one ASGI app, for vendor SDKs, curl and `invitation-gateway emulate`.

    /clerk/...          the Clerk emulator: a Clerk SDK's server_url is `<base>/clerk/v1`
    /conductorone/...   the ConductorOne emulator: the API under `<base>/conductorone/api/v1/`,
                        the OAuth token endpoint at `<base>/conductorone/auth/v1/token`
    /                   a JSON index of the URLs
    each prefix + /__emulator__/...   that emulator's control API (`_control.py`)

The data is the sandbox's seed (`sandbox_seed.seed`) plus an admin of the seeded Clerk
organization, so that `inviter_user_id` and `requesting_user_id` have someone to name.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from invitation_gateway.emulators._common import Clock
from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.emulators.sandbox_seed import SandboxSeed, seed, seed_organization_admin

CLERK_PREFIX = "/clerk"
CONDUCTORONE_PREFIX = "/conductorone"
CLERK_SECRET_KEY = "sk_test_sandbox"  # noqa: S105 - the emulators' well-known fake credentials
CONDUCTORONE_TOKEN = "c1-sandbox-token"  # noqa: S105 - idem


@dataclass
class EmulatorServer:
    """The two emulators, what they were seeded with, the C1 OAuth client, and the app."""

    clerk: ClerkEmulator
    conductorone: ConductorOneEmulator
    seed: SandboxSeed
    admin_user_id: str | None
    c1_client_id: str
    c1_client_secret: str
    app: Starlette

    def credentials(self, base_url: str) -> dict[str, str]:
        """What an SDK needs, as `NAME: value`, for the app served at `base_url`."""
        base_url = base_url.rstrip("/")
        c1_base = base_url + CONDUCTORONE_PREFIX
        values = {
            "CLERK_API_URL": f"{base_url}{CLERK_PREFIX}/v1",
            "CLERK_SECRET_KEY": CLERK_SECRET_KEY,
            "CLERK_ORGANIZATION_ID": self.seed.organization_id,
            "CLERK_ADMIN_USER_ID": self.admin_user_id or "",
            "CONDUCTORONE_BASE_URL": c1_base,
            "CONDUCTORONE_TOKEN": CONDUCTORONE_TOKEN,
            "CONDUCTORONE_CLIENT_ID": self.c1_client_id,
            "CONDUCTORONE_CLIENT_SECRET": self.c1_client_secret,
            "CONDUCTORONE_TOKEN_URL": f"{c1_base}/auth/v1/token",
            "CONDUCTORONE_DIRECTORY_ID": self.seed.directory_id,
        }
        return {name: value for name, value in values.items() if value}

    def banner(self, base_url: str) -> str:
        """The lines `emulate` prints: a summary, then `NAME=value` lines a shell can source."""
        values = self.credentials(base_url)
        gateway = {
            "GATEWAY_CLERK__API_URL": values["CLERK_API_URL"],
            "GATEWAY_CLERK__SECRET_KEY": values["CLERK_SECRET_KEY"],
            "GATEWAY_CONDUCTORONE__BASE_URL": values["CONDUCTORONE_BASE_URL"],
            "GATEWAY_CONDUCTORONE__CLIENT_ID": values["CONDUCTORONE_CLIENT_ID"],
            "GATEWAY_CONDUCTORONE__CLIENT_SECRET": values["CONDUCTORONE_CLIENT_SECRET"],
        }
        if self.seed.directory_id:
            gateway["GATEWAY_CONDUCTORONE__DEFAULT_DIRECTORY"] = self.seed.directory_id
        base_url = base_url.rstrip("/")
        lines = [
            f"# invitation-gateway emulate: Clerk and ConductorOne emulators on {base_url}",
            "# Clerk SDK: Clerk(bearer_auth=CLERK_SECRET_KEY, server_url=CLERK_API_URL)",
            "# ConductorOne: CONDUCTORONE_BASE_URL with Bearer CONDUCTORONE_TOKEN, or the OAuth",
            "#   client (CLIENT_ID, CLIENT_SECRET) at CONDUCTORONE_TOKEN_URL",
            f"# Control API: {base_url}{CLERK_PREFIX}/__emulator__/state, "
            f"{base_url}{CONDUCTORONE_PREFIX}/__emulator__/state",
            *(f"{name}={value}" for name, value in values.items()),
            "# The gateway on these emulators: export these, then `invitation-gateway serve`",
            *(f"{name}={value}" for name, value in gateway.items()),
        ]
        return "\n".join(lines)


def create_emulator_server(
    *, public_host: str = "127.0.0.1", seeded: bool = True, clock: Clock | None = None
) -> EmulatorServer:
    """The emulators, seeded, mounted side by side.

    `public_host` (`host[:port]`, as clients reach the server) names the ConductorOne tenant: its
    OAuth client id is `emulate@<public_host>/pcc` and the token endpoint expects the host
    without its port as the assertion's `aud` (conductorone-notes.md §5.2).
    """
    clerk = ClerkEmulator(secret_key=CLERK_SECRET_KEY, clock=clock)
    c1 = ConductorOneEmulator(token=CONDUCTORONE_TOKEN, clock=clock, host=public_host)
    client_id, client_secret = c1.create_client("emulate")
    sandbox_seed = seed(c1, clerk) if seeded else SandboxSeed.empty()
    admin_user_id = seed_organization_admin(clerk) if seeded else None
    app = Starlette(
        routes=[
            Route("/", _index),
            Mount(CLERK_PREFIX, app=clerk.app),
            Mount(CONDUCTORONE_PREFIX, app=c1.app),
        ]
    )
    return EmulatorServer(clerk, c1, sandbox_seed, admin_user_id, client_id, client_secret, app)


async def _index(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "clerk": {
                "api_url": f"{base}{CLERK_PREFIX}/v1",
                "control": f"{base}{CLERK_PREFIX}/__emulator__",
            },
            "conductorone": {
                "base_url": f"{base}{CONDUCTORONE_PREFIX}",
                "token_url": f"{base}{CONDUCTORONE_PREFIX}/auth/v1/token",
                "control": f"{base}{CONDUCTORONE_PREFIX}/__emulator__",
            },
        }
    )
