"""`diagnose`: the configuration first, as `create_app` checks it, then every part at once.

Every part `serve` would use is reached concurrently, each check within its own time budget.

`store_url_problems` is shared with `serve`, which refuses a malformed store URL by the
variable's name before its lifespan opens the stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import httpx
from redis.asyncio.connection import parse_url as parse_redis_url

from ..accountability import DEFAULT_AUDIT_PATH
from ..app import create_app
from ..audit import database_url
from ..connections_file import NamedConnection
from ..security import SecurityConfig
from ..settings import ConfigurationError, Settings
from ..upstreams import configured_connections, missing_upstream
from ._checks import (
    audit_check,
    bounded,
    connection_check,
    idempotency_check,
    jwks_check,
    limiter_check,
)
from ._masking import secret_values
from ._report import CONFIGURATION, CheckResult, Report

DEFAULT_BUDGET = 5.0  # seconds each check may take


async def diagnose(
    settings: Settings,
    *,
    environ: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None = None,
    connections: Sequence[NamedConnection] = (),
    budget: float = DEFAULT_BUDGET,
) -> Report:
    """Check the configuration, then reach every part concurrently, `budget` seconds each.

    `transport`, `environ` and `connections` mean what they mean to `create_app`: tests point
    the upstreams at the emulators with them.
    """
    problems: list[str] = []
    named: list[NamedConnection] = []
    security: SecurityConfig | None = None
    try:
        named = configured_connections(settings, environ, connections)
    except ConfigurationError as exc:
        problems.append(str(exc))
    else:
        if not named:  # a connections file may be set and still hold no entry
            problems.append(missing_upstream(settings))
    try:
        security = SecurityConfig.from_settings(settings)
    except ConfigurationError as exc:
        problems.append(str(exc))
    if not problems:
        try:  # whatever else the composition root refuses before serving
            create_app(settings, transport=transport, environ=environ, configured=named)
        except ConfigurationError as exc:
            problems.append(str(exc))
    problems.extend(store_url_problems(settings))
    secrets = secret_values(settings, named)
    if problems:
        configuration = CheckResult(CONFIGURATION, False, "\n".join(problems))
    else:
        configuration = CheckResult(CONFIGURATION, True, _summary(named, settings, security))

    checks = [connection_check(n, transport) for n in named]
    checks += [limiter_check(settings), idempotency_check(settings), audit_check(settings)]
    if security is not None and security.mode == "enforced" and settings.auth.jwks_url:
        checks.append(jwks_check(settings, security, budget))
    results = await asyncio.gather(*(bounded(check, budget) for check in checks))
    return Report((configuration, *results), secrets)


def store_url_problems(settings: Settings) -> list[str]:
    """What is wrong with the Redis and PostgreSQL URLs, by variable, never quoting them.

    The stores are opened in the app's lifespan; `serve` checks their URLs before that, so that
    a typo is one line naming the variable rather than a failure deep in start-up.
    """
    problems = []
    if settings.redis_url is not None:
        try:
            parse_redis_url(settings.redis_url.get_secret_value())
        except ValueError as exc:  # redis-py's messages name the problem, not the URL
            problems.append(f"GATEWAY_REDIS_URL: {exc}")
    if settings.database_url is not None:
        try:  # with a PostgreSQL URL, the SQLite path is not used (nor created)
            database_url(settings.database_url.get_secret_value(), DEFAULT_AUDIT_PATH)
        except ValueError as exc:
            problems.append(f"GATEWAY_DATABASE_URL: {exc}")
    return problems


def _summary(
    named: Sequence[NamedConnection], settings: Settings, security: SecurityConfig | None
) -> str:
    names = ", ".join(f"{n.provider}.{n.name}" for n in named)
    plural = "s" if len(named) != 1 else ""
    text = f"{len(named)} upstream connection{plural} ({names})"
    if security is None:  # pragma: no cover - a failed security config is a failed line
        return text
    if security.mode == "disabled":
        return f"{text}; authentication DISABLED: every caller is `dev`"
    callers = [
        *(["API keys"] if security.api_keys is not None else []),
        *([f"JWTs from {settings.auth.issuer}"] if settings.auth.jwks_url else []),
    ]
    return f"{text}; authentication enforced ({', '.join(callers)}), policy {settings.policy.file}"
