"""Opening one Clerk instance: its secret key, API version, pooled client, two adapters, probe."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from ...domain.invitations import Provider, TargetKind
from ...telemetry import Telemetry
from ..auth import BearerAuth
from ..base import ConnectionInfo, InvitationPort
from ..connection import Connection, HealthCheck
from ..http import UpstreamClient
from ..paths import path
from ..reliability import Reliability
from ..reuse import RecentInvitations
from ._application import ClerkApplication
from ._organization import ClerkOrganization
from ._wire import API_VERSION


@dataclass(frozen=True, slots=True)
class ClerkConfig:
    """One Clerk instance, as plain values."""

    name: str
    secret_key: SecretStr
    api_url: str = "https://api.clerk.com/v1"
    reliability: Reliability = field(default_factory=Reliability)


def open_connection(
    config: ClerkConfig,
    transport: httpx.AsyncBaseTransport | None = None,
    telemetry: Telemetry | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> Connection:
    """One Clerk instance's pooled client and its two adapters; the caller closes the client.

    `clock` is the wall clock in Unix seconds (a `Retry-After` date, a re-sent invitation's age).
    """
    client = UpstreamClient(
        provider=Provider.CLERK,
        base_url=config.api_url,
        auth=BearerAuth(config.secret_key),
        # The request id: `clerk_trace_id` in error bodies, else `cf-ray`, as @clerk/backend reads it.
        request_id_header="cf-ray",
        headers={"Clerk-API-Version": API_VERSION},
        transport=transport,
        reliability=config.reliability,
        name=config.name,
        telemetry=telemetry,
        clock=clock,
    )
    info = ConnectionInfo(
        name=config.name,
        provider=Provider.CLERK,
        kinds=(TargetKind.CLERK_APPLICATION, TargetKind.CLERK_ORGANIZATION),
    )
    application = ClerkApplication(client, RecentInvitations(clock=clock))
    organization = ClerkOrganization(client, RecentInvitations(clock=clock))
    ports: dict[TargetKind, InvitationPort] = {
        application.kind: application,
        organization.kind: organization,
    }
    return Connection(info, ports, client, HealthCheck(path("/invitations"), {"limit": "1"}))
