"""The checks of `check-config`: one probe per part `serve` would use, each within a timeout.

A check names its part and where it is, and probes it with the factory the app's lifespan
uses: the probe returns the `ok` line of detail, or raises `_Failed` with the failed one.
`bounded` runs a check and turns whatever happens (a timeout, a failure, even a bug in the
check) into a `CheckResult`, so that one part never hides the others.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from redis.exceptions import RedisError

from ..accountability import DEFAULT_AUDIT_PATH
from ..audit import AuditLog, AuditUnavailable, database_url
from ..callers._jwks import JwksUnavailable, fetch_jwks
from ..connections_file import NamedConnection
from ..domain.errors import ProviderError
from ..idempotency import Claimed, open_store
from ..limits import LimiterUnavailable, open_limiter
from ..providers.answers import provider_name
from ..providers.auth import AuthFlowError
from ..providers.reliability import RetryPolicy
from ..security import SecurityConfig, open_authenticator
from ..settings import ClerkSettings, ConductorOneSettings, Settings
from ..upstreams import conductorone_config, open_connection
from ._masking import mask, mask_url, plain
from ._report import CheckResult, one_line

# The package's logger, as before the checks had a module of their own.
logger = logging.getLogger(__package__)


class _Failed(Exception):
    """A check found its part unusable; `str()` is the whole line of detail."""


@dataclass(frozen=True, slots=True)
class Check:
    """A part, where it is (for a timeout's message), and the probe: the ok detail, or raises."""

    part: str
    where: str
    run: Callable[[], Awaitable[str]]


async def bounded(check: Check, budget: float) -> CheckResult:
    """Run `check` within `budget` seconds; every outcome is a result, never an exception."""
    try:
        async with asyncio.timeout(budget):
            return CheckResult(check.part, True, one_line(await check.run()))
    except TimeoutError:
        return CheckResult(check.part, False, f"{check.where}: no answer within {budget:g} s")
    except _Failed as exc:
        return CheckResult(check.part, False, one_line(str(exc)))
    except Exception as exc:  # a bug in a check must not hide the other parts' results
        logger.debug("check %s failed unexpectedly", check.part, exc_info=True)
        detail = f"{check.where}: unexpected {type(exc).__name__}: {exc}"
        return CheckResult(check.part, False, one_line(detail))


def connection_check(named: NamedConnection, transport: httpx.AsyncBaseTransport | None) -> Check:
    """The connection's own readiness probe (`connection.health`): one GET, one attempt."""
    part = f"{named.provider}.{named.name}"
    config = named.settings
    if isinstance(config, ConductorOneSettings):
        base_url = conductorone_config(named).base_url  # derived from a client id when unset
        where = f"ConductorOne at {base_url}"
    else:
        where = f"Clerk at {config.api_url}"
    credentials = _credentials(config)

    async def run() -> str:
        connection = open_connection(named, transport)
        client, health = connection.client, connection.health
        if client is None or health is None:  # not an HTTP connection: nothing to reach
            return f"{where} ({credentials}): nothing to probe"
        probe = f"GET {health.path}"
        try:
            answer = await client.send(
                "GET",
                health.path,
                operation="check",
                retry=RetryPolicy.NEVER,
                params=dict(health.params),
            )
        except ProviderError as exc:
            raise _Failed(f"{where} ({credentials}): {exc} on {probe}{_cause(exc)}") from None
        finally:
            await client.aclose()
        if not 200 <= answer.status < 300:
            # Reachable, but refusing what every call needs (e.g. 403: the credentials lack a
            # permission; 404: a wrong base URL): serve would fail its calls the same way.
            name = provider_name(connection.info.provider)
            raise _Failed(
                f"{where} ({credentials}): {name} answered HTTP {answer.status} to {probe}"
            )
        return f"{where} ({credentials}): HTTP {answer.status} to {probe}"

    return Check(part, where, run)


def limiter_check(settings: Settings) -> Check:
    """The rate limiter, checked as start-up checks it: a take of nothing."""
    url = plain(settings.redis_url)
    where = f"Redis at {mask_url(url)}" if url else "in this process"

    async def run() -> str:
        try:
            limiter = open_limiter(url)
        except ValueError as exc:
            raise _Failed(f"GATEWAY_REDIS_URL: {exc}") from None
        try:
            await limiter.take("startup-check", "startup-check", 0, 1)
        except LimiterUnavailable as exc:
            raise _Failed(str(exc)) from None
        finally:
            await limiter.aclose()
        if url:
            return f"{where}: shared by every replica"
        return f"{where}: each replica counts alone (set GATEWAY_REDIS_URL to share them)"

    return Check("rate limits", where, run)


def idempotency_check(settings: Settings) -> Check:
    """The idempotency store: a key claimed and released again, under a scope of its own."""
    url = plain(settings.redis_url)
    path = settings.idempotency.sqlite_path
    if url:
        where = f"Redis at {mask_url(url)}"
    else:
        where = f"SQLite at {path}" if path is not None else "in memory"

    async def run() -> str:
        try:
            store = open_store(redis_url=url, sqlite_path=path)
        except ValueError as exc:
            raise _Failed(f"GATEWAY_REDIS_URL: {exc}") from None
        key = f"check-config-{secrets.token_hex(8)}"
        try:
            claim = await store.claim("check-config", key, "check-config", lease=5.0)
            if isinstance(claim, Claimed):
                await store.release("check-config", key, claim.token)
        except (RedisError, OSError, sqlite3.Error) as exc:
            raise _Failed(f"{where} is unavailable ({type(exc).__name__}: {exc})") from None
        finally:
            await store.aclose()
        if url:
            return f"{where}: shared by every replica"
        return f"{where}: this host only (set GATEWAY_REDIS_URL to share keys across replicas)"

    return Check("idempotency keys", where, run)


def audit_check(settings: Settings) -> Check:
    """The audit store: one connection and `SELECT 1` (`AuditLog.check`); nothing migrated."""
    postgresql = plain(settings.database_url)
    sqlite_path = settings.audit.sqlite_path
    if postgresql:
        where = "PostgreSQL (GATEWAY_DATABASE_URL)"
    else:
        where = f"SQLite at {sqlite_path or DEFAULT_AUDIT_PATH}"

    async def run() -> str:
        if postgresql is None and sqlite_path is None:
            return "none kept (GATEWAY_AUDIT__SQLITE_PATH is empty)"
        try:
            url = database_url(postgresql, sqlite_path or DEFAULT_AUDIT_PATH)
        except ValueError as exc:  # never quotes the URL
            raise _Failed(f"GATEWAY_DATABASE_URL: {exc}") from None
        except OSError as exc:  # the SQLite file's directory cannot be created
            raise _Failed(f"GATEWAY_AUDIT__SQLITE_PATH: {exc}") from None
        log = AuditLog.open(url)
        try:
            await log.check()
        except AuditUnavailable as exc:  # names the store and where, never the password
            raise _Failed(exc.unavailable) from None
        finally:
            await log.aclose()
        return f"{log.location}: connected (serve creates or upgrades the schema at start-up)"

    return Check("audit log", where, run)


def jwks_check(settings: Settings, security: SecurityConfig, budget: float) -> Check:
    """The issuer's JWKS, fetched with the client the authenticator would use."""
    url = settings.auth.jwks_url or ""
    where = f"JWKS at {url}"

    async def run() -> str:
        try:
            _, http = open_authenticator(settings, security)
        except ValueError as exc:  # the verifier refuses the URL (its message never quotes it)
            raise _Failed(f"GATEWAY_AUTH__JWKS_URL: {exc}") from None
        if http is None:  # pragma: no cover - enforced mode with a JWKS URL always has one
            return f"{where}: not used"
        try:
            keys = await fetch_jwks(http, url, fetch_timeout=budget)
        except JwksUnavailable as exc:
            raise _Failed(f"{where}: unavailable ({exc})") from None
        finally:
            await http.aclose()
        kids = ", ".join(key.kid or "(no kid)" for key in keys)
        plural = "s" if len(keys) != 1 else ""
        return f"{where}: {len(keys)} signing key{plural} ({kids})"

    return Check("JWKS", where, run)


def _credentials(config: ClerkSettings | ConductorOneSettings) -> str:
    if isinstance(config, ClerkSettings):
        return f"secret key {mask(plain(config.secret_key) or '')}"
    if config.client_id is not None:
        return f"client {config.client_id}, secret {mask(plain(config.client_secret) or '')}"
    return f"token {mask(plain(config.token) or '')}"


def _cause(exc: BaseException) -> str:
    """The transport or token-flow failure behind a provider error, as ` (Type: message)`."""
    seen: BaseException | None = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, httpx.HTTPError | AuthFlowError):
            message = str(seen)
            return (
                f" ({type(seen).__name__}: {message})" if message else f" ({type(seen).__name__})"
            )
        seen = seen.__cause__ or seen.__context__
    return ""
