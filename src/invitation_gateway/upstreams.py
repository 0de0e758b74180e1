"""From settings to open upstream connections: the wiring half of the composition root.

The environment configures the connection named `default` of each provider; the connections
file (`GATEWAY_CONNECTIONS__FILE`, read by `connections_file.py`) adds named ones. Settings are
plain data: here they become each vendor's own config, and each vendor's `open_connection`
builds the pooled client, credentials and adapters (its wire details stay in its module).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from .connections_file import ConnectionsFileError, NamedConnection, load_connections
from .domain.invitations import DEFAULT_CONNECTION
from .providers import clerk, conductorone
from .providers.connection import Connection
from .providers.reliability import Reliability
from .settings import (
    ClerkSettings,
    ConductorOneSettings,
    ConfigurationError,
    Settings,
    UpstreamPolicy,
)
from .telemetry import Telemetry


def configured_connections(
    settings: Settings, environ: Mapping[str, str], extra: Sequence[NamedConnection] = ()
) -> list[NamedConnection]:
    """Every configured connection: the environment's `default`s, the file's, then `extra`.

    Reads the connections file (no network); raises `ConnectionsFileError` for a bad one,
    naming the file, the entry and the problem, and `ConfigurationError` for a credential of
    the wrong shape, by variable; never a secret.
    """
    named: list[NamedConnection] = []
    if settings.conductorone.configured:
        named.append(NamedConnection("conductorone", DEFAULT_CONNECTION, settings.conductorone))
    if settings.clerk.configured:
        named.append(NamedConnection("clerk", DEFAULT_CONNECTION, settings.clerk))
    if settings.connections.file is not None:
        named.extend(load_connections(settings.connections.file, environ))
    named.extend(extra)
    lease = settings.idempotency.lease_seconds
    for connection in named:
        if connection.settings.total_timeout >= lease:
            # An idempotency claim must outlive the create it guards (see Settings).
            raise ConnectionsFileError(
                f"[{connection.provider}.{connection.name}]: total_timeout"
                f" ({connection.settings.total_timeout:g} s) must be shorter than"
                f" GATEWAY_IDEMPOTENCY__LEASE_SECONDS ({lease:g} s)"
            )
    for connection in named:
        if isinstance(connection.settings, ConductorOneSettings):
            conductorone_config(connection)  # a credential's shape is checked at start-up
    return named


def open_connection(
    named: NamedConnection,
    transport: httpx.AsyncBaseTransport | None,
    telemetry: Telemetry | None = None,
) -> Connection:
    """One vendor connection, opened by its vendor's factory from plain values."""
    config = named.settings
    if isinstance(config, ClerkSettings):
        if config.secret_key is None:  # load_connections and Settings never let one through
            raise ConfigurationError(named.explain("GATEWAY_CLERK__SECRET_KEY is not set"))
        clerk_config = clerk.ClerkConfig(
            name=named.name,
            secret_key=config.secret_key,
            api_url=config.api_url,
            reliability=reliability(config),
        )
        return clerk.open_connection(clerk_config, transport, telemetry)
    return conductorone.open_connection(conductorone_config(named), transport, telemetry)


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
