"""From settings to open upstream connections: the wiring half of the composition root.

The environment configures the connection named `default` of each provider; the connections
file (`GATEWAY_CONNECTIONS__FILE`, read by `connections_file.py`) adds named ones. Settings are
plain data: here they become each vendor's own config, the vendor judging the shape of its
credentials, and each vendor's `open_connection` builds the pooled client, credentials and
adapters (its wire details stay in its package).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import httpx

from .configuration_error import ConfigurationError
from .connection_settings import (
    MISSING_UPSTREAM,
    ClerkSettings,
    ConductorOneSettings,
    UpstreamPolicy,
)
from .connections_file import NamedConnection, load_connections
from .domain.invitations import DEFAULT_CONNECTION
from .providers import clerk, conductorone
from .providers.connection import Connection
from .providers.reliability import Reliability
from .settings import Settings
from .telemetry import Telemetry

# Clerk's secret keys start sk_test_ or sk_live_ (clerk-notes.md, line 50): anything else (a
# publishable pk_… key pasted by mistake) is a start-up error, not a 401 on the first request.
_CLERK_SECRET_KEY_PREFIXES = ("sk_test_", "sk_live_")


def environment_connections(settings: Settings) -> list[NamedConnection]:
    """The connections the `GATEWAY_<PROVIDER>__*` variables configure, each named `default`."""
    named: list[NamedConnection] = []
    if settings.conductorone.configured:
        named.append(NamedConnection("conductorone", DEFAULT_CONNECTION, settings.conductorone))
    if settings.clerk.configured:
        named.append(NamedConnection("clerk", DEFAULT_CONNECTION, settings.clerk))
    return named


def configured_connections(
    settings: Settings, environ: Mapping[str, str], extra: Sequence[NamedConnection] = ()
) -> list[NamedConnection]:
    """Every configured connection: the environment's `default`s, the file's, then `extra`.

    Reads the connections file (no network). Raises `ConnectionsFileError` for a bad file, and
    `ConfigurationError` for a connection the root refuses (a credential of the wrong shape, a
    budget longer than the idempotency lease, a name used twice), by variable or by file, line
    and entry; never a secret.
    """
    named = environment_connections(settings)
    if settings.connections.file is not None:
        named.extend(load_connections(settings.connections.file, environ))
    named.extend(extra)
    seen: set[tuple[str, str]] = set()
    for connection in named:
        key = (connection.provider, connection.name)
        if key in seen:
            raise ConfigurationError(
                connection.explain(f"a second {connection.provider} connection named {key[1]!r}")
            )
        seen.add(key)
    lease = settings.idempotency.lease_seconds
    for connection in named:
        total = connection.settings.total_timeout
        if total >= lease:
            # An idempotency claim must outlive the create it guards, or a duplicate could take
            # the key over while the first create is still running (see Settings).
            variable = f"GATEWAY_{connection.provider.upper()}__TOTAL_TIMEOUT"
            raise ConfigurationError(
                connection.explain(
                    f"{variable} ({total:g} s) must be shorter than"
                    f" GATEWAY_IDEMPOTENCY__LEASE_SECONDS ({lease:g} s)"
                )
            )
    check_credentials(named)
    return named


def check_credentials(named: Sequence[NamedConnection]) -> None:
    """Each vendor's verdict on its credentials' shapes, now rather than at the first call.

    `ConfigurationError` naming the variable (and, for a file entry, its file, line and entry),
    never the value.
    """
    for connection in named:
        vendor_config(connection)


def missing_upstream(settings: Settings) -> str:
    """Why there is nothing to serve, in one line: what to set, or what the file lacks."""
    if settings.connections.file is None:
        return MISSING_UPSTREAM
    return (
        f"no upstream is configured: {settings.connections.file} (GATEWAY_CONNECTIONS__FILE) "
        "has no [clerk.<name>] or [conductorone.<name>] entry, and neither "
        "GATEWAY_CLERK__SECRET_KEY nor GATEWAY_CONDUCTORONE__* credentials are set"
    )


def open_connection(
    named: NamedConnection,
    transport: httpx.AsyncBaseTransport | None,
    telemetry: Telemetry | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> Connection:
    """One vendor connection, opened by its vendor's factory from plain values.

    `clock` is the wall clock in Unix seconds, for what the connection dates.
    """
    config = vendor_config(named)
    if isinstance(config, clerk.ClerkConfig):
        return clerk.open_connection(config, transport, telemetry, clock=clock)
    return conductorone.open_connection(config, transport, telemetry, clock=clock)


def vendor_config(
    named: NamedConnection,
) -> clerk.ClerkConfig | conductorone.ConductorOneConfig:
    """The vendor's own config for one connection, its credentials' shapes checked."""
    if isinstance(named.settings, ClerkSettings):
        return clerk_config(named)
    return conductorone_config(named)


def reliability(policy: UpstreamPolicy) -> Reliability:
    """One connection's settings as the upstream path's budgets, retries and breaker."""
    return Reliability(
        connect_timeout=policy.connect_timeout,
        read_timeout=policy.read_timeout,
        write_timeout=policy.read_timeout,
        total_timeout=policy.total_timeout,
        attempts=policy.retry_attempts,
        wait_initial=min(0.2, policy.retry_max_wait),
        wait_max=policy.retry_max_wait,
        wait_jitter=min(0.2, policy.retry_max_wait),
        max_retry_after=policy.max_retry_after,
        breaker_threshold=policy.breaker_threshold,
        breaker_cooldown=policy.breaker_cooldown,
    )


def clerk_config(named: NamedConnection) -> clerk.ClerkConfig:
    """The Clerk config; a key of the wrong shape is reported in the entry's own terms."""
    config = named.settings
    if not isinstance(config, ClerkSettings):
        raise TypeError("not a Clerk connection")  # callers dispatch on the type
    if config.secret_key is None:  # load_connections and Settings never let one through
        raise ConfigurationError(named.explain("GATEWAY_CLERK__SECRET_KEY is not set"))
    if not config.secret_key.get_secret_value().startswith(_CLERK_SECRET_KEY_PREFIXES):
        # Never echo the value: only say what shape it must have.
        raise ConfigurationError(
            named.explain(
                "GATEWAY_CLERK__SECRET_KEY: must be a Clerk secret key (sk_test_… or sk_live_…)"
            )
        )
    return clerk.ClerkConfig(
        name=named.name,
        secret_key=config.secret_key,
        api_url=config.api_url,
        reliability=reliability(config),
    )


def conductorone_config(named: NamedConnection) -> conductorone.ConductorOneConfig:
    """The vendor's config; its credential checks are reported in the entry's own terms."""
    config = named.settings
    if not isinstance(config, ConductorOneSettings):
        raise TypeError("not a ConductorOne connection")  # callers dispatch on the type
    base_url = config.base_url
    if config.client_id is not None and config.client_secret is not None:
        try:
            host = conductorone.check_client_credentials(
                config.client_id, config.client_secret.get_secret_value()
            )
        except ValueError as error:
            raise ConfigurationError(named.explain(str(error))) from None
        # The client id names the tenant host, which serves both the API and the token
        # endpoint (conductorone-notes.md §5.1).
        base_url = base_url or f"https://{host}"
    if base_url is None:  # the settings demand one beside a token
        raise ConfigurationError(named.explain("GATEWAY_CONDUCTORONE__BASE_URL is not set"))
    return conductorone.ConductorOneConfig(
        name=named.name,
        base_url=base_url,
        token=config.token,
        client_id=config.client_id,
        client_secret=config.client_secret,
        default_directory=config.default_directory,
        reliability=reliability(config),
    )
