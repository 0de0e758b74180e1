"""Opening one ConductorOne connection: credentials, the pooled client, the adapter, the probe."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from ...domain.invitations import Provider, TargetKind
from ...telemetry import Telemetry
from ..auth import BearerAuth
from ..base import ConnectionInfo
from ..connection import Connection, HealthCheck
from ..http import UpstreamClient
from ..paths import path
from ..reliability import Reliability
from ..reuse import RecentInvitations
from ._adapter import ConductorOneDirectory
from ._oauth import ClientCredentialsAuth


@dataclass(frozen=True, slots=True)
class ConductorOneConfig:
    """One ConductorOne connection, as plain values: a bearer token or OAuth client credentials."""

    name: str
    base_url: str
    token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    default_directory: str | None = None
    reliability: Reliability = field(default_factory=Reliability)


def open_connection(
    config: ConductorOneConfig,
    transport: httpx.AsyncBaseTransport | None = None,
    telemetry: Telemetry | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> Connection:
    """The connection's pooled client, credentials and adapter; the caller closes the client.

    `clock` is the wall clock in Unix seconds (token lifetimes, a `Retry-After` date).
    """
    auth: httpx.Auth
    if config.client_id is not None and config.client_secret is not None:
        # OAuth client credentials (conductorone-notes.md §5): the token endpoint lives on the
        # tenant host, and the token request goes through this same pooled client.
        auth = ClientCredentialsAuth.for_base_url(
            client_id=config.client_id,
            client_secret=config.client_secret.get_secret_value(),
            base_url=config.base_url,
            clock=clock,
        )
    elif config.token is not None:
        auth = BearerAuth(config.token)
    else:
        raise ValueError(f"ConductorOne connection {config.name!r} has no credentials")
    client = UpstreamClient(
        provider=Provider.CONDUCTORONE,
        base_url=config.base_url,
        auth=auth,
        request_id_header="request-id",
        transport=transport,
        reliability=config.reliability,
        name=config.name,
        telemetry=telemetry,
        clock=clock,
    )
    info = ConnectionInfo(
        name=config.name,
        provider=Provider.CONDUCTORONE,
        kinds=(TargetKind.CONDUCTORONE_DIRECTORY,),
        default_target_id=config.default_directory,
    )
    port = ConductorOneDirectory(client, RecentInvitations(clock=clock))
    health = HealthCheck(path("/api/v1/local-directory-configs"), {"page_size": "10"})
    return Connection(info, {port.kind: port}, client, health)
