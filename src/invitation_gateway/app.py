"""The composition root: `create_app(settings, *, transport=None)` builds the whole gateway.

Nothing happens at import time. The app lifespan opens one pooled upstream client per
connection and closes them on shutdown; the GraphQL context hands each request the service
built from them. Tests and the sandbox pass their own `transport` to reach emulators.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from opentelemetry.sdk.trace.export import SpanExporter
from starlette.responses import HTMLResponse

from .accountability import open_accountability
from .callers.identity import Caller
from .connections_file import NamedConnection
from .idempotency import IdempotentRunner, open_store
from .providers.base import CircuitState
from .providers.readiness import Probe, Readiness
from .schema import Limits, build_schema
from .schema.context import GatewayContext
from .schema.trusted import load_trusted_documents
from .security import SecurityConfig, open_authenticator
from .service import InvitationService
from .service.connections import Connections
from .settings import Settings
from .telemetry import Metrics, Telemetry
from .telemetry.tracing import open_tracing
from .upstreams import configured_connections, open_connection
from .web import graphql_http
from .web.authentication import Authentication
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
from .web.telemetry import RequestTelemetry

GRAPHQL_PATH = "/graphql"


class _GatewayRouter(graphql_http.GraphQLOverHTTPRouter[GatewayContext]):
    """Strawberry's router, speaking GraphQL over HTTP as `web/graphql_http.py` says (media
    types, status codes, well-formed requests), with a GraphiQL page loaded from the gateway."""

    def __init__(self, *args: object, playground_html: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._playground_html = playground_html

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(
            self._playground_html,
            headers={"Content-Security-Policy": playground_csp(self._playground_html)},
        )


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    examples: Sequence[ExampleOperation] = DEFAULT_EXAMPLES,
    environ: Mapping[str, str] | None = None,
    connections: Sequence[NamedConnection] = (),
    configured: Sequence[NamedConnection] | None = None,
    span_exporter: SpanExporter | None = None,
    clock: Callable[[], datetime] = _wall_clock,
    interval_clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """Build the gateway. `transport` replaces the network for every upstream client.

    `environ` holds the variables the connections file names (default: the process's);
    `connections` adds connections beside the configured ones (the sandbox's staging Clerk).
    `configured` is every connection, already read by `configured_connections` (`serve` and
    `check-config` read them first to refuse an empty set): the file is then not read again.
    Traces follow the OTEL_* variables of `environ`; `span_exporter` (tests) turns them on.
    `clock` (timezone-aware now; default the wall clock) is what the service reads dates from,
    e.g. when a keyed create's answer was lost; tests give the emulators the same one.
    `interval_clock` (monotonic seconds) times the JWKS cache, its refetches and the verified
    tokens' memory; readiness's probe cache also measures an interval but stays on the
    monotonic clock itself.
    Anything wrong that can be known before serving (a bad connections, policy or API keys
    file, enforced authentication without a policy) raises `ConfigurationError` here.
    """
    environ = os.environ if environ is None else environ
    named = (
        configured_connections(settings, environ, connections)
        if configured is None
        else list(configured)
    )
    telemetry = Telemetry(Metrics(), open_tracing(environ, exporter=span_exporter))
    security = SecurityConfig.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def unix_clock() -> float:
            return clock().timestamp()

        opened = [open_connection(n, transport, telemetry, clock=unix_clock) for n in named]
        probes = [Probe(c, c.health.path, dict(c.health.params)) for c in opened if c.health]
        keys = settings.idempotency
        store = open_store(
            redis_url=settings.redis_url.get_secret_value() if settings.redis_url else None,
            sqlite_path=keys.sqlite_path,
        )
        runner = IdempotentRunner(store, ttl=keys.ttl_seconds, lease=keys.lease_seconds)
        try:
            accountability = await open_accountability(settings)
        except BaseException:  # a store cannot be reached: close what is already open
            await asyncio.gather(*(c.client.aclose() for c in opened if c.client), store.aclose())
            raise
        app.state.limiter = accountability.limiter
        app.state.service = service = InvitationService(
            Connections(opened),
            runner,
            clock=clock,
            policy=security.policy,
            accounting=accountability.accounting,
        )
        telemetry.metrics.watch_circuits(partial(_circuits, service))
        app.state.readiness = Readiness(probes)
        app.state.authenticator, jwks_client = open_authenticator(
            settings, security, clock=interval_clock
        )
        try:
            yield
        finally:
            await asyncio.gather(
                *(c.client.aclose() for c in opened if c.client),
                *([jwks_client.aclose()] if jwks_client else []),
                store.aclose(),
                accountability.aclose(),
            )
            if telemetry.tracing is not None:
                await asyncio.to_thread(telemetry.tracing.shutdown)  # flushes pending spans

    async def context(request: Request) -> GatewayContext:
        # Set by `Authentication` for every request it lets through: no caller, no context.
        caller: Caller = request.state.caller
        return GatewayContext(
            service=request.app.state.service,
            caller=caller,
            limits_unavailable=getattr(request.state, "limits_unavailable", None),
        )

    app = FastAPI(title="invitation-gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.examples = tuple(examples)
    # Outermost last: CORS answers preflights first, then the body cap, then authentication.
    app.add_middleware(
        Authentication,
        path=GRAPHQL_PATH,
        enforced=security.mode == "enforced",
        requests_per_minute=settings.rate_limit.requests_per_minute,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.graphql.max_body_bytes)
    app.add_middleware(GraphQLRequestErrors, path=GRAPHQL_PATH)
    if settings.cors.allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors.allow_origins,  # never "*" (settings refuse it)
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            max_age=600,
        )
    # Outermost: every answer, a CORS preflight or a 401 included, gets its X-Request-ID.
    app.add_middleware(RequestTelemetry, telemetry=telemetry, path=GRAPHQL_PATH)
    graphql = settings.graphql
    schema = build_schema(
        Limits(
            max_depth=graphql.max_depth,
            max_tokens=graphql.max_tokens,
            max_aliases=graphql.max_aliases,
            max_root_fields=graphql.max_root_fields,
        ),
        introspection=security.introspection,
    )
    router = _GatewayRouter(
        schema,
        context_getter=context,
        playground_html=render_playground(endpoint=GRAPHQL_PATH, examples=examples),
        # No WebSocket transport until subscriptions land with their own authentication.
        subscription_protocols=(),
        # GraphiQL only where the schema may be explored anyway.
        graphql_ide="graphiql" if security.introspection else None,
    )
    if graphql.trusted_documents_file is not None:  # parsed and validated now, once
        router.trusted = load_trusted_documents(
            graphql.trusted_documents_file,
            schema.documents,
            schema,
            only=graphql.trusted_documents_only,
        )
    app.state.schema = schema  # its document cache is worth a look (tests, benchmarks)
    app.include_router(router, prefix=GRAPHQL_PATH)
    app.mount(STATIC_MOUNT, StaticFiles(directory=STATIC_DIR), name="graphiql-static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon; answered so browsers log no 404

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = await telemetry.metrics.render()
        return Response(body, media_type=telemetry.metrics.content_type)

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


async def _circuits(service: InvitationService) -> list[tuple[str, str, bool]]:
    """Each connection's breaker as `/metrics` shows it: (provider, connection, is open)."""
    return [
        (info.provider.value, info.name, state is CircuitState.OPEN)
        for info, state in await service.connection_health()
    ]
