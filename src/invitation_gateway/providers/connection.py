"""One opened upstream connection: what it serves, its adapters, its pooled client, its probe.

Each vendor's `open_connection` builds one; the service finds adapters through them
(`service/connections.py`) and `/readyz` probes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..domain.invitations import TargetKind
from .base import CircuitState, ConnectionInfo, InvitationPort
from .http import UpstreamClient
from .paths import UpstreamPath


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """How to see that a connection's upstream answers at all: one cheap GET (`/readyz`)."""

    path: UpstreamPath
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Connection:
    """One upstream connection: what it serves, its adapters, its pooled client."""

    info: ConnectionInfo
    ports: dict[TargetKind, InvitationPort]
    client: UpstreamClient | None = None  # None for connections not backed by HTTP (tests)
    health: HealthCheck | None = None

    async def circuit(self) -> CircuitState:
        return await self.client.breaker.state() if self.client else CircuitState.CLOSED
