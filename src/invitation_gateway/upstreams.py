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
from .providers.registry import Connection
from .settings import ClerkSettings, ConductorOneSettings, Settings


def configured_connections(
    settings: Settings, environ: Mapping[str, str], extra: Sequence[NamedConnection] = ()
) -> list[NamedConnection]:
    """Every configured connection: the environment's `default`s, the file's, then `extra`.

    Reads the connections file (no network); raises `ConnectionsFileError` for a bad one,
    naming the file, the entry and the problem, never a secret.
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
    return named


def open_connection(
    named: NamedConnection, transport: httpx.AsyncBaseTransport | None
) -> Connection:
    """One vendor connection, opened by its vendor's factory from plain values."""
    config = named.settings
    if isinstance(config, ClerkSettings):
        if config.secret_key is None:
            raise ValueError(f"Clerk connection {named.name!r} has no secret key")
        clerk_config = clerk.ClerkConfig(
            name=named.name,
            secret_key=config.secret_key,
            api_url=config.api_url,
            reliability=config.reliability(),
        )
        return clerk.open_connection(clerk_config, transport)
    return conductorone.open_connection(_conductorone_config(named.name, config), transport)


def _conductorone_config(
    name: str, config: ConductorOneSettings
) -> conductorone.ConductorOneConfig:
    if config.base_url is None:  # the settings validators derive or demand one
        raise ValueError(f"ConductorOne connection {name!r} has no base URL")
    return conductorone.ConductorOneConfig(
        name=name,
        base_url=config.base_url,
        token=config.token,
        client_id=config.client_id,
        client_secret=config.client_secret,
        default_directory=config.default_directory,
        reliability=config.reliability(),
    )
