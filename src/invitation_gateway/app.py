"""The composition root: `create_app(settings, *, transport=None)` builds the whole gateway.

Nothing happens at import time. The app lifespan opens one pooled upstream client per
connection and closes them on shutdown; the GraphQL context hands each request the service
built from them. Tests and the sandbox pass their own `transport` to reach emulators.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse
from strawberry.fastapi import GraphQLRouter

from .domain.invitations import DEFAULT_CONNECTION, Provider, TargetKind
from .idempotency import IdempotentRunner, open_store
from .providers._clerk_wire import API_VERSION as CLERK_API_VERSION
from .providers.auth import BearerAuth
from .providers.base import ConnectionInfo
from .providers.clerk import ClerkApplication, ClerkOrganization
from .providers.conductorone import ConductorOneDirectory
from .providers.conductorone_auth import ClientCredentialsAuth
from .providers.http import UpstreamClient, path
from .providers.readiness import Probe, Readiness
from .providers.registry import Connection, Connections
from .schema import Limits, build_schema
from .schema.context import GatewayContext
from .service import InvitationService
from .settings import Settings
from .web.examples import DEFAULT_EXAMPLES
from .web.limits import BodySizeLimit
from .web.playground import (
    STATIC_DIR,
    STATIC_MOUNT,
    ExampleOperation,
    playground_csp,
    render_playground,
)
from .web.request_errors import GraphQLRequestErrors

GRAPHQL_PATH = "/graphql"


def _build_probes(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> list[Probe]:
    probes: list[Probe] = []
    c1 = settings.conductorone
    if c1.configured:
        assert c1.base_url is not None
        auth: httpx.Auth
        if c1.client_id is not None and c1.client_secret is not None:
            # OAuth client credentials (conductorone-notes.md §5): the token endpoint lives on
            # the tenant host, and the token request goes through this same pooled client.
            auth = ClientCredentialsAuth.for_base_url(
                client_id=c1.client_id,
                client_secret=c1.client_secret.get_secret_value(),
                base_url=c1.base_url,
            )
        else:
            assert c1.token is not None
            auth = BearerAuth(c1.token)
        client = UpstreamClient(
            provider=Provider.CONDUCTORONE,
            base_url=c1.base_url,
            auth=auth,
            request_id_header="request-id",
            transport=transport,
            reliability=c1.reliability(),
        )
        info = ConnectionInfo(
            name=DEFAULT_CONNECTION,
            provider=Provider.CONDUCTORONE,
            kinds=(TargetKind.CONDUCTORONE_DIRECTORY,),
            default_target_id=c1.default_directory,
        )
        port = ConductorOneDirectory(client)
        probes.append(
            Probe(
                Connection(info, {port.kind: port}, client),
                path("api", "v1", "local-directory-configs"),
                {"page_size": "10"},
            )
        )
    clerk = settings.clerk
    if clerk.configured:
        assert clerk.secret_key is not None
        client = UpstreamClient(
            provider=Provider.CLERK,
            base_url=clerk.api_url,
            auth=BearerAuth(clerk.secret_key),
            request_id_header="cf-ray",
            headers={"Clerk-API-Version": CLERK_API_VERSION},
            transport=transport,
            reliability=clerk.reliability(),
        )
        info = ConnectionInfo(
            name=DEFAULT_CONNECTION,
            provider=Provider.CLERK,
            kinds=(TargetKind.CLERK_APPLICATION, TargetKind.CLERK_ORGANIZATION),
        )
        application = ClerkApplication(client)
        organization = ClerkOrganization(client)
        probes.append(
            Probe(
                Connection(
                    info, {application.kind: application, organization.kind: organization}, client
                ),
                path("invitations"),
                {"limit": "1"},
            )
        )
    return probes


class _GatewayRouter(GraphQLRouter[GatewayContext, None]):
    """Strawberry's router, with a GraphiQL page that loads from the gateway itself."""

    def __init__(self, *args: object, playground_html: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._playground_html = playground_html

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(
            self._playground_html,
            headers={"Content-Security-Policy": playground_csp(self._playground_html)},
        )


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    examples: Sequence[ExampleOperation] = DEFAULT_EXAMPLES,
) -> FastAPI:
    """Build the gateway. `transport` replaces the network for every upstream client."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        probes = _build_probes(settings, transport)
        keys = settings.idempotency
        store = open_store(
            redis_url=settings.redis_url.get_secret_value() if settings.redis_url else None,
            sqlite_path=keys.sqlite_path,
        )
        runner = IdempotentRunner(store, ttl=keys.ttl_seconds, lease=keys.lease_seconds)
        app.state.service = InvitationService(Connections(u.connection for u in probes), runner)
        app.state.readiness = Readiness(probes)
        try:
            yield
        finally:
            await asyncio.gather(
                *(u.connection.client.aclose() for u in probes if u.connection.client),
                store.aclose(),
            )

    async def context(request: Request) -> GatewayContext:
        return GatewayContext(service=request.app.state.service)

    app = FastAPI(title="invitation-gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.examples = tuple(examples)
    app.add_middleware(BodySizeLimit, max_bytes=settings.graphql.max_body_bytes)
    app.add_middleware(GraphQLRequestErrors, path=GRAPHQL_PATH)
    router = _GatewayRouter(
        build_schema(
            Limits(
                max_depth=settings.graphql.max_depth,
                max_tokens=settings.graphql.max_tokens,
                max_aliases=settings.graphql.max_aliases,
            )
        ),
        context_getter=context,
        playground_html=render_playground(endpoint=GRAPHQL_PATH, examples=examples),
    )
    app.include_router(router, prefix=GRAPHQL_PATH)
    app.mount(STATIC_MOUNT, StaticFiles(directory=STATIC_DIR), name="graphiql-static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon; answered so browsers log no 404

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request, strict: bool = False) -> JSONResponse:
        # 503 only for what is wrong with this replica; an upstream outage, which every
        # replica shares, shows in the body (or as a 503 with `?strict=true`). See readiness.py.
        readiness: Readiness | None = getattr(request.app.state, "readiness", None)
        body: dict[str, object]
        if readiness is None:  # the lifespan has not run: nothing is wired to serve with
            status, body = 503, {"status": "starting", "connections": []}
        else:
            status, body = (await readiness.report()).answer(strict=strict)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    return app
