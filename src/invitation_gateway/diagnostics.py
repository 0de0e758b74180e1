"""`invitation-gateway check-config`: every part `serve` would use, reached once, one line each.

Each check opens its part with the factories the app's lifespan uses (`upstreams`,
`open_limiter`, `open_store`, `AuditLog`, `open_authenticator`), touches it once as start-up or
`/readyz` would, closes it, and gives a `CheckResult`: the part, ok or failed, one line of
detail. The checks run concurrently, each within its own timeout, so a hung part neither hides
nor delays the others. The configuration itself is checked first, by `create_app` itself: a
problem that would stop `serve` is a failed `configuration` line, never a traceback.

Nothing secret is printed. Credentials are shown masked (`sk_live_…abcd`, `***`), URLs without
their password, and every line is scrubbed of every secret value the configuration holds,
whatever a driver put in an error message.

    report = await diagnose(settings, environ=os.environ)                   # what serve uses
    report = await diagnose(settings, environ={}, transport=sandbox.transport())  # tests
    print("\\n".join(report.lines())); exit(report.exit_status)
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import SecretStr
from redis.asyncio.connection import parse_url as parse_redis_url
from redis.exceptions import RedisError

from .accountability import DEFAULT_AUDIT_PATH
from .app import create_app
from .audit import AuditLog, AuditUnavailable, database_url
from .callers._jwks import JwksUnavailable, fetch_jwks
from .connections_file import NamedConnection
from .domain.errors import ProviderError
from .idempotency import Claimed, open_store
from .limits import LimiterUnavailable, open_limiter
from .providers.answers import provider_name
from .providers.auth import AuthFlowError
from .providers.reliability import RetryPolicy
from .security import SecurityConfig, open_authenticator
from .settings import (
    MISSING_UPSTREAM,
    ClerkSettings,
    ConductorOneSettings,
    ConfigurationError,
    Settings,
)
from .upstreams import conductorone_config, configured_connections, open_connection

logger = logging.getLogger(__name__)

CONFIGURATION = "configuration"
DEFAULT_BUDGET = 5.0  # seconds each check may take
# Prefixes that say what a secret is (a test or live Clerk key, a C1 client secret), not what
# it holds: shown, with at most the last 4 characters of a long enough remainder.
_PUBLIC_PREFIXES = ("sk_test_", "sk_live_", "secret-token:conductorone.com:v1:")
_SHORTEST_SCRUBBED = 4  # shorter "secrets" would mangle every line they happen to occur in
_DETAIL_LIMIT = 400


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One part: `ok` or not, and what was found, in one line (several for a bad file)."""

    part: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Report:
    """Every check's result, in a stable order, and the secret values to scrub from output."""

    results: tuple[CheckResult, ...]
    secret_values: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def exit_status(self) -> int:
        """0 all ok; 2 the configuration is unusable (as `serve` exits); 1 something unreachable."""
        if self.ok:
            return 0
        bad_config = any(r.part == CONFIGURATION and not r.ok for r in self.results)
        return 2 if bad_config else 1

    def lines(self) -> list[str]:
        """`ok     <part>  <detail>` or `FAILED <part>  <detail>`, aligned, secrets scrubbed."""
        width = max((len(result.part) for result in self.results), default=0)
        lines = []
        for result in self.results:
            status = "ok" if result.ok else "FAILED"
            for detail in result.detail.splitlines() or [""]:
                lines.append(
                    scrub(f"{status:<6} {result.part:<{width}}  {detail}", self.secret_values)
                )
        return lines

    @property
    def failures(self) -> int:
        return sum(not result.ok for result in self.results)


def configuration_failure(message: str, secret_values: Sequence[str] = ()) -> Report:
    """The report when not even the settings load: one failed `configuration` part."""
    return Report((CheckResult(CONFIGURATION, False, message),), tuple(secret_values))


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
    if not settings.configured_upstreams and not connections:
        problems.append(MISSING_UPSTREAM)
    try:
        named = configured_connections(settings, environ, connections)
    except ConfigurationError as exc:
        problems.append(str(exc))
    try:
        security = SecurityConfig.from_settings(settings)
    except ConfigurationError as exc:
        problems.append(str(exc))
    if not problems:
        try:  # whatever else the composition root refuses before serving
            create_app(settings, transport=transport, environ=environ, connections=connections)
        except ConfigurationError as exc:
            problems.append(str(exc))
    problems.extend(store_url_problems(settings))
    secret_values = _secret_values(settings, named)
    if problems:
        configuration = CheckResult(CONFIGURATION, False, "\n".join(problems))
    else:
        configuration = CheckResult(CONFIGURATION, True, _summary(named, settings, security))

    checks = [_connection_check(n, transport) for n in named]
    checks += [_limiter_check(settings), _idempotency_check(settings), _audit_check(settings)]
    if security is not None and security.mode == "enforced" and settings.auth.jwks_url:
        checks.append(_jwks_check(settings, security, budget))
    results = await asyncio.gather(*(_bounded(check, budget) for check in checks))
    return Report((configuration, *results), secret_values)


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


def mask(secret: str) -> str:
    """A secret as it may be shown: `sk_live_…abcd` (long ones), `sk_test_***`, `***`."""
    prefix = next((p for p in _PUBLIC_PREFIXES if secret.startswith(p)), "")
    rest = secret[len(prefix) :]
    # The last 4 characters tell two keys apart; shown only when at least 12 others stay hidden.
    return f"{prefix}…{rest[-4:]}" if len(rest) >= 16 else f"{prefix}***"


def mask_url(url: str) -> str:
    """`url` with its password (user-info or `?password=`) replaced by `***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if has_password else netloc
    query = parts.query
    if "password" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def scrub(text: str, secret_values: Sequence[str]) -> str:
    """`text` with every secret value replaced by `***`, longest first."""
    for value in sorted(secret_values, key=len, reverse=True):
        if len(value) >= _SHORTEST_SCRUBBED:
            text = text.replace(value, "***")
    return text


# --- the checks ----------------------------------------------------------------------------


class _Failed(Exception):
    """A check found its part unusable; `str()` is the whole line of detail."""


@dataclass(frozen=True, slots=True)
class _Check:
    """A part, where it is (for a timeout's message), and the probe: the ok detail, or raises."""

    part: str
    where: str
    run: Callable[[], Awaitable[str]]


async def _bounded(check: _Check, budget: float) -> CheckResult:
    try:
        async with asyncio.timeout(budget):
            return CheckResult(check.part, True, _one_line(await check.run()))
    except TimeoutError:
        return CheckResult(check.part, False, f"{check.where}: no answer within {budget:g} s")
    except _Failed as exc:
        return CheckResult(check.part, False, _one_line(str(exc)))
    except Exception as exc:  # a bug in a check must not hide the other parts' results
        logger.debug("check %s failed unexpectedly", check.part, exc_info=True)
        detail = f"{check.where}: unexpected {type(exc).__name__}: {exc}"
        return CheckResult(check.part, False, _one_line(detail))


def _connection_check(named: NamedConnection, transport: httpx.AsyncBaseTransport | None) -> _Check:
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

    return _Check(part, where, run)


def _limiter_check(settings: Settings) -> _Check:
    """The rate limiter, checked as start-up checks it: a take of nothing."""
    url = _plain(settings.redis_url)
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

    return _Check("rate limits", where, run)


def _idempotency_check(settings: Settings) -> _Check:
    """The idempotency store: a key claimed and released again, under a scope of its own."""
    url = _plain(settings.redis_url)
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

    return _Check("idempotency keys", where, run)


def _audit_check(settings: Settings) -> _Check:
    """The audit store: one connection and `SELECT 1` (`AuditLog.check`); nothing migrated."""
    postgresql = _plain(settings.database_url)
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
            raise _Failed(f"{exc.location} is unavailable ({exc.reason})") from None
        finally:
            await log.aclose()
        return f"{log.location}: connected (serve creates or upgrades the schema at start-up)"

    return _Check("audit log", where, run)


def _jwks_check(settings: Settings, security: SecurityConfig, budget: float) -> _Check:
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

    return _Check("JWKS", where, run)


# --- helpers -------------------------------------------------------------------------------


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


def _credentials(config: ClerkSettings | ConductorOneSettings) -> str:
    if isinstance(config, ClerkSettings):
        return f"secret key {mask(_plain(config.secret_key) or '')}"
    if config.client_id is not None:
        return f"client {config.client_id}, secret {mask(_plain(config.client_secret) or '')}"
    return f"token {mask(_plain(config.token) or '')}"


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


def _secret_values(settings: Settings, named: Sequence[NamedConnection]) -> tuple[str, ...]:
    """Every secret the configuration holds, as written and percent-decoded."""
    found: list[str] = []
    for config in (settings.clerk, settings.conductorone, *(n.settings for n in named)):
        if isinstance(config, ClerkSettings):
            found.append(_plain(config.secret_key) or "")
        else:
            found += [_plain(config.token) or "", _plain(config.client_secret) or ""]
    for url in (_plain(settings.redis_url), _plain(settings.database_url)):
        if url:
            parts = urlsplit(url)
            found += [parts.password or ""]
            found += [v for k, v in parse_qsl(parts.query) if k == "password"]
    return tuple({form for value in found if value for form in (value, unquote(value))})


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


_WHITESPACE = re.compile(r"\s+")


def _one_line(text: str) -> str:
    """A driver's message, folded onto one line and cut to a readable length."""
    folded = _WHITESPACE.sub(" ", text).strip()
    return folded if len(folded) <= _DETAIL_LIMIT else folded[: _DETAIL_LIMIT - 1] + "…"
